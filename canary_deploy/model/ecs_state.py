"""An ECS service as the deployer sees it: deployments with their counts and rollout state, service events,
stopped tasks. Frozen types, read by aws/rollout.py and drawn by render/rollout.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from cfn.stack_status import StackStatus

# What ECS says when it stops a task because a newer deployment replaces it: not a failure.
REPLACED_BY_DEPLOYMENT = "Scaling activity initiated by"


class Progress(Enum):
    """Where an operation stands, for a stack status or an ECS rollout state alike (a verdict is model/verdict.py's
    Outcome)."""

    IN_PROGRESS = "in progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    AWAITING_EXECUTION = "a change set awaits execution; it holds nothing"

    @classmethod
    def of_stack(cls, status: StackStatus) -> Progress:
        """A stack a first change set made and nobody executed is neither working nor done: said as such."""
        if status.awaiting_execution:
            return cls.AWAITING_EXECUTION
        if not status.final:
            return cls.IN_PROGRESS
        return cls.SUCCEEDED if status.succeeded else cls.FAILED

    @classmethod
    def of_rollout(cls, rollout_state: str | None) -> Progress:
        return {"COMPLETED": cls.SUCCEEDED, "FAILED": cls.FAILED}.get(rollout_state or "", cls.IN_PROGRESS)


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str  # PRIMARY (the newest), ACTIVE (older, draining) or INACTIVE
    task_definition: str
    rollout_state: str | None
    rollout_state_reason: str
    desired: int
    running: int
    pending: int
    failed_tasks: int
    created_at: datetime | None

    @property
    def revision(self) -> str:
        """`family:revision`, the readable end of the task definition's ARN."""
        return self.task_definition.rsplit("/", 1)[-1]

    @property
    def progress(self) -> Progress:
        return Progress.of_rollout(self.rollout_state)


@dataclass(frozen=True)
class ServiceEvent:
    id: str
    created_at: datetime
    message: str


@dataclass(frozen=True)
class ServiceState:
    name: str
    cluster: str
    status: str
    task_definition: str
    desired: int
    running: int
    pending: int
    deployments: list[Deployment]
    events: list[ServiceEvent]  # newest first, as ECS lists them
    deployment_alarms: tuple[str, ...] = ()  # the alarms that judge its deployments, when enabled

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    @property
    def older(self) -> list[Deployment]:
        return [d for d in self.deployments if d.status != "PRIMARY"]


@dataclass(frozen=True)
class StoppedContainer:
    name: str
    exit_code: int | None
    reason: str | None


@dataclass(frozen=True)
class StoppedTask:
    task_id: str
    deployment_id: str | None  # startedBy: the deployment that launched it
    task_definition: str
    stopped_reason: str
    stop_code: str | None
    stopped_at: datetime | None
    containers: list[StoppedContainer] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Stopped for a reason of its own, not replaced by a newer deployment."""
        return not self.stopped_reason.startswith(REPLACED_BY_DEPLOYMENT)


def service_of_arn(arn: str) -> tuple[str, str] | None:
    """(cluster, service) from a service ARN in the long format ECS uses since 2021, else None."""
    resource = arn.split(":", 5)[-1] if arn.startswith("arn:") else ""
    parts = resource.split("/")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "service" else None
