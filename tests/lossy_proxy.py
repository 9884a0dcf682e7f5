"""A loopback HTTP proxy in front of the local AWS endpoint, for faults moto cannot produce.

Every request is forwarded to the endpoint and executed there. For each action named in `drop_reply_once`,
the first reply is lost: the proxy closes the connection without answering, as a dropped connection after
the request reached AWS would. botocore then retries the same request, which must not act twice.
For each action named in `slow`, every request is held that many seconds before it reaches the endpoint, as
AWS takes seconds to act on a large CreateChangeSet: a client interrupted meanwhile sees the action land
later. `arrived(action)` tells when such a request reached the proxy.
The proxy also counts requests by action, so a test can prove that no request was made at all.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


def action_of(headers, body: bytes) -> str:
    """CloudFormation, STS, ... (query protocol): Action in the form body; ECR, ECS, SSM (JSON): X-Amz-Target."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    return parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]


class LossyProxy:
    def __init__(self, upstream_url: str, drop_reply_once=(), slow=None):
        upstream = urlsplit(upstream_url)
        if upstream.hostname != "127.0.0.1":
            raise ValueError(f"the proxy forwards to 127.0.0.1 only, not {upstream_url}")
        self.upstream_port = upstream.port
        self.to_drop = set(drop_reply_once)
        self.dropped: list[str] = []
        self.slow: dict[str, float] = dict(slow or {})
        self._arrivals = {action: threading.Event() for action in self.slow}
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
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def arrived(self, action: str, timeout: float) -> bool:
        """Waits until a request for `action` (one named in `slow`) reached the proxy."""
        return self._arrivals[action].wait(timeout)

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
                if action in proxy.slow:
                    proxy._arrivals[action].set()
                    time.sleep(proxy.slow[action])
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    answer = upstream.getresponse()
                    reply = answer.read()
                finally:
                    upstream.close()
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
