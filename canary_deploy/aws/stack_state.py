"""Reads a stack and decides what a deploy may do with it, per its status."""

from botocore.exceptions import ClientError

from ..errors import StackStateRefused
from .aws_types import Client, Stack

SUCCESS_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
# Stacks in these states may hold resources with data and need a human: never deleted by the deployer.
NEEDS_A_HUMAN = {"CREATE_FAILED", "ROLLBACK_FAILED", "DELETE_FAILED", "IMPORT_ROLLBACK_FAILED", "UPDATE_FAILED"}


def describe_stack(cfn: Client, stack_name: str) -> Stack | None:
    """The stack's description, or None when it does not exist."""
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in error.response["Error"].get("Message", ""):
            return None
        raise


def is_in_progress(status: str) -> bool:
    return status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"


def refuse_if_stuck(stack: Stack, status_command: str) -> None:
    """Raise for a status no deploy can safely start from; return quietly otherwise."""
    name, status = stack["StackName"], stack["StackStatus"]
    if is_in_progress(status):
        raise StackStateRefused(f"{name} is {status}: wait for it (`{status_command}`) or rerun with --wait")
    if status == "UPDATE_ROLLBACK_FAILED":
        raise StackStateRefused(
            f"{name} is UPDATE_ROLLBACK_FAILED: fix the cause, then run `aws cloudformation "
            f"continue-update-rollback --stack-name {name}` (add --resources-to-skip for resources that "
            "cannot roll back) and deploy again"
        )
    if status in NEEDS_A_HUMAN:
        reason = stack.get("StackStatusReason") or "see `aws cloudformation describe-stack-events`"
        raise StackStateRefused(
            f"{name} is {status} ({reason}): it may hold resources, so it is not deleted automatically; "
            "inspect and clean it up, then deploy again"
        )


def outputs_of(stack: Stack) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
