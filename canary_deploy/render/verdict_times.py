"""The time-to-verdict rows (model/verdict_times) as the table docs/verdict.md shows, and as the deadlines
`--verify` prints while it waits. Pure: rows and a start time in, lines out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from ..model.verdict_times import VerdictTime, upper_bound
from .durations import duration

TABLE_HEADER = (
    "| how the beta fails | what gives the verdict | at the latest | counted from | how |",
    "|---|---|---|---|---|",
)


def verdict_times_table(times: Sequence[VerdictTime]) -> list[str]:
    """A Markdown table, one row per way to fail."""
    return [
        *TABLE_HEADER,
        *(f"| {row.failure} | {row.judge} | {_latest(row)} | {row.since} | {row.how or '-'} |" for row in times),
    ]


def deadline_lines(times: Sequence[VerdictTime], started_at: datetime, zone: tzinfo | None = None) -> list[str]:
    """The rows as clock times for a deployment that started at `started_at` (shown in `zone`, default the
    machine's): when ECS has decided at the latest, then each way to fail."""

    def clock(seconds: float) -> str:
        return f"{(started_at + timedelta(seconds=seconds)).astimezone(zone):%H:%M:%S}"

    width = max(len(row.failure) for row in times)
    lines = [
        f"Verdict by {clock(upper_bound(times))} at the latest (its deployment started "
        f"{started_at.astimezone(zone):%H:%M:%S}; from the template's settings, see docs/verdict.md):"
    ]
    for row in times:
        if row.seconds is None:
            lines.append(f"  {row.failure:<{width}}  {row.judge}")
            continue
        if row.from_deployment_start:
            when = f"by {clock(row.seconds)}"
        else:
            when = f"within {duration(row.seconds)} after {row.since}"
        lines.append(f"  {row.failure:<{width}}  {when}: {row.judge}")
    return lines


def _latest(row: VerdictTime) -> str:
    return "never" if row.seconds is None else duration(row.seconds)
