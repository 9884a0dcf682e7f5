"""The local AWS endpoint: each moto change-set fix proven over real HTTP, the seed helpers, the CLI.

Templates here are small ones of our own, shaped like the contract's (exports named
`${AWS::StackName}-<Key>`), so these tests exercise the endpoint rather than the production templates.
"""

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.exceptions
import pytest

from cfn import aws_specs
from contract import TEMPLATE_FILES
from local_aws import (
    LocalAWS,
    LocalAWSError,
    apply_patches,
    local_client,
    push_image,
    seed_parameters,
)
from local_aws.pooled_server import POOL_SIZE

pytestmark = pytest.mark.deploy

VERSION = "1.16.0-beta.12-5f5d22f1"
ROOT = Path(__file__).resolve().parents[2]


def registry_template(extra_resources=None):
    keys = {
        "RepositoryName": {"Ref": "Repository"},
        "RepositoryArn": {"Fn::GetAtt": ["Repository", "Arn"]},
        "RepositoryUri": {"Fn::GetAtt": ["Repository", "RepositoryUri"]},
    }
    return {
        "Parameters": {
            "RepositoryName": {"Type": "String", "Default": "kafkajs-canary-app"},
            "KeepTaggedImages": {"Type": "Number", "Default": "50"},
        },
        "Resources": {
            "Repository": {
                "Type": "AWS::ECR::Repository",
                "DeletionPolicy": "Retain",
                "Properties": {"RepositoryName": {"Ref": "RepositoryName"}},
            },
            **(extra_resources or {}),
        },
        "Outputs": {
            key: {"Value": value, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-" + key}}}
            for key, value in keys.items()
        },
    }


def app_template():
    """A task definition whose image is the imported repository URI tagged with Version."""
    image = {
        "Fn::Join": [
            ":",
            [{"Fn::ImportValue": {"Fn::Sub": "${RegistryStackName}-RepositoryUri"}}, {"Ref": "Version"}],
        ]
    }
    return {
        "Parameters": {
            "Version": {"Type": "String"},
            "RegistryStackName": {"Type": "String", "Default": "RegistryStack"},
        },
        "Resources": {
            "TaskDefinition": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": "kafkajs-canary-app",
                    "ContainerDefinitions": [{"Name": "app", "Image": image, "Memory": 512}],
                },
            }
        },
        "Outputs": {
            "TaskDefinitionArn": {"Value": {"Ref": "TaskDefinition"}},
            "ImageUri": {"Value": image},
        },
    }


def run_change_set(cloudformation, stack_name, template, parameters=None, change_set_type="CREATE"):
    """Create, wait for and execute a change set as the deployer does; returns the stack description.
    `template` is a dict, sent as JSON, or a template body as it is."""
    change_set = cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=f"test-{change_set_type.lower()}",
        ChangeSetType=change_set_type,
        TemplateBody=template if isinstance(template, str) else json.dumps(template),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in (parameters or {}).items()],
    )
    cloudformation.get_waiter("change_set_create_complete").wait(
        ChangeSetName=change_set["Id"], WaiterConfig={"Delay": 1}
    )
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    return cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]


def outputs_of(stack):
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def parameters_of(stack):
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def events_of(cloudformation, stack_name):
    """(logical id, status, reason) oldest first."""
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", "")) for e in events[::-1]]


def test_server_listens_on_loopback_address_only(local_aws):
    port = local_aws.port
    assert local_aws.endpoint_url == f"http://127.0.0.1:{port}"
    # 127.0.0.2 is this machine too: a server bound to 0.0.0.0 would answer there, ours must not.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=2).close()
    socket.create_connection(("127.0.0.1", port), timeout=2).close()


def request_threads():
    return {thread for thread in threading.enumerate() if thread.name == "local-aws-request"}


