"""`make aws-acceptance` (python -m acceptance) run against the local AWS, as the suite keeps it working between
runs on a real account: every check runs and its expected equals observed; a local AWS that answers otherwise
is reported as a difference naming the assumption to change; bad input is refused before anything is made;
Ctrl-C deletes what the run made, a second Ctrl-C leaves the rest and names it.

The local AWS does not evaluate alarms: its stand-in for CloudWatch (local_aws.alarm_evaluation) does, beside
the run, through the public API, as CloudWatch does on AWS.
"""

import dataclasses
import io
import json

import pytest

from acceptance import checks, cost
from acceptance.cli import main
from acceptance.sandbox import Names
from canary_deploy.errors import EXIT_ASSUMPTIONS_DIFFER, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK
from canary_deploy.render.console import Console
from local_aws import assumptions
from local_aws.alarm_evaluation import AlarmEvaluation
from local_aws.cloudwatch import metric_math
from local_aws.ecs import container_insights, deployment_alarms, service_deployments

pytestmark = pytest.mark.deploy

ACCOUNT = "123456789012"  # moto's
PREFIX = "canary-acceptance"


@dataclasses.dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def acceptance(aws, monkeypatch):
    """Runs the command in-process against the local AWS, CloudWatch's stand-in evaluating its alarms."""
    monkeypatch.setenv("CANARY_POLL_SECONDS", "0.02")
    monkeypatch.delenv("CI", raising=False)

    def run(*argv: str) -> Outcome:
        out, err = io.StringIO(), io.StringIO()
        console = Console(out=out, err=err, interactive=False, color=False)
        with AlarmEvaluation(aws.endpoint_url, PREFIX).running(0.02):
            code = main(list(argv), console)
        return Outcome(code, out.getvalue(), err.getvalue())

    return run


def left_in(aws) -> dict[str, list]:
    """What a run may make, as the account lists it."""
    ecs, tagged = aws.client("ecs"), [{"Name": "tag-key", "Values": ["canary-acceptance-run"]}]
    return {
        name: found
        for name, found in {
            "vpcs": aws.client("ec2").describe_vpcs(Filters=tagged)["Vpcs"],
            "clusters": [
                cluster["clusterArn"]
                for cluster in ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
                if cluster["status"] == "ACTIVE"
            ],
            "task definitions": [
                arn
                for status in ("ACTIVE", "INACTIVE")
                for arn in ecs.list_task_definitions(familyPrefix=PREFIX, status=status)["taskDefinitionArns"]
            ],
            "alarms": aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"],
        }.items()
        if found
    }


def test_against_the_local_aws_every_check_runs_and_observes_what_it_assumes(acceptance, aws):
    outcome = acceptance("--account", ACCOUNT)

    assert outcome.code == EXIT_OK, outcome.err
    assert outcome.out.index("This run costs at most") < outcome.out.index(f"Account {ACCOUNT}")
    for assumption in assumptions.ALL:
        assert f"expected {assumption.assumed}, observed {assumption.assumed}\n" in outcome.out
    assert outcome.out.count("✅") == 4
    assert "4 deployments made one after another, listed in pages of 2: 1, 2, 3, 4" in outcome.out
    assert left_in(aws) == {}


def test_a_local_aws_that_answers_otherwise_is_reported_naming_each_assumption_to_change(acceptance, aws, monkeypatch):
    # The local AWS as if AWS behaved the other way each time; the acceptance still expects the assumptions.
    monkeypatch.setattr(metric_math, "FILL_FILLS_A_QUERY_WITHOUT_DATA", False)
    no_zeros = dataclasses.replace(assumptions.RUNNING_TASK_COUNT_WITHOUT_TASKS, assumed=assumptions.NO_DATA)
    monkeypatch.setattr(container_insights, "RUNNING_TASK_COUNT_WITHOUT_TASKS", no_zeros)
    monkeypatch.setattr(deployment_alarms, "ALARMS_WATCH_A_DEPLOYMENT_STARTED_IN_ALARM", True)
    monkeypatch.setattr(service_deployments, "SERVICE_DEPLOYMENTS_NEWEST_FIRST", True)
    # What never comes is waited for a moment only.
    monkeypatch.setattr("acceptance.checks.ALARM_WAIT_SECONDS", 1.0)
    monkeypatch.setattr("acceptance.checks.INSIGHTS_WAIT_SECONDS", 1.0)

    outcome = acceptance("--account", ACCOUNT)

    assert outcome.code == EXIT_ASSUMPTIONS_DIFFER, outcome.err
    assert "expected ALARM, observed OK" in outcome.out
    assert "expected zeros, observed only 1" in outcome.out
    assert "expected DISABLED, observed " in outcome.out and "TRIGGERED" in outcome.out
    assert "ended ROLLBACK_SUCCESSFUL" in outcome.out
    assert "expected oldest first, observed newest first" in outcome.out
    assert outcome.out.count("❌") == 4
    for assumption in assumptions.ALL:
        assert f"set {assumption.name} in local_aws/assumptions.py to AWS's answer" in outcome.out
        assert assumption.modelled_in in outcome.out
        assert assumption.name in outcome.err
    assert left_in(aws) == {}


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: --account"),
        (["--account", "12345"], "is not an AWS account id (12 digits)"),
        (["--account", ACCOUNT, "--prefix", "AppStack-test"], "a lower-case letter"),
        (["--account", ACCOUNT, "--prefix", "appstack-test"], "starts like the canary's own names"),
        (["--account", ACCOUNT, "--prefix", "kafkajs-canary-app-test"], "starts like the canary's own names"),
    ],
)
def test_bad_input_is_one_line_and_no_aws_call(acceptance, on_call, capsys, argv, message):
    calls = []
    on_call("before-call", lambda **kwargs: calls.append(kwargs["model"].name))

    outcome = acceptance(*argv)

    assert outcome.code == EXIT_BAD_INPUT
    error = outcome.err or capsys.readouterr().err  # argparse writes its usage error itself
    assert message in error and len(error.strip().splitlines()) == 1
    assert calls == []


