"""``vrgtask schedule ...`` against a mock pyvergeos client (no network).

Schedules are real pyvergeos ``TaskSchedule`` objects built from dicts like
conftest's ``make_schedule``; the mock client only stands in for the
managers, so every assertion is about what the command asked the SDK for and
what it printed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from unittest.mock import MagicMock

import pytest
from support import Invoke, untouched

pytestmark = pytest.mark.usefixtures("get_schedule_action")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: The row ``schedule_to_row`` gives for SCHEDULE_DATA.
SCHEDULE_ROW: dict[str, Any] = {
    "$key": 200,
    "name": "nightly-window",
    "description": "Nightly maintenance window",
    "enabled": True,
    "repeat_every": "day",
    "repeat_display": "Day(s)",
    "repeat_iteration": 1,
    "start_date": "2026-01-01",
    "end_date": "",
    "start_time_of_day": 7200,
    "start_time_display": "02:00",
    "end_time_of_day": 14400,
    "end_time_display": "04:00",
    "day_of_month": "start_date",
    "active_days": "Monday, Tuesday, Wednesday, Thursday, Friday",
}

# 2026-11-27 is a Friday.
FRI_0200_UTC = int(datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc).timestamp())
SAT_0200_UTC = FRI_0200_UTC + 86400


@pytest.fixture
def client(mock_client: MagicMock, mock_task_schedule: Any) -> MagicMock:
    """A client whose name lookups find the conftest schedule."""
    mock_client.task_schedules.list.return_value = [mock_task_schedule]
    return mock_client


def local_epoch(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0
) -> int:
    """Epoch seconds of a wall-clock time in the local zone."""
    return int(datetime(year, month, day, hour, minute, sec).astimezone().timestamp())


def sent(mock: MagicMock) -> dict[str, Any]:
    """Keyword arguments of the only call of ``mock``."""
    mock.assert_called_once()
    return dict(mock.call_args.kwargs)


# ------------------------------------------------------------------------ list, get, create, change


def test_schedule_list(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("schedule", "list")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.list.assert_called_once_with(filter=None, enabled=None, repeat_every=None)
    header, _rule, line = result.stdout.splitlines()
    assert header.split() == ["Key", "Name", "Repeat", "Every", "N", "Enabled", "Days"]
    assert line.split() == ["200", "nightly-window", "Day(s)", "1", "yes", "weekdays"]


def test_schedule_list_enabled(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("schedule", "list", "--enabled", "-o", "json")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.list.assert_called_once_with(filter=None, enabled=True, repeat_every=None)
    assert json.loads(result.stdout) == [SCHEDULE_ROW]


def test_schedule_list_disabled_and_filter(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("schedule", "list", "--disabled", "--filter", "name bw 'n'", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.list.assert_called_once_with(
        filter="name bw 'n'", enabled=False, repeat_every=None
    )
    assert result.stdout == "200\n"


def test_schedule_list_by_repeat(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("schedule", "list", "--repeat-every", "day")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.list.assert_called_once_with(
        filter=None, enabled=None, repeat_every="day"
    )
    assert "nightly-window" in result.stdout


def test_schedule_list_empty(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.task_schedules.list.return_value = []
    result = invoke("schedule", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No schedules found." in result.stderr


def test_schedule_get(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("schedule", "get", "nightly-window", "-o", "json")
    assert result.exit_code == 0, result.stderr
    # One server-side query by name, with the manager's default projection.
    client.task_schedules.list.assert_called_once_with(
        filter="name eq 'nightly-window'", fields=None
    )
    assert json.loads(result.stdout) == SCHEDULE_ROW


def test_schedule_get_by_key_table(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("schedule", "get", "200")
    assert result.exit_code == 0, result.stderr
    assert client.task_schedules.list.call_args.kwargs["filter"] == (
        "(name eq '200') or ($key eq 200)"
    )
    lines = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
    assert "02:00" in lines["Start Time"]
    assert "04:00" in lines["End Time"]
    assert "weekdays" in lines["Days"]


def test_schedule_get_not_found(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.task_schedules.list.return_value = []
    result = invoke("schedule", "get", "missing")
    assert result.exit_code == 6
    assert "no schedule is named 'missing'" in result.stderr


def test_schedule_get_ambiguous(
    invoke: Invoke, mock_client: MagicMock, make_schedule: Callable[..., Any]
) -> None:
    mock_client.task_schedules.list.return_value = [
        make_schedule(),
        make_schedule(**{"$key": 201}),
    ]
    result = invoke("schedule", "get", "nightly-window")
    assert result.exit_code == 7
    assert "key 200" in result.stderr
    assert "key 201" in result.stderr


def test_schedule_create_basic(
    invoke: Invoke, mock_client: MagicMock, make_schedule: Callable[..., Any]
) -> None:
    mock_client.task_schedules.create.return_value = make_schedule(
        **{"$key": 201, "name": "hourly", "repeat_every": "hour"}
    )
    result = invoke("schedule", "create", "--name", "hourly")
    assert result.exit_code == 0, result.stderr
    mock_client.task_schedules.create.assert_called_once_with(
        name="hourly",
        description=None,
        enabled=True,
        repeat_every="hour",
        repeat_iteration=1,
        start_date=None,
        end_date=None,
        start_time_of_day=0,
        end_time_of_day=86400,
        day_of_month="start_date",
        monday=True,
        tuesday=True,
        wednesday=True,
        thursday=True,
        friday=True,
        saturday=True,
        sunday=True,
    )
    assert result.stdout == "Created schedule 'hourly' (key 201)\n"


def test_schedule_create_daily(
    invoke: Invoke, mock_client: MagicMock, mock_task_schedule: Any
) -> None:
    mock_client.task_schedules.create.return_value = mock_task_schedule
    result = invoke(
        "schedule",
        "create",
        "--name",
        "nightly-window",
        "--description",
        "Nightly maintenance window",
        "--repeat-every",
        "day",
        "--start-time",
        "02:00",
        "--end-time",
        "14400",
        "--start-date",
        "2026-01-01",
        "--end-date",
        "2026-12-31",
        "--disabled",
    )
    assert result.exit_code == 0, result.stderr
    kwargs = sent(mock_client.task_schedules.create)
    assert kwargs["repeat_every"] == "day"
    assert kwargs["start_time_of_day"] == 7200
    assert kwargs["end_time_of_day"] == 14400
    assert kwargs["start_date"] == "2026-01-01"
    assert kwargs["end_date"] == "2026-12-31"
    assert kwargs["enabled"] is False
    assert kwargs["description"] == "Nightly maintenance window"
    assert "Created schedule 'nightly-window' (key 200)" in result.stdout


def test_schedule_create_weekly(
    invoke: Invoke, mock_client: MagicMock, mock_task_schedule: Any
) -> None:
    mock_client.task_schedules.create.return_value = mock_task_schedule
    result = invoke(
        "schedule",
        "create",
        "--name",
        "weekend-off",
        "--repeat-every",
        "week",
        "--repeat-iteration",
        "2",
        "--no-saturday",
        "--no-sunday",
        "--day-of-month",
        "first",
    )
    assert result.exit_code == 0, result.stderr
    kwargs = sent(mock_client.task_schedules.create)
    assert kwargs["repeat_every"] == "week"
    assert kwargs["repeat_iteration"] == 2
    assert kwargs["day_of_month"] == "first"
    assert {day: kwargs[day] for day in WEEKDAYS} == {
        "monday": True,
        "tuesday": True,
        "wednesday": True,
        "thursday": True,
        "friday": True,
        "saturday": False,
        "sunday": False,
    }


def test_schedule_update(
    invoke: Invoke, client: MagicMock, make_schedule: Callable[..., Any]
) -> None:
    client.task_schedules.update.return_value = make_schedule(repeat_every="week")
    result = invoke(
        "schedule", "update", "nightly-window", "--repeat-every", "week", "--days", "mon,wed,fri"
    )
    assert result.exit_code == 0, result.stderr
    client.task_schedules.update.assert_called_once_with(
        200,
        repeat_every="week",
        monday=True,
        tuesday=False,
        wednesday=True,
        thursday=False,
        friday=True,
        saturday=False,
        sunday=False,
    )
    assert result.stdout == "Updated schedule 'nightly-window' (key 200)\n"


def test_schedule_delete(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("schedule", "delete", "nightly-window", "--yes")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.delete.assert_called_once_with(200)
    client.task_schedule_triggers.list.assert_not_called()
    assert result.stdout == "Deleted schedule 'nightly-window' (key 200)\n"


def test_schedule_enable(
    invoke: Invoke, client: MagicMock, make_schedule: Callable[..., Any]
) -> None:
    client.task_schedules.enable.return_value = make_schedule(enabled=True)
    result = invoke("schedule", "enable", "nightly-window")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.enable.assert_called_once_with(200)
    client.task_schedules.disable.assert_not_called()
    assert result.stdout == "Enabled schedule 'nightly-window' (key 200)\n"


def test_schedule_disable(
    invoke: Invoke, client: MagicMock, make_schedule: Callable[..., Any]
) -> None:
    client.task_schedules.disable.return_value = make_schedule(enabled=False)
    result = invoke("schedule", "disable", "nightly-window", "-o", "json")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.disable.assert_called_once_with(200)
    client.task_schedules.enable.assert_not_called()
    assert json.loads(result.stdout) == {**SCHEDULE_ROW, "enabled": False}


def test_schedule_show(invoke: Invoke, client: MagicMock, berlin: None) -> None:
    client.task_schedules.get_schedule.return_value = [FRI_0200_UTC, SAT_0200_UTC]
    result = invoke("schedule", "show", "nightly-window")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.get_schedule.assert_called_once_with(
        200, max_results=20, start_time=None, end_time=None
    )
    lines = result.stdout.splitlines()
    assert lines[0].strip() == "Scheduled Time"
    assert lines[2:] == [
        "2026-11-27 03:00:00 CET (Friday)",
        "2026-11-28 03:00:00 CET (Saturday)",
    ]


def test_schedule_show_max_results(invoke: Invoke, client: MagicMock) -> None:
    client.task_schedules.get_schedule.return_value = [FRI_0200_UTC]
    result = invoke("schedule", "show", "nightly-window", "--max-results", "5", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.get_schedule.assert_called_once_with(
        200, max_results=5, start_time=None, end_time=None
    )
    assert result.stdout == f"{FRI_0200_UTC}\n"


# ----------------------------------------------------------------------------- times of day


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("7200", 7200),
        ("86400", 86400),
        ("02:00", 7200),
        ("2:30", 9000),
        ("00:00:30", 30),
        ("23:59:59", 86399),
        ("24:00", 86400),
        ("24:00:00", 86400),
    ],
)
def test_schedule_create_start_time_forms(
    invoke: Invoke,
    mock_client: MagicMock,
    mock_task_schedule: Any,
    text: str,
    seconds: int,
) -> None:
    mock_client.task_schedules.create.return_value = mock_task_schedule
    result = invoke("schedule", "create", "--name", "n", "--start-time", text)
    assert result.exit_code == 0, result.stderr
    assert sent(mock_client.task_schedules.create)["start_time_of_day"] == seconds


def test_schedule_create_end_time_hhmm(
    invoke: Invoke, mock_client: MagicMock, mock_task_schedule: Any
) -> None:
    mock_client.task_schedules.create.return_value = mock_task_schedule
    result = invoke("schedule", "create", "--name", "n", "--end-time", "18:30")
    assert result.exit_code == 0, result.stderr
    assert sent(mock_client.task_schedules.create)["end_time_of_day"] == 18 * 3600 + 1800


def test_schedule_create_end_equal_start_is_accepted(
    invoke: Invoke, mock_client: MagicMock, mock_task_schedule: Any
) -> None:
    mock_client.task_schedules.create.return_value = mock_task_schedule
    result = invoke(
        "schedule", "create", "--name", "n", "--start-time", "10:00", "--end-time", "36000"
    )
    assert result.exit_code == 0, result.stderr


def test_schedule_update_end_before_current_start(invoke: Invoke, client: MagicMock) -> None:
    # The schedule currently starts at 02:00 (7200).
    result = invoke("schedule", "update", "nightly-window", "--end-time", "01:00")
    assert result.exit_code == 2
    assert "'--end-time'" in result.stderr
    assert "current start time 02:00" in result.stderr
    # The schedule was read once (default projection, for its times), never written.
    client.task_schedules.list.assert_called_once_with(
        filter="name eq 'nightly-window'", fields=None
    )
    client.task_schedules.update.assert_not_called()


def test_schedule_update_start_after_current_end(invoke: Invoke, client: MagicMock) -> None:
    # The schedule currently ends at 04:00 (14400).
    result = invoke("schedule", "update", "nightly-window", "--start-time", "05:00")
    assert result.exit_code == 2
    assert "'--start-time'" in result.stderr
    assert "current end time 04:00" in result.stderr
    client.task_schedules.update.assert_not_called()


def test_schedule_update_end_after_current_start(
    invoke: Invoke, client: MagicMock, mock_task_schedule: Any
) -> None:
    client.task_schedules.update.return_value = mock_task_schedule
    result = invoke("schedule", "update", "nightly-window", "--end-time", "06:00")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.update.assert_called_once_with(200, end_time_of_day=21600)


def test_schedule_update_both_times_override_current(
    invoke: Invoke, client: MagicMock, mock_task_schedule: Any
) -> None:
    client.task_schedules.update.return_value = mock_task_schedule
    # Both given: the current 02:00-04:00 window does not matter.
    result = invoke(
        "schedule", "update", "nightly-window", "--start-time", "20:00", "--end-time", "24:00"
    )
    assert result.exit_code == 0, result.stderr
    client.task_schedules.update.assert_called_once_with(
        200, start_time_of_day=72000, end_time_of_day=86400
    )


# ----------------------------------------------------------------------------- dates, iteration


def test_schedule_update_end_date_before_current_start_date(
    invoke: Invoke, client: MagicMock
) -> None:
    # The schedule currently starts on 2026-01-01.
    result = invoke("schedule", "update", "nightly-window", "--end-date", "2025-12-31")
    assert result.exit_code == 2
    assert "'--end-date'" in result.stderr
    assert "2026-01-01" in result.stderr
    client.task_schedules.update.assert_not_called()


# ----------------------------------------------------------------------------- days


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        ("weekdays", {"monday", "tuesday", "wednesday", "thursday", "friday"}),
        ("weekend", {"saturday", "sunday"}),
        ("all", set(WEEKDAYS)),
        ("mon,wed,fri", {"monday", "wednesday", "friday"}),
        ("Tuesday, THU", {"tuesday", "thursday"}),
        ("sun", {"sunday"}),
        ("weekend,mon", {"saturday", "sunday", "monday"}),
    ],
)
def test_schedule_create_days(
    invoke: Invoke,
    mock_client: MagicMock,
    mock_task_schedule: Any,
    spec: str,
    days: set[str],
) -> None:
    mock_client.task_schedules.create.return_value = mock_task_schedule
    result = invoke("schedule", "create", "--name", "n", "--days", spec)
    assert result.exit_code == 0, result.stderr
    kwargs = sent(mock_client.task_schedules.create)
    assert {day: kwargs[day] for day in WEEKDAYS} == {day: day in days for day in WEEKDAYS}


def test_schedule_update_single_day_flag_sends_only_that_day(
    invoke: Invoke, client: MagicMock, mock_task_schedule: Any
) -> None:
    client.task_schedules.update.return_value = mock_task_schedule
    result = invoke("schedule", "update", "nightly-window", "--no-friday")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.update.assert_called_once_with(200, friday=False)


# ----------------------------------------------------------------------------- update


def test_schedule_update_sends_only_given_fields(
    invoke: Invoke, client: MagicMock, make_schedule: Callable[..., Any]
) -> None:
    client.task_schedules.update.return_value = make_schedule(name="renamed", enabled=False)
    result = invoke(
        "schedule",
        "update",
        "200",
        "--name",
        "renamed",
        "--description",
        "",
        "--enabled",
        "false",
        "--repeat-iteration",
        "3",
        "--day-of-month",
        "last",
        "--start-date",
        "2026-03-01",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    client.task_schedules.update.assert_called_once_with(
        200,
        name="renamed",
        description="",
        enabled=False,
        repeat_iteration=3,
        day_of_month="last",
        start_date="2026-03-01",
    )
    row = json.loads(result.stdout)
    assert row["name"] == "renamed"
    assert row["enabled"] is False


def test_schedule_update_quiet(invoke: Invoke, client: MagicMock, mock_task_schedule: Any) -> None:
    client.task_schedules.update.return_value = mock_task_schedule
    result = invoke("schedule", "update", "nightly-window", "--description", "x", "--quiet")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.update.assert_called_once_with(200, description="x")
    assert result.stdout == ""


# ----------------------------------------------------------------------------- create output


def test_schedule_create_json_and_query(
    invoke: Invoke, mock_client: MagicMock, mock_task_schedule: Any
) -> None:
    mock_client.task_schedules.create.return_value = mock_task_schedule
    result = invoke("schedule", "create", "--name", "nightly-window", "-o", "json")
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)
    assert set(row) == set(SCHEDULE_ROW)
    assert (row["$key"], row["name"], row["repeat_every"]) == (200, "nightly-window", "hour")
    result = invoke("schedule", "create", "--name", "nightly-window", "--query", "$key")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "200\n"


def test_schedule_create_quiet(
    invoke: Invoke, mock_client: MagicMock, mock_task_schedule: Any
) -> None:
    mock_client.task_schedules.create.return_value = mock_task_schedule
    result = invoke("schedule", "create", "--name", "nightly-window", "-q")
    assert result.exit_code == 0, result.stderr
    mock_client.task_schedules.create.assert_called_once()
    assert result.stdout == ""


# ----------------------------------------------------------------------------- delete


def test_schedule_delete_with_triggers_is_conflict(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    from pyvergeos.exceptions import ConflictError

    client.task_schedules.delete.side_effect = ConflictError("schedule is in use", 409)
    client.task_schedule_triggers.list.return_value = [
        make_trigger(),
        make_trigger(**{"$key": 301, "task": 101, "task_display": "weekly-report"}),
    ]
    result = invoke("schedule", "delete", "nightly-window", "--yes")
    assert result.exit_code == 7
    assert result.stdout == ""
    message = result.stderr
    assert "schedule 'nightly-window' (key 200) was not deleted" in message
    assert "2 triggers still link tasks to it" in message
    assert "trigger 300 (task 'nightly-backup', key 100)" in message
    assert "trigger 301 (task 'weekly-report', key 101)" in message
    assert "vrgtask trigger delete" in message
    client.task_schedules.delete.assert_called_once_with(200)
    client.task_schedule_triggers.list.assert_called_once_with(schedule=200)
    client.task_schedule_triggers.delete.assert_not_called()


def test_schedule_delete_with_one_trigger(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    from pyvergeos.exceptions import ConflictError

    client.task_schedules.delete.side_effect = ConflictError("in use", 409)
    client.task_schedule_triggers.list.return_value = [make_trigger()]
    result = invoke("schedule", "delete", "nightly-window", "--yes")
    assert result.exit_code == 7
    assert "1 trigger still links a task to it" in result.stderr
    assert "vrgtask trigger delete 300" in result.stderr


def test_schedule_delete_with_many_triggers_lists_ten(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    from pyvergeos.exceptions import ConflictError

    client.task_schedules.delete.side_effect = ConflictError("in use", 409)
    client.task_schedule_triggers.list.return_value = [
        make_trigger(**{"$key": 400 + n}) for n in range(12)
    ]
    result = invoke("schedule", "delete", "nightly-window", "--yes")
    assert result.exit_code == 7
    assert "12 triggers still link tasks to it" in result.stderr
    assert "trigger 409 " in result.stderr
    assert "trigger 410 " not in result.stderr
    assert "and 2 more" in result.stderr


def test_schedule_delete_conflict_when_triggers_cannot_be_listed(
    invoke: Invoke, client: MagicMock
) -> None:
    from pyvergeos.exceptions import ConflictError, VergeConnectionError

    client.task_schedules.delete.side_effect = ConflictError("schedule is in use", 409)
    client.task_schedule_triggers.list.side_effect = VergeConnectionError("connection reset")
    result = invoke("schedule", "delete", "nightly-window", "--yes")
    assert result.exit_code == 7
    assert "schedule is in use" in result.stderr
    assert "vrgtask trigger list --schedule 200" in result.stderr
    client.task_schedules.delete.assert_called_once_with(200)


def test_schedule_delete_conflict_without_triggers(invoke: Invoke, client: MagicMock) -> None:
    from pyvergeos.exceptions import ConflictError

    client.task_schedules.delete.side_effect = ConflictError("locked by the system", 409)
    client.task_schedule_triggers.list.return_value = []
    result = invoke("schedule", "delete", "nightly-window", "--yes")
    assert result.exit_code == 7
    assert "locked by the system" in result.stderr
    client.task_schedules.delete.assert_called_once_with(200)


def test_schedule_delete_without_yes_and_terminal_is_refused(
    invoke: Invoke, client: MagicMock
) -> None:
    result = invoke("schedule", "delete", "nightly-window")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    client.task_schedules.delete.assert_not_called()


def test_schedule_delete_json_and_quiet(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("schedule", "delete", "nightly-window", "-y", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"$key": 200, "name": "nightly-window", "deleted": True}
    result = invoke("schedule", "delete", "nightly-window", "-y", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert client.task_schedules.delete.call_count == 2


def test_schedule_delete_not_found(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.task_schedules.list.return_value = []
    result = invoke("schedule", "delete", "gone", "--yes")
    assert result.exit_code == 6
    mock_client.task_schedules.delete.assert_not_called()


# ----------------------------------------------------------------------------- show


def expected_run(epoch: int) -> dict[str, Any]:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc).astimezone()
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    return {
        "execution_time": moment.isoformat(),
        "weekday": names[moment.weekday()],
        "epoch": epoch,
    }


NAIVE_LOCAL = local_epoch(2026, 11, 27, 2, 0)


@pytest.mark.parametrize(
    ("response", "epochs"),
    [
        pytest.param([FRI_0200_UTC, SAT_0200_UTC], [FRI_0200_UTC, SAT_0200_UTC], id="ints"),
        pytest.param([FRI_0200_UTC + 0.75], [FRI_0200_UTC], id="float"),
        pytest.param(
            [str(FRI_0200_UTC), f" {SAT_0200_UTC} "], [FRI_0200_UTC, SAT_0200_UTC], id="numeric-str"
        ),
        pytest.param([FRI_0200_UTC * 1000], [FRI_0200_UTC], id="milliseconds"),
        pytest.param(["2026-11-27T02:00:00Z"], [FRI_0200_UTC], id="iso-z"),
        pytest.param(["2026-11-27T03:00:00+01:00"], [FRI_0200_UTC], id="iso-offset"),
        pytest.param(["2026-11-27 02:00:00+0000"], [FRI_0200_UTC], id="iso-space-offset"),
        pytest.param(["2026-11-27T02:00"], [NAIVE_LOCAL], id="iso-naive-local"),
        pytest.param([{"time": FRI_0200_UTC, "seq": 1}], [FRI_0200_UTC], id="dict-time"),
        pytest.param([{"timestamp": FRI_0200_UTC, "seq": 1}], [FRI_0200_UTC], id="dict-timestamp"),
        pytest.param([{"epoch": str(FRI_0200_UTC), "seq": 1}], [FRI_0200_UTC], id="dict-epoch-str"),
        pytest.param(
            [{"start": FRI_0200_UTC, "end": SAT_0200_UTC}], [FRI_0200_UTC], id="dict-start"
        ),
        pytest.param(
            [{"start_time": FRI_0200_UTC, "seq": 1}], [FRI_0200_UTC], id="dict-start_time"
        ),
        pytest.param([{"run_time": FRI_0200_UTC, "seq": 1}], [FRI_0200_UTC], id="dict-run_time"),
        pytest.param(
            [{"execution_time": FRI_0200_UTC, "seq": 1}], [FRI_0200_UTC], id="dict-execution_time"
        ),
        pytest.param([{"datetime": "2026-11-27T02:00:00Z"}], [FRI_0200_UTC], id="dict-datetime"),
        pytest.param([{"date": "2026-11-27"}], [local_epoch(2026, 11, 27)], id="dict-date"),
        pytest.param(
            [{"label": "nightly", "at": FRI_0200_UTC}], [FRI_0200_UTC], id="dict-one-number"
        ),
        pytest.param([{"schedule": [{"time": FRI_0200_UTC}]}], [FRI_0200_UTC], id="wrapped-list"),
        pytest.param([{"schedule": {"time": FRI_0200_UTC}}], [FRI_0200_UTC], id="wrapped-dict"),
        pytest.param([{"times": FRI_0200_UTC, "max": 20}], [FRI_0200_UTC], id="wrapped-scalar"),
        pytest.param([], [], id="empty"),
    ],
)
def test_schedule_show_response_shapes(
    invoke: Invoke, client: MagicMock, response: list[Any], epochs: list[int]
) -> None:
    client.task_schedules.get_schedule.return_value = response
    result = invoke("schedule", "show", "nightly-window", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [expected_run(epoch) for epoch in epochs]


def test_schedule_show_entries_without_offset_are_local(
    invoke: Invoke, client: MagicMock, berlin: None
) -> None:
    client.task_schedules.get_schedule.return_value = [
        "2026-11-27T03:00:00",
        {"date": "2026-11-28"},
    ]
    result = invoke("schedule", "show", "nightly-window", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [row["epoch"] for row in json.loads(result.stdout)] == [
        FRI_0200_UTC,
        FRI_0200_UTC - 3 * 3600 + 86400,
    ]


def test_schedule_show_sandbox_answer_as_sent(invoke: Invoke, client: MagicMock) -> None:
    """The sandbox's ``{"schedule": [{"time": ...}]}`` answer to the documented action form."""
    client._request.side_effect = None
    client._request.return_value = {"schedule": [{"time": FRI_0200_UTC}, {"time": SAT_0200_UTC}]}
    result = invoke("schedule", "show", "nightly-window", "--max-results", "2", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [row["epoch"] for row in json.loads(result.stdout)] == [FRI_0200_UTC, SAT_0200_UTC]
    client._request.assert_called_once_with(
        "POST",
        "task_schedule_actions",
        json_data={"task_schedule": 200, "action": "get_schedule", "params": {"max": 2}},
    )


def test_schedule_show_garbage_entries_are_shown_raw(
    invoke: Invoke, client: MagicMock, berlin: None
) -> None:
    client.task_schedules.get_schedule.return_value = [
        "not a time",
        {"what": "ever", "note": "x"},
        None,
        [1, 2],
        True,
        float("nan"),
        "9" * 40,
        FRI_0200_UTC,
    ]
    result = invoke("schedule", "show", "nightly-window", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["execution_time"] for row in rows[:7]] == [
        "not a time",
        '{"note": "x", "what": "ever"}',
        "null",
        "[1, 2]",
        "true",
        "NaN",
        "9" * 40,
    ]
    assert all(row["epoch"] is None and row["weekday"] is None for row in rows[:7])
    assert rows[7]["epoch"] == FRI_0200_UTC
    table = invoke("schedule", "show", "nightly-window")
    assert table.exit_code == 0, table.stderr
    assert "not a time" in table.stdout
    assert "2026-11-27 03:00:00 CET (Friday)" in table.stdout


def test_schedule_show_wide_has_weekday_and_epoch(
    invoke: Invoke, client: MagicMock, berlin: None
) -> None:
    client.task_schedules.get_schedule.return_value = [{"time": FRI_0200_UTC}]
    result = invoke("schedule", "show", "nightly-window", "-o", "wide")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "2026-11-27",
        "03:00:00",
        "CET",
        "(Friday)",
        "Friday",
        str(FRI_0200_UTC),
    ]


