"""An ECS service's rollout as ECS reports it: deployments with their counts and rollout state, service
events, and stopped tasks with their reasons. Fetching only; rollout_view renders it.

Per look: one DescribeServices. Stopped tasks cost a ListTasks (desiredStatus STOPPED, serviceName) and a
DescribeTasks for the tasks not seen before, so callers ask only when a deployment's failedTasks grew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from cfn.stack_status import StackStatus

from .aws_types import Client

# ECS lists at most 100 tasks per DescribeTasks call.
DESCRIBE_TASKS_BATCH = 100
# What ECS says when it stops a task because a newer deployment replaces it: not a failure.
REPLACED_BY_DEPLOYMENT = "Scaling activity initiated by"


class Outcome(Enum):
    """Where something stands, for a stack status or an ECS rollout state alike."""

    IN_PROGRESS = "in progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @classmethod
    def of_stack(cls, status: StackStatus) -> Outcome:
        """A stack awaiting its first execution has not succeeded yet: in progress, as its name says."""
        if not status.final:
            return cls.IN_PROGRESS
        return cls.SUCCEEDED if status.succeeded else cls.FAILED

    @classmethod
    def of_rollout(cls, rollout_state: str | None) -> Outcome:
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
    def outcome(self) -> Outcome:
        return Outcome.of_rollout(self.rollout_state)


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


class ServiceRollout:
    """Reads one service's state and its stopped tasks."""

    def __init__(self, ecs: Client, cluster: str, service: str) -> None:
        self.ecs = ecs
        self.cluster = cluster
        self.service = service

    def state(self) -> ServiceState | None:
        """The service as DescribeServices shows it, or None when it does not exist."""
        services = self.ecs.describe_services(cluster=self.cluster, services=[self.service]).get("services", [])
        if not services:
            return None
        service = services[0]
        return ServiceState(
            name=service["serviceName"],
            cluster=self.cluster,
            status=service.get("status", "?"),
            task_definition=service.get("taskDefinition", ""),
            desired=service.get("desiredCount", 0),
            running=service.get("runningCount", 0),
            pending=service.get("pendingCount", 0),
            deployments=[_deployment(deployment) for deployment in service.get("deployments", [])],
            events=[
                ServiceEvent(event["id"], event["createdAt"], event["message"]) for event in service.get("events", [])
            ],
            deployment_alarms=_deployment_alarms(service),
        )

    def stopped_tasks(self, known: set[str]) -> list[StoppedTask]:
        """Stopped tasks of the service not in `known` (task ARNs), newest first; adds them to `known`."""
        paginator = self.ecs.get_paginator("list_tasks")
        arns = [
            arn
            for page in paginator.paginate(cluster=self.cluster, serviceName=self.service, desiredStatus="STOPPED")
            for arn in page["taskArns"]
            if arn not in known
        ]
        tasks = []
        for start in range(0, len(arns), DESCRIBE_TASKS_BATCH):
            batch = arns[start : start + DESCRIBE_TASKS_BATCH]
            tasks += self.ecs.describe_tasks(cluster=self.cluster, tasks=batch).get("tasks", [])
        known.update(arns)
        stopped = [_stopped_task(task) for task in tasks]
        return sorted(stopped, key=lambda task: task.stopped_at or datetime.min, reverse=True)


def _deployment_alarms(service: dict) -> tuple[str, ...]:
    alarms = service.get("deploymentConfiguration", {}).get("alarms") or {}
    return tuple(alarms.get("alarmNames", [])) if alarms.get("enable") else ()


def _deployment(deployment: dict) -> Deployment:
    return Deployment(
        id=deployment.get("id", "?"),
        status=deployment.get("status", "?"),
        task_definition=deployment.get("taskDefinition", "?"),
        rollout_state=deployment.get("rolloutState"),
        rollout_state_reason=deployment.get("rolloutStateReason", ""),
        desired=deployment.get("desiredCount", 0),
        running=deployment.get("runningCount", 0),
        pending=deployment.get("pendingCount", 0),
        failed_tasks=deployment.get("failedTasks", 0),
        created_at=deployment.get("createdAt"),
    )


def _stopped_task(task: dict) -> StoppedTask:
    return StoppedTask(
        task_id=task["taskArn"].rsplit("/", 1)[-1],
        deployment_id=task.get("startedBy"),
        task_definition=task.get("taskDefinitionArn", ""),
        stopped_reason=task.get("stoppedReason", "no reason given"),
        stop_code=task.get("stopCode"),
        stopped_at=task.get("stoppedAt"),
        containers=[
            StoppedContainer(container.get("name", "?"), container.get("exitCode"), container.get("reason"))
            for container in task.get("containers", [])
        ],
    )
