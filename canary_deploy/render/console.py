"""Terminal output: plain lines in CI logs, colour and an in-place progress line on a terminal."""

import os
import sys
from typing import TextIO

from ..errors import OutputClosed

STYLES = {"red": "\033[31m", "yellow": "\033[33m", "green": "\033[32m", "bold": "\033[1m", "dim": "\033[2m"}
RESET = "\033[0m"


class Console:
    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        stdin: TextIO | None = None,
        interactive: bool | None = None,
        color: bool | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.stdin = stdin or sys.stdin
        if interactive is None:
            interactive = _isatty(self.stdin) and _isatty(self.out)
        if color is None:
            color = _isatty(self.out) and "NO_COLOR" not in os.environ
        self.interactive = interactive
        self.color = color
        self._progress_shown = False

    def line(self, text: str = "") -> None:
        self._clear_progress()
        self._write(self.out, f"{text}\n")

    def notice(self, text: str) -> None:
        self.line(self.style(f"ℹ️  {text}", "yellow"))

    def error(self, text: str) -> None:
        self._clear_progress()
        self._write(self.err, self.style(f"❌ {text}", "red") + "\n")

    def style(self, text: str, name: str | None) -> str:
        return f"{STYLES[name]}{text}{RESET}" if self.color and name else text

    def progress(self, text: str) -> None:
        """Redraw one status line in place on a terminal; CI logs get nothing (events are printed anyway)."""
        if not self.interactive:
            return
        self._write(self.out, f"\r\033[K{text}")
        self._progress_shown = True

    def clear_screen(self) -> None:
        """A fresh screen for a view that refreshes, on a terminal; CI logs simply go on."""
        if self.interactive:
            self._write(self.out, "\033[H\033[2J")
            self._progress_shown = False

    def confirm(self, question: str) -> bool:
        self._clear_progress()
        self._write(self.out, f"{question} [y/N] ")
        answer = self.stdin.readline()
        return answer.strip().lower() in ("y", "yes")

    def _clear_progress(self) -> None:
        if self._progress_shown:
            self._progress_shown = False
            self._write(self.out, "\r\033[K")

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:
            raise OutputClosed from None


def _isatty(stream: object) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()
