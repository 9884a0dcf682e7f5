"""The canary's verdict, read from AWS: `deploy.py app --verify` watches a release after CloudFormation
completed, `deploy.py status app` judges the last release, and a deploy that CloudFormation rolled back
because ECS's deployment alarms fired is reported as the canary's failure (verdict.py decides).

Per look, every 5 s (alarms change state once a minute at most; the rollout view keeps up): one
DescribeServices (the live rollout view, rollout_watch.RolloutWatch), one DescribeAlarms (the service's
deployment alarms), ListServiceDeployments and DescribeServiceDeployments (the release in ECS's deployment
history; each revision is read once) and one GetMetricData (the lag alarm's own Metrics Insights query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contract import CONSUMER_LAG_ALARM, alarm_name

from ..aws.aws_types import Client
from ..aws.rollout import ServiceRollout
from ..aws.session import AwsClients
from ..errors import DeploymentFailed
from ..model.ecs_state import ServiceState
from ..model.images import image_tag
from ..model.invocation import Invocation
from ..model.verdict import AlarmState, Observation, Release, Verdict, VerdictJudge
from ..render.console import Console
from ..render.durations import duration
from .rollout_watch import RolloutWatch
from .timing import REAL_TIME, Timing

# Without deployment alarms to derive ECS's bake time from.
DEFAULT_VERIFY_MINUTES = 15
VERIFY_POLL_SECONDS = 5.0
# The newest service deployments looked at for a release (a release is the newest or nearly).
HISTORY_LOOKED_AT = 10
# Metrics Insights queries read the latest 3 hours only.
INSIGHTS_REACH = timedelta(hours=3)


@dataclass(frozen=True)
class FoundRelease:
    release: Release
    task_definition: str
    finished_at: datetime | None


class DeploymentHistory:
    """A service's releases as ECS's deployment history tells them (ListServiceDeployments)."""

    def __init__(self, ecs: Client, cluster: str, service: str) -> None:
        self.ecs = ecs
        self.cluster = cluster
        self.service = service
        self.revisions: dict[str, dict[str, Any]] = {}

    def release(self, version: str | None = None) -> FoundRelease | None:
        """The newest service deployment of `version` (of any version when None)."""
        briefs = self.ecs.list_service_deployments(
            cluster=self.cluster, service=self.service, maxResults=HISTORY_LOOKED_AT
        )["serviceDeployments"]
        if not briefs:
            return None
        described = self.ecs.describe_service_deployments(
            serviceDeploymentArns=[brief["serviceDeploymentArn"] for brief in briefs]
        )["serviceDeployments"]
        for deployment in sorted(described, key=lambda found: found["createdAt"], reverse=True):
            target = self.revision(deployment["targetServiceRevision"]["arn"])
            if version is None or self.version_of(target) == version:
                return FoundRelease(
                    self._release(deployment, target), target["taskDefinition"], deployment.get("finishedAt")
                )
        return None

    def _release(self, deployment: dict[str, Any], target: dict[str, Any]) -> Release:
        sources = deployment.get("sourceServiceRevisions") or []
        rollback = deployment.get("rollback") or {}
        return Release(
            version=self.version_of(target),
            status=deployment["status"],
            reason=deployment.get("statusReason", ""),
            triggered_alarms=tuple((deployment.get("alarms") or {}).get("triggeredAlarmNames", [])),
            previous_version=self.version_of(self.revision(sources[0]["arn"])) if sources else None,
            rolled_back_to=self.version_of(self.revision(rollback["serviceRevisionArn"]))
            if rollback.get("serviceRevisionArn")
            else None,
        )

    def revision(self, arn: str) -> dict[str, Any]:
        if arn not in self.revisions:
            (self.revisions[arn],) = self.ecs.describe_service_revisions(serviceRevisionArns=[arn])["serviceRevisions"]
        return self.revisions[arn]

    @staticmethod
    def version_of(revision: dict[str, Any]) -> str:
        images = revision.get("containerImages") or [{}]
        image = images[0].get("image", "?")
        return image_tag(image) or image


class CanaryAlarms:
    """The service's deployment alarms: their states, ECS's bake time, and the consumer's lag."""

    def __init__(self, cloudwatch: Client, names: tuple[str, ...], lag_alarm: str) -> None:
        self.cloudwatch = cloudwatch
        self.names = names
        self.lag_alarm = lag_alarm
        self.described: dict[str, dict[str, Any]] = {}

    def states(self) -> tuple[AlarmState, ...]:
        if not self.names:
            return ()
        alarms = self.cloudwatch.describe_alarms(AlarmNames=list(self.names))["MetricAlarms"]
        self.described = {alarm["AlarmName"]: alarm for alarm in alarms}
        return tuple(
            AlarmState(name, self.described[name]["StateValue"], self.described[name].get("StateReason", ""))
            for name in self.names
            if name in self.described
        )

    def bake_seconds(self) -> float | None:
        """ECS's bake time as the ECS team describes it: the longest evaluation window of the alarms
        (period x evaluation periods); None without alarms."""
        windows = [_period(alarm) * alarm.get("EvaluationPeriods", 1) for alarm in self.described.values()]
        return float(max(windows)) if windows else None

    def max_lag(self, since: datetime, until: datetime) -> float | None:
        """The largest OffsetLag from `since`, by the lag alarm's own query (None: no datapoint, no alarm)."""
        query = next(
            (
                metric
                for metric in self.described.get(self.lag_alarm, {}).get("Metrics", [])
                if metric.get("ReturnData", True) and metric.get("Expression")
            ),
            None,
        )
        if query is None:
            return None
        start = max(since, until - INSIGHTS_REACH)
        period = max(int(query.get("Period", 60)), 60)
        results = self.cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": query["Id"], "Expression": query["Expression"], "Period": period}],
            StartTime=start - timedelta(seconds=period),  # the period the window starts in
            EndTime=until + timedelta(seconds=period),
        )["MetricDataResults"]
        values = [value for result in results for value in result.get("Values", [])]
        return max(values) if values else None


