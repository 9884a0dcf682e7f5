"""How long until the canary's verdict on AWS, for each way a beta can fail, computed from the app template's
own settings (the deployment alarms' periods and datapoints, the circuit breaker, the desired count, the
container's health check and stop timeout), so that the table in docs/verdict.md and the deadlines
`--verify` prints cannot drift from the template. Pure: a template and its parameter values in, rows out.

AWS documents how ECS counts failed tasks (the circuit breaker's threshold) and how CloudWatch evaluates an
alarm, but not how long a Fargate task takes to start, nor ECS's bake time ("Amazon ECS computes this time
period based on the alarm configuration ... You can't set this value"). Those are the named assumptions
below; every figure is an upper bound under them ("at the latest"), from the moment its row names.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..render.durations import duration
from .template_values import Account, TemplateValues

# A Fargate task from launch to its container running: capacity, network interface, image pull, secrets.
# AWS publishes no figure; two minutes is a generous bound for the canary's small task and image.
TASK_START_SECONDS = 120
# Container health check and stop defaults (ECS task definition reference: HealthCheck, stopTimeout).
HEALTH_CHECK_DEFAULTS = {"Interval": 30, "Timeout": 5, "Retries": 3, "StartPeriod": 0}
STOP_TIMEOUT_DEFAULT = 30
# The circuit breaker fails a deployment after 0.5 x the desired count failed tasks, at least 3 and at most
# 200 (API reference, ServiceDeploymentCircuitBreaker).
BREAKER_SHARE, BREAKER_MIN, BREAKER_MAX = 0.5, 3, 200
SERVICE_TYPE = "AWS::ECS::Service"
TASK_DEFINITION_TYPE = "AWS::ECS::TaskDefinition"
ALARM_TYPE = "AWS::CloudWatch::Alarm"


@dataclass(frozen=True)
class VerdictTime:
    """One way a beta can fail, and when the verdict on it comes."""

    failure: str  # how the beta fails
    judge: str  # what gives the verdict, with the template's figures
    seconds: float | None  # at the latest, from `since`; None: nothing gives a verdict
    since: str  # the moment `seconds` counts from
    how: str  # the sum, in words

    @property
    def from_deployment_start(self) -> bool:
        return self.since == DEPLOYMENT_START


DEPLOYMENT_START = "the deployment starts"


@dataclass(frozen=True)
class DeploymentAlarm:
    name: str
    period: int  # seconds
    evaluation_periods: int
    datapoints: int  # DatapointsToAlarm: consecutive breaching periods before ALARM

    @property
    def window(self) -> int:
        return self.period * self.evaluation_periods

    @property
    def to_alarm(self) -> int:
        """Breaching from the start of a period: ALARM once `datapoints` periods ended, evaluated in the next."""
        return self.period * (self.datapoints + 1)


@dataclass(frozen=True)
class AppSettings:
    """What the timings depend on, read from the template."""

    desired: int
    minimum_healthy_percent: int
    circuit_breaker: bool
    alarms: tuple[DeploymentAlarm, ...]
    health_check: dict[str, int]
    stop_timeout: int

    @property
    def breaker_threshold(self) -> int:
        return min(max(math.ceil(BREAKER_SHARE * self.desired), BREAKER_MIN), BREAKER_MAX)

    @property
    def bake_seconds(self) -> int:
        """ECS's bake time as the ECS team describes it: the longest window of the deployment alarms."""
        return max((alarm.window for alarm in self.alarms), default=0)

    @property
    def healthy_after(self) -> int:
        """A healthy container's first health check passes after at most one interval and its timeout."""
        return self.health_check["Interval"] + self.health_check["Timeout"]

    @property
    def unhealthy_after(self) -> int:
        """A container that never passes its health check is UNHEALTHY after its start period and `Retries`
        failed checks, each an interval plus at most its timeout apart."""
        check = self.health_check
        return check["StartPeriod"] + check["Retries"] * (check["Interval"] + check["Timeout"])

    @property
    def keeps_old_tasks(self) -> bool:
        """The minimum healthy percent keeps every old task running until new ones are healthy: a rollback
        before the new version ran has nothing to start."""
        return math.ceil(self.desired * self.minimum_healthy_percent / 100) >= self.desired

    def alarm(self, suffix: str) -> DeploymentAlarm | None:
        return next((alarm for alarm in self.alarms if alarm.name.endswith(f"-{suffix}")), None)


