"""Shared fixtures. The local AWS endpoint starts only when a test asks for `aws` (or `local_aws`)."""

from __future__ import annotations

import functools
import gc
import http.server
import json
import os
import signal
import threading
from dataclasses import dataclass

import pytest

from local_aws import DEFAULT_REGION, LocalAWS, endpoint_environment, local_client
from local_aws.clock import Clock
from local_aws.ecs.scheduler import STEP_SECONDS
from local_aws.server import share_botocore_data

# A deployer run in-process by a test sleeps on the local AWS's clock, stopped meanwhile: each second it
# sleeps lets two ECS scheduler steps of time pass (about as many as each poll moved the scheduler when
# every read moved it a step), so a rollout is watched poll by poll, without a wait.
SIMULATED_SECONDS_PER_SECOND_SLEPT = 2 * STEP_SECONDS


@functools.cache
def shared_client(service: str, endpoint_url: str, region: str):
    """One client per service for the session: the tests' own clients only call the API (the deployer makes
    its own), and making one costs milliseconds, thousands of times over (4 s of the suite's work)."""
    return local_client(service, endpoint_url, region)


@dataclass(frozen=True)
class LocalAccount:
    """What a test gets from `aws`: the endpoint's URL, boto3 clients bound to it, and its clock."""

    endpoint_url: str
    clock: Clock
    region: str = DEFAULT_REGION

    def client(self, service: str):
        """A boto3 client for `service` on the local endpoint (dummy credentials, us-east-1)."""
        return shared_client(service, self.endpoint_url, self.region)

    def sleep(self, seconds: float) -> None:
        """A sleep for a deployer in this process: no real wait; the local AWS's time moves on instead."""
        self.clock.advance(seconds * SIMULATED_SECONDS_PER_SECOND_SLEPT)


# The two longest modules start first, one on each core; the short ones fill in around them. make run's
# end-to-end runs are mostly waits on polls, so the rest of the suite runs beside them.
LONGEST_MODULES = ("test_demo.py", "test_deploy_moto.py")


def pytest_collection_modifyitems(items):
    """Longest modules first. xdist keeps this order only with --no-loadscope-reorder (setup.cfg); by default it
    sends the modules with the most tests first, which left make run's runs for last, alone on one core."""
    rank = {name: position for position, name in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# CPython collects garbage cycles after every 700 new objects. A worker's heap is large (botocore's and moto's
# data, the local AWS's state) and each in-process deploy leaves cycles behind (its botocore clients): at that
# pace the collector ran 3,000 to 4,000 times a worker, 14 to 18 times through the whole heap, 4.6 and 7.2 s of
# the two workers' time. Every 50,000 objects: 1.9 and 2.4 s, at the same peak memory (2026-12-02, one run).
GC_THRESHOLDS = (50_000, 20, 10)


def pytest_configure(config):
    """The suite makes hundreds of botocore Sessions (the deployer run in-process, moto's server answering
    it, the tests' own clients); they share one loader of botocore's read-only data files, as the local AWS
    does. Nothing about a request changes. Before collection, which imports moto: 0.3 s of each worker's start."""
    share_botocore_data()
    gc.set_threshold(*GC_THRESHOLDS)


@pytest.fixture(scope="session")
def local_aws():
    """The session's one local AWS endpoint (`local_aws.LocalAWS`), started on first use.

    moto's server runs in this process on 127.0.0.1 with the patches applied; its time runs at the default
    pace (local_aws.clock). Tests normally want `aws` instead, which also resets state.
    """
    with LocalAWS() as endpoint:
        yield endpoint


@pytest.fixture
def aws(local_aws, monkeypatch) -> LocalAccount:
    """An empty local AWS account for one test, reachable the standard way.

    Before the test: every moto backend is reset and the clock runs at the server's pace; the AWS_* variables are `local_aws.endpoint_environment`
    (the local endpoint, dummy credentials, us-east-1, no config files) and no others. So code under test that builds its own boto3 session
    (e.g. `deploy.py` run in-process or as a subprocess inheriting os.environ) reaches the local
    endpoint and nothing else. Yields a `LocalAccount`: `.endpoint_url`, `.region`, `.client("ecr")`, `.clock`.
    """
    local_aws.reset()
    for variable in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    for variable, value in endpoint_environment(local_aws.endpoint_url).items():
        monkeypatch.setenv(variable, value)
    # A proxy configured on the machine must not see (or swallow) requests meant for 127.0.0.1.
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(variable, ",".join(filter(None, ["127.0.0.1", os.environ.get(variable)])))
    return LocalAccount(local_aws.endpoint_url, local_aws.clock)


class RecordingWebhook:
    """An HTTP server on 127.0.0.1 standing in for a Slack incoming webhook: it records each JSON body it is
    sent and answers `status` (200 unless a test sets another)."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.status = 200
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                recorder.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                answer = b"ok" if recorder.status == 200 else b"invalid_token"
                self.send_response(recorder.status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack_webhook(monkeypatch):
    """A `RecordingWebhook` running for one test; proxies configured on the machine are bypassed for it."""
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(variable, ",".join(filter(None, ["127.0.0.1", os.environ.get(variable)])))
    with RecordingWebhook() as webhook:
        yield webhook


@pytest.fixture
def on_call(monkeypatch):
    """`on_call(event, handler)` registers a botocore event handler (e.g. on
    "after-call.cloudformation.ExecuteChangeSet") on every client the deployer's AwsClients creates, so a
    test can act at an exact moment of a real deploy: raise KeyboardInterrupt as Ctrl-C would, or count."""
    from canary_deploy.aws.session import AwsClients

    handlers = []
    create_client = AwsClients.client

    def client(self, service):
        new = service not in self._clients
        created = create_client(self, service)
        if new:
            for event, handler in handlers:
                created.meta.events.register(event, handler)
        return created

    monkeypatch.setattr(AwsClients, "client", client)
    return lambda event, handler: handlers.append((event, handler))


@pytest.fixture
def ctrl_c_interrupts():
    """Ctrl-C (SIGINT) raises KeyboardInterrupt in this process, as in one started from a terminal: pytest may
    have been started ignoring it (a background job of a script, some CI runners), and Python then keeps
    ignoring it. For tests that send this process a real SIGINT."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def environments_file(tmp_path, monkeypatch):
    """`environments_file(text)` makes deploy.py read `text` as its environments.toml; `environments_file(None)`:
    as if there were none. Returns the file's path."""
    import canary_deploy.cli

    def write(text: str | None):
        path = tmp_path / "environments" / "environments.toml"
        path.parent.mkdir(exist_ok=True)
        if text is not None:
            path.write_text(text)
        monkeypatch.setattr(canary_deploy.cli, "ENVIRONMENTS_FILE", path)
        return path

    return write