def test_more_requests_at_once_than_threads_in_the_pool_are_all_answered_and_stop_ends_the_pool():
    before = request_threads()

    def get_config(port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/moto-api/config")
            return connection.getresponse().status
        finally:
            connection.close()

    with LocalAWS() as endpoint:
        assert len(request_threads() - before) == POOL_SIZE
        with ThreadPoolExecutor(3 * POOL_SIZE) as clients:
            assert (
                list(clients.map(get_config, [endpoint.port] * 3 * POOL_SIZE)) == [201] * 3 * POOL_SIZE
            )  # moto answers its config with 201
    deadline = time.monotonic() + 5
    while request_threads() - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert request_threads() - before == set()


def test_stack_created_by_change_set_has_outputs_and_exports(aws):
    cloudformation = aws.client("cloudformation")
    account = aws.client("sts").get_caller_identity()["Account"]

    stack = run_change_set(cloudformation, "RegistryStack", registry_template())

    expected_uri = f"{account}.dkr.ecr.us-east-1.amazonaws.com/kafkajs-canary-app"
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert outputs_of(stack)["RepositoryUri"] == expected_uri
    assert outputs_of(stack)["RepositoryName"] == "kafkajs-canary-app"
    exports = {e["Name"]: e["Value"] for e in cloudformation.list_exports()["Exports"]}
    assert exports["RegistryStack-RepositoryUri"] == expected_uri
    assert set(exports) == {f"RegistryStack-{key}" for key in ("RepositoryName", "RepositoryArn", "RepositoryUri")}


def test_stack_created_by_change_set_imports_another_stacks_export(aws):
    cloudformation = aws.client("cloudformation")
    registry = run_change_set(cloudformation, "RegistryStack", registry_template())

    app = run_change_set(cloudformation, "AppStack", app_template(), {"Version": VERSION})

    assert app["StackStatus"] == "CREATE_COMPLETE"
    task_definition = aws.client("ecs").describe_task_definition(taskDefinition=outputs_of(app)["TaskDefinitionArn"])[
        "taskDefinition"
    ]
    expected_image = f"{outputs_of(registry)['RepositoryUri']}:{VERSION}"
    assert task_definition["containerDefinitions"][0]["image"] == expected_image
    assert outputs_of(app)["ImageUri"] == expected_image


def test_update_by_change_set_records_parameters_and_outputs(aws):
    cloudformation = aws.client("cloudformation")
    run_change_set(cloudformation, "RegistryStack", registry_template())
    run_change_set(cloudformation, "AppStack", app_template(), {"Version": "1.0.0"})

    app = run_change_set(cloudformation, "AppStack", app_template(), {"Version": VERSION}, "UPDATE")

    assert app["StackStatus"] == "UPDATE_COMPLETE"
    assert parameters_of(app)["Version"] == VERSION
    assert outputs_of(app)["ImageUri"].endswith(f":{VERSION}")
    new_revision = aws.client("ecs").describe_task_definition(taskDefinition=outputs_of(app)["TaskDefinitionArn"])[
        "taskDefinition"
    ]
    assert new_revision["containerDefinitions"][0]["image"] == outputs_of(app)["ImageUri"]
    # The recorded parameters are what a repeated deploy is compared with: nothing left to change.
    repeat = cloudformation.create_change_set(
        StackName="AppStack",
        ChangeSetName="repeat",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(app_template()),
        Parameters=[{"ParameterKey": "Version", "ParameterValue": VERSION}],
    )
    described = cloudformation.describe_change_set(ChangeSetName=repeat["Id"])
    assert (described["Status"], described["StatusReason"]) == (
        "FAILED",
        "The submitted information didn't contain changes. Submit different information to create a change set.",
    )
    with pytest.raises(cloudformation.exceptions.InvalidChangeSetStatusException, match=r"status of \[FAILED\]"):
        cloudformation.execute_change_set(ChangeSetName=repeat["Id"])


def test_failing_resource_rolls_back_creation_with_its_reason(aws):
    cloudformation = aws.client("cloudformation")
    aws.client("ecr").create_repository(repositoryName="kafkajs-canary-app")  # makes the stack's fail
    created_first = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}}}
    template = registry_template()
    template["Resources"] = {**created_first, **template["Resources"]}

    stack = run_change_set(cloudformation, "RegistryStack", template)  # no HTTP error

    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = events_of(cloudformation, "RegistryStack")
    failed = [(logical_id, reason) for logical_id, status, reason in events if status == "CREATE_FAILED"]
    assert len(failed) == 1 and failed[0][0] == "Repository"
    assert "kafkajs-canary-app' already exists" in failed[0][1]
    assert (
        "RegistryStack",
        "ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to create: [Repository]. Rollback requested by user.",
    ) in events
    assert events[-1][:2] == ("RegistryStack", "ROLLBACK_COMPLETE")
    assert aws.client("sns").list_topics()["Topics"] == []  # what was created is rolled back
    assert cloudformation.list_exports()["Exports"] == []


@pytest.mark.filterwarnings("ignore:Unable to delete Mirror, as it was never created")  # moto, on rollback
def test_failing_resource_rolls_back_update_and_keeps_previous_state(aws):
    cloudformation = aws.client("cloudformation")
    before = run_change_set(cloudformation, "RegistryStack", registry_template())
    aws.client("ecr").create_repository(repositoryName="taken")
    clashing = {"Mirror": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "taken"}}}

    stack = run_change_set(
        cloudformation, "RegistryStack", registry_template(clashing), {"KeepTaggedImages": "10"}, "UPDATE"
    )

    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = events_of(cloudformation, "RegistryStack")
    assert [e[:2] for e in events if e[1].endswith("_FAILED")] == [("Mirror", "CREATE_FAILED")]
    assert (
        "RegistryStack",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to create: [Mirror]. ",
    ) in events
    assert parameters_of(stack)["KeepTaggedImages"] == "50"
    assert outputs_of(stack) == outputs_of(before)
    assert len(cloudformation.list_exports()["Exports"]) == 3


