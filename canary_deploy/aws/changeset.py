"""Change set lifecycle: create (uniquely named, idempotent), wait, describe, execute, discard."""

import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from cfn.stack_status import StackStatus

from ..errors import DeploymentFailed, Interrupted
from ..model.invocation import Invocation
from ..model.stack_template import StackTemplate
from ..render.console import Console
from .awaited_call import CallInterrupted, awaited
from .aws_types import Client, ParameterEntry, ResourceChange
from .stack_state import describe_stack

# CloudFormation says "nothing to do" in two ways: a FAILED change set with the first text, or (older
# path, and moto with identical parameters) a ValidationError from CreateChangeSet with the second.
NO_CHANGES_MARKERS = ("didn't contain changes", "No updates are to be performed")
CHANGE_SET_PREFIX = "canary-deploy-"
# Quick polls: a change set is usually ready within a few seconds.
CHANGE_SET_POLL_DELAYS = (0.2, 0.3, 0.5, 1.0)
CHANGE_SET_POLL_SLOWEST = 2.0
NAMED_IAM_PROPERTIES = ("RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName")
NOTHING_LEFT = "nothing left to delete"


def is_no_changes(message: str | None) -> bool:
    return any(marker in (message or "") for marker in NO_CHANGES_MARKERS)


def required_capabilities(template: StackTemplate) -> list[str]:
    """The capabilities the template needs, so CloudFormation never refuses for a missing acknowledgement."""
    resources = template.data.get("Resources", {}).values()
    iam = [r for r in resources if r["Type"].startswith("AWS::IAM::")]
    capabilities = []
    if iam:
        capabilities.append("CAPABILITY_IAM")
    if any(name in r.get("Properties", {}) for r in iam for name in NAMED_IAM_PROPERTIES):
        capabilities.append("CAPABILITY_NAMED_IAM")
    if "Transform" in template.data:
        capabilities.append("CAPABILITY_AUTO_EXPAND")
    return capabilities