def _period(alarm: dict[str, Any]) -> int:
    periods = [alarm.get("Period") or 0] + [
        metric.get("Period") or metric.get("MetricStat", {}).get("Period") or 0 for metric in alarm.get("Metrics", [])
    ]
    return max(periods) or 60


class CanaryWatch:
    """Reads one service's canary: its rollout, release, alarms and lag; judges a release."""

    def __init__(
        self,
        clients: AwsClients,
        console: Console,
        stack_name: str,
        outputs: dict[str, str],
        invocation: Invocation,
        timing: Timing = REAL_TIME,
    ) -> None:
        cluster, service = outputs["ClusterName"], outputs["ServiceName"]
        self.console = console
        self.rollout = ServiceRollout(clients.ecs, cluster, service)
        self.view = RolloutWatch(clients, console)
        self.history = DeploymentHistory(clients.ecs, cluster, service)
        self.cloudwatch = clients.client("cloudwatch")
        self.lag_alarm = alarm_name(stack_name, CONSUMER_LAG_ALARM)
        self.status_command = invocation.deploy("status", "app")
        self.release_command = invocation.deploy("app")
        self.clock = timing.clock
        self.sleep = timing.sleep
        self.alarm_states: dict[str, str] = {}

    def verify(self, version: str, minutes: float | None) -> Verdict:
        """Watch the release for `minutes` (None: ECS's bake time, else 15) with the live rollout view;
        the verdict, or a detached one after Ctrl-C."""
        since = datetime.now(UTC)
        self.view.follow(self.rollout, since)
        start = self.clock()
        state = self._state(self.view.poll())
        alarms = self.alarms(state)
        seen = self.observe(state, alarms, version, since, 0.0)
        window = minutes * 60 if minutes else alarms.bake_seconds() or DEFAULT_VERIFY_MINUTES * 60
        how = "--verify" if minutes else "ECS's bake time: the alarms' longest window" if alarms.names else "default"
        self.console.line(
            f"\nVerifying the canary on {version} for {duration(window)} ({how}); deployment alarms: "
            f"{', '.join(alarms.names) or 'none'}"
        )
        judge = VerdictJudge(version, window, self.release_command)
        try:
            while True:
                verdict = judge.observe(seen)
                if verdict is not None:
                    return verdict
                self.console.progress(self._progress(seen, window))
                self.sleep(max(min(VERIFY_POLL_SECONDS, window - seen.elapsed), 0))
                state = self._state(self.view.poll())
                seen = self.observe(state, alarms, version, since, self.clock() - start)
        except KeyboardInterrupt:
            return judge.detach(seen, self.clock() - start)

    def last_release(self, state: ServiceState) -> Verdict | None:
        """The verdict of the service's newest release, from one look at it (None: no deployment history)."""
        found = self.history.release()
        if found is None:
            return None
        alarms = self.alarms(state)
        now = datetime.now(UTC)
        since = found.finished_at or now
        seen = self.observe(state, alarms, found.release.version, since, (now - since).total_seconds(), found)
        return VerdictJudge.at_once(seen, found.release.version, self.release_command)

    def rolled_back_by_alarms(self, version: str) -> Verdict | None:
        """After CloudFormation rolled a release back: the canary's verdict when ECS's deployment alarms
        failed it (None when it failed for another reason, e.g. the circuit breaker)."""
        found = self.history.release(version)
        if found is None or not found.release.triggered_alarms:
            return None
        state = self._state(self.rollout.state())
        return VerdictJudge.at_once(
            self.observe(state, self.alarms(state), version, datetime.now(UTC), 0.0, found),
            version,
            self.release_command,
        )

    def alarms(self, state: ServiceState) -> CanaryAlarms:
        return CanaryAlarms(self.cloudwatch, state.deployment_alarms, self.lag_alarm)

    def observe(
        self,
        state: ServiceState,
        alarms: CanaryAlarms,
        version: str,
        since: datetime,
        elapsed: float,
        found: FoundRelease | None = None,
    ) -> Observation:
        found = found or self.history.release(version)
        states = alarms.states()
        self._show_alarm_changes(states)
        failed = sum(
            deployment.failed_tasks
            for deployment in state.deployments
            if found and deployment.task_definition == found.task_definition
        )
        return Observation(
            elapsed=elapsed,
            release=found.release if found else None,
            alarms=states,
            running=state.running,
            desired=state.desired,
            failed_tasks=failed,
            max_lag=alarms.max_lag(since, datetime.now(UTC)),
        )

    def _state(self, state: ServiceState | None) -> ServiceState:
        if state is None:
            raise DeploymentFailed(
                f"ECS service {self.rollout.service} not found in cluster {self.rollout.cluster}: "
                f"check it with `{self.status_command}`"
            )
        return state

    def _show_alarm_changes(self, states: tuple[AlarmState, ...]) -> None:
        for alarm in states:
            before = self.alarm_states.get(alarm.name)
            self.alarm_states[alarm.name] = alarm.state
            if before is not None and before != alarm.state:
                style = "red" if alarm.state == "ALARM" else "green" if alarm.state == "OK" else None
                text = f"  CloudWatch  {alarm.name}: {before} → {alarm.state}  {alarm.reason}".rstrip()
                self.console.line(self.console.style(text, style) if style else text)

    def _progress(self, seen: Observation, window: float) -> str:
        firing = [alarm.name for alarm in seen.alarms if alarm.state == "ALARM"]
        alarms = f"ALARM: {', '.join(firing)}" if firing else f"{len(seen.alarms)} alarms quiet"
        lag = "" if seen.max_lag is None else f", max lag {seen.max_lag:g}"
        status = seen.release.status if seen.release else "not in the deployment history yet"
        return (
            f"verifying: {duration(seen.elapsed)}/{duration(window)}, ECS {status}, {alarms}, "
            f"tasks {seen.running}/{seen.desired}{lag}"
        )
