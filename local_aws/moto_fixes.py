"""Why the moto fixes exist, and the fixes.

The deployer works the way CloudFormation is meant to be used: create a change set, show it, execute
it, watch the events. moto 5.2.5 emulates `create_stack` well but its change-set path is broken in ways
that make a faithful end-to-end run impossible:

- a stack created through a change set is not given the region's exports, so `Fn::ImportValue`
  always fails ("No export named X found");
- executing a change set never resolves the stack's Outputs nor registers its exports
  (`describe_stacks` shows no outputs, `list_exports` stays empty);
- the parameters of an executed UPDATE are not recorded on the stack, so the next identical deploy
  is not recognised as "no changes";
- a resource that fails during execution surfaces as a synchronous HTTP error from ExecuteChangeSet
  instead of FAILED events and a rollback;
- a change set that FAILED ("no changes") or was already executed can be executed (again);
- a CREATE change set for a stack left in REVIEW_IN_PROGRESS (a dry run of a first deploy) makes a
  second stack of the same name instead of reusing the first.

Three more gaps stop the real templates and the deployer short of the end:

- UpdateTerminationProtection is not implemented (HTTP 500); the deployer protects the registry;
- an AWS::ECS::TaskDefinition update skips the PascalCase -> camelCase remap that creation does, so
  the new revision loses its image and every other container setting;
- AWS::KMS::Key hands CloudFormation's Tags (Key/Value) to a backend that wants TagKey/TagValue, so
  any tagged key fails with KeyError: 'TagKey'.

More fixes live in modules of their own, each saying why: `previous_values` (UsePreviousValue takes
the value the stack was given, not what moto resolved it to).

`apply_moto_fixes()` replaces `CloudFormationBackend.create_change_set` (a wrapper around moto's),
`CloudFormationBackend.execute_change_set` (rewritten: moto's has nothing worth keeping), and wraps the
three resource/response methods above, so that the deploy flow behaves as on AWS for these cases. The
patch reaches into moto's internals and is written for moto==5.2.5 exactly (pinned in setup.cfg); on
any other version it refuses to apply. Everything else moto does (and does not check) is left alone.
"""

from __future__ import annotations

import traceback

from . import previous_values
from .errors import LocalAWSError

MOTO_VERSION = "5.2.5"


def apply_moto_fixes() -> None:
    """Patch moto's change-set handling and three resource gaps (see the module docstring). Idempotent."""
    import moto
    from moto.cloudformation.models import CloudFormationBackend

    if moto.__version__ != MOTO_VERSION:
        raise LocalAWSError(
            f"local_aws patches moto {MOTO_VERSION} internals but moto {moto.__version__} "
            f"is installed; run: pip install 'moto[server]=={MOTO_VERSION}'"
        )
    if CloudFormationBackend.execute_change_set is _execute_change_set:
        return
    original_create_change_set = CloudFormationBackend.create_change_set

    def create_change_set(
        self, stack_name, change_set_name, template, parameters, description, change_set_type, **kwargs
    ):
        if change_set_type == "CREATE":
            _take_over_stack_under_review(self, stack_name, change_set_name)
        change_set_id, stack_id = original_create_change_set(
            self, stack_name, change_set_name, template, parameters, description, change_set_type, **kwargs
        )
        # moto builds the new stack without cross-stack resources; share the region's live exports
        # so that imports resolve at execution time, as on AWS.
        stack = self.stacks[stack_id]
        stack.cross_stack_resources = stack.resource_map.cross_stack_resources = self.exports
        return change_set_id, stack_id

    CloudFormationBackend.create_change_set = create_change_set
    CloudFormationBackend.execute_change_set = _execute_change_set
    _fix_resource_gaps()
    previous_values.apply()


def _fix_resource_gaps() -> None:
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys
    from moto.ecs.models import TaskDefinition
    from moto.kms.models import Key

    def update_termination_protection(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
        return ActionResult({"StackId": stack.stack_id})

    original_update_task_definition = TaskDefinition.update_from_cloudformation_json.__func__

    def update_task_definition(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        containers = cloudformation_json["Properties"].get("ContainerDefinitions", [])
        remapped = _with_properties(
            cloudformation_json, ContainerDefinitions=remap_nested_keys(containers, pascal_to_camelcase)
        )
        return original_update_task_definition(
            cls, original_resource, new_resource_name, remapped, account_id, region_name
        )

    original_create_key = Key.create_from_cloudformation_json.__func__

    def create_key(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        tags = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]}
            for tag in cloudformation_json["Properties"].get("Tags", [])
        ]
        remapped = _with_properties(cloudformation_json, Tags=tags)
        return original_create_key(cls, resource_name, remapped, account_id, region_name, **kwargs)

    CloudFormationResponse.update_termination_protection = update_termination_protection
    TaskDefinition.update_from_cloudformation_json = classmethod(update_task_definition)
    Key.create_from_cloudformation_json = classmethod(create_key)


def _with_properties(resource_json: dict, **properties) -> dict:
    """A copy of a resource's JSON with some Properties replaced (moto's copy stays untouched)."""
    return {**resource_json, "Properties": {**resource_json["Properties"], **properties}}


