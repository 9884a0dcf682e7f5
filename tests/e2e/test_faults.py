"""Faults moto cannot produce, injected around real deploys over HTTP, then the account read back.

Lost replies go through tests/lossy_proxy.py, a real HTTP proxy on 127.0.0.1 that executes each request
and drops the reply of chosen calls once; throttling comes from recorded answers (tests/recorded_answers.py).
"""

import json

import pytest
from test_deploy_moto import PROJECT_ROOT, VERSION, Run, small_output, stack_names, tunable_registry_template
from test_interrupts import ctrl_c, knob, released, running_image_tag
from test_local_aws import events_of

from canary_deploy.aws.session import AwsClients
from canary_deploy.commands.preflight import AppPreflight
from canary_deploy.errors import PreflightFailed
from canary_deploy.model.invocation import Invocation
from canary_deploy.model.parameters import ParameterSource, StackParameters
from canary_deploy.model.stack_template import StackTemplate
from canary_deploy.render.console import Console
from local_aws import push_image, seed_parameters
from tests.lossy_proxy import LossyProxy
from tests.recorded_answers import THROTTLED, answer, no_retry_delays

pytestmark = pytest.mark.deploy


@pytest.fixture
def deploy(tmp_path, capsys, aws):
    small_output(tmp_path, registry=tunable_registry_template())
    with aws.clock.stopped():
        yield Run(capsys, tmp_path, aws)


@pytest.fixture
def lossy(aws, monkeypatch):
    """`lossy(*actions)`: from now on the deployer reaches the endpoint through a LossyProxy that loses the
    reply of each named action once."""
    no_retry_delays(monkeypatch)
    proxies = []

    def through_proxy(*actions):
        proxy = LossyProxy(aws.endpoint_url, drop_reply_once=actions).__enter__()
        proxies.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint_url)
        return proxy

    yield through_proxy
    for proxy in proxies:
        proxy.__exit__(None, None, None)


def stack_statuses(aws):
    events = events_of(aws.client("cloudformation"), "RegistryStack")
    return [status for logical_id, status, _ in events if logical_id == "RegistryStack"]


@pytest.mark.parametrize("update", [False, True])
def test_lost_replies_of_create_and_execute_are_retried_without_acting_twice(deploy, aws, lossy, update):
    if update:
        assert deploy("registry", "--yes") == 0, deploy.err
    proxy = lossy("CreateChangeSet", "ExecuteChangeSet")

    assert deploy("registry", "--yes", "--parameter", "Knob=2") == 0, deploy.err

    assert proxy.dropped == ["CreateChangeSet", "ExecuteChangeSet"]
    assert (proxy.requests["CreateChangeSet"], proxy.requests["ExecuteChangeSet"]) == (2, 2), "each one retried"
    assert stack_names(aws) == ["RegistryStack"] and knob(aws) == "2"
    summaries = aws.client("cloudformation").list_change_sets(StackName="RegistryStack")["Summaries"]
    assert [summary["ExecutionStatus"] for summary in summaries] == ["EXECUTE_COMPLETE"] * (2 if update else 1)
    operation = "UPDATE" if update else "CREATE"
    assert stack_statuses(aws).count(f"{operation}_IN_PROGRESS") == 1, "executed once"


def test_lost_reply_of_delete_stack_is_retried_harmlessly(deploy, aws, lossy):
    assert deploy("registry", "--yes") == 0, deploy.err
    proxy = lossy("DeleteStack")

    assert deploy("destroy", "registry", "--yes") == 0, deploy.err

    assert proxy.dropped == ["DeleteStack"] and proxy.requests["DeleteStack"] == 2
    assert "✅  RegistryStack destroyed" in deploy.out and stack_names(aws) == []


def test_lost_reply_of_cancel_update_stack_still_reports_the_cancel(deploy, aws, lossy, on_call):
    release = released(deploy, aws)
    ctrl_c(on_call, "after-call.cloudformation.ExecuteChangeSet")
    proxy = lossy("CancelUpdateStack")

    assert deploy(*release) == 130

    assert proxy.dropped == ["CancelUpdateStack"] and proxy.requests["CancelUpdateStack"] == 2
    assert "update of AppStack cancelled by Ctrl-C; the stack is UPDATE_ROLLBACK_COMPLETE" in deploy.err
    assert running_image_tag(aws) == VERSION


