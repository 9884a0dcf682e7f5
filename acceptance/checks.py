"""The four questions only a real account settles, each a check that makes what it needs in the sandbox,
watches AWS answer, and returns findings: what the local AWS assumes (local_aws/assumptions.py) against
what this account did.

  a. the consumer-stalled alarm over a namespace with no data at all (its FILL);
  b. Container Insights' RunningTaskCount while a crash-looping service runs no task;
  c. a deployment started while one of its alarms is in ALARM: are the alarms monitored;
  d. the order of ListServiceDeployments.

A check is a generator that yields whenever it waits: the run polls them in turn, one round per poll
interval, so the slow ones (an alarm's evaluation, Container Insights' first datapoints) wait side by side
with the deployments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from canary_deploy.aws.aws_types import Client
from canary_deploy.errors import DeployError
from canary_deploy.model.template_values import Account, TemplateValues
from canary_deploy.render.durations import duration
from contract import CONSUMER_STALLED_ALARM, TEMPLATE_FILES, alarm_name
from local_aws.assumptions import (
    ALARM,
    ALARMS_OF_A_DEPLOYMENT_STARTED_IN_ALARM,
    NEWEST_FIRST,
    NO_DATA,
    OLDEST_FIRST,
    RUNNING_TASK_COUNT_WITHOUT_TASKS,
    SERVICE_DEPLOYMENTS_ORDER,
    STALLED_ALARM_OVER_NO_DATA,
    ZEROS,
    Assumption,
)
from manifest import PROJECT_ROOT

from .sandbox import CRASHING_COMMAND, SLEEPING_COMMAND, Names, Sandbox

APP_TEMPLATE = PROJECT_ROOT / "output" / TEMPLATE_FILES["app"]
# The stalled alarm's window here: the question is what FILL gives, not how long the window is (the
# template's is StalledMinutes, 10 minutes by default).
ALARM_PERIODS = 3
MINUTE = 60
# One round of the checks every POLL_SECONDS on AWS (ECS and CloudWatch change at most every few seconds);
# what is per minute (metric datapoints) is put or read every METRIC_ROUNDS rounds: about a minute.
POLL_SECONDS = 10.0
METRIC_ROUNDS = 6
ALARM_WAIT_SECONDS = 600.0
INSIGHTS_WAIT_SECONDS = 600.0
DEPLOYMENT_WAIT_SECONDS = 480.0
LISTED_WAIT_SECONDS = 120.0
# Deployments made for the order: the first, the one started in ALARM, and two more.
DEPLOYMENTS_MADE = 4
LIST_PAGE_SIZE = 2  # small pages, so that the order is read across pages as a reader of the history does
ENDED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
# How canary_deploy.model.template_values shows what only CloudFormation knows: `(Service.Name)`, `(new X)`.
PLACEHOLDER = re.compile(r"\((new )?[\w:.]+\)")


def longest_wait_seconds() -> float:
    """The longest a check waits in all, for the cost estimate: the deployments check's waits, one after
    the other, or the alarm's or Container Insights' wait."""
    deployments = 2 * DEPLOYMENT_WAIT_SECONDS + DEPLOYMENTS_MADE * LISTED_WAIT_SECONDS
    return max(deployments, ALARM_WAIT_SECONDS, INSIGHTS_WAIT_SECONDS)


@dataclass(frozen=True)
class Finding:
    label: str
    title: str
    assumption: Assumption
    observed: str | None  # None: this run could not tell
    detail: str

    @property
    def matches(self) -> bool:
        return self.observed == self.assumption.assumed


class Every:
    """True on the first call of due(), then on every n-th."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.calls = 0

    def due(self) -> bool:
        self.calls += 1
        return self.calls % self.rounds == 1 % self.rounds


class NotSettled(Exception):
    """A check could not get its answer; the message says why."""


@dataclass
class Context:
    """What every check works with."""

    sandbox: Sandbox
    names: Names
    network: dict[str, Any]
    clock: Callable[[], float]
    now: Callable[[], datetime]
    template: Path = APP_TEMPLATE
    started: dict[str, float] = field(default_factory=dict)

    @property
    def cloudwatch(self) -> Client:
        return self.sandbox.cloudwatch

    @property
    def ecs(self) -> Client:
        return self.sandbox.ecs

    def elapsed(self, since: float) -> str:
        return duration(self.clock() - since)


Check = Generator[None, None, list[Finding]]


# a. The consumer-stalled alarm over a namespace with no data ---------------------------------------------


