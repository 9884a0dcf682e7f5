"""What operators and auditors rely on in the two templates, asserted on the generated JSON."""

import json
import re
from pathlib import Path

import pytest

from cfn.conditions import Conditions
from contract import APPLICATION, TEMPLATE_FILES
from generate import render_templates
from tests.cloudwatch_eval import resolve

RENDERED = render_templates()
REGISTRY, APP = (json.loads(RENDERED[TEMPLATE_FILES[kind]]) for kind in ("registry", "app"))
SECRET_SUFFIXES = ["kafka-host", "kafka-username", "kafka-password", "sentry-dsn"]


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def only(template: dict, resource_type: str) -> dict:
    (resource,) = resources_of_type(template, resource_type).values()
    return resource


def container(resources: dict) -> dict:
    task = next(r for r in resources.values() if r["Type"] == "AWS::ECS::TaskDefinition")
    (definition,) = task["Properties"]["ContainerDefinitions"]
    return definition


def walk(value):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


# --- Registry stack ---------------------------------------------------------------------------------


def test_repository_scans_on_push_and_is_encrypted():
    repository = only(REGISTRY, "AWS::ECR::Repository")["Properties"]
    assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert repository["EncryptionConfiguration"]["EncryptionType"] in {"AES256", "KMS"}
    assert REGISTRY["Parameters"]["RepositoryName"]["Default"] == "kafkajs-canary-app"


LATEST_MOVES = [
    {"ImageTagMutabilityExclusionFilterType": "WILDCARD", "ImageTagMutabilityExclusionFilterValue": "latest"}
]


@pytest.mark.parametrize(
    "latest_tag, mutability, exclusions",
    [
        (None, "IMMUTABLE_WITH_EXCLUSION", LATEST_MOVES),
        ("mutable", "IMMUTABLE_WITH_EXCLUSION", LATEST_MOVES),
        ("none", "IMMUTABLE", None),
    ],
)
def test_latest_tag_moves_by_default_and_with_none_every_tag_is_immutable(latest_tag, mutability, exclusions):
    """LatestTag keeps today's `latest` unless set to none (CT.ECR.PR.3): release tags are immutable either way."""
    parameters = {} if latest_tag is None else {"LatestTag": latest_tag}
    (repository,) = Conditions(REGISTRY, parameters).deployed_resources().values()
    assert repository["Properties"]["ImageTagMutability"] == mutability
    assert repository["Properties"].get("ImageTagMutabilityExclusionFilters") == exclusions
    assert REGISTRY["Parameters"]["LatestTag"]["AllowedValues"] == ["mutable", "none"]