def test_termination_protection_can_be_enabled(aws):
    cloudformation = aws.client("cloudformation")
    run_change_set(cloudformation, "RegistryStack", registry_template())

    cloudformation.update_termination_protection(EnableTerminationProtection=True, StackName="RegistryStack")

    stack = cloudformation.describe_stacks(StackName="RegistryStack")["Stacks"][0]
    assert stack["EnableTerminationProtection"] is True


def test_tagged_kms_key_is_created_with_its_tags(aws):
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}],
    }
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {"KeyPolicy": policy, "Tags": [{"Key": "app", "Value": "kafkajs-canary"}]},
    }
    template = {"Resources": {"LogsKey": key}, "Outputs": {"KeyId": {"Value": {"Ref": "LogsKey"}}}}

    stack = run_change_set(aws.client("cloudformation"), "KeyStack", template)

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    tags = aws.client("kms").list_resource_tags(KeyId=outputs_of(stack)["KeyId"])["Tags"]
    assert tags == [{"TagKey": "app", "TagValue": "kafkajs-canary"}]


def test_sns_subscriptions_of_a_stack_are_created_and_deleted_with_it(aws):
    topic = {"Type": "AWS::SNS::Topic", "Properties": {}}
    subscription = {
        "Type": "AWS::SNS::Subscription",
        "Properties": {"TopicArn": {"Ref": "Alerts"}, "Protocol": "email", "Endpoint": "ops@example.com"},
    }
    template = {
        "Resources": {"Alerts": topic, "AlertsByEmail": subscription},
        "Outputs": {"TopicArn": {"Value": {"Ref": "Alerts"}}, "SubscriptionArn": {"Value": {"Ref": "AlertsByEmail"}}},
    }
    cloudformation, sns = aws.client("cloudformation"), aws.client("sns")

    outputs = outputs_of(run_change_set(cloudformation, "TopicStack", template))

    (found,) = sns.list_subscriptions_by_topic(TopicArn=outputs["TopicArn"])["Subscriptions"]
    assert (found["Protocol"], found["Endpoint"]) == ("email", "ops@example.com")
    assert found["SubscriptionArn"] == outputs["SubscriptionArn"]
    cloudformation.delete_stack(StackName="TopicStack")
    assert sns.list_subscriptions()["Subscriptions"] == []


def test_metrics_insights_queries_read_only_their_metric_and_schema(aws):
    cloudwatch = aws.client("cloudwatch")
    partitions = [("0", 5.0), ("1", 12.0), ("2", 7.0)]
    for partition, lag in partitions:
        dimensions = [{"Name": "topic", "Value": "t"}, {"Name": "partition", "Value": partition}]
        cloudwatch.put_metric_data(
            Namespace="app/Consumer", MetricData=[{"MetricName": "OffsetLag", "Value": lag, "Dimensions": dimensions}]
        )
    # Outside the schema: another dimension set, another metric, another namespace.
    topic_only = [{"Name": "topic", "Value": "t"}]
    cloudwatch.put_metric_data(
        Namespace="app/Consumer", MetricData=[{"MetricName": "OffsetLag", "Value": 1e6, "Dimensions": topic_only}]
    )
    cloudwatch.put_metric_data(
        Namespace="app/Consumer", MetricData=[{"MetricName": "Other", "Value": 1e6, "Dimensions": topic_only}]
    )
    cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=[{"MetricName": "OffsetLag", "Value": 1e6}])
    now = datetime.now(UTC)

    def query(function):
        expression = f'SELECT {function}(OffsetLag) FROM SCHEMA("app/Consumer", "partition", "topic")'
        (result,) = cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "q", "Expression": expression, "Period": 3600}],
            StartTime=now - timedelta(minutes=30),
            EndTime=now + timedelta(minutes=30),
        )["MetricDataResults"]
        return result["Values"]

    assert (query("MAX"), query("COUNT"), query("SUM")) == ([12.0], [3.0], [24.0])
    with pytest.raises(botocore.exceptions.ClientError, match="Metrics Insights queries of the form"):
        cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "q", "Expression": "SELECT MAX(OffsetLag) FROM X", "Period": 60}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now,
        )


STALLED_METRICS = [
    {
        "Id": "running",
        "MetricStat": {
            "Metric": {"Namespace": "tasks", "MetricName": "RunningTaskCount"},
            "Period": 60,
            "Stat": "Minimum",
        },
        "ReturnData": False,
    },
    {
        "Id": "reported",
        "Expression": 'SELECT COUNT(OffsetLag) FROM SCHEMA("app/Consumer", "partition", "topic")',
        "Period": 60,
        "ReturnData": False,
    },
    {"Id": "stalled", "Expression": "IF(running > 0, FILL(reported, 0), 1)"},
]


