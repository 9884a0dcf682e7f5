"""An ECS service's rollout as ECS reports it: deployments with their counts and rollout state, service
events, and stopped tasks with their reasons, read into model/ecs_state.py's types. Fetching only;
render/rollout.py draws them.

Per look: one DescribeServices. Stopped tasks cost a ListTasks (desiredStatus STOPPED, serviceName) and a
DescribeTasks for the tasks not seen before, so callers ask only when a deployment's failedTasks grew.
"""

from __future__ import annotations

from datetime import datetime

from ..model.ecs_state import (
    Deployment,
    ServiceEvent,
    ServiceState,
    StoppedContainer,
    StoppedTask,
)
from .aws_types import Client

# ECS lists at most 100 tasks per DescribeTasks call.
DESCRIBE_TASKS_BATCH = 100


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