class ChangeSet:
    """One change set, named uniquely. Each operation on it carries its own token, generated once and sent
    again by botocore's retries: when a reply is lost and the request retried, CloudFormation recognises it
    instead of answering AlreadyExists or executing the change set twice."""

    def __init__(
        self,
        cfn: Client,
        console: Console,
        stack_name: str,
        change_set_type: str,
        invocation: Invocation,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cfn = cfn
        self.console = console
        self.stack_name = stack_name
        self.change_set_type = change_set_type  # CREATE, UPDATE or IMPORT
        self.invocation = invocation  # for the commands that remove what may be left
        self.sleep = sleep
        self.name = f"{CHANGE_SET_PREFIX}{int(time.time())}-{uuid.uuid4().hex[:8]}"
        # Set by create(); "" until then.
        self.arn = ""
        self.stack_id = ""
        self.description: dict[str, Any] = {}
        # True when the change set makes the (REVIEW_IN_PROGRESS) stack, so discarding removes it too.
        self.creates_stack = False
        # Ctrl-C left CreateChangeSet unanswered: it may still make the change set after discard() looked.
        self.create_unanswered = False

    def token(self, operation: str) -> str:
        """The idempotency token of one operation on this change set (create, execute, cancel, discard)."""
        return f"{self.name}-{operation}"

    def create(
        self,
        template_argument: dict[str, str],
        parameters: list[ParameterEntry],
        capabilities: list[str],
        resources_to_import: list[dict[str, Any]] | None = None,
        role_arn: str | None = None,
    ) -> bool:
        """Returns False when CloudFormation answers at once that nothing changed. With role_arn, CloudFormation
        runs the change set (and keeps running the stack's later operations) as that role."""
        extra: dict[str, Any] = {"ResourcesToImport": resources_to_import} if resources_to_import else {}
        if role_arn:
            extra["RoleARN"] = role_arn
        try:
            response = awaited(
                lambda: self.cfn.create_change_set(
                    StackName=self.stack_name,
                    ChangeSetName=self.name,
                    ChangeSetType=self.change_set_type,
                    Parameters=parameters,
                    Capabilities=capabilities,
                    Description="Created by deploy.py",
                    ClientToken=self.token("create"),
                    **template_argument,
                    **extra,
                ),
                "CreateChangeSet",
                self.console,
            )
        except ClientError as error:
            if is_no_changes(error.response["Error"].get("Message")):
                return False
            raise
        except CallInterrupted as interrupted:
            if interrupted.reply:
                self.arn, self.stack_id = interrupted.reply["Id"], interrupted.reply["StackId"]
            self.create_unanswered = not interrupted.answered
            raise
        self.arn = response["Id"]
        self.stack_id = response["StackId"]
        return True

    def wait(self) -> bool:
        """Polls until ready; returns False for an empty change set, raises DeploymentFailed if rejected."""
        attempt = 0
        while True:
            # IncludePropertyValues: each change's BeforeContext / AfterContext, where the endpoint has them.
            description = self.cfn.describe_change_set(ChangeSetName=self.arn, IncludePropertyValues=True)
            status = description["Status"]
            if status == "CREATE_COMPLETE":
                self.description = description
                return True
            if status == "FAILED":
                reason = description.get("StatusReason", "")
                if is_no_changes(reason):
                    return False
                raise DeploymentFailed(f"change set for {self.stack_name} failed: {reason}")
            delay = (
                CHANGE_SET_POLL_DELAYS[attempt] if attempt < len(CHANGE_SET_POLL_DELAYS) else CHANGE_SET_POLL_SLOWEST
            )
            attempt += 1
            self.sleep(delay)

    def changes(self) -> list[ResourceChange]:
        """Every ResourceChange, following NextToken from the description wait() already fetched."""
        description = self.description
        changes = [change["ResourceChange"] for change in description.get("Changes", [])]
        while description.get("NextToken"):
            description = self.cfn.describe_change_set(
                ChangeSetName=self.arn, NextToken=description["NextToken"], IncludePropertyValues=True
            )
            changes.extend(change["ResourceChange"] for change in description.get("Changes", []))
        return changes

    def execute(self) -> None:
        awaited(
            lambda: self.cfn.execute_change_set(ChangeSetName=self.arn, ClientRequestToken=self.token("execute")),
            "ExecuteChangeSet",
            self.console,
        )

    def execution_started(self) -> bool:
        """After Ctrl-C around ExecuteChangeSet: whether CloudFormation took it (no longer AVAILABLE)."""
        return self.cfn.describe_change_set(ChangeSetName=self.arn)["ExecutionStatus"] != "AVAILABLE"

    def delete(self) -> None:
        """Deletes the change set on the way out (nothing to execute); Ctrl-C waits for the deletion's reply."""
        try:
            awaited(lambda: self.cfn.delete_change_set(ChangeSetName=self.arn), "DeleteChangeSet", self.console)
        except CallInterrupted as interrupted:
            if interrupted.answered:
                raise Interrupted(f"interrupted: {self.stack_name} not changed (change set deleted)") from None
            raise Interrupted(f"interrupted: {self.stack_name} not changed, but {self.leftover()}") from None

    def discard(self) -> str:
        """Leave the account as it was before create(): delete the REVIEW_IN_PROGRESS stack a first change set
        made, else the change set. By name, since a Ctrl-C during CreateChangeSet leaves its ARN unknown
        although CloudFormation may have made it. Returns what was done, for the message."""
        if self.creates_stack:
            stack = describe_stack(self.cfn, self.stack_name)
            if stack is None or not StackStatus(stack["StackStatus"]).awaiting_execution:
                return NOTHING_LEFT
            self.cfn.delete_stack(StackName=stack["StackId"], ClientRequestToken=self.token("discard"))
            return "the new empty stack deleted"
        try:
            self.cfn.delete_change_set(ChangeSetName=self.arn or self.name, StackName=self.stack_name)
        except ClientError as error:
            if error.response["Error"].get("Code") == "ChangeSetNotFound":
                return NOTHING_LEFT
            raise
        return "change set deleted"

    def leftover(self) -> str:
        """What may be left when discard() could not finish, and the command that removes it."""
        if self.creates_stack:
            delete = self.invocation.aws("cloudformation", "delete-stack", "--stack-name", self.stack_name)
            return f"{self.stack_name} may be left in REVIEW_IN_PROGRESS: delete it with `{delete}`"
        delete = self.invocation.aws(
            "cloudformation", "delete-change-set", "--stack-name", self.stack_name, "--change-set-name", self.name
        )
        return f"change set {self.name} may be left on {self.stack_name}: delete it with `{delete}`"
