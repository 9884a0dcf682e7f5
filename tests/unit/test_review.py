"""The change review rendered from recorded DescribeChangeSet answers (IncludePropertyValues: each
change's BeforeContext / AfterContext as CloudFormation encodes them), and resolved locally from templates
where an endpoint gives no values. No endpoint needed."""

import io
import json

from canary_deploy.model.property_diff import MISSING, PropertyChange, property_changes
from canary_deploy.model.template_values import Account, TemplateValues
from canary_deploy.render.console import Console
from canary_deploy.render.review import ChangeReview

STACK = "AppStack"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/kafkajs-canary-app"
OLD, NEW = "1.16.0-beta.12-5f5d22f1", "1.16.0-beta.13-0a1b2c3d"
TASK_DEFINITION_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/AppStack:7"
KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"


def task_definition(version, memory="512"):
    """The task definition's properties as a BeforeContext / AfterContext carries them (strings)."""
    return {
        "Family": "AppStack",
        "Cpu": "256",
        "Memory": memory,
        "NetworkMode": "awsvpc",
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/AppStack-TaskExecutionRole-1A2B3C",
        "ContainerDefinitions": [
            {
                "Name": "app",
                "Image": f"{REPOSITORY}:{version}",
                "Essential": "true",
                "Environment": [
                    {"Name": "AWS_REGION", "Value": "us-east-1"},
                    {"Name": "APP_VERSION", "Value": version},
                ],
            }
        ],
    }


def context(properties):
    return json.dumps({"Properties": properties})


def release_changes(memory="512"):
    """DescribeChangeSet's Changes for a release that changes Version (and, if given, Memory)."""
    return [
        {
            "Action": "Modify",
            "LogicalResourceId": "TaskDefinition",
            "PhysicalResourceId": TASK_DEFINITION_ARN,
            "ResourceType": "AWS::ECS::TaskDefinition",
            "Replacement": "True",
            "Scope": ["Properties"],
            "Details": [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": "ContainerDefinitions",
                        "RequiresRecreation": "Always",
                        "Path": "/Properties/ContainerDefinitions/0/Image",
                        "BeforeValue": f"{REPOSITORY}:{OLD}",
                        "AfterValue": f"{REPOSITORY}:{NEW}",
                        "AttributeChangeType": "Modify",
                    },
                    "Evaluation": "Static",
                    "ChangeSource": "ParameterReference",
                    "CausingEntity": "Version",
                }
            ],
            "BeforeContext": context(task_definition(OLD)),
            "AfterContext": context(task_definition(NEW, memory)),
        },
        {
            "Action": "Modify",
            "LogicalResourceId": "Service",
            "PhysicalResourceId": "arn:aws:ecs:us-east-1:123456789012:service/AppStack-Cluster-X/AppStack-Service-Y",
            "ResourceType": "AWS::ECS::Service",
            "Replacement": "False",
            "Scope": ["Properties"],
            "Details": [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": "TaskDefinition",
                        "RequiresRecreation": "Never",
                        "Path": "/Properties/TaskDefinition",
                        "BeforeValue": TASK_DEFINITION_ARN,
                        "AfterValue": KNOWN_AFTER_APPLY,
                        "AttributeChangeType": "Modify",
                    },
                    "Evaluation": "Dynamic",
                    "ChangeSource": "ResourceReference",
                    "CausingEntity": "TaskDefinition",
                }
            ],
            "BeforeContext": context({"DesiredCount": "1", "TaskDefinition": TASK_DEFINITION_ARN}),
            "AfterContext": context({"DesiredCount": "1", "TaskDefinition": KNOWN_AFTER_APPLY}),
        },
    ]


def printed(review, color=False):
    out = io.StringIO()
    review.print(Console(out=out, err=out, stdin=io.StringIO(), interactive=False, color=color))
    return out.getvalue().splitlines()


