"""The architecture diagram: every resource is a node in its stack and part, references become edges,
cross-stack imports become dashed edges to the exporting resource, and the output is valid Mermaid."""

import copy
import json
import re

import pytest

from diagrams import DIAGRAM_BEGIN, DIAGRAM_END, build_diagram, embed_diagram
from tests.mermaid_grammar import parse


def export(key, value):
    return {"Value": value, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-" + key}}}


def import_of(key):
    return {"Fn::ImportValue": {"Fn::Sub": "${RegistryStackName}-" + key}}


def ssm_arn(suffix):
    return {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ParameterPrefix}/" + suffix
    }


def ssm_arn_with_variables(suffix):
    return {
        "Fn::Sub": [
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Prefix}/" + suffix,
            {"Prefix": {"Ref": "ParameterPrefix"}},
        ]
    }


REGISTRY = {
    "Parameters": {"RepositoryName": {"Type": "String", "Default": "kafkajs-canary-app"}},
    "Resources": {
        "Repository": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": {"Ref": "RepositoryName"}}},
    },
    "Outputs": {
        "RepositoryName": export("RepositoryName", {"Ref": "Repository"}),
        "RepositoryArn": export("RepositoryArn", {"Fn::GetAtt": ["Repository", "Arn"]}),
        "RepositoryUri": export("RepositoryUri", {"Fn::GetAtt": ["Repository", "RepositoryUri"]}),
        "NotExported": {"Value": "x"},
    },
}

APP = {
    "Parameters": {
        "RegistryStackName": {"Type": "String", "Default": "RegistryStack"},
        "ParameterPrefix": {"Type": "String", "Default": "/kafkajs-canary-app"},
        "KafkaPort": {"Type": "Number", "Default": 9092},
        "AlarmEmail": {"Type": "String", "Default": ""},
        "KafkaHost": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/kafkajs-canary-app/kafka-host"},
    },
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "TaskSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "SecurityGroupEgress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": {"Ref": "KafkaPort"},
                        "ToPort": {"Ref": "KafkaPort"},
                        "CidrIp": "0.0.0.0/0",
                    }
                ],
            },
        },
        "Cluster": {"Type": "AWS::ECS::Cluster"},
        "ExecutionRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [
                    {
                        "PolicyDocument": {
                            "Statement": [{"Action": "ecr:BatchGetImage", "Resource": import_of("RepositoryArn")}]
                        }
                    }
                ]
            },
        },
        "TaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "ExecutionRoleArn": {"Fn::GetAtt": "ExecutionRole.Arn"},
                "ContainerDefinitions": [
                    {
                        "Image": {"Fn::Sub": ["${Uri}:${Version}", {"Uri": import_of("RepositoryUri")}]},
                        "Environment": [{"Name": "KAFKA_HOST", "Value": {"Ref": "KafkaHost"}}],
                        "LogConfiguration": {"Options": {"awslogs-group": {"Fn::Sub": "${LogGroup}"}}},
                        "Secrets": {
                            "Fn::If": [  # conditional list
                                "SentryEnabled",
                                [
                                    {"Name": "KAFKA_PASSWORD", "ValueFrom": ssm_arn_with_variables("kafka-password")},
                                    {"Name": "SENTRY_DSN", "ValueFrom": ssm_arn_with_variables("sentry-dsn")},
                                ],
                                [{"Name": "KAFKA_PASSWORD", "ValueFrom": ssm_arn_with_variables("kafka-password")}],
                            ]
                        },
                    },
                    {
                        "Image": "sidecar",
                        "Secrets": [  # conditional entry
                            {"Name": "KAFKA_USERNAME", "ValueFrom": ssm_arn("kafka-username")},
                            {
                                "Fn::If": [
                                    "SentryEnabled",
                                    {"Name": "SENTRY_DSN", "ValueFrom": ssm_arn("sentry-dsn")},
                                    {"Ref": "AWS::NoValue"},
                                ]
                            },
                        ],
                    },
                ],
            },
        },
        "LogGroup": {"Type": "AWS::Logs::LogGroup"},
        "Service": {
            "Type": "AWS::ECS::Service",
            "DependsOn": "Vpc",
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "TaskDefinition": {"Ref": "TaskDefinition"},
                "Tags": [{"Key": "name", "Value": {"Fn::Sub": "${AWS::StackName}-${!Literal}-${Cluster.Arn}"}}],
            },
        },
        "AlertsTopic": {"Type": "AWS::SNS::Topic"},
        "AlertEmail": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}, "TopicArn": {"Ref": "AlertsTopic"}},
        },
        "Custom": {"Type": "Custom::Thing", "Metadata": {"After": {"Ref": "LogGroup"}}},
    },
}