def stalled_alarm_definition(template: dict, names: Names) -> dict[str, Any]:
    """The app template's consumer-stalled alarm as PutMetricAlarm takes it: the same Metrics, its query over
    a namespace of this run (which has no data at all: the app's namespace is its stack's, and the template
    is resolved as a stack named after this run), its running-task metric read from a stand-in namespace
    this run puts RunningTaskCount 1 in (a task runs); its window ALARM_PERIODS minutes."""
    parameters = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values = TemplateValues(template, parameters, Account(names.run))
    wanted = alarm_name(names.run, CONSUMER_STALLED_ALARM)
    alarms = [
        values.resolve(resource["Properties"])
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]
    (properties,) = [alarm for alarm in alarms if alarm.get("AlarmName") == wanted]
    dimensions = {"ClusterName": names.cluster, "ServiceName": names.of("consumer")}
    for query in properties["Metrics"]:
        metric = query.get("MetricStat", {}).get("Metric")
        if metric is None:
            continue
        if {dimension["Name"] for dimension in metric.get("Dimensions", [])} != set(dimensions):
            raise DeployError(f"{wanted}'s metric {metric['MetricName']} changed its dimensions: update {__name__}")
        metric["Namespace"] = names.namespace("ContainerInsights")
        metric["Dimensions"] = [{"Name": name, "Value": value} for name, value in dimensions.items()]
    unresolved = [value for value in _strings(properties["Metrics"]) if PLACEHOLDER.fullmatch(value)]
    if unresolved:
        raise DeployError(
            f"{wanted}'s Metrics hold values only CloudFormation knows ({unresolved[0]}): update {__name__}"
        )
    return {
        "Metrics": properties["Metrics"],
        "ComparisonOperator": properties["ComparisonOperator"],
        "Threshold": float(properties["Threshold"]),
        "TreatMissingData": properties["TreatMissingData"],
        "EvaluationPeriods": ALARM_PERIODS,
        "DatapointsToAlarm": ALARM_PERIODS,
    }


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


def stalled_alarm(context: Context) -> Check:
    title = "consumer-stalled alarm over a namespace with no data (FILL), while a task runs"
    definition = stalled_alarm_definition(json.loads(context.template.read_text()), context.names)
    (running,) = [query["MetricStat"]["Metric"] for query in definition["Metrics"] if "MetricStat" in query]

    def task_runs(*minutes_ago: int) -> None:
        minute = context.now().replace(second=0, microsecond=0)
        context.cloudwatch.put_metric_data(
            Namespace=running["Namespace"],
            MetricData=[
                {
                    "MetricName": running["MetricName"],
                    "Dimensions": running["Dimensions"],
                    "Timestamp": minute - timedelta(minutes=ago),
                    "Value": 1.0,
                }
                for ago in minutes_ago
            ],
        )

    task_runs(*range(ALARM_PERIODS + 2))  # the whole window at once: the first evaluation can tell
    name = context.names.of("consumer-stalled")
    try:
        context.sandbox.put_alarm(name, **definition)
    except ClientError as error:
        return [Finding("a", title, STALLED_ALARM_OVER_NO_DATA, "refused", f"PutMetricAlarm: {error}")]
    started = context.clock()
    every_minute = Every(METRIC_ROUNDS)
    every_minute.due()  # the window was just put
    while True:
        (alarm,) = context.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        if alarm["StateValue"] == ALARM or context.clock() - started >= ALARM_WAIT_SECONDS:
            break
        if every_minute.due():
            task_runs(0)
        yield
    waited = context.elapsed(started)
    return [
        Finding(
            "a",
            title,
            STALLED_ALARM_OVER_NO_DATA,
            alarm["StateValue"],
            f"after {waited}: {alarm.get('StateReason', '')}; the alarm's value per minute: "
            f"{_alarm_values(context, definition['Metrics'])}",
        )
    ]


def _alarm_values(context: Context, metrics: list[dict]) -> str:
    end = context.now().replace(second=0, microsecond=0)
    try:
        (result,) = context.cloudwatch.get_metric_data(
            MetricDataQueries=metrics,
            StartTime=end - timedelta(minutes=ALARM_PERIODS),
            EndTime=end,
            ScanBy="TimestampAscending",
        )["MetricDataResults"]
    except ClientError as error:
        return f"(GetMetricData refused: {error})"
    return ", ".join(f"{value:g}" for value in result["Values"]) or "none"


# b. RunningTaskCount while no task runs ---------------------------------------------------------------


