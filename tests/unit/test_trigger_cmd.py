"""``vrgtask trigger ...`` against a mock pyvergeos client (no network).

Triggers, tasks and schedules are real pyvergeos model objects built from
dicts (``make_trigger``, ``make_task``, ``make_schedule`` in conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture
from support import TASK_DATA, TRIGGER_DATA, Invoke, untouched

#: The row ``trigger_to_row`` gives for TRIGGER_DATA.
TRIGGER_ROW: dict[str, Any] = {
    "$key": 300,
    "task_key": 100,
    "task_display": "nightly-backup",
    "schedule_key": 200,
    "schedule_display": "nightly-window",
    "schedule_enabled": True,
    "schedule_repeat": "day",
}


@pytest.fixture
def client(
    mock_client: MagicMock, mock_task: Any, mock_task_schedule: Any, mock_task_trigger: Any
) -> MagicMock:
    """Name lookups find the conftest task and schedule; key lookups its trigger."""
    mock_client.tasks.list.return_value = [mock_task]
    mock_client.task_schedules.list.return_value = [mock_task_schedule]
    mock_client.task_schedule_triggers.get.return_value = mock_task_trigger
    mock_client.task_schedule_triggers.list.return_value = [mock_task_trigger]
    return mock_client


# ------------------------------------------------------------------------ list, get, create, delete


def test_trigger_list(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("trigger", "list", "nightly-backup")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_called_once_with(
        filter="name eq 'nightly-backup'", fields=["$key", "name"]
    )
    client.task_schedules.list.assert_not_called()
    client.task_schedule_triggers.list.assert_called_once_with(task=100, schedule=None)
    header, _rule, line = result.stdout.splitlines()
    assert header.split() == ["Key", "Task", "Schedule", "Sch", "Enabled", "Repeat"]
    assert line.split() == ["300", "nightly-backup", "nightly-window", "yes", "day"]


def test_trigger_create(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    client.task_schedule_triggers.create.return_value = make_trigger(**{"$key": 7})
    result = invoke("trigger", "create", "nightly-backup", "--schedule", "nightly-window")
    assert result.exit_code == 0, result.stderr
    client.task_schedule_triggers.create.assert_called_once_with(task=100, schedule=200)
    assert result.stdout == (
        "Created trigger 7 linking task 'nightly-backup' (key 100) "
        "to schedule 'nightly-window' (key 200)\n"
    )


def test_trigger_create_linked_elsewhere_is_reported(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    """The server answered with a trigger of another schedule: exit 1 naming the field."""
    client.task_schedule_triggers.create.return_value = make_trigger(**{"$key": 7, "schedule": 201})
    result = invoke("trigger", "create", "nightly-backup", "--schedule", "nightly-window")
    assert result.exit_code == 1
    assert "did not apply the field schedule (schedule: sent 200, read back 201)" in result.stderr
    assert "vrgtask trigger list 100" in result.stderr


def test_trigger_delete(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("trigger", "delete", "300", "--yes")
    assert result.exit_code == 0, result.stderr
    client.task_schedule_triggers.get.assert_called_once_with(300)
    client.task_schedule_triggers.delete.assert_called_once_with(300)
    assert result.stdout == (
        "Deleted trigger 300 linking task 'nightly-backup' (key 100) "
        "to schedule 'nightly-window' (key 200)\n"
    )


def test_trigger_run(invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]) -> None:
    client.tasks.get.return_value = make_task(status="running")
    client.logs.list.return_value = []
    result = invoke("trigger", "run", "300")
    assert result.exit_code == 0, result.stderr
    client.task_schedule_triggers.get.assert_called_once_with(300)
    client._request.assert_called_once_with(
        "POST",
        "task_schedule_trigger_actions",
        json_data={"task_schedule_trigger": 300, "action": "trigger", "params": {}},
    )
    client.task_schedule_triggers.trigger.assert_not_called()
    assert client.tasks.get.call_count == 2  # before (status, last run) and after
    client.tasks.execute.assert_not_called()
    assert result.stdout == (
        "Triggered trigger 300: task 'nightly-backup' (key 100) started (it is running)\n"
    )


# ----------------------------------------------------------------------------- list


def test_trigger_list_all(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("trigger", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_not_called()
    client.task_schedules.list.assert_not_called()
    client.task_schedule_triggers.list.assert_called_once_with(task=None, schedule=None)
    assert json.loads(result.stdout) == [TRIGGER_ROW]


def test_trigger_list_by_schedule(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("trigger", "list", "--schedule", "200", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_schedules.list.assert_called_once_with(
        filter="(name eq '200') or ($key eq 200)", fields=["$key", "name", "enabled"]
    )
    client.task_schedule_triggers.list.assert_called_once_with(task=None, schedule=200)
    assert result.stdout == "300\n"


def test_trigger_list_task_and_schedule(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("trigger", "list", "100", "--schedule", "nightly-window")
    assert result.exit_code == 0, result.stderr
    client.task_schedule_triggers.list.assert_called_once_with(task=100, schedule=200)


def test_trigger_list_empty(invoke: Invoke, client: MagicMock) -> None:
    client.task_schedule_triggers.list.return_value = []
    result = invoke("trigger", "list", "nightly-backup")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No triggers found." in result.stderr


def test_trigger_list_unknown_task(invoke: Invoke, client: MagicMock) -> None:
    client.tasks.list.return_value = []
    result = invoke("trigger", "list", "nope")
    assert result.exit_code == 6
    client.task_schedule_triggers.list.assert_not_called()


# ----------------------------------------------------------------------------- create


def test_trigger_create_ambiguous_task(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.list.return_value = [make_task(), make_task(**{"$key": 101})]
    result = invoke("trigger", "create", "nightly-backup", "--schedule", "nightly-window")
    assert result.exit_code == 7
    assert "2 tasks are named 'nightly-backup'" in result.stderr
    assert "key 100" in result.stderr
    assert "key 101" in result.stderr
    client.task_schedule_triggers.create.assert_not_called()


def test_trigger_create_unknown_schedule(invoke: Invoke, client: MagicMock) -> None:
    client.task_schedules.list.return_value = []
    result = invoke("trigger", "create", "nightly-backup", "--schedule", "no-such")
    assert result.exit_code == 6
    assert "no schedule is named 'no-such'" in result.stderr
    client.task_schedule_triggers.create.assert_not_called()


def test_trigger_create_by_keys_json(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    client.task_schedule_triggers.create.return_value = make_trigger(**{"$key": 7})
    result = invoke("trigger", "create", "100", "--schedule", "200", "-o", "json")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_called_once_with(
        filter="(name eq '100') or ($key eq 100)", fields=["$key", "name"]
    )
    client.task_schedule_triggers.create.assert_called_once_with(task=100, schedule=200)
    assert json.loads(result.stdout) == {**TRIGGER_ROW, "$key": 7}


def test_trigger_create_query_key(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    client.task_schedule_triggers.create.return_value = make_trigger(**{"$key": 7})
    result = invoke(
        "trigger", "create", "nightly-backup", "--schedule", "nightly-window", "--query", "$key"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "7\n"


def test_trigger_create_quiet(
    invoke: Invoke, client: MagicMock, make_trigger: Callable[..., Any]
) -> None:
    client.task_schedule_triggers.create.return_value = make_trigger(**{"$key": 7})
    result = invoke("trigger", "create", "nightly-backup", "--schedule", "nightly-window", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_schedule_triggers.create.assert_called_once()
    assert result.stdout == ""


def test_trigger_create_requires_schedule(invoke: Invoke, mock_client: MagicMock) -> None:
    result = invoke("trigger", "create", "nightly-backup")
    assert result.exit_code == 2
    assert "'--schedule'" in result.stderr
    untouched(mock_client)


# ----------------------------------------------------------------------------- delete


@pytest.mark.parametrize("command", ["delete", "run"])
@pytest.mark.parametrize("value", ["-5", "abc", "0", "1.5", " "])
def test_trigger_key_validation(
    invoke: Invoke, mock_client: MagicMock, command: str, value: str
) -> None:
    result = invoke("trigger", command, value, "--yes" if command == "delete" else "-q")
    assert result.exit_code == 2
    assert "Error" in result.stderr
    untouched(mock_client)


def test_trigger_delete_without_yes_and_terminal_is_refused(
    invoke: Invoke, client: MagicMock
) -> None:
    result = invoke("trigger", "delete", "300")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert "Delete trigger 300 linking task 'nightly-backup'" in result.stderr
    client.task_schedule_triggers.get.assert_called_once_with(300)
    client.task_schedule_triggers.delete.assert_not_called()


def test_trigger_delete_json(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("trigger", "delete", "300", "-y", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {**TRIGGER_ROW, "deleted": True}


def test_trigger_delete_quiet(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("trigger", "delete", "300", "-y", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_schedule_triggers.delete.assert_called_once_with(300)
    assert result.stdout == ""


def test_trigger_delete_not_found(invoke: Invoke, client: MagicMock) -> None:
    from pyvergeos.exceptions import NotFoundError

    client.task_schedule_triggers.get.side_effect = NotFoundError("not found", 404)
    result = invoke("trigger", "delete", "999", "--yes")
    assert result.exit_code == 6
    client.task_schedule_triggers.delete.assert_not_called()


# ----------------------------------------------------------------------------- run


def test_trigger_run_json_says_how_the_start_was_seen(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.get.side_effect = [make_task(last_run=5), make_task(last_run=9)]
    client.logs.list.return_value = []
    result = invoke("trigger", "run", "300", "-o", "json")
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)
    assert (row["$key"], row["name"], row["status"]) == (100, "nightly-backup", "idle")
    assert (row["run"], row["started_by"], row["last_run"]) == ("started", "last_run", 9)


def test_trigger_run_wait(invoke: Invoke, client: MagicMock, mocker: MockerFixture) -> None:
    from fake_runs import FakeRun

    fake = FakeRun(fail="owner is gone")
    fake.attach(client)
    mocker.patch("vrgtask.runs.CLOCK", fake.clock)
    mocker.patch("vrgtask.runs.SLEEP", fake.sleep)
    result = invoke("trigger", "run", "300", "--wait")
    assert result.exit_code == 1
    assert "failed; task log: Task 'nightly-backup' failed: owner is gone" in result.stderr
    assert fake.requests[0][1] == "task_schedule_trigger_actions"


def test_trigger_run_quiet(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.get.return_value = make_task(status="running")
    client.logs.list.return_value = []
    result = invoke("trigger", "run", "300", "-q")
    assert result.exit_code == 0, result.stderr
    client._request.assert_called_once()
    assert result.stdout == ""


def test_trigger_run_not_found(invoke: Invoke, client: MagicMock) -> None:
    from pyvergeos.exceptions import NotFoundError

    client.task_schedule_triggers.get.side_effect = NotFoundError("not found", 404)
    result = invoke("trigger", "run", "999")
    assert result.exit_code == 6
    client._request.assert_not_called()
    client.tasks.get.assert_not_called()


# ----------------------------------------------------------------------------- help, links


@pytest.mark.parametrize("command", ["list", "create", "delete", "run"])
def test_trigger_help_has_examples(invoke: Invoke, command: str) -> None:
    result = invoke("trigger", command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"vrgtask trigger {command}" in result.stdout


def test_trigger_reached_under_task(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("task", "trigger", "list", "nightly-backup", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "300\n"
    client.task_schedule_triggers.list.assert_called_once_with(task=100, schedule=None)


def test_task_data_matches_trigger_fixture() -> None:
    """The trigger fixture links the conftest's task (key 100, same name)."""
    assert TASK_DATA["$key"] == TRIGGER_DATA["task"]
    assert TASK_DATA["name"] == TRIGGER_DATA["task_display"]
