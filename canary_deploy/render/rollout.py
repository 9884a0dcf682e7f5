"""The ECS rollout as lines: during a deploy (watch/rollout_watch.py) and in `status`. Pure: state in, text out."""

from ..model.ecs_state import Deployment, ServiceEvent, ServiceState, StoppedTask


def deployment_summary(state: ServiceState) -> str:
    """`rollout IN_PROGRESS: new AppStack:8 0/1 running, 1 pending, 2 failed; old AppStack:7 1 running`"""
    primary = state.primary
    if primary is None:
        return f"no deployment; {state.running}/{state.desired} running"
    text = f"rollout {primary.rollout_state or '?'}: new {primary.revision} {_counts(primary)}"
    for older in state.older:
        text += f"; old {older.revision} {older.running} running"
        if older.rollout_state == "FAILED":
            text += " (failed)"
    return text


def _counts(deployment: Deployment) -> str:
    text = f"{deployment.running}/{deployment.desired} running"
    if deployment.pending:
        text += f", {deployment.pending} pending"
    if deployment.failed_tasks:
        text += f", {deployment.failed_tasks} failed"
    return text


def stopped_task_line(task: StoppedTask) -> str:
    """`task 1a2b3c4d (AppStack:8) stopped: <reason>; container app: exit code 1, <reason>`"""
    text = f"task {task.task_id[:8]} ({task.task_definition.rsplit('/', 1)[-1]}) stopped: {task.stopped_reason}"
    for container in task.containers:
        details = []
        if container.exit_code is not None:
            details.append(f"exit code {container.exit_code}")
        if container.reason and container.reason != task.stopped_reason:
            details.append(container.reason)
        if details:
            text += f"; container {container.name}: {', '.join(details)}"
    return text


def service_event_line(event: ServiceEvent) -> str:
    return f"{event.created_at:%H:%M:%S}  {event.message}"
