"""moto's server on 127.0.0.1, in this process, with the moto fixes applied; and the environment that
points an AWS SDK or CLI at it.
"""

from __future__ import annotations

import functools
import http.client
import os
import socket
import threading
from urllib.parse import urlsplit

from .clock import DEFAULT_PACE, Clock, clock, pace_from_environment
from .errors import LocalAWSError
from .patches import apply_patches

HOST = "127.0.0.1"
DEFAULT_REGION = "us-east-1"
# moto accepts any credentials; these make sure nothing signs with a real key.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class LocalAWS:
    """moto's server on 127.0.0.1, in this process, with the change-set fixes applied.

    The server is built with moto's own WSGI app and request handler, as `moto.server.ThreadedMotoServer`
    does, but its socket is bound in the caller's thread: a port already in use is a LocalAWSError here,
    where ThreadedMotoServer.start() would wait forever. `port=0` takes a free port from the kernel. Requests
    are served by a pool of threads (`pooled_server`), not a new thread each.

    `pace` is how fast its time runs (local_aws.clock): simulated seconds per real second, LOCAL_AWS_PACE or
    clock.DEFAULT_PACE when not given, clock.INSTANT for benchmarks. `clock` is the process's (moto's state
    is too): the last server started sets its pace, and reset() sets it back.
    """

    def __init__(self, port: int = 0, *, log_requests: bool = False, pace: float | None = None):
        self._port = port
        self._log_requests = log_requests
        self._requested_pace = pace
        self.pace = DEFAULT_PACE if pace is None else pace  # LOCAL_AWS_PACE is read by start()
        self.clock: Clock = clock
        self._server = None
        self._thread: threading.Thread | None = None
        self.endpoint_url = ""

    def start(self) -> LocalAWS:
        if self._requested_pace is None:
            self.pace = pace_from_environment()
        share_botocore_data()
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        from .pooled_server import PooledWSGIServer

        apply_patches()

        class QuietRequestHandler(MotoRequestHandler):
            def log_request(self, *args) -> None:  # one line per request drowns test and make output
                pass

        handler = MotoRequestHandler if self._log_requests else QuietRequestHandler
        # Bound here, not by werkzeug, which answers a busy port with sys.exit(1).
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            # As werkzeug does: a port in TIME_WAIT after a restart is free, a listening one is not.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((HOST, self._port))
                listener.listen(128)
            except OSError as error:
                raise LocalAWSError(
                    f"cannot listen on {HOST}:{self._port} ({error.strerror}); "
                    "choose another --port, or 0 for a free one"
                ) from None
            self._server = PooledWSGIServer(  # werkzeug keeps a duplicate of the listening socket
                HOST,
                self._port,
                ClockedApplication(DomainDispatcherApplication(create_backend_app)),
                handler,
                fd=listener.fileno(),
            )
        self.clock.set_pace(self.pace)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits; the default 0.5 s slows every run
            name="local-aws",
            daemon=True,
        )
        self._thread.start()
        self.endpoint_url = f"http://{HOST}:{self._server.port}"
        try:
            self._request("GET", "/moto-api/config")  # answers once the serving thread runs
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def port(self) -> int:
        return self._server.port

    def reset(self) -> None:
        """Forget every resource in every service (moto's /moto-api/reset); time runs at the server's pace."""
        self._request("POST", "/moto-api/reset")
        self.clock.set_pace(self.pace)

    def stop(self) -> None:
        if self._server is None:
            return
        if self._thread is not None and self._thread.is_alive():  # shutdown() waits for serve_forever forever
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()  # ThreadedMotoServer leaves the socket open
        self._server = None

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _request(self, method: str, path: str) -> None:
        # http.client rather than urllib: urllib would honour an HTTP(S)_PROXY setting.
        connection = http.client.HTTPConnection(HOST, self._server.port, timeout=10)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if response.status >= 300:
            raise LocalAWSError(f"local AWS endpoint answered {response.status} to {method} {path}")


class ClockedApplication:
    """moto's WSGI application, one request at a time, each once what moves with time has caught up with the
    clock: a request sees the state at its arrival. One at a time, as moto's backends are not thread-safe
    and catching up changes them (a task list growing under a ListTasks in another thread)."""

    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        with clock.lock:
            clock.catch_up()
            return self.application(environ, start_response)


def share_botocore_data() -> None:
    """One botocore data loader for the whole process, for development processes only (the deployer never
    imports local_aws). moto makes a new botocore Session for much of what it does (three at import, for
    EC2's region list; one per response class) and every new Session reads botocore's JSON data files again:
    0.4 s of each start of the local AWS, more as it answers. The files are read-only data."""
    import botocore.loaders
    import botocore.session

    if not hasattr(botocore.session.create_loader, "cache_info"):  # not shared yet
        botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


def endpoint_environment(endpoint_url: str) -> dict[str, str]:
    """The AWS_* variables that point an SDK or the AWS CLI at the local endpoint with dummy credentials, and
    away from the user's own AWS setup (a profile, a config file or instance metadata could otherwise reach
    real AWS). The one copy: the demo, `python -m local_aws`, the tests and the benchmarks use it."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
        "AWS_REGION": DEFAULT_REGION,
        "AWS_DEFAULT_REGION": DEFAULT_REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def local_client(service: str, endpoint_url: str, region: str = DEFAULT_REGION):
    """A boto3 client for the local endpoint, with dummy credentials; refuses any host but 127.0.0.1."""
    import boto3

    if urlsplit(endpoint_url).hostname != HOST:
        raise LocalAWSError(f"refusing endpoint {endpoint_url!r}: the local endpoint is on {HOST} only")
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **DUMMY_CREDENTIALS)