def test_status_unreadable_after_execution_is_unknown_not_failed(deploy, aws, on_call, monkeypatch):
    """Throttled to exhaustion once the change set is executed: the stack completed, which nobody could see."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    no_retry_delays(monkeypatch)
    executed = []
    on_call("after-call.cloudformation.ExecuteChangeSet", lambda **kwargs: executed.append(True))
    on_call(
        "before-send.cloudformation", lambda request, **kwargs: answer(request, 400, THROTTLED) if executed else None
    )

    assert deploy("registry", "--yes") == 1

    assert deploy.err.strip() == (
        "❌ could not read the status of RegistryStack (An error occurred (Throttling) when calling the "
        "DescribeStackEvents operation (reached max retries: 1): Rate exceeded): its state is unknown, the "
        "deployment may have completed; check it with `python deploy.py status registry`"
    )
    stack = aws.client("cloudformation").describe_stacks(StackName="RegistryStack")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def count_requests(on_call):
    sent = []
    on_call("before-send", lambda request, **kwargs: sent.append(request.url))
    return sent


@pytest.mark.parametrize(
    "argv, message",
    [
        (("registry", "--app-stack-name", "1App"), "--app-stack-name '1App' is not a stack name: a letter first"),
        (("status", "--registry-stack-name", "Reg_Stack"), "--registry-stack-name 'Reg_Stack' is not a stack name"),
        (("destroy", "app", "--app-stack-name", "A" * 129), "is not a stack name: a letter first, then letters"),
        (("app", "--version", "latest"), "--version latest is refused: the tag moves"),
        (("app", "--version", VERSION, "--parameter", "DesiredCount=nan"), "DesiredCount must be a number"),
        (("app", "--version", VERSION, "--parameter", "DesiredCount=1_0"), "DesiredCount must be a number"),
        (("app", "--version", VERSION, "--parameter", "DesiredCount=５"), "DesiredCount must be a number"),
        (("registry", "--outputs-file", "{tmp}"), "--outputs-file {tmp} is a directory: name a file in it"),
        (("registry", "--outputs-file", "/proc/outputs.json"), "--outputs-file /proc/outputs.json: cannot write in"),
        (("registry", "--outputs-file", "{tmp}/missing/out.json"), "its directory does not exist"),
        (("registry", "--parameters-file", "{tmp}/missing.json"), "No such file or directory"),
        (("app", "--version", VERSION, "--verify", "0"), "'0' is not a number of minutes above 0 and at most 180"),
        (("app", "--version", VERSION, "--verify", "--dry-run"), "--verify judges a release once it runs"),
        (("app", "--version", VERSION, "--verdict-file", "{tmp}/verdict.json"), "--verdict-file needs --verify"),
        (("app", "--version", VERSION, "--verify", "--verdict-file", "{tmp}"), "--verdict-file {tmp} is a directory"),
    ],
)
def test_bad_input_is_refused_in_one_line_before_any_request(deploy, aws, on_call, tmp_path, argv, message):
    sent = count_requests(on_call)
    argv = [argument.format(tmp=tmp_path) for argument in argv]

    assert deploy(*argv) == 2

    assert message.format(tmp=tmp_path) in deploy.err
    assert deploy.err.count("\n") == 1 and "Traceback" not in deploy.err
    assert sent == []


def test_outputs_file_is_written_whole_and_replaces_the_old_one(deploy, aws, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text("stale")

    assert deploy("registry", "--yes", "--outputs-file", str(outputs)) == 0, deploy.err

    assert json.loads(outputs.read_text())["RegistryStack"]["Knob"] == "1"
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".deploy-")] == []


def convert_command(name):
    return (
        f'aws ssm put-parameter --overwrite --type SecureString --name {name} --value "$(aws ssm get-parameter '
        f'--name {name} --query Parameter.Value --output text)"'
    )


def test_secret_stored_as_string_is_refused_with_the_command_that_converts_it(deploy, aws):
    assert deploy("registry", "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, VERSION)
    seed_parameters(aws.endpoint_url)
    name = "/kafkajs-canary-app/kafka-password"
    aws.client("ssm").put_parameter(Name=name, Type="String", Value="in clear", Overwrite=True)

    assert deploy("app", "--version", VERSION, "--yes") == 2

    assert deploy.err.strip() == (
        f"❌ {name} is a secret stored as String: convert it to SecureString with `{convert_command(name)}`"
    )
    assert stack_names(aws) == ["RegistryStack"]
    # The command does what it says (on the local AWS, as on AWS): same name, now a SecureString.
    ssm = aws.client("ssm")
    value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    ssm.put_parameter(Name=name, Type="SecureString", Value=value, Overwrite=True)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err


@pytest.mark.parametrize("secret", ["kafka-username", "sentry-dsn", "slack-webhook-url"])
def test_every_secret_parameter_is_checked(aws, secret):
    """The preflight alone, against the local Parameter Store: each credential the app reads."""
    seed_parameters(aws.endpoint_url)
    name = f"/kafkajs-canary-app/{secret}"
    aws.client("ssm").put_parameter(Name=name, Type="String", Value="in clear", Overwrite=True)
    template = StackTemplate("AppStack.json", (PROJECT_ROOT / "output" / "AppStack.json").read_text())
    preflight = AppPreflight(AwsClients(), Console(interactive=False, color=False), "RegistryStack", Invocation())

    with pytest.raises(PreflightFailed, match=f"^{name} is a secret stored as String"):
        preflight.check_parameter_store(StackParameters(template, ParameterSource()))
