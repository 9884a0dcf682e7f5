"""The ECS rollout followed during a deploy (RolloutWatch, fed by the event stream); render/rollout.py draws its lines.

While CloudFormation creates or updates the `AWS::ECS::Service`, each poll of the stack's events also
looks at the service (one DescribeServices) and prints: new service events, the deployments' rollout
state and counts when they change, and each task of the new deployment that stopped, with its reason and
its containers' exit codes and reasons (a ListTasks and a DescribeTasks, only when failedTasks grew).
`--cancel-after-failed-tasks N` cancels the update once N tasks of the new deployment stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..aws.aws_types import StackEvent
from ..aws.rollout import ServiceRollout
from ..model.ecs_state import ServiceState, StoppedTask, service_of_arn
from ..render.console import Console
from ..render.rollout import deployment_summary, service_event_line, stopped_task_line

if TYPE_CHECKING:  # a type only: boto3 stays out of what `make run` imports for its poll setting (0.15 s)
    from ..aws.session import AwsClients

SERVICE_TYPE = "AWS::ECS::Service"
# CloudFormation stamps its event before it calls ECS, to the microsecond; ECS stamps to the millisecond.
CLOCK_TOLERANCE = timedelta(seconds=1)
REASONS_SHOWN = 3


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RolloutWatch:
    """Follows the ECS service while the stack's Service resource is in progress (see the module doc)."""

    def __init__(
        self,
        clients: AwsClients,
        console: Console,
        cancel_after: int | None = None,
        cancel: Callable[[int], None] | None = None,
    ) -> None:
        self.clients = clients  # the ECS client is made only once a service is followed
        self.console = console
        self.cancel_after = cancel_after
        self.cancel = cancel
        self.target: tuple[str, str] | None = None  # (cluster, service)
        self.rollout: ServiceRollout | None = None
        self.since = datetime.min.replace(tzinfo=UTC)
        self.watching = False
        self.looked = False
        self.shown_events: set[str] = set()
        self.known_tasks: set[str] = set()
        self.failed_seen = 0
        self.failures: list[StoppedTask] = []
        self.summary = ""
        self.cancel_requested = False

    def on_event(self, event: StackEvent) -> None:
        """Start following the service when its resource goes in progress. When it ends: a last look, if
        it failed (the stopped tasks' reasons) or if it was followed already (the final counts); a
        service created and done between two polls has nothing more to tell than its event."""
        if event.get("ResourceType") != SERVICE_TYPE:
            return
        if event["ResourceStatus"].endswith("_IN_PROGRESS"):
            target = service_of_arn(event.get("PhysicalResourceId") or "")
            if target and not self.watching:
                self.target = target
                self.since = _utc(event["Timestamp"]) - CLOCK_TOLERANCE if event.get("Timestamp") else self.since
                self.watching = True
        elif self.watching:
            if self.looked or event["ResourceStatus"].endswith("_FAILED"):
                self.poll()
            self.watching = False

    def follow(self, rollout: ServiceRollout, since: datetime) -> None:
        """Follow a service outside a stack operation (`deploy.py app --verify`), showing what happens from
        `since` on."""
        self.rollout, self.target, self.since, self.watching = rollout, (rollout.cluster, rollout.service), since, True

    def poll(self) -> ServiceState | None:
        """Shows what changed since the last poll; returns the service as read (None when not watching)."""
        if not self.watching or self.target is None:
            return None
        if self.rollout is None or (self.rollout.cluster, self.rollout.service) != self.target:
            self.rollout = ServiceRollout(self.clients.ecs, *self.target)
        self.looked = True
        state = self.rollout.state()
        if state is None:
            return None
        for event in reversed(state.events):
            if event.id not in self.shown_events and _utc(event.created_at) >= self.since:
                self.shown_events.add(event.id)
                self.console.line(f"  ECS  {service_event_line(event)}")
        summary = deployment_summary(state)
        if summary != self.summary:
            self.summary = summary
            self.console.line(f"  ECS  {state.name}: {summary}")
        new = [d for d in state.deployments if d.created_at is None or _utc(d.created_at) >= self.since]
        failed = sum(deployment.failed_tasks for deployment in new)
        if failed > self.failed_seen:
            self.failed_seen = failed
            self._show_stopped_tasks({deployment.id for deployment in new})
        if self.cancel_after and self.cancel and len(self.failures) >= self.cancel_after and not self.cancel_requested:
            self.cancel_requested = True
            self.cancel(len(self.failures))
        return state

    def _show_stopped_tasks(self, deployments: set[str]) -> None:
        assert self.rollout is not None
        for task in reversed(self.rollout.stopped_tasks(self.known_tasks)):
            if task.failed and task.deployment_id in deployments:
                self.failures.append(task)
                self.console.line(self.console.style(f"  ECS  {stopped_task_line(task)}", "red"))

    def progress(self) -> str:
        """The short form for the progress line, while following the service."""
        return f"{self.rollout.service}: {self.summary}" if self.watching and self.rollout and self.summary else ""

    def root_cause_lines(self) -> list[str]:
        """Why the new deployment's tasks stopped: the count and the distinct reasons, latest first."""
        if not self.failures:
            return []
        reasons: list[str] = []
        for task in reversed(self.failures):
            if task.stopped_reason not in reasons:
                reasons.append(task.stopped_reason)
        lines = [f"{len(self.failures)} task(s) of the new deployment stopped:"]
        lines += [f"  {stopped_task_line(task)}" for task in self.failures[-REASONS_SHOWN:][::-1]]
        if len(reasons) > 1:
            lines.append(f"  distinct reasons: {' | '.join(reasons[:REASONS_SHOWN])}")
        return lines