@pytest.mark.parametrize(
    "fills", [True, False], ids=["FILL fills a query without data", "FILL leaves a query without data empty"]
)
def test_metric_math_reads_the_other_queries_of_its_period_and_fill_follows_the_assumption(aws, monkeypatch, fills):
    monkeypatch.setattr("local_aws.cloudwatch.metric_math.FILL_FILLS_A_QUERY_WITHOUT_DATA", fills)
    cloudwatch = aws.client("cloudwatch")
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=4)

    def put(namespace, name, minute, value, dimensions=()):
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": name,
                    "Value": value,
                    "Timestamp": start + timedelta(minutes=minute, seconds=10),
                    "Dimensions": list(dimensions),
                }
            ],
        )

    def stalled_values():
        (result,) = cloudwatch.get_metric_data(
            MetricDataQueries=STALLED_METRICS,
            StartTime=start,
            EndTime=start + timedelta(minutes=4),
            ScanBy="TimestampAscending",
        )["MetricDataResults"]
        return result["Values"]

    # A task runs in minutes 0, 1 and 3, none in minute 2; nothing at all is reported in the namespace yet.
    for minute, running in ((0, 1.0), (1, 1.0), (2, 0.0), (3, 1.0)):
        put("tasks", "RunningTaskCount", minute, running)
    assert stalled_values() == ([0.0, 0.0, 1.0, 0.0] if fills else [1.0])
    for partition in ("0", "1"):
        dimensions = [{"Name": "topic", "Value": "t"}, {"Name": "partition", "Value": partition}]
        put("app/Consumer", "OffsetLag", 0, 3.0, dimensions)
    assert stalled_values() == [2.0, 0.0, 1.0, 0.0]  # a query with data has its gaps filled either way
    with pytest.raises(botocore.exceptions.ClientError, match="arithmetic, comparisons, IF and FILL only"):
        cloudwatch.get_metric_data(
            MetricDataQueries=[*STALLED_METRICS[:2], {"Id": "stalled", "Expression": "RATE(reported)"}],
            StartTime=start,
            EndTime=start + timedelta(minutes=4),
        )


def test_alarm_history_records_each_change_of_state_as_cloudwatch_gives_it(aws):
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="lag",
        MetricName="OffsetLag",
        Namespace="app/Consumer",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=5,
        Threshold=1000,
        ComparisonOperator="GreaterThanThreshold",
    )
    before = datetime.now(UTC) - timedelta(seconds=1)
    cloudwatch.set_alarm_state(AlarmName="lag", StateValue="ALARM", StateReason="5 datapoints above")
    cloudwatch.set_alarm_state(AlarmName="lag", StateValue="ALARM", StateReason="6 datapoints above")  # no change
    cloudwatch.set_alarm_state(AlarmName="lag", StateValue="OK", StateReason="1 datapoint below")

    newest, oldest = cloudwatch.describe_alarm_history(AlarmName="lag", StartDate=before)["AlarmHistoryItems"]
    assert (oldest["HistorySummary"], newest["HistorySummary"]) == (
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    )
    assert json.loads(newest["HistoryData"])["oldState"] == {"stateValue": "ALARM", "stateReason": "6 datapoints above"}
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["lag"])["MetricAlarms"]
    assert alarm["StateTransitionedTimestamp"] == newest["Timestamp"]
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        AlarmName="lag", ScanBy="TimestampAscending", PaginationConfig={"PageSize": 1}
    )
    assert [item["HistorySummary"] for page in pages for item in page["AlarmHistoryItems"]] == [
        oldest["HistorySummary"],
        newest["HistorySummary"],
    ]
    assert (
        cloudwatch.describe_alarm_history(AlarmName="lag", StartDate=newest["Timestamp"] + timedelta(seconds=1))[
            "AlarmHistoryItems"
        ]
        == []
    )


YAML_REGISTRY = """
Parameters:
  RepositoryName: {Type: String, Default: kafkajs-canary-app}
Resources:
  Repository:
    Type: AWS::ECR::Repository
    Properties: {RepositoryName: !Ref RepositoryName}
Outputs:
  RepositoryUri:
    Value: !GetAtt Repository.RepositoryUri
    Export: {Name: !Sub "${AWS::StackName}-RepositoryUri"}
"""


@pytest.mark.parametrize(
    "body",
    [YAML_REGISTRY, "{Resources: {Repository: {Type: AWS::ECR::Repository, Properties: {RepositoryName: canary}}}}"],
    ids=["YAML with short-form functions", "a YAML flow mapping, which is not JSON"],
)
def test_yaml_templates_are_still_read_as_yaml(aws, body):
    """JSON bodies are read as JSON (local_aws.cloudformation.templates); anything else still goes through moto's YAML reading."""
    cloudformation = aws.client("cloudformation")

    stack = run_change_set(cloudformation, "RegistryStack", body)

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert aws.client("ecr").describe_repositories()["repositories"]
    if "Outputs" in body:
        assert outputs_of(stack)["RepositoryUri"].endswith(".dkr.ecr.us-east-1.amazonaws.com/kafkajs-canary-app")


