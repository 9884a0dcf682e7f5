"""Shared fixtures. The local AWS endpoint starts only when a test asks for `aws` (or `local_aws`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from canary_deploy.local_aws import DEFAULT_REGION, DUMMY_CREDENTIALS, LocalAWS, local_client


@dataclass(frozen=True)
class LocalAccount:
    """What a test gets from `aws`: the endpoint's URL and boto3 clients bound to it."""

    endpoint_url: str
    region: str = DEFAULT_REGION

    def client(self, service: str):
        """A boto3 client for `service` on the local endpoint (dummy credentials, us-east-1)."""
        return local_client(service, self.endpoint_url, self.region)


@pytest.fixture(scope="session")
def local_aws():
    """The session's one local AWS endpoint (`canary_deploy.local_aws.LocalAWS`), started on first use.

    moto's server runs in this process on 127.0.0.1 with the change-set fixes applied and reports one
    running task per ECS service. Tests normally want `aws` instead, which also resets state.
    """
    with LocalAWS() as endpoint:
        yield endpoint


@pytest.fixture
def aws(local_aws, monkeypatch) -> LocalAccount:
    """An empty local AWS account for one test, reachable the standard way.

    Before the test: every moto backend is reset; AWS_ENDPOINT_URL points at the local endpoint;
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are dummies; AWS_DEFAULT_REGION / AWS_REGION are us-east-1;
    AWS_PROFILE and AWS_SESSION_TOKEN are unset. So code under test that builds its own boto3 session
    (e.g. `deploy.py` run in-process or as a subprocess inheriting os.environ) reaches the local
    endpoint and nothing else. Yields a `LocalAccount`: `.endpoint_url`, `.region`, `.client("ecr")`.
    """
    local_aws.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", DEFAULT_REGION)
    monkeypatch.setenv("AWS_REGION", DEFAULT_REGION)
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    # A proxy configured on the machine must not see (or swallow) requests meant for 127.0.0.1.
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(variable, ",".join(filter(None, ["127.0.0.1", os.environ.get(variable)])))
    return LocalAccount(local_aws.endpoint_url)