def test_schedule_show_json_in_summer_time(invoke: Invoke, client: MagicMock, berlin: None) -> None:
    summer = int(datetime(2026, 7, 1, 0, 30, tzinfo=timezone.utc).timestamp())
    client.task_schedules.get_schedule.return_value = [summer]
    result = invoke("schedule", "show", "nightly-window", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"execution_time": "2026-07-01T02:30:00+02:00", "weekday": "Wednesday", "epoch": summer}
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected_start", "expected_end"),
    [
        pytest.param(
            "2026-12-24",
            "2026-12-31 23:59",
            local_epoch(2026, 12, 24),
            local_epoch(2026, 12, 31, 23, 59),
            id="date-and-space",
        ),
        pytest.param(
            "2026-12-24T08:15:30",
            "2026-12-24T09:00",
            local_epoch(2026, 12, 24, 8, 15, 30),
            local_epoch(2026, 12, 24, 9, 0),
            id="iso-local",
        ),
        pytest.param(
            "2026-12-24T10:00:00+02:00",
            "2026-12-24T10:00:00Z",
            int(datetime(2026, 12, 24, 8, 0, tzinfo=timezone.utc).timestamp()),
            int(datetime(2026, 12, 24, 10, 0, tzinfo=timezone.utc).timestamp()),
            id="offsets",
        ),
    ],
)
def test_schedule_show_window_conversion(
    invoke: Invoke,
    client: MagicMock,
    start: str,
    end: str,
    expected_start: int,
    expected_end: int,
) -> None:
    client.task_schedules.get_schedule.return_value = []
    result = invoke("schedule", "show", "nightly-window", "--start-time", start, "--end-time", end)
    assert result.exit_code == 0, result.stderr
    client.task_schedules.get_schedule.assert_called_once_with(
        200, max_results=20, start_time=expected_start, end_time=expected_end
    )
    assert "No upcoming runs" in result.stderr


