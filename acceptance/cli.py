"""The arguments of `make aws-acceptance ARGS="--account ID ..."` (`python -m acceptance`); each error is one
line and an exit code, as the deployer's are (canary_deploy.cli.reported)."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from canary_deploy.aws.session import AwsClients
from canary_deploy.cli import OneLineParser, reported
from canary_deploy.errors import BadInput, OutputClosed
from canary_deploy.render.console import Console
from canary_deploy.watch.events import POLL_SECONDS_VARIABLE, fast_poll_seconds
from canary_deploy.watch.timing import REAL_TIME, Timing
from contract import APPLICATION, STACK_NAMES

from .checks import POLL_SECONDS
from .run import AcceptanceRun, Options

ACCOUNT_ID = re.compile(r"\d{12}")
# Names are `<prefix>-<6 hex digits>-<what>`: short enough for every name AWS limits (target groups are the
# shortest, and none is made), lower case for the log group and the cluster alike.
PREFIX = re.compile(r"[a-z][a-z0-9-]{0,23}")
DEFAULT_PREFIX = "canary-acceptance"
LOCAL_HOST = "127.0.0.1"


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m acceptance",
        description="Settle on a real AWS account what the local AWS assumes (local_aws/assumptions.py): makes a "
        "few cents' worth of resources of its own, prints the cost first, and deletes them all, also on Ctrl-C.",
    )
    parser.add_argument(
        "--account",
        required=True,
        metavar="ID",
        help="the 12-digit account the run may make resources in; it refuses unless the credentials are for it",
    )
    parser.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        help="what every name it makes starts with (default: %(default)s), never the canary's own",
    )
    parser.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION); prices are us-east-1's")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default: AWS_ENDPOINT_URL): the local AWS, for the suite")
    return parser


def options_of(args: argparse.Namespace, environment: dict[str, str]) -> Options:
    """The run's options; bad input is refused here, before any AWS call."""
    if not ACCOUNT_ID.fullmatch(args.account):
        raise BadInput(f"--account {args.account!r} is not an AWS account id (12 digits)")
    if not PREFIX.fullmatch(args.prefix):
        raise BadInput(
            f"--prefix {args.prefix!r}: a lower-case letter, then lower-case letters, digits and hyphens, at most 24"
        )
    canary_names = (APPLICATION, *(name.lower() for name in STACK_NAMES.values()))
    if args.prefix.startswith(canary_names):
        raise BadInput(f"--prefix {args.prefix!r} starts like the canary's own names ({', '.join(canary_names)})")
    local = urlsplit(args.endpoint_url or environment.get("AWS_ENDPOINT_URL", "")).hostname == LOCAL_HOST
    if environment.get("CI") and not local:
        raise BadInput("make aws-acceptance never runs against AWS in CI (CI is set): run it by hand")
    poll = fast_poll_seconds(environment) if POLL_SECONDS_VARIABLE in environment else POLL_SECONDS
    return Options(args.account, args.prefix, poll)


def utc_now() -> datetime:
    return datetime.now(UTC)


def main(
    argv: list[str] | None = None,
    console: Console | None = None,
    timing: Timing | None = None,
    now: Callable[[], datetime] = utc_now,
) -> int:
    """Runs the acceptance; returns its exit code. Tests pass their own console and timing; `now` is the time
    of the metric datapoints it puts and reads."""
    console = console or Console()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:  # --help or a usage error, already printed by argparse
        return int(exit_request.code or 0)

    def run() -> None:
        options = options_of(args, dict(os.environ))
        clients = AwsClients(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)
        AcceptanceRun(clients, console, options, timing or REAL_TIME, now).run()

    try:
        return reported(run, console)
    except OutputClosed as closed:
        return closed.exit_code
