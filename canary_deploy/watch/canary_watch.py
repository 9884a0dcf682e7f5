"""The canary's verdict, read from AWS: `deploy.py app --verify` watches a release after CloudFormation
completed until ECS decides on it, `deploy.py status app` judges the last release, and a deploy that
CloudFormation rolled back because ECS's deployment alarms fired is reported as the canary's failure
(model/verdict decides).

Per look, every 5 s (alarms change state once a minute at most; the rollout view keeps up): one
DescribeServices (the live rollout view, rollout_watch.RolloutWatch), one DescribeAlarms (the service's
deployment alarms; DescribeAlarmHistory only for an alarm whose state changed since the release started),
one DescribeServiceDeployments (the release's service deployment, found once by paging through
ListServiceDeployments: AWS documents no order for it) and one GetMetricData (the lag alarm's own Metrics
Insights query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contract import CONSUMER_LAG_ALARM, alarm_name

from ..aws.alarms import DeploymentAlarms
from ..aws.aws_types import Client
from ..aws.rollout import ServiceRollout
from ..aws.session import AwsClients
from ..errors import DeploymentFailed
from ..model.ecs_state import ServiceState
from ..model.images import image_tag
from ..model.invocation import Invocation
from ..model.verdict import AlarmState, Observation, Release, Verdict, VerdictJudge
from ..model.verdict_times import VerdictTime, upper_bound
from ..render.console import Console
from ..render.durations import duration
from ..render.verdict_times import deadline_lines
from .rollout_watch import RolloutWatch
from .timing import REAL_TIME, Timing

# Without the template's timings to bound the wait for ECS's decision.
DEFAULT_VERIFY_MINUTES = 15
VERIFY_POLL_SECONDS = 5.0


@dataclass(frozen=True)
class FoundRelease:
    release: Release
    task_definition: str
    arn: str  # the service deployment's


class DeploymentHistory:
    """A service's releases as ECS's deployment history tells them (ListServiceDeployments). AWS documents no
    order for the list, so every page is read and the deployments are ordered here, by createdAt."""

    def __init__(self, ecs: Client, cluster: str, service: str) -> None:
        self.ecs = ecs
        self.cluster = cluster
        self.service = service
        self.revisions: dict[str, dict[str, Any]] = {}

    def release(self, version: str | None = None, since: datetime | None = None) -> FoundRelease | None:
        """The newest service deployment of `version` (of any version when None), among those created after
        `since` when given (the stack's update: the release's deployment comes after it), else among all."""
        for brief in sorted(self._briefs(since), key=lambda brief: brief["createdAt"], reverse=True):
            target = self.revision(brief["targetServiceRevisionArn"])
            if version is None or self.version_of(target) == version:
                return self.described(brief["serviceDeploymentArn"])
        return self.release(version) if since is not None else None

    def described(self, arn: str) -> FoundRelease | None:
        """One service deployment as it is now (DescribeServiceDeployments)."""
        found = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
        if not found:
            return None
        deployment = found[0]
        target = self.revision(deployment["targetServiceRevision"]["arn"])
        return FoundRelease(self._release(deployment, target), target["taskDefinition"], arn)

    def _briefs(self, since: datetime | None) -> list[dict[str, Any]]:
        created = {"createdAt": {"after": since}} if since is not None else {}
        briefs: list[dict[str, Any]] = []
        token: dict[str, str] = {}
        while True:
            page = self.ecs.list_service_deployments(cluster=self.cluster, service=self.service, **created, **token)
            briefs += page["serviceDeployments"]
            if not page.get("nextToken"):
                return briefs
            token = {"nextToken": page["nextToken"]}

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
            alarms_status=(deployment.get("alarms") or {}).get("status", ""),
            started_at=deployment.get("createdAt"),
            finished_at=deployment.get("finishedAt"),
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
        self.alarm_states: dict[str, AlarmState] = {}

    def verify(
        self, version: str, minutes: float | None, times: tuple[VerdictTime, ...], since: datetime | None
    ) -> Verdict:
        """Watch the release (its deployment created after `since`) with the live rollout view until ECS
        decides on it, at most `minutes` (None: until the latest moment `times` give from its deployment's
        start); the verdict, or a detached one after Ctrl-C."""
        now = datetime.now(UTC)
        self.view.follow(self.rollout, now)
        start = self.clock()
        state = self._state(self.view.poll())
        alarms = self.alarms(state)
        found = self.history.release(version, since)
        started_at = (found.release.started_at if found else None) or now
        if minutes:
            window, bound = minutes * 60, f"upper bound {duration(minutes * 60)}, --verify"
            how = f"at most {duration(window)} (--verify)"
        else:
            latest = upper_bound(times) if times else DEFAULT_VERIFY_MINUTES * 60
            window = max(latest - (now - started_at).total_seconds(), 0.0)
            bound = f"upper bound {duration(latest)}"
            how = f"at most {duration(window)} ({bound} from its deployment's start)"
        deadline = now + timedelta(seconds=window)
        seen = self.observe(state, alarms, found, 0.0, started_at)
        self.console.line(
            f"\nVerifying the canary on {version} until ECS decides, {how}; deployment alarms: "
            f"{', '.join(alarms.names) or 'none'}"
        )
        for line in deadline_lines(times, started_at) if times else []:
            self.console.line(line)
        judge = VerdictJudge(version, window, self.release_command, bound=bound)
        try:
            while True:
                verdict = judge.observe(seen)
                if verdict is not None:
                    return verdict
                self.console.progress(self._progress(seen, deadline))
                self.sleep(max(min(VERIFY_POLL_SECONDS, window - seen.elapsed), 0))
                state = self._state(self.view.poll())
                found = self.history.described(found.arn) if found else self.history.release(version, since)
                started_at = (found.release.started_at if found else None) or started_at
                seen = self.observe(state, alarms, found, self.clock() - start, started_at)
        except KeyboardInterrupt:
            return judge.detach(seen, self.clock() - start)

    def last_release(self, state: ServiceState) -> Verdict | None:
        """The verdict of the service's newest release, from one look at it (None: no deployment history).
        Either way the deployment alarms' states are read (`alarm_states`)."""
        alarms = self.alarms(state)
        found = self.history.release()
        if found is None:
            self._show_alarm_changes(alarms.states())
            return None
        now = datetime.now(UTC)
        started_at = found.release.started_at or now
        seen = self.observe(state, alarms, found, (now - started_at).total_seconds(), started_at)
        return VerdictJudge.at_once(seen, found.release.version, self.release_command)

    def rolled_back_by_alarms(self, version: str, since: datetime | None) -> Verdict | None:
        """After CloudFormation rolled a release back: the canary's verdict when ECS's deployment alarms
        failed it (None when it failed for another reason, e.g. the circuit breaker)."""
        found = self.history.release(version, since)
        if found is None or not found.release.triggered_alarms:
            return None
        state = self._state(self.rollout.state())
        started_at = found.release.started_at or datetime.now(UTC)
        return VerdictJudge.at_once(
            self.observe(state, self.alarms(state), found, 0.0, started_at), version, self.release_command
        )

    def alarms(self, state: ServiceState) -> DeploymentAlarms:
        return DeploymentAlarms(self.cloudwatch, state.deployment_alarms, self.lag_alarm)

    def observe(
        self,
        state: ServiceState,
        alarms: DeploymentAlarms,
        found: FoundRelease | None,
        elapsed: float,
        started_at: datetime,
    ) -> Observation:
        """One look, the alarms' history and the lag read from the release's start."""
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
            max_lag=alarms.max_lag(started_at, datetime.now(UTC)),
            alarm_history=alarms.history(started_at),
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
            self.alarm_states[alarm.name] = alarm
            if before is not None and before.state != alarm.state:
                style = "red" if alarm.state == "ALARM" else "green" if alarm.state == "OK" else None
                text = f"  CloudWatch  {alarm.name}: {before.state} → {alarm.state}  {alarm.reason}".rstrip()
                self.console.line(self.console.style(text, style) if style else text)

    def _progress(self, seen: Observation, deadline: datetime) -> str:
        firing = [alarm.name for alarm in seen.alarms if alarm.state == "ALARM"]
        alarms = f"ALARM: {', '.join(firing)}" if firing else f"{len(seen.alarms)} alarms quiet"
        lag = "" if seen.max_lag is None else f", max lag {seen.max_lag:g}"
        status = seen.release.status if seen.release else "not in the deployment history yet"
        return (
            f"verifying: ECS {status}, verdict by {deadline.astimezone():%H:%M:%S} at the latest, {alarms}, "
            f"tasks {seen.running}/{seen.desired}{lag}"
        )
