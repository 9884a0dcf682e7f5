"""Alarm history, which moto 5.2.5 lacks: no DescribeAlarmHistory and no StateTransitionedTimestamp.

Each change of an alarm's state value is kept as a `StateUpdate` history item in the form CloudWatch gives
it (HistoryData's oldState and newState, HistorySummary "Alarm updated from OK to ALARM"; AWS CLI reference,
describe-alarm-history), and DescribeAlarmHistory answers them, newest first unless ScanBy says otherwise,
filtered by AlarmName, HistoryItemType, StartDate and EndDate, in pages of MaxRecords. A SetAlarmState that
keeps the state value (only its reason changes) is no change of state.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

# DescribeAlarmHistory's MaxRecords: "Valid Range: Minimum value of 1. Maximum value of 100." (API reference);
# it documents no default, so the model pages at the maximum.
PAGE_MAX = 100


def init(moto_init, self, *args, **kwargs) -> None:
    """A new alarm: its state entered when it was made, no change of state yet."""
    moto_init(self, *args, **kwargs)
    self.state_transitioned_timestamp = self.state_updated_timestamp
    self.state_history = []


def update_state(moto_update_state, self, reason: str, reason_data: str, state_value: str) -> None:
    old = {"stateValue": self.state_value, "stateReason": self.state_reason}
    moto_update_state(self, reason, reason_data, state_value)
    if old["stateValue"] == state_value:
        return
    self.state_transitioned_timestamp = self.state_updated_timestamp
    self.state_history.append(
        {
            "AlarmName": self.name,
            "AlarmType": "MetricAlarm",
            "Timestamp": self.state_updated_timestamp,
            "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {old['stateValue']} to {state_value}",
            "HistoryData": json.dumps(
                {"version": "1.0", "oldState": old, "newState": {"stateValue": state_value, "stateReason": reason}}
            ),
        }
    )


def describe_alarm_history(self):
    from moto.cloudwatch.exceptions import ValidationError
    from moto.core.responses import ActionResult

    name, item_type = self._get_param("AlarmName"), self._get_param("HistoryItemType")
    start, end = self._get_param("StartDate"), self._get_param("EndDate")
    size = int(self._get_param("MaxRecords") or PAGE_MAX)
    if not 1 <= size <= PAGE_MAX:
        raise ValidationError(f"MaxRecords must be between 1 and {PAGE_MAX}.")
    items = sorted(
        (
            item
            for alarm in self.cloudwatch_backend.alarms.values()
            if name in (None, alarm.name)
            for item in getattr(alarm, "state_history", [])
            if item_type in (None, item["HistoryItemType"])
            and (start is None or _utc(item["Timestamp"]) >= _utc(start))
            and (end is None or _utc(item["Timestamp"]) <= _utc(end))
        ),
        key=lambda item: item["Timestamp"],
        reverse=self._get_param("ScanBy") != "TimestampAscending",
    )
    token = self._get_param("NextToken")
    first = int(base64.urlsafe_b64decode(token).decode()) if token else 0
    result: dict[str, Any] = {"AlarmHistoryItems": items[first : first + size]}
    if first + size < len(items):
        result["NextToken"] = base64.urlsafe_b64encode(str(first + size).encode()).decode()
    return ActionResult(result)


def _utc(instant: datetime) -> datetime:
    """moto keeps naive UTC timestamps; a parsed request date may be aware."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
