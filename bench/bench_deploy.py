"""deploy.py against `aws cloudformation deploy` on a local moto server: wall time per stack and API calls.

    .venv/bin/python bench/bench_deploy.py [--runs 5]

Both tools deploy output/RegistryStack.json, then (after the image is pushed) output/AppStack.json, into
a freshly reset in-process moto server on 127.0.0.1, with the same parameters (deploy.py passes every one
explicitly; the AWS CLI creates with the template defaults, which are the same values). Runs are
interleaved, alternating which tool goes first. The AWS CLI comes from PyPI into .venv-awscli (created
when missing): it pins its own botocore (recent releases vendor it as awscli.botocore), so it cannot share .venv.

API calls are counted by a botocore event hook ('before-call', once per operation, retries not
counted) installed through a sitecustomize.py on PYTHONPATH, the same file for both tools, in one extra
run each so the hook costs no timed run anything. That run also records when ExecuteChangeSet returned
and when the process exited: moto completes a stack inside ExecuteChangeSet, so the gap is the time from
the stack's final status to exit.

The AWS CLI is given each template without its indentation, the bytes deploy.py sends inline: as committed
the app stack is over CloudFormation's 51,200-byte inline limit, and the CLI would need an S3 bucket.
The local ECS settles services at once here (`pace=INSTANT`), so both tools are timed, not the emulated
rollout. The rollout's own cost is counted apart, on a local AWS whose time runs at its default pace: a
release and a broken release (an arm64 image) with deploy.py, their API calls after ExecuteChangeSet
per poll (a poll is one DescribeStackEvents).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from contract import APP_STACK, REGISTRY_STACK, TEMPLATE_FILES
from local_aws import LocalAWS, endpoint_environment, push_image, seed_parameters
from local_aws.clock import DEFAULT_PACE, INSTANT

ROOT = Path(__file__).resolve().parent.parent
AWSCLI_VENV = ROOT / ".venv-awscli"
VERSION = "1.16.0-bench"
RELEASES = (
    ("release", "1.16.1-bench", {}, 0),
    ("broken release", "1.16.2-bench-arm64", {"platform": "linux/arm64"}, 1),
)
STACKS = (REGISTRY_STACK, APP_STACK)
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
SITECUSTOMIZE = """
import atexit, json, os, time

try:
    import botocore.session
except ImportError:  # awscli >= 1.45 vendors botocore and aliases it when awscli is imported
    import awscli
    import botocore.session

_calls, _marks = [], {}
_init = botocore.session.Session.__init__


