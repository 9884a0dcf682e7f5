"""ECS deployment alarms (DeploymentConfiguration.Alarms): a deployment whose alarms go to ALARM fails and,
with `Rollback`, ECS rolls back to the last completed deployment. moto keeps no such setting at all.

As ECS does it (its developer guide, "How CloudWatch alarms detect Amazon ECS deployment failures"):

- the alarms are watched from the first running task of a new deployment until it completes; once all its
  tasks run and the old ones are stopped, the deployment stays IN_PROGRESS for a bake time, then completes.
  "Amazon ECS computes this time period based on the alarm configuration associated with the deployment.
  You can't set this value." ECS publishes no formula; the model bakes the longest evaluation window of
  the deployment's alarms (period x evaluation periods), in simulated time (local_aws.clock), and
  completes at the scheduler's first step after it: later than a reader who takes the window for the bake
  would expect (the pessimistic reading, where AWS documents nothing);
- "If an alarm is in the ALARM state at the beginning of a deployment, Amazon ECS will not monitor alarms
  for the duration of that deployment (Amazon ECS ignores the alarm configuration)" (same guide,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html): if any of the
  service's deployment alarms is in ALARM when a deployment starts, none is watched until it ends, whatever
  they do meanwhile, and its ServiceDeployment's alarms say DISABLED ("Amazon ECS is not using alarms for
  service deployment failures when the status is DISABLED", API reference, ServiceDeploymentAlarms; what
  `make aws-acceptance` checks on a real account: assumptions.ALARMS_OF_A_DEPLOYMENT_STARTED_IN_ALARM). So the
  rollback of a release, started while that release's alarm is still in ALARM, completes; and so does the
  next release while an alarm is still in ALARM, unjudged;
- the service's first deployment is not judged: a rollback needs a previous completed deployment, and its
  alarms are created after the service (they name it); nor is a rollback, which goes back to what was
  judged before (and starts while the alarm that failed the release is still in ALARM).

The alarms are the stack's own (local_aws.cloudwatch.alarms), their states what SetAlarmState made them. The failed
deployment's rolloutStateReason names the alarms; its words are this emulator's (AWS documents none), and
CloudFormation's Service fails with the message its handler gives a failed rollout (service_stabilization:
the circuit breaker's; what AWS says when alarms failed it is not documented either).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..assumptions import ALARMS_WATCH_A_DEPLOYMENT_STARTED_IN_ALARM
from ..clock import INSTANT
from .scheduler import DeploymentFailure, DeploymentWatcher


@dataclass
class Judgement:
    """What the alarms decide for one deployment."""

    judged: bool
    names: list[str]
    rollback: bool
    bake_seconds: float = 0.0
    bake_until: float | None = None  # simulated time, once the bake has begun


def alarm_settings(service) -> dict:
    """The service's DeploymentConfiguration.alarms, as DescribeServices shows them ({} when none)."""
    alarms = (getattr(service, "deployment_configuration", None) or {}).get("alarms") or {}
    return alarms if alarms.get("enable") else {}


def _alarms(service, names: list[str]) -> list:
    from moto.cloudwatch.models import cloudwatch_backends

    alarms = cloudwatch_backends[service._account_id][service.region_name].alarms
    return [alarms[name] for name in names if name in alarms]


def alarms_in_alarm(service, names: list[str]) -> list:
    return [alarm for alarm in _alarms(service, names) if alarm.state_value == "ALARM"]


def bake_seconds(service, names: list[str]) -> float:
    """The longest evaluation window among the alarms: period (a metric alarm's, or its queries' longest)
    x evaluation periods."""
    windows = [0.0]
    for alarm in _alarms(service, names):
        periods = [alarm.period] + [
            query.period or (query.metric_stat.period if query.metric_stat else None)
            for query in alarm.metric_data_queries or []
        ]
        windows.append(float(max((int(period) for period in periods if period), default=60)) * alarm.evaluation_periods)
    return max(windows)


def _judgements(service) -> dict[str, Judgement]:
    if not hasattr(service, "_alarm_judgements"):
        service._alarm_judgements = {}
    return service._alarm_judgements


def judges(service, deployment: dict) -> bool:
    """Whether the service's alarms judge this deployment (known once it started)."""
    judgement = _judgements(service).get(deployment["id"])
    return judgement is not None and judgement.judged


class DeploymentAlarms(DeploymentWatcher):
    def started(self, scheduler, deployment, rollback_of):
        service = scheduler.service
        settings = alarm_settings(service)
        names = list(settings.get("alarmNames", []))
        first = getattr(service, "last_completed_task_definition", None) is None
        _judgements(service)[deployment["id"]] = Judgement(
            judged=bool(names)
            and not first
            and rollback_of is None
            and (ALARMS_WATCH_A_DEPLOYMENT_STARTED_IN_ALARM or not alarms_in_alarm(service, names)),
            names=names,
            rollback=bool(settings.get("rollback")),
            bake_seconds=bake_seconds(service, names),
        )

    def failure(self, scheduler, deployment):
        judgement = _judgements(scheduler.service).get(deployment["id"])
        if judgement is None or not judgement.judged or not scheduler.tasks(deployment, "RUNNING"):
            return None
        triggered = tuple(alarm.name for alarm in alarms_in_alarm(scheduler.service, judgement.names))
        if not triggered:
            return None
        names = ", ".join(triggered)
        return DeploymentFailure(
            f"ECS deployment {deployment['id']} failed: alarm(s) in ALARM: {names}.",
            f"alarm(s) detected: {names}",
            judgement.rollback,
            triggered_alarms=triggered,
        )

    def holds_completion(self, scheduler, deployment):
        judgement = _judgements(scheduler.service).get(deployment["id"])
        if judgement is None or not judgement.judged:
            return False
        if judgement.bake_until is None:  # the bake follows the scale-in: the new version runs alone
            scheduler.scale_in_older(deployment)
            judgement.bake_until = scheduler.at + judgement.bake_seconds
        return judgement.bake_until != INSTANT and scheduler.at <= judgement.bake_until  # an instant is past it
