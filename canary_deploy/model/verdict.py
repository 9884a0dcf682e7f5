"""The canary's verdict on a release, decided from what ECS and CloudWatch say, one observation at a time.

Pure: no AWS calls and no clock; `canary_watch` feeds it observations. A release fails when one of the
service's deployment alarms is in ALARM (or ECS names one it triggered), when its tasks stop, or when ECS
fails its deployment; the verdict then says whether ECS rolled it back, and to which version. It is healthy
when nothing of the kind happened for the whole window and every desired task runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..render.durations import duration

# ECS's service deployment statuses (ListServiceDeployments), by what they mean for a verdict.
ROLLED_BACK = "ROLLBACK_SUCCESSFUL"
ROLLING_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
ROLLBACK_FAILED = "ROLLBACK_FAILED"
STOPPED = ("STOPPED", "STOP_REQUESTED")
IN_PROGRESS = ("PENDING", "IN_PROGRESS")
SUCCESSFUL = "SUCCESSFUL"


class Outcome(Enum):
    HEALTHY = "healthy"
    FAILED = "failed"
    IN_PROGRESS = "in progress"  # ECS is still deploying it (status only: a watch waits)
    DETACHED = "detached"  # Ctrl-C before the end of the window


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK, ALARM or INSUFFICIENT_DATA
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


@dataclass(frozen=True)
class Observation:
    """One look at the service: its release, its deployment alarms, its tasks and the consumer's lag."""

    elapsed: float  # seconds since the watch started
    release: Release | None  # None: not in the deployment history (yet)
    alarms: tuple[AlarmState, ...] = ()
    running: int = 0
    desired: int = 0
    failed_tasks: int = 0  # tasks of the release's deployment that stopped
    max_lag: float | None = None  # the largest OffsetLag so far, None before the first datapoint


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    version: str
    cause: str = ""  # why it failed: `<alarm> <reason>`, or the tasks, or ECS's reason
    consequence: str = ""  # what ECS did about it
    watched: float = 0.0  # seconds
    max_lag: float | None = None
    running: int = 0
    desired: int = 0

    def line(self) -> str:
        """The verdict in one line, with its icon."""
        icon = {Outcome.HEALTHY: "✅", Outcome.FAILED: "❌", Outcome.IN_PROGRESS: "⏳", Outcome.DETACHED: "⏸"}
        return f"{icon[self.outcome]} {self.text()}"

    def text(self) -> str:
        tasks = f"tasks {self.running}/{self.desired}"
        lag = "no OffsetLag reported" if self.max_lag is None else f"max lag {_number(self.max_lag)}"
        if self.outcome is Outcome.HEALTHY:
            return f"canary healthy on {self.version} for {duration(self.watched)} ({lag}, {tasks})"
        if self.outcome is Outcome.FAILED:
            return f"canary failed on {self.version}: {'; '.join(filter(None, (self.cause, self.consequence)))}"
        if self.outcome is Outcome.IN_PROGRESS:
            return f"canary on {self.version}: {self.consequence} ({tasks})"
        return f"canary on {self.version} not judged yet: detached after {duration(self.watched)} ({lag}, {tasks})"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass
class VerdictJudge:
    """Judges one release over a window of observations (`deploy.py app --verify`), or from one (status)."""

    version: str
    window: float  # seconds
    release_command: str  # what releases a version again (`... app`); ` --version X` follows in the hint
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
            return self._failed(seen, cause, self._not_rolled_back(release))
        if release is not None and release.status in ROLLING_BACK + IN_PROGRESS:
            if not window_over:
                return None  # ECS decides: it rolls back a failing deployment, or completes a good one
            if cause or release.status in ROLLING_BACK:
                return self._failed(seen, cause or release.reason, "ECS is rolling it back")
            return self._verdict(Outcome.IN_PROGRESS, seen, consequence="ECS is still deploying it")
        if not window_over:
            return None
        if seen.running < seen.desired:
            return self._failed(seen, f"tasks failing: {seen.running} of {seen.desired} running", "")
        return self._verdict(Outcome.HEALTHY, seen)

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

    def _cause(self, seen: Observation) -> str:
        firing = [alarm for alarm in seen.alarms if alarm.state == "ALARM"]
        if firing:
            return "; ".join(f"{alarm.name} {alarm.reason.rstrip('.')}".strip() for alarm in firing)
        release = seen.release
        if release is not None and release.triggered_alarms:
            return f"{', '.join(release.triggered_alarms)} in ALARM during its deployment"
        stopped = seen.failed_tasks - (self.failed_tasks_at_start or 0)
        if stopped > 0:
            return f"tasks failing: {stopped} stopped, {seen.running} of {seen.desired} running"
        return ""

    def _not_rolled_back(self, release: Release | None) -> str:
        previous = release.previous_version if release else None
        back = f"; roll back with `{self.release_command} --version {previous}`" if previous else ""
        return f"ECS did not roll back (its deployment had completed){back}"

    def _failed(self, seen: Observation, cause: str, consequence: str) -> Verdict:
        return self._verdict(Outcome.FAILED, seen, cause=cause or "its deployment failed", consequence=consequence)

    def _verdict(self, outcome: Outcome, seen: Observation, cause: str = "", consequence: str = "") -> Verdict:
        return Verdict(
            outcome,
            self.version,
            cause=cause,
            consequence=consequence,
            watched=min(seen.elapsed, self.window),
            max_lag=self.max_lag,
            running=seen.running,
            desired=seen.desired,
        )
