"""Deploys one stack through a change set: state handling, review, confirmation, execution, events."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from cfn.stack_status import StackStatus

from ..aws.awaited_call import CallInterrupted, awaited
from ..aws.aws_types import ResourceToImport, Stack
from ..aws.changeset import ChangeSet, required_capabilities
from ..aws.local_values import LocalValues
from ..aws.session import AwsClients
from ..aws.stack_state import describe_stack, refuse_if_stuck, status_of
from ..aws.template_source import template_argument
from ..errors import ChangesRefused, DeploymentFailed, Interrupted, StateUnknown
from ..model.invocation import Invocation
from ..model.outputs_file import OutputsFile
from ..model.parameters import StackParameters, deployed_values
from ..model.stack_outputs import outputs_of
from ..model.stack_template import StackTemplate
from ..render.console import Console
from ..render.parameter_diff import ParameterDiff
from ..render.review import ChangeReview
from ..watch.events import FAST_POLL, EventStream
from ..watch.interrupts import AWS_ERRORS, ExecutionInterrupts, abandon, first_line
from ..watch.rollout_watch import RolloutWatch
from ..watch.timing import REAL_TIME, Timing

# ECS can take hours to report "did not stabilize"; a generous default, never a fixed one-hour cap.
DEFAULT_TIMEOUT_SECONDS = 4 * 3600


def without_outputs(template: StackTemplate) -> StackTemplate:
    """The same template with no Outputs: what an IMPORT change set may carry (it may add none)."""
    data = {key: value for key, value in template.data.items() if key != "Outputs"}
    return StackTemplate(template.filename, json.dumps(data, indent=2))


@dataclass
class DeployOptions:
    yes: bool = False
    dry_run: bool = False
    wait: bool = False
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    s3_bucket: str | None = None
    outputs_file: OutputsFile | None = None
    cancel_after_failed_tasks: int | None = None
    fast_poll: float = FAST_POLL
    role_arn: str | None = None  # --role-arn: the role CloudFormation runs the change sets as


class StackDeployer:
    def __init__(
        self,
        clients: AwsClients,
        console: Console,
        options: DeployOptions,
        invocation: Invocation,
        kind: str,
        timing: Timing = REAL_TIME,
    ) -> None:
        self.clients = clients
        self.cfn = clients.cloudformation
        self.console = console
        self.options = options
        self.invocation = invocation
        self.status_command = invocation.deploy("status", kind)
        self.timing = timing

    def deploy(
        self,
        stack_name: str,
        template: StackTemplate,
        parameters: StackParameters,
        preflight: Callable[[Stack | None], list[ResourceToImport] | None] | None = None,
    ) -> Stack | None:
        """Returns the stack description after success or no changes; None after a dry run.

        Reads the stack first (nothing changes before preflight): on update, the parameters the command
        does not set keep the stack's values. `preflight(stack)` then checks the account, and may name
        existing resources the stack must adopt (a repository retained from a deleted stack); only after it
        passes may a stack whose creation failed be deleted and the change set be made."""
        stack = self.current_stack(stack_name)
        parameters.keep_deployed(deployed_values(stack))
        to_import = preflight(stack) if preflight else None
        if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
            self.console.notice(
                f"{stack_name} is ROLLBACK_COMPLETE (its creation failed, it holds nothing): deleting it to create it again"
            )
            self.delete_and_wait(stack)
            stack = None
        if to_import:
            # An import may add nothing else and no Outputs: adopt first, then the template as a whole.
            stack = self.apply_change_set(stack_name, without_outputs(template), parameters, stack, to_import)
            if stack is None:
                return None
            parameters.keep_deployed(deployed_values(stack))
        return self.apply_change_set(stack_name, template, parameters, stack)

    def apply_change_set(
        self,
        stack_name: str,
        template: StackTemplate,
        parameters: StackParameters,
        stack: Stack | None,
        to_import: list[ResourceToImport] | None = None,
    ) -> Stack | None:
        """One change set, made, reviewed, executed: the stack after it, or None after a dry run."""
        creates = stack is None or status_of(stack).awaiting_execution
        change_set_type = "IMPORT" if to_import else "CREATE" if creates else "UPDATE"
        change_set = ChangeSet(
            self.cfn, self.console, stack_name, change_set_type, self.invocation, sleep=self.timing.sleep
        )
        change_set.creates_stack = stack is None
        body = template_argument(template, stack_name, self.options.s3_bucket, self.clients)
        sent = parameters.as_cloudformation()
        diff = ParameterDiff(stack_name, template.parameters, parameters.deployed, sent)
        try:
            has_changes = (
                change_set.create(body, sent, required_capabilities(template), to_import, self.options.role_arn)
                and change_set.wait()
            )
            if has_changes:
                local = LocalValues(self.clients, change_set, stack, template.data, parameters.values())
                table = self.review(change_set, diff, local)
        except KeyboardInterrupt as interrupt:
            abandon(change_set, interrupt)
        except DeploymentFailed:
            change_set.discard()
            raise
        if not has_changes:
            if change_set.arn:
                change_set.delete()
            self.console.line(f"✅  {stack_name} (no changes)")
            self.write_outputs_file(stack)
            return stack
        if table is None:
            return None
        return self.execute(change_set, total_resources=len(table.changes), final=not to_import)

    def review(self, change_set: ChangeSet, diff: ParameterDiff, local: LocalValues) -> ChangeReview | None:
        """Shows the parameter changes and the resource changes; returns the table to execute, or None after
        a dry run (change set discarded). Flagged changes need confirmation: ChangesRefused discards the
        change set and stops here."""
        diff.print(self.console)
        changes = change_set.changes()
        table = ChangeReview(change_set.stack_name, changes, local.resource_values(changes))
        table.print(self.console)
        if self.options.dry_run:
            change_set.discard()
            self.console.line(f"Dry run: {change_set.stack_name} not changed (change set deleted).")
            return None
        self.confirm(table, change_set)
        return table

    def current_stack(self, stack_name: str) -> Stack | None:
        """The stack as it is, or None; waits for one in progress (--wait) and refuses states no deploy
        may start from. Changes nothing."""
        stack = describe_stack(self.cfn, stack_name)
        if stack is None:
            return None
        if status_of(stack).in_progress and self.options.wait:
            self.console.notice(f"{stack_name} is {stack['StackStatus']}: waiting for it (--wait)")
            stream = self.stream(stack["StackId"], stack_name)
            stream.mark()
            stream.wait(self.options.timeout, on_interrupt=self._raise_detached)
            return self.current_stack(stack_name)
        refuse_if_stuck(stack, self.invocation, self.status_command)
        return stack

    def delete_and_wait(self, stack: Stack) -> None:
        stream = self.stream(stack["StackId"], stack["StackName"])
        stream.mark()
        # One token for this deletion, sent again by botocore's retries (see ChangeSet).
        token = f"canary-deploy-delete-{uuid.uuid4().hex}"
        try:
            awaited(
                lambda: self.cfn.delete_stack(StackName=stack["StackId"], ClientRequestToken=token),
                "DeleteStack",
                self.console,
            )
        except CallInterrupted as interrupted:
            name = stack["StackName"]
            if interrupted.answered and not interrupted.reply:
                raise Interrupted(f"interrupted: DeleteStack was refused, {name} not changed") from None
            started = "goes on" if interrupted.answered else "may or may not have started"
            raise Interrupted(
                f"detached: the deletion of {name} {started}; watch it with `{self.status_command}`"
            ) from None
        status = stream.wait(self.options.timeout, on_interrupt=self._raise_detached)
        if status == "DELETE_COMPLETE":
            return
        if not status.startswith("DELETE_"):
            # Ended before deleting anything, e.g. while another stack imports an export: it is as it was.
            reason = stream.stack_reason() or "no reason given"
            raise DeploymentFailed(f"{stack['StackName']} not deleted: {reason}; it is still {status}")
        self.report_failure(stream, stack["StackName"], status)

    def confirm(self, table: ChangeReview, change_set: ChangeSet) -> None:
        if not table.risky or self.options.yes:
            return
        question = f"{len(table.risky)} change(s) above are flagged (⚠). Execute the change set?"
        if not self.console.interactive:
            change_set.discard()
            raise ChangesRefused(
                f"{change_set.stack_name}: {len(table.risky)} flagged change(s) need confirmation and there is no "
                "terminal: rerun with --yes to accept them (nothing was executed)"
            )
        if not self.console.confirm(question):
            change_set.discard()
            raise ChangesRefused(f"{change_set.stack_name}: not confirmed, nothing executed (change set deleted)")

    def execute(self, change_set: ChangeSet, total_resources: int, final: bool = True) -> Stack:
        """Executes and streams to the end; `final` False (an import, before the template as a whole):
        no outputs printed or written yet."""
        watch = RolloutWatch(
            self.clients,
            self.console,
            self.options.cancel_after_failed_tasks,
            cancel=lambda stopped: self.cancel_for_failed_tasks(change_set, stopped),
        )
        stream = self.stream(change_set.stack_id, change_set.stack_name, total_resources, watch)
        interrupts = ExecutionInterrupts(self.cfn, self.console, change_set, self.status_command)
        try:
            if change_set.change_set_type == "UPDATE":
                stream.mark()  # a new stack has only its REVIEW_IN_PROGRESS event, which the stream skips
            change_set.execute()
        except KeyboardInterrupt as interrupt:
            interrupts.during_execute_call(interrupt)
        status = self.final_status(stream, interrupts, change_set.stack_name)
        if interrupts.cancelled:
            raise Interrupted(f"update of {change_set.stack_name} cancelled by Ctrl-C; the stack is {status}")
        if not StackStatus(status).succeeded:
            self.report_failure(stream, change_set.stack_name, status)
        try:
            stack = describe_stack(self.cfn, change_set.stack_id)
        except AWS_ERRORS as error:
            stack, unreadable = None, first_line(error)
        else:
            unreadable = "no longer described"
        if stack is None:
            raise StateUnknown(
                f"{change_set.stack_name} is {status}, but its outputs could not be read ({unreadable}): "
                f"see them with `{self.status_command}`"
            )
        if final:
            self.print_outputs(stack)
        else:
            self.console.line(f"✅  {stack['StackName']} holds the imported resources ({status})")
        return stack

    def final_status(self, stream: EventStream, interrupts: ExecutionInterrupts, stack_name: str) -> str:
        """Streams to the end. A status that cannot be read (retries exhausted) is not a failed deployment:
        the stack may well have completed, so say that its state is unknown and how to look."""
        try:
            return stream.wait(self.options.timeout, on_interrupt=interrupts)
        except AWS_ERRORS as error:
            raise StateUnknown(
                f"could not read the status of {stack_name} ({first_line(error)}): its state is unknown, the "
                f"deployment may have completed; check it with `{self.status_command}`"
            ) from None

    def report_failure(self, stream: EventStream, stack_name: str, status: str) -> NoReturn:
        causes = stream.root_causes()
        if causes:
            self.console.line(self.console.style("Root cause:", "red"))
        for event in causes:
            self.console.line(
                f"  {event.get('LogicalResourceId')} ({event.get('ResourceType')}) {event['ResourceStatus']}: "
                f"{event.get('ResourceStatusReason') or 'no reason given'}"
            )
        watcher = stream.watcher
        for line in watcher.root_cause_lines() if watcher else []:
            self.console.line(f"  {line}")
        tasks = f"; tasks stopped: {watcher.failures[-1].stopped_reason}" if watcher and watcher.failures else ""
        raise DeploymentFailed(f"{stack_name} deployment failed: the stack is {status}{tasks}")

    def cancel_for_failed_tasks(self, change_set: ChangeSet, stopped: int) -> None:
        """--cancel-after-failed-tasks: roll a broken release back now, not after the circuit breaker."""
        option = f"--cancel-after-failed-tasks {self.options.cancel_after_failed_tasks}"
        if change_set.change_set_type != "UPDATE":
            self.console.notice(
                f"{stopped} task(s) of the new deployment stopped ({option}), but a creation cannot be cancelled: "
                "waiting for the circuit breaker"
            )
            return
        self.console.notice(
            f"{stopped} task(s) of the new deployment stopped ({option}): cancelling the update of "
            f"{change_set.stack_name}, CloudFormation rolls it back"
        )
        try:
            self.cfn.cancel_update_stack(
                StackName=change_set.stack_id, ClientRequestToken=change_set.token("cancel-failed-tasks")
            )
        except AWS_ERRORS as error:  # e.g. the update finished meanwhile: the stream tells what happened
            self.console.notice(f"could not cancel: {first_line(error)}")

    def print_outputs(self, stack: Stack) -> None:
        outputs = outputs_of(stack)
        self.console.line(f"✅  {stack['StackName']}")
        if outputs:
            self.console.line("\nOutputs:")
            for key, value in outputs.items():
                self.console.line(f"{stack['StackName']}.{key} = {value}")
        self.console.line(f"\nStack ARN:\n{stack['StackId']}")
        self.write_outputs_file(stack)

    def write_outputs_file(self, stack: Stack | None) -> None:
        """--outputs-file, also when nothing changed."""
        if self.options.outputs_file and stack is not None:
            self.options.outputs_file.write(stack)

    def stream(
        self, stack_id: str, stack_name: str, total_resources: int = 0, watcher: RolloutWatch | None = None
    ) -> EventStream:
        return EventStream(
            self.cfn,
            stack_id,
            stack_name,
            self.console,
            self.status_command,
            total_resources,
            timing=self.timing,
            watcher=watcher,
            fast_poll=self.options.fast_poll,
        )

    def _raise_detached(self) -> NoReturn:
        raise Interrupted(f"detached: CloudFormation goes on; watch it with `{self.status_command}`")
