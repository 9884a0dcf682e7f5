"""Ctrl-C at each moment of a real deploy over HTTP, then the account read back: it is as the message says.

Ctrl-C is a KeyboardInterrupt raised from a botocore event hook of the deployer's own clients, before
a call (the request never sent) or after it (executed, its answer not yet used). moto finishes an update
before ExecuteChangeSet answers, so an update still running is simulated by putting the stack back into
UPDATE_IN_PROGRESS from that hook; the local AWS then cancels it as CloudFormation does.
"""

import io
import os
import signal
import subprocess
import sys
import threading

import botocore.exceptions
import pytest
from test_deploy_moto import (
    PROJECT_ROOT,
    VERSION,
    Run,
    ready_for_app,
    small_output,
    stack_names,
    tunable_registry_template,
)

from canary_deploy.cli import main
from canary_deploy.render.console import Console
from local_aws import push_image
from tests.lossy_proxy import LossyProxy

pytestmark = pytest.mark.deploy
WATCH = "watch it with `python deploy.py status registry`"


@pytest.fixture
def deploy(tmp_path, capsys, aws):
    small_output(tmp_path, registry=tunable_registry_template())
    with aws.clock.stopped():
        yield Run(capsys, tmp_path, aws)


@pytest.fixture
def deployed(deploy):
    """RegistryStack deployed with Knob=1; the test's deploy then updates it to Knob=2."""
    assert deploy("registry", "--yes") == 0, deploy.err
    return deploy


def ctrl_c(on_call, event, skip=0, then=None):
    """Press Ctrl-C once, at the (skip + 1)-th `event`; `then` runs just before (e.g. to force a state)."""
    seen = []

    def press(**kwargs):
        seen.append(event)
        if len(seen) == skip + 1:
            if then:
                then()
            raise KeyboardInterrupt

    on_call(event, press)


def knob(aws):
    stack = aws.client("cloudformation").describe_stacks(StackName="RegistryStack")["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}["Knob"]


def change_sets(aws):
    summaries = aws.client("cloudformation").list_change_sets(StackName="RegistryStack")["Summaries"]
    return [summary["ExecutionStatus"] for summary in summaries if summary["StackName"] == "RegistryStack"]


@pytest.mark.parametrize(
    "event, done",
    [
        ("before-call.cloudformation.CreateChangeSet", "nothing left to delete"),
        ("after-call.cloudformation.CreateChangeSet", "the new empty stack deleted"),
        ("before-call.cloudformation.DescribeChangeSet", "the new empty stack deleted"),
        ("before-call.cloudformation.ExecuteChangeSet", "the new empty stack deleted"),
    ],
)
def test_ctrl_c_before_a_creation_runs_leaves_no_stack(deploy, aws, on_call, event, done):
    ctrl_c(on_call, event)

    assert deploy("registry", "--yes") == 130
    assert deploy.err.strip() == f"❌ interrupted before executing: RegistryStack not changed ({done})"
    assert stack_names(aws) == [] and change_sets(aws) == []
    assert aws.client("ecr").describe_repositories()["repositories"] == []


@pytest.mark.parametrize(
    "event, done",
    [
        ("before-call.cloudformation.CreateChangeSet", "nothing left to delete"),
        ("after-call.cloudformation.CreateChangeSet", "change set deleted"),
        ("before-call.cloudformation.DescribeStackEvents", "change set deleted"),  # the first event read
        ("before-call.cloudformation.ExecuteChangeSet", "change set deleted"),
    ],
)
def test_ctrl_c_before_an_update_runs_leaves_the_stack_as_it_was(deployed, aws, on_call, event, done):
    ctrl_c(on_call, event)

    assert deployed("registry", "--yes", "--parameter", "Knob=2") == 130
    assert deployed.err.strip() == f"❌ interrupted before executing: RegistryStack not changed ({done})"
    assert knob(aws) == "1" and change_sets(aws) == ["EXECUTE_COMPLETE"]


def test_ctrl_c_once_a_creation_runs_detaches(deploy, aws, on_call):
    ctrl_c(on_call, "after-call.cloudformation.ExecuteChangeSet")

    assert deploy("registry", "--yes") == 130
    assert deploy.err.strip() == f"❌ detached: the creation of RegistryStack goes on in CloudFormation; {WATCH}"
    assert stack_names(aws) == ["RegistryStack"]


def released(deploy, aws):
    """AppStack running VERSION; its next release, 2.0.0, is pushed. An app update waits for the ECS service
    to roll out (the local AWS's time moves on as the deployer sleeps): Ctrl-C can land while it runs."""
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, "2.0.0")
    return ("app", "--version", "2.0.0", "--yes")


def running_image_tag(aws):
    stack = aws.client("cloudformation").describe_stacks(StackName="AppStack")["Stacks"][0]
    cluster = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}["ClusterName"]
    ecs = aws.client("ecs")
    service = ecs.describe_services(cluster=cluster, services=["kafkajs-canary-app"])["services"][0]
    task_definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    return task_definition["containerDefinitions"][0]["image"].rsplit(":", 1)[-1]


