"""What a change set changes, described and executed the way CloudFormation does it.

moto 5.2.5 compares the two templates' text only. A release that changes only a parameter (the app's
`Version`) lists resources by whether they mention the parameter directly, never says whether a resource
is replaced, and a resource that changes only because it references a replaced one (the ECS Service,
whose TaskDefinition is replaced) is neither listed nor updated: the service keeps running the old task
definition. Here, as in CloudFormation:

- each resource's properties are resolved (moto's own `clean_json`) under the deployed parameters and
  physical resources, and under the new parameters with every added or replaced resource standing for
  a value known only after execution; a resource whose resolved properties differ is a Modify;
- `Replacement` follows the resource type's registry schema (cfn-lint ships the same schemas AWS
  publishes): a changed create-only property means `True`, a conditionally create-only one `Conditional`;
- `Details` name each changed property with its cause: a changed parameter (`ParameterReference`), a
  replaced resource (`ResourceReference`, evaluated `Dynamic`) or the template itself (`DirectModification`);
- resources whose `Condition` is false under the parameters are not listed (nor created);
- execution follows the plan: adds and updates in dependency order; removals and the old copies of
  replaced resources only once the update succeeded (the cleanup phase); a rollback restores what was
  replaced or updated and deletes what was added.

`IncludePropertyValues` (property values in `BeforeContext` / `AfterContext`) is not modelled: a client
gets the classic `Details` without values, as from an endpoint that predates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cfn.aws_specs import resource_schema
from cfn.intrinsics import references

RESOURCE_ATTRIBUTES = ("Metadata", "DeletionPolicy", "UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy")
# Types whose replacement leaves the superseded copy in place until the cleanup phase (see the
# TaskDefinition fix below); moto's other updates delete and recreate in one go.
DEFERRED_CLEANUP_TYPES = ("AWS::ECS::TaskDefinition",)


@dataclass
class ResourceChange:
    """One row of DescribeChangeSet's Changes, shaped for moto's serializer (snake_case attributes)."""

    action: str
    logical_resource_id: str
    resource_type: str
    physical_resource_id: str | None = None
    replacement: str | None = None
    scope: list[str] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)


class _CreatedByThisChangeSet:
    """A resource the change set adds or replaces: its identifiers exist only once it is executed."""

    def __init__(self, logical_id: str):
        self.logical_id = logical_id
        self.physical_resource_id = f"{{{logical_id}: known after execution}}"

    def get_cfn_attribute(self, name: str) -> str:
        return f"{{{self.logical_id}.{name}: known after execution}}"


class _NotModelled:
    """A resource moto does not create (alarms, wait condition handles): stable stand-in values."""

    def __init__(self, logical_id: str):
        self.logical_id = logical_id
        self.physical_resource_id = logical_id

    def get_cfn_attribute(self, name: str) -> str:
        return f"{self.logical_id}.{name}"


def dependency_order(resources: dict[str, dict]) -> list[str]:
    """Logical ids, each after every resource it references or depends on (template order otherwise)."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in ordered or logical_id in visiting:
            return
        visiting.add(logical_id)
        resource = resources[logical_id]
        depends_on = resource.get("DependsOn", [])
        for dependency in sorted(
            (references(resource) | set([depends_on] if isinstance(depends_on, str) else depends_on)) & set(resources)
        ):
            visit(dependency)
        visiting.discard(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered


def _recreation_rules(region: str, resource_type: str) -> tuple[set[str], set[str]]:
    """Top-level properties whose change replaces the resource: always, and under conditions."""
    schema = resource_schema(region, resource_type)

    def top_level(paths: list[str]) -> set[str]:
        return {path.split("/")[2] for path in paths if path.startswith("/properties/")}

    always = {path.split("/")[2] for path in schema.get("createOnlyProperties", []) if path.count("/") == 2}
    conditional = top_level(schema.get("conditionalCreateOnlyProperties", []))
    conditional |= top_level(schema.get("createOnlyProperties", [])) - always  # only a nested part is create-only
    return always, conditional


class _Resolution:
    """A template resolved under one set of parameters and physical resources, without creating anything.

    It is a moto ResourceMap loaded with the parameters and conditions only; every resource of the
    template is placed in it up front (the deployed object or a stand-in), so resolving a Ref never
    makes moto create the resource on the fly."""

    def __init__(self, stack, backend, template: dict, parameters: dict, objects: dict[str, Any]):
        from moto.cloudformation.parsing import ResourceMap

        self.template = template
        self.map = ResourceMap(
            stack.stack_id,
            stack.name,
            parameters,
            {},
            region_name=stack.region_name,
            account_id=stack.account_id,
            template=template,
            cross_stack_resources=backend.exports,
        )
        self.map.load_mapping()
        self.map.load_parameters()
        self.map.load_conditions()
        for logical_id in template.get("Resources", {}):
            self.place(logical_id, objects.get(logical_id) or _NotModelled(logical_id))

    def place(self, logical_id: str, resource: Any) -> None:
        self.map._parsed_resources[logical_id] = resource

    def parameter(self, name: str) -> Any:
        return self.map.resolved_parameters.get(name)

    def live_resources(self) -> dict[str, dict]:
        """The template's resources whose Condition holds (the others are not created)."""
        return {
            logical_id: resource
            for logical_id, resource in self.template.get("Resources", {}).items()
            if not resource.get("Condition") or self.map.lazy_condition_map[resource["Condition"]]
        }

    def resolve(self, value: Any) -> Any:
        from moto.cloudformation.parsing import clean_json

        return clean_json(value, self.map)


class ChangePlan:
    """The change set's rows, and how executing, cleaning up and rolling back carry them out."""

    def __init__(self, change_set):
        from moto.cloudformation.models import cloudformation_backends

        stack = change_set.stack
        self.stack = stack
        self.new_template = change_set.template_dict
        self.new_parameters = change_set.parameters
        backend = cloudformation_backends[stack.account_id][stack.region_name]
        deployed = {
            logical_id: resource
            for logical_id, resource in stack.resource_map._parsed_resources.items()
            if logical_id in stack.template_dict.get("Resources", {})
        }
        old = _Resolution(stack, backend, stack.template_dict, stack.parameters, deployed)
        new = _Resolution(stack, backend, self.new_template, self.new_parameters, deployed)
        self.old_resources = dict(stack.template_dict.get("Resources", {}))
        self.changes = self._compare(old, new)
        self.replaced: dict[str, Any] = {}  # logical id -> the deployed object its replacement supersedes

    def _compare(self, old: _Resolution, new: _Resolution) -> list[ResourceChange]:
        old_resources, new_resources = old.live_resources(), new.live_resources()
        changed_parameters = {
            name for name in new.template.get("Parameters", {}) if str(old.parameter(name)) != str(new.parameter(name))
        }
        changes, recreated = [], set()
        for logical_id in dependency_order(new_resources):
            resource = new_resources[logical_id]
            if logical_id not in old_resources:
                changes.append(ResourceChange("Add", logical_id, resource["Type"]))
                recreated.add(logical_id)
                new.place(logical_id, _CreatedByThisChangeSet(logical_id))
                continue
            details = self._details(resource, old_resources[logical_id], old, new, changed_parameters, recreated)
            if not details:
                continue
            requirements = {detail["Target"]["RequiresRecreation"] for detail in details}
            replacement = (
                "True" if "Always" in requirements else "Conditional" if "Conditionally" in requirements else "False"
            )
            deployed = old.map._parsed_resources[logical_id]
            changes.append(
                ResourceChange(
                    "Modify",
                    logical_id,
                    resource["Type"],
                    physical_resource_id=deployed.physical_resource_id,
                    replacement=replacement,
                    scope=sorted({detail["Target"]["Attribute"] for detail in details}),
                    details=details,
                )
            )
            if replacement == "True":
                recreated.add(logical_id)
                new.place(logical_id, _CreatedByThisChangeSet(logical_id))
        for logical_id, resource in old_resources.items():
            if logical_id not in new_resources:
                deployed = old.map._parsed_resources[logical_id]
                changes.append(
                    ResourceChange(
                        "Remove", logical_id, resource["Type"], physical_resource_id=deployed.physical_resource_id
                    )
                )
        return changes

    def _details(self, resource, deployed_resource, old, new, changed_parameters, recreated) -> list[dict]:
        always, conditionally = _recreation_rules(self.stack.region_name, resource["Type"])
        old_raw, new_raw = deployed_resource.get("Properties", {}), resource.get("Properties", {})
        old_properties, new_properties = old.resolve(old_raw), new.resolve(new_raw)
        targets = []
        for name in sorted(set(old_properties) | set(new_properties)):
            if old_properties.get(name) == new_properties.get(name):
                continue
            if name == "Tags":
                target = {"Attribute": "Tags", "RequiresRecreation": "Never"}
            else:
                recreation = "Always" if name in always else "Conditionally" if name in conditionally else "Never"
                target = {"Attribute": "Properties", "Name": name, "RequiresRecreation": recreation}
            targets.append((target, old_raw.get(name), new_raw.get(name)))
        for attribute in RESOURCE_ATTRIBUTES:
            if deployed_resource.get(attribute) != resource.get(attribute):
                target = {"Attribute": attribute, "RequiresRecreation": "Never"}
                targets.append((target, deployed_resource.get(attribute), resource.get(attribute)))
        return [
            detail
            for target, before, after in targets
            for detail in _causes(target, before, after, changed_parameters, recreated)
        ]

    # Execution: CloudFormation's phases ---------------------------------------------------------

    def _ids(self, action: str) -> list[str]:
        return [change.logical_resource_id for change in self.changes if change.action == action]

    def apply(self) -> None:
        """Create and update, dependencies first; what is removed or replaced stays until clean_up()."""
        resource_map = self.stack.resource_map
        self.replaced = {
            change.logical_resource_id: resource_map._parsed_resources.get(change.logical_resource_id)
            for change in self.changes
            if change.replacement == "True"
        }
        updatable = [logical_id for logical_id in self._ids("Modify") if _can_update(self.new_template, logical_id)]
        _update_resource_map(
            resource_map, self.new_template, self.new_parameters, {"Add": self._ids("Add"), "Modify": updatable}
        )

    def clean_up(self) -> None:
        """After success: delete removed resources and the superseded copies that replacements left."""
        resource_map = self.stack.resource_map
        for logical_id in self._ids("Remove"):
            resource = resource_map._parsed_resources.pop(logical_id, None)
            if resource is not None:
                resource_map._delete_resource(resource, self.old_resources[logical_id])
        for logical_id, superseded in self.replaced.items():
            if superseded is not None and superseded is not resource_map._parsed_resources.get(logical_id):
                if self.old_resources[logical_id]["Type"] in DEFERRED_CLEANUP_TYPES:
                    resource_map._delete_resource(superseded, self.old_resources[logical_id])

    def roll_back(self, previous_template: dict, previous_parameters: dict) -> None:
        """Undo apply(): put replaced resources back, update the others back, delete what was created."""
        resource_map = self.stack.resource_map
        parsed = resource_map._parsed_resources
        replacements = {logical_id: parsed.get(logical_id) for logical_id in self.replaced}
        added = {logical_id: parsed.pop(logical_id, None) for logical_id in self._ids("Add")}
        for logical_id, superseded in self.replaced.items():
            if superseded is not None:
                parsed[logical_id] = superseded
        in_place = [
            logical_id
            for logical_id in self._ids("Modify")
            if logical_id not in self.replaced and _can_update(previous_template, logical_id)
        ]
        _update_resource_map(resource_map, previous_template, previous_parameters, {"Add": [], "Modify": in_place})
        for logical_id, resource in [*replacements.items(), *reversed(added.items())]:
            if resource is not None and resource is not self.replaced.get(logical_id):
                resource_map._delete_resource(resource, self.new_template["Resources"][logical_id])


def _causes(target: dict, before: Any, after: Any, changed_parameters: set[str], recreated: set[str]) -> list[dict]:
    """Details for one changed target, one per cause, as CloudFormation lists them."""
    named = references(after)
    causes = [("ParameterReference", name, "Static") for name in sorted(named & changed_parameters)]
    causes += [("ResourceReference", name, "Dynamic") for name in sorted(named & recreated)]
    if before != after or not causes:
        causes.insert(0, ("DirectModification", None, "Static"))
    details = []
    for source, entity, evaluation in causes:
        detail = {"Target": dict(target), "Evaluation": evaluation, "ChangeSource": source}
        if entity:
            detail["CausingEntity"] = entity
        details.append(detail)
    return details


def _can_update(template: dict, logical_id: str) -> bool:
    """moto updates only the types that implement an update; the others keep their deployed state."""
    from moto.cloudformation.parsing import resource_class_from_type

    resource_class = resource_class_from_type(template["Resources"][logical_id]["Type"])
    return resource_class is not None and not hasattr(
        resource_class.update_from_cloudformation_json, "__isabstractmethod__"
    )


def _update_resource_map(resource_map, template: dict, parameters: dict, actions: dict[str, list[str]]) -> None:
    """moto's ResourceMap.update, with the adds and updates given instead of its own text comparison."""
    planned = {"Add": list(actions["Add"]), "Modify": list(actions["Modify"]), "Remove": []}
    resource_map.build_resource_diff = lambda *args, **kwargs: planned
    resource_map.input_parameters = parameters  # update() keeps the previous ones when given {}
    try:
        resource_map.update(template, parameters)
    finally:
        del resource_map.build_resource_diff


def diff(self) -> list[ResourceChange]:
    """A change set's changes, planned by ChangePlan (kept on the change set for its execution)."""
    self.plan = ChangePlan(self)
    return self.plan.changes


def replace_task_definition(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    """Every TaskDefinition property is create-only: a new revision with all of them (moto's update keeps
    four and deregisters the old revision at once); ChangePlan.clean_up deregisters the old one."""
    return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)


def deregister_task_definition(self, account_id: str, region_name: str) -> None:
    """What CloudFormation does when it deletes one (cleanup, rollback, stack deletion); moto keeps it."""
    from moto.ecs.models import ecs_backends

    ecs_backends[account_id][region_name].deregister_task_definition(self.arn)
