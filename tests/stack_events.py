"""Stack events shaped as DescribeStackEvents returns them, for tests that script CloudFormation's answers."""

from datetime import UTC, datetime, timedelta

STACK = "AppStack"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/AppStack/1"
START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def event(number, status, logical_id=STACK, resource_type="AWS::CloudFormation::Stack", reason=None, physical_id=None):
    """The event `number` seconds after START (its id is made from the number too)."""
    record = {
        "StackId": STACK_ID,
        "EventId": f"event-{number}",
        "StackName": STACK,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceStatus": status,
        "Timestamp": START + timedelta(seconds=number),
    }
    if reason:
        record["ResourceStatusReason"] = reason
    if physical_id:
        record["PhysicalResourceId"] = physical_id
    return record


def events_page(*events):
    """describe_stack_events answers newest first."""
    return {"StackEvents": list(reversed(events))}
