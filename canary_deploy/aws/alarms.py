"""A service's deployment alarms as CloudWatch tells them: their states (DescribeAlarms), their state changes
since a moment (DescribeAlarmHistory) and the consumer's lag by the lag alarm's own query (GetMetricData).
Fetching only; model/verdict judges, render/alarm_states shows.

DescribeAlarmHistory takes one alarm name per call, so an alarm's history is read only when DescribeAlarms
says its state changed since the moment asked about (StateTransitionedTimestamp), and read again only when
it changed again.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from ..model.verdict import AlarmState, AlarmTransition
from .aws_types import Client

# Metrics Insights queries read the latest 3 hours only.
INSIGHTS_REACH = timedelta(hours=3)


class DeploymentAlarms:
    def __init__(self, cloudwatch: Client, names: tuple[str, ...], lag_alarm: str = "") -> None:
        self.cloudwatch = cloudwatch
        self.names = names
        self.lag_alarm = lag_alarm
        self.described: dict[str, dict[str, Any]] = {}
        self._histories: dict[tuple[str, datetime, datetime], tuple[AlarmTransition, ...]] = {}

    def states(self) -> tuple[AlarmState, ...]:
        """The states of those of the alarms that exist, in the order named."""
        if not self.names:
            return ()
        alarms = self.cloudwatch.describe_alarms(AlarmNames=list(self.names))["MetricAlarms"]
        self.described = {alarm["AlarmName"]: alarm for alarm in alarms}
        return tuple(
            AlarmState(name, alarm["StateValue"], alarm.get("StateReason", ""), _changed_at(alarm))
            for name in self.names
            if (alarm := self.described.get(name)) is not None
        )

    def history(self, since: datetime) -> tuple[AlarmTransition, ...]:
        """The alarms' state changes from `since`, oldest first (after `states`, which says which changed)."""
        changes: list[AlarmTransition] = []
        for name, alarm in self.described.items():
            changed_at = _changed_at(alarm)
            if changed_at is None or changed_at < since:
                continue
            key = (name, since, changed_at)
            if key not in self._histories:
                self._histories[key] = self._read_history(name, since)
            changes += self._histories[key]
        return tuple(sorted(changes, key=lambda change: change.at))

    def _read_history(self, name: str, since: datetime) -> tuple[AlarmTransition, ...]:
        pages = self.cloudwatch.get_paginator("describe_alarm_history").paginate(
            AlarmName=name, HistoryItemType="StateUpdate", StartDate=since, ScanBy="TimestampAscending"
        )
        changes = []
        for page in pages:
            for item in page["AlarmHistoryItems"]:
                data = json.loads(item.get("HistoryData") or "{}")
                old, new = data.get("oldState", {}), data.get("newState", {})
                if old.get("stateValue") and new.get("stateValue"):
                    changes.append(
                        AlarmTransition(
                            name, item["Timestamp"], old["stateValue"], new["stateValue"], new.get("stateReason", "")
                        )
                    )
        return tuple(changes)

    def max_lag(self, since: datetime, until: datetime) -> float | None:
        """The largest OffsetLag from `since`, by the lag alarm's own query (None: no datapoint, no alarm)."""
        query = next(
            (
                metric
                for metric in self.described.get(self.lag_alarm, {}).get("Metrics", [])
                if metric.get("ReturnData", True) and metric.get("Expression")
            ),
            None,
        )
        if query is None:
            return None
        start = max(since, until - INSIGHTS_REACH)
        period = max(int(query.get("Period", 60)), 60)
        results = self.cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": query["Id"], "Expression": query["Expression"], "Period": period}],
            StartTime=start - timedelta(seconds=period),  # the period the window starts in
            EndTime=until + timedelta(seconds=period),
        )["MetricDataResults"]
        values = [value for result in results for value in result.get("Values", [])]
        return max(values) if values else None


def _changed_at(alarm: dict[str, Any]) -> datetime | None:
    """When its state value last changed; StateUpdatedTimestamp (also moved by a new reason) where CloudWatch
    gives no StateTransitionedTimestamp."""
    changed: datetime | None = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
    return changed
