"""Every hint names the command that works. Each "run this next" line the deployer prints with stacks of
other names, or in an environment, is run as printed (through main(), against the local AWS) and must act on
the same stacks: never on RegistryStack or AppStack, which those commands would reach without the flags."""

import re
import shlex

import pytest
import test_deploy_moto
from moto.cloudformation.models import cloudformation_backends
from test_deploy_moto import PROJECT_ROOT, VERSION, ctrl_c, deploy_py, small_output, verify_run

from canary_deploy.model.invocation import program_name
from local_aws import push_image, seed_parameters

pytestmark = pytest.mark.deploy

NAMES = ("--registry-stack-name", "CanaryRegistry", "--app-stack-name", "CanaryApp")
MSK = """
[registry]
stack_name = "CanaryRegistry"

[environments.msk]
stack_name = "CanaryApp"
parameter_prefix = "/canary/msk"
region = "us-east-1"
"""


class Runner:
    """main() as `program`, with test_deploy_moto.verify_run's clock and `at=(text, action)`."""

    def __init__(self, output_dir, program, aws):
        self.output_dir = output_dir
        self.program = program
        self.aws = aws

    def __call__(self, *argv, at=None):
        code, self.out, self.err = verify_run(self, *argv, at=at, program=self.program)
        return code

    def follow(self, message, *extra):
        """Runs the one command of this program that `message` names between backticks (plus `extra`)."""
        (command,) = [found for found in re.findall(r"`([^`]+)`", message) if found.startswith(f"{self.program} ")]
        return self(*shlex.split(command)[len(shlex.split(self.program)) :], *extra)


def lag_alarm(aws, *states):
    """CanaryApp's lag alarm goes through `states`, as CloudWatch would set them."""
    for state in states:
        test_deploy_moto.lag_alarm(aws, state, "CanaryApp-consumer-lag")


def stack_names(aws):
    return sorted(stack["StackName"] for stack in aws.client("cloudformation").describe_stacks()["Stacks"])


def version_of(aws, stack_name):
    stack = aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {p["ParameterKey"]: p.get("ParameterValue") for p in stack["Parameters"]}["Version"]


@pytest.mark.parametrize(
    "program, target, chosen",
    [
        ("python deploy.py", NAMES, " ".join(NAMES)),
        ("canary-deploy", ("--env", "msk"), "--env msk"),
    ],
)
def test_each_hint_runs_as_printed_and_acts_on_the_same_stacks(
    aws, tmp_path, environments_file, program, target, chosen
):
    small_output(tmp_path)
    environments_file(MSK)
    run = Runner(tmp_path, program, aws)

    # preflight: no registry yet
    assert run(*target, "app", "--version", VERSION, "--yes") == 2
    assert f"registry stack CanaryRegistry does not exist: run `{program} {chosen} registry`" in run.err
    assert run.follow(run.err) == 0, run.err
    assert stack_names(aws) == ["CanaryRegistry"]

    # preflight: no image, then no Parameter Store parameters (the aws lines carry the region in force)
    assert run(*target, "app", "--version", VERSION, "--yes") == 2
    region = " --region us-east-1" if "--env" in target else ""
    assert "(log in first: `aws ecr get-login-password --region us-east-1 | docker login" in run.err
    push_image(aws.endpoint_url, VERSION)
    assert run(*target, "app", "--version", VERSION, "--yes") == 2
    prefix = "/canary/msk" if "--env" in target else "/kafkajs-canary-app"
    assert f"`aws ssm put-parameter --type String --name {prefix}/kafka-host --value ...{region}`" in run.err
    seed_parameters(aws.endpoint_url, prefix=prefix)
    assert run(*target, "app", "--version", VERSION, "--yes") == 0, run.err
    assert stack_names(aws) == ["CanaryApp", "CanaryRegistry"]

    # a stack in progress (moto finishes every operation at once: put it in the state a slow update leaves)
    stack_id = aws.client("cloudformation").describe_stacks(StackName="CanaryApp")["Stacks"][0]["StackId"]
    stack = cloudformation_backends["123456789012"]["us-east-1"].stacks[stack_id]
    stack.status = "UPDATE_IN_PROGRESS"
    assert run(*target, "app", "--version", VERSION, "--yes") == 2
    assert f"wait for it (`{program} {chosen} status app`)" in run.err
    assert run.follow(run.err) == 0, run.err
    assert run.out.startswith("CanaryApp: UPDATE_IN_PROGRESS (in progress)")
    stack.status = "CREATE_COMPLETE"

    # --verify detached by Ctrl-C: a release made while the lag alarm is in ALARM, which ECS does not judge, so
    # --verify watches it itself
    lag_alarm(aws, "ALARM")
    push_image(aws.endpoint_url, "1.16.1")
    unjudged = ("app", "--version", "1.16.1", "--allow-unjudged", "--verify")
    assert run(*target, *unjudged, at=("Verifying the canary", ctrl_c)) == 130
    assert f"check later with `{program} {chosen} status app`" in run.err
    assert run.follow(run.err) == 0, run.err
    assert run.out.startswith("CanaryApp: UPDATE_COMPLETE") and "Last release: ⚠ canary not judged on 1.16.1" in run.out

    # a failed canary that ECS did not roll back: the hint releases the previous version again (unjudged, as
    # the alarm is still in ALARM)
    push_image(aws.endpoint_url, "1.17.0-beta.1")
    failing = ("app", "--version", "1.17.0-beta.1", "--allow-unjudged", "--verify", "0.5")
    assert run(*target, *failing, at=("Verifying the canary", lambda: lag_alarm(aws, "OK", "ALARM"))) == 3
    assert f"roll back with `{program} {chosen} app --version 1.16.1 --allow-unjudged`" in run.err
    assert run.follow(run.err) == 0, run.err
    assert version_of(aws, "CanaryApp") == "1.16.1"

    # destroy order: the app first
    assert run(*target, "destroy", "registry", "--yes") == 2
    assert f"destroy it first (`{program} {chosen} destroy app`)" in run.err
    assert run.follow(run.err, "--yes") == 0, run.err  # no terminal here to confirm on
    assert stack_names(aws) == ["CanaryRegistry"]


def test_the_program_in_hints_is_the_one_the_user_ran(aws):
    """`python <path>/deploy.py` as typed, since the hint must work from where it was typed."""
    script = str(PROJECT_ROOT / "deploy.py")
    result = deploy_py("--registry-stack-name", "CanaryRegistry", "app", "--version", VERSION)
    assert result.returncode == 2
    assert f"run `python {script} --registry-stack-name CanaryRegistry registry`" in result.stderr


@pytest.mark.parametrize(
    "argv0, program",
    [
        ("deploy.py", "python deploy.py"),
        ("../canary-infra/deploy.py", "python ../canary-infra/deploy.py"),
        ("/home/me/canary-infra/.venv/bin/canary-deploy", "canary-deploy"),  # the console script, on PATH
    ],
)
def test_program_name(argv0, program):
    assert program_name(argv0) == program