def test_replacement_rules_are_cfn_lints_schemas_read_without_importing_it(monkeypatch):
    """The local AWS reads create-only properties from cfn-lint's schema files (importing cfnlint would cost a
    second of every start); they are the ones cfn-lint's own schema manager gives, for every resource type of
    our templates and a custom resource."""
    types = {"Custom::Notifier"}
    for name in TEMPLATE_FILES.values():
        types |= {
            resource["Type"] for resource in json.loads((ROOT / "output" / name).read_text())["Resources"].values()
        }
    by_cfn_lint = {
        resource_type: aws_specs._schema_from_cfn_lint("us-east-1", resource_type) for resource_type in types
    }
    aws_specs.resource_schema.cache_clear()

    def not_through_cfn_lint(region, resource_type):
        raise AssertionError(f"read {resource_type} through cfnlint")

    monkeypatch.setattr(aws_specs, "_schema_from_cfn_lint", not_through_cfn_lint)
    by_file = {resource_type: aws_specs.resource_schema("us-east-1", resource_type) for resource_type in types}
    assert by_file == by_cfn_lint
    assert "/properties/ContainerDefinitions" in by_file["AWS::ECS::TaskDefinition"]["createOnlyProperties"]


def test_create_change_set_reuses_a_stack_left_under_review(aws):
    """A dry run of a first deploy leaves the stack REVIEW_IN_PROGRESS; the next deploy must reuse it."""
    cloudformation = aws.client("cloudformation")
    dry_run = cloudformation.create_change_set(
        StackName="RegistryStack",
        ChangeSetName="dry-run",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(registry_template()),
    )
    cloudformation.delete_change_set(ChangeSetName=dry_run["Id"])

    stack = run_change_set(cloudformation, "RegistryStack", registry_template())

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]] == ["RegistryStack"]
    with pytest.raises(botocore.exceptions.ClientError, match=r"already exists and cannot be created again"):
        run_change_set(cloudformation, "RegistryStack", registry_template())


def test_seeded_parameters_are_readable_as_the_task_reads_them(aws):
    names = seed_parameters(aws.endpoint_url, prefix="/canary")

    found = aws.client("ssm").get_parameters(Names=names, WithDecryption=True)["Parameters"]

    types = {p["Name"]: p["Type"] for p in found}
    assert types == {
        "/canary/kafka-host": "String",
        "/canary/kafka-username": "SecureString",
        "/canary/kafka-password": "SecureString",
        "/canary/sentry-dsn": "SecureString",
        "/canary/slack-webhook-url": "SecureString",
    }
    assert all(p["Value"] for p in found)
    optional = seed_parameters(aws.endpoint_url, prefix="/other", sentry=False, slack=False)
    assert not {"/other/sentry-dsn", "/other/slack-webhook-url"} & set(optional)


def test_pushed_images_are_found_by_tag_with_distinct_digests(aws):
    run_change_set(aws.client("cloudformation"), "RegistryStack", registry_template())

    digests = {tag: push_image(aws.endpoint_url, tag) for tag in (VERSION, "1.0.0")}

    ecr = aws.client("ecr")
    for tag, digest in digests.items():
        image = ecr.describe_images(repositoryName="kafkajs-canary-app", imageIds=[{"imageTag": tag}])
        assert image["imageDetails"][0]["imageDigest"] == digest
    assert len(set(digests.values())) == 2


def test_clients_refuse_an_endpoint_off_loopback():
    with pytest.raises(LocalAWSError, match="127.0.0.1 only"):
        seed_parameters("https://ssm.us-east-1.amazonaws.com")


def test_patches_apply_once_and_refuse_another_moto_version(monkeypatch):
    from moto.cloudformation.models import CloudFormationBackend

    apply_patches()
    patched = CloudFormationBackend.create_change_set
    apply_patches()
    assert CloudFormationBackend.create_change_set is patched  # not wrapped twice

    monkeypatch.setattr("moto.__version__", "5.3.0")
    with pytest.raises(LocalAWSError, match=r"moto 5\.2\.5 internals but moto 5\.3\.0"):
        apply_patches()


def test_each_patch_names_what_it_replaces_the_aws_behaviour_and_its_documentation():
    from local_aws.patches import PATCHES
    from local_aws.patching import Model, Patch

    apply_patches()
    for patch in PATCHES:
        assert patch.aws, patch
        if isinstance(patch, Model) or not patch.aws.startswith("none: "):  # "none: ..." is for speed only
            assert patch.doc.startswith("https://docs.aws.amazon.com/"), patch
    moved = Patch("moto.ecr.models:ECRBackend.put_image_renamed", lambda *args: None, "-", "-", wraps=True)
    with pytest.raises(LocalAWSError, match="moto has no such attribute to wrap"):
        moved.apply()


