"""`make push-local TAG=...`: put an image tag into the ECR repository of a running `make local-aws`
endpoint, as `docker push` would (no Docker), so the deploy steps of the README run against it.
The endpoint is AWS_ENDPOINT_URL, as `make local-aws` prints it to export."""

from __future__ import annotations

import argparse
import os
import sys

from botocore.exceptions import ClientError, EndpointConnectionError

from contract import REPOSITORY_NAME

from .errors import LocalAWSError
from .seeding import push_image
from .server import DEFAULT_REGION


def push(tag: str, repository: str, environment: dict[str, str]) -> str:
    """Push repository:tag to the endpoint the environment names; returns what to print. Raises
    LocalAWSError with the remedy when that cannot be done."""
    endpoint_url = environment.get("AWS_ENDPOINT_URL")
    if not endpoint_url:
        raise LocalAWSError("AWS_ENDPOINT_URL is not set: start `make local-aws` and export what it prints")
    try:
        digest = push_image(endpoint_url, tag, environment.get("AWS_REGION", DEFAULT_REGION), repository)
    except EndpointConnectionError:
        raise LocalAWSError(f"nothing answers at {endpoint_url}: is `make local-aws` running?") from None
    except ClientError as error:
        if error.response["Error"]["Code"] == "RepositoryNotFoundException":
            raise LocalAWSError(
                f"no ECR repository {repository} at {endpoint_url}: run `python deploy.py registry` first"
            ) from None
        raise LocalAWSError(
            f"ECR refused {repository}:{tag}: {error.response['Error'].get('Message', error)}"
        ) from None
    return f"pushed {repository}:{tag} ({digest}) to {endpoint_url}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make push-local TAG=...", description=__doc__.splitlines()[0])
    parser.add_argument("tag", help="image tag, e.g. 1.16.0-beta.12-5f5d22f1")
    parser.add_argument("--repository", default=REPOSITORY_NAME, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        print(push(args.tag, args.repository, dict(os.environ)))
    except LocalAWSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
