"""CloudFormation waits for the ECS services it creates or updates to stabilise, as on AWS.

moto completes every stack inside ExecuteChangeSet. CloudFormation's `AWS::ECS::Service` handler
instead keeps the resource IN_PROGRESS until the service's deployment completes (CREATE_COMPLETE /
UPDATE_COMPLETE) or the deployment circuit breaker fails it ("ECS Deployment Circuit Breaker was
triggered"), and the stack waits with it. Here a stack whose change set touched a service stays
`*_IN_PROGRESS` after ExecuteChangeSet, until the deployment it waits on ends: as time passes
(local_aws.clock), once the ECS scheduler has caught up, the outcome, if any, finishes the operation.
CancelUpdateStack ends a wait as a failure ("Resource update cancelled").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..ecs.scheduler import outcomes

SERVICE_TYPE = "AWS::ECS::Service"
CIRCUIT_BREAKER_REASON = (
    "Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit Breaker was "
    "triggered'.\" (HandlerErrorCode: GeneralServiceException)"
)
CANCELLED_REASON = "Resource update cancelled"


@dataclass
class AwaitedService:
    logical_id: str
    service: object
    deployment_id: str
    verb: str  # CREATE or UPDATE, for the resource's events


@dataclass
class Wait:
    """A stack operation waiting for services; exactly one of the callbacks runs, once."""

    services: list[AwaitedService]
    on_stable: Callable[[], None]
    on_failure: Callable[[str, str], None]  # logical id, reason
    done: list[str] = field(default_factory=list)


def _waits(backend) -> dict:
    # Kept on the backend, so that moto's reset forgets them with everything else.
    if not hasattr(backend, "_service_waits"):
        backend._service_waits = {}
    return backend._service_waits


def awaited_services(stack, changes, verb_of) -> list[AwaitedService]:
    """The services among the changes that CloudFormation waits for, with the deployment it waits on."""
    awaited = []
    for change in changes:
        if change.resource_type != SERVICE_TYPE or change.action not in ("Add", "Modify"):
            continue
        service = stack.resource_map._parsed_resources.get(change.logical_resource_id)
        if service is None or not getattr(service, "deployments", None):
            continue
        awaited.append(
            AwaitedService(change.logical_resource_id, service, service.deployments[0]["id"], verb_of(change))
        )
    return awaited


def wait_for(backend, stack, services: list[AwaitedService], on_stable, on_failure) -> None:
    """Finish at once if nothing is awaited, else on the stack's later reads (see settle)."""
    wait = Wait(services, on_stable, on_failure)
    if not services:
        on_stable()
        return
    _waits(backend)[stack.stack_id] = wait


def settle(backend, stack_id: str) -> None:
    """The handler's look at a waiting stack's services: act on the outcome of the deployments it awaits."""
    wait = _waits(backend).get(stack_id)
    if wait is None:
        return
    for awaited in wait.services:
        if awaited.logical_id in wait.done:
            continue
        deployment = next((d for d in awaited.service.deployments if d["id"] == awaited.deployment_id), None)
        ended = outcomes(awaited.service).get(awaited.deployment_id)
        # A deployment gone without an outcome was replaced by a newer one, which the service now runs.
        state = ended or (deployment["rolloutState"] if deployment else "COMPLETED")
        if state == "FAILED":
            _finish(backend, stack_id)
            wait.on_failure(awaited.logical_id, CIRCUIT_BREAKER_REASON)
            return
        if state == "COMPLETED":
            wait.done.append(awaited.logical_id)
    if len(wait.done) == len(wait.services):
        _finish(backend, stack_id)
        wait.on_stable()


def is_waiting(backend, stack_id: str) -> bool:
    return stack_id in _waits(backend)


def cancel(backend, stack_id: str) -> None:
    """CancelUpdateStack: the first service still waited for fails as cancelled."""
    wait = _waits(backend).get(stack_id)
    pending = [awaited for awaited in wait.services if awaited.logical_id not in wait.done]
    _finish(backend, stack_id)
    wait.on_failure(pending[0].logical_id, CANCELLED_REASON)


def _finish(backend, stack_id: str) -> None:
    _waits(backend).pop(stack_id, None)


def catch_up(now: float) -> None:
    """Each waiting stack sees how its services' deployments ended (after the ECS scheduler caught up)."""
    from moto.cloudformation.models import cloudformation_backends

    for _, _, backend in list(cloudformation_backends.iter_backends()):
        for stack_id in list(_waits(backend)):
            settle(backend, stack_id)
