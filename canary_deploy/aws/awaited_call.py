"""A mutating AWS call whose reply Ctrl-C cannot cut off.

Ctrl-C in the middle of an HTTP request stops us reading the reply, not AWS acting on the request: a
CreateChangeSet that takes seconds to answer still makes its change set (and, on a first deploy, the stack)
after we stopped listening. A clean-up sent before it lands finds nothing, and the account is then not as
reported. So a mutating call runs in a worker thread: on Ctrl-C the deployer waits (bounded, saying so) for
the reply, and only then handles the interruption, knowing what the call did.
"""

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..render.console import Console

# botocore's default read timeout: after it the call itself would have given up on the reply.
REPLY_WAIT_SECONDS = 60.0
# Python runs a signal's handler between bytecodes, so a blocking wait sees a Ctrl-C only when the signal cuts
# it short: one that lands just before the wait blocks is handled only when the wait ends. Waits run in slices
# this long, which bounds that delay.
CTRL_C_SLICE_SECONDS = 0.1

T = TypeVar("T")


class CallInterrupted(KeyboardInterrupt):
    """Ctrl-C during a mutating call, raised once the call settled or the wait for it ended. A KeyboardInterrupt,
    so every Ctrl-C handler applies; the handler can tell what the call did."""

    def __init__(self, operation: str, answered: bool, reply: Any = None, pressed_twice: bool = False) -> None:
        super().__init__(operation)
        self.operation = operation
        self.answered = answered  # AWS replied (reply set) or refused (reply None) within the wait
        self.reply = reply
        self.pressed_twice = pressed_twice  # a second Ctrl-C ended the wait: the user wants out now


def awaited(call: Callable[[], T], operation: str, console: Console, limit: float = REPLY_WAIT_SECONDS) -> T:
    """Returns call()'s reply or raises its error, as a direct call would; on Ctrl-C raises CallInterrupted
    once the reply came, `limit` seconds passed, or a second Ctrl-C. A KeyboardInterrupt raised inside the
    call itself (before the request went out) is raised as it is."""
    outcome: list[tuple[bool, Any]] = []
    settled = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # handed to the caller's thread, whatever it is
            outcome.append((False, error))
        finally:
            settled.set()

    # A daemon: after a second Ctrl-C the process must be able to exit while the request is still out.
    worker = threading.Thread(target=run, name=f"aws-{operation}", daemon=True)
    try:
        worker.start()
        _wait(settled)
    except KeyboardInterrupt:
        if worker.ident is None:  # Ctrl-C before the thread started: the request never went out
            raise
        try:  # a second Ctrl-C at any moment from here, even while the notice prints, stops the wait
            console.notice(
                f"Ctrl-C: waiting up to {limit:.0f} s for AWS to answer {operation}, so that what it did is known "
                "and can be undone (Ctrl-C again to stop waiting)"
            )
            answered = _wait(settled, limit)
        except KeyboardInterrupt:
            raise CallInterrupted(operation, answered=False, pressed_twice=True) from None
        succeeded, value = outcome[0] if answered else (False, None)
        raise CallInterrupted(operation, answered=answered, reply=value if succeeded else None) from None
    succeeded, value = outcome[0]
    if succeeded:
        return value
    raise value


def _wait(settled: threading.Event, limit: float | None = None) -> bool:
    """settled.wait(limit), in slices: True once settled, False after `limit` seconds."""
    deadline = None if limit is None else time.monotonic() + limit
    while not settled.wait(CTRL_C_SLICE_SECONDS):
        if deadline is not None and time.monotonic() >= deadline:
            return False
    return True