def test_every_resource_is_a_node_in_its_stack_and_part():
    nodes, _ = parse(build_diagram(REGISTRY, APP))
    expected = {
        "RegistryStack_Repository": ("Repository<br/>AWS::ECR::Repository", ("RegistryStack", "registry")),
        "AppStack_Vpc": ("Vpc<br/>AWS::EC2::VPC", ("AppStack", "network")),
        "AppStack_TaskSecurityGroup": ("TaskSecurityGroup<br/>AWS::EC2::SecurityGroup", ("AppStack", "network")),
        "AppStack_Cluster": ("Cluster<br/>AWS::ECS::Cluster", ("AppStack", "compute")),
        "AppStack_TaskDefinition": ("TaskDefinition<br/>AWS::ECS::TaskDefinition", ("AppStack", "compute")),
        "AppStack_Service": ("Service<br/>AWS::ECS::Service", ("AppStack", "compute")),
        "AppStack_LogGroup": ("LogGroup<br/>AWS::Logs::LogGroup", ("AppStack", "monitoring")),
        "AppStack_AlertsTopic": ("AlertsTopic<br/>AWS::SNS::Topic", ("AppStack", "monitoring")),
        "AppStack_AlertEmail": ("AlertEmail<br/>AWS::SNS::Subscription", ("AppStack", "monitoring")),
        "AppStack_ExecutionRole": ("ExecutionRole<br/>AWS::IAM::Role", ("AppStack", "IAM")),
        "AppStack_Custom": ("Custom<br/>Custom::Thing", ("AppStack", "other")),
    }
    assert {node: nodes[node] for node in expected} == expected
    outside = {node for node, (_, groups) in nodes.items() if groups == ("outside the stacks",)}
    assert set(nodes) == set(expected) | outside


def test_references_become_edges_and_parameters_pseudo_parameters_and_literals_do_not():
    _, edges = parse(build_diagram(REGISTRY, APP))
    internal = {(s, t) for s, arrow, label, t in edges if arrow == "-->" and not t.startswith("external")}
    assert internal == {
        ("AppStack_TaskSecurityGroup", "AppStack_Vpc"),  # Ref
        ("AppStack_TaskDefinition", "AppStack_ExecutionRole"),  # Fn::GetAtt "X.Attr"
        ("AppStack_TaskDefinition", "AppStack_LogGroup"),  # Fn::Sub ${X}
        ("AppStack_Service", "AppStack_Cluster"),  # Ref and Fn::Sub ${X.Attr}
        ("AppStack_Service", "AppStack_TaskDefinition"),
        ("AppStack_Service", "AppStack_Vpc"),  # DependsOn
        ("AppStack_AlertEmail", "AppStack_AlertsTopic"),
        ("AppStack_Custom", "AppStack_LogGroup"),  # Ref in Metadata
    }


def test_imports_are_dashed_edges_to_the_resource_behind_the_export():
    _, edges = parse(build_diagram(REGISTRY, APP))
    assert {e for e in edges if e[1] == "-.->"} == {
        ("AppStack_ExecutionRole", "-.->", "RepositoryArn", "RegistryStack_Repository"),
        ("AppStack_TaskDefinition", "-.->", "RepositoryUri", "RegistryStack_Repository"),
    }


def test_outside_pieces_parameter_store_kafka_and_alert_email():
    nodes, edges = parse(build_diagram(REGISTRY, APP))
    outside = {(s, label, nodes[t][0]) for s, _, label, t in edges if t.startswith("external")}
    assert outside == {
        ("AppStack_TaskDefinition", "secret", "/kafkajs-canary-app/kafka-password<br/>SSM Parameter Store"),
        ("AppStack_TaskDefinition", "secret", "/kafkajs-canary-app/kafka-username<br/>SSM Parameter Store"),
        ("AppStack_TaskDefinition", "secret", "/kafkajs-canary-app/sentry-dsn<br/>SSM Parameter Store"),
        ("AppStack_TaskDefinition", "reads", "/kafkajs-canary-app/kafka-host<br/>SSM Parameter Store"),
        ("AppStack_TaskSecurityGroup", "egress", "Kafka cluster<br/>port 9092"),
        ("AppStack_AlertEmail", "email", "Alert email<br/>AlarmEmail parameter"),
    }


def test_output_does_not_depend_on_key_order():
    shuffled = copy.deepcopy(APP)
    shuffled["Resources"] = dict(reversed(list(APP["Resources"].items())))
    assert build_diagram(REGISTRY, shuffled) == build_diagram(REGISTRY, APP)