def start_cli(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "local_aws", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_prints_exports_serves_and_stops_cleanly_on_ctrl_c():
    process = start_cli()
    try:
        exports = [process.stdout.readline().strip() for _ in range(5)]
        endpoint_url = exports[0].removeprefix("export AWS_ENDPOINT_URL=")
        assert endpoint_url.startswith("http://127.0.0.1:")
        assert "export AWS_ACCESS_KEY_ID=testing" in exports and "export AWS_REGION=us-east-1" in exports
        account = local_client("sts", endpoint_url).get_caller_identity()["Account"]
        assert account.isdigit()
    finally:
        process.send_signal(2)  # SIGINT, as Ctrl-C
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr


def test_cli_busy_port_is_a_one_line_error(local_aws, monkeypatch, capsys):
    """In this process (signal handlers are process-wide, so main() installs none here)."""
    from local_aws.__main__ import main

    monkeypatch.setattr("signal.signal", lambda *args: None)
    assert main(["--port", str(local_aws.port)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{local_aws.port} (Address already in use); "
        "choose another --port, or 0 for a free one"
    ]


def test_cli_bad_pace_is_a_one_line_error(monkeypatch, capsys):
    from local_aws.__main__ import main

    monkeypatch.setattr("signal.signal", lambda *args: None)
    monkeypatch.setenv("LOCAL_AWS_PACE", "fast")
    assert main([]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: LOCAL_AWS_PACE='fast' is not a pace: simulated seconds per real second above 0, or 'instant'"
    ]


def test_previous_value_of_an_ssm_typed_parameter_is_its_name(aws):
    """UsePreviousValue keeps the name given (resolved afresh), and describe_stacks shows name and value."""
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/canary/topic-name", Type="String", Value="alerts")
    template = {
        "Parameters": {
            "TopicName": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/canary/topic-name"},
            "Count": {"Type": "Number", "Default": "1"},
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "TopicName"}}}},
        "Outputs": {"Count": {"Value": {"Ref": "Count"}}},
    }
    cloudformation = aws.client("cloudformation")
    run_change_set(cloudformation, "TopicStack", template)
    ssm.put_parameter(Name="/canary/topic-name", Type="String", Value="alerts-v2", Overwrite=True)

    previous = [{"ParameterKey": key, "UsePreviousValue": True} for key in ("TopicName", "Count")]
    change_set = cloudformation.create_change_set(
        StackName="TopicStack",
        ChangeSetName="keep",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps({**template, "Outputs": {"Count": {"Value": {"Fn::Sub": "${Count}!"}}}}),
        Parameters=previous,
    )
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])

    stack = cloudformation.describe_stacks(StackName="TopicStack")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    topic = {p["ParameterKey"]: p for p in stack["Parameters"]}["TopicName"]
    assert (topic["ParameterValue"], topic["ResolvedValue"]) == ("/canary/topic-name", "alerts-v2")
    assert outputs_of(stack) == {"Count": "1!"}


def create_change_set(cloudformation, stack_name, template, name, change_set_type="CREATE", **extra):
    return cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType=change_set_type,
        TemplateBody=json.dumps(template),
        **extra,
    )


def test_client_tokens_make_retries_idempotent(aws):
    cloudformation = aws.client("cloudformation")
    first = create_change_set(cloudformation, "RegistryStack", registry_template(), "first", ClientToken="t-create")

    retried = create_change_set(cloudformation, "RegistryStack", registry_template(), "first", ClientToken="t-create")

    assert (retried["Id"], retried["StackId"]) == (first["Id"], first["StackId"])
    with pytest.raises(cloudformation.exceptions.AlreadyExistsException, match=r"ChangeSet \[first\] already exists"):
        create_change_set(cloudformation, "RegistryStack", registry_template(), "first", ClientToken="t-other")
    cloudformation.execute_change_set(ChangeSetName=first["Id"], ClientRequestToken="t-execute")
    cloudformation.execute_change_set(ChangeSetName=first["Id"], ClientRequestToken="t-execute")
    with pytest.raises(cloudformation.exceptions.InvalidChangeSetStatusException):
        cloudformation.execute_change_set(ChangeSetName=first["Id"], ClientRequestToken="t-execute-again")
    statuses = [
        status for logical_id, status, _ in events_of(cloudformation, "RegistryStack") if logical_id == "RegistryStack"
    ]
    assert statuses == ["REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"], "executed once"
    assert [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]] == ["RegistryStack"]
    with pytest.raises(cloudformation.exceptions.TokenAlreadyExistsException):
        cloudformation.delete_stack(StackName="RegistryStack", ClientRequestToken="t-execute")


def test_change_sets_are_named_per_stack(aws):
    cloudformation = aws.client("cloudformation")
    registry = create_change_set(cloudformation, "RegistryStack", registry_template(), "review")
    other = create_change_set(cloudformation, "OtherStack", registry_template(), "review")

    described = cloudformation.describe_change_set(ChangeSetName="review", StackName="OtherStack")
    assert described["ChangeSetId"] == other["Id"] != registry["Id"]
    cloudformation.delete_change_set(ChangeSetName="review", StackName="RegistryStack")
    with pytest.raises(cloudformation.exceptions.ChangeSetNotFoundException, match=r"ChangeSet \[review\] does not"):
        cloudformation.describe_change_set(ChangeSetName="review", StackName="RegistryStack")
    with pytest.raises(cloudformation.exceptions.ChangeSetNotFoundException):
        cloudformation.delete_change_set(ChangeSetName="review", StackName="RegistryStack")
    assert cloudformation.describe_change_set(ChangeSetName=other["Id"])["Status"] == "CREATE_COMPLETE"


