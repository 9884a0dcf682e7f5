"""The README's overview: at most 12 boxes showing how data flows through the canary, from a view declared
here and checked against the rendered templates (`output/architecture.mmd` keeps every resource).

Each box stands for resources of the templates (or a piece outside them) and is drawn when the templates
have them, so a box for a part another change adds (the Slack notifier) appears once that part exists.
Each arrow names the fact in the templates that makes it true: when both boxes are drawn but the fact is
gone, drawing fails and says which arrow to revise, so the overview cannot drift from the templates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cfn.conditions import Conditions
from contract import APP_STACK, REGISTRY_STACK

from .mermaid import edge_label, label
from .resource_graph import References, export_targets, match_export, plain_items, render_text

MAX_BOXES = 12
APP = (APP_STACK,)


@dataclass(frozen=True)
class Stacks:
    """The two rendered templates, and the facts the view reads from them."""

    registry: dict
    app: dict

    def app_resources(self, resource_type: str) -> dict[str, dict]:
        return {name: r for name, r in self.app.get("Resources", {}).items() if r.get("Type") == resource_type}

    def parameter_default(self, name: str) -> str:
        return str(self.app.get("Parameters", {}).get(name, {}).get("Default", name))

    def containers(self) -> Iterator[dict]:
        for task in self.app_resources("AWS::ECS::TaskDefinition").values():
            yield from plain_items(task.get("Properties", {}).get("ContainerDefinitions", []))

    @staticmethod
    def refers(value: object, targets: dict[str, dict]) -> bool:
        """Whether `value` names one of the resources `targets` (Ref, Fn::GetAtt, Fn::Sub)."""
        found = References()
        found.walk(value)
        return bool(found.names & targets.keys())

    def subscriptions(self, protocol: str) -> list[dict]:
        """The alerts topic's subscriptions with this protocol (as resources or inline on the topic)."""
        topics = self.app_resources("AWS::SNS::Topic")
        inline = [s for t in topics.values() for s in plain_items(t.get("Properties", {}).get("Subscription", []))]
        separate = [
            r.get("Properties", {})
            for r in self.app_resources("AWS::SNS::Subscription").values()
            if self.refers(r.get("Properties", {}).get("TopicArn"), topics)
        ]
        return [s for s in inline + separate if s.get("Protocol") == protocol]

    def slack_notifiers(self) -> dict[str, dict]:
        """Lambda functions the alerts topic invokes."""
        functions = self.app_resources("AWS::Lambda::Function")
        return {
            name: function
            for name, function in functions.items()
            if any(self.refers(s.get("Endpoint"), {name: function}) for s in self.subscriptions("lambda"))
        }


# --- The facts behind the arrows ------------------------------------------------------------------------


def _image_from_registry(stacks: Stacks) -> bool:
    exports = export_targets(stacks.registry)
    for container in stacks.containers():
        found = References()
        found.walk(container.get("Image"))
        if any(match_export(name, exports, APP_STACK, "container") == "RepositoryUri" for name in found.imports):
            return True
    return False


def _secrets_from_parameter_store(stacks: Stacks) -> bool:
    parameters = stacks.app.get("Parameters", {})
    return any(
        ":parameter" in render_text(secret.get("ValueFrom"), parameters)
        for container in stacks.containers()
        for secret in plain_items(container.get("Secrets", []))
    )


def _logs_to_log_group(stacks: Stacks) -> bool:
    log_groups = stacks.app_resources("AWS::Logs::LogGroup")
    return any(stacks.refers(container.get("LogConfiguration"), log_groups) for container in stacks.containers())


def _default_service_subnets(stacks: Stacks) -> list[str]:
    """The subnets the service's tasks run in when every parameter keeps its Default."""
    conditions = Conditions(stacks.app)
    names = []
    for service in stacks.app_resources("AWS::ECS::Service").values():
        network = conditions.resolve(service.get("Properties", {}).get("NetworkConfiguration", {}))
        names += [subnet.get("Ref") for subnet in network.get("AwsvpcConfiguration", {}).get("Subnets", [])]
    return names


