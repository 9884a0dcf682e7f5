"""Ctrl-C at each moment of a deploy, leaving the account as the message says.

Before execution (during CreateChangeSet, the wait, the review, the first event read or ExecuteChangeSet
itself before CloudFormation took it): what the change set made is deleted by name, and the stack is as it
was. Once execution started: an update is cancelled (CancelUpdateStack) and its rollback streamed; a
creation or import is left to run, detached. A second Ctrl-C always detaches, saying what goes on.
"""

from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from ..aws.awaited_call import REPLY_WAIT_SECONDS, CallInterrupted
from ..aws.aws_types import Client
from ..aws.changeset import NOTHING_LEFT, ChangeSet
from ..errors import Interrupted
from ..render.console import Console

AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)


def first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def abandon(change_set: ChangeSet, interrupt: KeyboardInterrupt) -> NoReturn:
    """Ctrl-C before execution: remove what the change set made, then stop (always raises Interrupted). A second
    Ctrl-C while a call's reply was awaited (see awaited_call) detaches at once."""
    if isinstance(interrupt, CallInterrupted) and interrupt.pressed_twice:
        raise Interrupted(f"detached: {change_set.leftover()}")
    try:
        done = change_set.discard()
    except KeyboardInterrupt:
        raise Interrupted(f"detached: {change_set.leftover()}") from None
    except AWS_ERRORS as error:
        raise Interrupted(
            f"interrupted before executing, but the clean-up failed ({first_line(error)}): {change_set.leftover()}"
        ) from None
    if done == NOTHING_LEFT and change_set.create_unanswered:
        raise Interrupted(
            f"interrupted before executing; CreateChangeSet had not answered after {REPLY_WAIT_SECONDS:.0f} s and "
            f"nothing it made was found yet, but it may still land: {change_set.leftover()}"
        )
    raise Interrupted(f"interrupted before executing: {change_set.stack_name} not changed ({done})")


class ExecutionInterrupts:
    """Ctrl-C once execution may have started: called with the change set when ExecuteChangeSet itself was
    interrupted, and by the event stream while it waits (see EventStream.wait)."""

    def __init__(self, cfn: Client, console: Console, change_set: ChangeSet, status_command: str) -> None:
        self.cfn = cfn
        self.console = console
        self.change_set = change_set
        self.status_command = status_command
        self.pressed = False
        self.cancelled = False  # CloudFormation accepted the cancel: the stack rolls back

    def during_execute_call(self, interrupt: KeyboardInterrupt) -> None:
        """Ctrl-C around ExecuteChangeSet (its reply awaited, see awaited_call): abandon the change set if
        CloudFormation never took it, else treat it as a Ctrl-C while executing."""
        if isinstance(interrupt, CallInterrupted) and interrupt.pressed_twice:
            raise self._detached("the change set may or may not be executing")
        try:
            started = self.change_set.execution_started()
        except KeyboardInterrupt:
            raise self._detached("the change set may or may not be executing") from None
        except AWS_ERRORS as error:
            raise Interrupted(
                f"interrupted while executing the change set of {self.change_set.stack_name}; whether it started "
                f"is unknown ({first_line(error)}): check with `{self.status_command}`"
            ) from None
        if not started:
            abandon(self.change_set, interrupt)
        self()

    def __call__(self) -> None:
        name = self.change_set.stack_name
        if self.change_set.change_set_type != "UPDATE":
            what = "creation" if self.change_set.change_set_type == "CREATE" else "import"
            raise self._detached(f"the {what} of {name} goes on in CloudFormation")
        if self.pressed:
            raise self._detached(f"the {'rollback' if self.cancelled else 'update'} of {name} goes on")
        self.pressed = True
        try:
            self.cfn.cancel_update_stack(
                StackName=self.change_set.stack_id, ClientRequestToken=self.change_set.token("cancel")
            )
        except KeyboardInterrupt:
            raise self._detached(f"the update of {name} goes on unless the cancel reached CloudFormation") from None
        except Exception as error:  # noqa: BLE001 - any failure (API, network, throttling): the update goes on, so report and keep streaming
            self.console.notice(
                f"could not cancel the update of {name} ({first_line(error)}): streaming it to the end "
                "(Ctrl-C again to detach)"
            )
            return
        self.cancelled = True
        self.console.notice(f"Ctrl-C: cancelling the update of {name}, streaming the rollback (Ctrl-C again to detach)")

    def _detached(self, what_goes_on: str) -> Interrupted:
        return Interrupted(f"detached: {what_goes_on}; watch it with `{self.status_command}`")
