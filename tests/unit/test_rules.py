"""The project's cfn-lint rules (rules/): each fires on a small bad template and not on its fix.

WORKER is a compliant Fargate worker; every case breaks one thing in a copy of it and expects exactly
one finding, so the unbroken WORKER (which lints clean) is the fixed version of every case. The cases
call the rules' match() on the parsed template; WORKER gets one full cfn-lint run and the command line
one run on a bad template (the generated templates are linted end to end in test_generate.py).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import cfnlint.api
import pytest
from cfnlint.decode import decode_str
from cfnlint.rules import CloudFormationLintRule
from cfnlint.template import Template

import rules
from rules import ecs, iam

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
TASK = ["Resources", "Task", "Properties"]
CONTAINER = TASK + ["ContainerDefinitions", 0]
SERVICE = ["Resources", "Service", "Properties"]
AWSVPC = SERVICE + ["NetworkConfiguration", "AwsvpcConfiguration"]
STATEMENTS = ["Resources", "TaskRole", "Properties", "Policies", 0, "PolicyDocument", "Statement"]


def _role(name: str, statements: list) -> dict:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [{"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }


WORKER = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {
        "SubnetMode": {"Type": "String", "Default": "private", "AllowedValues": ["private", "public"]},
        "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"},
    },
    "Conditions": {"PublicSubnets": {"Fn::Equals": [{"Ref": "SubnetMode"}, "public"]}},
    "Resources": {
        "ExecutionRole": _role(
            "pull",
            [
                {
                    "Effect": "Allow",
                    "Action": "ecr:BatchGetImage",
                    "Resource": {"Fn::ImportValue": "RegistryStack-RepositoryArn"},
                }
            ],
        ),
        "TaskRole": {
            **_role(
                "metrics",
                [{"Sid": "PutMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}],
            ),
            "Metadata": {"WildcardResourceJustifications": {"PutMetrics": "PutMetricData has no resource ARN"}},
        },
        "Cluster": {"Type": "AWS::ECS::Cluster"},
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "RequiresCompatibilities": ["FARGATE"],
                "NetworkMode": "awsvpc",
                "Cpu": "256",
                "Memory": "512",
                "ExecutionRoleArn": {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
                "TaskRoleArn": {"Fn::GetAtt": ["TaskRole", "Arn"]},
                "Volumes": [{"Name": "tmp"}],
                "ContainerDefinitions": [
                    {
                        "Name": "app",
                        "Image": {
                            "Fn::Sub": ["${Uri}:1.0.0", {"Uri": {"Fn::ImportValue": "RegistryStack-RepositoryUri"}}]
                        },
                        "User": "1000",
                        "ReadonlyRootFilesystem": True,
                        "Privileged": False,
                        "MountPoints": [{"SourceVolume": "tmp", "ContainerPath": "/tmp"}],
                        "Environment": [{"Name": "KAFKA_USERNAME_PARAMETER", "Value": "/canary/kafka-username"}],
                        "Secrets": [{"Name": "KAFKA_PASSWORD", "ValueFrom": "/canary/kafka-password"}],
                    }
                ],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "TaskDefinition": {"Ref": "Task"},
                "LaunchType": "FARGATE",
                "PlatformVersion": "LATEST",
                "DeploymentConfiguration": {"DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}},
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {
                        "Subnets": {"Ref": "Subnets"},
                        # Opt-in: public only when SubnetMode is changed from its private default.
                        "AssignPublicIp": {"Fn::If": ["PublicSubnets", "ENABLED", "DISABLED"]},
                    }
                },
            },
        },
    },
}


def _findings(template: dict) -> list[tuple[str, list]]:
    return [
        (match.rule.id, list(match.path))
        for match in cfnlint.api.lint(json.dumps(template), config=rules.lint_config())
    ]


PROJECT_RULES = [
    rule()
    for module in (ecs, iam)
    for rule in vars(module).values()
    if isinstance(rule, type) and issubclass(rule, CloudFormationLintRule) and rule.__module__ == module.__name__
]


def _custom_findings(template: dict) -> list[tuple[str, list]]:
    """Findings of the project's rules only, from their match() on the parsed template."""
    parsed, errors = decode_str(json.dumps(template))
    assert not errors, errors
    cfn = Template("template.json", parsed, ["us-east-1"])
    return [(rule.id, list(match.path)) for rule in PROJECT_RULES for match in rule.match(cfn)]


def test_every_rule_in_the_folder_is_tested():
    assert sorted(rule.id for rule in PROJECT_RULES) == sorted(
        {rule_id for rule_id, _, _ in CASES.values()} | {"E9109"}
    )


def _set(template: dict, path: list, value) -> None:
    """Set template[path...] = value; value None deletes the key."""
    *parents, last = path
    for key in parents:
        template = template[key]
    if value is None:
        del template[last]
    else:
        template[last] = value


def test_worker_passes_every_rule():
    assert _findings(WORKER) == []