def settings_of(template: dict[str, Any], parameters: dict[str, str], stack_name: str) -> AppSettings:
    """The app template's settings for these parameter values (a parameter left out takes its Default)."""
    resources = _Resources(template, parameters, stack_name)
    (service,) = resources.of_type(SERVICE_TYPE, "DesiredCount", "DeploymentConfiguration")
    configuration = service.get("DeploymentConfiguration", {})
    named = set(_alarm_names(service))
    (task_definition,) = resources.of_type(TASK_DEFINITION_TYPE, "ContainerDefinitions")
    container: dict[str, Any] = next(
        (
            container
            for container in task_definition.get("ContainerDefinitions", [])
            if _true(container.get("Essential", True))
        ),
        {},
    )
    alarm_fields = ("AlarmName", "Period", "Metrics", "EvaluationPeriods", "DatapointsToAlarm")
    return AppSettings(
        desired=int(service.get("DesiredCount", 1)),
        minimum_healthy_percent=int(configuration.get("MinimumHealthyPercent", 100)),
        circuit_breaker=_true(configuration.get("DeploymentCircuitBreaker", {}).get("Enable")),
        alarms=tuple(
            _deployment_alarm(alarm)
            for alarm in resources.of_type(ALARM_TYPE, *alarm_fields)
            if alarm.get("AlarmName") in named
        ),
        health_check={
            key: int(container.get("HealthCheck", {}).get(key, default))
            for key, default in HEALTH_CHECK_DEFAULTS.items()
        },
        stop_timeout=int(container.get("StopTimeout", STOP_TIMEOUT_DEFAULT)),
    )


def deployment_alarm_names(template: dict[str, Any], parameters: dict[str, str], stack_name: str) -> tuple[str, ...]:
    """The alarms the template's ECS service names as its deployment alarms (DeploymentConfiguration.Alarms,
    when enabled), resolved for this stack: `${AWS::StackName}-consumer-lag` and the like."""
    services = _Resources(template, parameters, stack_name).of_type(SERVICE_TYPE, "DeploymentConfiguration")
    return tuple(name for service in services for name in _alarm_names(service))


class _Resources:
    """The template's resources for these parameters, of which only the properties asked for are resolved:
    the others may read what exists only once the stack does (its id, the attributes of its resources)."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str], stack_name: str) -> None:
        values = TemplateValues(template, {**template_defaults(template), **parameters}, Account(stack_name))
        self.values = values
        self.deployed = values.conditions.deployed_resources()

    def of_type(self, resource_type: str, *keys: str) -> list[dict[str, Any]]:
        return [
            {key: self.values.resolve(properties[key]) for key in keys if key in properties}
            for resource in self.deployed.values()
            if resource["Type"] == resource_type
            for properties in [resource.get("Properties", {})]
        ]


def _alarm_names(service: dict[str, Any]) -> list[str]:
    alarms = service.get("DeploymentConfiguration", {}).get("Alarms", {})
    return list(alarms.get("AlarmNames", [])) if _true(alarms.get("Enable")) else []


def template_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec}


def verdict_times(settings: AppSettings) -> tuple[VerdictTime, ...]:
    """For a healthy release and each way a beta can fail: the verdict's latest moment."""
    return tuple(_rows(settings))


def upper_bound(times: Sequence[VerdictTime]) -> float:
    """How long after a deployment starts ECS has decided at the latest, whatever the beta does."""
    return max(row.seconds for row in times if row.seconds is not None and row.from_deployment_start)


def _rows(settings: AppSettings) -> Iterator[VerdictTime]:
    start = TASK_START_SECONDS
    ready = start + settings.healthy_after  # the new task runs and is healthy
    bake = settings.bake_seconds
    yield VerdictTime(
        "none (a healthy release)",
        f"ECS marks it SUCCESSFUL after its bake ({duration(bake)}: the longest deployment alarm window)",
        ready + settings.stop_timeout + bake,
        DEPLOYMENT_START,
        f"task start {duration(start)} + first health check {duration(settings.healthy_after)} + old tasks stop "
        f"{duration(settings.stop_timeout)} + bake {duration(bake)}",
    )
    yield from _failed_starts(settings)
    for suffix, failure in (("consumer-lag", "the consumer lags"), ("consumer-stalled", "the consumer stalls")):
        alarm = settings.alarm(suffix)
        if alarm is not None:
            yield _alarm_row(settings, alarm, failure, ready)
    yield _exits_later(settings)
    yield _nothing_runs(settings)


