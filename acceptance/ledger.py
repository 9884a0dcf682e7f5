"""What an acceptance run makes, and its deletion: at the end of the run, after a failure, and on the first
Ctrl-C; a second Ctrl-C leaves the rest and names it, with the AWS CLI command that deletes each.

Each thing is entered before the call that makes it, under the name (or tag) the run gave it, and its
deletion finds it by that name and accepts that it is not there: so a creation whose reply never came (a
lost reply that botocore retried, a Ctrl-C) is deleted too. The creating call runs as the deployer's
mutating calls do (canary_deploy/aws/awaited_call.py): Ctrl-C while it is in flight waits for AWS's reply
before the deletion starts, so the deletion does not run before the thing exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from canary_deploy.aws.awaited_call import REPLY_WAIT_SECONDS, CallInterrupted, awaited
from canary_deploy.errors import Interrupted
from canary_deploy.render.console import Console
from canary_deploy.watch.interrupts import AWS_ERRORS, first_line

T = TypeVar("T")


@dataclass(frozen=True)
class Made:
    """One thing the run made: what it is, how the run deletes it, and how a person would."""

    what: str
    delete: Callable[[], None]
    by_hand: str


class Ledger:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.made: list[Made] = []
        self.unanswered: list[str] = []  # creating calls Ctrl-C left without a reply after the wait

    def enter(self, made: Made) -> None:
        """Enter what is about to be made (once, whatever the number of calls that make it)."""
        if made not in self.made:
            self.made.append(made)

    def make(self, made: Made, operation: str, call: Callable[[], T]) -> T:
        """Enter `made`, then run the call that makes it; Ctrl-C while it is in flight waits for its reply."""
        self.enter(made)
        try:
            return awaited(call, operation, self.console)
        except CallInterrupted as interrupted:
            if not interrupted.answered:
                self.unanswered.append(f"{operation} ({made.what}) had not answered after {REPLY_WAIT_SECONDS:.0f} s")
            if interrupted.pressed_twice:
                raise Interrupted(f"detached while making {made.what}; {self.leftover()}") from None
            raise

    def leftover(self) -> str:
        if not self.made:
            return "nothing left"
        things = "; ".join(f"{made.what}: `{made.by_hand}`" for made in reversed(self.made))
        late = f" ({'; '.join(self.unanswered)}: it may appear later)" if self.unanswered else ""
        return f"left, with the commands that delete them: {things}{late}"

    def delete_all(self, patience: int) -> list[Made]:
        """Delete everything, newest first; returns what could not be deleted. Ctrl-C meanwhile: the first
        `patience` presses are noted and the deletion goes on; the next leaves the rest (Interrupted)."""
        failed: list[Made] = []
        while self.made:
            made = self.made[-1]
            try:
                made.delete()
            except KeyboardInterrupt:
                if patience <= 0:
                    raise Interrupted(f"detached while deleting; {self.leftover()}") from None
                patience -= 1
                self.console.notice("Ctrl-C: still deleting what the run made (Ctrl-C again to leave the rest)")
                continue
            except AWS_ERRORS as error:
                self.console.error(f"could not delete {made.what}: {first_line(error)}")
                failed.append(made)
            else:
                self.console.line(f"  deleted {made.what}")
            self.made.pop()
        self.made = failed[::-1]
        return failed