def test_a_release_reads_as_a_routine_image_change_and_needs_no_confirmation():
    review = ChangeReview(STACK, release_changes())

    assert review.risky == []
    assert printed(review) == [
        "Changes for AppStack (2):",
        "  Action  Logical ID      Type                      Replacement",
        "  Modify  TaskDefinition  AWS::ECS::TaskDefinition  True",
        f"      image …:{OLD} → …:{NEW} (routine release: only the image tag changes)",
        "  Modify  Service         AWS::ECS::Service         False",
        f"      TaskDefinition: {TASK_DEFINITION_ARN} → (known after deploy)",
    ]


def test_a_task_definition_replaced_for_more_than_its_image_is_flagged_with_what_changes():
    review = ChangeReview(STACK, release_changes(memory="1024"))

    assert [change.logical_id for change in review.risky] == ["TaskDefinition"]
    lines = printed(review)
    assert lines[2].endswith("True         ⚠ replacement")
    assert lines[3:6] == [
        "      Memory: 512 → 1024",
        f"      ContainerDefinitions[app].Image: …:{OLD} → …:{NEW}",
        f"      ContainerDefinitions[app].Environment[APP_VERSION].Value: {OLD} → {NEW}",
    ]


def test_iam_and_security_group_rows_list_the_statements_and_rules_added_and_removed():
    role_before = {
        "AssumeRolePolicyDocument": {
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ]
        },
        "Policies": [
            {
                "PolicyName": "start-canary-task",
                "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": ["arn:a", "arn:b"]}]
                },
            }
        ],
    }
    role_after = json.loads(json.dumps(role_before))
    role_after["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] = ["arn:a"]
    role_after["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    )
    rule = {"IpProtocol": "tcp", "FromPort": "9092", "ToPort": "9092", "CidrIp": "0.0.0.0/0", "Description": "Kafka"}
    changes = [
        {
            "Action": "Modify",
            "LogicalResourceId": "TaskExecutionRole",
            "ResourceType": "AWS::IAM::Role",
            "Replacement": "False",
            "BeforeContext": context(role_before),
            "AfterContext": context(role_after),
        },
        {
            "Action": "Modify",
            "LogicalResourceId": "TaskSecurityGroup",
            "ResourceType": "AWS::EC2::SecurityGroup",
            "Replacement": "False",
            "BeforeContext": context({"SecurityGroupEgress": [rule]}),
            "AfterContext": context({"SecurityGroupEgress": [{**rule, "FromPort": "9093", "ToPort": "9093"}]}),
        },
    ]

    lines = printed(ChangeReview(STACK, changes))

    assert lines[2:] == [
        "  Modify  TaskExecutionRole  AWS::IAM::Role           False        ⚠ IAM",
        "      + [start-canary-task] Allow ssm:GetParameters on arn:a",
        "      + [start-canary-task] Allow s3:GetObject on *",
        "      - [start-canary-task] Allow ssm:GetParameters on arn:a, arn:b",
        "  Modify  TaskSecurityGroup  AWS::EC2::SecurityGroup  False        ⚠ security group",
        "      + egress tcp 9093 to 0.0.0.0/0 (Kafka)",
        "      - egress tcp 9092 to 0.0.0.0/0 (Kafka)",
    ]


def test_removals_replacements_iam_and_security_groups_are_flagged_in_colour():
    changes = [
        {
            "Action": "Modify",
            "LogicalResourceId": "Service",
            "ResourceType": "AWS::ECS::Service",
            "Replacement": "False",
        },
        {
            "Action": "Modify",
            "LogicalResourceId": "Cluster",
            "ResourceType": "AWS::ECS::Cluster",
            "Replacement": "True",
        },
        {"Action": "Remove", "LogicalResourceId": "OldTopic", "ResourceType": "AWS::SNS::Topic"},
        {"Action": "Modify", "LogicalResourceId": "TaskRole", "ResourceType": "AWS::IAM::Role", "Replacement": "False"},
        {
            "Action": "Modify",
            "LogicalResourceId": "TaskSg",
            "ResourceType": "AWS::EC2::SecurityGroup",
            "Replacement": "Conditional",
        },
    ]
    review = ChangeReview(STACK, changes)
    assert [change.logical_id for change in review.risky] == ["Cluster", "OldTopic", "TaskRole", "TaskSg"]
    lines = printed(review, color=True)
    assert lines[0] == "Changes for AppStack (5):"
    assert "\033[" not in lines[2] and "⚠" not in lines[2], "an in-place Modify is not flagged"
    assert lines[3].startswith("\033[31m") and lines[3].endswith("⚠ replacement\033[0m")
    assert lines[4].startswith("\033[31m") and "⚠ removal" in lines[4]
    assert lines[5].startswith("\033[33m") and "⚠ IAM" in lines[5]
    assert "⚠ possible replacement" in lines[6]


def test_a_property_whose_value_only_cloudformation_knows_is_still_named():
    change = {
        "Action": "Modify",
        "LogicalResourceId": "Dashboard",
        "ResourceType": "AWS::CloudWatch::Dashboard",
        "Replacement": "False",
        "Details": [{"Target": {"Attribute": "Properties", "Name": "DashboardBody", "RequiresRecreation": "Never"}}],
    }
    assert printed(ChangeReview(STACK, [change]))[3] == (
        "      DashboardBody: changes (the new value is known only once executed)"
    )


def test_list_items_are_compared_by_name_not_position():
    before = {"Environment": [{"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}]}
    after = {"Environment": [{"Name": "B", "Value": "3"}, {"Name": "C", "Value": "4"}]}
    assert property_changes(before, after) == [
        PropertyChange("Environment[A]", {"Name": "A", "Value": "1"}, MISSING),
        PropertyChange("Environment[B].Value", "2", "3"),
        PropertyChange("Environment[C]", MISSING, {"Name": "C", "Value": "4"}),
    ]


def test_templates_resolve_parameters_conditions_imports_and_replaced_resources_locally():
    template = {
        "Parameters": {
            "Version": {"Type": "String"},
            "Mode": {"Type": "String", "Default": "private"},
            "Secret": {"Type": "String", "NoEcho": True},
        },
        "Conditions": {"Private": {"Fn::Equals": [{"Ref": "Mode"}, "private"]}},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "TaskDefinition": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Image": {
                        "Fn::Sub": [
                            "${Repository}:${Version}",
                            {"Repository": {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-Uri"}}},
                        ]
                    },
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Public": {"Fn::If": ["Private", "DISABLED", "ENABLED"]},
                    "Token": {"Ref": "Secret"},
                    "Arn": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/x"},
                },
            },
            "Service": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": {"Ref": "TaskDefinition"}}},
            "PublicOnly": {"Type": "AWS::SNS::Topic", "Condition": "Private"},
        },
    }
    account = Account.of_stack(
        STACK,
        "arn:aws:cloudformation:us-east-1:123456789012:stack/AppStack/1",
        "us-east-1",
        physical_ids={"TaskDefinition": TASK_DEFINITION_ARN},
        exports=lambda: {"AppStack-Uri": REPOSITORY},
    )
    parameters = {"Version": NEW, "Mode": "public", "Secret": "s3cr3t"}

    values = TemplateValues(template, parameters, account, created={"TaskDefinition"})

    assert set(values.resources) == {"Role", "TaskDefinition", "Service"}
    assert values.properties("TaskDefinition") == {
        "Image": f"{REPOSITORY}:{NEW}",
        "Role": "(Role.Arn)",
        "Public": "ENABLED",
        "Token": "****",
        "Arn": "arn:aws:ssm:us-east-1:123456789012:parameter/x",
    }
    assert values.properties("Service") == {"TaskDefinition": "(new TaskDefinition)"}