def test_termination_protection_is_enforced_on_delete(aws):
    cloudformation = aws.client("cloudformation")
    run_change_set(cloudformation, "RegistryStack", registry_template())
    cloudformation.update_termination_protection(EnableTerminationProtection=True, StackName="RegistryStack")

    with pytest.raises(botocore.exceptions.ClientError, match="cannot be deleted while TerminationProtection"):
        cloudformation.delete_stack(StackName="RegistryStack")
    assert cloudformation.describe_stacks(StackName="RegistryStack")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    cloudformation.update_termination_protection(EnableTerminationProtection=False, StackName="RegistryStack")
    cloudformation.delete_stack(StackName="RegistryStack")
    assert cloudformation.describe_stacks()["Stacks"] == []


def test_list_imports_names_the_stacks_importing_an_export_until_they_are_deleted(aws):
    """As AWS documents ListImports; an export no stack imports (or none of that name) is AWS's ValidationError."""
    cloudformation = aws.client("cloudformation")
    run_change_set(cloudformation, "RegistryStack", registry_template())
    not_imported = "Export 'RegistryStack-RepositoryUri' is not imported by any stack."
    with pytest.raises(botocore.exceptions.ClientError, match=f"ValidationError.*{not_imported}"):
        cloudformation.list_imports(ExportName="RegistryStack-RepositoryUri")
    for name in ("KafkaApp", "MskApp"):
        run_change_set(cloudformation, name, app_template(), {"Version": VERSION})
    # Made by a change set nobody executed: it holds nothing and imports nothing yet.
    cloudformation.create_change_set(
        StackName="Pending",
        ChangeSetName="review",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(app_template()),
        Parameters=[{"ParameterKey": "Version", "ParameterValue": VERSION}],
    )

    assert cloudformation.list_imports(ExportName="RegistryStack-RepositoryUri")["Imports"] == ["KafkaApp", "MskApp"]
    pages = cloudformation.get_paginator("list_imports").paginate(ExportName="RegistryStack-RepositoryUri")
    assert [name for page in pages for name in page["Imports"]] == ["KafkaApp", "MskApp"]
    with pytest.raises(botocore.exceptions.ClientError, match="Export 'RegistryStack-RepositoryArn' is not imported"):
        cloudformation.list_imports(ExportName="RegistryStack-RepositoryArn")
    with pytest.raises(botocore.exceptions.ClientError, match="Export 'Nothing' is not imported by any stack."):
        cloudformation.list_imports(ExportName="Nothing")

    cloudformation.delete_stack(StackName="KafkaApp")
    assert cloudformation.list_imports(ExportName="RegistryStack-RepositoryUri")["Imports"] == ["MskApp"]


def test_a_stack_whose_export_is_imported_is_not_deleted(aws):
    """AWS refuses: the call succeeds, the stack stays as it was with the reason; once the importers are gone
    it deletes."""
    cloudformation, ecr = aws.client("cloudformation"), aws.client("ecr")
    run_change_set(cloudformation, "RegistryStack", registry_template())
    for name in ("KafkaApp", "MskApp"):
        run_change_set(cloudformation, name, app_template(), {"Version": VERSION})

    cloudformation.delete_stack(StackName="RegistryStack")

    stack = cloudformation.describe_stacks(StackName="RegistryStack")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert events_of(cloudformation, "RegistryStack")[-2:] == [
        ("RegistryStack", "DELETE_IN_PROGRESS", "User Initiated"),
        (
            "RegistryStack",
            "CREATE_COMPLETE",
            "Export RegistryStack-RepositoryUri cannot be deleted as it is in use by KafkaApp and MskApp",
        ),
    ]
    assert len(cloudformation.list_exports()["Exports"]) == 3
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == ["kafkajs-canary-app"]

    for name in ("KafkaApp", "MskApp"):
        cloudformation.delete_stack(StackName=name)
    cloudformation.delete_stack(StackName="RegistryStack")
    assert cloudformation.describe_stacks()["Stacks"] == []
    assert cloudformation.list_exports()["Exports"] == []


