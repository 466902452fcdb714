"""``vrgtask event ...`` against a mock pyvergeos client (no network).

Events and tasks are real pyvergeos ``TaskEvent`` / ``Task`` objects built
from dicts; the mock client only stands in for the managers, so every
assertion is about what the command asked the SDK for and what it printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any, cast
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture
from support import EVENT_DATA, TASK_DATA, Invoke, sdk_object, untouched

#: What ``event_to_row`` makes of EVENT_DATA.
EVENT_ROW: dict[str, Any] = {
    "$key": 400,
    "task_key": 100,
    "task_display": "nightly-backup",
    "event": "login",
    "event_name": "Login",
    "table": "users",
    "owner": "users/3",
    "owner_display": "ops",
    "table_event_filters": None,
    "context": None,
}

BAD_KEYS = ["-5", "abc", "0", "1.5", " "]
BAD_JSON = ["{", "[1, 2]", "null", '"text"', "{'single': 1}"]


@pytest.fixture
def client(mock_client: MagicMock, mock_task: Any, make_event: Callable[..., Any]) -> MagicMock:
    """Task name lookups find the conftest's task; event reads find EVENT_DATA."""
    mock_client.tasks.list.return_value = [mock_task]
    mock_client.task_events.get.return_value = make_event()
    mock_client.task_events.list.return_value = [make_event()]
    return mock_client


@pytest.fixture
def base_create(mocker: MockerFixture, make_event: Callable[..., Any]) -> MagicMock:
    """The generic ``ResourceManager.create`` the command posts with (a receipt back)."""
    from pyvergeos.resources.task_events import TaskEvent

    receipt = sdk_object(TaskEvent, {"$key": 401, "location": "/v4/task_events/401"}, [])
    return cast(
        MagicMock,
        mocker.patch("pyvergeos.resources.base.ResourceManager.create", return_value=receipt),
    )


# ----------------------------------------------------------------------------- list


def test_list_all(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "list")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_not_called()
    client.task_events.list.assert_called_once_with(filter=None, task=None, table=None, event=None)
    header, _rule, line = result.stdout.splitlines()
    assert header.split() == ["Key", "Task", "Event", "Table", "Owner"]
    assert line.split() == ["400", "nightly-backup", "Login", "users", "ops"]


def test_list_wide_shows_reference_filters_and_context(
    invoke: Invoke, client: MagicMock, make_event: Callable[..., Any]
) -> None:
    client.task_events.list.return_value = [
        make_event(table_event_filters={"level": "critical"}, context={"vm": "web-01"})
    ]
    result = invoke("event", "list", "-o", "wide")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0]
    for title in ("Owner Ref", "Filters", "Context", "Event ID"):
        assert title in header
    assert "users/3" in result.stdout
    assert '{"level": "critical"}' in result.stdout
    assert '{"vm": "web-01"}' in result.stdout


def test_list_by_task_resolves_it_once(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "list", "--task", "nightly-backup", "-o", "json")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_called_once_with(
        filter="name eq 'nightly-backup'", fields=["$key", "name"]
    )
    client.task_events.list.assert_called_once_with(filter=None, task=100, table=None, event=None)
    assert json.loads(result.stdout) == [EVENT_ROW]