def test_ctrl_c_while_an_update_runs_cancels_it_and_streams_the_rollback(deploy, aws, on_call):
    release = released(deploy, aws)
    ctrl_c(on_call, "after-call.cloudformation.ExecuteChangeSet")

    assert deploy(*release) == 130
    assert "Ctrl-C: cancelling the update of AppStack, streaming the rollback (Ctrl-C again to detach)" in deploy.out
    assert "Resource update cancelled" in deploy.out
    assert deploy.err.strip() == "❌ update of AppStack cancelled by Ctrl-C; the stack is UPDATE_ROLLBACK_COMPLETE"
    assert running_image_tag(aws) == VERSION


def connection_lost(**kwargs):
    raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")


@pytest.mark.parametrize(
    "cancel_failure, reason",
    [
        (None, "CancelUpdateStack cannot be called from current stack status"),  # the update had finished
        (connection_lost, 'Could not connect to the endpoint URL: "http://127.0.0.1:9"'),  # not a ClientError
    ],
)
def test_a_cancel_that_fails_is_reported_and_the_update_streams_to_its_end(
    deployed, aws, on_call, cancel_failure, reason
):
    ctrl_c(on_call, "after-call.cloudformation.ExecuteChangeSet")
    if cancel_failure:
        on_call("before-call.cloudformation.CancelUpdateStack", cancel_failure)

    assert deployed("registry", "--yes", "--parameter", "Knob=2") == 0, deployed.err
    assert "could not cancel the update of RegistryStack (" in deployed.out and reason in deployed.out
    assert "): streaming it to the end (Ctrl-C again to detach)" in deployed.out
    assert "✅  RegistryStack" in deployed.out and knob(aws) == "2"


def test_second_ctrl_c_while_cleaning_up_detaches_naming_what_is_left(deploy, aws, on_call):
    ctrl_c(on_call, "after-call.cloudformation.CreateChangeSet")
    ctrl_c(on_call, "before-call.cloudformation.DeleteStack")

    assert deploy("registry", "--yes") == 130
    assert deploy.err.strip() == (
        "❌ detached: RegistryStack may be left in REVIEW_IN_PROGRESS: delete it with "
        "`aws cloudformation delete-stack --stack-name RegistryStack`"
    )
    stack = aws.client("cloudformation").describe_stacks(StackName="RegistryStack")["Stacks"][0]
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"


def test_second_ctrl_c_while_the_rollback_streams_detaches(deploy, aws, on_call):
    release = released(deploy, aws)
    ctrl_c(on_call, "after-call.cloudformation.ExecuteChangeSet")
    ctrl_c(on_call, "before-call.cloudformation.DescribeStackEvents", skip=1)  # the first read after executing

    assert deploy(*release) == 130
    assert (
        deploy.err.strip()
        == "❌ detached: the rollback of AppStack goes on; watch it with `python deploy.py status app`"
    )


def test_second_ctrl_c_after_a_failed_cancel_detaches(deployed, aws, on_call):
    ctrl_c(on_call, "after-call.cloudformation.ExecuteChangeSet")  # the registry's update is over: no cancel
    ctrl_c(on_call, "before-call.cloudformation.DescribeStackEvents", skip=1)

    assert deployed("registry", "--yes", "--parameter", "Knob=2") == 130
    assert deployed.err.strip() == f"❌ detached: the update of RegistryStack goes on; {WATCH}"


# Ctrl-C while AWS is slow to answer: the deployer in this process's main thread, a proxy that holds its
# CreateChangeSet (or ExecuteChangeSet) back before the endpoint acts on it, as AWS can for a large template, and
# a real SIGINT to the main thread, as a terminal sends it, once the request is out. The deployer must wait for
# the reply, then undo what the request made. Each step waits for the one before: no test rests on timing.


class Terminal(io.StringIO):
    """The deployer's standard output as a user watching it sees it: `shows(text)` waits until `text` appeared."""

    def __init__(self):
        super().__init__()
        self._written = threading.Condition()

    def write(self, text):
        with self._written:
            length = super().write(text)
            self._written.notify_all()
        return length

    def shows(self, text, timeout=30):
        with self._written:
            return self._written.wait_for(lambda: text in self.getvalue(), timeout)


