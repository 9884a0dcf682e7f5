"""moto fix: IMPORT change sets, which moto treats as CREATE (it would make the resources again).

As CloudFormation does: `ResourcesToImport` names, for each resource to adopt, its logical id, type and
identifier; the change set lists those as `Import` (nothing else may change, and Outputs may be neither
added nor modified), fails with a reason when a resource is not in the template, has no DeletionPolicy,
does not exist or belongs to another stack, and its execution adopts the existing resources
(IMPORT_IN_PROGRESS, IMPORT_COMPLETE) without creating anything. Modelled for what the deployer imports:
an ECR repository retained from a deleted registry stack, into a new stack (or one left under review).
"""

from __future__ import annotations

from collections.abc import Callable

IMPORT = "IMPORT"


def _ecr_repository(name: str, account_id: str, region_name: str):
    from moto.ecr.models import ecr_backends

    return ecr_backends[account_id][region_name].repositories.get(name)


# Resource type -> (its import identifier, how to find the resource), as the resource schemas define them.
IMPORTABLE: dict[str, tuple[str, Callable]] = {
    "AWS::ECR::Repository": ("RepositoryName", _ecr_repository),
}


class ImportRefused(Exception):
    """What CloudFormation reports as the change set's StatusReason."""


def create_change_set(handle, self):
    """Why: moto ignores ResourcesToImport and would create the resources, failing on the existing ones."""
    if self._get_param("ChangeSetType") != IMPORT:
        return handle(self)
    _refuse_existing_stack(self.cloudformation_backend, self._get_param("StackName"))
    result = handle(self)
    change_set = self.cloudformation_backend.change_sets[result.result["Id"]]
    try:
        to_import = self._get_param("ResourcesToImport") or []
        change_set.imported = _resources_to_adopt(self.cloudformation_backend, change_set, to_import)
    except ImportRefused as refused:
        change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
        change_set.status_reason = str(refused)
    return result


def adopt(stack, change_set) -> None:
    """At execution: the existing resources take their logical ids (the plan creates nothing for them)."""
    for logical_id, resource in getattr(change_set, "imported", {}).items():
        stack.resource_map._parsed_resources[logical_id] = resource


def _refuse_existing_stack(backend, stack_name: str) -> None:
    from moto.cloudformation.exceptions import ValidationError

    for stack in backend.stacks.values():
        if stack.name == stack_name and stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                stack_name,
                message="the local AWS models IMPORT change sets that create a stack (or reuse one under review) "
                "only, not imports into an existing stack",
            )


def _resources_to_adopt(backend, change_set, to_import: list[dict]) -> dict:
    resources = change_set.template_dict.get("Resources", {})
    adopted = {}
    for entry in to_import:
        logical_id, resource_type = entry["LogicalResourceId"], entry["ResourceType"]
        identifier = entry.get("ResourceIdentifier") or {}
        spec = resources.get(logical_id)
        if spec is None or spec["Type"] != resource_type:
            raise ImportRefused(f"Resource {logical_id} of type {resource_type} is not in the template")
        if "DeletionPolicy" not in spec:
            raise ImportRefused(f"Resource {logical_id} needs a DeletionPolicy attribute to be imported")
        if resource_type not in IMPORTABLE:
            raise ImportRefused(f"ResourceType {resource_type} is not modelled for import by the local AWS")
        key, find = IMPORTABLE[resource_type]
        resource = find(identifier.get(key), change_set.stack.account_id, change_set.stack.region_name)
        if resource is None:
            raise ImportRefused(f"Resource of type {resource_type} with identifier {identifier} does not exist")
        owner = _owning_stack(backend, resource)
        if owner is not None:
            raise ImportRefused(f"Resource {identifier} of type {resource_type} already belongs to stack {owner}")
        adopted[logical_id] = resource
    others = sorted(
        change.logical_resource_id for change in change_set.changes if change.logical_resource_id not in adopted
    )
    if others:
        raise ImportRefused(
            f"You have modified resources [{', '.join(others)}] in your template that are not being imported. "
            "Update, create or delete operations cannot be executed during import operations."
        )
    if change_set.template_dict.get("Outputs", {}) != change_set.stack.template_dict.get("Outputs", {}):
        raise ImportRefused("As part of the import operation, you cannot modify or add [Outputs]")
    for change in change_set.changes:
        change.action = "Import"
        change.physical_resource_id = adopted[change.logical_resource_id].physical_resource_id
    return adopted


def _owning_stack(backend, resource) -> str | None:
    for stack in backend.stacks.values():
        if any(parsed is resource for parsed in stack.resource_map._parsed_resources.values()):
            return stack.name
    return None
