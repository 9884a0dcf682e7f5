"""Change sets created and executed as CloudFormation does, where moto 5.2.5's change-set path is broken:

- a stack created through a change set is not given the region's exports, so `Fn::ImportValue` always
  fails ("No export named X found");
- executing a change set never resolves the stack's Outputs nor registers its exports (`describe_stacks`
  shows no outputs, `list_exports` stays empty);
- the parameters of an executed UPDATE are not recorded on the stack, so the next identical deploy is not
  recognised as "no changes";
- a resource that fails during execution surfaces as a synchronous HTTP error from ExecuteChangeSet
  instead of FAILED events and a rollback;
- a change set that FAILED ("no changes") or was already executed can be executed (again);
- a CREATE change set for a stack left in REVIEW_IN_PROGRESS (a dry run of a first deploy) makes a second
  stack of the same name instead of reusing the first.

`create_change_set` wraps moto's; `execute_change_set` replaces it (moto's has nothing worth keeping): it
emits resource events, waits for ECS services (service_stabilization), and on success resolves outputs
and exports, or records the failed resource and rolls back.
"""

from __future__ import annotations

import traceback

from . import resource_import, service_stabilization, stack_operations


def create_change_set(
    moto_create_change_set,
    self,
    stack_name,
    change_set_name,
    template,
    parameters,
    description,
    change_set_type,
    **kwargs,
):
    creates = change_set_type in ("CREATE", resource_import.IMPORT)
    under_review = _stack_under_review(self, stack_name, change_set_name) if creates else None
    stack_operations.refuse_duplicate_change_set_name(self, stack_name, change_set_name)
    change_set_id, stack_id = moto_create_change_set(
        self, stack_name, change_set_name, template, parameters, description, change_set_type, **kwargs
    )
    if under_review is not None:
        # AWS attaches a new CREATE change set to the stack left under review; moto made a second stack
        # of the same name (as empty as the first): the change set moves to the first.
        del self.stacks[stack_id]
        change_set = self.change_sets[change_set_id]
        change_set.stack, change_set.stack_id = under_review, under_review.stack_id
        change_set.changes = change_set.diff()  # planned against the stack it now belongs to
        stack_id = under_review.stack_id
    # moto builds the new stack without cross-stack resources; share the region's live exports
    # so that imports resolve at execution time, as on AWS.
    stack = self.stacks[stack_id]
    stack.cross_stack_resources = stack.resource_map.cross_stack_resources = self.exports
    return change_set_id, stack_id


def _stack_under_review(backend, stack_name: str, change_set_name: str):
    """The stack left REVIEW_IN_PROGRESS that a CREATE change set goes to, or None; AWS refuses any other
    existing stack."""
    from moto.cloudformation.exceptions import ValidationError

    for stack in backend.stacks.values():
        if stack.name != stack_name:
            continue
        if stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                stack_name,
                message=f"Stack [{stack_name}] already exists and cannot be created again with the "
                f"changeSet [{change_set_name}].",
            )
        return stack
    return None


def execute_change_set(self, change_set_name: str, stack_name: str | None = None) -> None:
    """Execute like CloudFormation: resource events, a wait for ECS services, outputs and exports on
    success, the failed resource's event and a rollback on error."""
    from moto.cloudformation.exceptions import CloudFormationError
    from moto.core.utils import utcnow

    change_set = self.describe_change_set(change_set_name)
    if change_set.execution_status != "AVAILABLE":  # FAILED ("no changes") or already executed
        raise CloudFormationError(
            "InvalidChangeSetStatus",
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status of "
            f"[{change_set.status if change_set.status == 'FAILED' else change_set.execution_status}]",
        )
    stack = self.stacks[change_set.stack_id]
    operation = change_set.change_set_type  # CREATE or UPDATE
    previous = (stack.template, stack.parameters)

    stack.status = f"{operation}_IN_PROGRESS"
    if operation == "UPDATE":
        stack.last_updated_time = utcnow()
    stack._add_stack_event(stack.status, resource_status_reason="User Initiated")
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    plan = change_set.plan
    for change in plan.changes:  # as CloudFormation starts on each (removals wait for the cleanup phase)
        if change.action != "Remove":
            _resource_event(stack, change, f"{_verb(change)}_IN_PROGRESS")
    resource_import.adopt(stack, change_set)  # an IMPORT's resources exist: the plan creates none of them
    try:
        plan.apply()
        stack.template = change_set.template
        stack._parse_template()
    except Exception as error:  # any failure of any resource: AWS reports it and rolls back
        _record_failure(stack, change_set, _failed_logical_id(error), failure_reason(error))
        _roll_back(self, stack, change_set, previous)
        return
    awaited = service_stabilization.awaited_services(stack, plan.changes, _verb)
    waiting = {service.logical_id for service in awaited}
    for change in plan.changes:
        if change.action == "Add":  # the second event names the new physical resource
            _resource_event(stack, change, "CREATE_IN_PROGRESS", "Resource creation Initiated")
        if change.logical_resource_id not in waiting and change.action != "Remove":
            _resource_event(stack, change, f"{_verb(change)}_COMPLETE")

    def stable() -> None:
        for service in awaited:
            _resource_event(stack, _change(plan, service.logical_id), f"{service.verb}_COMPLETE")
        _complete(self, stack, change_set, previous)

    def failed(logical_id: str, reason: str) -> None:
        _record_failure(stack, change_set, logical_id, reason)
        _roll_back(self, stack, change_set, previous)

    service_stabilization.wait_for(self, stack, awaited, stable, failed)


