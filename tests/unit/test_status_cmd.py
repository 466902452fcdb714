"""``vrgtask status`` against a mock pyvergeos client (no network).

Tasks, schedules, triggers and log entries are real pyvergeos model objects.
"Now" is Monday 2026-11-30 09:00:00 UTC; the local time zone is UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, cast
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture
from support import Invoke, sdk_object

import vrgtask.context
from vrgtask.commands.status import Engine, exit_code_for, find_problems

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
T0 = int(NOW.timestamp())
NO_DAYS = dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), False)


pytestmark = pytest.mark.usefixtures("utc", "get_schedule_action")


@pytest.fixture(autouse=True)
def frozen(mocker: MockerFixture) -> None:
    mocker.patch("vrgtask.commands.status.local_now", return_value=NOW)
    mocker.patch("vrgtask.timespec.local_now", return_value=NOW)


def failure(key: int, name: str, text: str, seconds_ago: int) -> Any:
    from pyvergeos.resources.logs import Log

    data = {
        "$key": key,
        "level": "error",
        "text": f"Task '{name}' failed: {text}",
        "timestamp": (T0 - seconds_ago) * 1_000_000,
        "user": "admin",
        "object_type": "task",
        "object_name": name,
    }
    return sdk_object(Log, data)


@pytest.fixture
def engine(
    mock_client: MagicMock,
    make_task: Callable[..., Any],
    make_schedule: Callable[..., Any],
    make_trigger: Callable[..., Any],
) -> MagicMock:
    """A task engine with one of each finding, a running task and a healthy task."""

    def task(key: int, name: str, **extra: Any) -> Any:
        return make_task(**{"$key": key, "name": name, "events_count": 0, **extra})

    def schedule(key: int, name: str, **extra: Any) -> Any:
        return make_schedule(**{"$key": key, "name": name, **extra})

    def trigger(key: int, task_key: int, schedule_key: int, schedule_name: str) -> Any:
        return make_trigger(
            **{"$key": key, "task": task_key, "schedule": schedule_key},
            schedule_display=schedule_name,
        )

    mock_client.tasks.list.return_value = [
        task(100, "nightly-backup"),
        task(101, "orphan"),
        task(102, "paused", description="its only schedule is off"),
        task(103, "off", enabled=False),
        task(104, "old"),
        task(105, "never"),
        task(106, "busy", status="running", last_run=T0 - 120),
        task(107, "on-login", events_count=1),
    ]
    mock_client.task_schedules.list.return_value = [
        schedule(200, "nightly-window"),
        schedule(201, "paused-window", enabled=False),
        schedule(202, "expired", end_date="2026-01-31"),
        schedule(203, "no-days", **NO_DAYS),
    ]
    triggers = [
        trigger(300, 100, 200, "nightly-window"),
        trigger(301, 102, 201, "paused-window"),
        trigger(302, 103, 200, "nightly-window"),
        trigger(303, 104, 202, "expired"),
        trigger(304, 105, 203, "no-days"),
        trigger(305, 106, 200, "nightly-window"),
    ]
    triggers[1]["sch_enabled"] = False
    mock_client.task_schedule_triggers.list.return_value = triggers
    mock_client.logs.list.return_value = [failure(900, "nightly-backup", "disk full", 3600)]
    answers = {200: [{"time": T0 + 17 * 3600}], 202: [], 203: []}
    mock_client.task_schedules.get_schedule.side_effect = lambda key, **_: answers[key]
    return mock_client


def test_status_json_has_the_four_sections(invoke: Invoke, engine: MagicMock) -> None:
    result = invoke("status", "-o", "json")
    assert result.exit_code == 1, result.stderr  # a failed run is an error
    status = json.loads(result.stdout)
    assert list(status) == ["running", "failed", "upcoming", "findings"]
    assert status["running"] == [
        {"time": T0 - 120, "time_iso": "2026-11-30T08:58:00+00:00", "task": "busy", "task_key": 106}
    ]
    assert status["failed"] == [
        {
            "time": T0 - 3600,
            "time_iso": "2026-11-30T08:00:00+00:00",
            "task": "nightly-backup",
            "task_key": 100,
            "level": "error",
            "text": "Task 'nightly-backup' failed: disk full",
            "user": "admin",
            "log_key": 900,
        }
    ]
    assert [(r["task"], r["schedule"]) for r in status["upcoming"]] == [
        ("busy", "nightly-window"),
        ("nightly-backup", "nightly-window"),
    ]
    assert [(f["severity"], f["kind"]) for f in status["findings"]] == [
        ("error", "schedule_never_fires"),
        ("warning", "trigger_on_disabled_task"),
        ("warning", "all_schedules_disabled"),
        ("warning", "schedule_ended"),
        ("info", "task_without_triggers"),
    ]
    never, disabled_task, all_off, ended, orphan = status["findings"]
    assert never["trigger_key"] == 304
    assert never["task_key"] == 105
    assert never["schedule_key"] == 203
    assert "no weekday is selected" in never["message"]
    assert (disabled_task["trigger_key"], disabled_task["task_key"]) == (302, 103)
    assert all_off["task_key"] == 102
    assert all_off["schedule_keys"] == [201]
    assert all_off["trigger_keys"] == [301]
    assert ended["schedule_key"] == 202
    assert ended["trigger_keys"] == [303]
    assert "ended on 2026-01-31" in ended["message"]
    assert orphan["task_key"] == 101  # 107 has an event: not reported


def test_status_costs_fixed_lists_plus_one_per_schedule(invoke: Invoke, engine: MagicMock) -> None:
    invoke("status", "-o", "json")
    assert engine.tasks.list.call_count == 1
    assert engine.task_schedules.list.call_count == 1
    assert engine.task_schedule_triggers.list.call_count == 1
    assert engine.logs.list.call_count == 1
    asked = [c.args[0] for c in engine.task_schedules.get_schedule.call_args_list]
    # 200 (active triggers of 100 and 106), 202, 203; never 201 (disabled) twice nor per trigger
    assert asked == [200, 202, 203]
    kwargs = engine.logs.list.call_args.kwargs
    assert kwargs["object_type"] == "task"
    assert kwargs["level"] == ["error", "critical"]
    assert kwargs["since"] == NOW - timedelta(hours=24)


def test_fail_on(invoke: Invoke, engine: MagicMock) -> None:
    assert invoke("status", "--fail-on", "never").exit_code == 0
    engine.logs.list.return_value = []
    assert invoke("status").exit_code == 1  # the error finding
    engine.task_schedules.list.return_value = engine.task_schedules.list.return_value[:3]
    assert invoke("status").exit_code == 0  # warnings only
    assert invoke("status", "--fail-on", "warnings").exit_code == 1


def test_exit_code_rules() -> None:
    info = [{"severity": "info"}]
    warning = [{"severity": "warning"}]
    assert exit_code_for([], [], "errors") == 0
    assert exit_code_for([], info, "warnings") == 0
    assert exit_code_for([], warning, "errors") == 0
    assert exit_code_for([], warning, "warnings") == 1
    assert exit_code_for(["failed run"], [], "errors") == 1
    assert exit_code_for(["failed run"], [{"severity": "error"}], "never") == 0


def test_status_table_is_one_screen_of_sections(invoke: Invoke, engine: MagicMock) -> None:
    result = invoke("status")
    assert result.exit_code == 1
    out = result.stdout
    titles = [line for line in out.splitlines() if line and not line.startswith((" ", "-"))]
    assert titles[0] == "Running now (1)"
    assert "Failed since Sun 2026-11-29 09:00:00 (1)" in out
    assert "Next runs (the first 10 of the next 24 hours)" in out
    assert "Findings (5)" in out
    assert "Mon 2026-11-30 08:00:00  nightly-backup  Task 'nightly-backup' failed: disk full" in out
    assert result.stderr == (
        "Status: unhealthy by --fail-on errors: 1 failed run(s), 1 error(s), "
        "3 warning(s), 1 note(s).\n"
    )


def test_a_healthy_engine_exits_0_with_empty_sections(
    invoke: Invoke, mock_client: MagicMock
) -> None:
    mock_client.tasks.list.return_value = []
    mock_client.task_schedules.list.return_value = []
    mock_client.task_schedule_triggers.list.return_value = []
    mock_client.logs.list.return_value = []
    result = invoke("status")
    assert result.exit_code == 0, result.stderr
    assert "Running now (0)\n  none" in result.stdout
    assert "healthy by --fail-on errors" in result.stderr
    mock_client.task_schedules.get_schedule.assert_not_called()
    assert json.loads(invoke("status", "-o", "json").stdout) == {
        "running": [],
        "failed": [],
        "upcoming": [],
        "findings": [],
    }


def test_quiet_prints_nothing_and_query_reads_a_section(invoke: Invoke, engine: MagicMock) -> None:
    quiet = invoke("status", "-q")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (1, "", "")
    query = invoke("status", "-o", "json", "--query", "failed.0.task_key")
    assert query.stdout == "100\n"


def test_since_reaches_the_log_request(invoke: Invoke, engine: MagicMock) -> None:
    assert invoke("status", "--since", "7d", "-o", "json").exit_code == 1
    assert engine.logs.list.call_args.kwargs["since"] == NOW - timedelta(days=7)
    assert invoke("status", "--since", "2026-11-01T00:00Z", "-o", "json").exit_code == 1
    assert engine.logs.list.call_args.kwargs["since"] == datetime(2026, 11, 1, tzinfo=timezone.utc)


def _engine(**changes: Any) -> Engine:
    schedule = {
        "name": "s",
        "enabled": True,
        "repeat_every": "hour",
        "start_time_of_day": 0,
        "end_time_of_day": 86400,
        "start_date": "2026-01-01",
        "end_date": "",
        **dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), True),
        "saturday": True,
        "sunday": True,
    }
    schedule.update(changes)
    return Engine(
        tasks={1: {"name": "t", "enabled": True, "status": "idle", "last_run": 0, "events": 0}},
        schedules={2: schedule},
        triggers=[
            {"key": 3, "task_key": 1, "schedule_key": 2, "schedule": "s", "schedule_enabled": True}
        ],
    )


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({**NO_DAYS, "saturday": False, "sunday": False}, "no weekday"),
        ({"start_time_of_day": 7200, "end_time_of_day": 7200}, "daily window is empty"),
        ({"start_time_of_day": 7200, "end_time_of_day": 3600}, "daily window is empty"),
        ({"start_date": "2026-05-01", "end_date": "2026-04-01"}, "end date is before"),
    ],
)
def test_windows_that_exclude_every_day(changes: dict[str, Any], why: str) -> None:
    (finding,) = [f for f in find_problems(_engine(**changes), NOW) if f["severity"] == "error"]
    assert finding["kind"] == "schedule_never_fires"
    assert why in finding["message"]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"repeat_every": "month", **NO_DAYS, "saturday": False, "sunday": False},
        {"repeat_every": "day", "start_time_of_day": 7200, "end_time_of_day": 3600},
        {"enabled": False, **NO_DAYS, "saturday": False, "sunday": False},
    ],
)
def test_windows_that_do_not(changes: dict[str, Any]) -> None:
    assert not [f for f in find_problems(_engine(**changes), NOW) if f["severity"] == "error"]


@pytest.mark.parametrize(
    ("end_date", "ended"),
    [
        ("2026-11-29", True),
        ("2026-11-30", False),  # runs through its last day
        ("2026-11-30 08:59:00", True),
        ("2026-11-30 09:01:00", False),
        ("", False),
        ("garbage", False),
        (str(T0 - 60), True),
        (str(T0 + 60), False),
    ],
)
def test_schedule_ended(end_date: str, ended: bool) -> None:
    kinds = [f["kind"] for f in find_problems(_engine(end_date=end_date), NOW)]
    assert ("schedule_ended" in kinds) is ended


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--since", "soon"], "--since"),
        (["--since", "0d"], "--since"),
        (["--since", "2999-01-01"], "--since"),
        (["--since", "tomorrow"], "--since"),
        (["--fail-on", "sometimes"], "--fail-on"),
        (["--watch", "0"], "--watch"),
        (["--watch", "nan"], "--watch"),
        (["--watch", "-3"], "--watch"),
        (["--watch"], "--watch"),
    ],
)
def test_bad_input_is_exit_2_before_any_request(
    invoke: Invoke, mock_client: MagicMock, args: list[str], option: str
) -> None:
    result = invoke("status", *args)
    assert result.exit_code == 2, result.stderr
    assert option in result.stderr
    assert mock_client.method_calls == []
    assert not cast(MagicMock, vrgtask.context.build_client).called


def test_watch_ctrl_c_is_exit_0_even_when_unhealthy(
    invoke: Invoke, engine: MagicMock, mocker: MockerFixture
) -> None:
    mocker.patch("vrgtask.commands._watch.stdout_is_terminal", return_value=True)
    mocker.patch("vrgtask.commands._watch.time.sleep", side_effect=KeyboardInterrupt)
    result = invoke("status", "--watch", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("\x1b[H\x1b[2JEvery 2s: vrgtask status")
    assert "Findings (5)" in result.stdout
    assert "Status: unhealthy" in result.stdout  # the summary is part of the frame


def test_help_has_examples(invoke: Invoke) -> None:
    result = invoke("status", "--help")
    assert "Examples:" in result.stdout
    assert "vrgtask status --since 7d --fail-on warnings" in result.stdout


def test_failed_runs_are_newest_first(invoke: Invoke, engine: MagicMock) -> None:
    engine.logs.list.return_value = [
        failure(901, "old", "a", 7200),
        failure(902, "gone", "b", 60),
        failure(903, "nightly-backup", "c", 600),
    ]
    failed = json.loads(invoke("status", "-o", "json").stdout)["failed"]
    assert [(f["log_key"], f["task_key"]) for f in failed] == [(902, None), (903, 100), (901, 104)]


def test_the_schedule_list_decides_what_is_enabled(invoke: Invoke, engine: MagicMock) -> None:
    for trig in engine.task_schedule_triggers.list.return_value:
        trig["sch_enabled"] = True  # a stale flag: the schedules list says 201 is off
    invoke("status", "-o", "json")
    asked = [c.args[0] for c in engine.task_schedules.get_schedule.call_args_list]
    assert asked == [200, 202, 203]


def test_missing_day_flags_are_not_a_finding() -> None:
    engine = _engine()
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        del engine.schedules[2][day]
    del engine.schedules[2]["enabled"]
    assert find_problems(engine, NOW) == []
