"""Monitoring: an encrypted alerts topic, the alarms that matter for a canary (the service's resources, its
task count, and the consumer's health: lag and a stalled consumer), and a dashboard, with the app stack
parameters they read.

Every alarm keeps quiet while there is nothing to judge: a paused canary (DesiredCount 0) and a fresh stack
before its first datapoints treat missing data as not breaching. What matters is expressed in the data
itself instead: a task not running is RunningTaskCount 0 (Container Insights reports zeros), and no OffsetLag
while a task runs is filled in as 0 datapoints, which breaches.
"""

import json
from dataclasses import dataclass

from awacs import kms
from awacs.aws import Allow, Principal, Statement
from troposphere import Equals, GetAtt, Not, Parameter, Ref, Sub, Template
from troposphere.cloudwatch import Alarm, Dashboard, Metric, MetricDataQuery, MetricDimension, MetricStat
from troposphere.ecs import DeploymentAlarms, Service
from troposphere.kms import Key
from troposphere.sns import SubscriptionResource, Topic

from contract import (
    CONSUMER_LAG_ALARM,
    CONSUMER_STALLED_ALARM,
    DEPLOYMENT_ALARMS,
    OFFSET_LAG_DIMENSIONS,
    OFFSET_LAG_METRIC,
    TASKS_BELOW_DESIRED_ALARM,
)

from .common import add_customer_managed_key, application_tags
from .compute import METRIC_NAMESPACE, Compute

HAS_ALARM_EMAIL = "HasAlarmEmail"
UTILIZATION_THRESHOLD = 90
FIVE_MINUTES = 300
ONE_MINUTE = 60
# Metrics Insights alarms evaluate the latest 3 hours only; an hour is already a long silence for a canary.
MAX_WINDOW_MINUTES = 60


@dataclass(frozen=True)
class MonitoringParameters:
    """The app stack's parameters the monitoring part reads."""

    alarm_email: Parameter
    lag_threshold: Parameter
    lag_minutes: Parameter
    stalled_minutes: Parameter


def add_monitoring_parameters(template: Template) -> MonitoringParameters:
    def add(title: str, **properties) -> Parameter:
        return template.add_parameter(Parameter(title, **properties))

    return MonitoringParameters(
        alarm_email=add(
            "AlarmEmail",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
            ConstraintDescription="must be empty or an email address",
            Description="Email address subscribed to the alerts topic (empty: no subscription)",
        ),
        lag_threshold=add(
            "LagThreshold",
            Type="Number",
            Default=1000,
            MinValue=1,
            Description="Messages the consumer may fall behind (largest OffsetLag of any topic and partition) "
            "before a minute counts towards the lag alarm",
        ),
        lag_minutes=add(
            "LagMinutes",
            Type="Number",
            Default=5,
            MinValue=1,
            MaxValue=MAX_WINDOW_MINUTES,
            Description="Consecutive minutes above LagThreshold before the lag alarm fires",
        ),
        stalled_minutes=add(
            "StalledMinutes",
            Type="Number",
            Default=10,
            MinValue=2,
            MaxValue=MAX_WINDOW_MINUTES,
            Description="Minutes without any OffsetLag datapoint, while a task runs, before the stalled alarm fires",
        ),
    )


def _alerts_key(template: Template) -> Key:
    """A customer-managed key: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key,
    whose policy does not let cloudwatch.amazonaws.com use it."""
    alarms_publish = Statement(
        Sid="CloudWatchAlarmsPublish",
        Effect=Allow,
        Principal=Principal("Service", "cloudwatch.amazonaws.com"),
        Action=[kms.Decrypt, kms.GenerateDataKey],
        Resource=["*"],
    )
    # It only protects alerts in flight: nothing is lost with it, and a retained key costs monthly.
    return add_customer_managed_key(
        template, "AlertsKey", "Encrypts the KafkaJS canary alerts topic", [alarms_publish], deletion_policy="Delete"
    )


def _service_dimensions(compute: Compute) -> list[MetricDimension]:
    return [
        MetricDimension(Name="ClusterName", Value=Ref(compute.cluster)),
        MetricDimension(Name="ServiceName", Value=GetAtt(compute.service, "Name")),
    ]


def _insights_metric(name: str, compute: Compute, statistic: str) -> MetricStat:
    return MetricStat(
        Metric=Metric(Namespace="ECS/ContainerInsights", MetricName=name, Dimensions=_service_dimensions(compute)),
        Period=ONE_MINUTE,
        Stat=statistic,
    )


def _running_tasks(compute: Compute) -> MetricDataQuery:
    """`running`: the fewest tasks of the service running in each minute (Container Insights)."""
    return MetricDataQuery(
        Id="running", MetricStat=_insights_metric("RunningTaskCount", compute, "Minimum"), ReturnData=False
    )


