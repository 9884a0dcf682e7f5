"""Reads a stack and decides what a deploy may do with it, per its status."""

from botocore.exceptions import ClientError

from cfn.stack_status import StackStatus

from ..errors import StackStateRefused
from ..model.invocation import Invocation
from .aws_types import Client, Stack


def describe_stack(cfn: Client, stack_name: str) -> Stack | None:
    """The stack's description, or None when it does not exist."""
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in error.response["Error"].get("Message", ""):
            return None
        raise


def importing_stacks(cfn: Client, export_name: str) -> list[str]:
    """The names of the stacks that import the export (ListImports). AWS answers an export no stack imports
    with a ValidationError: that is none."""
    try:
        pages = cfn.get_paginator("list_imports").paginate(ExportName=export_name)
        return [name for page in pages for name in page["Imports"]]
    except ClientError as error:
        if "is not imported by any stack" in error.response["Error"].get("Message", ""):
            return []
        raise


def status_of(stack: Stack) -> StackStatus:
    return StackStatus(stack["StackStatus"])


def refuse_if_stuck(stack: Stack, invocation: Invocation, status_command: str) -> None:
    """Raise for a status no deploy can safely start from; return quietly otherwise."""
    name, status = stack["StackName"], stack["StackStatus"]
    if status_of(stack).in_progress:
        raise StackStateRefused(f"{name} is {status}: wait for it (`{status_command}`) or rerun with --wait")
    if status == "UPDATE_ROLLBACK_FAILED":
        continue_rollback = invocation.aws("cloudformation", "continue-update-rollback", "--stack-name", name)
        raise StackStateRefused(
            f"{name} is UPDATE_ROLLBACK_FAILED: fix the cause, then run `{continue_rollback}` (add "
            "--resources-to-skip for resources that cannot roll back) and deploy again"
        )
    if status_of(stack).needs_a_human:
        events = invocation.aws("cloudformation", "describe-stack-events", "--stack-name", name)
        reason = stack.get("StackStatusReason") or f"see `{events}`"
        raise StackStateRefused(
            f"{name} is {status} ({reason}): it may hold resources, so it is not deleted automatically; "
            "inspect and clean it up, then deploy again"
        )