def _egress_through_nat(stacks: Stacks) -> bool:
    """Every default subnet of the tasks routes 0.0.0.0/0 to a NAT gateway."""
    tables = {
        association["Properties"]["SubnetId"].get("Ref"): association["Properties"]["RouteTableId"].get("Ref")
        for association in stacks.app_resources("AWS::EC2::SubnetRouteTableAssociation").values()
    }
    through_nat = {
        route["Properties"]["RouteTableId"].get("Ref")
        for route in stacks.app_resources("AWS::EC2::Route").values()
        if route["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0" and "NatGatewayId" in route["Properties"]
    }
    subnets = _default_service_subnets(stacks)
    return bool(subnets) and all(tables.get(subnet) in through_nat for subnet in subnets)


def _kafka_port_open(stacks: Stacks) -> bool:
    return any(
        {"Ref": "KafkaPort"} in (rule.get("FromPort"), rule.get("ToPort"))
        for group in stacks.app_resources("AWS::EC2::SecurityGroup").values()
        for rule in plain_items(group.get("Properties", {}).get("SecurityGroupEgress", []))
    )


def _alarms_watch_the_service(stacks: Stacks) -> bool:
    services = stacks.app_resources("AWS::ECS::Service")
    alarms = stacks.app_resources("AWS::CloudWatch::Alarm").values()
    return any(stacks.refers(alarm.get("Properties"), services) for alarm in alarms)


def _alarms_notify_the_topic(stacks: Stacks) -> bool:
    topics = stacks.app_resources("AWS::SNS::Topic")
    return any(
        stacks.refers(alarm.get("Properties", {}).get("AlarmActions"), topics)
        for alarm in stacks.app_resources("AWS::CloudWatch::Alarm").values()
    )


def _notifier_knows_the_webhook(stacks: Stacks) -> bool:
    return any(
        "WEBHOOK_URL_PARAMETER" in function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for function in stacks.slack_notifiers().values()
    )


# --- The view ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    key: str
    text: Callable[[Stacks], str]
    present: Callable[[Stacks], bool]
    group: tuple[str, ...] = ()  # nested subgraphs; () is outside the stacks (drawn dashed)


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    text: str
    fact: str  # what must hold in the templates, said when it does not
    holds: Callable[[Stacks], bool]


BOXES = (
    Box(
        "ecr",
        lambda s: "ECR repository<br/>" + str(s.registry["Parameters"]["RepositoryName"]["Default"]),
        lambda s: any(r.get("Type") == "AWS::ECR::Repository" for r in s.registry.get("Resources", {}).values()),
        (REGISTRY_STACK,),
    ),
    Box(
        "parameter_store",
        lambda s: f"SSM Parameter Store<br/>{s.parameter_default('ParameterPrefix')}/*",
        lambda s: True,
    ),
    Box(
        "task",
        lambda s: "Fargate tasks<br/>private subnets",
        lambda s: bool(s.app_resources("AWS::ECS::Service")),
        APP,
    ),
    Box("nat", lambda s: "NAT gateway<br/>public subnet", lambda s: bool(s.app_resources("AWS::EC2::NatGateway")), APP),
    Box("kafka", lambda s: f"Kafka brokers<br/>port {s.parameter_default('KafkaPort')}", lambda s: True),
    Box(
        "alarms",
        lambda s: f"CloudWatch alarms<br/>{len(s.app_resources('AWS::CloudWatch::Alarm'))} alarms",
        lambda s: bool(s.app_resources("AWS::CloudWatch::Alarm")),
        APP,
    ),
    Box(
        "logs",
        lambda s: "CloudWatch Logs<br/>encrypted, retained",
        lambda s: bool(s.app_resources("AWS::Logs::LogGroup")),
        APP,
    ),
    Box(
        "topic",
        lambda s: "SNS alerts topic<br/>encrypted",
        lambda s: bool(s.app_resources("AWS::SNS::Topic")),
        APP,
    ),
    Box("email", lambda s: "Email<br/>AlarmEmail parameter", lambda s: bool(s.subscriptions("email"))),
    Box("notifier", lambda s: "Slack notifier<br/>Lambda", lambda s: bool(s.slack_notifiers()), APP),
    Box("slack", lambda s: "Slack channel", lambda s: bool(s.slack_notifiers())),
)

ARROWS = (
    Arrow("ecr", "task", "image", "a container's Image imports the registry's RepositoryUri", _image_from_registry),
    Arrow(
        "parameter_store",
        "task",
        "secrets",
        "a container's Secrets read Parameter Store parameters",
        _secrets_from_parameter_store,
    ),
    Arrow("task", "logs", "logs", "a container logs to the stack's log group", _logs_to_log_group),
    Arrow(
        "task",
        "nat",
        "egress",
        "with default parameters the tasks' subnets route 0.0.0.0/0 to the NAT gateway",
        _egress_through_nat,
    ),
    Arrow("nat", "kafka", "Kafka", "the tasks' security group lets KafkaPort out", _kafka_port_open),
    Arrow("task", "alarms", "metrics", "an alarm watches the ECS service's metrics", _alarms_watch_the_service),
    Arrow("alarms", "topic", "alarm", "the alarms' AlarmActions publish to the alerts topic", _alarms_notify_the_topic),
    Arrow("topic", "email", "email", "the topic has an email subscription", lambda s: bool(s.subscriptions("email"))),
    Arrow("topic", "notifier", "invokes", "the topic invokes the notifier Lambda", lambda s: bool(s.slack_notifiers())),
    Arrow(
        "notifier",
        "slack",
        "webhook",
        "the notifier's environment names the webhook URL's parameter (WEBHOOK_URL_PARAMETER)",
        _notifier_knows_the_webhook,
    ),
)


def build_overview(registry: dict, app: dict) -> str:
    """The overview as Mermaid. Raises ValueError when an arrow between drawn boxes no longer holds."""
    stacks = Stacks(registry, app)
    boxes = [box for box in BOXES if box.present(stacks)]
    if len(boxes) > MAX_BOXES:
        raise ValueError(f"the overview has {len(boxes)} boxes, over {MAX_BOXES}: merge some in diagrams/overview.py")
    drawn = {box.key for box in boxes}
    arrows = [arrow for arrow in ARROWS if {arrow.source, arrow.target} <= drawn]
    for arrow in arrows:
        if not arrow.holds(stacks):
            raise ValueError(
                f"overview arrow {arrow.source} -> {arrow.target} no longer holds ({arrow.fact}): "
                "revise ARROWS in diagrams/overview.py"
            )
    return _render(boxes, arrows, stacks)


def _render(boxes: list[Box], arrows: list[Arrow], stacks: Stacks) -> str:
    lines = ["flowchart LR", *_group_lines((), boxes, stacks)]
    lines += [f"  {arrow.source} -->|{edge_label(arrow.text)}| {arrow.target}" for arrow in arrows]
    outside = [box.key for box in boxes if not box.group]
    if outside:
        lines.append("  classDef external stroke-dasharray: 4 4")
        lines.append(f"  class {','.join(outside)} external")
    return "\n".join(lines) + "\n"


def _group_lines(path: tuple[str, ...], boxes: list[Box], stacks: Stacks) -> list[str]:
    """The boxes directly in the subgraph `path`, then its nested subgraphs, in the order the view lists them."""
    indent = "  " * (len(path) + 1)
    lines = [f"{indent}{box.key}[{label(box.text(stacks))}]" for box in boxes if box.group == path]
    inner = [box.group[len(path)] for box in boxes if box.group[: len(path)] == path and len(box.group) > len(path)]
    for name in dict.fromkeys(inner):
        key = "group_" + re.sub(r"\W+", "_", name, flags=re.ASCII).strip("_")
        lines.append(f"{indent}subgraph {key}[{label(name)}]")
        lines += _group_lines((*path, name), boxes, stacks)
        lines.append(f"{indent}end")
    return lines