def _init_with_hook(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.register("before-call", lambda **kw: _calls.append(kw["model"].name))
    self.register("after-call.cloudformation.ExecuteChangeSet", lambda **kw: _marks.setdefault("executed", time.time()))


def _write():
    with open(os.environ["BENCH_API_LOG"], "w") as handle:
        json.dump({"calls": _calls, "executed": _marks.get("executed"), "exit": time.time()}, handle)


botocore.session.Session.__init__ = _init_with_hook
atexit.register(_write)
"""


def awscli():
    if not (AWSCLI_VENV / "bin" / "aws").exists():
        subprocess.run([sys.executable, "-m", "venv", str(AWSCLI_VENV)], check=True)
        subprocess.run([str(AWSCLI_VENV / "bin" / "pip"), "install", "--quiet", "awscli"], check=True)
    return str(AWSCLI_VENV / "bin" / "aws")


def compact_templates(scratch):
    """Each template of output/ without its indentation, in scratch; returns the folder."""
    folder = Path(scratch) / "compact"
    folder.mkdir()
    for name in TEMPLATE_FILES.values():
        template = json.loads((ROOT / "output" / name).read_text())
        (folder / name).write_text(json.dumps(template, separators=(",", ":"), ensure_ascii=False))
    return folder


def commands(aws_binary, templates):
    """stack -> tool -> argv, deploying identical templates with identical parameters."""

    def cli(template, stack, *overrides):
        return [
            aws_binary,
            "cloudformation",
            "deploy",
            "--template-file",
            str(templates / template),
            "--stack-name",
            stack,
            "--capabilities",
            *CAPABILITIES,
            "--no-fail-on-empty-changeset",
            *(["--parameter-overrides", *overrides] if overrides else []),
        ]

    deploy = [sys.executable, str(ROOT / "deploy.py")]
    return {
        REGISTRY_STACK: {
            "deploy.py": [*deploy, "registry", "--yes"],
            "aws cli": cli(TEMPLATE_FILES["registry"], REGISTRY_STACK),
        },
        APP_STACK: {
            "deploy.py": [*deploy, "app", "--version", VERSION, "--yes"],
            "aws cli": cli(
                TEMPLATE_FILES["app"],
                APP_STACK,
                f"Version={VERSION}",
                f"RegistryStackName={REGISTRY_STACK}",
                "SentryEnabled=true",
            ),
        },
    }


def run(argv, env, expect=0):
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != expect:
        raise SystemExit(f"{' '.join(argv[:4])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return elapsed


def deploy_both_stacks(aws, plan, tool, env):
    """Fresh state, then registry, push, app; returns wall seconds per stack."""
    aws.reset()
    seed_parameters(aws.endpoint_url)
    times = {REGISTRY_STACK: run(plan[REGISTRY_STACK][tool], env)}
    push_image(aws.endpoint_url, VERSION)
    times[APP_STACK] = run(plan[APP_STACK][tool], env)
    return times


def hook_environment(env, scratch, name):
    """The environment that counts a run's API calls into scratch/<name>.json; returns (env, log path)."""
    hook_dir = Path(scratch) / "hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = Path(scratch) / f"{name}.json"
    return {**env, "PYTHONPATH": str(hook_dir), "BENCH_API_LOG": str(log)}, log


def count_calls(aws, plan, tool, env, scratch):
    counted = {}
    aws.reset()
    seed_parameters(aws.endpoint_url)
    for stack in STACKS:
        hooked, log = hook_environment(env, scratch, f"{tool}-{stack}")
        run(plan[stack][tool], hooked)
        counted[stack] = json.loads(log.read_text())
        if stack == REGISTRY_STACK:
            push_image(aws.endpoint_url, VERSION)
    return counted


def rollout_calls(plan, base_env, scratch):
    """deploy.py's calls after ExecuteChangeSet for each of RELEASES, on a local AWS at its default pace."""
    calls = {}
    with LocalAWS(pace=DEFAULT_PACE) as aws:
        env = {**base_env, **endpoint_environment(aws.endpoint_url)}
        deploy_both_stacks(aws, plan, "deploy.py", env)
        for name, version, defects, expect in RELEASES:
            push_image(aws.endpoint_url, version, **defects)
            hooked, log = hook_environment(env, scratch, name.replace(" ", "-"))
            run([*plan[APP_STACK]["deploy.py"][:-2], version], hooked, expect)  # no --yes: a routine release
            recorded = json.loads(log.read_text())["calls"]
            calls[name] = recorded[recorded.index("ExecuteChangeSet") + 1 :]
    return calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per tool")
    args = parser.parse_args()
    tools = ["deploy.py", "aws cli"]
    walls = {tool: {stack: [] for stack in STACKS} for tool in tools}
    base_env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    scratch_dir = tempfile.TemporaryDirectory()
    scratch = scratch_dir.name
    plan = commands(awscli(), compact_templates(scratch))
    # Services settle at the first request, so both tools are timed, not the emulated rollout.
    with LocalAWS(pace=INSTANT) as aws:
        env = {**base_env, **endpoint_environment(aws.endpoint_url)}
        deploy_both_stacks(aws, plan, "deploy.py", env)  # warm moto's first CloudFormation call (~1.3 s)
        for round_number in range(args.runs):
            for tool in tools if round_number % 2 == 0 else reversed(tools):
                for stack, seconds in deploy_both_stacks(aws, plan, tool, env).items():
                    walls[tool][stack].append(seconds)
        counts = {tool: count_calls(aws, plan, tool, env, scratch) for tool in tools}
    rollouts = rollout_calls(plan, base_env, scratch)
    scratch_dir.cleanup()

    print(f"median wall time over {args.runs} interleaved runs (fresh moto state each):")
    for stack in STACKS:
        ours, theirs = (statistics.median(walls[tool][stack]) for tool in tools)
        print(f"  {stack:<14} deploy.py {ours:.2f} s   aws cli {theirs:.2f} s   ratio {ours / theirs:.2f}")
    print("API calls (botocore before-call hook) and final status -> exit:")
    for tool in tools:
        for stack, record in counts[tool].items():
            tally = ", ".join(f"{name} {n}" for name, n in Counter(record["calls"]).items())
            tail = f"{record['exit'] - record['executed']:.2f} s" if record["executed"] else "n/a"
            print(f"  {tool:<9} {stack:<14} {len(record['calls']):>2} calls ({tally}); status->exit {tail}")
    print("deploy.py's API calls per poll while the ECS rollout streams (after ExecuteChangeSet):")
    for name, after in rollouts.items():
        polls = after.count("DescribeStackEvents")
        tally = ", ".join(f"{call} {n}" for call, n in Counter(after).items())
        print(f"  {name:<15} {polls} polls, {len(after)} calls ({tally}): {len(after) / polls:.1f} per poll")
    return 0


if __name__ == "__main__":
    sys.exit(main())
