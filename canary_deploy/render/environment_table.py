"""`deploy.py status` over every environment: one row each, from what status read (no AWS calls here)."""

import unicodedata
from dataclasses import dataclass

from ..model.environments import Environment
from ..model.invocation import Invocation
from ..model.verdict import Outcome, Verdict

HEADERS = ("Environment", "Region", "Stack", "Status", "Version", "Last verdict", "Max lag", "Tasks", "Image")
FILE_HEADERS = ("Environment", "App stack", "Registry stack", "Parameter prefix", "Region", "Profile")
NONE = "-"
ICONS = {Outcome.HEALTHY: "✅", Outcome.FAILED: "❌", Outcome.IN_PROGRESS: "⏳", Outcome.DETACHED: "⏸"}


@dataclass(frozen=True)
class EnvironmentState:
    """What status read of one environment's app stack and service."""

    name: str
    region: str
    stack_name: str
    stack_status: str | None = None  # None: not deployed
    version: str | None = None  # the stack's Version parameter
    running: int | None = None  # None: no service
    desired: int | None = None
    runs_stack_image: bool | None = None  # None: no task runs
    running_images: tuple[str, ...] = ()
    verdict: Verdict | None = None  # the last release's; None: no deployment history
    not_judged: str = ""  # why the last release could not be judged


def environments_table(environments: tuple[Environment, ...]) -> list[str]:
    """`deploy.py environments`: what the file names (a value left to the flags and AWS_* variables: -)."""
    return _table(
        FILE_HEADERS,
        [
            (
                environment.name,
                environment.stack_name,
                environment.registry_stack_name,
                environment.parameter_prefix or NONE,
                environment.region or NONE,
                environment.profile or NONE,
            )
            for environment in environments
        ],
    )


def environment_table(states: list[EnvironmentState], invocation: Invocation) -> list[str]:
    """The table, then a line for each environment whose canary failed or runs another image than its
    stack's, with the command that shows it in full."""
    lines = _table(HEADERS, [_row(state) for state in states])
    for state in states:
        problems = _problems(state)
        if problems:
            details = invocation.in_environment(state.name).deploy("status", "app")
            lines.append(f"{state.name}: {'; '.join(problems)}: see `{details}`")
    return lines


def _row(state: EnvironmentState) -> tuple[str, ...]:
    tasks = NONE if state.running is None else f"{state.running}/{state.desired}"
    image = {None: NONE, True: "the stack's", False: "⚠ another"}[state.runs_stack_image]
    return (
        state.name,
        state.region or NONE,
        state.stack_name,
        state.stack_status or "not deployed",
        state.version or NONE,
        _verdict(state),
        NONE if state.verdict is None or state.verdict.max_lag is None else f"{state.verdict.max_lag:g}",
        tasks,
        image,
    )


def _verdict(state: EnvironmentState) -> str:
    verdict = state.verdict
    if verdict is None:
        return "not judged" if state.not_judged else NONE
    on = "" if verdict.version == state.version else f" on {verdict.version}"
    return f"{ICONS[verdict.outcome]} {verdict.outcome.value}{on}"


def _problems(state: EnvironmentState) -> list[str]:
    problems = []
    if state.verdict is not None and state.verdict.outcome is Outcome.FAILED:
        problems.append(state.verdict.text())
    if state.not_judged:
        problems.append(f"last release not judged ({state.not_judged})")
    if state.runs_stack_image is False:
        problems.append(f"ECS runs {', '.join(state.running_images)}, not the stack's image")
    return problems


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(map(_width, column)) for column in zip(headers, *rows, strict=True)]
    return [
        "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    ]


def _width(text: str) -> int:
    """Columns on a terminal: an emoji such as ✅ or ❌ takes two."""
    return sum(2 if unicodedata.east_asian_width(char) == "W" else 1 for char in text)