def _failed_starts(settings: AppSettings) -> Iterator[VerdictTime]:
    threshold = settings.breaker_threshold
    # ECS starts as many tasks at once as are desired: the failures come in rounds.
    rounds = math.ceil(threshold / max(settings.desired, 1))
    rollback = 0 if settings.keeps_old_tasks else TASK_START_SECONDS + settings.healthy_after
    rollback_words = "" if not rollback else f" + rollback {duration(rollback)}"
    breaker = (
        f"circuit breaker: {threshold} failed tasks (0.5 x DesiredCount {settings.desired}, at least {BREAKER_MIN})"
    )
    for failure, each, each_words in (
        ("the task crashes at start", TASK_START_SECONDS, f"task start {duration(TASK_START_SECONDS)}"),
        (
            "the task never passes its health check",
            TASK_START_SECONDS + settings.unhealthy_after + settings.stop_timeout,
            f"task start {duration(TASK_START_SECONDS)} + UNHEALTHY after {duration(settings.unhealthy_after)} + "
            f"stop {duration(settings.stop_timeout)}",
        ),
    ):
        if not settings.circuit_breaker:
            yield VerdictTime(
                failure, "none: no circuit breaker, ECS relaunches it forever", None, DEPLOYMENT_START, ""
            )
            continue
        yield VerdictTime(
            failure,
            breaker,
            rounds * each + rollback,
            DEPLOYMENT_START,
            f"{rounds} x ({each_words}){rollback_words}",
        )


def _alarm_row(settings: AppSettings, alarm: DeploymentAlarm, failure: str, ready: int) -> VerdictTime:
    """A failure that shows from the new task's first minute: its alarm fires while ECS still watches when it
    does so within the bake; ECS then rolls back, starting the previous version's task again."""
    fires = TASK_START_SECONDS + alarm.to_alarm
    bake_ends = ready + settings.stop_timeout + settings.bake_seconds
    breaching = f"{alarm.datapoints} x {duration(alarm.period)} breaching + {duration(alarm.period)} evaluation"
    if fires > bake_ends:
        return VerdictTime(
            failure,
            f"{alarm.name} in ALARM after ECS's bake: ECS does not roll back; `--verify` has stopped, status tells",
            fires,
            DEPLOYMENT_START,
            f"task start {duration(TASK_START_SECONDS)} + {breaching}",
        )
    rollback = TASK_START_SECONDS + settings.healthy_after
    return VerdictTime(
        failure,
        f"{alarm.name} ({alarm.datapoints} of {alarm.evaluation_periods} x {duration(alarm.period)}), ECS rolls back",
        fires + rollback,
        DEPLOYMENT_START,
        f"task start {duration(TASK_START_SECONDS)} + {breaching} + rollback {duration(rollback)}",
    )


def _exits_later(settings: AppSettings) -> VerdictTime:
    """A task that ran and passed its health check, then exits: the circuit breaker does not count it (it
    watches tasks until they are healthy) and ECS starts a replacement at once."""
    replaced = TASK_START_SECONDS + settings.healthy_after
    below = settings.alarm("tasks-below-desired")
    failure = "the app exits later"
    if below is None or replaced < below.datapoints * below.period:
        window = f", before tasks-below-desired's {duration(below.datapoints * below.period)} pass" if below else ""
        return VerdictTime(
            failure,
            f"none on AWS: the circuit breaker counts only tasks that never got healthy, and ECS replaces it in "
            f"{duration(replaced)}{window}; `--verify` names the stopped task while it watches, status lists it",
            None,
            "the task exits",
            "",
        )
    return VerdictTime(failure, below.name, below.to_alarm, "the task exits", _alarm_words(below))


def _nothing_runs(settings: AppSettings) -> VerdictTime:
    below = settings.alarm("tasks-below-desired")
    failure = "no task runs at all"
    if below is None:
        return VerdictTime(failure, "none: no tasks-below-desired deployment alarm", None, "the last task stops", "")
    return VerdictTime(
        failure,
        f"{below.name}, if Container Insights reports 0 running tasks (to settle on AWS); notifications, no rollback",
        below.to_alarm,
        "the last task stops",
        _alarm_words(below),
    )


def _alarm_words(alarm: DeploymentAlarm) -> str:
    return f"{alarm.datapoints} x {duration(alarm.period)} breaching + {duration(alarm.period)} evaluation"


def _deployment_alarm(properties: dict[str, Any]) -> DeploymentAlarm:
    periods = [properties.get("Period")] + [
        metric.get("Period") or metric.get("MetricStat", {}).get("Period") for metric in properties.get("Metrics", [])
    ]
    evaluation_periods = int(properties["EvaluationPeriods"])
    return DeploymentAlarm(
        name=properties["AlarmName"],
        period=max(int(period) for period in periods if period is not None),
        evaluation_periods=evaluation_periods,
        datapoints=int(properties.get("DatapointsToAlarm", evaluation_periods)),
    )


def _true(value: Any) -> bool:
    return str(value).lower() == "true"