def offset_lag_query(function: str, group_by: bool = False) -> str:
    """A Metrics Insights query over OffsetLag of every topic and partition (the partition count is not
    known here) in this stack's namespace, for Fn::Sub. Dimension names are quoted: some are SQL keywords."""
    dimensions = ", ".join(f'"{name}"' for name in OFFSET_LAG_DIMENSIONS)
    query = f'SELECT {function}({OFFSET_LAG_METRIC}) FROM SCHEMA("{METRIC_NAMESPACE}", {dimensions})'
    return f"{query} GROUP BY {dimensions}" if group_by else query


class _Alarms:
    """The stack's alarms, each named `<stack name>-<suffix>` (unique per stack, and nameable by other
    resources such as ECS deployment alarms), notifying the alerts topic of ALARM and OK."""

    def __init__(self, template: Template, topic: Topic):
        self.template = template
        self.topic = topic
        self.suffixes: list[str] = []

    @staticmethod
    def name(suffix: str) -> Sub:
        return Sub("${AWS::StackName}-" + suffix)

    def add(self, logical_id: str, suffix: str, description: str, **properties) -> Alarm:
        alarm = self.template.add_resource(
            Alarm(
                logical_id,
                AlarmName=self.name(suffix),
                AlarmDescription=description,
                AlarmActions=[Ref(self.topic)],
                OKActions=[Ref(self.topic)],
                Tags=application_tags(),
                **properties,
            )
        )
        self.suffixes.append(suffix)
        return alarm


def add_monitoring(template: Template, compute: Compute, parameters: MonitoringParameters) -> Topic:
    template.add_condition(HAS_ALARM_EMAIL, Not(Equals(Ref(parameters.alarm_email), "")))
    topic = template.add_resource(
        Topic(
            "AlertsTopic",
            DisplayName="KafkaJS canary alerts",
            KmsMasterKeyId=Ref(_alerts_key(template)),
            Tags=application_tags(),
        )
    )
    template.add_resource(
        SubscriptionResource(
            "AlertsEmailSubscription",
            Condition=HAS_ALARM_EMAIL,
            TopicArn=Ref(topic),
            Protocol="email",
            Endpoint=Ref(parameters.alarm_email),
        )
    )

    alarms = _Alarms(template, topic)
    _add_service_alarms(alarms, compute)
    _add_consumer_alarms(alarms, compute, parameters)
    _judge_deployments(compute.service, alarms)

    template.add_resource(
        Dashboard(
            "Dashboard",
            DashboardName=Sub("${AWS::StackName}-health"),
            DashboardBody=Sub(
                dashboard_body(alarms.suffixes),
                Cluster=Ref(compute.cluster),
                Service=GetAtt(compute.service, "Name"),
                LagThreshold=Ref(parameters.lag_threshold),
            ),
            Tags=application_tags(),
        )
    )
    return topic