def running_task_count(context: Context) -> Check:
    title = "Container Insights RunningTaskCount while no task runs (a crash-looping service)"
    service = context.names.of("crashing")
    task = context.sandbox.register_task(service, CRASHING_COMMAND)
    breaker_off = {"deploymentCircuitBreaker": {"enable": False, "rollback": False}}  # it crash-loops for good
    context.sandbox.make_service(service, task, context.network, deploymentConfiguration=breaker_off)
    started = context.clock()
    every_minute = Every(METRIC_ROUNDS)
    first_stop: datetime | None = None
    values: list[float] = []
    stopped = 0
    while True:
        # Watched as a person would (the local AWS's scheduler moves on what is observed).
        context.ecs.describe_services(cluster=context.names.cluster, services=[service])
        # A task that exits at once may never count as a failed one (failedTasks counts tasks that did not
        # reach RUNNING): the stopped tasks say that it crash-loops.
        stopped = len(
            context.ecs.list_tasks(cluster=context.names.cluster, serviceName=service, desiredStatus="STOPPED")[
                "taskArns"
            ]
        )
        if stopped and first_stop is None:
            first_stop = context.now()
        # From the minute of the first stop on, no task runs but for moments.
        if first_stop is not None and every_minute.due():
            values = _running_task_counts(context, service, first_stop - timedelta(minutes=1))
            if 0.0 in values:
                break
        if context.clock() - started >= INSIGHTS_WAIT_SECONDS:
            break
        yield
    if first_stop is None:
        observed = None
    else:
        observed = ZEROS if 0.0 in values else NO_DATA if not values else f"only {', '.join(f'{v:g}' for v in values)}"
    detail = (
        f"{stopped} task(s) stopped in {context.elapsed(started)}; Minimum per minute since the first stopped: "
        f"{', '.join(f'{v:g}' for v in values) or 'no datapoint'}"
    )
    return [Finding("b", title, RUNNING_TASK_COUNT_WITHOUT_TASKS, observed, detail)]


