"""The README's overview: a few boxes showing the data flow, each arrow backed by a fact in the templates."""

import copy
import json
from pathlib import Path

import pytest

from contract import TEMPLATE_FILES
from diagrams import build_overview
from diagrams.overview import MAX_BOXES
from tests.mermaid_grammar import parse

OUTPUT = Path(__file__).resolve().parents[2] / "output"
REGISTRY, APP = (json.loads((OUTPUT / TEMPLATE_FILES[kind]).read_text()) for kind in ("registry", "app"))
SLACK_NOTIFIER = {
    "SlackNotifier": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Environment": {"Variables": {"WEBHOOK_URL_PARAMETER": "/kafkajs-canary-app/slack-webhook"}}},
    },
    "SlackSubscription": {
        "Type": "AWS::SNS::Subscription",
        "Properties": {
            "TopicArn": {"Ref": "AlertsTopic"},
            "Protocol": "lambda",
            "Endpoint": {"Fn::GetAtt": ["SlackNotifier", "Arn"]},
        },
    },
}


def flow(app=APP):
    """(source label, edge label, target label) for every arrow, and the boxes by label with their groups."""
    nodes, edges = parse(build_overview(REGISTRY, app))
    first_line = {node: text.split("<br/>")[0] for node, (text, _) in nodes.items()}
    assert "Fargate tasks<br/>private subnets" in {text for text, _ in nodes.values()}
    arrows = {(first_line[source], text, first_line[target]) for source, _, text, target in edges}
    return arrows, {first_line[node]: groups for node, (_, groups) in nodes.items()}


def test_shows_the_data_flow_of_the_generated_templates_in_at_most_twelve_boxes():
    arrows, boxes = flow()
    assert len(boxes) <= MAX_BOXES
    assert arrows >= {
        ("ECR repository", "image", "Fargate tasks"),
        ("SSM Parameter Store", "secrets", "Fargate tasks"),
        ("Fargate tasks", "egress", "NAT gateway"),
        ("NAT gateway", "Kafka", "Kafka brokers"),
        ("Fargate tasks", "logs", "CloudWatch Logs"),
        ("Fargate tasks", "metrics", "CloudWatch alarms"),
        ("CloudWatch alarms", "alarm", "SNS alerts topic"),
        ("SNS alerts topic", "email", "Email"),
    }
    assert boxes["Fargate tasks"] == boxes["NAT gateway"] == ("AppStack",)
    assert boxes["ECR repository"] == ("RegistryStack",)
    assert boxes["Kafka brokers"] == boxes["Email"] == boxes["SSM Parameter Store"] == ()  # outside the stacks


def test_slack_appears_once_the_template_has_a_notifier_on_the_alerts_topic():
    app = copy.deepcopy(APP)
    app["Resources"].update(copy.deepcopy(SLACK_NOTIFIER))
    arrows, _ = flow(app)
    assert {("SNS alerts topic", "invokes", "Slack notifier"), ("Slack notifier", "webhook", "Slack channel")} <= arrows
    # The committed template shows Slack exactly when it has a notifier of its own.
    has_notifier = any(resource["Type"] == "AWS::Lambda::Function" for resource in APP["Resources"].values())
    assert ("Slack channel" in flow()[1]) == has_notifier


def test_an_arrow_whose_fact_is_gone_fails_the_drawing():
    app = copy.deepcopy(APP)
    for resource in app["Resources"].values():
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            for container in resource["Properties"]["ContainerDefinitions"]:
                del container["LogConfiguration"]
    with pytest.raises(ValueError, match=r"overview arrow task -> logs no longer holds .*revise ARROWS"):
        build_overview(REGISTRY, app)


def test_the_tasks_egress_arrow_follows_the_default_subnet_mode():
    app = copy.deepcopy(APP)
    app["Parameters"]["SubnetMode"]["Default"] = "public"
    with pytest.raises(ValueError, match=r"task -> nat no longer holds \(with default parameters"):
        build_overview(REGISTRY, app)
