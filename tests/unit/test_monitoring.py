"""The app stack's monitoring as the real app meets it: its metrics are allowed, the alarms judge the
consumer's health and stay quiet when there is nothing to judge, alarms reach Slack, and the logs and keys
serve exactly this stack.

Alarms are evaluated on per-minute datapoints as CloudWatch documents it (tests/cloudwatch_eval.py): the
facts below are what the template's alarm definitions decide, not what they contain."""

import json
from pathlib import Path

import pytest

from cfn.conditions import Conditions
from contract import TEMPLATE_FILES
from generate import render_templates
from tests.cloudwatch_eval import PSEUDO_PARAMETERS, alarm_state, allows, decision, resolve

APP = json.loads(render_templates()[TEMPLATE_FILES["app"]])
ALARMS = {name: r for name, r in APP["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
STACK = PSEUDO_PARAMETERS["AWS::StackName"]
(CONTAINER,) = APP["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
# What the app publishes, read from its own files: config/default.json `metrics.namespace` is the prefix
# "kafkajs-canary-app", which node-config lets NODE_CONFIG's JSON override; src/metrics.ts appends the
# namespace src/consumer.ts creates, "Consumer", and puts OffsetLag there with the dimensions topic and
# partition.
APP_NAMESPACE = "kafkajs-canary-app/AppStack/Consumer"
LAG = 'SELECT MAX(OffsetLag) FROM SCHEMA("kafkajs-canary-app/AppStack/Consumer", "partition", "topic")'
REPORTED = 'SELECT COUNT(OffsetLag) FROM SCHEMA("kafkajs-canary-app/AppStack/Consumer", "partition", "topic")'
HOUR = 60


def state(alarm: str, parameters=None, **data) -> str:
    """The alarm's state after the last minute of `data` (metric name or query -> per-minute values)."""
    keyed = {LAG if key == "lag" else REPORTED if key == "reported" else key: values for key, values in data.items()}
    return alarm_state(ALARMS[alarm], APP, keyed, parameters)


def minutes(*spans: tuple[int, float | None]) -> list:
    """Per-minute values from (count, value) spans, oldest first."""
    return [value for count, value in spans for _ in range(count)]


# --- Metrics reach CloudWatch ---------------------------------------------------------------------------


def namespace_the_app_publishes_to(container: dict) -> str:
    """As the app computes it: node-config merges NODE_CONFIG's JSON over config/default.json's
    `metrics.namespace` ("kafkajs-canary-app"), and src/metrics.ts appends "/Consumer"."""
    environment = {variable["Name"]: variable["Value"] for variable in resolve(container["Environment"], APP)}
    configuration = json.loads(environment.get("NODE_CONFIG", "{}"))
    return configuration.get("metrics", {}).get("namespace", "kafkajs-canary-app") + "/Consumer"


def test_the_app_publishes_to_a_namespace_of_its_stack_and_the_alarms_read_it():
    """Two canaries in one account and region publish apart: each app stack names its app's namespace."""
    assert namespace_the_app_publishes_to(CONTAINER) == APP_NAMESPACE
    queries = [
        query["Expression"]
        for alarm in ALARMS.values()
        for query in resolve(alarm, APP)["Properties"].get("Metrics", [])
        if query.get("Expression", "").startswith("SELECT")
    ]
    assert sorted(queries) == sorted([LAG, REPORTED])
    dashboard = json.loads(resolve(APP["Resources"]["Dashboard"]["Properties"]["DashboardBody"], APP))
    (lag_graph,) = [
        widget for widget in dashboard["widgets"] if "Consumer offset lag" in widget["properties"].get("title", "")
    ]
    assert lag_graph["properties"]["metrics"][0][0]["expression"] == f'{LAG} GROUP BY "partition", "topic"'
    other_stack = {**PSEUDO_PARAMETERS, "AWS::StackName": "MskApp"}
    environment = resolve(CONTAINER["Environment"], APP, other_stack)
    assert {"Name": "NODE_CONFIG", "Value": '{"metrics":{"namespace":"kafkajs-canary-app/MskApp"}}'} in environment


def test_task_role_allows_the_apps_real_namespace_and_no_other():
    (statement,) = APP["Resources"]["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    publish = "cloudwatch:PutMetricData"
    assert allows(statement, publish, {"cloudwatch:namespace": APP_NAMESPACE}, APP)
    others = ("kafkajs-canary-app/Consumer", "kafkajs-canary-app/MskApp/Consumer", "kafkajs-canary-app", "AWS/ECS")
    for other in others:
        assert not allows(statement, publish, {"cloudwatch:namespace": other}, APP), other
    assert not allows(statement, publish, {}, APP)


# --- Consumer health ----------------------------------------------------------------------------------


def test_lag_alarm_fires_when_the_largest_lag_stays_above_the_threshold_for_lag_minutes():
    assert state("ConsumerLagAlarm", lag=minutes((HOUR - 5, 3), (5, 5000))) == "ALARM"
    assert state("ConsumerLagAlarm", lag=minutes((HOUR - 4, 3), (4, 5000))) == "OK"
    assert state("ConsumerLagAlarm", lag=minutes((HOUR - 5, 3), (4, 5000), (1, 200))) == "OK"
    assert state("ConsumerLagAlarm", {"LagThreshold": "10000"}, lag=minutes((HOUR, 5000))) == "OK"
    assert state("ConsumerLagAlarm", {"LagMinutes": "2"}, lag=minutes((HOUR - 2, 3), (2, 5000))) == "ALARM"


def test_lag_alarm_tolerates_the_lag_a_new_task_builds_before_it_consumes():
    # The producer sends at most 50 messages every 10 s: three minutes without a consumer is 900 at most.
    restart = minutes((HOUR - 5, 3), (3, 900), (2, 40))
    assert state("ConsumerLagAlarm", lag=restart) == "OK"


def test_stalled_alarm_fires_when_a_running_task_reports_no_offset_lag_for_stalled_minutes():
    running = minutes((HOUR, 1))
    stopped = minutes((HOUR - 10, 4), (10, None))
    assert state("ConsumerStalledAlarm", RunningTaskCount=running, reported=stopped) == "ALARM"
    assert state("ConsumerStalledAlarm", {"StalledMinutes": "20"}, RunningTaskCount=running, reported=stopped) == "OK"
    # Not one datapoint ever (e.g. metrics denied): missing OffsetLag breaches.
    assert state("ConsumerStalledAlarm", RunningTaskCount=running) == "ALARM"


def test_stalled_alarm_tolerates_the_gap_while_a_new_task_starts_consuming():
    # A deployment: the new task starts, joins the group, and reports again after a few minutes.
    reported = minutes((HOUR - 8, 4), (4, None), (4, 4))
    assert state("ConsumerStalledAlarm", RunningTaskCount=minutes((HOUR, 1)), reported=reported) == "OK"
    nine_minutes = minutes((HOUR - 9, 4), (9, None))
    assert state("ConsumerStalledAlarm", RunningTaskCount=minutes((HOUR, 1)), reported=nine_minutes) == "OK"


def test_tasks_below_desired_fires_when_a_desired_task_does_not_run_for_5_minutes():
    desired = minutes((HOUR, 1))
    assert (
        state("TasksBelowDesiredAlarm", DesiredTaskCount=desired, RunningTaskCount=minutes((HOUR - 5, 1), (5, 0)))
        == "ALARM"
    )
    assert (
        state("TasksBelowDesiredAlarm", DesiredTaskCount=desired, RunningTaskCount=minutes((HOUR - 4, 1), (4, 0)))
        == "OK"
    )


# --- Quiet when there is nothing to judge ------------------------------------------------------------------


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_a_fresh_stack_does_not_alarm_before_its_first_datapoints(alarm):
    assert state(alarm) == "OK"


def test_a_fresh_stack_does_not_alarm_while_its_first_task_starts_consuming():
    # The service has just become stable (CloudFormation creates the alarms after it): Container Insights
    # reports the task, the app has not published its first OffsetLag yet.
    first_minutes = {
        "DesiredTaskCount": minutes((3, 1)),
        "RunningTaskCount": minutes((1, 0), (2, 1)),
        "CPUUtilization": minutes((1, 5)),
        "MemoryUtilization": minutes((1, 30)),
    }
    assert {alarm: state(alarm, **first_minutes) for alarm in ALARMS} == dict.fromkeys(ALARMS, "OK")


@pytest.mark.parametrize(
    "paused",
    [
        {},  # nothing reports at all
        {"DesiredTaskCount": minutes((HOUR, 0)), "RunningTaskCount": minutes((HOUR, 0))},  # zeros reported
        {"DesiredTaskCount": minutes((HOUR - 2, 1), (2, 0)), "RunningTaskCount": minutes((HOUR - 1, 1), (1, 0))},
    ],
    ids=["no data", "zero tasks", "just paused"],
)
def test_a_paused_canary_is_quiet(paused):
    reported = minutes((HOUR - 2, 4)) if paused.get("RunningTaskCount", [0])[0] else []
    parameters = {"DesiredCount": "0"}
    assert state("TasksBelowDesiredAlarm", parameters, **paused) == "OK"
    assert state("ConsumerStalledAlarm", parameters, reported=reported, **paused) == "OK"
    assert state("ConsumerLagAlarm", parameters, lag=reported) == "OK"


def test_alarms_have_stack_unique_names_and_notify_the_topic():
    names = {name: resolve(alarm["Properties"]["AlarmName"], APP) for name, alarm in ALARMS.items()}
    assert names == {
        "CpuHighAlarm": "AppStack-cpu-high",
        "MemoryHighAlarm": "AppStack-memory-high",
        "TasksBelowDesiredAlarm": "AppStack-tasks-below-desired",
        "ConsumerLagAlarm": "AppStack-consumer-lag",
        "ConsumerStalledAlarm": "AppStack-consumer-stalled",
    }
    for alarm in ALARMS.values():
        assert alarm["Properties"]["AlarmActions"] == alarm["Properties"]["OKActions"] == [{"Ref": "AlertsTopic"}]


def test_dashboard_shows_lag_by_partition_with_the_threshold_and_every_alarm():
    body = json.loads(resolve(APP["Resources"]["Dashboard"]["Properties"]["DashboardBody"], APP))
    by_title = {widget["properties"]["title"]: widget["properties"] for widget in body["widgets"]}
    lag = by_title["Consumer offset lag by topic and partition"]
    assert lag["metrics"][0][0]["expression"] == LAG + ' GROUP BY "partition", "topic"'
    assert lag["annotations"]["horizontal"][0]["value"] == 1000
    assert sorted(by_title["Alarms"]["alarms"]) == sorted(
        f"arn:aws:cloudwatch:eu-central-1:123456789012:alarm:{resolve(alarm['Properties']['AlarmName'], APP)}"
        for alarm in ALARMS.values()
    )


# --- ECS deployment alarms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameters",
    [{}, {"DesiredCount": "0"}, {"SlackEnabled": "false", "AlarmEmail": "ops@example.com"}, {"AWS::StackName": "Beta"}],
    ids=["defaults", "paused", "no Slack, email", "another stack name"],
)
def test_every_deployment_is_judged_by_the_lag_stalled_and_tasks_alarms_and_rolled_back(parameters):
    deployed = Conditions(APP, parameters).deployed_resources()
    configuration = resolve(deployed["Service"]["Properties"]["DeploymentConfiguration"], APP, parameters)
    alarms_by_name = {
        resolve(resource["Properties"]["AlarmName"], APP, parameters): logical_id
        for logical_id, resource in deployed.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    judges = configuration["Alarms"]
    assert [alarms_by_name.get(name) for name in judges["AlarmNames"]] == [
        "ConsumerLagAlarm",
        "ConsumerStalledAlarm",
        "TasksBelowDesiredAlarm",
    ]
    assert judges["Enable"] is True and judges["Rollback"] is True
    assert configuration["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_the_service_names_its_deployment_alarms_without_depending_on_them():
    # The alarms read the service's name: a Ref or GetAtt back to them would be a dependency cycle.
    service = json.dumps(APP["Resources"]["Service"])
    assert not any(alarm in service for alarm in ALARMS)


def test_tasks_below_desired_tolerates_a_release_replacing_the_task():
    # With MinimumHealthyPercent 50 ECS may stop the old task before the new one runs: a minute or two at 0.
    release = minutes((HOUR - 4, 1), (2, 0), (2, 1))
    assert state("TasksBelowDesiredAlarm", DesiredTaskCount=minutes((HOUR, 1)), RunningTaskCount=release) == "OK"


# --- Slack ----------------------------------------------------------------------------------------------


def notifier_resources(enabled: str) -> dict:
    deployed = Conditions(APP, {"SlackEnabled": enabled}).deployed_resources()
    return {name: r for name, r in deployed.items() if name.startswith(("SlackNotifier", "AlertsSlack"))}


def test_the_notifier_is_deployed_only_when_slack_is_enabled():
    assert set(notifier_resources("true")) == {
        "SlackNotifier", "SlackNotifierRole", "SlackNotifierLogGroup", "SlackNotifierInvokedByAlerts",
        "AlertsSlackSubscription",
    }  # fmt: skip
    assert notifier_resources("false") == {}


def test_the_notifier_runs_the_tested_handler_module_byte_for_byte():
    function = APP["Resources"]["SlackNotifier"]["Properties"]
    handler = Path(__file__).resolve().parents[2] / "lambda_functions" / "slack_notifier.py"
    assert function["Code"]["ZipFile"] == handler.read_text(encoding="utf-8")
    assert function["Handler"] == "index.handler" and function["Runtime"].startswith("python3")


def test_the_webhook_url_is_read_at_run_time_and_never_in_the_template_or_environment():
    function = APP["Resources"]["SlackNotifier"]["Properties"]
    assert resolve(function["Environment"]["Variables"], APP) == {
        "WEBHOOK_URL_PARAMETER": "/kafkajs-canary-app/slack-webhook-url"
    }
    assert "hooks.slack.com" not in json.dumps(APP)
    assert not any("Slack" in name and spec.get("Type") != "String" for name, spec in APP["Parameters"].items())


def test_the_notifier_may_read_only_its_parameter_and_write_only_its_log_group():
    role = APP["Resources"]["SlackNotifierRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    (policy,) = role["Policies"]
    statements = {s["Sid"]: resolve(s, APP) for s in policy["PolicyDocument"]["Statement"]}
    assert statements["ReadWebhookUrl"]["Action"] == ["ssm:GetParameter"]
    assert statements["ReadWebhookUrl"]["Resource"] == [
        "arn:aws:ssm:eu-central-1:123456789012:parameter/kafkajs-canary-app/slack-webhook-url"
    ]
    assert statements["WriteNotifierLogs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statements["WriteNotifierLogs"]["Resource"] == [{"Fn::GetAtt": ["SlackNotifierLogGroup", "Arn"]}]
    assert set(statements) == {"ReadWebhookUrl", "WriteNotifierLogs"}


def test_the_notifier_logs_to_its_own_retained_encrypted_log_group():
    resources = APP["Resources"]
    log_group = resources["SlackNotifierLogGroup"]
    assert log_group["DeletionPolicy"] == log_group["UpdateReplacePolicy"] == "Retain"
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert resources["SlackNotifier"]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": "SlackNotifierLogGroup"}}


def test_the_notifier_is_subscribed_to_the_alerts_topic_which_alone_may_invoke_it():
    resources = notifier_resources("true")
    subscription = resources["AlertsSlackSubscription"]["Properties"]
    assert subscription == {
        "Protocol": "lambda",
        "TopicArn": {"Ref": "AlertsTopic"},
        "Endpoint": {"Fn::GetAtt": ["SlackNotifier", "Arn"]},
    }
    permission = resources["SlackNotifierInvokedByAlerts"]["Properties"]
    assert (permission["Principal"], permission["SourceArn"]) == ("sns.amazonaws.com", {"Ref": "AlertsTopic"})


# --- KMS key policies -------------------------------------------------------------------------------------


ADMIN = ("AWS", "arn:aws:iam::123456789012:role/admin")  # a principal of the account, with kms:* in IAM
STRANGER = ("AWS", "arn:aws:iam::210987654321:root")


@pytest.mark.parametrize("key", ["AlertsKey", "LogsKey"])
def test_key_policies_deny_every_grant_that_is_not_for_an_aws_service(key):
    """Explicitly, whoever asks: no IAM policy can lift it (AWS Control Tower CT.KMS.PR.3)."""
    statements = APP["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]

    def create_grant(caller, **context: str) -> str:
        return decision(statements, caller, "kms:CreateGrant", context, APP)

    for caller in (ADMIN, STRANGER):
        assert create_grant(caller, **{"kms:GrantIsForAWSResource": "false"}) == "Deny"
        assert (
            create_grant(caller, **{"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"})
            == "Deny"
        )
    # For an AWS service acting for the account (e.g. CloudWatch Logs, SNS), the account may grant.
    assert create_grant(ADMIN, **{"kms:GrantIsForAWSResource": "true", "aws:PrincipalIsAWSService": "false"}) == "Allow"
    # Everything else the account administers is still there.
    assert decision(statements, ADMIN, "kms:ScheduleKeyDeletion", {}, APP) == "Allow"


# --- Log groups and the logs key --------------------------------------------------------------------------

LOG_GROUPS = {name: r for name, r in APP["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"}
LOGS = ("Service", "logs.eu-central-1.amazonaws.com")
STACK_ID = "arn:aws:cloudformation:eu-central-1:123456789012:stack/{}/{}-4f2a-11ef-9a3c-0a1b2c3d4e5f"


def stack(name: str, instance: str) -> dict[str, str]:
    """The pseudo parameters of the stack `name` as created once (`instance`: its id's first 8 digits)."""
    return {"AWS::StackName": name, "AWS::StackId": STACK_ID.format(name, instance)}


def log_group_arns(pseudo: dict[str, str]) -> set[str]:
    names = {resolve(group["Properties"]["LogGroupName"], APP, pseudo) for group in LOG_GROUPS.values()}
    return {f"arn:aws:logs:eu-central-1:123456789012:log-group:{name}" for name in names}


def logs_may_encrypt(log_group_arn: str, pseudo: dict[str, str]) -> bool:
    statements = APP["Resources"]["LogsKey"]["Properties"]["KeyPolicy"]["Statement"]
    context = {"kms:EncryptionContext:aws:logs:arn": log_group_arn}
    return decision(statements, LOGS, "kms:GenerateDataKey", context, APP, pseudo) == "Allow"


def test_every_log_group_is_named_apart_from_other_canaries_and_from_its_retained_predecessors():
    """CloudFormation refuses to create a named log group that exists: another canary's, or the one a
    deleted (or rolled back) stack of the same name retained."""
    assert set(LOG_GROUPS) == {"LogGroup", "SlackNotifierLogGroup"}
    first = log_group_arns(stack("AppStack", "5e2f9a10"))
    assert len(first) == len(LOG_GROUPS)
    assert not first & log_group_arns(stack("BetaCanary", "77aa01b2")), "another canary in the account"
    assert not first & log_group_arns(stack("AppStack", "0c9d3e44")), "the stack created again"


def test_the_logs_key_encrypts_for_exactly_the_stacks_log_groups():
    pseudo = stack("AppStack", "5e2f9a10")
    assert all(logs_may_encrypt(arn, pseudo) for arn in log_group_arns(pseudo))
    not_this_stacks = [
        *log_group_arns(stack("AppStack", "0c9d3e44")),  # the retained logs of an earlier AppStack
        *log_group_arns(stack("AppStack-old", "5e2f9a10")),  # another canary whose name starts alike
        "arn:aws:logs:eu-central-1:123456789012:log-group:AppStack-anything",
    ]
    assert not any(logs_may_encrypt(arn, pseudo) for arn in not_this_stacks)
