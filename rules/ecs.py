"""cfn-lint rules for ECS hardening that no CloudFormation linter ships (Security Hub ECS.2-ECS.20).

Values may be intrinsic functions: `Fn::If` is expanded into each branch (cfn/conditions.py), `Ref:
AWS::NoValue` counts as "property absent", and any other intrinsic (Ref to a parameter, Fn::ImportValue,
...) is a value these rules cannot judge, so they let it pass. cfn-lint loads this file by path
(`--append-rules rules/`); it imports the `cfn` package (installed with the project) for its condition evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from cfn.conditions import ABSENT, Branch, Conditions, both

TASK_DEFINITION = "AWS::ECS::TaskDefinition"
SERVICE = "AWS::ECS::Service"
SOURCE_URL = "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html"


def _property(cfn, parent: dict, parent_path: list, name: str) -> Iterator[tuple[Any, list]]:
    """Each possible value of parent[name] (ABSENT when missing), with its path."""
    for branch in Conditions(cfn.template).branches(parent.get(name, ABSENT), parent_path + [name]):
        yield branch.value, branch.path if name in parent else parent_path


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _is_false_or_absent(value: Any) -> bool:
    return value is ABSENT or value is False or (isinstance(value, str) and value.lower() == "false")


def _resources(cfn, resource_type: str) -> Iterator[tuple[str, dict, list]]:
    for name, resource in cfn.get_resources(resource_type).items():
        properties = resource.get("Properties", {})
        if isinstance(properties, dict):
            yield name, properties, ["Resources", name, "Properties"]


def _containers(cfn) -> Iterator[tuple[dict, dict, list]]:
    """(task definition properties, container definition, container path) for every container."""
    for _, properties, path in _resources(cfn, TASK_DEFINITION):
        for container in Conditions(cfn.template).items(
            properties.get("ContainerDefinitions"), path + ["ContainerDefinitions"]
        ):
            if isinstance(container.value, dict):
                yield properties, container.value, container.path


class ServicePublicIp(CloudFormationLintRule):
    """A Fn::If that turns public IPs on only for a non-default parameter value is a documented opt-in:
    the stack as deployed with its defaults keeps tasks off the internet (ECS.2)."""

    id = "E9101"
    shortdesc = "ECS service assigns a public IP by default"
    description = (
        "AwsvpcConfiguration.AssignPublicIp must be DISABLED when every parameter keeps its default "
        "(Security Hub ECS.2). A Fn::If that enables it only for a non-default parameter value is allowed."
    )
    source_url = SOURCE_URL
    tags = ["ecs", "security", "network"]

    def match(self, cfn):
        for path in _public_ip_paths(cfn, chosen_by_default=True):
            yield RuleMatch(
                path,
                "ECS service assigns a public IP with the default parameters; set AssignPublicIp to DISABLED (ECS.2)",
            )


class ServicePublicIpUndecidable(CloudFormationLintRule):
    id = "W9102"
    shortdesc = "ECS service may assign a public IP"
    description = (
        "AssignPublicIp can be ENABLED through a condition that cannot be evaluated from parameter "
        "defaults, so nothing shows the default deployment stays private (Security Hub ECS.2)."
    )
    source_url = SOURCE_URL
    tags = ["ecs", "security", "network"]

    def match(self, cfn):
        for path in _public_ip_paths(cfn, chosen_by_default=None):
            yield RuleMatch(
                path,
                "ECS service may assign a public IP: its condition cannot be evaluated "
                "from parameter defaults; give the parameter a private default (ECS.2)",
            )


def _public_ip_paths(cfn, chosen_by_default: bool | None) -> Iterator[list]:
    """Paths where AssignPublicIp can be ENABLED and parameter defaults select it (True), or may (None)."""
    conditions = Conditions(cfn.template)  # every parameter at its Default
    for _, properties, path in _resources(cfn, SERVICE):
        for assign in _service_assign_public_ip(conditions, properties, path):
            if assign.value == "ENABLED" and assign.chosen is chosen_by_default:
                yield assign.path


def _service_assign_public_ip(conditions: Conditions, properties: dict, path: list) -> Iterator[Branch]:
    for network in conditions.branches(properties.get("NetworkConfiguration"), path + ["NetworkConfiguration"]):
        if not isinstance(network.value, dict):
            continue
        for awsvpc in conditions.branches(
            network.value.get("AwsvpcConfiguration"), network.path + ["AwsvpcConfiguration"]
        ):
            if isinstance(awsvpc.value, dict) and "AssignPublicIp" in awsvpc.value:
                for assign in conditions.branches(awsvpc.value["AssignPublicIp"], awsvpc.path + ["AssignPublicIp"]):
                    yield Branch(assign.value, assign.path, both(awsvpc.chosen, assign.chosen))


class PrivilegedContainer(CloudFormationLintRule):
    id = "E9103"
    shortdesc = "ECS container is privileged"
    description = "Container definitions must not set Privileged to true, in any branch (Security Hub ECS.4)."
    source_url = SOURCE_URL
    tags = ["ecs", "security"]

    def match(self, cfn):
        for _, container, container_path in _containers(cfn):
            for privileged, path in _property(cfn, container, container_path, "Privileged"):
                if _is_true(privileged):
                    yield RuleMatch(path, "ECS container runs privileged; remove Privileged or set it to false (ECS.4)")


ROOT_USER = re.compile(r"^(root|0)(:.*)?$")


class RootContainer(CloudFormationLintRule):
    id = "E9104"
    shortdesc = "ECS container runs as root"
    description = (
        "Linux container definitions must set User to a non-root user (not root, not 0); a missing User "
        "means root (Security Hub ECS.20, ECS.1)."
    )
    source_url = SOURCE_URL
    tags = ["ecs", "security"]

    def match(self, cfn):
        for task, container, container_path in _containers(cfn):
            platform = task.get("RuntimePlatform")
            family = platform.get("OperatingSystemFamily") if isinstance(platform, dict) else None
            if isinstance(family, str) and family.startswith("WINDOWS"):
                continue
            for user, path in _property(cfn, container, container_path, "User"):
                if user is ABSENT:
                    yield RuleMatch(
                        path,
                        "ECS container has no User, so it runs as root; set User to a non-root uid, e.g. 1000 (ECS.20)",
                    )
                elif isinstance(user, (str, int)) and ROOT_USER.match(str(user)):
                    yield RuleMatch(path, f"ECS container runs as root (User {user}); set a non-root uid (ECS.20)")


class WritableRootFilesystem(CloudFormationLintRule):
    id = "E9105"
    shortdesc = "ECS container root filesystem is writable"
    description = (
        "Container definitions must set ReadonlyRootFilesystem to true; mount a volume for paths the "
        "app writes (Security Hub ECS.5)."
    )
    source_url = SOURCE_URL
    tags = ["ecs", "security"]

    def match(self, cfn):
        for _, container, container_path in _containers(cfn):
            for readonly, path in _property(cfn, container, container_path, "ReadonlyRootFilesystem"):
                if _is_false_or_absent(readonly):
                    yield RuleMatch(
                        path,
                        "ECS container root filesystem is writable; set ReadonlyRootFilesystem "
                        "to true and mount a volume for writable paths (ECS.5)",
                    )


class FargatePlatformVersion(CloudFormationLintRule):
    id = "E9106"
    shortdesc = "ECS service pins an old Fargate platform version"
    description = "PlatformVersion must be LATEST or left out (it then defaults to LATEST) (Security Hub ECS.10)."
    source_url = SOURCE_URL
    tags = ["ecs", "security", "fargate"]

    def match(self, cfn):
        for _, properties, service_path in _resources(cfn, SERVICE):
            for version, path in _property(cfn, properties, service_path, "PlatformVersion"):
                if isinstance(version, str) and version != "LATEST":
                    yield RuleMatch(
                        path,
                        f"ECS service pins Fargate platform {version}; use LATEST or drop PlatformVersion (ECS.10)",
                    )


class DeploymentCircuitBreaker(CloudFormationLintRule):
    id = "E9107"
    shortdesc = "ECS service has no deployment circuit breaker with rollback"
    description = (
        "Services using the ECS deployment controller must set DeploymentConfiguration."
        "DeploymentCircuitBreaker with Enable and Rollback true, so a failing release rolls back by itself."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html"
    tags = ["ecs", "reliability"]

    def match(self, cfn):
        for _, properties, service_path in _resources(cfn, SERVICE):
            controller = properties.get("DeploymentController")
            kind = controller.get("Type", "ECS") if isinstance(controller, dict) else "ECS"
            if kind != "ECS":
                continue
            for config, config_path in _property(cfn, properties, service_path, "DeploymentConfiguration"):
                if not isinstance(config, dict):
                    config = {}
                for breaker, breaker_path in _property(cfn, config, config_path, "DeploymentCircuitBreaker"):
                    if not isinstance(breaker, dict):
                        yield RuleMatch(
                            breaker_path, "ECS service has no DeploymentCircuitBreaker; set Enable and Rollback to true"
                        )
                        continue
                    for key in ("Enable", "Rollback"):
                        for flag, flag_path in _property(cfn, breaker, breaker_path, key):
                            if _is_false_or_absent(flag):
                                yield RuleMatch(
                                    flag_path,
                                    f"ECS service DeploymentCircuitBreaker.{key} is not "
                                    "true; set Enable and Rollback to true",
                                )


def _canonical_role(value: Any) -> Any:
    """Spell `Fn::GetAtt: "Role.Arn"` and `Fn::GetAtt: [Role, Arn]` the same way."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Fn::GetAtt"), str):
        return {"Fn::GetAtt": value["Fn::GetAtt"].split(".", 1)}
    return value