def test_another_account_is_refused_after_asking_whose_the_credentials_are_and_nothing_is_made(
    acceptance, aws, on_call
):
    calls = []
    on_call("before-call", lambda **kwargs: calls.append(kwargs["model"].name))

    outcome = acceptance("--account", "111111111111")

    assert outcome.code == EXIT_BAD_INPUT
    assert f"these credentials are for account {ACCOUNT}, not 111111111111: nothing was made" in outcome.err
    assert calls == ["GetCallerIdentity"]
    assert "This run costs at most" in outcome.out


def test_in_ci_it_refuses_anything_but_the_local_aws(acceptance, monkeypatch, on_call):
    calls = []
    on_call("before-call", lambda **kwargs: calls.append(kwargs["model"].name))
    monkeypatch.setenv("CI", "true")

    # Not 127.0.0.1: this machine still, so that nothing could leave it if the refusal failed.
    outcome = acceptance("--account", ACCOUNT, "--endpoint-url", "http://localhost:9")

    assert outcome.code == EXIT_BAD_INPUT
    assert "never runs against AWS in CI" in outcome.err
    assert calls == []


def ctrl_c(**kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_right_after_a_service_is_made_deletes_everything_the_run_made(acceptance, aws, on_call):
    on_call("after-call.ecs.CreateService", ctrl_c)

    outcome = acceptance("--account", ACCOUNT)

    assert outcome.code == EXIT_INTERRUPTED
    assert "Ctrl-C: deleting what the run made (Ctrl-C again to leave it)" in outcome.out
    assert "interrupted; everything the run made is deleted" in outcome.err
    assert "deleted ECS service canary-acceptance-" in outcome.out and "deleted VPC tagged" in outcome.out
    assert left_in(aws) == {}


def test_a_second_ctrl_c_while_deleting_leaves_the_rest_and_names_it_with_its_commands(acceptance, aws, on_call):
    on_call("after-call.ecs.CreateService", ctrl_c)
    on_call("before-call.ecs.DeleteCluster", ctrl_c)

    outcome = acceptance("--account", ACCOUNT)

    assert outcome.code == EXIT_INTERRUPTED
    (line,) = outcome.err.splitlines()
    assert line.startswith("❌ detached while deleting; left, with the commands that delete them: ECS cluster ")
    assert "`aws ecs delete-cluster --region us-east-1 --cluster canary-acceptance-" in line
    assert "`aws logs delete-log-group --region us-east-1 --log-group-name /aws/ecs/containerinsights/" in line
    assert "Name=tag:canary-acceptance-run,Values=canary-acceptance-" in line
    assert set(left_in(aws)) == {"vpcs", "clusters"}


def test_the_cost_is_itemised_with_the_prices_it_assumes_and_where_they_come_from():
    items = {item.what: item for item in cost.estimate()}
    lines = cost.render(list(items.values()))

    fargate = items["Fargate tasks, 0.25 vCPU / 0.5 GB"]
    task_seconds = float(fargate.quantity.split()[0])
    assert fargate.dollars == pytest.approx(task_seconds / 3600 * (0.25 * 0.04048 + 0.5 * 0.004445))
    assert "aws.amazon.com/fargate/pricing" in fargate.price and "1 minute minimum" in fargate.price
    alarms = items["CloudWatch alarms, prorated to the run's minutes"]
    assert alarms.dollars == pytest.approx(3 * 0.10 * cost.run_seconds() / 3600 / 730)
    assert {"GetMetricData", "PutMetricData"} <= set(items)
    assert all(cost.CLOUDWATCH_PRICING in items[name].price for name in ("GetMetricData", "PutMetricData"))
    total = sum(item.cents for item in items.values())
    assert lines[0].startswith(f"This run costs at most {total:.1f} cents (us-east-1 list prices")
    assert 1 < total < 20


def test_the_stalled_alarm_is_the_templates_own_over_namespaces_of_the_run():
    template = json.loads(checks.APP_TEMPLATE.read_text())
    (stalled,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "consumer-stalled" in json.dumps(resource["Properties"])
    ]
    names = Names("canary-acceptance-0a1b2c")

    definition = checks.stalled_alarm_definition(template, names)

    queries = {query["Id"]: query for query in definition["Metrics"]}
    assert [query["Id"] for query in stalled["Metrics"]] == list(queries)
    assert queries["stalled"]["Expression"] == "IF(running > 0, FILL(reported, 0), 1)"
    assert '"kafkajs-canary-app/canary-acceptance-0a1b2c/Consumer"' in queries["reported"]["Expression"]
    running = queries["running"]["MetricStat"]["Metric"]
    assert running["Namespace"] == "canary-acceptance-0a1b2c/ContainerInsights"
    assert running["Dimensions"] == [
        {"Name": "ClusterName", "Value": "canary-acceptance-0a1b2c"},
        {"Name": "ServiceName", "Value": "canary-acceptance-0a1b2c-consumer"},
    ]
    assert (definition["ComparisonOperator"], definition["Threshold"], definition["TreatMissingData"]) == (
        stalled["ComparisonOperator"],
        float(stalled["Threshold"]),
        stalled["TreatMissingData"],
    )
