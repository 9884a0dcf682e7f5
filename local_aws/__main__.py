"""`python -m local_aws [--port N]`: the endpoint in the foreground; prints the exports, Ctrl-C stops it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .clock import PACE_VARIABLE
from .errors import LocalAWSError
from .patches import MOTO_VERSION
from .server import LocalAWS, endpoint_environment


def _shell_exports(endpoint_url: str) -> str:
    return "\n".join(f"export {name}={value}" for name, value in endpoint_environment(endpoint_url).items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_aws",
        description="Run a local AWS endpoint (moto, 127.0.0.1 only) in the foreground; Ctrl-C stops it.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a port number (0-65535)")

    # SIGTERM (e.g. from a script that started us in the background) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored (`&`)
    aws = LocalAWS(args.port, log_requests=True)
    try:
        aws.start()
    except LocalAWSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        print(_shell_exports(aws.endpoint_url), flush=True)
        print(
            f"# local AWS (moto {MOTO_VERSION}) on {aws.endpoint_url}: an emulator, not AWS; its time runs "
            f"{aws.pace:g} times as fast ({PACE_VARIABLE}). Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        print("# local AWS stopped", file=sys.stderr)
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