class ExecutionRoleAsTaskRole(CloudFormationLintRule):
    id = "E9108"
    shortdesc = "ECS task role is the execution role"
    description = (
        "TaskRoleArn must differ from ExecutionRoleArn: the execution role pulls images and reads secrets "
        "for the agent; the app's code must not inherit those permissions."
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"
    tags = ["ecs", "security", "iam"]

    def match(self, cfn):
        for _, properties, path in _resources(cfn, TASK_DEFINITION):
            task_role = properties.get("TaskRoleArn")
            if task_role is not None and _canonical_role(task_role) == _canonical_role(
                properties.get("ExecutionRoleArn")
            ):
                yield RuleMatch(
                    path + ["TaskRoleArn"],
                    "ECS task role is the execution role; give the task its own role with only what the app needs",
                )


CREDENTIAL_NAME = re.compile(
    r"^(AWS_ACCESS_KEY_ID|ECS_ENGINE_AUTH_DATA)$|PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY|_KEY$",
    re.IGNORECASE,
)


class CredentialsInEnvironment(CloudFormationLintRule):
    id = "E9109"
    shortdesc = "ECS container environment variable looks like a credential"
    description = (
        "Environment variable names like AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, *PASSWORD*, *SECRET*, "
        "*TOKEN*, *CREDENTIAL* or *_KEY hold secrets in plain text; pass them through Secrets "
        "(SSM Parameter Store or Secrets Manager) instead (Security Hub ECS.8)."
    )
    source_url = SOURCE_URL
    tags = ["ecs", "security", "secrets"]

    def match(self, cfn):
        for _, container, container_path in _containers(cfn):
            for variable in Conditions(cfn.template).items(
                container.get("Environment"), container_path + ["Environment"]
            ):
                name = variable.value.get("Name") if isinstance(variable.value, dict) else None
                if isinstance(name, str) and CREDENTIAL_NAME.search(name):
                    yield RuleMatch(
                        variable.path + ["Name"],
                        f"ECS environment variable {name} looks like a "
                        "credential; move it to Secrets with a ValueFrom (ECS.8)",
                    )
