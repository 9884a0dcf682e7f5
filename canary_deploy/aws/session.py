"""One boto3 session and its clients, configured like the AWS CLI (profile, region, endpoint, retries)."""

import os
import re
from collections.abc import Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import ProfileNotFound
from botocore.loaders import create_loader

from ..errors import BadInput
from .aws_types import Client

# Adaptive retries add client-side rate limiting on top of the standard mode's backoff for throttling and
# dropped connections: our event polling must never crash on a Rate exceeded. AWS_RETRY_MODE /
# AWS_MAX_ATTEMPTS still override, as they do for the AWS CLI.
DEFAULT_RETRY_MODE = "adaptive"
DEFAULT_MAX_ATTEMPTS = 10
RETRY_MODES = ("legacy", "standard", "adaptive")
REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def retry_settings(environment: Mapping[str, str]) -> dict:
    """botocore's retry settings, from AWS_RETRY_MODE / AWS_MAX_ATTEMPTS as the AWS CLI reads them.

    AWS_MAX_ATTEMPTS counts every attempt, the first included, as the AWS CLI documents; so does botocore's
    `total_max_attempts`. Its `max_attempts` counts retries only: N there sends N + 1 requests."""
    mode = environment.get("AWS_RETRY_MODE", DEFAULT_RETRY_MODE)
    attempts = environment.get("AWS_MAX_ATTEMPTS", str(DEFAULT_MAX_ATTEMPTS))
    if mode not in RETRY_MODES:
        raise BadInput(f"AWS_RETRY_MODE={mode!r} is not one of {', '.join(RETRY_MODES)}")
    if not attempts.isdigit() or int(attempts) < 1:
        raise BadInput(f"AWS_MAX_ATTEMPTS={attempts!r} is not a whole number of at least 1")
    return {"mode": mode, "total_max_attempts": int(attempts)}


def known_regions() -> set[str]:
    """Every region of every partition botocore knows, from the small partitions data its endpoint resolution
    reads (get_available_regions would load the legacy endpoints.json: ~70 ms of every run)."""
    partitions = create_loader().load_data("partitions")["partitions"]
    return {region for partition in partitions for region in partition["regions"]}


class AwsClients:
    """Creates each client once. endpoint_url None lets botocore honour AWS_ENDPOINT_URL itself."""

    def __init__(
        self,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
    ) -> None:
        # boto3 reads AWS_DEFAULT_REGION and the profile; AWS_REGION (what the SDKs use) comes first here.
        region = region or os.environ.get("AWS_REGION") or None
        try:
            self.session = session or boto3.Session(profile_name=profile, region_name=region)
        except ProfileNotFound:
            raise BadInput(
                f"AWS profile {profile!r} not found: check --profile / AWS_PROFILE and ~/.aws/config"
            ) from None
        self.endpoint_url = endpoint_url
        self.config = Config(retries=retry_settings(os.environ), user_agent_extra="canary-deploy")
        self._clients: dict[str, Client] = {}

    @property
    def region(self) -> str:
        """The configured region, "" when none is (check_configuration() refuses that)."""
        return self.session.region_name or ""

    def check_configuration(self) -> None:
        """Credentials and region resolve locally; costs no API call (the first call proves they work)."""
        if not self.region:
            raise BadInput("no AWS region configured: pass --region or set AWS_REGION")
        if not REGION_NAME.match(self.region) or self.region not in known_regions():
            raise BadInput(
                f"unknown AWS region {self.region!r}: pass --region or set AWS_REGION to a region such as us-east-1 "
                "(a region newer than this botocore needs `pip install -U boto3`)"
            )
        if self.session.get_credentials() is None:
            raise BadInput(
                "no AWS credentials found: pass --profile, set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY"
            )

    def client(self, service: str) -> Client:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url, config=self.config)
        return self._clients[service]

    @property
    def cloudformation(self) -> Client:
        return self.client("cloudformation")

    @property
    def ecr(self) -> Client:
        return self.client("ecr")

    @property
    def ecs(self) -> Client:
        return self.client("ecs")

    @property
    def ssm(self) -> Client:
        return self.client("ssm")

    @property
    def s3(self) -> Client:
        return self.client("s3")