def test_list_by_owner_reference_compares_the_whole_reference(
    invoke: Invoke, client: MagicMock
) -> None:
    result = invoke("event", "list", "--owner", "users/3", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_events.list.assert_called_once_with(
        filter="owner eq 'users/3'", task=None, table=None, event=None
    )
    assert result.stdout == "400\n"


def test_list_by_bare_owner_key_takes_the_table(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "list", "--owner", "3", "--table", "users", "--event", "login")
    assert result.exit_code == 0, result.stderr
    client.task_events.list.assert_called_once_with(
        filter="owner eq 'users/3'", task=None, table="users", event="login"
    )


def test_list_owner_reference_is_quoted(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "list", "--owner", "vm_recipes/o'{x}")
    assert result.exit_code == 0, result.stderr
    client.task_events.list.assert_called_once_with(
        filter="owner eq 'vm_recipes/o\\'\\{x}'", task=None, table=None, event=None
    )


def test_list_bare_owner_key_needs_table(invoke: Invoke, mock_client: MagicMock) -> None:
    result = invoke("event", "list", "--owner", "3")
    assert result.exit_code == 2
    assert "--table" in result.stderr
    assert "users/3" in result.stderr
    untouched(mock_client)


@pytest.mark.parametrize(
    "owner", ["users/", "/3", "users/0", "abc", "0", "-1", "users/3/4", "a b/3"]
)
def test_list_bad_owner_is_a_usage_error(
    invoke: Invoke, mock_client: MagicMock, owner: str
) -> None:
    result = invoke("event", "list", "--owner", owner, "--table", "users")
    assert result.exit_code == 2
    assert "'--owner'" in result.stderr
    untouched(mock_client)


def test_list_empty_table_is_a_usage_error(invoke: Invoke, mock_client: MagicMock) -> None:
    result = invoke("event", "list", "--table", " ")
    assert result.exit_code == 2
    assert "'--table'" in result.stderr
    untouched(mock_client)


def test_list_empty(invoke: Invoke, client: MagicMock) -> None:
    client.task_events.list.return_value = []
    result = invoke("event", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No event triggers found." in result.stderr


def test_list_unknown_task_exits_6(invoke: Invoke, client: MagicMock) -> None:
    client.tasks.list.return_value = []
    result = invoke("event", "list", "--task", "nope")
    assert result.exit_code == 6
    assert "no task is named 'nope'" in result.stderr
    client.task_events.list.assert_not_called()


def test_list_ambiguous_task_exits_7(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.list.return_value = [make_task(), make_task(**{"$key": 101})]
    result = invoke("event", "list", "--task", "nightly-backup")
    assert result.exit_code == 7
    assert "key 100" in result.stderr
    assert "key 101" in result.stderr
    client.task_events.list.assert_not_called()


def test_list_falls_back_to_task_name(
    invoke: Invoke, client: MagicMock, make_event: Callable[..., Any]
) -> None:
    client.task_events.list.return_value = [make_event(task_display="")]
    result = invoke("event", "list", "-o", "json")
    assert json.loads(result.stdout)[0]["task_display"] == "nightly-backup"


# ----------------------------------------------------------------------------- get


def test_get(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "get", "400")
    assert result.exit_code == 0, result.stderr
    client.task_events.get.assert_called_once_with(400)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Field", "Value"]
    assert "Owner Ref" in result.stdout
    assert "users/3" in result.stdout


def test_get_json(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "get", "400", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == EVENT_ROW


def test_get_not_found(invoke: Invoke, client: MagicMock) -> None:
    from pyvergeos.exceptions import NotFoundError

    client.task_events.get.side_effect = NotFoundError("Task event 999 not found", 404)
    result = invoke("event", "get", "999")
    assert result.exit_code == 6
    assert "not found" in result.stderr


@pytest.mark.parametrize("command", ["get", "update", "delete", "trigger"])
@pytest.mark.parametrize("value", BAD_KEYS)
def test_key_validation(invoke: Invoke, mock_client: MagicMock, command: str, value: str) -> None:
    extra = {"update": ["--context-json", "{}"], "delete": ["--yes"]}.get(command, [])
    result = invoke("event", command, *extra, "--", value)
    assert result.exit_code == 2
    assert "Invalid value for 'KEY'" in result.stderr
    untouched(mock_client)


# ----------------------------------------------------------------------------- create


def test_create(
    invoke: Invoke, client: MagicMock, base_create: MagicMock, make_event: Callable[..., Any]
) -> None:
    client.task_events.get.return_value = make_event(**{"$key": 401})
    result = invoke("event", "create", "nightly-backup", "--owner", "users/3", "--event", "login")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_called_once_with(
        filter="name eq 'nightly-backup'", fields=["$key", "name"]
    )
    base_create.assert_called_once_with(
        client.task_events, task=100, owner="users/3", table="users", event="login"
    )
    client.task_events.create.assert_not_called()  # it drops the owner
    client.task_events.get.assert_called_once_with(401)
    assert result.stdout == (
        "Created event 401 (Login on users) for users/3 ('ops') "
        "running task 'nightly-backup' (key 100)\n"
    )


def test_create_every_option(
    invoke: Invoke, client: MagicMock, base_create: MagicMock, make_event: Callable[..., Any]
) -> None:
    created = make_event(
        **{"$key": 401, "owner": "alarms/1", "owner_display": "a1", "table": "alarms"},
        event="raised",
        event_name="Alarm raised",
        table_event_filters={"level": "critical"},
        context={"why": "alarm"},
    )
    client.task_events.get.return_value = created
    result = invoke(
        "event", "create", "100", "--owner", "1", "--table", "alarms", "--event", "raised",
        "--event-name", "Alarm raised", "--filters-json", '{"level": "critical"}',
        "--context-json", '{"why": "alarm"}', "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    base_create.assert_called_once_with(
        client.task_events,
        task=100,
        owner="alarms/1",
        table="alarms",
        event="raised",
        event_name="Alarm raised",
        table_event_filters={"level": "critical"},
        context={"why": "alarm"},
    )
    row = json.loads(result.stdout)
    assert row["$key"] == 401
    assert row["table_event_filters"] == {"level": "critical"}
    assert row["context"] == {"why": "alarm"}
    assert row["owner"] == "alarms/1"


def test_create_owner_not_applied_is_reported(
    invoke: Invoke, client: MagicMock, base_create: MagicMock, make_event: Callable[..., Any]
) -> None:
    """The server took the owner but kept the task's: exit 1 naming the field."""
    client.task_events.get.return_value = make_event(**{"$key": 401, "owner": "vms/1"})
    result = invoke("event", "create", "100", "--owner", "users/3", "--event", "login")
    assert result.exit_code == 1
    assert "did not apply the field owner" in result.stderr
    assert 'sent "users/3", read back "vms/1"' in result.stderr
    assert "vrgtask event get 401" in result.stderr
    assert result.stdout == ""


def test_create_without_owner_lets_the_platform_fill_it(
    invoke: Invoke, client: MagicMock, base_create: MagicMock, make_event: Callable[..., Any]
) -> None:
    client.task_events.create.return_value = make_event(
        **{"$key": 402, "owner": "vms/1", "table": "alarms", "event": "raised"}
    )
    result = invoke(
        "event", "create", "100", "--table", "alarms", "--event", "raised", "-o", "json"
    )
    assert result.exit_code == 0, result.stderr
    client.task_events.create.assert_called_once_with(
        task=100,
        event="raised",
        table="alarms",
        event_name=None,
        table_event_filters=None,
        context=None,
    )
    base_create.assert_not_called()
    assert json.loads(result.stdout)["owner"] == "vms/1"


def test_create_table_may_differ_from_the_owners(
    invoke: Invoke, client: MagicMock, base_create: MagicMock, make_event: Callable[..., Any]
) -> None:
    client.task_events.get.return_value = make_event(owner="vms/1", table="alarms", event="raised")
    result = invoke(
        "event", "create", "nightly-backup", "--owner", "vms/1", "--table", "alarms",
        "--event", "raised", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert base_create.call_args.kwargs["owner"] == "vms/1"
    assert base_create.call_args.kwargs["table"] == "alarms"
    assert result.stdout == ""


def test_create_query_key(
    invoke: Invoke, client: MagicMock, base_create: MagicMock, make_event: Callable[..., Any]
) -> None:
    client.task_events.get.return_value = make_event(**{"$key": 401})
    result = invoke(
        "event", "create", "nightly-backup", "--owner", "users/3", "--event", "login",
        "--query", "$key",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "401\n"


def test_create_without_key_in_receipt(
    invoke: Invoke, client: MagicMock, mocker: MockerFixture
) -> None:
    from pyvergeos.resources.task_events import TaskEvent

    mocker.patch(
        "pyvergeos.resources.base.ResourceManager.create",
        return_value=sdk_object(TaskEvent, {"location": "/v4/task_events"}, []),
    )
    result = invoke("event", "create", "nightly-backup", "--owner", "users/3", "--event", "login")
    assert result.exit_code == 1
    assert "did not return its key" in result.stderr
    client.task_events.get.assert_not_called()


def test_create_ambiguous_task(
    invoke: Invoke, client: MagicMock, base_create: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.list.return_value = [make_task(), make_task(**{"$key": 101})]
    result = invoke("event", "create", "nightly-backup", "--owner", "users/3", "--event", "login")
    assert result.exit_code == 7
    base_create.assert_not_called()


def test_create_unknown_task(invoke: Invoke, client: MagicMock, base_create: MagicMock) -> None:
    client.tasks.list.return_value = []
    result = invoke("event", "create", "ghost", "--owner", "users/3", "--event", "login")
    assert result.exit_code == 6
    base_create.assert_not_called()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nightly-backup", "--event", "login"], "'--table'"),
        (["nightly-backup", "--owner", "users/3"], "'--event'"),
        (["--owner", "users/3", "--event", "login"], "'TASK'"),
        (["nightly-backup", "--owner", "3", "--event", "login"], "--table"),
        (["nightly-backup", "--owner", "users/1 2", "--event", "login"], "'--owner'"),
        (["nightly-backup", "--owner", "users/3", "--event", " "], "'--event'"),
        (["nightly-backup", "--owner", "users/3", "--event", "login", "--table", ""], "'--table'"),
        (
            ["nightly-backup", "--owner", "users/3", "--event", "login", "--event-name", ""],
            "'--event-name'",
        ),
    ],
)
def test_create_usage_errors(
    invoke: Invoke, mock_client: MagicMock, base_create: MagicMock, args: list[str], named: str
) -> None:
    result = invoke("event", "create", *args)
    assert result.exit_code == 2
    assert named in result.stderr
    untouched(mock_client)
    base_create.assert_not_called()


@pytest.mark.parametrize("option", ["--filters-json", "--context-json"])
@pytest.mark.parametrize("value", BAD_JSON)
def test_create_bad_json(
    invoke: Invoke, mock_client: MagicMock, base_create: MagicMock, option: str, value: str
) -> None:
    result = invoke(
        "event", "create", "nightly-backup", "--owner", "users/3", "--event", "login", option, value
    )
    assert result.exit_code == 2
    assert f"'{option}'" in result.stderr
    untouched(mock_client)
    base_create.assert_not_called()


# ----------------------------------------------------------------------------- update


def test_update(invoke: Invoke, client: MagicMock, make_event: Callable[..., Any]) -> None:
    client.task_events.update.return_value = make_event(context={"reason": "x"})
    result = invoke("event", "update", "400", "--context-json", '{"reason": "x"}')
    assert result.exit_code == 0, result.stderr
    client.task_events.update.assert_called_once_with(
        400, table_event_filters=None, context={"reason": "x"}
    )
    assert result.stdout == "Updated event 400 (Login on users)\n"


def test_update_json(invoke: Invoke, client: MagicMock, make_event: Callable[..., Any]) -> None:
    client.task_events.update.return_value = make_event(
        table_event_filters={"level": "x"}, context={"a": 1}
    )
    result = invoke(
        "event", "update", "400", "--filters-json", '{"level": "x"}', "--context-json", '{"a": 1}',
        "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    client.task_events.update.assert_called_once_with(
        400, table_event_filters={"level": "x"}, context={"a": 1}
    )
    assert json.loads(result.stdout) == {
        **EVENT_ROW,
        "table_event_filters": {"level": "x"},
        "context": {"a": 1},
    }


def test_update_quiet(invoke: Invoke, client: MagicMock, make_event: Callable[..., Any]) -> None:
    client.task_events.update.return_value = make_event()
    result = invoke("event", "update", "400", "--filters-json", "{}", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_events.update.assert_called_once_with(400, table_event_filters={}, context=None)
    assert result.stdout == ""


def test_update_needs_a_change(invoke: Invoke, mock_client: MagicMock) -> None:
    result = invoke("event", "update", "400")
    assert result.exit_code == 2
    assert "--filters-json" in result.stderr
    assert "--context-json" in result.stderr
    untouched(mock_client)


@pytest.mark.parametrize("option", ["--filters-json", "--context-json"])
def test_update_bad_json(invoke: Invoke, mock_client: MagicMock, option: str) -> None:
    result = invoke("event", "update", "400", option, "[]")
    assert result.exit_code == 2
    assert f"'{option}'" in result.stderr
    untouched(mock_client)


def test_update_not_found(invoke: Invoke, client: MagicMock) -> None:
    from pyvergeos.exceptions import NotFoundError

    client.task_events.update.side_effect = NotFoundError("Not found: task_events/9", 404)
    result = invoke("event", "update", "9", "--context-json", "{}")
    assert result.exit_code == 6


# ----------------------------------------------------------------------------- delete


def test_delete(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "delete", "400", "--yes")
    assert result.exit_code == 0, result.stderr
    client.task_events.get.assert_called_once_with(400)
    client.task_events.delete.assert_called_once_with(400)
    assert result.stdout == (
        "Deleted event 400 (Login on users) that ran task 'nightly-backup' (key 100)\n"
    )


def test_delete_without_yes_and_terminal_is_refused(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "delete", "400")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert "Delete event 400 (Login on users) that runs task 'nightly-backup'" in result.stderr
    client.task_events.delete.assert_not_called()


def test_delete_json(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "delete", "400", "-y", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {**EVENT_ROW, "deleted": True}


def test_delete_quiet(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("event", "delete", "400", "-y", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_events.delete.assert_called_once_with(400)
    assert result.stdout == ""


def test_delete_not_found(invoke: Invoke, client: MagicMock) -> None:
    from pyvergeos.exceptions import NotFoundError

    client.task_events.get.side_effect = NotFoundError("Task event 9 not found", 404)
    result = invoke("event", "delete", "9", "--yes")
    assert result.exit_code == 6
    client.task_events.delete.assert_not_called()


# ----------------------------------------------------------------------------- trigger


def action_calls(client: MagicMock) -> list[tuple[str, str, Any]]:
    """(method, endpoint, body) of every request sent through ``client._request``."""
    return [
        (c.args[0], c.args[1], c.kwargs.get("json_data")) for c in client._request.call_args_list
    ]


def test_trigger(invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]) -> None:
    client.tasks.get.return_value = make_task(status="running")
    client.logs.list.return_value = []
    result = invoke("event", "trigger", "400")
    assert result.exit_code == 0, result.stderr
    client.task_events.get.assert_called_once_with(400)
    assert action_calls(client) == [
        ("POST", "task_event_actions", {"task_event": 400, "action": "trigger", "params": {}})
    ]
    client.task_events.trigger.assert_not_called()
    client.tasks.execute.assert_not_called()
    assert result.stdout == (
        "Triggered event 400 (Login on users): task 'nightly-backup' (key 100) started "
        "(it is running)\n"
    )


def test_trigger_with_context_json(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.get.return_value = make_task(status="running")
    client.logs.list.return_value = []
    result = invoke("event", "trigger", "400", "--context-json", '{"user": "ops"}', "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert action_calls(client)[0][2] == {
        "task_event": 400,
        "action": "trigger",
        "params": {"context": {"user": "ops"}},
    }
    row = json.loads(result.stdout)
    assert (row["$key"], row["status"], row["run"], row["started_by"]) == (
        100,
        "running",
        "started",
        "running",
    )


def test_trigger_not_started_yet_says_queued(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    """Still idle, last run unchanged, nothing new in the log: accepted and queued."""
    client.tasks.get.return_value = make_task(status="idle")
    client.logs.list.return_value = []
    result = invoke("event", "trigger", "400")
    assert result.exit_code == 0, result.stderr
    assert "has not started yet (queued)" in result.stdout
    assert "vrgtask task wait 100" in result.stdout


def test_trigger_quiet(invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]) -> None:
    client.tasks.get.return_value = make_task(status="running")
    client.logs.list.return_value = []
    result = invoke("event", "trigger", "400", "-q")
    assert result.exit_code == 0, result.stderr
    assert len(action_calls(client)) == 1
    assert result.stdout == ""


def test_trigger_bad_context(invoke: Invoke, mock_client: MagicMock) -> None:
    result = invoke("event", "trigger", "400", "--context-json", "{nope}")
    assert result.exit_code == 2
    assert "'--context-json'" in result.stderr
    assert "not valid JSON" in result.stderr
    untouched(mock_client)


def test_trigger_not_found(invoke: Invoke, client: MagicMock) -> None:
    from pyvergeos.exceptions import NotFoundError

    client.task_events.get.side_effect = NotFoundError("Task event 9 not found", 404)
    result = invoke("event", "trigger", "9")
    assert result.exit_code == 6
    client._request.assert_not_called()
    client.tasks.get.assert_not_called()


def test_trigger_conflict_when_task_is_running(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    from pyvergeos.exceptions import ConflictError

    client.tasks.get.return_value = make_task(status="running")
    client.logs.list.return_value = []
    client._request.side_effect = ConflictError("Task is already running", 409)
    result = invoke("event", "trigger", "400")
    assert result.exit_code == 7
    assert "already running" in result.stderr
    client.tasks.get.assert_called_once()  # the look before, none after


# ----------------------------------------------------------------------------- help, links


@pytest.mark.parametrize("command", ["list", "get", "create", "update", "delete", "trigger"])
def test_help_has_examples(invoke: Invoke, command: str) -> None:
    result = invoke("event", command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"vrgtask event {command}" in result.stdout
    for option in ("--output", "--query", "--quiet"):
        assert option in result.stdout


def test_group_help_has_examples(invoke: Invoke) -> None:
    result = invoke("event", "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    for command in ("list", "get", "create", "update", "delete", "trigger"):
        assert f"  {command} " in result.stdout


def test_reached_under_task(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("task", "event", "list", "--task", "nightly-backup", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "400\n"
    client.task_events.list.assert_called_once_with(filter=None, task=100, table=None, event=None)
    listed = invoke("task", "--help")
    assert "event" in listed.stdout.split("Commands:")[1]


def test_event_fixture_runs_the_conftest_task() -> None:
    assert TASK_DATA["$key"] == EVENT_DATA["task"]
    assert TASK_DATA["name"] == EVENT_DATA["task_display"]


def test_importing_the_module_loads_no_sdk() -> None:
    code = (
        "import sys, vrgtask.commands.event, vrgtask.commands.script\n"
        "print(sorted(m for m in ('pyvergeos', 'requests', 'tabulate') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