def _add_service_alarms(alarms: _Alarms, compute: Compute) -> None:
    for logical_id, suffix, metric, periods in (
        ("CpuHighAlarm", "cpu-high", "CPUUtilization", 1),
        ("MemoryHighAlarm", "memory-high", "MemoryUtilization", 3),
    ):
        alarms.add(
            logical_id,
            suffix,
            f"KafkaJS canary {metric} above {UTILIZATION_THRESHOLD}% for {periods} x 5 minutes",
            Namespace="AWS/ECS",
            MetricName=metric,
            Dimensions=_service_dimensions(compute),
            Statistic="Average",
            Period=FIVE_MINUTES,
            EvaluationPeriods=periods,
            Threshold=UTILIZATION_THRESHOLD,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
    # The canary is (partly) down. Container Insights reports the service's counts every minute, zeros
    # included, so a task that does not run breaches; data is missing only before the service's first
    # datapoints (a fresh stack) and while nothing is asked to run, which must stay quiet.
    alarms.add(
        "TasksBelowDesiredAlarm",
        TASKS_BELOW_DESIRED_ALARM,
        "KafkaJS canary running fewer tasks than desired for 5 minutes",
        Metrics=[
            _running_tasks(compute),
            MetricDataQuery(
                Id="desired", MetricStat=_insights_metric("DesiredTaskCount", compute, "Maximum"), ReturnData=False
            ),
            MetricDataQuery(Id="missing", Expression="desired - running", Label="Missing tasks", ReturnData=True),
        ],
        EvaluationPeriods=5,
        DatapointsToAlarm=5,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def _add_consumer_alarms(alarms: _Alarms, compute: Compute, parameters: MonitoringParameters) -> None:
    """The consumer falls behind (lag) or stops reporting (stalled)."""
    alarms.add(
        "ConsumerLagAlarm",
        CONSUMER_LAG_ALARM,
        "KafkaJS canary consumer: the largest OffsetLag of any topic and partition stayed above LagThreshold "
        "for LagMinutes",
        Metrics=[
            MetricDataQuery(
                Id="lag",
                Expression=Sub(offset_lag_query("MAX")),
                Period=ONE_MINUTE,
                Label="Largest offset lag",
                ReturnData=True,
            )
        ],
        EvaluationPeriods=Ref(parameters.lag_minutes),
        DatapointsToAlarm=Ref(parameters.lag_minutes),
        Threshold=Ref(parameters.lag_threshold),
        ComparisonOperator="GreaterThanThreshold",
        # No OffsetLag at all is the stalled alarm's business.
        TreatMissingData="notBreaching",
    )
    # A minute in which a task runs but no OffsetLag arrives is a 0, which breaches: missing OffsetLag is
    # breaching. A minute with no running task is 1 (tasks-below-desired speaks then), and a minute without
    # any data (a fresh stack, a paused canary) is missing and does not breach.
    alarms.add(
        "ConsumerStalledAlarm",
        CONSUMER_STALLED_ALARM,
        "KafkaJS canary consumer: no OffsetLag reported for StalledMinutes while a task runs",
        Metrics=[
            _running_tasks(compute),
            MetricDataQuery(
                Id="reported",
                Expression=Sub(offset_lag_query("COUNT")),
                Period=ONE_MINUTE,
                ReturnData=False,
            ),
            MetricDataQuery(
                Id="stalled",
                Expression="IF(running > 0, FILL(reported, 0), 1)",
                Label="OffsetLag datapoints while a task runs",
                ReturnData=True,
            ),
        ],
        EvaluationPeriods=Ref(parameters.stalled_minutes),
        DatapointsToAlarm=Ref(parameters.stalled_minutes),
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        TreatMissingData="notBreaching",
    )


def _judge_deployments(service: Service, alarms: _Alarms) -> None:
    """ECS fails a deployment whose alarms go to ALARM (watching from its first running task, through a bake
    time it derives from the alarms' windows) and rolls back to the last completed one. The alarms are named,
    not referenced: they read the service's name, so a Ref would make a dependency cycle."""
    service.DeploymentConfiguration.Alarms = DeploymentAlarms(
        AlarmNames=[alarms.name(suffix) for suffix in DEPLOYMENT_ALARMS], Enable=True, Rollback=True
    )


def _alarm_arn(suffix: str) -> str:
    # Built from the alarm's name rather than read with GetAtt: the dashboard need not wait for the alarms.
    return "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-" + suffix


# Stands for a number in the dashboard JSON (json.dumps would quote a placeholder).
_LAG_THRESHOLD_NUMBER = "__LAG_THRESHOLD__"


def dashboard_body(alarm_suffixes: list[str]) -> str:
    """CPU, memory, task-count and consumer-lag graphs with the alarm thresholds drawn in, and the states of
    the alarms named `<stack name>-<suffix>` (Fn::Sub placeholders: ${Cluster}, ${Service}, ${LagThreshold}
    and pseudo parameters)."""

    def graph(title: str, metrics: list, y: int, threshold: dict | None = None, percent: bool = False) -> dict:
        properties = {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "period": FIVE_MINUTES,
            "metrics": metrics,
        }
        if threshold is not None:
            properties["annotations"] = {"horizontal": [threshold]}
        if percent:
            properties["yAxis"] = {"left": {"min": 0, "max": 100}}
        return {"type": "metric", "x": 0, "y": y, "width": 24, "height": 6, "properties": properties}

    service = ["ClusterName", "${Cluster}", "ServiceName", "${Service}"]
    lag_by_partition = {"expression": offset_lag_query("MAX", group_by=True), "id": "lag", "period": ONE_MINUTE}
    utilization_alarm = {"label": f"Alarm at {UTILIZATION_THRESHOLD}%", "value": UTILIZATION_THRESHOLD}
    lag_alarm = {"label": "Lag alarm (LagThreshold)", "value": _LAG_THRESHOLD_NUMBER}
    widgets = [
        graph("CPU utilization (%)", [["AWS/ECS", "CPUUtilization", *service]], 0, utilization_alarm, True),
        graph("Memory utilization (%)", [["AWS/ECS", "MemoryUtilization", *service]], 6, utilization_alarm, True),
        graph(
            "Running and desired tasks",
            [
                ["ECS/ContainerInsights", "RunningTaskCount", *service],
                ["ECS/ContainerInsights", "DesiredTaskCount", *service],
            ],
            12,
        ),
        graph("Consumer offset lag by topic and partition", [[lag_by_partition]], 18, lag_alarm),
        {
            "type": "alarm",
            "x": 0,
            "y": 24,
            "width": 24,
            "height": 3,
            "properties": {"title": "Alarms", "alarms": [_alarm_arn(suffix) for suffix in alarm_suffixes]},
        },
    ]
    body = json.dumps({"widgets": widgets}, sort_keys=True, separators=(",", ":"))
    return body.replace(f'"{_LAG_THRESHOLD_NUMBER}"', "${LagThreshold}")
