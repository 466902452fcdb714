"""``vrgtask agenda`` against a mock pyvergeos client (no network).

Tasks and triggers are real pyvergeos model objects; "now" is frozen at
Monday 2026-11-30 09:00:00 UTC and the local time zone is UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from unittest.mock import MagicMock, call

import pytest
from pytest_mock import MockerFixture
from support import Invoke, untouched

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
T0 = int(NOW.timestamp())
HOUR = 3600


pytestmark = pytest.mark.usefixtures("utc", "get_schedule_action")


@pytest.fixture(autouse=True)
def frozen(mocker: MockerFixture) -> None:
    mocker.patch("vrgtask.commands.agenda.local_now", return_value=NOW)
    mocker.patch("vrgtask.timespec.local_now", return_value=NOW)


def times(*offsets: int) -> list[dict[str, int]]:
    """A get_schedule answer as the SDK returns it: dicts with a 'time'."""
    return [{"time": T0 + o} for o in offsets]


@pytest.fixture
def client(
    mock_client: MagicMock,
    make_task: Callable[..., Any],
    make_trigger: Callable[..., Any],
) -> MagicMock:
    """Tasks 100 'nightly-backup' and 101 'report' (enabled); three triggers:
    100 and 101 on schedule 200 'nightly-window', 101 on 201 'hourly'."""
    mock_client.tasks.list.return_value = [
        make_task(),
        make_task(**{"$key": 101, "name": "report"}),
    ]
    mock_client.task_schedule_triggers.list.return_value = [
        make_trigger(),
        make_trigger(**{"$key": 301, "task": 101, "task_display": "report"}),
        make_trigger(
            **{"$key": 302, "task": 101, "task_display": "report", "schedule": 201},
            schedule_display="hourly",
        ),
    ]
    answers = {200: times(17 * HOUR), 201: times(HOUR, 2 * HOUR)}
    mock_client.task_schedules.get_schedule.side_effect = lambda key, **_: answers[key]
    return mock_client


def test_agenda_json_in_time_order_one_request_per_schedule(
    invoke: Invoke, client: MagicMock
) -> None:
    result = invoke("agenda", "-o", "json")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_called_once_with(enabled=True, fields=["$key", "name"])
    client.task_schedule_triggers.list.assert_called_once_with()
    assert client.task_schedules.get_schedule.call_args_list == [
        call(200, max_results=1440, start_time=T0, end_time=T0 + 24 * HOUR),
        call(201, max_results=1440, start_time=T0, end_time=T0 + 24 * HOUR),
    ]
    rows = json.loads(result.stdout)
    assert rows == [
        {
            "time": T0 + HOUR,
            "time_iso": "2026-11-30T10:00:00+00:00",
            "task": "report",
            "task_key": 101,
            "schedule": "hourly",
            "schedule_key": 201,
        },
        {
            "time": T0 + 2 * HOUR,
            "time_iso": "2026-11-30T11:00:00+00:00",
            "task": "report",
            "task_key": 101,
            "schedule": "hourly",
            "schedule_key": 201,
        },
        {
            "time": T0 + 17 * HOUR,
            "time_iso": "2026-12-01T02:00:00+00:00",
            "task": "nightly-backup",
            "task_key": 100,
            "schedule": "nightly-window",
            "schedule_key": 200,
        },
        {
            "time": T0 + 17 * HOUR,
            "time_iso": "2026-12-01T02:00:00+00:00",
            "task": "report",
            "task_key": 101,
            "schedule": "nightly-window",
            "schedule_key": 200,
        },
    ]
    assert result.stderr == ""


def test_agenda_table_shows_local_time_with_weekday(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("agenda")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Time", "Task", "Schedule"]
    assert lines[2].split() == ["Mon", "2026-11-30", "10:00:00", "report", "hourly"]
    assert lines[-1].split() == ["Tue", "2026-12-01", "02:00:00", "report", "nightly-window"]


def test_disabled_schedules_and_tasks_start_nothing(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    client.task_schedule_triggers.list.return_value = [
        make_trigger(sch_enabled=False),  # schedule off
        make_trigger(**{"$key": 303, "task": 999}),  # task 999 is not enabled (not listed)
    ]
    result = invoke("agenda", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    client.task_schedules.get_schedule.assert_not_called()


def test_window_from_hours_and_until(invoke: Invoke, client: MagicMock) -> None:
    assert invoke("agenda", "--hours", "2", "-o", "json").exit_code == 0
    assert client.task_schedules.get_schedule.call_args.kwargs["end_time"] == T0 + 2 * HOUR
    result = invoke("agenda", "--until", "2026-12-01T00:00Z", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert client.task_schedules.get_schedule.call_args.kwargs["end_time"] == T0 + 15 * HOUR
    assert [r["time"] for r in json.loads(result.stdout)] == [T0 + HOUR, T0 + 2 * HOUR]


def test_runs_outside_the_window_are_dropped(invoke: Invoke, client: MagicMock) -> None:
    client.task_schedules.get_schedule.side_effect = lambda key, **_: (
        times(-60, HOUR, 25 * HOUR) if key == 201 else []
    )
    result = invoke("agenda", "-o", "json")
    assert [r["time"] for r in json.loads(result.stdout)] == [T0 + HOUR]


def test_a_schedule_cut_at_limit_is_named(invoke: Invoke, client: MagicMock) -> None:
    client.task_schedules.get_schedule.side_effect = lambda key, **_: (
        times(HOUR, 2 * HOUR, 3 * HOUR) if key == 201 else times(17 * HOUR)
    )
    result = invoke("agenda", "--limit", "2", "-o", "json")
    assert result.exit_code == 0, result.stderr
    # One more than the limit is asked for, to tell "exactly N" from "more than N".
    assert client.task_schedules.get_schedule.call_args_list[1].kwargs["max_results"] == 3
    by_schedule = [r["schedule_key"] for r in json.loads(result.stdout)]
    assert by_schedule.count(201) == 2
    assert "schedule 'hourly' (key 201) has more than 2 runs" in result.stderr
    assert "nightly-window" not in result.stderr


def test_exactly_limit_runs_is_not_a_cut(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("agenda", "--limit", "2", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert len(json.loads(result.stdout)) == 4


def test_unreadable_entries_are_left_out_and_said(invoke: Invoke, client: MagicMock) -> None:
    client.task_schedules.get_schedule.side_effect = lambda key, **_: (
        [{"what": "x", "when": "y"}, *times(HOUR)] if key == 201 else []
    )
    result = invoke("agenda", "-o", "json")
    assert [r["time"] for r in json.loads(result.stdout)] == [T0 + HOUR]
    assert "answered 1 entries that are not times" in result.stderr


def test_one_task(invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]) -> None:
    client.tasks.list.return_value = [make_task(**{"$key": 101, "name": "report"})]
    client.task_schedule_triggers.list.return_value = client.task_schedule_triggers.list()[1:]
    client.reset_mock()
    result = invoke("agenda", "--task", "report", "-o", "json")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_called_once_with(
        filter="name eq 'report'", fields=["$key", "name", "enabled"]
    )
    client.task_schedule_triggers.list.assert_called_once_with(task=101)
    assert {r["task"] for r in json.loads(result.stdout)} == {"report"}


def test_a_disabled_task_has_no_agenda(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.list.return_value = [make_task(enabled=False)]
    result = invoke("agenda", "--task", "nightly-backup", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert "is disabled" in result.stderr
    client.task_schedule_triggers.list.assert_not_called()


def test_an_unknown_task_is_exit_6(invoke: Invoke, client: MagicMock) -> None:
    client.tasks.list.return_value = []
    result = invoke("agenda", "--task", "nope")
    assert result.exit_code == 6
    assert result.stderr == "Error: no task is named 'nope'\n"


def test_empty_agenda_says_so_on_a_table(invoke: Invoke, client: MagicMock) -> None:
    client.task_schedule_triggers.list.return_value = []
    result = invoke("agenda")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.startswith("No runs from Mon 2026-11-30 09:00:00 to ")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--hours", "0"], "--hours"),
        (["--hours", "-3"], "--hours"),
        (["--hours", "two"], "--hours"),
        (["--hours", "1.5"], "--hours"),
        (["--hours", "9000"], "--hours"),
        (["--until", "yesterday"], "--until"),
        (["--until", "2026-11-30T08:00Z"], "--until"),
        (["--until", "soon"], "--until"),
        (["--until", "367d"], "--until"),
        (["--until", "2026-02-30"], "--until"),
        (["--hours", "3", "--until", "2h"], "--hours and --until"),
        (["--limit", "0"], "--limit"),
        (["--limit", "1441"], "--limit"),
        (["--limit", "many"], "--limit"),
        (["--task", ""], "--task"),
        (["--watch", "1"], "--watch"),
        (["--watch", "x"], "--watch"),
        (["--watch", "-5"], "--watch"),
        (["--watch=-5", "--hours", "2"], "--watch"),
        (["--hours", "2", "--watch", "-0.5"], "--watch"),
        (["--watch"], "--watch"),  # no terminal in tests
    ],
)
def test_bad_input_is_exit_2_before_any_request(
    invoke: Invoke, mock_client: MagicMock, args: list[str], option: str
) -> None:
    result = invoke("agenda", *args)
    assert result.exit_code == 2, result.stderr
    assert option in result.stderr
    untouched(mock_client)


def test_watch_redraws_in_place_and_ctrl_c_is_exit_0(
    invoke: Invoke, client: MagicMock, mocker: MockerFixture
) -> None:
    mocker.patch("vrgtask.commands._watch.stdout_is_terminal", return_value=True)
    sleep = mocker.patch(
        "vrgtask.commands._watch.time.sleep", side_effect=[None, KeyboardInterrupt]
    )
    result = invoke("agenda", "--watch", "7")
    assert result.exit_code == 0, result.stderr
    frames = result.stdout.split("\x1b[H\x1b[2J")
    assert frames[0] == ""
    assert len(frames) == 3  # drawn twice, then Ctrl-C during the second pause
    assert frames[1].startswith("Every 7s: vrgtask agenda")
    assert "Mon 2026-11-30 10:00:00  report" in frames[2]
    assert sleep.call_args_list == [call(7.0), call(7.0)]
    assert client.task_schedule_triggers.list.call_count == 2


def test_watch_default_interval_is_5_seconds(
    invoke: Invoke, client: MagicMock, mocker: MockerFixture
) -> None:
    mocker.patch("vrgtask.commands._watch.stdout_is_terminal", return_value=True)
    sleep = mocker.patch("vrgtask.commands._watch.time.sleep", side_effect=KeyboardInterrupt)
    result = invoke("agenda", "--watch", "--hours", "3")
    assert result.exit_code == 0, result.stderr
    sleep.assert_called_once_with(5.0)
    assert client.task_schedules.get_schedule.call_args.kwargs["end_time"] == T0 + 3 * HOUR


def test_each_schedule_is_asked_in_the_documented_action_form(
    invoke: Invoke, client: MagicMock
) -> None:
    result = invoke("agenda", "--hours", "2", "-o", "json")
    assert result.exit_code == 0, result.stderr
    sent = [c.kwargs["json_data"] for c in client._request.call_args_list]
    params = {"max": 1440, "start_time": T0, "end_time": T0 + 2 * HOUR}
    assert sent == [
        {"task_schedule": key, "action": "get_schedule", "params": params} for key in (200, 201)
    ]


def test_help_has_examples(invoke: Invoke) -> None:
    result = invoke("agenda", "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert "vrgtask agenda --until tomorrow" in result.stdout


def test_a_trigger_without_the_schedule_flag_counts_as_enabled(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    from pyvergeos.resources.task_schedule_triggers import TaskScheduleTrigger
    from support import TRIGGER_DATA, sdk_object

    bare = {k: v for k, v in TRIGGER_DATA.items() if k != "sch_enabled"}
    client.task_schedule_triggers.list.return_value = [sdk_object(TaskScheduleTrigger, bare)]
    result = invoke("agenda", "-o", "json")
    assert [r["task_key"] for r in json.loads(result.stdout)] == [100]


def test_an_empty_window_asks_no_schedule(client: MagicMock) -> None:
    from vrgtask.commands.agenda import collect_agenda

    triggers = client.task_schedule_triggers.list.return_value
    agenda = collect_agenda(client, triggers, {100: "nightly-backup"}, T0, T0 - 1, 10)
    assert agenda.rows == []
    client.task_schedules.get_schedule.assert_not_called()


def test_watch_needs_a_terminal_that_can_redraw(
    mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from vrgtask.commands import _watch

    mocker.patch.object(sys.stdout, "isatty", return_value=True)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert _watch.stdout_is_terminal()
    monkeypatch.setenv("TERM", "dumb")
    assert not _watch.stdout_is_terminal()