def _complete(backend, stack, change_set, previous) -> None:
    """Outputs and exports, then the cleanup phase (removals, superseded copies), then *_COMPLETE."""
    operation = change_set.change_set_type
    try:
        stack.output_map = stack._create_output_map()
        _register_exports(backend, stack)
    except Exception as error:
        _record_failure(stack, change_set, None, failure_reason(error))
        _roll_back(backend, stack, change_set, previous)
        return
    if operation == "UPDATE" and any(
        change.action == "Remove" or change.replacement == "True" for change in change_set.plan.changes
    ):
        stack._add_stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        for change in change_set.plan.changes:
            if change.action == "Remove":
                _resource_event(stack, change, "DELETE_IN_PROGRESS")
                _resource_event(stack, change, "DELETE_COMPLETE")
    change_set.plan.clean_up()
    stack.parameters = change_set.parameters
    stack.status = f"{operation}_COMPLETE"
    stack._add_stack_event(stack.status)
    change_set.execution_status = "EXECUTE_COMPLETE"


def _verb(change) -> str:
    return {"Add": "CREATE", "Modify": "UPDATE", "Remove": "DELETE", "Import": "IMPORT"}[change.action]


def _change(plan, logical_id: str):
    return next(change for change in plan.changes if change.logical_resource_id == logical_id)


def _resource_event(stack, change, status: str, reason: str | None = None) -> None:
    from moto.cloudformation.models import Event

    resource = stack.resource_map._parsed_resources.get(change.logical_resource_id)
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=change.logical_resource_id,
            physical_resource_id=getattr(resource, "physical_resource_id", None) or change.physical_resource_id or "",
            resource_type=change.resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


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


def _record_failure(stack, change_set, logical_id: str | None, reason: str) -> None:
    """Add the failed resource's event (when one can be named) and the stack's rollback event."""
    from moto.cloudformation.models import Event

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


def failure_reason(error: Exception) -> str:
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


def _roll_back(backend, stack, change_set, previous) -> None:
    """CREATE: delete what was created (Retain kept). UPDATE: undo the plan, wait for the services it
    touched to stabilise again, end in UPDATE_ROLLBACK_COMPLETE (or _FAILED with the reason)."""
    change_set.execution_status = "EXECUTE_FAILED"
    if change_set.change_set_type == "CREATE":
        _end_rollback(stack, "ROLLBACK", stack.resource_map.delete)
        return
    previous_template, previous_parameters = previous
    plan = change_set.plan

    def undo() -> None:
        stack.template = previous_template
        stack._parse_template()
        plan.roll_back(stack.template_dict, previous_parameters)
        stack.output_map = stack._create_output_map()

    try:
        undo()
    except Exception as error:
        _end_rollback(stack, "UPDATE_ROLLBACK", None, failure_reason(error))
        return
    awaited = service_stabilization.awaited_services(stack, plan.changes, lambda change: "UPDATE")
    service_stabilization.wait_for(
        backend,
        stack,
        awaited,
        lambda: _end_rollback(stack, "UPDATE_ROLLBACK"),
        lambda logical_id, reason: _end_rollback(stack, "UPDATE_ROLLBACK", None, f"{logical_id}: {reason}"),
    )


def _end_rollback(stack, kind: str, undo=None, failure: str | None = None) -> None:
    """Run `undo`, then end in `<kind>_COMPLETE`, or `<kind>_FAILED` with the reason if it fails."""
    if undo is not None and failure is None:
        try:
            undo()
        except Exception as error:
            failure = failure_reason(error)
    if failure is not None:
        stack.status = f"{kind}_FAILED"
        stack._add_stack_event(stack.status, resource_status_reason=failure)
        return
    stack.status = f"{kind}_COMPLETE"
    stack._add_stack_event(stack.status)
