"""A described stack's Outputs, by key."""

from ..aws.aws_types import Stack


def outputs_of(stack: Stack) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
