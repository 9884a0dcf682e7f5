"""`make run`: the whole release flow against an embedded local AWS endpoint, no AWS account needed.

Starts moto's server in this process (127.0.0.1, a free port), seeds it as an operator would (Parameter
Store, then an image in ECR after the registry exists), and runs the real CLI as a user does:
`deploy.py registry`, `deploy.py app --version TAG`, `deploy.py status app`. The server stops at the
end, also when a step fails or on Ctrl-C; the exit status says which step failed.

    python -m local_aws.demo [--version TAG] [--skip parameters|image]
"""

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from canary_deploy.errors import EXIT_DEPLOY_FAILED, EXIT_INTERRUPTED, EXIT_OK

from .errors import LocalAWSError
from .seeding import push_image, seed_parameters
from .server import LocalAWS, endpoint_environment

ROOT = Path(__file__).resolve().parent.parent
DEMO_VERSION = "1.16.0-beta.12-5f5d22f1"
# After Ctrl-C, how long a deploy.py child gets to finish on its own (a terminal's Ctrl-C reaches it
# too), then, after one SIGINT from us (a SIGTERM reaches only us), before it is killed.
CHILD_OWN_EXIT_SECONDS = 2
CHILD_GRACE_SECONDS = 10
SKIPPABLE = ("parameters", "image")


class StepFailed(Exception):
    """A step of the run failed; the message is one line saying what happened."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m local_aws.demo",
        description="Deploy both stacks into a local AWS emulator (moto on 127.0.0.1), as `make run` does.",
    )
    parser.add_argument(
        "--version", default=DEMO_VERSION, help=f"image tag to push and deploy (default {DEMO_VERSION})"
    )
    parser.add_argument(
        "--skip",
        choices=SKIPPABLE,
        action="append",
        default=[],
        help="leave out an operator step, to watch the deployer's preflight refuse",
    )
    return parser


def deploy_environment(endpoint_url):
    """The child's environment: the local endpoint, dummy credentials, and nothing from the user's AWS
    setup (a profile, a config file or a per-service endpoint could otherwise point at real AWS)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {**environment, **endpoint_environment(endpoint_url)}


class Run:
    """Numbered steps with a banner each, their timings, and the deploy.py child currently running."""

    def __init__(self, total_steps):
        self.total_steps = total_steps
        self.number = 0
        self.current = "start"
        self.timings = []
        self.child = None

    def step(self, name, detail=""):
        self.number += 1
        self.current = name
        print(f"\n==> [{self.number}/{self.total_steps}] {name}{': ' + detail if detail else ''}", flush=True)

    def timed(self, name, action, detail=""):
        self.step(name, detail)
        started = time.perf_counter()
        result = action()
        self.timings.append((name, time.perf_counter() - started))
        return result

    def deploy_py(self, name, environment, *arguments):
        command = [sys.executable, "deploy.py", *arguments]

        def run():
            self.child = subprocess.Popen(command, cwd=ROOT, env=environment)
            code = self.child.wait()
            self.child = None
            if code != EXIT_OK:
                raise StepFailed(f"python deploy.py {' '.join(arguments)} exited {code}")

        self.timed(name, run, "python deploy.py " + " ".join(arguments))

    def stop_child(self):
        """After Ctrl-C: let the child say what it leaves behind, then make sure it is gone. A second
        SIGINT right away would read as a second Ctrl-C (detach) to deploy.py, hence the first wait."""
        child, self.child = self.child, None
        if child is None:
            return
        try:
            child.wait(CHILD_OWN_EXIT_SECONDS)
            return
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGINT)
        try:
            child.wait(CHILD_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run_demo(args, run):
    def in_process(call):
        try:
            return call()
        except (LocalAWSError, BotoCoreError, ClientError) as error:
            raise StepFailed(str(error)) from None

    aws = LocalAWS()
    run.timed("start local AWS", lambda: in_process(aws.start), "moto server in this process, 127.0.0.1 only")
    try:
        print(f"local AWS endpoint: {aws.endpoint_url}  (an emulator, not AWS)", flush=True)
        environment = deploy_environment(aws.endpoint_url)
        if "parameters" in args.skip:
            run.step("seed Parameter Store", "skipped (--skip parameters)")
        else:
            names = run.timed("seed Parameter Store", lambda: in_process(lambda: seed_parameters(aws.endpoint_url)))
            print("\n".join(f"  {name}" for name in names), flush=True)
        run.deploy_py("deploy registry", environment, "registry", "--yes")
        if "image" in args.skip:
            run.step("push image", "skipped (--skip image)")
        else:
            digest = run.timed(
                "push image",
                lambda: in_process(lambda: push_image(aws.endpoint_url, args.version)),
                f"tag {args.version} through the ECR API, as docker push would",
            )
            print(f"  {args.version} -> {digest}", flush=True)
        run.deploy_py("deploy app", environment, "app", "--version", args.version, "--yes")
        run.deploy_py("status app", environment, "status", "app")
    finally:
        # A second Ctrl-C must not interrupt the cleanup and leave the child or the server behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        run.stop_child()
        aws.stop()


def main(argv=None):
    args = build_parser().parse_args(argv)
    # moto notes each resource type it skips (alarms, wait condition handles) while the deployer prints
    # the deploy; what the emulator skips is documented, not news in the middle of that output.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"moto\.")
    # A SIGTERM (e.g. from a supervisor) stops the run as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    run = Run(total_steps=6)
    started = time.perf_counter()
    try:
        run_demo(args, run)
    except StepFailed as error:
        print(f"\n❌ make run failed at step '{run.current}': {error}; local AWS stopped", file=sys.stderr)
        return EXIT_DEPLOY_FAILED
    except KeyboardInterrupt:
        print(f"\n❌ make run interrupted during step '{run.current}'; local AWS stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.timings)
    print(
        f"\n✅ both stacks deployed on local AWS in {time.perf_counter() - started:.1f} s ({steps}); local AWS stopped",
        flush=True,
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