def running_task_count_query(cluster: str, service: str) -> dict[str, Any]:
    """Container Insights' RunningTaskCount of a service, per minute, its Minimum (as the template's alarms read it)."""
    dimensions = {"ClusterName": cluster, "ServiceName": service}
    return {
        "Id": "running",
        "MetricStat": {
            "Metric": {
                "Namespace": "ECS/ContainerInsights",
                "MetricName": "RunningTaskCount",
                "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            },
            "Period": MINUTE,
            "Stat": "Minimum",
        },
    }


def _running_task_counts(context: Context, service: str, since: datetime) -> list[float]:
    (result,) = context.cloudwatch.get_metric_data(
        MetricDataQueries=[running_task_count_query(context.names.cluster, service)],
        StartTime=since,
        EndTime=context.now() + timedelta(minutes=1),
        ScanBy="TimestampAscending",
    )["MetricDataResults"]
    return [float(value) for value in result["Values"]]


# c and d. Deployments ---------------------------------------------------------------------------------


class Deployments:
    """One service, deployed DEPLOYMENTS_MADE times: the second while its deployment alarm is in ALARM (c),
    then the history listed in small pages (d)."""

    IN_ALARM_TITLE = "a deployment started while its alarm is in ALARM: alarms.status"
    ORDER_TITLE = "the order of ListServiceDeployments"

    def __init__(self, context: Context) -> None:
        self.context = context
        self.service = context.names.of("deployments")
        self.alarm = context.names.of("in-alarm")
        self.made: list[str] = []  # service deployment ARNs, in the order the run made them

    def run(self) -> Check:
        findings: list[Finding] = []
        try:
            yield from self.start_in_alarm()
            findings.append((yield from self.deployment_in_alarm()))
            while len(self.made) < DEPLOYMENTS_MADE:
                self.context.ecs.update_service(
                    cluster=self.context.names.cluster, service=self.service, forceNewDeployment=True
                )
                yield from self.next_deployment()
            findings.append(self.order())
        except NotSettled as reason:
            done = {finding.label for finding in findings}
            for label, title, assumption in (
                ("c", self.IN_ALARM_TITLE, ALARMS_OF_A_DEPLOYMENT_STARTED_IN_ALARM),
                ("d", self.ORDER_TITLE, SERVICE_DEPLOYMENTS_ORDER),
            ):
                if label not in done:
                    findings.append(Finding(label, title, assumption, None, str(reason)))
        return findings

    def start_in_alarm(self) -> Generator[None, None, None]:
        """The alarm goes to ALARM at once and stays there (missing data breaches), then the service's first
        deployment runs to its end."""
        context = self.context
        context.sandbox.put_alarm(
            self.alarm,
            Namespace=context.names.namespace("nothing"),
            MetricName="NeverReported",
            Statistic="Maximum",
            Period=MINUTE,
            EvaluationPeriods=1,
            Threshold=0.0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="breaching",
        )
        context.cloudwatch.set_alarm_state(
            AlarmName=self.alarm, StateValue=ALARM, StateReason="make aws-acceptance: in ALARM before a deployment"
        )
        task = context.sandbox.register_task(self.service, SLEEPING_COMMAND)
        context.sandbox.make_service(
            self.service,
            task,
            context.network,
            deploymentConfiguration={
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "alarms": {"alarmNames": [self.alarm], "enable": True, "rollback": True},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
            },
        )
        first = yield from self.next_deployment()
        ended = yield from self.ended(first)
        if ended["status"] != "SUCCESSFUL":
            raise NotSettled(
                f"the service's first deployment ended {ended['status']} ({ended.get('statusReason', '')}): "
                "a second one would have nothing to roll back to"
            )

    def deployment_in_alarm(self) -> Generator[None, None, Finding]:
        context = self.context
        (alarm,) = context.cloudwatch.describe_alarms(AlarmNames=[self.alarm])["MetricAlarms"]
        if alarm["StateValue"] != ALARM:
            raise NotSettled(f"{self.alarm} left ALARM ({alarm['StateValue']}) before the deployment")
        context.ecs.update_service(cluster=context.names.cluster, service=self.service, forceNewDeployment=True)
        arn = yield from self.next_deployment()
        at_start = _alarms(self.describe(arn)).get("status", "absent")
        ended = yield from self.ended(arn)
        at_end = _alarms(ended).get("status", "absent")
        triggered = _alarms(ended).get("triggeredAlarmNames") or []
        return Finding(
            "c",
            self.IN_ALARM_TITLE,
            ALARMS_OF_A_DEPLOYMENT_STARTED_IN_ALARM,
            at_start if at_start == at_end else f"{at_start}, then {at_end}",
            f"{self.alarm} in ALARM at its start; the deployment ended {ended['status']}"
            + (f", triggered: {', '.join(triggered)}" if triggered else ""),
        )

    def order(self) -> Finding:
        listed = self.listed()
        positions = [self.made.index(arn) + 1 for arn in listed if arn in self.made]
        if positions == sorted(positions):
            observed = OLDEST_FIRST
        elif positions == sorted(positions, reverse=True):
            observed = NEWEST_FIRST
        else:
            observed = "neither"
        return Finding(
            "d",
            self.ORDER_TITLE,
            SERVICE_DEPLOYMENTS_ORDER,
            observed,
            f"{len(self.made)} deployments made one after another, listed in pages of {LIST_PAGE_SIZE}: "
            f"{', '.join(map(str, positions))} (1 = the first made)",
        )

    def listed(self) -> list[str]:
        arns: list[str] = []
        token: dict[str, str] = {}
        while True:
            page = self.context.ecs.list_service_deployments(
                cluster=self.context.names.cluster, service=self.service, maxResults=LIST_PAGE_SIZE, **token
            )
            arns += [deployment["serviceDeploymentArn"] for deployment in page["serviceDeployments"]]
            if not page.get("nextToken"):
                return arns
            token = {"nextToken": page["nextToken"]}

    def describe(self, arn: str) -> dict:
        (deployment,) = self.context.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
        return deployment

    def next_deployment(self) -> Generator[None, None, str]:
        """The deployment the last change started, once the history lists it."""
        started = self.context.clock()
        while True:
            self.observe()
            new = [arn for arn in self.listed() if arn not in self.made]
            if new:
                # A retried request may have started two: they were made in the order of their creation.
                described = [self.describe(arn) for arn in new]
                self.made += [record["serviceDeploymentArn"] for record in sorted(described, key=_created)]
                return self.made[-1]
            if self.context.clock() - started >= LISTED_WAIT_SECONDS:
                raise NotSettled(f"no new deployment of {self.service} listed after {self.context.elapsed(started)}")
            yield

    def ended(self, arn: str) -> Generator[None, None, dict]:
        started = self.context.clock()
        while True:
            self.observe()
            deployment = self.describe(arn)
            if deployment["status"] in ENDED:
                return deployment
            if self.context.clock() - started >= DEPLOYMENT_WAIT_SECONDS:
                raise NotSettled(f"deployment still {deployment['status']} after {self.context.elapsed(started)}")
            yield

    def observe(self) -> None:
        """DescribeServices, as a person watching the rollout would (the local AWS moves on what is observed)."""
        self.context.ecs.describe_services(cluster=self.context.names.cluster, services=[self.service])


def _alarms(deployment: dict) -> dict:
    """A ServiceDeployment's alarms (absent from the answer when none are configured)."""
    return deployment.get("alarms") or {}


def _created(record: dict) -> Any:
    return record["createdAt"]


def all_checks(context: Context) -> dict[str, Check]:
    return {
        "a": stalled_alarm(context),
        "b": running_task_count(context),
        "c, d": Deployments(context).run(),
    }