CASES = {
    # rule id, [(path, value) edits to WORKER], path of the expected finding
    "public ip literal": ("E9101", [(AWSVPC + ["AssignPublicIp"], "ENABLED")], AWSVPC + ["AssignPublicIp"]),
    "public ip by default": (
        "E9101",
        [(["Parameters", "SubnetMode", "Default"], "public")],
        AWSVPC + ["AssignPublicIp", "Fn::If", 1],
    ),
    "public ip undecidable": (
        "W9102",
        [(["Parameters", "SubnetMode", "Default"], None)],
        AWSVPC + ["AssignPublicIp", "Fn::If", 1],
    ),
    "privileged": ("E9103", [(CONTAINER + ["Privileged"], True)], CONTAINER + ["Privileged"]),
    "privileged in a branch": (
        "E9103",
        [(CONTAINER + ["Privileged"], {"Fn::If": ["PublicSubnets", False, "true"]})],
        CONTAINER + ["Privileged", "Fn::If", 2],
    ),
    "no user": ("E9104", [(CONTAINER + ["User"], None)], CONTAINER),
    "root user": ("E9104", [(CONTAINER + ["User"], "root:root")], CONTAINER + ["User"]),
    "uid 0": ("E9104", [(CONTAINER + ["User"], "0")], CONTAINER + ["User"]),
    "user removed in a branch": (
        "E9104",
        [(CONTAINER + ["User"], {"Fn::If": ["PublicSubnets", {"Ref": "AWS::NoValue"}, "1000"]})],
        CONTAINER + ["User", "Fn::If", 1],
    ),
    "writable root": (
        "E9105",
        [(CONTAINER + ["ReadonlyRootFilesystem"], False)],
        CONTAINER + ["ReadonlyRootFilesystem"],
    ),
    "root filesystem unset": ("E9105", [(CONTAINER + ["ReadonlyRootFilesystem"], None)], CONTAINER),
    "old platform": ("E9106", [(SERVICE + ["PlatformVersion"], "1.3.0")], SERVICE + ["PlatformVersion"]),
    "no circuit breaker": ("E9107", [(SERVICE + ["DeploymentConfiguration"], None)], SERVICE),
    "no rollback": (
        "E9107",
        [(SERVICE + ["DeploymentConfiguration", "DeploymentCircuitBreaker", "Rollback"], False)],
        SERVICE + ["DeploymentConfiguration", "DeploymentCircuitBreaker", "Rollback"],
    ),
    "execution role as task role": (
        "E9108",
        [(TASK + ["TaskRoleArn"], {"Fn::GetAtt": "ExecutionRole.Arn"})],
        TASK + ["TaskRoleArn"],
    ),
    "wildcard without sid": (
        "E9110",
        [(STATEMENTS + [0, "Sid"], None)],
        STATEMENTS + [0, "Resource"],
    ),
    "wildcard without justification": (
        "E9110",
        [(["Resources", "TaskRole", "Metadata"], {"WildcardResourceJustifications": {"PutMetrics": " "}})],
        STATEMENTS + [0, "Resource"],
    ),
    "wildcard in a branch": (
        "E9110",
        [
            (
                STATEMENTS + [0, "Resource"],
                ["arn:aws:s3:::bucket", {"Fn::If": ["PublicSubnets", "*", "arn:aws:s3:::b"]}],
            ),
            (["Resources", "TaskRole", "Metadata"], None),
        ],
        STATEMENTS + [0, "Resource"],
    ),
    "key policy wildcard without justification": (
        "E9110",
        [
            (
                ["Resources", "Key"],
                {
                    "Type": "AWS::KMS::Key",
                    "DeletionPolicy": "Retain",
                    "UpdateReplacePolicy": "Retain",
                    "Properties": {
                        "EnableKeyRotation": True,
                        "KeyPolicy": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "Admin",
                                    "Effect": "Allow",
                                    "Action": "kms:DescribeKey",
                                    "Resource": "*",
                                    "Principal": {
                                        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
                                    },
                                }
                            ],
                        },
                    },
                },
            )
        ],
        ["Resources", "Key", "Properties", "KeyPolicy", "Statement", 0, "Resource"],
    ),
    "star action": ("E9111", [(STATEMENTS + [0, "Action"], "*")], STATEMENTS + [0, "Action"]),
    "service star action": ("E9111", [(STATEMENTS + [0, "Action"], ["ecr:*"])], STATEMENTS + [0, "Action"]),
}

CREDENTIAL_NAMES = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "ECS_ENGINE_AUTH_DATA",
    "kafka_password",
    "SENTRY_SECRET",
    "API_TOKEN",
    "SIGNING_KEY",
    "DB_CREDENTIALS",
]


@pytest.mark.parametrize("rule_id, edits, path", CASES.values(), ids=CASES.keys())
def test_rule_fires_on_bad_template(rule_id, edits, path):
    template = copy.deepcopy(WORKER)
    for edit_path, value in edits:
        _set(template, edit_path, value)
    assert _custom_findings(template) == [(rule_id, path)]


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_credential_named_environment_variable(name):
    template = copy.deepcopy(WORKER)
    template["Resources"]["Task"]["Properties"]["ContainerDefinitions"][0]["Environment"].append(
        {"Name": name, "Value": "plain text"}
    )
    assert _custom_findings(template) == [("E9109", CONTAINER + ["Environment", 1, "Name"])]


def test_intrinsics_in_unexpected_places_do_not_crash():
    """Rules meet Refs and imports where they expect lists or dicts; they judge nothing there."""
    template = copy.deepcopy(WORKER)
    container = template["Resources"]["Task"]["Properties"]["ContainerDefinitions"][0]
    container["Environment"] = {
        "Fn::If": ["PublicSubnets", [{"Name": "LOG_LEVEL", "Value": "info"}], {"Ref": "AWS::NoValue"}]
    }
    container["User"] = {"Fn::ImportValue": "SharedUser"}
    template["Resources"]["Task"]["Properties"]["ContainerDefinitions"] = {
        "Fn::If": ["PublicSubnets", [container], [container, {"Ref": "AWS::NoValue"}]]
    }
    template["Resources"]["Service"]["Properties"]["NetworkConfiguration"] = {
        "Fn::If": ["PublicSubnets", {"Ref": "AWS::NoValue"}, {"AwsvpcConfiguration": {"Subnets": {"Ref": "Subnets"}}}]
    }
    assert _custom_findings(template) == []
