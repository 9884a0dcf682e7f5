"""The canary's verdict (canary_deploy/model/verdict.py) from scripted sequences of what ECS and CloudWatch
say: the release's service deployment in ECS's history, the deployment alarms and their state changes since
the release started, the tasks and the lag."""

from datetime import UTC, datetime, timedelta

import pytest

from canary_deploy.model.verdict import AlarmState, AlarmTransition, Observation, Outcome, Release, VerdictJudge
from canary_deploy.render.alarm_states import alarm_state_lines, in_alarm_summary
from canary_deploy.render.durations import duration

V = "1.16.0-beta.13-0a1b2c3d"
PREVIOUS = "1.16.0-beta.12-5f5d22f1"
LAG = "AppStack-consumer-lag"
STALLED = "AppStack-consumer-stalled"
TASKS = "AppStack-tasks-below-desired"
WINDOW = 15 * 60
RELEASE = "python deploy.py app"
BOUND = "upper bound 15 min"
STARTED = datetime(2026, 12, 2, 14, 17, 5, tzinfo=UTC)
LAG_REASON = "Threshold Crossed: 5 datapoints [4810.0, 5120.0, ...] were greater than the threshold (1000.0)."
# The verdict line ends the alarm's reason without its final period, before "; ECS ...".
LAG_SHOWN = LAG_REASON.removesuffix(".")


def quiet(*firing: AlarmState) -> tuple[AlarmState, ...]:
    """The three deployment alarms, OK unless given in another state."""
    given = {alarm.name: alarm for alarm in firing}
    return tuple(given.get(name, AlarmState(name, "OK")) for name in (LAG, STALLED, TASKS))


def went(name, minute, old, new, reason=""):
    """A state change `minute` minutes after the release started."""
    return AlarmTransition(name, STARTED + timedelta(minutes=minute), old, new, reason)


def release(status="SUCCESSFUL", alarms_status="MONITORING_COMPLETE", took=None, **details) -> Release:
    finished = STARTED + timedelta(seconds=took) if took is not None else None
    return Release(
        version=V,
        status=status,
        previous_version=PREVIOUS,
        alarms_status=alarms_status,
        started_at=STARTED,
        finished_at=finished,
        **details,
    )


def look(
    minute: float, status="SUCCESSFUL", alarms=(), history=(), lag=None, running=1, desired=1, failed=0, **details
):
    return Observation(
        elapsed=minute * 60,
        release=release(status, **details),
        alarms=quiet(*alarms),
        running=running,
        desired=desired,
        failed_tasks=failed,
        max_lag=lag,
        alarm_history=tuple(history),
    )


def judge(*looks: Observation):
    """Feeds the looks in order; returns the verdict and how many looks it took."""
    verdict_judge = VerdictJudge(V, WINDOW, RELEASE, bound=BOUND)
    for count, seen in enumerate(looks, start=1):
        verdict = verdict_judge.observe(seen)
        if verdict is not None:
            return verdict, count
    return None, len(looks)


def test_the_watch_ends_when_ecs_marks_the_deployment_successful_having_watched_its_alarms():
    verdict, looks = judge(
        look(0, "IN_PROGRESS", alarms_status="MONITORING", lag=3),
        look(5, "IN_PROGRESS", alarms_status="MONITORING", lag=912),
        look(6, took=370, lag=40),
        look(7),
    )
    assert looks == 3
    assert verdict.outcome is Outcome.HEALTHY
    assert verdict.line() == (
        f"✅ canary healthy on {V}: ECS marked its deployment SUCCESSFUL after 6m10s ({BOUND}), and no deployment "
        "alarm fired since it started (max lag 912, tasks 1/1)"
    )


def test_no_verdict_while_ecs_deploys_before_the_upper_bound():
    assert judge(look(0, "IN_PROGRESS"), look(14.9, "IN_PROGRESS")) == (None, 2)


def test_ecs_still_deploying_at_the_upper_bound_is_no_verdict():
    verdict, _ = judge(look(0, "IN_PROGRESS"), look(15, "IN_PROGRESS"))
    assert verdict.line() == f"⏳ canary on {V}: ECS is still deploying it (tasks 1/1)"