def test_schedule_show_window_is_local_time(
    invoke: Invoke, client: MagicMock, berlin: None
) -> None:
    client.task_schedules.get_schedule.return_value = []
    result = invoke(
        "schedule",
        "show",
        "nightly-window",
        "--start-time",
        "2026-12-24",
        "--end-time",
        "2026-07-01 12:00",
    )
    assert result.exit_code == 2  # July is before December
    result = invoke(
        "schedule",
        "show",
        "nightly-window",
        "--start-time",
        "2026-07-01 12:00",
        "--end-time",
        "2026-12-24",
    )
    assert result.exit_code == 0, result.stderr
    client.task_schedules.get_schedule.assert_called_once_with(
        200,
        max_results=20,
        start_time=int(datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc).timestamp()),
        end_time=int(datetime(2026, 12, 23, 23, 0, tzinfo=timezone.utc).timestamp()),
    )


def test_schedule_show_start_only(invoke: Invoke, client: MagicMock) -> None:
    client.task_schedules.get_schedule.return_value = []
    result = invoke("schedule", "show", "nightly-window", "--start-time", "2027-01-01")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.get_schedule.assert_called_once_with(
        200, max_results=20, start_time=local_epoch(2027, 1, 1), end_time=None
    )


def test_schedule_show_disabled_schedule_notes_it(
    invoke: Invoke, mock_client: MagicMock, make_schedule: Callable[..., Any]
) -> None:
    mock_client.task_schedules.list.return_value = [make_schedule(enabled=False)]
    mock_client.task_schedules.get_schedule.return_value = [FRI_0200_UTC]
    result = invoke("schedule", "show", "nightly-window", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert "is disabled" in result.stderr
    assert len(json.loads(result.stdout)) == 1


# ----------------------------------------------------------------------------- helpers, help, links


def test_schedule_row_tolerates_null_columns(
    invoke: Invoke, mock_client: MagicMock, make_schedule: Callable[..., Any]
) -> None:
    mock_client.task_schedules.list.return_value = [
        make_schedule(
            start_time_of_day=None,
            end_time_of_day=None,
            end_date=None,
            description=None,
            repeat_iteration=None,
        )
    ]
    result = invoke("schedule", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)[0]
    assert row["start_time_of_day"] == 0
    assert row["end_time_display"] == "24:00"
    assert row["end_date"] == ""
    assert row["description"] == ""
    assert row["repeat_iteration"] == 1


@pytest.mark.parametrize(
    "command", ["list", "get", "create", "update", "delete", "enable", "disable", "show"]
)
def test_schedule_help_has_examples(invoke: Invoke, command: str) -> None:
    result = invoke("schedule", command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"vrgtask schedule {command}" in result.stdout


def test_schedule_reached_under_task(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("task", "schedule", "list", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "200\n"
    result = invoke("task", "schedule", "--help")
    assert result.exit_code == 0
    assert "show" in result.stdout


# ----------------------------------------------------------------------------- bad values

#: Every value ``schedule`` refuses before any request: (arguments, what stderr names).
BAD_VALUES: list[tuple[tuple[str, ...], str]] = [
    (("list", "--enabled", "--disabled"), "mutually exclusive"),
    (("create", "--name", "  "), "'--name'"),
    *[
        (("create", "--name", "n", option, value), f"'{option}'")
        for option in ("--start-time", "--end-time")
        for value in ("25:00", "12:60", "10:00:60", "-1", "86401", "24:00:01", "noon")
    ],
    *[
        (("update", "nightly-window", "--start-time", value), "'--start-time'")
        for value in ("25:00", "-1", "86401")
    ],
    (("create", "--name", "n", "--start-time", "10:00", "--end-time", "09:30"), "09:30"),
    (("update", "nightly-window", "--start-time", "05:00", "--end-time", "04:00"), "'--end-time'"),
    *[
        (("create", "--name", "n", option, value), f"'{option}'")
        for option in ("--start-date", "--end-date")
        for value in ("2026-02-30", "2026-13-01", "2026/01/01", "01-02-2026", "soon")
    ],
    (
        ("create", "--name", "n", "--start-date", "2026-06-01", "--end-date", "2026-05-31"),
        "'--end-date'",
    ),
    *[
        ((*target, "--repeat-iteration", value), "'--repeat-iteration'")
        for target in (("create", "--name", "n"), ("update", "nightly-window"))
        for value in ("0", "-3", "x")
    ],
    *[
        (("create", "--name", "n", "--days", spec), "'--days'")
        for spec in ("mon,funday", "", ",", "mo", "weekday")
    ],
    *[
        ((*target, "--days", "weekdays", flag), f"--days cannot be combined with {flag}")
        for target in (("create", "--name", "n"), ("update", "nightly-window"))
        for flag in ("--monday", "--no-sunday")
    ],
    (("update", "nightly-window"), "nothing to change"),
    (
        (
            "show",
            "nightly-window",
            "--start-time",
            "2026-12-24T10:00",
            "--end-time",
            "2026-12-24T09:59",
        ),
        "'--end-time'",
    ),
    *[
        (("show", "nightly-window", option, value), f"'{option}'")
        for option in ("--start-time", "--end-time")
        for value in (
            "tomorrow",
            "2026-02-30",
            "2026-12-24T25:00",
            "2026-12-24T10:00+25:00",
            "1795000000",
        )
    ],
    *[
        (("show", "nightly-window", "--max-results", value), "'--max-results'")
        for value in ("0", "1441", "-2")
    ],
]


@pytest.mark.parametrize(("args", "named"), BAD_VALUES, ids=" ".join)
def test_schedule_bad_value_is_usage_error_before_any_request(
    invoke: Invoke, mock_client: MagicMock, args: tuple[str, ...], named: str
) -> None:
    result = invoke("schedule", *args)
    assert result.exit_code == 2, result.stderr
    assert named in result.stderr
    untouched(mock_client)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"end_time": 3600},
            "Invalid value for '--end-time': 01:00 (3600s) is before the schedule's current "
            "start time 02:00 (7200s); give --start-time too",
        ),
        (
            {"start_time": 18000},
            "Invalid value for '--start-time': 05:00 (18000s) is after the schedule's current "
            "end time 04:00 (14400s); give --end-time too",
        ),
        (
            {"end_date": "2026-01-01"},
            "Invalid value for '--end-date': 2026-01-01 is before the schedule's current start "
            "date 2026-02-01; give --start-date too",
        ),
        (
            {"start_date": "2026-04-01"},
            "Invalid value for '--start-date': 2026-04-01 is after the schedule's current end "
            "date 2026-03-01; give --end-date too",
        ),
    ],
)
def test_one_end_of_a_window_must_not_cross_the_current_other(
    given: dict[str, Any], message: str
) -> None:
    import click

    from vrgtask.commands.schedule import _check_against_current

    current = {
        "start_time_of_day": 7200,
        "end_time_of_day": 14400,
        "start_date": "2026-02-01",
        "end_date": "2026-03-01",
    }
    found = MagicMock()
    found.get.side_effect = current.get
    ends = dict.fromkeys(("start_time", "end_time", "start_date", "end_date"))
    with pytest.raises(click.BadParameter) as refused:
        _check_against_current(found, **{**ends, **given})
    assert refused.value.format_message() == message
