"""The full resource graph (Mermaid flowchart) of the generated CloudFormation templates: every resource,
grouped by stack and part, with its references. `generate.py` writes it to `output/architecture.mmd`.

Pure functions: template dicts in, Mermaid text out.
"""

import re
from collections import defaultdict

from cfn.conditions import every_value
from cfn.intrinsics import SUB_VARIABLE, references, sub_arguments
from contract import APP_STACK, REGISTRY_STACK

from .mermaid import edge_label, label

# Parts of a stack, in display order, chosen by the resource type's service prefix.
PARTS = ("network", "compute", "registry", "monitoring", "IAM", "other")
_PART_BY_SERVICE = {
    "AWS::EC2": "network",
    "AWS::ECS": "compute",
    "AWS::ECR": "registry",
    "AWS::CloudWatch": "monitoring",
    "AWS::Lambda": "monitoring",
    "AWS::Logs": "monitoring",
    "AWS::SNS": "monitoring",
    "AWS::IAM": "IAM",
    "AWS::KMS": "IAM",
}

# Template parameters whose use points outside the stack.
KAFKA_PORT_PARAMETER = "KafkaPort"
ALARM_EMAIL_PARAMETER = "AlarmEmail"

_SSM_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:ssm(?:-secure)?:([^:}]+)")
_SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"


def part_of(resource_type: str) -> str:
    service = "::".join(resource_type.split("::")[:2])
    return _PART_BY_SERVICE.get(service, "other")


def build_diagram(registry: dict, app: dict, registry_stack: str = REGISTRY_STACK, app_stack: str = APP_STACK) -> str:
    """Mermaid flowchart of both stacks: resources grouped by stack and part, their references, the
    cross-stack imports (dashed) and the external pieces the app stack points to.

    Raises ValueError when the app stack imports a name the registry stack does not export.
    """
    ids = _NodeIds()
    edges = set()  # (source id, arrow, label, target id)

    for stack, template in ((registry_stack, registry), (app_stack, app)):
        for logical_id in template.get("Resources", {}):
            ids.add(stack, logical_id)

    exports = export_targets(registry)
    for stack, template in ((registry_stack, registry), (app_stack, app)):
        resources = template.get("Resources", {})
        parameters = template.get("Parameters", {})
        for logical_id, resource in resources.items():
            source = ids.get(stack, logical_id)
            found = References()
            found.walk([resource.get("Properties", {}), resource.get("Metadata", {})])
            found.depends_on(resource.get("DependsOn", []))
            for target in sorted(found.names):
                if target in resources and target != logical_id:
                    edges.add((source, "-->", "", ids.get(stack, target)))
                elif _SSM_PARAMETER_TYPE in parameters.get(target, {}).get("Type", ""):
                    node = _ssm_node(parameters[target].get("Default", target), ids)
                    edges.add((source, "-->", "reads", node))
            for name in found.ssm_names:
                edges.add((source, "-->", "reads", _ssm_node(name, ids)))
            for imported in found.imports:
                key = match_export(imported, exports, stack, logical_id)
                for target in exports[key][1]:
                    edges.add((source, "-.->", key, ids.get(registry_stack, target)))
            for node, text in _external_links(resource, parameters, ids):
                edges.add((source, "-->", text, node))

    return _render(ids, edges, ((registry_stack, registry), (app_stack, app)))


class _NodeIds:
    """Mermaid-safe, unique node ids for (stack, logical id) pairs and external pieces."""

    def __init__(self):
        self._ids = {}
        self._taken = set()
        self.external_labels = {}  # node id -> label

    def add(self, stack, logical_id):
        self._ids[(stack, logical_id)] = self.reserve(f"{stack}_{logical_id}")

    def get(self, stack, logical_id):
        return self._ids[(stack, logical_id)]

    def external(self, name, label):
        if (None, name) not in self._ids:
            self._ids[(None, name)] = self.reserve(f"external_{name}")
        node = self._ids[(None, name)]
        self.external_labels[node] = label
        return node

    def reserve(self, wanted):
        base = re.sub(r"\W", "_", wanted, flags=re.ASCII)
        candidate, n = base, 2
        while candidate in self._taken:
            candidate, n = f"{base}_{n}", n + 1
        self._taken.add(candidate)
        return candidate


class References:
    """Collects the names a resource refers to: Ref, Fn::GetAtt, Fn::Sub variables, DependsOn,
    Fn::ImportValue names and SSM dynamic references."""

    def __init__(self):
        self.names = set()
        self.imports = []
        self.ssm_names = set()

    def depends_on(self, value):
        self.names.update([value] if isinstance(value, str) else value)

    def walk(self, node):
        self.names |= references(node)
        for item in _nodes(node):
            if isinstance(item, str):
                self.ssm_names.update(_SSM_DYNAMIC_REFERENCE.findall(item))
            elif isinstance(item, dict) and list(item) == ["Fn::ImportValue"]:
                self.imports.append(item["Fn::ImportValue"])


def _nodes(node):
    """Every value inside a template fragment, the fragment first."""
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _nodes(child)


def _name_suffix(name) -> str:
    """The literal text after the last substituted piece of an export or import name, e.g.
    '-RepositoryUri' for '${RegistryStackName}-RepositoryUri' or '${AWS::StackName}-RepositoryUri'."""
    return SUB_VARIABLE.split(render_text(name, {}))[-1]