def test_a_resource_that_cannot_be_deleted_leaves_the_stack_delete_failed(aws):
    """As on AWS: the stack and what is left stay, DELETE_FAILED names the resource; fixed, it deletes."""
    template = {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Subnet": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"},
            },
            "Routes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "Association": {
                "Type": "AWS::EC2::SubnetRouteTableAssociation",
                "Properties": {"SubnetId": {"Ref": "Subnet"}, "RouteTableId": {"Ref": "Routes"}},
            },
        },
        "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}},
    }
    cloudformation, ec2 = aws.client("cloudformation"), aws.client("ec2")
    vpc_id = outputs_of(run_change_set(cloudformation, "NetworkStack", template))["VpcId"]
    stray = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]  # made by hand

    cloudformation.delete_stack(StackName="NetworkStack")

    stack = cloudformation.describe_stacks(StackName="NetworkStack")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    events = [(logical_id, status) for logical_id, status, _ in events_of(cloudformation, "NetworkStack")]
    # Each resource after those that refer to it: the association first, the VPC last.
    assert [logical_id for logical_id, status in events if status == "DELETE_COMPLETE"] == [
        "Association",
        "Routes",
        "Subnet",
    ]
    assert events[-2:] == [("Vpc", "DELETE_FAILED"), ("NetworkStack", "DELETE_FAILED")]
    assert [vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"] if not vpc["IsDefault"]] == [vpc_id]

    ec2.delete_subnet(SubnetId=stray)
    cloudformation.delete_stack(StackName="NetworkStack")
    assert cloudformation.describe_stacks()["Stacks"] == []
    assert [vpc for vpc in ec2.describe_vpcs()["Vpcs"] if not vpc["IsDefault"]] == []


def import_change_set(cloudformation, template, repository="kafkajs-canary-app", name="adopt"):
    return cloudformation.create_change_set(
        StackName="RegistryStack",
        ChangeSetName=name,
        ChangeSetType="IMPORT",
        TemplateBody=json.dumps(template),
        ResourcesToImport=[
            {
                "ResourceType": "AWS::ECR::Repository",
                "LogicalResourceId": "Repository",
                "ResourceIdentifier": {"RepositoryName": repository},
            }
        ],
    )


def test_import_change_set_adopts_a_retained_repository(aws):
    """The registry stack deleted, its repository retained with its images: a new stack adopts it."""
    cloudformation = aws.client("cloudformation")
    run_change_set(cloudformation, "RegistryStack", registry_template())
    digest = push_image(aws.endpoint_url, VERSION)
    cloudformation.delete_stack(StackName="RegistryStack")
    without_outputs = {key: value for key, value in registry_template().items() if key != "Outputs"}

    with_outputs = import_change_set(cloudformation, registry_template(), name="with-outputs")
    refused = cloudformation.describe_change_set(ChangeSetName=with_outputs["Id"])
    assert (refused["Status"], refused["StatusReason"]) == (
        "FAILED",
        "As part of the import operation, you cannot modify or add [Outputs]",
    )
    missing = import_change_set(cloudformation, without_outputs, repository="nope", name="missing")
    assert "does not exist" in cloudformation.describe_change_set(ChangeSetName=missing["Id"])["StatusReason"]

    adopt = import_change_set(cloudformation, without_outputs)
    described = cloudformation.describe_change_set(ChangeSetName=adopt["Id"])
    assert described["Status"] == "CREATE_COMPLETE"
    assert [
        (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in described["Changes"]
    ] == [("Import", "Repository")]
    cloudformation.execute_change_set(ChangeSetName=adopt["Id"])

    stack = cloudformation.describe_stacks(StackName="RegistryStack")["Stacks"][0]
    assert stack["StackStatus"] == "IMPORT_COMPLETE"
    assert ("Repository", "IMPORT_COMPLETE", "") in events_of(cloudformation, "RegistryStack")
    resource = cloudformation.describe_stack_resource(StackName="RegistryStack", LogicalResourceId="Repository")
    assert resource["StackResourceDetail"]["PhysicalResourceId"] == "kafkajs-canary-app"
    images = aws.client("ecr").describe_images(repositoryName="kafkajs-canary-app")["imageDetails"]
    assert [image["imageDigest"] for image in images] == [digest], "the same repository, images kept"
    # The outputs come with the next update; a second import of the same repository is refused.
    updated = run_change_set(cloudformation, "RegistryStack", registry_template(), change_set_type="UPDATE")
    assert outputs_of(updated)["RepositoryName"] == "kafkajs-canary-app"
    with pytest.raises(botocore.exceptions.ClientError, match="IMPORT change sets that create a stack"):
        import_change_set(cloudformation, without_outputs, name="again")


def test_template_url_on_this_endpoint_is_read_path_style(aws):
    """What the AWS CLI sends for a bucket on the local endpoint (`deploy --s3-bucket`)."""
    aws.client("s3").create_bucket(Bucket="templates")
    aws.client("s3").put_object(Bucket="templates", Key="registry.json", Body=json.dumps(registry_template()))
    cloudformation = aws.client("cloudformation")

    change_set = cloudformation.create_change_set(
        StackName="RegistryStack",
        ChangeSetName="from-s3",
        ChangeSetType="CREATE",
        TemplateURL=f"{aws.endpoint_url}/templates/registry.json",
    )

    assert cloudformation.describe_change_set(ChangeSetName=change_set["Id"])["Status"] == "CREATE_COMPLETE"
