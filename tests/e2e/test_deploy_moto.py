"""The deployer for real over HTTP against moto's server (conftest's `aws`: change sets fixed by
local_aws, state reset per test, AWS_* variables pointing at 127.0.0.1).

Most tests use two small templates with the contract's parameter and output names, so they exercise the
deployer, not the evolving production templates; test_real_templates_* deploy output/ as generated.
"""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from canary_deploy.cli import main
from canary_deploy.render.console import Console
from canary_deploy.watch.timing import Timing
from contract import TEMPLATE_FILES, app_configuration, stack_metric_namespace
from local_aws import push_image, seed_parameters
from local_aws.canary_app import CanaryApp
from tests.generated_output import write_output

pytestmark = pytest.mark.deploy
PROJECT_ROOT = Path(__file__).resolve().parents[2]
VERSION = "1.16.0-beta.12-5f5d22f1"
REPOSITORY_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/kafkajs-canary-app"
LAG_ALARM = "${AWS::StackName}-consumer-lag"
# Fn::Sub texts, as in the real template: each stack's app publishes to a namespace of its own.
NAMESPACE = stack_metric_namespace("${AWS::StackName}")
LAG_QUERY = f'SELECT MAX(OffsetLag) FROM SCHEMA("{NAMESPACE}", "partition", "topic")'
APP_CONFIGURATION = json.dumps(app_configuration("${AWS::StackName}"))
REAL_APP_PARAMETERS = json.loads((PROJECT_ROOT / "output" / TEMPLATE_FILES["app"]).read_text())["Parameters"]


def small_registry_template():
    outputs = {
        key: {"Value": value, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-" + key}}}
        for key, value in {
            "RepositoryName": {"Ref": "Repository"},
            "RepositoryArn": {"Fn::GetAtt": ["Repository", "Arn"]},
            "RepositoryUri": {"Fn::GetAtt": ["Repository", "RepositoryUri"]},
        }.items()
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"RepositoryName": {"Type": "String", "Default": "kafkajs-canary-app"}},
        "Resources": {
            "Repository": {
                "Type": "AWS::ECR::Repository",
                "DeletionPolicy": "Retain",
                "Properties": {"RepositoryName": {"Ref": "RepositoryName"}},
            }
        },
        "Outputs": outputs,
    }


def small_app_template(broken=False):
    """Cluster, task definition with the imported repository URI and Version, service judged by its consumer
    lag alarm (a deployment alarm, named as the real one). `broken` adds a service in a cluster that does not
    exist, which moto fails on, to drive the rollback path."""
    image = {
        "Fn::Join": [
            "",
            [{"Fn::ImportValue": {"Fn::Sub": "${RegistryStackName}-RepositoryUri"}}, ":", {"Ref": "Version"}],
        ]
    }
    resources = {
        # With Properties, as in the real template: moto adds an empty one to what it parsed, so a resource
        # without it reads as modified on every update (and moto replaces the cluster).
        "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {}},
        "TaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "kafkajs-canary-app",
                "ContainerDefinitions": [
                    {
                        "Name": "app",
                        "Image": image,
                        "Memory": 512,
                        "Environment": [
                            {"Name": "SENTRY_ENABLED", "Value": {"Ref": "SentryEnabled"}},
                            {"Name": "NODE_CONFIG", "Value": {"Fn::Sub": APP_CONFIGURATION}},
                        ],
                    }
                ],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "ServiceName": "kafkajs-canary-app",
                "TaskDefinition": {"Ref": "TaskDefinition"},
                "DesiredCount": {"Ref": "DesiredCount"},
                "DeploymentConfiguration": {
                    "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                    "Alarms": {"AlarmNames": [{"Fn::Sub": LAG_ALARM}], "Enable": True, "Rollback": True},
                },
            },
        },
        "LagAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": {"Fn::Sub": LAG_ALARM},
                "Metrics": [{"Id": "lag", "Expression": {"Fn::Sub": LAG_QUERY}, "Period": 60, "ReturnData": True}],
                "EvaluationPeriods": 5,
                "DatapointsToAlarm": 5,
                "Threshold": 1000,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "Dimensions": [{"Name": "ServiceName", "Value": {"Fn::GetAtt": ["Service", "Name"]}}],
            },
        },
    }
    if broken:
        resources["BrokenService"] = {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "Cluster": "no-such-cluster",
                "ServiceName": "x",
                "TaskDefinition": {"Ref": "TaskDefinition"},
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            # The real template's constraints: the deployer checks values against them before any call.
            "Version": REAL_APP_PARAMETERS["Version"],
            "RegistryStackName": {"Type": "String", "Default": "RegistryStack"},
            "ParameterPrefix": {"Type": "String", "Default": "/kafkajs-canary-app"},
            "SentryEnabled": REAL_APP_PARAMETERS["SentryEnabled"],
            "SlackEnabled": REAL_APP_PARAMETERS["SlackEnabled"],
            "DesiredCount": REAL_APP_PARAMETERS["DesiredCount"],
            "AlarmEmail": REAL_APP_PARAMETERS["AlarmEmail"],
        },
        "Resources": resources,
        "Outputs": {
            "ClusterName": {"Value": {"Ref": "Cluster"}},
            "ServiceName": {"Value": {"Fn::GetAtt": ["Service", "Name"]}},
            "ImageUri": {"Value": image},
        },
    }


def small_output(directory, registry=None, app=None):
    """The small templates (or the given ones) in `directory`, as generate.py would have written them."""
    templates = {
        TEMPLATE_FILES["registry"]: registry or small_registry_template(),
        TEMPLATE_FILES["app"]: app or small_app_template(),
    }
    write_output(directory, {name: json.dumps(template, indent=2) for name, template in templates.items()})


@pytest.fixture
def small_templates(tmp_path):
    small_output(tmp_path)
    return tmp_path


class Run:
    """Calls main() in-process with captured output, sleeping on the local AWS's stopped clock."""

    def __init__(self, capsys, output_dir, aws):
        self.capsys = capsys
        self.output_dir = output_dir
        self.aws = aws

    @property
    def timing(self):
        return Timing(sleep=self.aws.sleep)

    def __call__(self, *argv):
        console = Console(interactive=False, color=False)
        with self.aws.clock.stopped():
            code = main([*argv, "--output-dir", str(self.output_dir)], console=console, timing=self.timing)
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code


@pytest.fixture
def deploy(small_templates, capsys, aws):
    """Run, on the local AWS's clock stopped for the whole test: its time moves only as the deployer sleeps."""
    with aws.clock.stopped():
        yield Run(capsys, small_templates, aws)


