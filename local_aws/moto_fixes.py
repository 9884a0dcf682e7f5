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

More gaps stop the real templates and the deployer short of the end:

- UpdateTerminationProtection and CancelUpdateStack are not implemented (HTTP 500);
- AWS::KMS::Key hands CloudFormation's Tags (Key/Value) to a backend that wants TagKey/TagValue, so
  any tagged key fails with KeyError: 'TagKey';
- a `Number` parameter left at its default stays a string (given values become numbers), so e.g. an
  ECS service's DesiredCount default fails with TypeError;
- ECR PutImage on a missing repository fails with HTTP 500 instead of RepositoryNotFoundException.

And two for speed: moto reads every template body with PyYAML's pure-Python loader, JSON ones too, for
each change set and stack: 0.17 s for the AppStack template, where json reads it in 0.5 ms. A JSON body
is now read as JSON. And to find the service a request is for, moto lists its own package directory,
with a stat per entry, on every request (1.2 ms of the 4 ms it spends on one); it is listed once.

More fixes live in modules of their own, by service as moto organises itself, each saying why:
`cloudformation.previous_values` (UsePreviousValue takes the value the stack was given, not what moto
resolved it to), `cloudformation.change_sets` (what a change set changes and how it is executed),
`ecs.scheduler` (ECS deployments with tasks that run or fail), `ecs.deployment_alarms` (deployments judged by
CloudWatch alarms), `ecs.service_deployments` (their history), `cloudformation.service_stabilization`
(CloudFormation waiting for them), `sns.subscriptions` (AWS::SNS::Subscription, which moto does not model at
all), `cloudwatch.alarms` (AWS::CloudWatch::Alarm, skipped by moto, and Metrics Insights queries),
`cloudformation.resource_import` (IMPORT change sets adopt existing resources),
`cloudformation.stack_deletion` (resources deleted in reverse dependency order, each by its service,
DELETE_FAILED when one cannot be) and `cloudformation.stack_operations` (client tokens, change-set names
per stack, termination protection enforced on delete, change sets deleted with their stack).

