"""One stack of `deploy.py status`, as lines. Pure: the report in, text out (the warning styled)."""

from cfn.stack_status import StackStatus

from ..model.ecs_state import Progress
from ..model.stack_outputs import outputs_of
from ..model.stack_report import ServiceReport, StackReport
from .alarm_states import alarm_state_lines
from .console import Console
from .rollout import deployment_summary, service_event_line, stopped_task_line
from .stack_events import stack_event_line

SERVICE_EVENTS_SHOWN = 5


def stack_report_lines(report: StackReport, console: Console) -> list[str]:
    stack = report.stack
    if stack is None:
        return [f"{report.name}: not deployed"]
    status = stack["StackStatus"]
    reason = f": {stack['StackStatusReason']}" if stack.get("StackStatusReason") else ""
    when = "last updated" if stack.get("LastUpdatedTime") else "created"
    changed = stack.get("LastUpdatedTime") or stack["CreationTime"]
    progress = Progress.of_stack(StackStatus(status)).value
    lines = [f"{report.name}: {status} ({progress}{reason}), {when} {changed:%Y-%m-%d %H:%M:%S %Z}"]
    lines += [f"{report.name}.{key} = {value}" for key, value in outputs_of(stack).items()]
    if report.recent_events:
        lines.append("Recent events:")
        lines += [f"  {stack_event_line(event)}" for event in report.recent_events]
    if report.missing_service:
        service, cluster = report.missing_service
        lines.append(f"ECS service {service} not found in cluster {cluster}")
    if report.service:
        lines += service_lines(report.service, console)
    return lines


def service_lines(report: ServiceReport, console: Console) -> list[str]:
    state = report.state
    lines = [
        f"ECS service {state.name} ({state.status}): {state.running}/{state.desired} running, "
        f"{state.pending} pending; {deployment_summary(state)}"
    ]
    lines += [f"  running image: {image} ({revision})" for revision, image in report.images.items()]
    if report.mismatch:
        shown = ", ".join(sorted(set(report.images.values())))
        warning = f"  ⚠ ECS runs {shown}, not the stack's ImageUri {report.expected_image}: {report.mismatch}"
        lines.append(console.style(warning, "yellow"))
    if report.stopped:
        lines.append("  last stopped tasks:")
    for task in report.stopped:
        stamp = f"{task.stopped_at:%H:%M:%S}  " if task.stopped_at else ""
        lines.append(f"    {stamp}{stopped_task_line(task)}")
    if state.events:
        lines.append("  service events:")
    lines += [f"    {service_event_line(event)}" for event in state.events[:SERVICE_EVENTS_SHOWN]]
    if report.not_judged:
        lines.append(f"Last release: not judged ({report.not_judged})")
        return lines
    if state.deployment_alarms:
        lines += alarm_state_lines(state.deployment_alarms, report.alarm_states)
    if report.verdict is not None:
        lines.append(f"Last release: {report.verdict.line()}")
    return lines
