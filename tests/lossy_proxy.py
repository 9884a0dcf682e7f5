"""A loopback HTTP proxy in front of the local AWS endpoint, for faults moto cannot produce.

Every request is forwarded to the endpoint and executed there. For each action named in `drop_reply_once`,
the first reply is lost: the proxy closes the connection without answering, as a dropped connection after
the request reached AWS would. botocore then retries the same request, which must not act twice.
For each action named in `hold`, every request is held before it reaches the endpoint until the test calls
`release(action)`, as AWS can take seconds to act on a large CreateChangeSet: a client interrupted meanwhile
sees the action land later. `arrived(action)` tells when such a request reached the proxy, `answered(action)`
when the endpoint acted on it and answered.
The proxy also counts requests by action, so a test can prove that no request was made at all.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# A held request goes on by itself after this long, should a test never release it.
HOLD_LIMIT_SECONDS = 30
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


def action_of(headers, body: bytes) -> str:
    """CloudFormation, STS, ... (query protocol): Action in the form body; ECR, ECS, SSM (JSON): X-Amz-Target."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    return parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]


@dataclass(frozen=True)
class Held:
    """Where a held action's requests are: arrived at the proxy, released by the test, answered upstream."""

    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)


class LossyProxy:
    def __init__(self, upstream_url: str, drop_reply_once=(), hold=()):
        upstream = urlsplit(upstream_url)
        if upstream.hostname != "127.0.0.1":
            raise ValueError(f"the proxy forwards to 127.0.0.1 only, not {upstream_url}")
        self.upstream_port = upstream.port
        self.to_drop = set(drop_reply_once)
        self.dropped: list[str] = []
        self._held = {action: Held() for action in hold}
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LossyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        for held in self._held.values():
            held.released.set()  # a request still held goes on, so that its handler ends
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def arrived(self, action: str, timeout: float) -> bool:
        """Waits until a request for `action` (one named in `hold`) reached the proxy."""
        return self._held[action].arrived.wait(timeout)

    def release(self, action: str) -> None:
        """Lets the held requests for `action` go on to the endpoint, now and from now on."""
        self._held[action].released.set()

    def answered(self, action: str, timeout: float) -> bool:
        """Waits until the endpoint answered a released request for `action`."""
        return self._held[action].answered.wait(timeout)

    def _should_drop(self, action: str) -> bool:
        with self._lock:
            self.requests[action] += 1
            if action in self.to_drop:
                self.to_drop.discard(action)
                self.dropped.append(action)
                return True
            return False

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self._forward()

            def do_GET(self) -> None:
                self._forward()

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = action_of(self.headers, body)
                held = proxy._held.get(action)
                if held:
                    held.arrived.set()
                    held.released.wait(HOLD_LIMIT_SECONDS)
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    answer = upstream.getresponse()
                    reply = answer.read()
                finally:
                    upstream.close()
                if held:
                    held.answered.set()
                if proxy._should_drop(action):
                    self.close_connection = True  # executed upstream; the reply never reaches the client
                    return
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        return Handler
