"""CloudWatch alarms made by CloudFormation.

moto 5.2.5's CloudFormation skips `AWS::CloudWatch::Alarm` (its alarm is no CloudFormation model), so a
stack's alarms never exist: nothing could read their state, set it (SetAlarmState), or judge an ECS
deployment by it. Here an alarm resource is put through moto's own PutMetricAlarm (metric or metric-math
alarm, actions, tags); an update that keeps the name keeps the alarm's state, as PutMetricAlarm does on AWS;
a new name replaces it. Alarms are not evaluated: their state is what SetAlarmState (a test, the demo) says,
starting at OK (all this project's alarms treat missing data as not breaching, which is OK on AWS too).

This module imports moto (its model is a subclass of moto's): it is imported when the patches are applied.
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel

ALARM_TYPE = "AWS::CloudWatch::Alarm"


def _metric_data_queries(metrics: list[dict]) -> list:
    """CloudFormation's Metrics entries as moto's MetricDataQuery objects (what PutMetricAlarm builds)."""
    queries = []
    for query in metrics:
        stat = query.get("MetricStat")
        metric_stat = None
        if stat:
            metric = stat["Metric"]
            metric_stat = MetricStat(
                metric=Metric(
                    metric_name=metric["MetricName"],
                    namespace=metric["Namespace"],
                    dimensions=[Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])],
                ),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                query_id=query["Id"],
                label=query.get("Label"),
                period=query.get("Period"),
                return_data=query.get("ReturnData", True),
                expression=query.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


def _put_alarm(backend, name: str, properties: dict):
    def number(key: str) -> Any:
        value = properties.get(key)
        return None if value is None else float(value) if key == "Threshold" else int(value)

    return backend.put_metric_alarm(
        name=name,
        namespace=properties.get("Namespace"),
        metric_name=properties.get("MetricName"),
        comparison_operator=properties.get("ComparisonOperator"),
        evaluation_periods=number("EvaluationPeriods"),
        period=number("Period"),
        threshold=number("Threshold"),
        statistic=properties.get("Statistic"),
        description=properties.get("AlarmDescription"),
        dimensions=properties.get("Dimensions", []),
        alarm_actions=properties.get("AlarmActions", []),
        metric_data_queries=_metric_data_queries(properties.get("Metrics", [])) or None,
        datapoints_to_alarm=number("DatapointsToAlarm"),
        extended_statistic=properties.get("ExtendedStatistic"),
        ok_actions=properties.get("OKActions", []),
        insufficient_data_actions=properties.get("InsufficientDataActions", []),
        unit=properties.get("Unit"),
        actions_enabled=properties.get("ActionsEnabled", True),
        treat_missing_data=properties.get("TreatMissingData"),
        threshold_metric_id=properties.get("ThresholdMetricId"),
        tags=properties.get("Tags", []),
    )


class MetricAlarm(CloudFormationModel):
    def __init__(self, account_id: str, region_name: str, name: str, properties: dict, keep_state_of=None):
        self.backend = cloudwatch_backends[account_id][region_name]
        self.alarm = _put_alarm(self.backend, name, properties)
        if keep_state_of is not None:  # PutMetricAlarm on an existing alarm leaves its state unchanged
            for attribute in (
                "state_value",
                "state_reason",
                "state_reason_data",
                "state_updated_timestamp",
                "state_transitioned_timestamp",
                "state_history",
            ):
                setattr(self.alarm, attribute, getattr(keep_state_of, attribute))
            self.alarm.history = keep_state_of.history
        self.physical_resource_id = name  # Ref of an alarm is its name

    @staticmethod
    def cloudformation_type() -> str:
        return ALARM_TYPE

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.alarm.alarm_arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        return cls(account_id, region_name, properties.get("AlarmName") or resource_name, properties)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json["Properties"]
        name = properties.get("AlarmName") or original_resource.physical_resource_id
        if name == original_resource.physical_resource_id:
            return cls(account_id, region_name, name, properties, keep_state_of=original_resource.alarm)
        original_resource.delete(account_id, region_name)
        return cls(account_id, region_name, name, properties)

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_alarms([self.physical_resource_id])
