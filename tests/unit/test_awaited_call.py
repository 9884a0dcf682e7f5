"""A mutating call's reply awaited through Ctrl-C (canary_deploy.aws.awaited_call), with real SIGINTs sent to
this process's main thread, as a terminal sends them; the call is a function that stands for the request."""

import io
import signal
import threading

import pytest

from canary_deploy.aws.awaited_call import CallInterrupted, awaited
from canary_deploy.render.console import Console

pytestmark = pytest.mark.usefixtures("ctrl_c_interrupts")
NOTICE = "Ctrl-C: waiting up to 5 s for AWS to answer CreateChangeSet"


def press_ctrl_c():
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


class Terminal(io.StringIO):
    """Standard output that tells when the notice was written, and may press Ctrl-C as it shows."""

    def __init__(self, press_as_it_shows=False):
        super().__init__()
        self.notice_shown = threading.Event()
        self.press_as_it_shows = press_as_it_shows

    def write(self, text):
        length = super().write(text)
        if NOTICE in text:
            self.notice_shown.set()
            if self.press_as_it_shows:
                press_ctrl_c()
        return length


def interrupted(call, terminal, limit=5.0):
    """The CallInterrupted that awaited() raised; a bare KeyboardInterrupt fails the test (it would end pytest)."""
    try:
        awaited(call, "CreateChangeSet", Console(out=terminal, interactive=False, color=False), limit=limit)
    except CallInterrupted as interruption:
        return interruption
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C left the wait as a bare KeyboardInterrupt, not knowing what the call did")
    pytest.fail("awaited() returned although Ctrl-C was pressed")


def test_ctrl_c_while_the_request_is_out_waits_for_the_reply_and_hands_it_over():
    terminal = Terminal()

    def create_change_set():
        press_ctrl_c()
        assert terminal.notice_shown.wait(5)  # the reply comes after the deployer said it waits for it
        return {"Id": "arn:change-set"}

    interruption = interrupted(create_change_set, terminal)

    assert (interruption.answered, interruption.reply, interruption.pressed_twice) == (
        True,
        {"Id": "arn:change-set"},
        False,
    )
    assert terminal.getvalue().startswith(f"ℹ️  {NOTICE}, so that what it did is known and can be undone")


def test_a_refusal_after_ctrl_c_is_an_answer_without_a_reply():
    terminal = Terminal()

    def create_change_set():
        press_ctrl_c()
        terminal.notice_shown.wait(5)
        raise RuntimeError("AlreadyExists")

    interruption = interrupted(create_change_set, terminal)

    assert (interruption.answered, interruption.reply) == (True, None)


def test_no_reply_within_the_limit_ends_the_wait():
    gone = threading.Event()

    def create_change_set():
        press_ctrl_c()
        gone.wait(5)

    interruption = interrupted(create_change_set, Terminal(), limit=0.3)
    gone.set()

    assert (interruption.answered, interruption.pressed_twice) == (False, False)


def test_a_second_ctrl_c_while_the_notice_prints_stops_the_wait():
    reply_held = threading.Event()

    def create_change_set():
        press_ctrl_c()
        reply_held.wait(5)

    interruption = interrupted(create_change_set, Terminal(press_as_it_shows=True))
    reply_held.set()

    assert (interruption.answered, interruption.pressed_twice) == (False, True)


def test_a_second_ctrl_c_right_after_the_notice_is_not_lost_before_the_wait_blocks():
    """A user thread presses as soon as the notice shows, so the signal often lands just before the main thread
    blocks in its wait, where Python would handle it only when the wait ends (after the 5 s limit here)."""
    terminal, reply_held = Terminal(), threading.Event()

    def user():
        terminal.notice_shown.wait(5)
        press_ctrl_c()

    def create_change_set():
        press_ctrl_c()
        reply_held.wait(10)

    threading.Thread(target=user, daemon=True).start()
    interruption = interrupted(create_change_set, terminal)
    reply_held.set()

    assert interruption.pressed_twice


def test_a_call_that_ends_before_any_ctrl_c_returns_its_reply_or_raises_its_error():
    console = Console(out=io.StringIO(), interactive=False, color=False)

    assert awaited(lambda: "reply", "CreateChangeSet", console) == "reply"
    with pytest.raises(ValueError, match="refused"):
        awaited(lambda: (_ for _ in ()).throw(ValueError("refused")), "CreateChangeSet", console)
