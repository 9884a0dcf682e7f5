"""Stand-ins for what runs in AWS but not in the emulator, for `make run`: the canary app publishing its
consumer's OffsetLag once a version runs, and CloudWatch setting the lag alarm of a lagging beta to ALARM
(the emulator does not evaluate alarms). Everything goes through the public API (ListTasks, DescribeTasks,
PutMetricData, SetAlarmState), as a test would do it; what ECS does depends on time, not on these calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from contract import (
    APP_CONFIGURATION_VARIABLE,
    CONSUMER_LAG_ALARM,
    DEFAULT_METRIC_PREFIX,
    OFFSET_LAG_DIMENSIONS,
    OFFSET_LAG_METRIC,
    alarm_name,
    metric_namespace,
)

from .server import DEFAULT_REGION, local_client

POLL_SECONDS = 0.05
# As the app's consumer reports it: one topic, three partitions.
TOPIC = "kafkajs-canary"
# The threshold of the app stack's lag alarm with its default LagThreshold.
LAG_THRESHOLD = 1000.0


class CanaryApp:
    """The canary app and CloudWatch, for one local endpoint."""

    def __init__(self, endpoint_url: str, region: str = DEFAULT_REGION) -> None:
        self.ecs = local_client("ecs", endpoint_url, region)
        self.cloudwatch = local_client("cloudwatch", endpoint_url, region)
        self.cloudformation = local_client("cloudformation", endpoint_url, region)

    def when_started(self, version: str, action: Callable[[], None], running: Callable[[], bool]) -> bool:
        """Run `action` once a task of `version` is started by a service (pending or running), polling
        while `running()` (the deploy that starts it) is true. Returns whether the action ran."""
        while running():
            if version in self.started_versions():
                action()
                return True
            time.sleep(POLL_SECONDS)
        return False

    def started_versions(self) -> set[str]:
        """The image tags of the tasks services started and have not stopped."""
        versions = set()
        for cluster in self.ecs.list_clusters()["clusterArns"]:
            for desired in ("RUNNING", "PENDING"):
                arns = self.ecs.list_tasks(cluster=cluster, desiredStatus=desired)["taskArns"]
                tasks = self.ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
                versions |= {
                    container["image"].rsplit(":", 1)[-1]
                    for task in tasks
                    if task.get("group", "").startswith("service:") and task.get("lastStatus") != "STOPPED"
                    for container in task.get("containers", [])
                    if container.get("image")
                }
        return versions

    def namespace_of(self, stack_name: str) -> str:
        """Where the app that `stack_name` runs publishes, as the app works it out from the environment its
        task definition gives it: node-config merges the JSON of NODE_CONFIG over config/default.json, whose
        `metrics.namespace` prefix is "kafkajs-canary-app", and src/metrics.ts appends "/Consumer"."""
        resources = self.cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
        (task_definition,) = [
            resource["PhysicalResourceId"]
            for resource in resources
            if resource.get("ResourceType") == "AWS::ECS::TaskDefinition"
        ]
        containers = self.ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"][
            "containerDefinitions"
        ]
        environment = {
            variable["name"]: variable["value"]
            for container in containers
            for variable in container.get("environment", [])
        }
        configuration = json.loads(environment.get(APP_CONFIGURATION_VARIABLE, "{}"))
        return metric_namespace(configuration.get("metrics", {}).get("namespace", DEFAULT_METRIC_PREFIX))

    def publish_lag(self, stack_name: str, *lags: float, minute: int = 0) -> None:
        """OffsetLag as the app of `stack_name` publishes it after a batch, one datapoint per partition,
        `minute` minutes ago."""
        self._put_lags(self.namespace_of(stack_name), {minute: lags})

    def _put_lags(self, namespace: str, lags_by_age: dict[int, tuple[float, ...]]) -> None:
        """One request for them all: the stand-ins race a deploy that runs beside them."""
        now = datetime.now(UTC)
        self.cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": OFFSET_LAG_METRIC,
                    "Value": lag,
                    "Unit": "Count",
                    "Timestamp": now - timedelta(minutes=age),
                    "Dimensions": [
                        {"Name": name, "Value": value}
                        for name, value in zip(OFFSET_LAG_DIMENSIONS, (str(partition), TOPIC), strict=True)
                    ],
                }
                for age, lags in lags_by_age.items()
                for partition, lag in enumerate(lags)
            ],
        )

    def fall_behind(self, stack_name: str, *largest_lag_per_minute: float) -> str:
        """A beta whose consumer falls behind: its largest lag of each of the last minutes (oldest first), and
        CloudWatch, finding each above the threshold, sets the lag alarm to ALARM. Returns the alarm's name."""
        minutes = len(largest_lag_per_minute)
        newest_first = tuple(reversed(largest_lag_per_minute))
        self._put_lags(self.namespace_of(stack_name), {age: (lag,) for age, lag in enumerate(newest_first)})
        name = alarm_name(stack_name, CONSUMER_LAG_ALARM)
        shown = ", ".join(f"{lag:.1f}" for lag in newest_first)
        self.cloudwatch.set_alarm_state(
            AlarmName=name,
            StateValue="ALARM",
            StateReason=f"Threshold Crossed: {minutes} out of the last {minutes} datapoints [{shown}] were "
            f"greater than the threshold ({LAG_THRESHOLD:.1f}) (minimum {minutes} datapoints for OK -> ALARM "
            "transition).",
        )
        return name
