"""A CloudFormation stack event as one line, the same while a deploy streams and in `status`. Pure."""

from ..aws.aws_types import StackEvent


def stack_event_line(event: StackEvent) -> str:
    """`12:00:03  UPDATE_COMPLETE              AWS::ECS::TaskDefinition           TaskDefinition  <reason>`"""
    stamp = event["Timestamp"].strftime("%H:%M:%S") if event.get("Timestamp") else "--:--:--"
    status = event["ResourceStatus"]
    text = f"{stamp}  {status:<28} {event.get('ResourceType', ''):<34} {event.get('LogicalResourceId', '')}"
    reason = event.get("ResourceStatusReason")
    return f"{text}  {reason}" if reason else text


def stack_event_style(status: str) -> str | None:
    """Red for a failure or a rollback, green for a resource or stack done, else plain."""
    if "FAILED" in status or "ROLLBACK" in status:
        return "red"
    return "green" if status.endswith("_COMPLETE") else None
