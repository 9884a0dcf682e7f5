"""Monitoring: an encrypted alerts topic, the alarms that matter for a canary, and a dashboard."""

import json

from awacs import kms
from awacs.aws import Allow, Principal, Statement
from troposphere import Equals, GetAtt, Not, Parameter, Ref, Sub, Template
from troposphere.cloudwatch import Alarm, Dashboard, Metric, MetricDataQuery, MetricDimension, MetricStat
from troposphere.kms import Key
from troposphere.sns import SubscriptionResource, Topic

from .common import add_customer_managed_key, application_tags
from .compute import Compute

HAS_ALARM_EMAIL = "HasAlarmEmail"
UTILIZATION_THRESHOLD = 90
FIVE_MINUTES = 300


def alarm_email_parameter() -> Parameter:
    return Parameter(
        "AlarmEmail",
        Type="String",
        Default="",
        AllowedPattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$",
        ConstraintDescription="must be empty or an email address",
        Description="Email address subscribed to the alerts topic (empty: no subscription)",
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
        Period=60,
        Stat=statistic,
    )


def add_monitoring(template: Template, compute: Compute, alarm_email: Parameter) -> Topic:
    template.add_condition(HAS_ALARM_EMAIL, Not(Equals(Ref(alarm_email), "")))
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
            Endpoint=Ref(alarm_email),
        )
    )

    notify = {"AlarmActions": [Ref(topic)], "OKActions": [Ref(topic)]}
    for logical_id, metric, periods in (
        ("CpuHighAlarm", "CPUUtilization", 1),
        ("MemoryHighAlarm", "MemoryUtilization", 3),
    ):
        template.add_resource(
            Alarm(
                logical_id,
                AlarmDescription=f"KafkaJS canary {metric} above {UTILIZATION_THRESHOLD}% for {periods} x 5 minutes",
                Namespace="AWS/ECS",
                MetricName=metric,
                Dimensions=_service_dimensions(compute),
                Statistic="Average",
                Period=FIVE_MINUTES,
                EvaluationPeriods=periods,
                Threshold=UTILIZATION_THRESHOLD,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching",
                Tags=application_tags(),
                **notify,
            )
        )
    # The alarm that matters most: the canary is (partly) down. Missing data means no task reports at
    # all, which is the same thing.
    template.add_resource(
        Alarm(
            "TasksBelowDesiredAlarm",
            AlarmDescription="KafkaJS canary running fewer tasks than desired for 5 minutes",
            Metrics=[
                MetricDataQuery(
                    Id="running",
                    MetricStat=_insights_metric("RunningTaskCount", compute, "Minimum"),
                    ReturnData=False,
                ),
                MetricDataQuery(
                    Id="desired",
                    MetricStat=_insights_metric("DesiredTaskCount", compute, "Maximum"),
                    ReturnData=False,
                ),
                MetricDataQuery(Id="missing", Expression="desired - running", Label="Missing tasks", ReturnData=True),
            ],
            EvaluationPeriods=5,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="breaching",
            Tags=application_tags(),
            **notify,
        )
    )

    template.add_resource(
        Dashboard(
            "Dashboard",
            DashboardName=Sub("${AWS::StackName}-health"),
            DashboardBody=Sub(
                dashboard_body(),
                Cluster=Ref(compute.cluster),
                Service=GetAtt(compute.service, "Name"),
            ),
            Tags=application_tags(),
        )
    )
    return topic


def dashboard_body() -> str:
    """CPU, memory and task-count graphs, with the alarm thresholds drawn in (Fn::Sub placeholders)."""

    def graph(title: str, metrics: list, y: int, threshold: int | None) -> dict:
        properties = {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "period": FIVE_MINUTES,
            "metrics": metrics,
        }
        if threshold is not None:
            properties["annotations"] = {"horizontal": [{"label": f"Alarm at {threshold}%", "value": threshold}]}
            properties["yAxis"] = {"left": {"min": 0, "max": 100}}
        return {"type": "metric", "x": 0, "y": y, "width": 24, "height": 6, "properties": properties}

    service = ["ClusterName", "${Cluster}", "ServiceName", "${Service}"]
    widgets = [
        graph("CPU utilization (%)", [["AWS/ECS", "CPUUtilization", *service]], 0, UTILIZATION_THRESHOLD),
        graph("Memory utilization (%)", [["AWS/ECS", "MemoryUtilization", *service]], 6, UTILIZATION_THRESHOLD),
        graph(
            "Running and desired tasks",
            [
                ["ECS/ContainerInsights", "RunningTaskCount", *service],
                ["ECS/ContainerInsights", "DesiredTaskCount", *service],
            ],
            12,
            None,
        ),
    ]
    return json.dumps({"widgets": widgets}, sort_keys=True, separators=(",", ":"))