def test_lifecycle_policy_keeps_newest_tagged_images_and_never_expires_them_by_age():
    policy_sub = only(REGISTRY, "AWS::ECR::Repository")["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
    text, variables = policy_sub["Fn::Sub"]
    assert variables == {"KeepTagged": {"Ref": "KeepTaggedImages"}, "UntaggedDays": {"Ref": "UntaggedExpiryDays"}}
    rules = json.loads(text.replace("${KeepTagged}", "50").replace("${UntaggedDays}", "7"))["rules"]
    by_status = {rule["selection"]["tagStatus"]: rule["selection"] for rule in rules}
    assert by_status["untagged"]["countType"] == "sinceImagePushed"
    assert by_status["any"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50}
    # Nothing tagged may expire by age: the running tag can be old after a quiet period.
    assert all(
        rule["selection"]["tagStatus"] == "untagged"
        for rule in rules
        if rule["selection"]["countType"] == "sinceImagePushed"
    )
    assert REGISTRY["Parameters"]["KeepTaggedImages"]["Default"] == 50


def test_repository_is_retained_on_delete_and_replace():
    repository = only(REGISTRY, "AWS::ECR::Repository")
    assert repository["DeletionPolicy"] == "Retain"
    assert repository["UpdateReplacePolicy"] == "Retain"


def test_registry_exports_are_named_from_the_stack_name():
    exports = {key: output["Export"]["Name"] for key, output in REGISTRY["Outputs"].items()}
    assert exports == {
        key: {"Fn::Sub": "${AWS::StackName}-" + key} for key in ("RepositoryName", "RepositoryArn", "RepositoryUri")
    }


# --- Cross-stack link --------------------------------------------------------------------------------


def imports_in(template: dict) -> list[str]:
    found = []
    for value in walk(template["Resources"]):
        if isinstance(value, dict) and "Fn::ImportValue" in value:
            text, variables = value["Fn::ImportValue"]["Fn::Sub"]
            assert variables == {"Registry": {"Ref": "RegistryStackName"}}
            found.append(text.replace("${Registry}", "${AWS::StackName}"))
    return found


def test_every_import_of_the_app_stack_is_an_export_of_the_registry_stack():
    exported = {output["Export"]["Name"]["Fn::Sub"] for output in REGISTRY["Outputs"].values()}
    imported = set(imports_in(APP))
    assert imported == {"${AWS::StackName}-RepositoryUri", "${AWS::StackName}-RepositoryArn"}
    assert imported <= exported
    assert APP["Parameters"]["RegistryStackName"]["Default"] == "RegistryStack"


def test_image_is_the_imported_repository_uri_tagged_with_version():
    image = container(APP["Resources"])["Image"]
    text, variables = image["Fn::Sub"]
    assert text == "${Repository}:${Version}"
    assert variables["Version"] == {"Ref": "Version"}
    assert variables["Repository"]["Fn::ImportValue"]["Fn::Sub"][0] == "${Registry}-RepositoryUri"
    assert APP["Outputs"]["ImageUri"]["Value"] == image


# --- Parameters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["1.16.0-beta.12-5f5d22f1", "latest", "v2", "_x", "a" * 128])
def test_version_pattern_accepts_image_tags(tag):
    assert re.fullmatch(APP["Parameters"]["Version"]["AllowedPattern"], tag)


@pytest.mark.parametrize("tag", ["", "-leading-dash", ".dot", "has space", "semi;colon", "a" * 129, "ü"])
def test_version_pattern_rejects_what_ecr_would_refuse(tag):
    assert not re.fullmatch(APP["Parameters"]["Version"]["AllowedPattern"], tag)


def test_version_is_required():
    assert "Default" not in APP["Parameters"]["Version"]


@pytest.mark.parametrize(
    "name, good, bad",
    [
        ("ParameterPrefix", ["/kafkajs-canary-app", "/team/canary"], ["kafkajs-canary-app", "/trailing/", "/", "/a b"]),
        ("AlarmEmail", ["", "ops@example.com"], ["ops", "ops@", "a b@example.com"]),
        ("RegistryStackName", ["RegistryStack", "Reg-2"], ["1Registry", "Reg_Stack", ""]),
    ],
)
def test_string_parameters_reject_malformed_values(name, good, bad):
    pattern = APP["Parameters"][name]["AllowedPattern"]
    assert all(re.fullmatch(pattern, value) for value in good)
    assert not any(re.fullmatch(pattern, value) for value in bad)


def test_every_app_parameter_is_described_and_constrained():
    for name, spec in APP["Parameters"].items():
        assert spec.get("Description"), name
        constraints = {"AllowedPattern", "AllowedValues", "MinValue", "MaxValue", "MinLength"}
        assert constraints & set(spec), f"{name} accepts anything"


def test_defaults_match_the_running_system():
    defaults = {name: spec.get("Default") for name, spec in APP["Parameters"].items()}
    assert defaults["DesiredCount"] == 1
    assert (defaults["Cpu"], defaults["Memory"]) == ("256", "512")
    assert defaults["SubnetMode"] == "private"
    assert defaults["KafkaPort"] == 9092
    assert defaults["ParameterPrefix"] == "/kafkajs-canary-app"


def failed_task_size_rules(cpu: str, memory: str) -> list[str]:
    """Evaluate the template's Rules section as CloudFormation does when a change set is created."""
    failed = []
    for name, rule in APP["Rules"].items():
        left, right = rule["RuleCondition"]["Fn::Equals"]
        applies = left == {"Ref": "Cpu"} and right == cpu
        for assertion in rule["Assertions"]:
            allowed, reference = assertion["Assert"]["Fn::Contains"]
            assert reference == {"Ref": "Memory"}
            if applies and memory not in allowed:
                failed.append(name)
    return failed


@pytest.mark.parametrize("cpu, memory", [("256", "512"), ("256", "2048"), ("1024", "8192"), ("4096", "30720")])
def test_valid_fargate_task_sizes_pass_the_rules(cpu, memory):
    assert failed_task_size_rules(cpu, memory) == []
    assert cpu in APP["Parameters"]["Cpu"]["AllowedValues"]
    assert memory in APP["Parameters"]["Memory"]["AllowedValues"]


@pytest.mark.parametrize("cpu, memory", [("256", "4096"), ("512", "512"), ("4096", "4096"), ("2048", "30720")])
def test_invalid_fargate_task_sizes_are_rejected_by_the_rules(cpu, memory):
    assert failed_task_size_rules(cpu, memory) == [f"TaskSize{cpu}"]


# Fargate's Linux task sizes up to 4 vCPU, as the ECS Developer Guide lists them (memory in MiB).
DOCUMENTED_FARGATE_MEMORY = {
    "256": [512, 1024, 2048],
    "512": [1024, 2048, 3072, 4096],
    "1024": [2048 + 1024 * step for step in range(7)],
    "2048": [4096 + 1024 * step for step in range(13)],
    "4096": [8192 + 1024 * step for step in range(23)],
}


def test_the_rules_accept_exactly_the_task_sizes_fargate_documents():
    cpus, memories = (APP["Parameters"][name]["AllowedValues"] for name in ("Cpu", "Memory"))
    assert cpus == list(DOCUMENTED_FARGATE_MEMORY)
    for cpu in cpus:
        accepted = [int(memory) for memory in memories if not failed_task_size_rules(cpu, memory)]
        assert accepted == DOCUMENTED_FARGATE_MEMORY[cpu], f"Cpu {cpu}"


# --- Network ------------------------------------------------------------------------------------------


def test_no_account_region_or_zone_is_hard_coded():
    text = "".join(RENDERED.values())
    assert not re.search(r"\b\d{12}\b", text)
    assert not re.search(r"\b(us|eu|ap|sa|ca|me|af)-(east|west|north|south|central|northeast|southeast)-\d", text)
    zones = [r["Properties"]["AvailabilityZone"] for r in resources_of_type(APP, "AWS::EC2::Subnet").values()]
    assert all(zone["Fn::Select"][1] == {"Fn::GetAZs": ""} for zone in zones)
    assert {zone["Fn::Select"][0] for zone in zones} == {0, 1}


def service_network(mode: str) -> tuple[dict, dict]:
    resources = Conditions(APP, {"SubnetMode": mode, "Version": "1"}).deployed_resources()
    service = next(r for r in resources.values() if r["Type"] == "AWS::ECS::Service")
    return resources, service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]


