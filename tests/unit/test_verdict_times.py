"""How long until the canary's verdict on AWS (canary_deploy/model/verdict_times.py), computed from the app
template's own settings: the generated template's defaults, other parameter values, and the docs' table."""

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from canary_deploy.model.verdict_times import (
    TASK_START_SECONDS,
    AppSettings,
    DeploymentAlarm,
    settings_of,
    upper_bound,
    verdict_times,
)
from canary_deploy.render.verdict_times import deadline_lines, verdict_times_table
from contract import APP_STACK, TEMPLATE_FILES

ROOT = Path(__file__).resolve().parents[2]
APP_TEMPLATE = json.loads((ROOT / "output" / TEMPLATE_FILES["app"]).read_text())


def seconds_by_failure(parameters=None, stack_name=APP_STACK):
    times = verdict_times(settings_of(APP_TEMPLATE, parameters or {}, stack_name))
    return {row.failure: row.seconds for row in times}, times


def test_the_template_defaults_give_each_failure_its_deadline():
    settings = settings_of(APP_TEMPLATE, {}, APP_STACK)
    assert (settings.desired, settings.breaker_threshold, settings.bake_seconds) == (1, 3, 600)
    assert [alarm.name for alarm in settings.alarms] == [
        "AppStack-consumer-lag",
        "AppStack-consumer-stalled",
        "AppStack-tasks-below-desired",
    ]
    assert settings.health_check == {"Interval": 30, "Timeout": 5, "Retries": 3, "StartPeriod": 60}
    seconds, times = seconds_by_failure()
    start = TASK_START_SECONDS
    assert seconds == {
        "none (a healthy release)": start + 35 + 30 + 600,  # health check, old task stops, bake
        "the task crashes at start": 3 * start,  # the old task still runs: nothing to roll back
        "the task never passes its health check": 3 * (start + 60 + 3 * 35 + 30),
        "the consumer lags": start + 6 * 60 + start + 35,  # LagMinutes + its evaluation, then the rollback
        "the consumer stalls": start + 11 * 60 + start + 35,
        "the app exits later": None,  # replaced before tasks-below-desired's 5 minutes
        "no task runs at all": 6 * 60,
    }
    assert upper_bound(times) == 3 * (start + 60 + 3 * 35 + 30)


def test_the_deadlines_follow_the_parameters_and_the_stack_name():
    seconds, times = seconds_by_failure(
        {"StalledMinutes": "20", "LagMinutes": "2", "DesiredCount": "10"}, stack_name="Canary2"
    )
    assert seconds["the consumer stalls"] == TASK_START_SECONDS + 21 * 60 + TASK_START_SECONDS + 35
    assert seconds["the consumer lags"] == TASK_START_SECONDS + 3 * 60 + TASK_START_SECONDS + 35
    # 10 desired: 5 failed tasks trip the breaker, all in the first round of starts; MinimumHealthyPercent 50
    # lets ECS stop 5 of the old tasks meanwhile, which the rollback starts again.
    assert seconds["the task crashes at start"] == TASK_START_SECONDS + TASK_START_SECONDS + 35
    healthy = next(row for row in times if row.failure == "none (a healthy release)")
    assert "bake 20 min" in healthy.how
    assert next(row for row in times if row.failure == "the consumer lags").judge.startswith("Canary2-consumer-lag")


def test_an_alarm_whose_window_outlasts_ecs_bake_is_no_rollback():
    five_minutes = DeploymentAlarm("AppStack-consumer-lag", period=300, evaluation_periods=2, datapoints=2)
    settings = AppSettings(
        desired=1,
        minimum_healthy_percent=50,
        circuit_breaker=True,
        alarms=(five_minutes,),
        health_check={"Interval": 30, "Timeout": 5, "Retries": 3, "StartPeriod": 0},
        stop_timeout=30,
    )
    (lag,) = [row for row in verdict_times(settings) if row.failure == "the consumer lags"]
    assert lag.seconds == TASK_START_SECONDS + 3 * 300  # two breaching periods and the evaluation: after the bake
    assert "ECS does not roll back" in lag.judge
    without_breaker = verdict_times(replace(settings, circuit_breaker=False))
    assert next(row for row in without_breaker if row.failure == "the task crashes at start").seconds is None


def test_docs_show_the_table_of_the_generated_template():
    table = "\n".join(verdict_times_table(verdict_times(settings_of(APP_TEMPLATE, {}, APP_STACK))))
    assert (
        f"<!-- verdict-times:begin -->\n{table}\n<!-- verdict-times:end -->"
        in (ROOT / "docs" / "verdict.md").read_text()
    )


def test_deadlines_read_as_clock_times_from_the_deployment_start():
    _, times = seconds_by_failure()
    lines = deadline_lines(times, datetime(2026, 12, 2, 14, 17, 5, tzinfo=UTC), UTC)
    assert lines[0].startswith("Verdict by 14:32:50 at the latest (its deployment started 14:17:05;")
    assert any(
        line.startswith("  the consumer lags") and "by 14:27:40: AppStack-consumer-lag" in line for line in lines
    )
    assert any("within 6 min after the last task stops: AppStack-tasks-below-desired" in line for line in lines)