def export_targets(registry: dict) -> dict:
    """Exported output key -> (export name suffix, sorted resources the output's value refers to)."""
    targets = {}
    resources = registry.get("Resources", {})
    for key, output in registry.get("Outputs", {}).items():
        if "Export" in output:
            found = References()
            found.walk(output.get("Value"))
            referred = sorted(name for name in found.names if name in resources)
            targets[key] = (_name_suffix(output["Export"].get("Name")), referred)
    return targets


def match_export(imported, exports, stack, logical_id) -> str:
    """The registry output an import reads: the one whose export name suffix ends the import's name."""
    suffix = _name_suffix(imported)
    matches = [key for key, (export_suffix, _) in exports.items() if export_suffix and suffix.endswith(export_suffix)]
    if not matches:
        raise ValueError(
            f"{stack}.{logical_id} imports {render_text(imported, {})!r}, which the registry "
            "stack does not export: export it from the registry template or fix the name"
        )
    return max(matches, key=lambda key: len(exports[key][0]))


def _ssm_node(name, ids) -> str:
    return ids.external("ssm_" + name.strip("/"), f"{name}<br/>SSM Parameter Store")


def render_text(value, parameters) -> str:
    """A readable string for a template value: parameters shown with their defaults, pseudo
    parameters and resources kept as ${Name}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        default = parameters.get(value["Ref"], {}).get("Default")
        return str(default) if default not in (None, "") else "${{{}}}".format(value["Ref"])
    if isinstance(value, dict) and "Fn::Sub" in value:
        text, variables = sub_arguments(value["Fn::Sub"])
        return SUB_VARIABLE.sub(lambda m: render_text(variables.get(m.group(1), {"Ref": m.group(1)}), parameters), text)
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(render_text(part, parameters) for part in parts)
    return "?"


def _ssm_parameter_name(value_from, parameters) -> str:
    text = render_text(value_from, parameters)
    return text.split(":parameter", 1)[1] if ":parameter" in text else text


def _external_links(resource, parameters, ids):
    """(external node, edge label) pairs for a resource's links outside the stacks."""
    kind = resource.get("Type", "")
    properties = resource.get("Properties", {})
    if kind == "AWS::ECS::TaskDefinition":
        for container in plain_items(properties.get("ContainerDefinitions", [])):
            for secret in plain_items(container.get("Secrets", [])):
                name = _ssm_parameter_name(secret["ValueFrom"], parameters)
                yield _ssm_node(name, ids), "secret"
    rules = []
    if kind == "AWS::EC2::SecurityGroup":
        rules = plain_items(properties.get("SecurityGroupEgress", []))
    elif kind == "AWS::EC2::SecurityGroupEgress":
        rules = [properties]
    if any({"Ref": KAFKA_PORT_PARAMETER} in (rule.get("FromPort"), rule.get("ToPort")) for rule in rules):
        port = parameters.get(KAFKA_PORT_PARAMETER, {}).get("Default", KAFKA_PORT_PARAMETER)
        yield ids.external("kafka", f"Kafka cluster<br/>port {port}"), "egress"
    subscriptions = []
    if kind == "AWS::SNS::Subscription":
        subscriptions = [properties]
    elif kind == "AWS::SNS::Topic":
        subscriptions = plain_items(properties.get("Subscription", []))
    if any(s.get("Protocol") == "email" for s in subscriptions):
        yield ids.external("alert_email", f"Alert email<br/>{ALARM_EMAIL_PARAMETER} parameter"), "email"


def plain_items(value):
    """A property list's entries as dicts, in both branches of conditional (Fn::If) lists and entries."""
    return [entry for entry in every_value(value) if isinstance(entry, dict) and "Ref" not in entry]


def _render(ids, edges, stacks) -> str:
    externals = ids.external_labels
    lines = ["flowchart LR"]
    for stack, template in stacks:
        by_part = defaultdict(list)
        for logical_id, resource in template.get("Resources", {}).items():
            by_part[part_of(resource.get("Type", ""))].append((logical_id, resource.get("Type", "?")))
        lines.append(f"  subgraph {ids.reserve(stack + '_stack')}[{label(stack)}]")
        for part in PARTS:
            if not by_part[part]:
                continue
            lines.append(f"    subgraph {ids.reserve(f'{stack}_{part}_part')}[{label(part)}]")
            for logical_id, kind in sorted(by_part[part]):
                lines.append(f"      {ids.get(stack, logical_id)}[{label(f'{logical_id}<br/>{kind}')}]")
            lines.append("    end")
        lines.append("  end")
    if externals:
        lines.append(f"  subgraph {ids.reserve('external')}[{label('outside the stacks')}]")
        for node in sorted(externals):
            lines.append(f"    {node}[{label(externals[node])}]")
        lines.append("  end")
    for source, arrow, text, target in sorted(edges):
        middle = f"{arrow}|{edge_label(text)}|" if text else arrow
        lines.append(f"  {source} {middle} {target}")
    if externals:
        lines.append("  classDef external stroke-dasharray: 4 4")
        lines.append(f"  class {','.join(sorted(externals))} external")
    return "\n".join(lines) + "\n"
