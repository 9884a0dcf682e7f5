"""What the local AWS assumes where only a real account can tell: one declaration each, read by the local
AWS module that acts on it and by `make aws-acceptance` (the `acceptance` package), which observes the same
on a real account and compares. When the two differ, the value here is what to change: the local AWS
follows it, and the suite then shows what the product does under AWS's real behaviour.

Where AWS documents nothing, each takes the reading under which the canary would fail (a bad beta passes,
or the canary goes unjudged), so that the product is built for it. Standard library only: the acceptance
command reads it without moto.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assumption:
    """One open question about AWS, and the answer the local AWS acts on, in the words the acceptance
    command observes it in."""

    name: str  # the constant's name in this module
    question: str
    assumed: str
    modelled_in: str  # the local_aws module that acts on it
    reading: str  # why the local AWS takes this answer

    def change(self, observed: str) -> str:
        """What to do when a real account answered `observed`."""
        return (
            f"set {self.name} in local_aws/assumptions.py to AWS's answer ({observed!r}; {self.modelled_in} acts "
            "on it), then run the suite"
        )


ALARM = "ALARM"
STALLED_ALARM_OVER_NO_DATA = Assumption(
    "STALLED_ALARM_OVER_NO_DATA",
    "the consumer-stalled alarm's state while a task runs and its Metrics Insights query matches no metric "
    "at all (a namespace with no data)",
    ALARM,
    "local_aws.cloudwatch.metric_math (FILL)",
    "AWS documents FILL for periods without data, not for a query that matches nothing; ALARM is what the "
    "alarm exists for (docs/verdict.md), and the reading under which a consumer that never reports is caught",
)
# The only reading under which FILL can make that alarm reach ALARM: it fills every period of a query that
# matches no metric, as it fills a gap in one that does.
FILL_FILLS_A_QUERY_WITHOUT_DATA = STALLED_ALARM_OVER_NO_DATA.assumed == ALARM

ZEROS = "zeros"
NO_DATA = "no data"
RUNNING_TASK_COUNT_WITHOUT_TASKS = Assumption(
    "RUNNING_TASK_COUNT_WITHOUT_TASKS",
    "Container Insights' RunningTaskCount (ECS/ContainerInsights, ClusterName and ServiceName) while a service "
    "runs no task (a crash-looping image)",
    ZEROS,
    "local_aws.ecs.container_insights",
    "AWS says of AWS/ECS that a service without running tasks reports no metrics, and nothing of Container "
    "Insights; the tasks-below-desired alarm relies on zeros (docs/verdict.md), so a NO_DATA answer means "
    "that alarm never fires when the canary is fully down",
)

DISABLED = "DISABLED"
ALARMS_OF_A_DEPLOYMENT_STARTED_IN_ALARM = Assumption(
    "ALARMS_OF_A_DEPLOYMENT_STARTED_IN_ALARM",
    "DescribeServiceDeployments' alarms.status of a deployment started while one of its alarms is in ALARM",
    DISABLED,
    "local_aws.ecs.deployment_alarms",
    'documented: "If an alarm is in the ALARM state at the beginning of a deployment, Amazon ECS will not '
    'monitor alarms for the duration of that deployment" (ECS Developer Guide, deployment-alarm-failure)',
)
ALARMS_WATCH_A_DEPLOYMENT_STARTED_IN_ALARM = ALARMS_OF_A_DEPLOYMENT_STARTED_IN_ALARM.assumed != DISABLED

OLDEST_FIRST = "oldest first"
NEWEST_FIRST = "newest first"
SERVICE_DEPLOYMENTS_ORDER = Assumption(
    "SERVICE_DEPLOYMENTS_ORDER",
    "the order in which ListServiceDeployments lists a service's deployments, across pages",
    OLDEST_FIRST,
    "local_aws.ecs.service_deployments",
    "AWS documents no order; with oldest first, a reader of the first page who assumes newest first misses "
    "the latest release",
)
SERVICE_DEPLOYMENTS_NEWEST_FIRST = SERVICE_DEPLOYMENTS_ORDER.assumed == NEWEST_FIRST

ALL = (
    STALLED_ALARM_OVER_NO_DATA,
    RUNNING_TASK_COUNT_WITHOUT_TASKS,
    ALARMS_OF_A_DEPLOYMENT_STARTED_IN_ALARM,
    SERVICE_DEPLOYMENTS_ORDER,
)