def stack_names(aws):
    return [s["StackName"] for s in aws.client("cloudformation").describe_stacks()["Stacks"]]


def ready_for_app(deploy, aws, version=VERSION, sentry=True, slack=True):
    assert deploy("registry", "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, version)
    seed_parameters(aws.endpoint_url, sentry=sentry, slack=slack)


def test_registry_then_app_are_created_through_change_sets(deploy, aws):
    assert deploy("registry", "--yes", "--version", VERSION) == 0, deploy.err
    repository = aws.client("ecr").describe_repositories()["repositories"][0]
    assert repository["repositoryName"] == "kafkajs-canary-app"
    assert f"docker push {repository['repositoryUri']}:{VERSION}" in deploy.out
    assert "Termination protection enabled on RegistryStack." in deploy.out

    push_image(aws.endpoint_url, VERSION)
    seed_parameters(aws.endpoint_url)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    assert "AppStack.ClusterName = " in deploy.out
    assert "Stack ARN:" in deploy.out
    ecs = aws.client("ecs")
    cluster = deploy.out.split("AppStack.ClusterName = ")[1].split()[0]
    service = ecs.describe_services(cluster=cluster, services=["kafkajs-canary-app"])["services"][0]
    task_definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task_definition["containerDefinitions"][0]["image"] == f"{repository['repositoryUri']}:{VERSION}"
    change_sets = aws.client("cloudformation").list_change_sets(StackName="AppStack")["Summaries"]
    assert [c["ExecutionStatus"] for c in change_sets if c["StackName"] == "AppStack"] == ["EXECUTE_COMPLETE"]


def test_no_change_redeploy_exits_zero(deploy, aws):
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    assert "✅  AppStack (no changes)" in deploy.out
    assert deploy("registry") == 0
    assert "✅  RegistryStack (no changes)" in deploy.out


def test_a_release_shows_the_image_change_runs_without_confirmation_and_the_service_runs_it(deploy, aws):
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, "1.16.1")
    # no --yes and no terminal: a routine release needs no confirmation
    assert deploy("app", "--version", "1.16.1", "--outputs-file", str(deploy.output_dir / "out.json")) == 0, deploy.err
    assert f"  Version  {VERSION} → 1.16.1\n" in deploy.out
    assert f"      image …:{VERSION} → …:1.16.1 (routine release: only the image tag changes)" in deploy.out
    assert "  Modify  Service         AWS::ECS::Service         False\n" in deploy.out
    assert "task-definition/kafkajs-canary-app:1 → (new TaskDefinition)" in deploy.out
    ecs = aws.client("ecs")
    cluster = deploy.out.split("AppStack.ClusterName = ")[1].split()[0]
    service = ecs.describe_services(cluster=cluster, services=["kafkajs-canary-app"])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert definition["containerDefinitions"][0]["image"].endswith(":1.16.1")
    outputs = json.loads((deploy.output_dir / "out.json").read_text())
    assert set(outputs["AppStack"]) == {"ClusterName", "ServiceName", "ImageUri"}


def test_a_broken_release_is_shown_as_ecs_stops_its_tasks_and_rolled_back_with_their_reason(deploy, aws):
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, "2.0.0-arm64", platform="linux/arm64")  # built on an arm64 laptop

    assert deploy("app", "--version", "2.0.0-arm64") == 1
    pull_error = "CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not"
    assert "  ECS  task " in deploy.out and f"stopped: {pull_error}" in deploy.out
    assert "rollout IN_PROGRESS: new kafkajs-canary-app:2 0/1 running" in deploy.out
    root_cause = deploy.out.split("Root cause:")[1]
    assert "ECS Deployment Circuit Breaker was triggered" in root_cause
    assert "3 task(s) of the new deployment stopped:" in root_cause and pull_error in root_cause
    assert "the stack is UPDATE_ROLLBACK_COMPLETE; tasks stopped: CannotPullContainerError" in deploy.err

    assert deploy("app", "--version", "2.0.0-arm64", "--cancel-after-failed-tasks", "1") == 1
    assert "(--cancel-after-failed-tasks 1): cancelling the update of AppStack" in deploy.out
    assert "Service (AWS::ECS::Service) UPDATE_FAILED: Resource update cancelled" in deploy.out
    assert deploy("status", "app") == 0
    assert f"  running image: {REPOSITORY_URI}:{VERSION} (kafkajs-canary-app:1)" in deploy.out
    assert "  last stopped tasks:\n" in deploy.out and "CannotPullContainerError" in deploy.out


@pytest.mark.parametrize(
    "optional, switch, consequence",
    [
        ("sentry", "SentryEnabled", "the app reports no errors to Sentry"),
        ("slack", "SlackEnabled", "alarms reach no Slack channel"),
    ],
)
def test_a_missing_optional_parameter_deploys_with_its_feature_off(deploy, aws, optional, switch, consequence):
    ready_for_app(deploy, aws, **{optional: False})
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    assert f"not found: deploying with {switch}=false ({consequence})" in deploy.out
    assert deploy.out.count("not found: deploying with") == 1
    parameters = aws.client("cloudformation").describe_stacks(StackName="AppStack")["Stacks"][0]["Parameters"]
    assert {"ParameterKey": switch, "ParameterValue": "false"} in parameters
    # Created later, the parameter does not switch the feature on behind the operator's back: it is pointed out.
    seed_parameters(aws.endpoint_url)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    assert f"exists but the stack keeps {switch}=false: pass --parameter {switch}=true" in deploy.out
    assert stack_parameters(aws)[switch] == "false"


def stack_parameters(aws, stack_name="AppStack"):
    stack = aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def service_desired_count(aws):
    stack = aws.client("cloudformation").describe_stacks(StackName="AppStack")["Stacks"][0]
    cluster = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["ClusterName"]
    service = aws.client("ecs").describe_services(cluster=cluster, services=["kafkajs-canary-app"])["services"][0]
    return service["desiredCount"]


