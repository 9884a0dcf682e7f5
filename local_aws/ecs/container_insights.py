"""Container Insights' service metrics, which moto never reports: in a cluster whose containerInsights
setting is enabled, each count of a service's tasks (each scheduler step, see scheduler) puts a
RunningTaskCount and a DesiredTaskCount datapoint in `ECS/ContainerInsights`, with the dimensions ClusterName
and ServiceName, as the app stack's alarms read them.

Whether Container Insights reports a RunningTaskCount of 0 while a service runs no task, or nothing at all,
only a real account tells (assumptions.RUNNING_TASK_COUNT_WITHOUT_TASKS); the model reports zeros when
that assumption says so, and otherwise no datapoint while no task runs.
"""

from __future__ import annotations

from ..assumptions import RUNNING_TASK_COUNT_WITHOUT_TASKS, ZEROS
from .scheduler import DeploymentWatcher, utc_now

NAMESPACE = "ECS/ContainerInsights"


def enabled(cluster) -> bool:
    return any(
        setting.get("name") == "containerInsights" and setting.get("value") in ("enabled", "enhanced")
        for setting in getattr(cluster, "settings", None) or []
    )


class ContainerInsights(DeploymentWatcher):
    def counted(self, scheduler):
        from moto.cloudwatch.models import cloudwatch_backends

        service = scheduler.service
        cluster = scheduler.backend.clusters.get(service.cluster_name)
        if service.status != "ACTIVE" or cluster is None or not enabled(cluster):
            return
        counts = {"RunningTaskCount": service.running_count, "DesiredTaskCount": service.desired_count}
        if service.running_count == 0 and RUNNING_TASK_COUNT_WITHOUT_TASKS.assumed != ZEROS:
            del counts["RunningTaskCount"]
        dimensions = [{"Name": "ClusterName", "Value": cluster.name}, {"Name": "ServiceName", "Value": service.name}]
        now = utc_now().replace(tzinfo=None)  # moto keeps datapoints' times naive, in UTC
        cloudwatch_backends[service._account_id][service.region_name].put_metric_data(
            NAMESPACE,
            [
                {"MetricName": name, "Value": float(count), "Unit": "Count", "Timestamp": now, "Dimensions": dimensions}
                for name, count in counts.items()
            ],
        )
