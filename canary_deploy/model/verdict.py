"""The canary's verdict on a release, decided from what ECS and CloudWatch say, one observation at a time.

Pure: no AWS calls and no clock; `canary_watch` feeds it observations. The watch ends on what ECS decides:
the release's service deployment SUCCESSFUL (with ECS watching its alarms through the bake), rolled back or
stopped; the window is only an upper bound on waiting. Beside ECS, the verdict reads the deployment alarms'
own history since the release started, because ECS may not have watched them: any transition to ALARM
fails the release. A release fails too when its tasks stop. An alarm already in ALARM when the release
started means ECS watched no alarm for it (its deployment alarms are DISABLED) and no alarm can tell the
new version from the old: such a release is never healthy, only failed (a transition to ALARM) or not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from ..render.durations import duration

# ECS's service deployment statuses (ListServiceDeployments), by what they mean for a verdict.
ROLLED_BACK = "ROLLBACK_SUCCESSFUL"
ROLLING_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
ROLLBACK_FAILED = "ROLLBACK_FAILED"
STOPPED = ("STOPPED", "STOP_REQUESTED")
IN_PROGRESS = ("PENDING", "IN_PROGRESS")
SUCCESSFUL = "SUCCESSFUL"
# A service deployment's alarms status when ECS does not use its alarms (API reference, ServiceDeploymentAlarms).
ALARMS_DISABLED = "DISABLED"
IN_ALARM = "ALARM"
# The deploy option that releases while a deployment alarm is in ALARM, which ECS would not judge.
ALLOW_UNJUDGED = "--allow-unjudged"


class Outcome(Enum):
    HEALTHY = "healthy"
    FAILED = "failed"
    NOT_JUDGED = "not judged"  # a deployment alarm was in ALARM when the release started
    IN_PROGRESS = "in progress"  # ECS had not decided by the upper bound
    DETACHED = "detached"  # Ctrl-C before the verdict


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK, ALARM or INSUFFICIENT_DATA
    reason: str = ""
    since: datetime | None = None  # when it entered that state


@dataclass(frozen=True)
class AlarmTransition:
    """A change of a deployment alarm's state (DescribeAlarmHistory)."""

    name: str
    at: datetime
    old_state: str
    new_state: str
    reason: str = ""


@dataclass(frozen=True)
class Release:
    """The release's ECS service deployment, as the deployment history describes it."""

    version: str
    status: str
    reason: str = ""
    triggered_alarms: tuple[str, ...] = ()
    previous_version: str | None = None  # what ran before it
    rolled_back_to: str | None = None  # the version ECS rolled back to, once it did
    alarms_status: str = ""  # whether ECS watches its alarms: MONITORING, DISABLED, TRIGGERED, ...
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def took(self) -> float | None:
        """Seconds from its start to ECS's decision, once decided."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class Observation:
    """One look at the service: its release, its deployment alarms with their state changes since the release
    started (oldest first), its tasks and the consumer's lag."""

    elapsed: float  # seconds since the watch started
    release: Release | None  # None: not in the deployment history (yet)
    alarms: tuple[AlarmState, ...] = ()
    running: int = 0
    desired: int = 0
    failed_tasks: int = 0  # tasks of the release's deployment that stopped
    max_lag: float | None = None  # the largest OffsetLag so far, None before the first datapoint
    alarm_history: tuple[AlarmTransition, ...] = ()

    def in_alarm_at_start(self) -> tuple[AlarmState, ...]:
        """The alarms in ALARM when the release started: the state their first change left, or their state
        now when they have not changed since."""
        first: dict[str, AlarmTransition] = {}
        for change in self.alarm_history:
            first.setdefault(change.name, change)
        return tuple(
            alarm
            for alarm in self.alarms
            if (first[alarm.name].old_state if alarm.name in first else alarm.state) == IN_ALARM
        )


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    version: str
    cause: str = ""  # why it failed or was not judged: `<alarm> <reason>`, or the tasks, or ECS's reason
    consequence: str = ""  # what ECS did about it
    watched: float = 0.0  # seconds
    max_lag: float | None = None
    running: int = 0
    desired: int = 0
    decided: str = ""  # how the watch ended: what ECS decided, and when

    def line(self) -> str:
        """The verdict in one line, with its icon."""
        icon = {
            Outcome.HEALTHY: "✅",
            Outcome.FAILED: "❌",
            Outcome.NOT_JUDGED: "⚠",
            Outcome.IN_PROGRESS: "⏳",
            Outcome.DETACHED: "⏸",
        }
        return f"{icon[self.outcome]} {self.text()}"

    def text(self) -> str:
        tasks = f"tasks {self.running}/{self.desired}"
        lag = "no OffsetLag reported" if self.max_lag is None else f"max lag {_number(self.max_lag)}"
        if self.outcome is Outcome.HEALTHY:
            return f"canary healthy on {self.version}: {self.decided} ({lag}, {tasks})"
        if self.outcome is Outcome.FAILED:
            return f"canary failed on {self.version}: {'; '.join(filter(None, (self.cause, self.consequence)))}"
        if self.outcome is Outcome.NOT_JUDGED:
            return f"canary not judged on {self.version}: {self.cause}; {self.decided} ({lag}, {tasks})"
        if self.outcome is Outcome.IN_PROGRESS:
            return f"canary on {self.version}: {self.consequence} ({tasks})"
        return f"canary on {self.version} not judged yet: detached after {duration(self.watched)} ({lag}, {tasks})"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass
class VerdictJudge:
    """Judges one release over a window of observations (`deploy.py app --verify`), or from one (status).

    `window` (seconds of watching) bounds the wait for ECS's decision; `bound` says so in the verdict line
    (empty for status, which looks once)."""

    version: str
    window: float  # seconds
    release_command: str  # what releases a version again (`... app`); ` --version X` follows in the hint
    bound: str = ""  # e.g. "upper bound 15m45s"
    max_lag: float | None = None
    failed_tasks_at_start: int | None = None

    def observe(self, seen: Observation) -> Verdict | None:
        """The verdict once decided, else None (keep watching)."""
        if seen.max_lag is not None:
            self.max_lag = seen.max_lag if self.max_lag is None else max(self.max_lag, seen.max_lag)
        if self.failed_tasks_at_start is None:
            self.failed_tasks_at_start = seen.failed_tasks
        release = seen.release
        cause = self._cause(seen)
        window_over = seen.elapsed >= self.window
        if release is not None and release.status == ROLLED_BACK:
            back_to = release.rolled_back_to or release.previous_version or "the previous deployment"
            return self._failed(seen, cause or release.reason, f"ECS rolled back to {back_to}")
        if release is not None and release.status == ROLLBACK_FAILED:
            return self._failed(seen, cause or release.reason, f"ECS could not roll back: {release.reason}")
        if release is not None and release.status in STOPPED:
            return self._failed(seen, cause or release.reason, "ECS stopped its deployment without rolling back")
        if cause and (release is None or release.status == SUCCESSFUL):
            return self._failed(seen, cause, self._not_rolled_back(release, seen))
        if release is not None and release.status in ROLLING_BACK + IN_PROGRESS:
            if not window_over:
                return None  # ECS decides: it rolls back a failing deployment, or completes a good one
            if cause or release.status in ROLLING_BACK:
                return self._failed(seen, cause or release.reason, "ECS is rolling it back")
            return self._verdict(Outcome.IN_PROGRESS, seen, consequence="ECS is still deploying it")
        in_alarm_at_start = seen.in_alarm_at_start()
        if release is not None and self._ecs_watched(release, seen) and not in_alarm_at_start:
            return self._healthy(seen, f"ECS marked its deployment SUCCESSFUL{self._after(release, seen)}")
        if not window_over:
            return None  # ECS did not watch the alarms: the watch does, for the whole window
        if in_alarm_at_start:
            names = ", ".join(alarm.name for alarm in in_alarm_at_start)
            return self._verdict(
                Outcome.NOT_JUDGED,
                seen,
                cause=f"{names} was in ALARM when its deployment started, so ECS watched none of its alarms "
                "and they cannot tell it from the version before",
                decided=f"none went to ALARM in {duration(min(seen.elapsed, self.window))}",
            )
        if release is None:
            return self._verdict(Outcome.IN_PROGRESS, seen, consequence="ECS's deployment history does not show it")
        if not seen.alarms:
            return self._healthy(
                seen, f"its tasks ran for {duration(min(seen.elapsed, self.window))} (no deployment alarms)"
            )
        return self._healthy(
            seen,
            f"no deployment alarm fired in {duration(min(seen.elapsed, self.window))} (ECS did not "
            f"watch them: {release.alarms_status or 'no alarms status'} for its deployment)",
        )

    @classmethod
    def at_once(cls, seen: Observation, version: str, release_command: str) -> Verdict:
        """The verdict from one look (`deploy.py status`): a window that ends with it."""
        verdict = cls(version, seen.elapsed, release_command).observe(seen)
        assert verdict is not None  # the window is over
        return verdict

    def detach(self, seen: Observation | None, elapsed: float) -> Verdict:
        """Ctrl-C: the verdict as far as it got."""
        return Verdict(
            Outcome.DETACHED,
            self.version,
            watched=elapsed,
            max_lag=self.max_lag,
            running=seen.running if seen else 0,
            desired=seen.desired if seen else 0,
        )

    @staticmethod
    def _ecs_watched(release: Release, seen: Observation) -> bool:
        """ECS completed the deployment watching its alarms through the bake."""
        return release.status == SUCCESSFUL and bool(seen.alarms) and release.alarms_status not in ("", ALARMS_DISABLED)

    def _after(self, release: Release, seen: Observation) -> str:
        took = f" after {duration(release.took)}" if release.took is not None else ""
        if self.bound:
            return f"{took} ({self.bound}), and no deployment alarm fired since it started"
        return f"{took}, and no deployment alarm fired in the {duration(seen.elapsed)} since it started"

    def _cause(self, seen: Observation) -> str:
        fired = self._fired(seen)
        if fired:
            return "; ".join(fired)
        release = seen.release
        if release is not None and release.triggered_alarms:
            return f"{', '.join(release.triggered_alarms)} in ALARM during its deployment"
        stopped = seen.failed_tasks - (self.failed_tasks_at_start or 0)
        if stopped > 0:
            return f"tasks failing: {stopped} stopped, {seen.running} of {seen.desired} running"
        return ""

    @staticmethod
    def _fired(seen: Observation) -> list[str]:
        """The deployment alarms that went to ALARM since the release started: with their reason when still
        in ALARM, else when they were."""
        to_alarm = {change.name: change for change in seen.alarm_history if change.new_state == IN_ALARM}
        fired = []
        for alarm in seen.alarms:
            change = to_alarm.get(alarm.name)
            if change is None:
                continue
            if alarm.state == IN_ALARM:
                fired.append(f"{alarm.name} {alarm.reason.rstrip('.')}".strip())
            else:
                fired.append(f"{alarm.name} was in ALARM at {change.at:%H:%M:%S %Z} ({change.reason.rstrip('.')})")
        return fired

    def _not_rolled_back(self, release: Release | None, seen: Observation) -> str:
        """With the command that releases the previous version again: unjudged while an alarm is in ALARM,
        which the deploy would otherwise refuse."""
        previous = release.previous_version if release else None
        unjudged = f" {ALLOW_UNJUDGED}" if any(alarm.state == IN_ALARM for alarm in seen.alarms) else ""
        back = f"; roll back with `{self.release_command} --version {previous}{unjudged}`" if previous else ""
        return f"ECS did not roll back (its deployment had completed){back}"

    def _failed(self, seen: Observation, cause: str, consequence: str) -> Verdict:
        return self._verdict(Outcome.FAILED, seen, cause=cause or "its deployment failed", consequence=consequence)

    def _healthy(self, seen: Observation, decided: str) -> Verdict:
        if seen.running < seen.desired:
            return self._failed(seen, f"tasks failing: {seen.running} of {seen.desired} running", "")
        return self._verdict(Outcome.HEALTHY, seen, decided=decided)

    def _verdict(
        self, outcome: Outcome, seen: Observation, cause: str = "", consequence: str = "", decided: str = ""
    ) -> Verdict:
        return Verdict(
            outcome,
            self.version,
            cause=cause,
            consequence=consequence,
            watched=min(seen.elapsed, self.window),
            max_lag=self.max_lag,
            running=seen.running,
            desired=seen.desired,
            decided=decided,
        )