def test_release_with_only_version_keeps_operator_settings(deploy, aws):
    ready_for_app(deploy, aws)
    operator_settings = ("--parameter", "AlarmEmail=ops@example.com", "--parameter", "DesiredCount=2")
    assert deploy("app", "--version", VERSION, "--yes", *operator_settings) == 0, deploy.err
    push_image(aws.endpoint_url, "1.16.1")

    assert deploy("app", "--version", "1.16.1", "--yes") == 0, deploy.err

    parameters = stack_parameters(aws)
    assert (parameters["AlarmEmail"], parameters["DesiredCount"], parameters["Version"]) == (
        "ops@example.com",
        "2",
        "1.16.1",
    )
    assert service_desired_count(aws) == 2
    # Before execution, only what changes is listed.
    assert f"Parameter changes for AppStack (1):\n  Version  {VERSION} → 1.16.1\n" in deploy.out


def tunable_registry_template():
    """The small registry with two knobs: an update that changes only outputs, cheap to make and to read."""
    template = small_registry_template()
    template["Parameters"]["Knob"] = {"Type": "String", "Default": "1"}
    template["Parameters"]["Mode"] = {"Type": "String", "Default": "a", "AllowedValues": ["a", "b"]}
    template["Outputs"]["Knob"] = {"Value": {"Ref": "Knob"}}
    template["Outputs"]["Mode"] = {"Value": {"Ref": "Mode"}}
    return template


