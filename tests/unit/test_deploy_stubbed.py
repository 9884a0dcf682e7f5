"""Deployer behaviour that moto cannot produce, with botocore's Stubber or recorded HTTP responses.

moto finishes every stack operation synchronously and emits only stack-level events, never reports
replacements and never throttles; so these paths are driven by stubbed responses shaped like
CloudFormation's own (each test says which gap it covers). Ctrl-C is tested for real in test_interrupts.py.
"""

import io

import botocore.exceptions
import pytest
from botocore.stub import Stubber

from canary_deploy.aws.rollout import ServiceRollout
from canary_deploy.aws.session import AwsClients
from canary_deploy.aws.stack_state import describe_stack
from canary_deploy.cli import main
from canary_deploy.commands.deployer import DeployOptions, StackDeployer
from canary_deploy.commands.release import StackNames
from canary_deploy.commands.status import StatusReport
from canary_deploy.model.ecs_state import ServiceState
from canary_deploy.model.invocation import Invocation
from canary_deploy.render.console import Console
from canary_deploy.render.stack_report import service_lines
from canary_deploy.watch.events import EventStream, PollSchedule, fast_poll_seconds
from canary_deploy.watch.timing import Timing
from tests.recorded_answers import THROTTLED, answer, no_retry_delays
from tests.stack_events import STACK, STACK_ID, START, event, events_page

STATUS_COMMAND = Invocation().deploy("status", "app")


def stream_on_fake_time(clients, console, time, **kwargs):
    """The stack's event stream on a fake clock."""
    return EventStream(
        clients.cloudformation,
        STACK_ID,
        STACK,
        console,
        STATUS_COMMAND,
        timing=Timing(time.clock, time.sleep),
        **kwargs,
    )