def _take_over_stack_under_review(backend, stack_name: str, change_set_name: str) -> None:
    """AWS reuses a REVIEW_IN_PROGRESS stack for a new CREATE change set and refuses any other."""
    from moto.cloudformation.exceptions import ValidationError

    for stack_id, stack in list(backend.stacks.items()):
        if stack.name != stack_name:
            continue
        if stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                stack_name,
                message=f"Stack [{stack_name}] already exists and cannot be created again with the "
                f"changeSet [{change_set_name}].",
            )
        # moto cannot attach a new change set to an existing stack: the new stack replaces it.
        del backend.stacks[stack_id]


def _execute_change_set(self, change_set_name: str, stack_name: str | None = None) -> None:
    """Execute like CloudFormation: outputs and exports on success, FAILED events and rollback on error."""
    from moto.cloudformation.exceptions import CloudFormationError

    change_set = self.describe_change_set(change_set_name)
    if change_set.execution_status != "AVAILABLE":  # FAILED ("no changes") or already executed
        raise CloudFormationError(
            "InvalidChangeSetStatus",
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status of "
            f"[{change_set.status if change_set.status == 'FAILED' else change_set.execution_status}]",
        )
    stack = self.stacks[change_set.stack_id]
    operation = change_set.change_set_type  # CREATE or UPDATE
    previous_template = stack.template

    stack.status = f"{operation}_IN_PROGRESS"
    stack._add_stack_event(stack.status, resource_status_reason="User Initiated")
    try:
        change_set.apply()
        stack.template = change_set.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        _register_exports(self, stack)
    except Exception as error:  # any failure of any resource: AWS reports it and rolls back
        _record_failure(stack, change_set, error)
        if operation == "CREATE":
            # deletes what was created, keeping resources with DeletionPolicy Retain, as AWS does
            _roll_back(stack, "ROLLBACK", stack.resource_map.delete)
        else:
            stack.template = previous_template
            _roll_back(stack, "UPDATE_ROLLBACK", lambda: _restore_previous_template(stack))
        change_set.execution_status = "EXECUTE_FAILED"
        return
    stack.parameters = change_set.parameters
    stack.status = f"{operation}_COMPLETE"
    stack._add_stack_event(stack.status)
    change_set.execution_status = "EXECUTE_COMPLETE"


def _register_exports(backend, stack) -> None:
    """Replace the stack's exports in the region; a name exported by another stack is an error."""
    from moto.cloudformation.exceptions import ValidationError

    new_exports = stack.exports
    for export in new_exports:
        owner = backend.exports.get(export.name)
        if owner is not None and owner.exporting_stack_id != stack.stack_id:
            raise ValidationError(
                stack.stack_id,
                message=f"Export with name {export.name} is already exported by stack "
                f"{backend.stacks[owner.exporting_stack_id].name}.",
            )
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del backend.exports[name]
    for export in new_exports:
        backend.exports[export.name] = export


def _record_failure(stack, change_set, error: Exception) -> None:
    """Add the failed resource's event (when one can be named) and the stack's rollback event."""
    from moto.cloudformation.models import Event

    reason = _failure_reason(error)
    logical_id = _failed_logical_id(error)
    resources = change_set.template_dict.get("Resources", {})
    if logical_id in resources:
        action = next((c.action for c in change_set.changes if c.logical_resource_id == logical_id), "Add")
        verb = {"Add": "create", "Modify": "update", "Remove": "delete"}[action]
        stack.events.append(
            Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=logical_id,
                physical_resource_id="",
                resource_type=resources[logical_id]["Type"],
                resource_status=f"{verb.upper()}_FAILED",
                resource_status_reason=reason,
                resource_properties=None,
            )
        )
        reason = f"The following resource(s) failed to {verb}: [{logical_id}]. "
        if change_set.change_set_type == "CREATE":
            reason += "Rollback requested by user."
    rolling_back = "ROLLBACK" if change_set.change_set_type == "CREATE" else "UPDATE_ROLLBACK"
    stack.status = f"{rolling_back}_IN_PROGRESS"
    stack._add_stack_event(stack.status, resource_status_reason=reason)


def _failure_reason(error: Exception) -> str:
    from moto.core.exceptions import ServiceException

    if isinstance(error, ServiceException):
        return f'Resource handler returned message: "{error.message}" (HandlerErrorCode: {error.code})'
    return f"{type(error).__name__}: {error}"


def _failed_logical_id(error: Exception) -> str | None:
    """The resource moto was creating or updating when it failed: the innermost such frame."""
    from moto.cloudformation import parsing

    resource_functions = {
        parsing.parse_and_create_resource.__code__,
        parsing.parse_and_update_resource.__code__,
    }
    logical_ids = [
        frame.f_locals.get("logical_id")
        for frame, _ in traceback.walk_tb(error.__traceback__)
        if frame.f_code in resource_functions
    ]
    return logical_ids[-1] if logical_ids else None


def _roll_back(stack, kind: str, undo) -> None:
    """Run `undo`, then end in `<kind>_COMPLETE`, or `<kind>_FAILED` with the reason if undo fails."""
    try:
        undo()
    except Exception as error:
        stack.status = f"{kind}_FAILED"
        stack._add_stack_event(stack.status, resource_status_reason=_failure_reason(error))
        return
    stack.status = f"{kind}_COMPLETE"
    stack._add_stack_event(stack.status)


def _restore_previous_template(stack) -> None:
    stack._parse_template()
    stack.resource_map.input_parameters = stack.parameters  # update() keeps the failed ones when given {}
    stack.resource_map.update(stack.template_dict, stack.parameters)
    stack.output_map = stack._create_output_map()