def registry_outputs(aws):
    stack = aws.client("cloudformation").describe_stacks(StackName="RegistryStack")["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def test_parameters_file_configures_and_flags_win_over_it(deploy, aws):
    small_output(deploy.output_dir, registry=tunable_registry_template())
    settings = deploy.output_dir / "prod.json"
    settings.write_text(json.dumps({"Knob": 3, "Mode": "b"}))
    argv = ("registry", "--yes", "--parameters-file", str(settings))
    assert deploy(*argv, "--parameter", "Knob=4") == 0, deploy.err
    assert (registry_outputs(aws)["Knob"], registry_outputs(aws)["Mode"]) == ("4", "b")

    settings.write_text(json.dumps({"Knob": 3, "Mode": "a"}))
    assert deploy(*argv) == 0, deploy.err
    assert "Parameter changes for RegistryStack (2):\n  Knob  4 → 3\n  Mode  b → a\n" in deploy.out
    assert (registry_outputs(aws)["Knob"], registry_outputs(aws)["Mode"]) == ("3", "a")


def test_parameter_new_to_the_stack_takes_its_default(deploy, aws):
    assert deploy("registry", "--yes") == 0, deploy.err
    small_output(deploy.output_dir, registry=tunable_registry_template())

    assert deploy("registry", "--yes", "--parameter", "Mode=b") == 0, deploy.err

    assert (registry_outputs(aws)["Knob"], registry_outputs(aws)["Mode"]) == ("1", "b")
    assert "  Knob  (not set) → 1\n  Mode  (not set) → b\n" in deploy.out


@pytest.mark.parametrize(
    "setup, argv, message",
    [
        (
            "registry+params",
            ("--version", "9.9.9"),
            "image 123456789012.dkr.ecr.us-east-1.amazonaws.com/kafkajs-canary-app:9.9.9 is not in ECR: push it with `docker push",
        ),
        (
            "registry+image",
            ("--version", VERSION),
            # The broker address is a plain String, the credentials SecureStrings: each command says which.
            "create them with `aws ssm put-parameter --type String --name /kafkajs-canary-app/kafka-host --value ...`, "
            "`aws ssm put-parameter --type SecureString --name /kafkajs-canary-app/kafka-username --value ...`",
        ),
        (
            "nothing",
            ("--version", VERSION),
            "registry stack RegistryStack does not exist: run `python deploy.py registry`",
        ),
        (
            "nothing",
            ("--version", "-bad"),
            "--version '-bad' is not valid for AppStack.json: Version must be an image tag",
        ),
        ("nothing", ("--version", "a" * 129), "Version must be an image tag"),
        (
            "nothing",
            ("--parameter", "DesiredCount=99"),
            "--parameter DesiredCount=99 is not valid for AppStack.json: DesiredCount must be at most 10",
        ),
    ],
)
def test_preflight_failures_exit_2_and_change_nothing(deploy, aws, setup, argv, message):
    if setup.startswith("registry"):
        assert deploy("registry", "--yes") == 0
    if setup == "registry+params":
        seed_parameters(aws.endpoint_url)
    if setup == "registry+image":
        push_image(aws.endpoint_url, VERSION)
    before = stack_names(aws)
    flag, value = argv
    version = [] if flag == "--version" else ["--version", VERSION]
    assert deploy("app", f"{flag}={value}", *version, "--yes") == 2
    assert message in deploy.err
    assert deploy.err.count("\n") == 1 and "Traceback" not in deploy.err
    assert stack_names(aws) == before


def test_failing_stack_rolls_back_then_next_deploy_recreates_it(deploy, aws):
    ready_for_app(deploy, aws)
    small_output(deploy.output_dir, app=small_app_template(broken=True))
    assert deploy("app", "--version", VERSION, "--yes") == 1
    assert "Root cause:" in deploy.out and "BrokenService" in deploy.out.split("Root cause:")[1]
    assert "AppStack deployment failed: the stack is ROLLBACK_COMPLETE" in deploy.err
    cfn = aws.client("cloudformation")
    assert cfn.describe_stacks(StackName="AppStack")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"

    small_output(deploy.output_dir)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    assert "ROLLBACK_COMPLETE (its creation failed, it holds nothing): deleting it" in deploy.out
    assert cfn.describe_stacks(StackName="AppStack")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


@pytest.mark.parametrize(
    "status, message",
    [
        (
            "UPDATE_IN_PROGRESS",
            "AppStack is UPDATE_IN_PROGRESS: wait for it (`python deploy.py status app`) or rerun with --wait",
        ),
        ("UPDATE_ROLLBACK_FAILED", "run `aws cloudformation continue-update-rollback --stack-name AppStack`"),
    ],
)
def test_stack_in_progress_or_failed_rollback_is_refused(deploy, aws, status, message):
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0
    # moto finishes every operation synchronously: put the stack into the state a slow or failed update leaves.
    cfn = aws.client("cloudformation")
    stack_id = cfn.describe_stacks(StackName="AppStack")["Stacks"][0]["StackId"]
    from moto.cloudformation.models import cloudformation_backends

    cloudformation_backends["123456789012"]["us-east-1"].stacks[stack_id].status = status
    push_image(aws.endpoint_url, "2.0.0")
    assert deploy("app", "--version", "2.0.0", "--yes") == 2
    assert message in deploy.err
    assert cfn.describe_stacks(StackName="AppStack")["Stacks"][0]["StackStatus"] == status


def assert_slack_notifier_is_subscribed(aws):
    """The notifier function exists with the webhook parameter's name (never its value) in its environment,
    and is subscribed to the alerts topic."""
    resources = aws.client("cloudformation").describe_stack_resources(StackName="AppStack")["StackResources"]
    # moto lists the resources it does not model (the alarms) as entries without ids.
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources if "LogicalResourceId" in r}
    function = aws.client("lambda").get_function(FunctionName=physical["SlackNotifier"])["Configuration"]
    assert function["Environment"]["Variables"] == {"WEBHOOK_URL_PARAMETER": "/kafkajs-canary-app/slack-webhook-url"}
    subscriptions = aws.client("sns").list_subscriptions_by_topic(TopicArn=physical["AlertsTopic"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("lambda", function["FunctionArn"])]


def test_real_templates_deploy_from_output(aws, capsys):
    """output/ as generate.py wrote it (stale check against templates/ included): both stacks, a no-change
    redeploy, `destroy app`, which deletes everything in the VPC but what is retained, the app again beside
    its retained logs, then `destroy registry` and `registry` again, which adopts the retained repository."""
    run = Run(capsys, PROJECT_ROOT / "output", aws)
    assert run("registry", "--yes") == 0, run.err
    push_image(aws.endpoint_url, VERSION)
    seed_parameters(aws.endpoint_url)
    assert run("app", "--version", VERSION, "--yes") == 0, run.err
    for key in ("ClusterName", "ServiceName", "LogGroupName", "AlertsTopicArn", "ImageUri"):
        assert f"AppStack.{key} = " in run.out
    assert f"AppStack.ImageUri = 123456789012.dkr.ecr.us-east-1.amazonaws.com/kafkajs-canary-app:{VERSION}" in run.out
    assert_slack_notifier_is_subscribed(aws)
    assert run("app", "--version", VERSION, "--yes") == 0
    assert "✅  AppStack (no changes)" in run.out
    app = aws.client("cloudformation").describe_stacks(StackName="AppStack")["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in app["Outputs"]}
    log_group, cluster = outputs["LogGroupName"], outputs["ClusterName"]

    assert run("destroy", "app", "--yes") == 0, run.err
    assert "✅  AppStack destroyed" in run.out and stack_names(aws) == ["RegistryStack"]
    ec2 = aws.client("ec2")
    assert [vpc["IsDefault"] for vpc in ec2.describe_vpcs()["Vpcs"]] == [True], "the VPC and all in it are gone"
    assert ec2.describe_internet_gateways()["InternetGateways"] == [] and ec2.describe_addresses()["Addresses"] == []
    assert aws.client("ecs").describe_clusters(clusters=[cluster])["clusters"][0]["status"] == "INACTIVE"
    retained = aws.client("logs").describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]
    assert [group["logGroupName"] for group in retained] == [log_group], "DeletionPolicy Retain"
    assert "DELETE_SKIPPED               AWS::Logs::LogGroup" in run.out
    # Created again, the stack logs to new log groups: creating one named like a retained one would fail.
    assert run("app", "--version", VERSION, "--yes") == 0, run.err
    app = aws.client("cloudformation").describe_stacks(StackName="AppStack")["Stacks"][0]
    new_log_group = next(o["OutputValue"] for o in app["Outputs"] if o["OutputKey"] == "LogGroupName")
    assert new_log_group != log_group and new_log_group.startswith("AppStack-app-")
    assert run("destroy", "app", "--yes") == 0, run.err

    # The registry goes too, its repository and images retained; deployed again, the stack adopts them.
    assert run("destroy", "registry", "--yes") == 0, run.err
    assert run("registry", "--yes") == 0, run.err
    assert "the ECR repository kafkajs-canary-app exists already" in run.out
    assert "Import  Repository  AWS::ECR::Repository" in run.out
    assert "RegistryStack.RepositoryUri = 123456789012.dkr.ecr.us-east-1.amazonaws.com/kafkajs-canary-app" in run.out
    images = aws.client("ecr").describe_images(repositoryName="kafkajs-canary-app")["imageDetails"]
    assert [image["imageTags"] for image in images] == [[VERSION]]


def repository_mutability(aws) -> tuple[str, list[str], object]:
    """What ECR itself reports of the registry's repository: its tag mutability, the tags its exclusion
    filters leave mutable, and when it was created (a replaced repository would be newer)."""
    (repository,) = aws.client("ecr").describe_repositories(repositoryNames=["kafkajs-canary-app"])["repositories"]
    excluded = [rule["filter"] for rule in repository.get("imageTagMutabilityExclusionFilters", [])]
    return repository["imageTagMutability"], excluded, repository["createdAt"]


def test_latest_tag_none_makes_every_tag_immutable_and_an_existing_registry_switches_in_place(aws, capsys):
    """The registry for an account that enforces CT.ECR.PR.3 (LatestTag=none) is IMMUTABLE as ECR reports it;
    a registry made with `latest` moving switches to none in place: the review shows the repository modified
    without replacement, and its images stay."""
    run = Run(capsys, PROJECT_ROOT / "output", aws)
    assert run("registry", "--yes", "--parameter", "LatestTag=none") == 0, run.err
    assert repository_mutability(aws)[:2] == ("IMMUTABLE", [])
    assert run("registry", "--yes", "--parameter", "LatestTag=mutable") == 0, run.err
    assert repository_mutability(aws)[:2] == ("IMMUTABLE_WITH_EXCLUSION", ["latest"])
    push_image(aws.endpoint_url, VERSION)
    created = repository_mutability(aws)[2]

    assert run("registry", "--parameter", "LatestTag=none") == 0, run.err  # no --yes: nothing to confirm
    assert "  LatestTag  mutable → none\n" in run.out
    assert "  Modify  Repository  AWS::ECR::Repository  False\n" in run.out
    assert "      ImageTagMutability: IMMUTABLE_WITH_EXCLUSION → IMMUTABLE\n" in run.out
    assert repository_mutability(aws) == ("IMMUTABLE", [], created)
    images = aws.client("ecr").describe_images(repositoryName="kafkajs-canary-app")["imageDetails"]
    assert [image["imageTags"] for image in images] == [[VERSION]]
    # A later deploy that does not name it keeps the stack's value.
    assert run("registry") == 0, run.err
    assert "✅  RegistryStack (no changes)" in run.out and repository_mutability(aws) == ("IMMUTABLE", [], created)


def test_retained_repository_is_adopted_only_once_confirmed(deploy, aws):
    assert deploy("registry", "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, VERSION)
    assert deploy("destroy", "registry", "--yes") == 0, deploy.err

    assert deploy("registry") == 2  # no terminal, no --yes
    assert "Import  Repository  AWS::ECR::Repository" in deploy.out and "⚠ import of an existing resource" in deploy.out
    assert "flagged change(s) need confirmation and there is no terminal: rerun with --yes" in deploy.err
    assert stack_names(aws) == []

    assert deploy("registry", "--yes") == 0, deploy.err
    assert stack_names(aws) == ["RegistryStack"]
    resource = aws.client("cloudformation").describe_stack_resource(
        StackName="RegistryStack", LogicalResourceId="Repository"
    )
    assert resource["StackResourceDetail"]["PhysicalResourceId"] == "kafkajs-canary-app"
    assert aws.client("ecr").describe_images(repositoryName="kafkajs-canary-app")["imageDetails"][0]["imageTags"] == [
        VERSION
    ]
    assert "RegistryStack.RepositoryName = kafkajs-canary-app" in deploy.out


def test_repository_made_by_hand_is_adopted_after_the_creation_rolls_back(deploy, aws):
    """Only a deleted or rolled-back stack can have retained one, so ECR is not asked before a first deploy."""
    aws.client("ecr").create_repository(repositoryName="kafkajs-canary-app")

    assert deploy("registry", "--yes") == 1
    assert "RegistryStack deployment failed: the stack is ROLLBACK_COMPLETE" in deploy.err
    assert deploy("registry", "--yes") == 0, deploy.err
    assert "RegistryStack is ROLLBACK_COMPLETE" in deploy.out and "through an IMPORT change set" in deploy.out
    assert "RegistryStack.RepositoryName = kafkajs-canary-app" in deploy.out


@pytest.mark.parametrize("answer, code", [("n\n", 2), ("y\n", 0)])
def test_flagged_changes_are_confirmed_on_a_terminal(deploy, aws, capsys, answer, code):
    small_output(deploy.output_dir, registry=registry_template_with_role())
    console = Console(stdin=io.StringIO(answer), interactive=True, color=False)
    assert main(["registry", "--output-dir", str(deploy.output_dir)], console=console) == code
    assert "flagged (⚠). Execute the change set? [y/N]" in capsys.readouterr().out
    assert stack_names(aws) == (["RegistryStack"] if code == 0 else [])


def test_dry_run_shows_changes_and_leaves_account_untouched(deploy, aws):
    assert deploy("registry", "--dry-run") == 0
    assert "Add     Repository  AWS::ECR::Repository" in deploy.out
    assert "Dry run: RegistryStack not changed" in deploy.out
    assert stack_names(aws) == []
    assert aws.client("ecr").describe_repositories()["repositories"] == []


def test_diff_previews_a_tag_not_pushed_yet_and_only_an_execution_needs_it(deploy, aws):
    ready_for_app(deploy, aws)
    assert deploy("diff", "app") == 2
    assert "AppStack is not deployed yet: pass --version TAG to preview it" in deploy.err
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    assert deploy("diff", "app") == 0, deploy.err  # the deployed version is kept: nothing to do
    assert "✅  AppStack (no changes)" in deploy.out

    assert deploy("diff", "app", "--version", "9.9.9") == 0, deploy.err
    assert "kafkajs-canary-app:9.9.9 is not in ECR yet: previewing anyway; to deploy it, push it with" in deploy.out
    assert f"image …:{VERSION} → …:9.9.9 (routine release: only the image tag changes)" in deploy.out
    assert "Dry run: AppStack not changed (change set deleted)." in deploy.out
    assert deploy("app", "--version", "9.9.9", "--yes") == 2
    assert "kafkajs-canary-app:9.9.9 is not in ECR: push it with" in deploy.err
    summaries = aws.client("cloudformation").list_change_sets(StackName="AppStack")["Summaries"]
    assert [s["ExecutionStatus"] for s in summaries if s["StackName"] == "AppStack"] == ["EXECUTE_COMPLETE"]


def registry_template_with_role():
    template = small_registry_template()
    template["Resources"]["Role"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
    }
    return template


def test_flagged_changes_without_terminal_or_yes_are_refused(deploy, aws):
    small_output(deploy.output_dir, registry=registry_template_with_role())
    assert deploy("registry") == 2
    assert "Role" in deploy.out and "⚠ IAM" in deploy.out
    assert "flagged change(s) need confirmation and there is no terminal: rerun with --yes" in deploy.err
    assert stack_names(aws) == []


def test_template_edited_after_generate_is_refused(deploy, aws):
    (deploy.output_dir / "RegistryStack.json").write_text("{}")
    assert deploy("registry") == 2
    assert "RegistryStack.json differs from what generate.py wrote: run `python generate.py`" in deploy.err
    assert stack_names(aws) == []


def deploy_py(*argv):
    """`python deploy.py` itself, inheriting the `aws` fixture's AWS_* variables."""
    command = [sys.executable, str(PROJECT_ROOT / "deploy.py"), *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_entry_point_deploys_the_registry(aws):
    result = deploy_py("registry", "--yes")
    assert result.returncode == 0, result.stderr
    assert (
        "RegistryStack.RepositoryUri = 123456789012.dkr.ecr.us-east-1.amazonaws.com/kafkajs-canary-app" in result.stdout
    )
    assert stack_names(aws) == ["RegistryStack"]


def test_output_closed_by_its_reader_ends_quietly_with_141_as_unix_tools_do(aws):
    """`deploy.py status app | head`: once head has read enough, the next line has nowhere to go."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # before deploy.py writes anything: its first line already meets a closed pipe
    command = [sys.executable, str(PROJECT_ROOT / "deploy.py"), "status", "app"]
    try:
        result = subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "")


def test_entry_point_bad_version_exits_2_without_traceback(aws):
    result = deploy_py("app", "--version", "bad tag!")
    assert result.returncode == 2
    assert "Version must be an image tag" in result.stderr and "Traceback" not in result.stderr


def test_status_tells_what_ecs_runs_warns_when_it_is_not_the_stacks_image_and_watches(deploy, aws, environments_file):
    environments_file(None)  # no environments.toml: `status` is both stacks' as it always was
    assert deploy("status") == 0
    assert "RegistryStack: not deployed" in deploy.out and "AppStack: not deployed" in deploy.out
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0
    assert deploy("status", "app") == 0, deploy.err
    assert "AppStack: CREATE_COMPLETE (succeeded), created " in deploy.out
    assert "ECS service kafkajs-canary-app (ACTIVE): 1/1 running, 0 pending; rollout COMPLETED" in deploy.out
    assert f"  running image: {REPOSITORY_URI}:{VERSION} (kafkajs-canary-app:1)" in deploy.out
    assert "⚠" not in deploy.out

    # someone points the service at another image with the ECS API, behind CloudFormation's back
    push_image(aws.endpoint_url, "hotfix")
    ecs = aws.client("ecs")
    cluster = deploy.out.split("AppStack.ClusterName = ")[1].split()[0]
    hotfix = ecs.register_task_definition(
        family="kafkajs-canary-app",
        containerDefinitions=[{"name": "app", "image": f"{REPOSITORY_URI}:hotfix", "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=cluster, service="kafkajs-canary-app", taskDefinition=hotfix)
    ticks = iter(range(3))

    def sleep(seconds):
        if next(ticks) == 2:  # Ctrl-C during the third wait ends the watch
            raise KeyboardInterrupt
        aws.sleep(seconds)

    console = Console(interactive=False, color=False)
    assert main(["status", "app", "--watch"], console=console, timing=Timing(sleep=sleep)) == 0
    out = deploy.capsys.readouterr().out
    refreshes = out.split("(refreshing every 5 s, Ctrl-C to stop)")
    assert len(refreshes) == 4 and out.rstrip().endswith("stopped watching")
    # At once the hotfix's task is pending; 5 s later it runs and the deployment bakes; then ECS runs it.
    assert "rollout IN_PROGRESS: new kafkajs-canary-app:2 0/1 running, 1 pending" in refreshes[1]
    assert (
        "a rollout is in progress: the old tasks run until the new ones do; changed outside CloudFormation"
        in (refreshes[2])
    )
    assert f"  ⚠ ECS runs {REPOSITORY_URI}:hotfix, not the stack's ImageUri {REPOSITORY_URI}:{VERSION}" in refreshes[3]
    assert "changed outside CloudFormation: the service deploys kafkajs-canary-app:2, the stack's task " in refreshes[3]


def test_destroy_registry_refused_while_any_app_imports_then_all_destroyed(deploy, aws):
    """Every stack that imports the registry's exports (ListImports), not only the app stack in use, each
    with the command that destroys it."""
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0
    assert deploy("--app-stack-name", "OtherApp", "app", "--version", VERSION, "--yes") == 0
    assert deploy("destroy", "registry", "--yes") == 2
    assert deploy.err.strip() == (
        "❌ RegistryStack's exports are imported by AppStack, OtherApp: destroy them first (`python deploy.py "
        "destroy app`, `python deploy.py --app-stack-name OtherApp destroy app`)"
    )
    assert deploy("destroy", "app") == 2
    assert "rerun with --yes" in deploy.err
    assert deploy("destroy", "app", "--yes") == 0, deploy.err
    assert "✅  AppStack destroyed" in deploy.out
    assert deploy("destroy", "registry", "--yes") == 2
    assert "RegistryStack's exports are imported by OtherApp: destroy it first" in deploy.err
    assert deploy("--app-stack-name", "OtherApp", "destroy", "app", "--yes") == 0, deploy.err
    assert deploy("destroy", "registry", "--yes") == 0, deploy.err
    assert "repository kafkajs-canary-app and its images are retained" in deploy.out
    assert stack_names(aws) == []
    assert aws.client("ecr").describe_repositories()["repositories"][0]["repositoryName"] == "kafkajs-canary-app"


def test_a_stack_that_imports_the_registry_after_the_check_keeps_it_and_destroy_says_why(deploy, aws, on_call):
    """Between ListImports and DeleteStack another stack starts importing: CloudFormation does not delete the
    registry (it ends where it started), and destroy says so instead of waiting for DELETE_COMPLETE."""
    assert deploy("registry", "--yes") == 0, deploy.err
    importer = {
        "Resources": {
            "Uri": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": "/late-app/image",
                    "Type": "String",
                    "Value": {"Fn::ImportValue": "RegistryStack-RepositoryUri"},
                },
            }
        }
    }

    def another_stack_imports(**_):
        aws.client("cloudformation").create_stack(StackName="LateApp", TemplateBody=json.dumps(importer))

    on_call("before-call.cloudformation.DeleteStack", another_stack_imports)
    assert deploy("destroy", "registry", "--yes") == 1
    assert deploy.err.strip() == (
        "❌ RegistryStack not deleted: Export RegistryStack-RepositoryUri cannot be deleted as it is in use by "
        "LateApp; it is still CREATE_COMPLETE"
    )
    assert sorted(stack_names(aws)) == ["LateApp", "RegistryStack"]


def test_template_over_51200_bytes_goes_through_s3_bucket(deploy, aws):
    template = small_registry_template()
    template["Metadata"] = {"Padding": "x" * 52_000}
    small_output(deploy.output_dir, registry=template)
    assert deploy("registry", "--yes") == 2
    assert "pass --s3-bucket BUCKET" in deploy.err
    aws.client("s3").create_bucket(Bucket="templates-bucket")
    assert deploy("registry", "--yes", "--s3-bucket", "templates-bucket") == 0, deploy.err
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket="templates-bucket")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("RegistryStack/")
    assert aws.client("ecr").describe_repositories()["repositories"][0]["repositoryName"] == "kafkajs-canary-app"


def test_unwritable_outputs_file_is_one_line(deploy, aws):
    assert deploy("registry", "--yes", "--outputs-file", str(deploy.output_dir / "missing" / "out.json")) == 2
    assert "its directory does not exist" in deploy.err and deploy.err.count("\n") == 1
    assert stack_names(aws) == []


# --- The canary's verdict (--verify, status) --------------------------------------------------------------

LAG_REASON = (
    "Threshold Crossed: 5 datapoints [4810.0, 5120.0, 5388.0, 5602.0, 5911.0] were greater than the threshold (1000.0)."
)
# The verdict line ends the alarm's reason without its final period, before "; ECS ...".
LAG_SHOWN = LAG_REASON.removesuffix(".")


def verify_run(deploy, *argv, at=None, program="python deploy.py"):
    """main() as `deploy` runs it, with a clock that moves only when the deployer sleeps (and the local AWS's
    with it). at=(text, action): the action runs at the first sleep after `text` is printed, as someone
    watching would act; a list of them runs each in turn, one per sleep. `program`: how the user ran
    deploy.py, which hints repeat."""
    out, err = io.StringIO(), io.StringIO()
    now, pending = [0.0], list(at) if isinstance(at, list) else [at] if at else []

    def sleep(seconds):
        now[0] += seconds
        deploy.aws.sleep(seconds)
        if pending and pending[0][0] in out.getvalue():
            pending.pop(0)[1]()

    console = Console(out=out, err=err, interactive=False, color=False)
    argv = [*argv, "--output-dir", str(deploy.output_dir)]
    with deploy.aws.clock.stopped():
        code = main(argv, console=console, program=program, timing=Timing(lambda: now[0], sleep))
    return code, out.getvalue(), err.getvalue()


def ctrl_c():
    raise KeyboardInterrupt


SERVICE = "kafkajs-canary-app"


def cluster_name(aws):
    (arn,) = aws.client("ecs").list_clusters()["clusterArns"]
    return arn.rsplit("/", 1)[-1]


def lag_alarm(aws, state, name="AppStack-consumer-lag"):
    """Sets a lag alarm's state as CloudWatch would: ALARM once the consumer falls behind, OK once it caught up."""
    caught_up = "Threshold Crossed: 1 datapoint [12.0] was not greater than the threshold (1000.0)."
    reason = LAG_REASON if state == "ALARM" else caught_up
    aws.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


def alarm_since(aws):
    """When the lag alarm entered its state, as the deployer shows it (the machine's time zone)."""
    (alarm,) = aws.client("cloudwatch").describe_alarms(AlarmNames=["AppStack-consumer-lag"])["MetricAlarms"]
    return f"{alarm['StateTransitionedTimestamp'].astimezone():%H:%M:%S}"


def test_verify_ends_on_ecs_decision_with_the_lag_and_ctrl_c_detaches(deploy, aws):
    ready_for_app(deploy, aws)
    # A service's first deployment: ECS watches none of its alarms (they are created after it), so --verify
    # watches them itself up to the template's upper bound. The app publishes once it consumes; Ctrl-C detaches.
    consumes = ("Verifying the canary", lambda: CanaryApp(aws.endpoint_url).publish_lag("AppStack", 3, 12, 7))
    code, out, err = verify_run(
        deploy, "app", "--version", VERSION, "--yes", "--verify", at=[consumes, ("Verifying the canary", ctrl_c)]
    )
    assert code == 130, out + err
    assert re.search(
        rf"Verifying the canary on {VERSION} until ECS decides, at most 12m\d\ds \(upper bound 12m45s from its "
        r"deployment's start\); deployment alarms: AppStack-consumer-lag",
        out,
    ), out
    assert re.search(r"\n  the consumer lags +by \d\d:\d\d:\d\d: AppStack-consumer-lag \(5 of 5 x 1 min\)", out)
    assert err.strip() == (
        f"❌ detached: canary on {VERSION} not judged yet: detached after 10s (max lag 12, tasks 1/1); ECS and the "
        "alarms go on judging it: check later with `python deploy.py status app`"
    )

    # A release: CloudFormation waited for ECS to complete its deployment, alarms watched through the bake.
    push_image(aws.endpoint_url, "1.16.1")
    verdict_file = deploy.output_dir / "verdict.json"
    code, out, err = verify_run(deploy, "app", "--version", "1.16.1", "--verify", "--verdict-file", str(verdict_file))
    assert code == 0, out + err
    healthy = out.rstrip().splitlines()[-1]
    assert re.fullmatch(
        r"✅ canary healthy on 1\.16\.1: ECS marked its deployment SUCCESSFUL after \ds \(upper bound 12m45s\), and "
        r"no deployment alarm fired since it started \(max lag 12, tasks 1/1\)",
        healthy,
    ), healthy
    assert json.loads(verdict_file.read_text()) == {
        "version": "1.16.1",
        "outcome": "healthy",
        "verdict": healthy,
        "cause": "",
        "consequence": "",
        "watched_seconds": 0,
        "max_lag": 12.0,
        "running_tasks": 1,
        "desired_tasks": 1,
    }
    assert deploy("status", "app") == 0, deploy.err
    assert "Deployment alarms (ECS judges each release by them):\n  AppStack-consumer-lag  OK" in deploy.out
    assert "Last release: ✅ canary healthy on 1.16.1: ECS marked its deployment SUCCESSFUL after " in deploy.out


def test_a_release_whose_lag_alarm_fires_is_rolled_back_by_ecs_exits_3_and_status_tells(deploy, aws):
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    push_image(aws.endpoint_url, "1.17.0-beta.1")

    running = "new kafkajs-canary-app:2 1/1 running"
    verdict_file = deploy.output_dir / "verdict.json"
    code, out, err = verify_run(
        deploy,
        *("app", "--version", "1.17.0-beta.1", "--verify", "--verdict-file", str(verdict_file)),
        at=(running, lambda: lag_alarm(aws, "ALARM")),  # as CloudWatch would, once the new KafkaJS falls behind
    )
    assert code == 3, out + err
    failed = f"canary failed on 1.17.0-beta.1: AppStack-consumer-lag {LAG_SHOWN}; ECS rolled back to {VERSION}"
    assert err.strip() == f"❌ {failed}"
    assert json.loads(verdict_file.read_text())["verdict"] == f"❌ {failed}"
    assert "Service (AWS::ECS::Service) UPDATE_FAILED" in out.split("Root cause:")[1]
    assert deploy("status", "app") == 0, deploy.err
    assert f"Last release: ❌ {failed}" in deploy.out
    assert "  AppStack-consumer-lag  ALARM since " in deploy.out


def test_a_release_right_after_a_failed_one_is_refused_while_its_alarm_is_in_alarm(deploy, aws):
    """ECS watches no alarm of a deployment that starts while one is in ALARM: the release would go unjudged."""
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    lag_alarm(aws, "ALARM")  # left in ALARM by a bad beta that ECS rolled back
    push_image(aws.endpoint_url, "1.17.0-beta.2")
    ecs = aws.client("ecs")
    deployments_before = len(
        ecs.list_service_deployments(cluster=cluster_name(aws), service=SERVICE)["serviceDeployments"]
    )

    assert deploy("app", "--version", "1.17.0-beta.2", "--verify") == 2
    (refusal,) = deploy.err.splitlines()
    assert refusal == (
        f"❌ AppStack-consumer-lag is in ALARM since {alarm_since(aws)} ({LAG_SHOWN}): ECS would not judge this "
        "release (it watches no deployment alarm for a deployment that starts while one is in ALARM); wait until "
        "it is OK (`python deploy.py status app` shows the alarms, --wait-for-alarms MINUTES waits for it), or pass "
        "--allow-unjudged to release it unjudged"
    )
    assert aws.client("cloudformation").list_change_sets(StackName="AppStack")["Summaries"][-1]["ExecutionStatus"] == (
        "EXECUTE_COMPLETE"  # only the first deploy's: no change set was made
    )
    # A preview shows the alarms and what deploying would do, and refuses nothing.
    for preview in (("app", "--version", "1.17.0-beta.2", "--dry-run"), ("diff", "app", "--version", "1.17.0-beta.2")):
        assert deploy(*preview) == 0, deploy.err
        assert "  AppStack-consumer-lag  ALARM since " in deploy.out
        assert "deploying now would be refused without --allow-unjudged" in deploy.out

    # With the override the release deploys unjudged: ECS does not roll it back, and --verify never calls it
    # healthy: not judged (exit 5) while the alarm stays in ALARM ...
    code, out, err = verify_run(deploy, "app", "--version", "1.17.0-beta.2", "--allow-unjudged", "--verify", "0.1")
    assert code == 5, out + err
    assert "deploying anyway (--allow-unjudged): ECS will not judge this release nor roll it back" in out
    assert err.strip() == (
        "❌ canary not judged on 1.17.0-beta.2: AppStack-consumer-lag was in ALARM when its deployment started, so "
        "ECS watched none of its alarms and they cannot tell it from the version before; none went to ALARM in 6s "
        "(no OffsetLag reported, tasks 1/1)"
    )
    briefs = ecs.list_service_deployments(cluster=cluster_name(aws), service=SERVICE)["serviceDeployments"]
    assert len(briefs) == deployments_before + 1
    (release,) = ecs.describe_service_deployments(serviceDeploymentArns=[briefs[-1]["serviceDeploymentArn"]])[
        "serviceDeployments"
    ]
    assert (release["status"], release["alarms"]["status"]) == ("SUCCESSFUL", "DISABLED")

    # ... and failed by the alarm's own history once it goes OK, then ALARM again while the release runs.
    push_image(aws.endpoint_url, "1.17.0-beta.3")

    def lag_clears_then_fires_again():
        lag_alarm(aws, "OK")
        lag_alarm(aws, "ALARM")

    code, out, err = verify_run(
        deploy,
        *("app", "--version", "1.17.0-beta.3", "--allow-unjudged", "--verify", "0.5"),
        at=("Verifying the canary", lag_clears_then_fires_again),
    )
    assert code == 3, out + err
    assert err.strip() == (
        f"❌ canary failed on 1.17.0-beta.3: AppStack-consumer-lag {LAG_SHOWN}; ECS did not roll back (its "
        "deployment had completed); roll back with `python deploy.py app --version 1.17.0-beta.2 --allow-unjudged`"
    )


def test_waiting_for_the_alarms_releases_judged_once_they_leave_alarm_and_is_bounded(deploy, aws):
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    lag_alarm(aws, "ALARM")
    push_image(aws.endpoint_url, "1.17.0-beta.2")

    # Ctrl-C while it waits: nothing was made yet.
    change_sets = aws.client("cloudformation").list_change_sets(StackName="AppStack")["Summaries"]
    code, out, err = verify_run(
        deploy, "app", "--version", "1.17.0-beta.2", "--wait-for-alarms", "5", at=("Waiting up to", ctrl_c)
    )
    assert (code, err.strip()) == (130, "❌ interrupted"), out + err
    assert aws.client("cloudformation").list_change_sets(StackName="AppStack")["Summaries"] == change_sets

    # Still in ALARM after the wait: refused as without it (the clock moves only when the deployer sleeps).
    code, out, err = verify_run(deploy, "app", "--version", "1.17.0-beta.2", "--wait-for-alarms", "0.5")
    assert code == 2, out + err
    assert "Waiting up to 30s for AppStack-consumer-lag to leave ALARM (--wait-for-alarms)" in out
    assert "ECS would not judge this release (it watches no deployment alarm for a deployment that starts while " in err
    assert "in ALARM) after waiting 30s; wait until it is OK" in err

    # It leaves ALARM while the deploy waits: the release goes ahead, and ECS watches its alarms.
    code, out, err = verify_run(
        deploy,
        *("app", "--version", "1.17.0-beta.2", "--wait-for-alarms", "5", "--verify"),
        at=("Waiting up to 5 min", lambda: lag_alarm(aws, "OK")),
    )
    assert code == 0, out + err
    assert "AppStack-consumer-lag: no longer in ALARM; ECS judges this release" in out
    assert "✅ canary healthy on 1.17.0-beta.2: ECS marked its deployment SUCCESSFUL" in out
    ecs = aws.client("ecs")
    briefs = ecs.list_service_deployments(cluster=cluster_name(aws), service=SERVICE)["serviceDeployments"]
    newest = max(briefs, key=lambda brief: brief["createdAt"])
    (release,) = ecs.describe_service_deployments(serviceDeploymentArns=[newest["serviceDeploymentArn"]])[
        "serviceDeployments"
    ]
    assert release["alarms"]["status"] == "MONITORING_COMPLETE"


def test_the_release_is_found_among_more_deployments_than_a_page_holds(deploy, aws):
    """ListServiceDeployments pages (20 by default) in no documented order; the local AWS lists oldest first."""
    ready_for_app(deploy, aws)
    assert deploy("app", "--version", VERSION, "--yes") == 0, deploy.err
    ecs, cluster = aws.client("ecs"), cluster_name(aws)
    for _ in range(21):  # e.g. forced redeployments after secrets were rotated
        ecs.update_service(cluster=cluster, service=SERVICE, forceNewDeployment=True)
        while (
            ecs.describe_services(cluster=cluster, services=[SERVICE])["services"][0]["deployments"][0].get(
                "rolloutState"
            )
            != "COMPLETED"
        ):
            aws.clock.advance(5 * 60)  # a bake is minutes long
    assert "nextToken" in ecs.list_service_deployments(cluster=cluster, service=SERVICE)
    push_image(aws.endpoint_url, "1.17.0")

    code, out, err = verify_run(deploy, "app", "--version", "1.17.0", "--verify")
    assert code == 0, out + err
    assert "✅ canary healthy on 1.17.0: ECS marked its deployment SUCCESSFUL" in out
    assert deploy("status", "app") == 0, deploy.err
    assert "Last release: ✅ canary healthy on 1.17.0: ECS marked its deployment SUCCESSFUL" in deploy.out