def test_private_mode_runs_tasks_in_private_subnets_behind_one_nat_without_public_ip():
    resources, network = service_network("private")
    assert network["AssignPublicIp"] == "DISABLED"
    assert {subnet["Ref"] for subnet in network["Subnets"]} == {"PrivateSubnet1", "PrivateSubnet2"}
    assert len([r for r in resources.values() if r["Type"] == "AWS::EC2::NatGateway"]) == 1
    nat_route = resources["PrivateDefaultRoute"]["Properties"]
    assert nat_route["NatGatewayId"] == {"Ref": "NatGateway"}
    endpoint = only({"Resources": resources}, "AWS::EC2::VPCEndpoint")["Properties"]
    assert endpoint["VpcEndpointType"] == "Gateway"
    assert endpoint["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}
    assert endpoint["RouteTableIds"] == [{"Ref": "PrivateRouteTable"}]


def test_public_mode_has_no_nat_and_gives_tasks_a_public_ip_in_public_subnets():
    resources, network = service_network("public")
    assert network["AssignPublicIp"] == "ENABLED"
    assert {subnet["Ref"] for subnet in network["Subnets"]} == {"PublicSubnet1", "PublicSubnet2"}
    types = {r["Type"] for r in resources.values()}
    assert not types & {"AWS::EC2::NatGateway", "AWS::EC2::EIP", "AWS::EC2::VPCEndpoint"}


def test_subnets_never_assign_public_ips_by_default():
    for subnet in resources_of_type(APP, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_service_waits_for_the_egress_route_of_its_mode():
    service = only(APP, "AWS::ECS::Service")
    assert service["DependsOn"] == "EgressReady" or service["DependsOn"] == ["EgressReady"]
    for mode, route in (("private", "PrivateDefaultRoute"), ("public", "PublicDefaultRoute")):
        handle = Conditions(APP, {"SubnetMode": mode}).deployed_resources()["EgressReady"]
        assert {"Ref": route} in handle["Metadata"].values()


def test_security_group_has_no_ingress_and_described_egress_to_https_and_kafka_only():
    group = only(APP, "AWS::EC2::SecurityGroup")["Properties"]
    assert "SecurityGroupIngress" not in group
    assert not resources_of_type(APP, "AWS::EC2::SecurityGroupIngress")
    ports = [(rule["FromPort"], rule["ToPort"]) for rule in group["SecurityGroupEgress"]]
    assert ports == [(443, 443), ({"Ref": "KafkaPort"}, {"Ref": "KafkaPort"})]
    assert all(rule["IpProtocol"] == "tcp" and rule["Description"] for rule in group["SecurityGroupEgress"])


# --- Compute ------------------------------------------------------------------------------------------


def test_cluster_has_container_insights_and_service_runs_latest_fargate():
    settings = only(APP, "AWS::ECS::Cluster")["Properties"]["ClusterSettings"]
    assert {"Name": "containerInsights", "Value": "enabled"} in settings
    service = only(APP, "AWS::ECS::Service")["Properties"]
    assert (service["LaunchType"], service["PlatformVersion"]) == ("FARGATE", "LATEST")


def test_service_rolls_back_failed_deployments_and_keeps_the_seeds_rollout_bounds():
    service = only(APP, "AWS::ECS::Service")["Properties"]
    deployment = service["DeploymentConfiguration"]
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (50, 200)
    assert service["DesiredCount"] == {"Ref": "DesiredCount"}
    assert service["EnableECSManagedTags"] is True
    assert service["PropagateTags"] == "SERVICE"


def parameter_arn(suffix: str) -> dict:
    return {
        "Fn::Sub": [
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Prefix}/" + suffix,
            {"Prefix": {"Ref": "ParameterPrefix"}},
        ]
    }


@pytest.mark.parametrize("sentry, suffixes", [("true", SECRET_SUFFIXES), ("false", SECRET_SUFFIXES[:3])])
def test_secrets_come_from_parameter_store_and_sentry_only_when_enabled(sentry, suffixes):
    resources = Conditions(APP, {"SentryEnabled": sentry}).deployed_resources()
    names = ["KAFKA_HOST", "KAFKA_USERNAME", "KAFKA_PASSWORD", "SENTRY_DSN"][: len(suffixes)]
    assert container(resources)["Secrets"] == [
        {"Name": name, "ValueFrom": parameter_arn(suffix)} for name, suffix in zip(names, suffixes, strict=True)
    ]
    statements = resources["TaskExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    (ssm,) = [s for s in statements if s["Action"] == ["ssm:GetParameters"]]
    assert ssm["Resource"] == [parameter_arn(suffix) for suffix in suffixes]


def test_environment_carries_only_region_version_and_the_metric_namespace():
    """Nothing secret: the namespace's prefix, as node-config's NODE_CONFIG (test_monitoring evaluates it)."""
    environment = container(APP["Resources"])["Environment"]
    assert environment == [
        {"Name": "AWS_REGION", "Value": {"Ref": "AWS::Region"}},
        {"Name": "APP_VERSION", "Value": {"Ref": "Version"}},
        {
            "Name": "NODE_CONFIG",
            "Value": {"Fn::Sub": '{"metrics":{"namespace":"kafkajs-canary-app/${AWS::StackName}"}}'},
        },
    ]


def test_container_is_hardened_with_a_health_check():
    definition = container(APP["Resources"])
    assert definition["ReadonlyRootFilesystem"] is True
    assert definition["User"] not in {"root", "0", ""}
    assert definition["HealthCheck"]["Command"] == ["CMD-SHELL", {"Ref": "HealthCheckCommand"}]
    assert "Privileged" not in definition or definition["Privileged"] is False


def test_the_container_has_a_memory_hard_limit_of_the_whole_task_for_every_size():
    """A hard limit (AWS Control Tower CT.ECS.PR.7 wants one of at least 4 MiB) that never stops the app
    before the task itself is out of memory."""
    task = only(APP, "AWS::ECS::TaskDefinition")["Properties"]
    for memory in APP["Parameters"]["Memory"]["AllowedValues"]:
        chosen = {"Memory": memory}
        hard_limit = resolve(container(APP["Resources"]).get("Memory"), APP, chosen)
        assert hard_limit == resolve(task["Memory"], APP, chosen) == memory
        assert int(hard_limit) >= 4


def test_no_volume_is_mounted_writable_that_the_containers_user_cannot_write():
    """Fargate makes a bind mount a root-owned directory with mode 0755 (aws/containers-roadmap#938, #863):
    the image's `node` user could not write to it. Only EFS volumes carry their own permissions."""
    task = only(APP, "AWS::ECS::TaskDefinition")["Properties"]
    definition = container(APP["Resources"])
    bind_mounts = {volume["Name"] for volume in task.get("Volumes", []) if "EFSVolumeConfiguration" not in volume}
    writable = [
        m for m in definition.get("MountPoints", []) if not m.get("ReadOnly") and m["SourceVolume"] in bind_mounts
    ]
    assert definition["User"] == "node"
    assert writable == []


def test_logs_go_to_the_stacks_retained_log_group():
    log_group = APP["Resources"]["LogGroup"]
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert (log_group["DeletionPolicy"], log_group["UpdateReplacePolicy"]) == ("Retain", "Retain")
    # Encrypted with a key of the stack's own, kept with the logs so they stay readable.
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}
    key = APP["Resources"]["LogsKey"]
    assert (key["DeletionPolicy"], key["Properties"]["EnableKeyRotation"]) == ("Retain", True)
    # Which log groups CloudWatch Logs may encrypt with it is evaluated in test_monitoring.py.
    options = container(APP["Resources"])["LogConfiguration"]
    assert options["LogDriver"] == "awslogs"
    assert options["Options"]["awslogs-group"] == {"Ref": "LogGroup"}


def policy_statements(role: dict) -> list[dict]:
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_execution_role_reaches_exactly_the_repository_log_group_and_parameters():
    statements = {s["Sid"]: s for s in policy_statements(APP["Resources"]["TaskExecutionRole"])}
    assert statements["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]
    pull = statements["PullCanaryImage"]["Resource"]
    assert pull[0]["Fn::ImportValue"]["Fn::Sub"][0] == "${Registry}-RepositoryArn"
    assert statements["WriteCanaryLogs"]["Resource"] == [{"Fn::GetAtt": ["LogGroup", "Arn"]}]
    assert set(statements) == {"EcrLogin", "PullCanaryImage", "WriteCanaryLogs", "ReadCanarySecrets"}


def test_task_role_may_only_publish_metrics():
    (statement,) = policy_statements(APP["Resources"]["TaskRole"])
    assert statement["Action"] == ["cloudwatch:PutMetricData"]
    # Which namespaces it allows is evaluated in test_monitoring.py.


def test_execution_and_task_roles_are_distinct():
    task = only(APP, "AWS::ECS::TaskDefinition")["Properties"]
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": ["TaskExecutionRole", "Arn"]}
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}


def test_no_wildcard_action_anywhere_and_every_wildcard_resource_is_justified():
    for template in (REGISTRY, APP):
        for name, resource in template["Resources"].items():
            for value in walk(resource.get("Properties", {})):
                if isinstance(value, dict) and "Effect" in value:
                    actions = value["Action"] if isinstance(value["Action"], list) else [value["Action"]]
                    assert not [a for a in actions if a == "*" or a.endswith(":*")], name
                    if "*" in value.get("Resource", []):
                        reasons = resource["Metadata"]["WildcardResourceJustifications"]
                        assert reasons[value["Sid"]].strip(), (name, value["Sid"])


# --- Monitoring ---------------------------------------------------------------------------------------


def test_alerts_topic_is_encrypted_and_email_subscription_exists_only_with_an_address():
    topic = only(APP, "AWS::SNS::Topic")["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    key_policy = APP["Resources"]["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = next(s for s in key_policy if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    without = Conditions(APP, {"AlarmEmail": ""}).deployed_resources()
    with_email = Conditions(APP, {"AlarmEmail": "ops@example.com"}).deployed_resources()
    assert "AlertsEmailSubscription" not in without
    assert with_email["AlertsEmailSubscription"]["Properties"]["Protocol"] == "email"


def test_alarms_cover_cpu_memory_missing_tasks_and_the_consumer_and_notify_the_topic():
    alarms = resources_of_type(APP, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {
        "CpuHighAlarm", "MemoryHighAlarm", "TasksBelowDesiredAlarm", "ConsumerLagAlarm", "ConsumerStalledAlarm"
    }  # fmt: skip
    cpu, memory = alarms["CpuHighAlarm"]["Properties"], alarms["MemoryHighAlarm"]["Properties"]
    assert (cpu["MetricName"], cpu["Threshold"], cpu["Period"], cpu["EvaluationPeriods"]) == (
        "CPUUtilization",
        90,
        300,
        1,
    )
    assert (memory["MetricName"], memory["Threshold"], memory["EvaluationPeriods"]) == ("MemoryUtilization", 90, 3)
    down = alarms["TasksBelowDesiredAlarm"]["Properties"]
    metrics = {query["Id"]: query for query in down["Metrics"]}
    assert metrics["missing"]["Expression"] == "desired - running"
    assert metrics["running"]["MetricStat"]["Metric"]["MetricName"] == "RunningTaskCount"
    # What each alarm decides on given datapoints is in test_monitoring.py.


def test_consumer_alarm_parameters_have_documented_defaults():
    defaults = {name: APP["Parameters"][name]["Default"] for name in ("LagThreshold", "LagMinutes", "StalledMinutes")}
    assert defaults == {"LagThreshold": 1000, "LagMinutes": 5, "StalledMinutes": 10}
    documented = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name, default in defaults.items():
        assert f"| `{name}` | `{default}` |" in documented, name


def test_dashboard_graphs_cpu_memory_tasks_and_lag_with_thresholds():
    body, variables = only(APP, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
    assert variables["LagThreshold"] == {"Ref": "LagThreshold"}
    widgets = json.loads(body.replace("${LagThreshold}", "1000"))["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    assert titles == [
        "CPU utilization (%)",
        "Memory utilization (%)",
        "Running and desired tasks",
        "Consumer offset lag by topic and partition",
        "Alarms",
    ]
    thresholds = [w["properties"].get("annotations", {}).get("horizontal", [{}])[0].get("value") for w in widgets]
    assert thresholds == [90, 90, None, 1000, None]


def test_outputs_give_operators_what_they_look_up():
    assert set(APP["Outputs"]) >= {
        "ClusterName", "ServiceName", "ServiceArn", "LogGroupName", "AlertsTopicArn", "ImageUri", "DescribeServicesCommand"
    }  # fmt: skip
    command = APP["Outputs"]["DescribeServicesCommand"]["Value"]["Fn::Sub"][0]
    assert command.startswith(
        "aws ecs describe-services --region ${AWS::Region} --cluster ${Cluster} --services ${Service}"
    )


def test_every_taggable_resource_carries_the_application_tag():
    """Taggable by the resource type's own schema (cfn-lint ships CloudFormation's), not by what is tagged."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    untagged = []
    for template in (REGISTRY, APP):
        for name, resource in template["Resources"].items():
            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource["Type"]).schema
            if "Tags" not in schema.get("properties", {}):
                continue
            tags = resource.get("Properties", {}).get("Tags", [])
            pairs = tags.items() if isinstance(tags, dict) else [(tag.get("Key"), tag.get("Value")) for tag in tags]
            if ("Application", APPLICATION) not in pairs:
                untagged.append(name)
    assert untagged == []