def press_ctrl_c():
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def interrupted_while_held(deploy, monkeypatch, *argv, action="CreateChangeSet"):
    """Runs the deployer with `action` held by the proxy, presses Ctrl-C once the request is out, and lets the
    request go on once the deployer says it waits for the reply. Returns (exit code, stdout, stderr)."""
    terminal, errors = Terminal(), io.StringIO()
    with LossyProxy(deploy.aws.endpoint_url, hold={action}) as proxy:

        def user():
            if not proxy.arrived(action, timeout=30):
                return  # the deployer ended without sending it: its exit code tells
            press_ctrl_c()  # the request is held: the deployer is still waiting for it
            terminal.shows(f"Ctrl-C: waiting up to 60 s for AWS to answer {action}")
            proxy.release(action)

        pressing = threading.Thread(target=user, name="user-pressing-ctrl-c", daemon=True)
        pressing.start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint_url)
        console = Console(out=terminal, err=errors, interactive=False, color=False)
        code = main([*argv, "--output-dir", str(deploy.output_dir)], console=console, timing=deploy.timing)
        pressing.join()
    monkeypatch.setenv("AWS_ENDPOINT_URL", deploy.aws.endpoint_url)
    return code, terminal.getvalue(), errors.getvalue()


WAITING = "Ctrl-C: waiting up to 60 s for AWS to answer CreateChangeSet, so that what it did is known and can be undone"


@pytest.mark.usefixtures("ctrl_c_interrupts")
def test_ctrl_c_during_a_slow_first_create_deletes_the_stack_it_made_once_it_lands(deploy, aws, monkeypatch):
    code, out, err = interrupted_while_held(deploy, monkeypatch, "registry", "--yes")

    assert (code, err.strip()) == (
        130,
        "❌ interrupted before executing: RegistryStack not changed (the new empty stack deleted)",
    )
    assert WAITING in out
    assert stack_names(aws) == [] and change_sets(aws) == []
    assert deploy("registry", "--yes") == 0, deploy.err  # the next deploy works
    assert knob(aws) == "1"


@pytest.mark.usefixtures("ctrl_c_interrupts")
def test_ctrl_c_during_a_slow_update_create_deletes_the_change_set_once_it_lands(deployed, aws, monkeypatch):
    code, out, err = interrupted_while_held(deployed, monkeypatch, "registry", "--yes", "--parameter", "Knob=2")

    assert (code, err.strip()) == (
        130,
        "❌ interrupted before executing: RegistryStack not changed (change set deleted)",
    )
    assert WAITING in out
    assert knob(aws) == "1" and change_sets(aws) == ["EXECUTE_COMPLETE"]
    assert deployed("registry", "--yes", "--parameter", "Knob=2") == 0, deployed.err
    assert knob(aws) == "2"


def test_second_ctrl_c_while_waiting_for_a_slow_create_detaches_naming_what_may_be_left(deploy, aws):
    """In a deploy.py process of its own, started as a terminal starts it: it exits with its request still out."""
    with LossyProxy(aws.endpoint_url, hold={"CreateChangeSet"}) as proxy:
        argv = ["registry", "--yes", "--output-dir", str(deploy.output_dir)]
        process = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "deploy.py"), *argv],
            env={**os.environ, "AWS_ENDPOINT_URL": proxy.endpoint_url, "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            assert proxy.arrived("CreateChangeSet", timeout=30)
            process.send_signal(signal.SIGINT)
            for line in process.stdout:
                if line.startswith("ℹ️  Ctrl-C: waiting up to 60 s for AWS to answer CreateChangeSet"):
                    break
            process.send_signal(signal.SIGINT)
            err = process.communicate(timeout=30)[1]
        finally:
            if process.poll() is None:
                process.kill()
        assert not proxy.answered("CreateChangeSet", timeout=0)  # it ended with the request held

        left = "RegistryStack may be left in REVIEW_IN_PROGRESS: delete it with `aws cloudformation delete-stack --stack-name RegistryStack`"
        assert (process.returncode, err.strip()) == (130, f"❌ detached: {left}")
        proxy.release("CreateChangeSet")
        assert proxy.answered("CreateChangeSet", timeout=30)

    # The create landed after the deployer ended: what the message named is there, and its command removes it.
    assert deploy("status", "registry") == 0
    assert "RegistryStack: REVIEW_IN_PROGRESS (a change set awaits execution; it holds nothing)" in deploy.out
    aws.client("cloudformation").delete_stack(StackName="RegistryStack")
    assert stack_names(aws) == []


@pytest.mark.usefixtures("ctrl_c_interrupts")
def test_ctrl_c_during_a_slow_execute_waits_for_it_then_handles_the_running_update(deployed, aws, monkeypatch):
    code, out, err = interrupted_while_held(
        deployed, monkeypatch, "registry", "--yes", "--parameter", "Knob=2", action="ExecuteChangeSet"
    )

    assert "Ctrl-C: waiting up to 60 s for AWS to answer ExecuteChangeSet" in out
    # The local AWS finishes an update inside ExecuteChangeSet: once it answered there is nothing to cancel.
    assert "could not cancel the update of RegistryStack" in out and (code, err) == (0, "")
    assert knob(aws) == "2" and change_sets(aws) == ["EXECUTE_COMPLETE", "EXECUTE_COMPLETE"]
