"""The service's deployment alarms as a deploy, a preview and `status` show them. Pure: states in, lines out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from ..model.verdict import IN_ALARM, AlarmState


def alarm_state_lines(
    names: Sequence[str], states: Sequence[AlarmState], zone: tzinfo | None = None, brief_when_ok: bool = False
) -> list[str]:
    """`Deployment alarms ...:` then one line per alarm named: its state, since when, and its reason in ALARM;
    `brief_when_ok`: a single line when every one is OK."""
    by_name = {alarm.name: alarm for alarm in states}
    if brief_when_ok and all(by_name.get(name, AlarmState(name, "")).state == "OK" for name in names):
        return [f"Deployment alarms: all OK ({', '.join(names)}): ECS judges this release by them"]
    width = max(len(name) for name in names)
    lines = ["Deployment alarms (ECS judges each release by them):"]
    for name in names:
        alarm = by_name.get(name)
        if alarm is None:
            lines.append(f"  {name:<{width}}  not created yet")
            continue
        since = f" since {alarm.since.astimezone(zone):%Y-%m-%d %H:%M:%S}" if alarm.since else ""
        reason = f": {alarm.reason}" if alarm.state == IN_ALARM and alarm.reason else ""
        lines.append(f"  {name:<{width}}  {alarm.state}{since}{reason}")
    return lines


def in_alarm_summary(firing: Sequence[AlarmState], zone: tzinfo | None = None) -> str:
    """`X is in ALARM since 14:02:11 (its reason)`, for each alarm in ALARM, in one line."""
    return "; ".join(
        f"{alarm.name} is in ALARM"
        + (f" since {alarm.since.astimezone(zone):%H:%M:%S}" if alarm.since else "")
        + (f" ({alarm.reason.rstrip('.')})" if alarm.reason else "")
        for alarm in firing
    )
