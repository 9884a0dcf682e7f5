"""A stand-in for CloudWatch evaluating metric alarms, which the local AWS does not do by itself
(cloudwatch.alarms: an alarm's state is what SetAlarmState made it). `evaluate()` does, for the alarms whose
names start with a prefix, what CloudWatch does each period: reads the alarm (DescribeAlarms), its data
over its last EvaluationPeriods periods (GetMetricData, with the local AWS's metric math), decides its state
(metric_math.alarm_state) and sets it when it changed (SetAlarmState). Everything goes through the public
API, as canary_app's stand-ins do, so the state is what the alarm's own definition decides.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from .cloudwatch.metric_math import alarm_state
from .cloudwatch.metrics_insights import data_period
from .server import DEFAULT_REGION, local_client

STAND_IN_REASON = "Threshold Crossed: evaluated by the local AWS's stand-in for CloudWatch (local_aws.alarm_evaluation)"


class AlarmEvaluation:
    def __init__(self, endpoint_url: str, name_prefix: str, region: str = DEFAULT_REGION) -> None:
        self.cloudwatch = local_client("cloudwatch", endpoint_url, region)
        self.name_prefix = name_prefix

    def evaluate(self) -> dict[str, str]:
        """Evaluate each alarm of the prefix now; returns each one's state, by name."""
        states = {}
        pages = self.cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=self.name_prefix, AlarmTypes=["MetricAlarm"]
        )
        for alarm in (alarm for page in pages for alarm in page["MetricAlarms"]):
            state = self.state_of(alarm)
            if state != alarm["StateValue"]:
                self.cloudwatch.set_alarm_state(
                    AlarmName=alarm["AlarmName"], StateValue=state, StateReason=STAND_IN_REASON
                )
            states[alarm["AlarmName"]] = state
        return states

    def state_of(self, alarm: dict) -> str:
        queries = alarm.get("Metrics") or [
            {
                "Id": "metric",
                "MetricStat": {
                    "Metric": {
                        "Namespace": alarm["Namespace"],
                        "MetricName": alarm["MetricName"],
                        "Dimensions": alarm.get("Dimensions", []),
                    },
                    "Period": alarm["Period"],
                    "Stat": alarm["Statistic"],
                },
            }
        ]
        period = timedelta(seconds=int(alarm.get("Period") or data_period(queries)))
        periods = int(alarm["EvaluationPeriods"])
        # The last complete periods, as CloudWatch evaluates them.
        now = datetime.now(UTC)
        end = now - timedelta(seconds=now.timestamp() % period.total_seconds())
        start = end - periods * period
        (result,) = self.cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)[
            "MetricDataResults"
        ]
        by_period = dict(zip(result["Timestamps"], result["Values"], strict=True))
        values = [by_period.get(start + index * period) for index in range(periods)]
        return alarm_state(
            values,
            alarm["ComparisonOperator"],
            float(alarm["Threshold"]),
            periods,
            int(alarm.get("DatapointsToAlarm") or periods),
            alarm.get("TreatMissingData", "missing"),
        )

    @contextmanager
    def running(self, interval: float) -> Iterator[AlarmEvaluation]:
        """Evaluate every `interval` seconds in a thread of its own, as CloudWatch does beside its clients."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                self.evaluate()

        thread = threading.Thread(target=loop, name="alarm-evaluation", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
