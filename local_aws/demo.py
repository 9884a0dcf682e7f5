"""`make run`: the whole release flow against an embedded local AWS endpoint, no AWS account needed.

Starts moto's server in this process (127.0.0.1, a free port), seeds it as an operator would (Parameter
Store, then an image in ECR after the registry exists), and runs the real CLI as a user does:
`deploy.py registry`, `deploy.py app --version TAG --verify` (the canary's verdict: healthy, with the lag the
app publishes), `deploy.py status app`; then a second release, whose review shows what it changes (the diff
`deploy.py diff app` prints), a broken one: an image built for arm64, whose tasks ECS cannot start, so the
circuit breaker fails the rollout and the stack rolls back, with the reason; a lagging one: once its task
starts, the demo plays CloudWatch and sets the lag alarm to ALARM (canary_app), so ECS's deployment alarms
roll it back and `--verify` reports the canary's failure (exit 3); and the next beta, refused (exit 2) while
that alarm is still in ALARM, as ECS would not judge it. `status app` ends it, with the alarms' states and
the verdict of the lagging release. The server stops at the end, also when a step fails or on Ctrl-C; the exit
status says which step failed.

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

from canary_deploy.errors import EXIT_BAD_INPUT, EXIT_CANARY_FAILED, EXIT_DEPLOY_FAILED, EXIT_INTERRUPTED, EXIT_OK
from canary_deploy.watch.events import POLL_SECONDS_VARIABLE
from contract import APP_STACK

from .canary_app import CanaryApp
from .clock import clock
from .ecs.scheduler import FARGATE_PLATFORM
from .errors import LocalAWSError
from .seeding import push_image, seed_parameters
from .server import LocalAWS, endpoint_environment

ROOT = Path(__file__).resolve().parent.parent
DEMO_VERSION = "1.16.0-beta.12-5f5d22f1"
NEXT_VERSION = "1.16.0-beta.13-0a1b2c3d"
# Built on an arm64 laptop without --platform: Fargate's linux/amd64 tasks cannot pull it.
BROKEN_VERSION = "1.16.0-beta.14-arm64"
BROKEN_PLATFORM = "linux/arm64"
# A beta whose consumer falls behind: its largest OffsetLag of each of the last 5 minutes (LagMinutes).
LAGGING_VERSION = "1.16.0-beta.15-7c3e9a10"
LAGGING_OFFSETS = (4810.0, 5120.0, 5388.0, 5602.0, 5911.0)
# The beta after it, released while the lagging one's alarm is still in ALARM: ECS would not judge it.
FIXED_VERSION = "1.16.0-beta.16-2d4f6b80"
HEALTHY_OFFSETS = (3.0, 12.0, 7.0)  # the first release's, one per partition
# Under a second of watching, not ECS's bake time of minutes (the local AWS's time runs fast, not the deployer's).
DEMO_VERIFY_MINUTES = "0.01"
TOTAL_STEPS = 15
DEPLOY_COMMAND = (sys.executable, "deploy.py")
LOCAL_POLL_SECONDS = "0.1"
# After Ctrl-C, how long the deploy.py child, which got its own Ctrl-C from us, may take to clean up
# (delete its change set, cancel its update) before it is killed.
CHILD_GRACE_SECONDS = 30
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
    # The local AWS answers at once and its time runs fast (local_aws.clock): poll it often, not every second.
    return {**environment, **endpoint_environment(endpoint_url), POLL_SECONDS_VARIABLE: LOCAL_POLL_SECONDS}


class Run:
    """Numbered steps with a banner each, their timings, and the deploy.py child currently running.

    Ctrl-C reaches the child through the run, never straight from the terminal: the child runs in a process
    group of its own, and each SIGINT (or SIGTERM) the run gets is forwarded to it once, as SIGINT. So the
    child sees exactly the Ctrl-Cs the user pressed (one means "clean up", a second "detach"), whether they
    came from a terminal, which signals the whole foreground group, or from `kill -INT` on the run alone.
    """

    def __init__(self, total_steps, deploy_command=DEPLOY_COMMAND):
        self.total_steps = total_steps
        self.deploy_command = deploy_command
        self.number = 0
        self.current = "start"
        self.timings = []
        self.child = None
        self.child_exit_code = None
        self._starting_child = False
        self._interrupt_pending = False

    def handle_signals(self):
        """Install our own handlers: one inherited as ignored (a background job of a script, some CI
        runners) would otherwise make the run, and its children, deaf to Ctrl-C."""
        signal.signal(signal.SIGINT, self._interrupt)
        signal.signal(signal.SIGTERM, self._interrupt)

    def stop_children(self):
        """Cleanup after the steps, whatever ended them. A Ctrl-C from here on goes on to the child (its
        "detach") and never cuts the cleanup short."""
        signal.signal(signal.SIGINT, self._forward_only)
        signal.signal(signal.SIGTERM, self._forward_only)
        self.child_exit_code = self._stop_child()

    def outcome(self, action):
        """Runs the steps; returns the exit code, having said in one line how a failed or interrupted run
        ended (the action stops the children and the local AWS itself, also on failure)."""
        try:
            action()
        except StepFailed as error:
            print(f"\n❌ make run failed at step '{self.current}': {error}; local AWS stopped", file=sys.stderr)
            return EXIT_DEPLOY_FAILED
        except KeyboardInterrupt:
            child = "" if self.child_exit_code is None else f" (deploy.py exited {self.child_exit_code})"
            print(f"\n❌ make run interrupted during step '{self.current}'{child}; local AWS stopped", file=sys.stderr)
            return EXIT_INTERRUPTED
        return EXIT_OK

    def _interrupt(self, signum, frame):
        if self._starting_child:
            # Raised as soon as the child exists, so that it is known, and gets its Ctrl-C, too.
            self._interrupt_pending = True
            return
        self.forward_interrupt()
        raise KeyboardInterrupt

    def _forward_only(self, signum, frame):
        self.forward_interrupt()

    def forward_interrupt(self):
        child = self.child
        if child is not None and child.returncode is None:
            try:
                os.kill(child.pid, signal.SIGINT)
            except ProcessLookupError:  # it ended meanwhile
                pass

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

    def deploy_py(self, name, environment, *arguments, expect=EXIT_OK, meanwhile=None):
        """Runs deploy.py as a step; any exit code but `expect` fails the run. `meanwhile(running)` runs while
        it does (`running()` says whether it still does), in this thread, so Ctrl-C reaches it as it would
        reach the wait."""

        def run():
            self._start_child([*self.deploy_command, *arguments], environment)
            if meanwhile:
                child = self.child
                meanwhile(lambda: child.poll() is None)
            code = self.child.wait()
            self.child = None
            if code != expect:
                raise StepFailed(f"python deploy.py {' '.join(arguments)} exited {code}, not {expect}")

        self.timed(name, run, "python deploy.py " + " ".join(arguments))

    def _start_child(self, command, environment):
        # The child inherits SIGINT blocked, so a Ctrl-C forwarded while its interpreter starts waits, pending,
        # until deploy.py unblocks it in its own code (one during Python's start-up would end it with a fatal
        # error), and none is lost.
        self._starting_child = True
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.child = subprocess.Popen(command, cwd=ROOT, env=environment, process_group=0)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            self._starting_child = False
        if self._interrupt_pending:
            self._interrupt(signal.SIGINT, None)

    def _stop_child(self):
        """After Ctrl-C: the child got it too; wait while it cleans up and says what it leaves behind, then
        make sure it is gone. Returns its exit code, None when no child was running."""
        child, self.child = self.child, None
        if child is None:
            return None
        try:
            return child.wait(CHILD_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()


def run_demo(args, run):
    def in_process(call):
        try:
            return call()
        except (LocalAWSError, BotoCoreError, ClientError) as error:
            raise StepFailed(str(error)) from None

    aws = LocalAWS()
    try:
        run.timed("start local AWS", lambda: in_process(aws.start), "moto server in this process, 127.0.0.1 only")
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
            push(run, in_process, aws, "push image", args.version)
        canary = CanaryApp(aws.endpoint_url)

        def app_publishes_lag(running):
            in_process(
                lambda: canary.when_started(
                    args.version, lambda: canary.publish_lag(APP_STACK, *HEALTHY_OFFSETS), running
                )
            )

        run.deploy_py(
            "deploy app",
            environment,
            *("app", "--version", args.version, "--yes", "--verify", DEMO_VERIFY_MINUTES),
            meanwhile=app_publishes_lag,
        )
        run.deploy_py("status app", environment, "status", "app")
        push(run, in_process, aws, "push the next image", NEXT_VERSION)
        # A routine release: only the image tag changes, so no --yes is needed.
        run.deploy_py("release", environment, "app", "--version", NEXT_VERSION)
        push(run, in_process, aws, "push a broken image", BROKEN_VERSION, platform=BROKEN_PLATFORM)
        run.deploy_py(
            "broken release, rolled back", environment, "app", "--version", BROKEN_VERSION, expect=EXIT_DEPLOY_FAILED
        )
        push(run, in_process, aws, "push a lagging image", LAGGING_VERSION)

        def beta_falls_behind(running):
            def alarm():
                # Time stands still while CloudWatch is played: at make run's pace the deployment's bake is
                # about half a second of real time, which a loaded machine could spend on these calls.
                with clock.stopped():
                    name = canary.fall_behind(APP_STACK, *LAGGING_OFFSETS)
                print(f"  (make run plays CloudWatch: {LAGGING_VERSION} falls behind, {name} is ALARM)", flush=True)

            in_process(lambda: canary.when_started(LAGGING_VERSION, alarm, running))

        run.deploy_py(
            "lagging release, rolled back by its alarm",
            environment,
            *("app", "--version", LAGGING_VERSION, "--verify"),
            expect=EXIT_CANARY_FAILED,
            meanwhile=beta_falls_behind,
        )
        push(run, in_process, aws, "push the next beta", FIXED_VERSION)
        run.deploy_py(
            "next release, refused while the alarm is in ALARM",
            environment,
            *("app", "--version", FIXED_VERSION, "--verify"),
            expect=EXIT_BAD_INPUT,
        )
        run.deploy_py("status app after the rollbacks", environment, "status", "app")
    finally:
        run.stop_children()  # first: the child may still need the endpoint to clean up
        aws.stop()


def push(run, in_process, aws, name, version, platform=FARGATE_PLATFORM):
    detail = f"tag {version} through the ECR API, as docker push would"
    if platform != FARGATE_PLATFORM:
        detail += f" (built for {platform}: ECS on Fargate runs linux/amd64)"
    digest = run.timed(
        name, lambda: in_process(lambda: push_image(aws.endpoint_url, version, platform=platform)), detail
    )
    print(f"  {version} -> {digest}", flush=True)


def main(argv=None):
    args = build_parser().parse_args(argv)
    # moto notes each resource type it skips (alarms, wait condition handles) while the deployer prints
    # the deploy; what the emulator skips is documented, not news in the middle of that output.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"moto\.")
    run = Run(total_steps=TOTAL_STEPS)
    # Ctrl-C, or a SIGTERM from a supervisor, stops the run cleanly, even if we were started ignoring it.
    run.handle_signals()
    started = time.perf_counter()
    code = run.outcome(lambda: run_demo(args, run))
    if code != EXIT_OK:
        return code
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.timings)
    print(
        f"\n✅ both stacks deployed and the canary healthy, then a release, a broken one and a lagging one rolled "
        f"back, and the next one refused while an alarm is in ALARM, on local AWS in "
        f"{time.perf_counter() - started:.1f} s ({steps}); local AWS stopped",
        flush=True,
    )
    return EXIT_OK


def exit_with(code):
    """Exit with the run's code. A Ctrl-C that landed inside exec() of a string (dataclasses and namedtuple
    do that while moto is imported) leaves CPython marked as interrupted even though it was handled, and
    under `python -m` it then ends the process with SIGINT instead of this code: so an interrupted run,
    with everything stopped by now, leaves directly."""
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    exit_with(main())