def test_lag_alarm_after_the_deployment_completed_fails_and_says_ecs_did_not_roll_back():
    firing = AlarmState(LAG, "ALARM", LAG_REASON)
    verdict, looks = judge(look(0, alarms=[firing], history=[went(LAG, 8, "OK", "ALARM", LAG_REASON)], lag=5120))
    assert looks == 1  # at once: ECS will not act on a completed deployment
    assert verdict.line() == (
        f"❌ canary failed on {V}: {LAG} {LAG_SHOWN}; ECS did not roll back (its deployment had completed); "
        f"roll back with `python deploy.py app --version {PREVIOUS} --allow-unjudged`"
    )


def test_an_alarm_that_fired_and_cleared_since_the_release_started_still_fails_it():
    """ECS may not have watched (or its bake had ended): the alarm's own history judges."""
    history = [
        went(STALLED, 3, "OK", "ALARM", "10 datapoints were less than the threshold (1.0)."),
        went(STALLED, 4, "ALARM", "OK"),
    ]
    verdict, _ = judge(look(6, took=300, history=history))
    assert verdict.outcome is Outcome.FAILED
    assert verdict.cause == f"{STALLED} was in ALARM at 14:20:05 UTC (10 datapoints were less than the threshold (1.0))"


def test_lag_alarm_during_the_deployment_waits_for_ecs_then_reports_its_rollback():
    firing = [AlarmState(LAG, "ALARM", LAG_REASON)]
    fired = [went(LAG, 1, "OK", "ALARM", LAG_REASON)]
    verdict, looks = judge(
        look(0, "IN_PROGRESS"),
        look(1, "IN_PROGRESS", alarms=firing, history=fired),  # ECS fails the deployment on its next look
        look(2, "ROLLBACK_IN_PROGRESS", alarms=firing, history=fired, triggered_alarms=(LAG,)),
        look(3, "ROLLBACK_SUCCESSFUL", alarms=firing, history=fired, triggered_alarms=(LAG,), rolled_back_to=PREVIOUS),
    )
    assert looks == 4
    assert verdict.line() == f"❌ canary failed on {V}: {LAG} {LAG_SHOWN}; ECS rolled back to {PREVIOUS}"


def test_a_rollback_observed_in_the_history_names_the_alarms_ecs_triggered_even_once_they_are_ok():
    verdict, looks = judge(
        look(0, "ROLLBACK_SUCCESSFUL", triggered_alarms=(LAG,), rolled_back_to=PREVIOUS, reason="alarm(s) in ALARM")
    )
    assert looks == 1
    assert (
        verdict.line()
        == f"❌ canary failed on {V}: {LAG} in ALARM during its deployment; ECS rolled back to {PREVIOUS}"
    )


def test_tasks_failing_fails_the_release():
    verdict, _ = judge(look(0, "IN_PROGRESS", failed=1), look(2, failed=3, running=0, desired=1))
    assert verdict.outcome is Outcome.FAILED
    assert verdict.cause == "tasks failing: 2 stopped, 0 of 1 running"


def test_tasks_missing_when_ecs_decides_fail_the_release():
    verdict, _ = judge(look(0, running=0))
    assert verdict.line() == f"❌ canary failed on {V}: tasks failing: 0 of 1 running"


def test_an_alarm_in_alarm_when_the_release_started_leaves_it_not_judged_never_healthy():
    """ECS watched none of its alarms (DISABLED), and the alarm cannot tell the new version from the old."""
    firing = AlarmState(LAG, "ALARM", LAG_REASON)
    looks = [look(minute, alarms=[firing], alarms_status="DISABLED", took=60) for minute in (0, 5, 10, 15)]
    verdict, count = judge(*looks)
    assert count == 4  # ECS's SUCCESSFUL says nothing: the watch goes on to the upper bound
    assert verdict.line() == (
        f"⚠ canary not judged on {V}: {LAG} was in ALARM when its deployment started, so ECS watched none of its "
        "alarms and they cannot tell it from the version before; none went to ALARM in 15 min (no OffsetLag "
        "reported, tasks 1/1)"
    )
    # Also when ECS claims to have watched them: the alarm's state at the start decides.
    verdict, _ = judge(look(15, alarms=[firing]))
    assert verdict.outcome is Outcome.NOT_JUDGED


