"""The canary's verdict (canary_deploy/verdict.py) from scripted sequences of what ECS and CloudWatch say:
the release's service deployment in ECS's history, the deployment alarms, the tasks and the lag."""

import pytest

from canary_deploy.model.verdict import AlarmState, Observation, Outcome, Release, VerdictJudge
from canary_deploy.render.durations import duration
from canary_deploy.watch.canary_watch import CanaryAlarms

V = "1.16.0-beta.13-0a1b2c3d"
PREVIOUS = "1.16.0-beta.12-5f5d22f1"
LAG = "AppStack-consumer-lag"
STALLED = "AppStack-consumer-stalled"
TASKS = "AppStack-tasks-below-desired"
WINDOW = 15 * 60
RELEASE = "python deploy.py app"
LAG_REASON = "Threshold Crossed: 5 datapoints [4810.0, 5120.0, ...] were greater than the threshold (1000.0)."
# The verdict line ends the alarm's reason without its final period, before "; ECS ...".
LAG_SHOWN = LAG_REASON.removesuffix(".")


def quiet(*firing: AlarmState) -> tuple[AlarmState, ...]:
    """The three deployment alarms, OK unless given in another state."""
    given = {alarm.name: alarm for alarm in firing}
    return tuple(given.get(name, AlarmState(name, "OK")) for name in (LAG, STALLED, TASKS))


def release(status="SUCCESSFUL", **details) -> Release:
    return Release(version=V, status=status, previous_version=PREVIOUS, **details)


def look(minute: float, status="SUCCESSFUL", alarms=(), lag=None, running=1, desired=1, failed=0, **details):
    return Observation(
        elapsed=minute * 60,
        release=release(status, **details),
        alarms=quiet(*alarms),
        running=running,
        desired=desired,
        failed_tasks=failed,
        max_lag=lag,
    )


def judge(*looks: Observation):
    """Feeds the looks in order; returns the verdict and how many looks it took."""
    verdict_judge = VerdictJudge(V, WINDOW, RELEASE)
    for count, seen in enumerate(looks, start=1):
        verdict = verdict_judge.observe(seen)
        if verdict is not None:
            return verdict, count
    return None, len(looks)


def test_healthy_for_the_whole_window_with_the_largest_lag_seen():
    verdict, looks = judge(look(0, lag=3), look(5, lag=912), look(10, lag=40), look(15, lag=7))
    assert looks == 4
    assert verdict.outcome is Outcome.HEALTHY
    assert verdict.line() == f"✅ canary healthy on {V} for 15 min (max lag 912, tasks 1/1)"


def test_no_verdict_before_the_window_ends():
    assert judge(look(0), look(14.9)) == (None, 2)


def test_lag_alarm_after_the_deployment_completed_fails_and_says_ecs_did_not_roll_back():
    verdict, looks = judge(look(0, lag=12), look(6, alarms=[AlarmState(LAG, "ALARM", LAG_REASON)], lag=5120), look(7))
    assert looks == 2  # at once: ECS will not act on a completed deployment
    assert verdict.line() == (
        f"❌ canary failed on {V}: {LAG} {LAG_SHOWN}; ECS did not roll back (its deployment had completed); "
        f"roll back with `python deploy.py app --version {PREVIOUS}`"
    )


def test_stalled_alarm_fails_the_release():
    stalled = AlarmState(
        STALLED, "ALARM", "Threshold Crossed: 10 datapoints [0.0, ...] were less than the threshold (1.0)."
    )
    verdict, _ = judge(look(0), look(11, alarms=[stalled]))
    assert verdict.outcome is Outcome.FAILED
    assert verdict.cause == f"{STALLED} {stalled.reason.removesuffix('.')}"


def test_lag_alarm_during_the_deployment_waits_for_ecs_then_reports_its_rollback():
    firing = [AlarmState(LAG, "ALARM", LAG_REASON)]
    verdict, looks = judge(
        look(0, "IN_PROGRESS"),
        look(1, "IN_PROGRESS", alarms=firing),  # ECS fails the deployment on its next look
        look(2, "ROLLBACK_IN_PROGRESS", alarms=firing, triggered_alarms=(LAG,)),
        look(3, "ROLLBACK_SUCCESSFUL", alarms=firing, triggered_alarms=(LAG,), rolled_back_to=PREVIOUS),
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
    verdict, _ = judge(look(0, failed=1), look(2, failed=3, running=0, desired=1))
    assert verdict.outcome is Outcome.FAILED
    assert verdict.cause == "tasks failing: 2 stopped, 0 of 1 running"


def test_tasks_missing_at_the_end_of_the_window_fail_the_release():
    verdict, _ = judge(look(0), look(15, running=0))
    assert verdict.line() == f"❌ canary failed on {V}: tasks failing: 0 of 1 running"


def test_ctrl_c_detaches_with_what_was_seen_so_far():
    verdict_judge = VerdictJudge(V, WINDOW, RELEASE)
    seen = look(2, lag=40)
    assert verdict_judge.observe(seen) is None
    verdict = verdict_judge.detach(seen, elapsed=130)
    assert verdict.outcome is Outcome.DETACHED
    assert verdict.text() == f"canary on {V} not judged yet: detached after 2m10s (max lag 40, tasks 1/1)"


def test_one_look_judges_the_last_release_for_status():
    healthy = VerdictJudge.at_once(look(125, lag=3), V, RELEASE)
    assert healthy.line() == f"✅ canary healthy on {V} for 2h05m (max lag 3, tasks 1/1)"
    deploying = VerdictJudge.at_once(look(0, "IN_PROGRESS"), V, RELEASE)
    assert deploying.line() == f"⏳ canary on {V}: ECS is still deploying it (tasks 1/1)"


@pytest.mark.parametrize(
    "seconds, text", [(900, "15 min"), (60, "1 min"), (130, "2m10s"), (3, "3s"), (0.4, "0s"), (7500, "2h05m")]
)
def test_durations_read_as_minutes_when_whole(seconds, text):
    assert duration(seconds) == text


def test_ecs_bake_time_is_the_longest_window_of_the_deployment_alarms():
    alarms = CanaryAlarms(cloudwatch=None, names=(LAG, STALLED, TASKS), lag_alarm=LAG)
    alarms.described = {
        LAG: {"EvaluationPeriods": 5, "Metrics": [{"Id": "lag", "Expression": "SELECT ...", "Period": 60}]},
        STALLED: {
            "EvaluationPeriods": 10,
            "Metrics": [{"Id": "s", "Expression": "IF(...)"}, {"Id": "r", "Period": 60}],
        },
        TASKS: {"EvaluationPeriods": 5, "Metrics": [{"Id": "m", "MetricStat": {"Period": 60}}]},
    }
    assert alarms.bake_seconds() == 600