@pytest.fixture
def clients(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # Never sent anywhere: the Stubber answers before any request is made.
    return AwsClients(region="us-east-1", endpoint_url="http://127.0.0.1:9")


@pytest.fixture
def stub(clients):
    with Stubber(clients.cloudformation) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def captured_console(interactive=False, color=False):
    out = io.StringIO()
    return Console(out=out, err=out, stdin=io.StringIO(), interactive=interactive, color=color), out


class FakeTime:
    """clock/sleep pair: sleeping advances the clock, and each delay is recorded."""

    def __init__(self, interrupt_on=()):
        self.now = 0.0
        self.delays = []
        self.interrupt_on = set(interrupt_on)

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.delays.append(seconds)
        self.now += seconds
        if len(self.delays) in self.interrupt_on:
            raise KeyboardInterrupt


def described_stack(status):
    """DescribeStacks' answer for the stack in `status`."""
    return {"Stacks": [{"StackName": STACK, "StackId": STACK_ID, "CreationTime": START, "StackStatus": status}]}


def test_per_resource_events_progress_and_root_cause(clients, stub):
    """moto emits no per-resource events, so the event rows, n/total line and root cause use recorded ones."""
    history = [
        event(1, "UPDATE_IN_PROGRESS", reason="User Initiated"),
        event(2, "UPDATE_IN_PROGRESS", "TaskDefinition", "AWS::ECS::TaskDefinition"),
        event(3, "UPDATE_COMPLETE", "TaskDefinition", "AWS::ECS::TaskDefinition"),
        event(4, "UPDATE_IN_PROGRESS", "Service", "AWS::ECS::Service"),
        event(5, "UPDATE_FAILED", "Service", "AWS::ECS::Service", "ECS Deployment Circuit Breaker was triggered"),
        event(6, "UPDATE_FAILED", "LogGroup", "AWS::Logs::LogGroup", "Resource update cancelled"),
        event(7, "UPDATE_ROLLBACK_IN_PROGRESS", reason="The following resource(s) failed to update: [Service]."),
        event(8, "UPDATE_ROLLBACK_COMPLETE"),
    ]
    console, out = captured_console(interactive=True)
    time = FakeTime()
    stream = stream_on_fake_time(clients, console, time, total_resources=3)
    stub.add_response("describe_stack_events", events_page(*history[:3]), {"StackName": STACK_ID})
    stub.add_response("describe_stack_events", events_page(*history[:8]), {"StackName": STACK_ID})

    assert stream.poll() is None
    assert "12:00:03  UPDATE_COMPLETE              AWS::ECS::TaskDefinition           TaskDefinition" in out.getvalue()
    assert out.getvalue().endswith("\r\033[KAppStack: 1/3 resources · 0s")
    assert stream.poll() == "UPDATE_ROLLBACK_COMPLETE"
    assert sum("TaskDefinition" in line for line in out.getvalue().splitlines()) == 2, "each event printed once"
    causes = stream.root_causes()
    assert [(c["LogicalResourceId"], c["ResourceStatusReason"]) for c in causes] == [
        ("Service", "ECS Deployment Circuit Breaker was triggered")
    ]


def test_throttling_is_retried_not_a_crash(clients, monkeypatch):
    """moto never throttles: recorded 'Rate exceeded' answers are injected before the request is sent,
    which goes through botocore's real retry handler (the Stubber would bypass it)."""
    no_retry_delays(monkeypatch)
    ok = (
        b'<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult>'
        b"<Stacks><member><StackName>AppStack</StackName><StackId>" + STACK_ID.encode() + b"</StackId>"
        b"<CreationTime>2026-01-01T12:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus></member>"
        b"</Stacks></DescribeStacksResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata>"
        b"</DescribeStacksResponse>"
    )
    answers = [(400, THROTTLED), (400, THROTTLED), (200, ok)]
    sent = []

    def recorded_answer(request, **kwargs):
        sent.append(request.url)
        return answer(request, *answers[len(sent) - 1])

    cfn = clients.cloudformation
    cfn.meta.events.register("before-send", recorded_answer)
    assert clients.config.retries["mode"] == "adaptive"
    assert describe_stack(cfn, STACK)["StackStatus"] == "UPDATE_COMPLETE"
    assert len(sent) == 3


@pytest.mark.parametrize("setting, requests", [("3", 3), ("1", 1), (None, 10)])
def test_aws_max_attempts_counts_every_attempt_as_the_aws_cli_does(monkeypatch, setting, requests):
    """An endpoint that always throttles (moto never does): AWS_MAX_ATTEMPTS=N sends N requests in all, and
    the default 10, as the AWS CLI documents; botocore's `max_attempts` would send one more."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    if setting:
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", setting)
    else:
        monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    no_retry_delays(monkeypatch)
    sent = []

    def always_throttled(request, **kwargs):
        sent.append(request.url)
        return answer(request, 400, THROTTLED)

    cfn = AwsClients(region="us-east-1", endpoint_url="http://127.0.0.1:9").cloudformation
    cfn.meta.events.register("before-send", always_throttled)
    with pytest.raises(botocore.exceptions.ClientError, match="Throttling"):
        describe_stack(cfn, STACK)
    assert len(sent) == requests


def test_slow_stack_polls_at_one_second_then_backs_off(clients, stub):
    """moto completes stacks synchronously, so a 3-minute update is simulated with a fake clock."""
    time = FakeTime()
    stream = stream_on_fake_time(clients, captured_console()[0], time)
    stub.add_response("describe_stack_events", events_page(event(1, "UPDATE_IN_PROGRESS")), {"StackName": STACK_ID})
    quiet_polls = 70
    for _ in range(quiet_polls):
        stub.add_response("describe_stack_events", events_page(event(1, "UPDATE_IN_PROGRESS")), {"StackName": STACK_ID})
        stub.add_response(
            "describe_stacks",
            described_stack("UPDATE_IN_PROGRESS"),
            {"StackName": STACK_ID},
        )
    stub.add_response(
        "describe_stack_events",
        events_page(event(1, "UPDATE_IN_PROGRESS"), event(2, "UPDATE_COMPLETE")),
        {"StackName": STACK_ID},
    )

    assert stream.wait(timeout=3600, on_interrupt=pytest.fail) == "UPDATE_COMPLETE"
    assert time.delays[:60] == [1.0] * 60
    assert time.delays[60] == 1.5 and max(time.delays) == 5.0
    assert time.delays == sorted(time.delays)
    assert len(time.delays) == quiet_polls + 1, "the final status is noticed on the poll after the last sleep"


def test_timeout_gives_up_with_how_to_watch(clients, stub):
    """A stack that never finishes (moto's never hang): --timeout stops waiting, exit 1, stack goes on."""
    time = FakeTime()
    stream = stream_on_fake_time(clients, captured_console()[0], time)
    stub.add_response("describe_stack_events", events_page(event(1, "CREATE_IN_PROGRESS")), {"StackName": STACK_ID})
    for _ in range(3):
        stub.add_response("describe_stack_events", events_page(event(1, "CREATE_IN_PROGRESS")), {"StackName": STACK_ID})
        stub.add_response(
            "describe_stacks",
            described_stack("CREATE_IN_PROGRESS"),
        )
    with pytest.raises(Exception, match=r"gave up waiting for AppStack after 3 s \(--timeout\)") as raised:
        stream.wait(timeout=3, on_interrupt=pytest.fail)
    assert raised.value.exit_code == 1


def run_cli(capsys, *argv):
    code = main(list(argv), console=Console(interactive=False, color=False))
    return code, capsys.readouterr().err


def test_missing_credentials_is_one_line_exit_2(capsys, monkeypatch, tmp_path):
    """No request is made at all: credentials are checked locally before the first call."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, err = run_cli(capsys, "status", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9")
    assert code == 2 and err.count("\n") == 1
    assert "no AWS credentials found" in err


def test_unknown_profile_and_unreachable_endpoint_are_one_line_exit_2(capsys, monkeypatch, tmp_path):
    """An unreachable endpoint is simulated with a closed port on 127.0.0.1 (port 9, discard)."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, err = run_cli(capsys, "status", "--profile", "nope", "--region", "us-east-1")
    assert code == 2 and "AWS profile 'nope' not found" in err and err.count("\n") == 1
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, err = run_cli(capsys, "status", "registry", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9")
    assert code == 2 and "check --endpoint-url" in err and err.count("\n") == 1


def test_wait_option_waits_for_an_in_progress_stack_then_updates_it(clients, stub):
    """moto never leaves a stack in progress, so the earlier deploy still running is stubbed."""
    time = FakeTime()
    console, out = captured_console()
    deployer = StackDeployer(
        clients, console, DeployOptions(wait=True), Invocation(), "app", timing=Timing(time.clock, time.sleep)
    )

    stub.add_response("describe_stacks", described_stack("UPDATE_IN_PROGRESS"), {"StackName": STACK})
    stub.add_response("describe_stack_events", events_page(event(1, "UPDATE_IN_PROGRESS")), {"StackName": STACK_ID})
    stub.add_response(
        "describe_stack_events",
        events_page(event(1, "UPDATE_IN_PROGRESS"), event(2, "UPDATE_COMPLETE")),
        {"StackName": STACK_ID},
    )
    stub.add_response("describe_stacks", described_stack("UPDATE_COMPLETE"), {"StackName": STACK})

    assert deployer.current_stack(STACK)["StackStatus"] == "UPDATE_COMPLETE"
    assert "AppStack is UPDATE_IN_PROGRESS: waiting for it (--wait)" in out.getvalue()
    assert time.delays == [], "the end was seen on the first poll, no sleep"


@pytest.mark.parametrize(
    "region",
    ["us-east-9", "useast1", "Mars"],
)
def test_unknown_region_is_refused_before_any_request(capsys, monkeypatch, region):
    """Checked locally against botocore's region list: nothing is sent, so no endpoint is needed."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code, err = run_cli(capsys, "status", "--region", region, "--endpoint-url", "http://127.0.0.1:9")
    assert code == 2 and err.count("\n") == 1
    assert f"unknown AWS region '{region}'" in err


@pytest.mark.parametrize(
    "variable, value", [("AWS_MAX_ATTEMPTS", "ten"), ("AWS_MAX_ATTEMPTS", "0"), ("AWS_RETRY_MODE", "eager")]
)
def test_malformed_retry_settings_are_one_line_exit_2(capsys, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    code, err = run_cli(capsys, "status", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{variable}={value!r}" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (("app",), "deploy.py app: error: the following arguments are required: --version (see deploy.py app --help)"),
        (
            ("frob",),
            "deploy.py: error: argument {registry,app,diff,status,destroy,environments,ci-role}: invalid choice: 'frob'",
        ),
        (("destroy",), "deploy.py destroy: error: the following arguments are required: target"),
        (("registry", "--timeout", "soon"), "argument --timeout: 'soon' is not a number of seconds greater than 0"),
        (("app", "--version", "1.0", "--timeout", "0"), "argument --timeout: '0' is not a number of seconds greater"),
        (("destroy", "app", "--timeout", "-5"), "argument --timeout: '-5' is not a number of seconds greater than 0"),
        (("registry", "--timeout", "nan"), "argument --timeout: 'nan' is not a number of seconds greater than 0"),
        (("registry", "--timeout", "inf"), "argument --timeout: 'inf' is not a number of seconds greater than 0"),
    ],
)
def test_usage_errors_are_one_line_exit_2(capsys, argv, message):
    code, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and message in err


def test_status_without_permission_for_the_deployment_history_still_reports_the_rest(clients):
    # moto grants everything; a deploy role without ecs:ListServiceDeployments is refused on AWS.
    console, out = captured_console()
    state = ServiceState("canary", "cluster", "ACTIVE", "td", 1, 1, 0, [], [])
    stack = {
        "StackName": "AppStack",
        "Outputs": [{"OutputKey": k, "OutputValue": k} for k in ("ClusterName", "ServiceName")],
    }
    rollout = ServiceRollout(clients.ecs, "cluster", "canary")
    with Stubber(clients.ecs) as ecs:
        ecs.add_response("list_tasks", {"taskArns": []})
        ecs.add_client_error(
            "list_service_deployments", "AccessDeniedException", "not authorized to perform: ecs:ListServiceDeployments"
        )
        report = StatusReport(clients, console, StackNames(), Invocation()).read_service(stack, rollout, state)
    assert service_lines(report, console)[-1] == (
        "Last release: not judged (An error occurred (AccessDeniedException) when calling the ListServiceDeployments "
        "operation: not authorized to perform: ecs:ListServiceDeployments)"
    )
    assert out.getvalue() == "", "read first, printed after"


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "fast", "6"])
def test_a_bad_poll_interval_is_refused_in_one_line_before_any_request(monkeypatch, capsys, value):
    monkeypatch.setenv("CANARY_POLL_SECONDS", value)
    code = main(
        ["registry", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"],
        console=Console(interactive=False, color=False),
    )
    assert code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"CANARY_POLL_SECONDS={value!r} is not a number of seconds above 0 and at most 5")
    )


def test_the_poll_interval_sets_the_fast_polls_and_the_back_off_stays():
    now = [0.0]
    schedule = PollSchedule(lambda: now[0], fast_poll_seconds({"CANARY_POLL_SECONDS": "0.2"}))
    assert schedule.next_delay() == 0.2
    now[0] = 61.0
    assert [round(schedule.next_delay(), 2) for _ in range(6)] == [0.3, 0.45, 0.68, 1.01, 1.52, 2.28]
    assert fast_poll_seconds({}) == 1.0