def test_an_alarm_in_alarm_at_the_start_that_clears_then_fires_again_fails_the_release():
    firing = AlarmState(LAG, "ALARM", LAG_REASON)
    history = [went(LAG, 1, "ALARM", "OK"), went(LAG, 9, "OK", "ALARM", LAG_REASON)]
    cleared = look(2, alarms_status="DISABLED", history=history[:1])
    assert cleared.in_alarm_at_start() == (AlarmState(LAG, "OK"),)
    verdict, looks = judge(cleared, look(9, alarms=[firing], alarms_status="DISABLED", history=history))
    assert looks == 2
    assert verdict.cause == f"{LAG} {LAG_SHOWN}"


def test_a_deployment_ecs_did_not_watch_is_judged_by_the_watch_for_the_whole_window():
    """The service's first deployment: its alarms were created after it, and nothing was in ALARM."""
    verdict, looks = judge(
        look(0, alarms_status="DISABLED"), look(14, alarms_status="DISABLED"), look(15, alarms_status="DISABLED", lag=7)
    )
    assert looks == 3
    assert verdict.line() == (
        f"✅ canary healthy on {V}: no deployment alarm fired in 15 min (ECS did not watch them: DISABLED for its "
        "deployment) (max lag 7, tasks 1/1)"
    )


def test_ctrl_c_detaches_with_what_was_seen_so_far():
    verdict_judge = VerdictJudge(V, WINDOW, RELEASE)
    seen = look(2, "IN_PROGRESS", lag=40)
    assert verdict_judge.observe(seen) is None
    verdict = verdict_judge.detach(seen, elapsed=130)
    assert verdict.outcome is Outcome.DETACHED
    assert verdict.text() == f"canary on {V} not judged yet: detached after 2m10s (max lag 40, tasks 1/1)"


def test_one_look_judges_the_last_release_for_status():
    healthy = VerdictJudge.at_once(look(125, lag=3, took=370), V, RELEASE)
    assert healthy.line() == (
        f"✅ canary healthy on {V}: ECS marked its deployment SUCCESSFUL after 6m10s, and no deployment alarm fired "
        "in the 2h05m since it started (max lag 3, tasks 1/1)"
    )
    deploying = VerdictJudge.at_once(look(0, "IN_PROGRESS"), V, RELEASE)
    assert deploying.line() == f"⏳ canary on {V}: ECS is still deploying it (tasks 1/1)"


@pytest.mark.parametrize(
    "seconds, text", [(900, "15 min"), (60, "1 min"), (130, "2m10s"), (3, "3s"), (0.4, "0s"), (7500, "2h05m")]
)
def test_durations_read_as_minutes_when_whole(seconds, text):
    assert duration(seconds) == text


def test_the_deployment_alarms_read_in_one_line_when_all_ok_else_one_each():
    since = STARTED
    ok = [AlarmState(name, "OK", "fine", since) for name in (LAG, STALLED)]
    assert alarm_state_lines((LAG, STALLED), ok, UTC, brief_when_ok=True) == [
        f"Deployment alarms: all OK ({LAG}, {STALLED}): ECS judges this release by them"
    ]
    firing = [AlarmState(LAG, "ALARM", LAG_REASON, since)]
    assert alarm_state_lines((LAG, STALLED), firing, UTC, brief_when_ok=True) == [
        "Deployment alarms (ECS judges each release by them):",
        f"  {LAG}      ALARM since 2026-12-02 14:17:05: {LAG_REASON}",
        f"  {STALLED}  not created yet",
    ]
    assert in_alarm_summary(firing, UTC) == f"{LAG} is in ALARM since 14:17:05 ({LAG_SHOWN})"