`apply_moto_fixes()` replaces `CloudFormationBackend.create_change_set` (a wrapper around moto's),
`CloudFormationBackend.execute_change_set` (rewritten: moto's has nothing worth keeping), wraps the
resource/response methods above and installs the models, so that the deploy flow behaves as on
AWS for these cases. The
patch reaches into moto's internals and is written for moto==5.2.5 exactly (pinned in setup.cfg); on
any other version it refuses to apply. Everything else moto does (and does not check) is left alone.
"""

from __future__ import annotations

import json
import traceback

from .cloudformation import (
    change_sets,
    previous_values,
    resource_import,
    service_stabilization,
    stack_deletion,
    stack_operations,
)
from .cloudwatch import alarms
from .ecs import deployment_alarms, scheduler, service_deployments
from .errors import LocalAWSError
from .sns import subscriptions

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
        creates = change_set_type in ("CREATE", resource_import.IMPORT)
        under_review = _stack_under_review(self, stack_name, change_set_name) if creates else None
        stack_operations.refuse_duplicate_change_set_name(self, stack_name, change_set_name)
        change_set_id, stack_id = original_create_change_set(
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

    CloudFormationBackend.create_change_set = create_change_set
    CloudFormationBackend.execute_change_set = _execute_change_set
    _fix_resource_gaps()
    _read_json_templates_as_json()
    _list_moto_services_once()
    previous_values.apply()
    # moto lists changes by template text and updates only those; CloudFormation resolves properties.
    change_sets.install()
    # moto starts no ECS task and has no circuit breaker; releases and their failures need both.
    scheduler.install()
    # moto ignores ECS deployment alarms: a release whose canary breaks would never be rolled back.
    deployment_alarms.install()
    # moto has no ECS deployment history: a rolled-back release would leave no trace to report.
    service_deployments.install()
    # moto skips AWS::SNS::Subscription: the alerts topic would reach no one.
    subscriptions.install()
    # moto skips AWS::CloudWatch::Alarm and answers Metrics Insights queries wrongly; releases are judged by both.
    alarms.install()
    # CloudFormation keeps a stack in progress until its ECS services stabilise; moto never waits.
    _wait_for_services_on_stack_reads()
    # moto deletes in dictionary order and leaves route tables, gateways and more behind: DependencyViolation.
    stack_deletion.apply()
    # moto treats an IMPORT change set as a CREATE and fails on the resources that already exist.
    resource_import.apply()
    # Tokens, change-set names and deletion as CloudFormation's API promises; last, as it wraps the above.
    stack_operations.apply()


def _fix_resource_gaps() -> None:
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.parsing import ResourceMap
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult, EmptyResult
    from moto.ecr.exceptions import RepositoryNotFoundException
    from moto.ecr.models import ECRBackend
    from moto.kms.models import Key

    def update_termination_protection(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
        return ActionResult({"StackId": stack.stack_id})

    def cancel_update_stack(self):
        backend = self.cloudformation_backend
        stack = backend.get_stack(self._get_param("StackName"))
        if stack.status != "UPDATE_IN_PROGRESS" or not service_stabilization.is_waiting(backend, stack.stack_id):
            raise ValidationError(
                stack.stack_id, message="CancelUpdateStack cannot be called from current stack status"
            )
        service_stabilization.cancel(backend, stack.stack_id)
        return EmptyResult()

    original_create_key = Key.create_from_cloudformation_json.__func__

    def create_key(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        tags = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]}
            for tag in cloudformation_json["Properties"].get("Tags", [])
        ]
        remapped = _with_properties(cloudformation_json, Tags=tags)
        return original_create_key(cls, resource_name, remapped, account_id, region_name, **kwargs)

    original_load_parameters = ResourceMap.load_parameters

    def load_parameters(self):
        original_load_parameters(self)
        for name, spec in self._template.get("Parameters", {}).items():
            value = self.resolved_parameters.get(name)
            if spec.get("Type") == "Number" and isinstance(value, str):
                number = float(value)
                self.resolved_parameters[name] = self._parsed_resources[name] = (
                    int(number) if number.is_integer() else number
                )

    original_put_image = ECRBackend.put_image

    def put_image(self, repository_name, *args, **kwargs):
        # ECR answers PutImage on a missing repository with RepositoryNotFoundException; moto with a 500.
        if repository_name not in self.repositories:
            raise RepositoryNotFoundException(repository_name, self.account_id)
        return original_put_image(self, repository_name, *args, **kwargs)

    CloudFormationResponse.update_termination_protection = update_termination_protection
    ECRBackend.put_image = put_image
    ResourceMap.load_parameters = load_parameters
    CloudFormationResponse.cancel_update_stack = cancel_update_stack
    Key.create_from_cloudformation_json = classmethod(create_key)


def _read_json_templates_as_json() -> None:
    """JSON is YAML, so moto's YAML-first reading gives the same dict, only 300 times slower."""
    from moto.cloudformation.models import ChangeSet, Stack

    read_yaml_or_json = Stack.parse_template

    def parse_template(template: str) -> dict:
        if template.lstrip().startswith("{"):
            try:
                return json.loads(template)
            except ValueError:  # a YAML flow mapping: moto's reading, and its errors
                pass
        return read_yaml_or_json(template)

    def parse_change_set_template(self) -> None:
        self.template_dict = parse_template(self.template)

    Stack.parse_template = staticmethod(parse_template)
    ChangeSet._parse_template = parse_change_set_template


def _list_moto_services_once() -> None:
    """The list is that of moto's subpackages: fixed once moto is installed."""
    from moto import backends

    services = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: services


def _wait_for_services_on_stack_reads() -> None:
    """Each read of a stack is CloudFormation's poll of the services it waits for (service_stabilization)."""
    from moto.cloudformation.models import CloudFormationBackend

    original_describe_stacks = CloudFormationBackend.describe_stacks
    original_describe_stack_events = CloudFormationBackend.describe_stack_events

    def describe_stacks(self, name_or_stack_id=None):
        _settle(self, name_or_stack_id)
        return original_describe_stacks(self, name_or_stack_id)

    def describe_stack_events(self, stack_name):
        _settle(self, stack_name)
        return original_describe_stack_events(self, stack_name)

    CloudFormationBackend.describe_stacks = describe_stacks
    CloudFormationBackend.describe_stack_events = describe_stack_events


def _settle(backend, name_or_stack_id: str | None) -> None:
    for stack_id, stack in list(backend.stacks.items()):
        if name_or_stack_id in (None, stack_id, stack.name):
            service_stabilization.settle(backend, stack_id)


def _with_properties(resource_json: dict, **properties) -> dict:
    """A copy of a resource's JSON with some Properties replaced (moto's copy stays untouched)."""
    return {**resource_json, "Properties": {**resource_json["Properties"], **properties}}


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


def _execute_change_set(self, change_set_name: str, stack_name: str | None = None) -> None:
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