def test_stack_names_and_logical_ids_that_sanitize_alike_still_get_unique_ids():
    registry = {"Resources": {"a_b": {"Type": "AWS::ECR::Repository"}, "end": {"Type": "AWS::ECR::Repository"}}}
    app = {"Resources": {"b": {"Type": "AWS::SNS::Topic"}}}
    nodes, _ = parse(build_diagram(registry, app, registry_stack="my-stack", app_stack="my-stack_a"))
    assert sorted(label for label, _ in nodes.values()) == [
        "a_b<br/>AWS::ECR::Repository",
        "b<br/>AWS::SNS::Topic",
        "end<br/>AWS::ECR::Repository",
    ]


def test_import_of_a_name_the_registry_does_not_export_is_an_error():
    app = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"X": import_of("Missing")}}}}
    with pytest.raises(ValueError, match=r"AppStack\.Role imports '\$\{RegistryStackName\}-Missing'"):
        build_diagram(REGISTRY, app)


def test_labels_escape_quotes_and_angle_brackets():
    app = {"Resources": {"Thing": {"Type": 'Custom::A"B<C>#'}}}
    nodes, _ = parse(build_diagram({}, app))
    assert nodes["AppStack_Thing"][0] == "Thing<br/>Custom::A#quot;B#lt;C#gt;#35;"


def test_embed_diagram_replaces_only_the_marked_block_and_is_idempotent():
    page = f"# Title\n\n{DIAGRAM_BEGIN}\nold picture\n{DIAGRAM_END}\n\nMore text.\n"
    once = embed_diagram(page, "flowchart LR\n  a --> b\n")
    assert once == (
        f"# Title\n\n{DIAGRAM_BEGIN}\n```mermaid\nflowchart LR\n  a --> b\n```\n{DIAGRAM_END}\n\nMore text.\n"
    )
    assert embed_diagram(once, "flowchart LR\n  a --> b\n") == once


@pytest.mark.parametrize("page", ["no markers", f"{DIAGRAM_END} before {DIAGRAM_BEGIN}"])
def test_embed_diagram_without_markers_says_what_to_add(page):
    with pytest.raises(ValueError, match="add both markers"):
        embed_diagram(page, "flowchart LR\n")


@pytest.fixture(scope="module")
def generated():
    """The project's real templates, as generate.py writes them."""
    registry = pytest.importorskip("templates.registry", reason="registry template not written yet")
    app = pytest.importorskip("templates.app", reason="app template not written yet")
    return (json.loads(registry.build_registry_template().to_json()), json.loads(app.build_app_template().to_json()))


def test_generated_templates_every_resource_is_a_node(generated):
    registry, app = generated
    nodes, _ = parse(build_diagram(registry, app))
    for stack, template in (("RegistryStack", registry), ("AppStack", app)):
        for logical_id, resource in template["Resources"].items():
            label, groups = nodes[f"{stack}_{logical_id}"]
            assert label == f"{logical_id}<br/>{resource['Type']}"
            assert groups[0] == stack


def imports_in(node):
    if isinstance(node, dict):
        if "Fn::ImportValue" in node:
            yield node["Fn::ImportValue"]
        for value in node.values():
            yield from imports_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from imports_in(item)


def test_generated_templates_every_import_joins_the_importer_to_the_exported_resource(generated):
    registry, app = generated
    _, edges = parse(build_diagram(registry, app))
    expected = set()
    for logical_id, resource in app["Resources"].items():
        for imported in imports_in(resource):
            sub = imported["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else sub
            variable, key = re.fullmatch(r"\$\{(\w+)\}-(\w+)", text).groups()
            assert variables.get(variable, {"Ref": variable}) == {"Ref": "RegistryStackName"}
            value = registry["Outputs"][key]["Value"]
            exporter = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
            expected.add((f"AppStack_{logical_id}", "-.->", key, f"RegistryStack_{exporter}"))
    assert expected, "the app template imports nothing from the registry"
    assert {e for e in edges if e[1] == "-.->"} == expected


def test_generated_templates_show_parameter_store_kafka_and_the_alert_email(generated):
    registry, app = generated
    nodes, edges = parse(build_diagram(registry, app))
    outside = {
        (source, nodes[target][0].split("<br/>")[0]) for source, _, _, target in edges if target.startswith("external")
    }
    assert outside == {
        *(
            ("AppStack_TaskDefinition", f"/kafkajs-canary-app/{suffix}")
            for suffix in ("kafka-host", "kafka-username", "kafka-password", "sentry-dsn")
        ),
        ("AppStack_TaskSecurityGroup", "Kafka cluster"),
        ("AppStack_AlertsEmailSubscription", "Alert email"),
    }
