"""Unit tests of ``vrgtask task``: the plan's 18 tests, then the extras.

The client is a mock (no network); SDK objects are real pyvergeos Tasks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture
from support import TASK_DATA, Invoke, sdk_object

MakeTask = Callable[..., Any]


def _filter_of(call: Any) -> str:
    return str(call.kwargs.get("filter"))


# --- the plan's 18 tests ----------------------------------------------------------


def test_task_list(invoke: Invoke, mock_client: MagicMock, mock_task: Any) -> None:
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("task", "list")
    assert out.exit_code == 0, out.stderr
    assert "nightly-backup" in out.stdout
    assert "Take Snapshot" in out.stdout
    assert "web-server" in out.stdout
    header = out.stdout.splitlines()[0]
    assert header.split() == ["Key", "Name", "Action", "Owner", "Status", "Enabled"]
    kwargs = mock_client.tasks.list.call_args.kwargs
    assert kwargs["running"] is None
    assert kwargs["enabled"] is None
    assert kwargs["status"] is None
    assert "progress" in kwargs["fields"]
    assert "error" in kwargs["fields"]


def test_task_list_running(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task(status="running", progress=40)]
    out = invoke("task", "list", "--running")
    assert out.exit_code == 0, out.stderr
    assert mock_client.tasks.list.call_args.kwargs["running"] is True
    assert "running" in out.stdout


def test_task_list_enabled(invoke: Invoke, mock_client: MagicMock, mock_task: Any) -> None:
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("task", "list", "--enabled")
    assert out.exit_code == 0, out.stderr
    assert mock_client.tasks.list.call_args.kwargs["enabled"] is True


def test_task_list_disabled(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task(enabled=False)]
    out = invoke("task", "list", "--disabled")
    assert out.exit_code == 0, out.stderr
    assert mock_client.tasks.list.call_args.kwargs["enabled"] is False
    assert " no" in out.stdout


def test_task_get(invoke: Invoke, mock_client: MagicMock, mock_task: Any) -> None:
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("task", "get", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    assert mock_client.tasks.list.call_count == 1
    assert _filter_of(mock_client.tasks.list.call_args) == "name eq 'nightly-backup'"
    assert "Nightly backup task" in out.stdout
    mock_client.tasks.get.assert_not_called()


def test_task_get_by_key(invoke: Invoke, mock_client: MagicMock, mock_task: Any) -> None:
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("-o", "json", "task", "get", "100")
    assert out.exit_code == 0, out.stderr
    assert _filter_of(mock_client.tasks.list.call_args) == "(name eq '100') or ($key eq 100)"
    assert json.loads(out.stdout)["$key"] == 100


def test_task_create(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.create.return_value = make_task(**{"$key": 7, "name": "wake"})
    out = invoke("task", "create", "--name", "wake", "--owner", "1", "--table", "vms",
                 "--action", "poweron")  # fmt: skip
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.create.assert_called_once_with(
        name="wake",
        owner=1,
        action="poweron",
        table="vms",
        description=None,
        enabled=True,
        delete_after_run=False,
        settings_args=None,
    )
    assert out.stdout.strip() == "Created task 'wake' (key 7)"


def test_task_create_with_options(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    mock_client.tasks.create.return_value = make_task(**{"$key": 8, "name": "once"})
    out = invoke(
        "task", "create", "--name", "once", "--owner", "tenants/4", "--action", "poweroff",
        "--description", "one shot", "--disabled", "--delete-after-run",
        "--settings-json", '{"force": true}',
    )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.create.assert_called_once_with(
        name="once",
        owner=4,
        action="poweroff",
        table="tenants",
        description="one shot",
        enabled=False,
        delete_after_run=True,
        settings_args={"force": True},
    )


def test_task_update(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.update.return_value = make_task(name="renamed", description="new")
    out = invoke("task", "update", "nightly-backup", "--name", "renamed", "--description", "new")
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.update.assert_called_once_with(100, name="renamed", description="new")
    assert "Updated task 'renamed' (key 100)" in out.stdout


def test_task_delete(invoke: Invoke, mock_client: MagicMock, mock_task: Any) -> None:
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("task", "delete", "nightly-backup", "--yes")
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.delete.assert_called_once_with(100)
    assert "Deleted task 'nightly-backup' (key 100)" in out.stdout


def test_task_delete_no_confirm(invoke: Invoke, mock_client: MagicMock, mock_task: Any) -> None:
    """Without --yes and without a terminal: refused, nothing deleted."""
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("task", "delete", "nightly-backup")
    assert out.exit_code == 2
    assert "--yes" in out.stderr
    mock_client.tasks.delete.assert_not_called()


def test_task_enable(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task(enabled=False)]
    mock_client.tasks.enable.return_value = make_task(enabled=True)
    out = invoke("task", "enable", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.enable.assert_called_once_with(100)
    assert out.stdout.strip() == "Enabled task 'nightly-backup' (key 100)"


def test_task_disable(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.disable.return_value = make_task(enabled=False)
    out = invoke("-o", "json", "task", "disable", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.disable.assert_called_once_with(100)
    assert json.loads(out.stdout)["enabled"] is False


def test_task_run(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.execute.return_value = make_task(status="running")
    out = invoke("task", "run", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.execute.assert_called_once_with(100)
    mock_client.tasks.get.assert_not_called()
    assert "Started task 'nightly-backup' (key 100); status: running" in out.stdout


def test_task_run_with_wait(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask, mocker: MockerFixture
) -> None:
    sleep = mocker.patch("vrgtask.commands.task.time.sleep")
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.execute.return_value = make_task(status="running")
    mock_client.tasks.get.side_effect = [
        make_task(status="running", progress=30),
        make_task(status="running", progress=80),
        make_task(status="idle", progress=100, last_run=1707300000),
    ]
    out = invoke("task", "run", "nightly-backup", "--wait")
    assert out.exit_code == 0, out.stderr
    assert mock_client.tasks.get.call_count == 3
    assert sleep.call_count == 3  # the read-back after execute counts as the first check
    assert all(call.args[0] >= 1 for call in sleep.call_args_list)
    assert out.stdout.strip() == "Finished task 'nightly-backup' (key 100); status: idle"
    assert out.stderr == ""  # not a terminal: no live progress


def test_task_run_with_params(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.execute.return_value = make_task(status="running")
    out = invoke("task", "run", "nightly-backup", "--params-json", '{"reason": "manual", "n": 2}')
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.execute.assert_called_once_with(100, reason="manual", n=2)


def test_task_cancel(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task(status="running")]
    mock_client.tasks.cancel.return_value = make_task(status="idle")
    out = invoke("task", "cancel", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.cancel.assert_called_once_with(100)
    assert "Cancelled task 'nightly-backup' (key 100); status: idle" in out.stdout


def test_task_not_found(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.tasks.list.return_value = []
    out = invoke("task", "get", "nope")
    assert out.exit_code == 6
    assert out.stderr.strip() == "Error: no task is named 'nope'"


# --- beyond the plan --------------------------------------------------------------


def test_ambiguous_name_lists_keys_and_changes_nothing(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    mock_client.tasks.list.return_value = [
        make_task(**{"$key": 3, "name": "dup"}),
        make_task(**{"$key": 9, "name": "dup"}),
    ]
    out = invoke("task", "delete", "dup", "--yes")
    assert out.exit_code == 7
    assert "key 3" in out.stderr
    assert "key 9" in out.stderr
    mock_client.tasks.delete.assert_not_called()


def test_exact_name_beats_key(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    """A task named '5' wins over the task whose key is 5."""
    mock_client.tasks.list.return_value = [
        make_task(**{"$key": 5, "name": "other"}),
        make_task(**{"$key": 40, "name": "5"}),
    ]
    out = invoke("--query", "$key", "task", "get", "5")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip() == "40"


def test_numeric_identifier_falls_back_to_key(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    mock_client.tasks.list.return_value = [make_task(**{"$key": 5, "name": "other"})]
    out = invoke("--query", "name", "task", "get", "5")
    assert out.stdout.strip() == "other"


def test_unknown_key_is_not_found(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.tasks.list.return_value = []
    out = invoke("task", "get", "123")
    assert out.exit_code == 6
    assert "has key 123" in out.stderr


def test_name_with_quote_and_braces_is_quoted(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    name = "it's {x} \\ y"
    mock_client.tasks.list.return_value = [make_task(name=name)]
    out = invoke("task", "get", name)
    assert out.exit_code == 0, out.stderr
    assert _filter_of(mock_client.tasks.list.call_args) == "name eq 'it\\'s \\{x} \\\\ y'"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--settings-json", "{not json"),
        ("--settings-json", "[1, 2]"),
        ("--settings-json", '"text"'),
    ],
)
def test_create_bad_json_is_usage_error_before_any_request(
    invoke: Invoke, mock_client: MagicMock, option: str, value: str
) -> None:
    out = invoke("task", "create", "--name", "n", "--owner", "vms/1", "--action", "poweron",
                 option, value)  # fmt: skip
    assert out.exit_code == 2
    assert option in out.stderr
    assert mock_client.method_calls == []


def test_run_bad_params_json_sends_nothing(invoke: Invoke, mock_client: MagicMock) -> None:
    out = invoke("task", "run", "x", "--params-json", "[]")
    assert out.exit_code == 2
    assert "--params-json" in out.stderr
    assert mock_client.method_calls == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--owner", "12"], "--table"),
        (["--owner", "abc", "--table", "vms"], "--owner"),
        (["--owner", "vms/"], "--owner"),
        (["--owner", "vms/3", "--table", "tenants"], "--table"),
        (["--owner", "0", "--table", "vms"], "--owner"),
    ],
)
def test_create_owner_validation(
    invoke: Invoke, mock_client: MagicMock, args: list[str], needle: str
) -> None:
    out = invoke("task", "create", "--name", "n", "--action", "poweron", *args)
    assert out.exit_code == 2, out.stderr
    assert needle in out.stderr
    assert mock_client.method_calls == []


def test_update_without_changes_is_usage_error(invoke: Invoke, mock_client: MagicMock) -> None:
    out = invoke("task", "update", "nightly-backup")
    assert out.exit_code == 2
    assert "nothing to change" in out.stderr
    assert mock_client.method_calls == []


def test_update_booleans(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.update.return_value = make_task(enabled=False, delete_after_run=True)
    out = invoke("task", "update", "100", "--enabled", "false", "--delete-after-run", "yes")
    assert out.exit_code == 0, out.stderr
    mock_client.tasks.update.assert_called_once_with(100, enabled=False, delete_after_run=True)


def test_update_rejects_bad_bool(invoke: Invoke, mock_client: MagicMock) -> None:
    out = invoke("task", "update", "x", "--enabled", "maybe")
    assert out.exit_code == 2
    assert "--enabled" in out.stderr


def test_list_conflicting_filters(invoke: Invoke, mock_client: MagicMock) -> None:
    assert invoke("task", "list", "--enabled", "--disabled").exit_code == 2
    assert invoke("task", "list", "--running", "--status", "idle").exit_code == 2
    assert mock_client.method_calls == []


def test_quiet_list_prints_keys(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    mock_client.tasks.list.return_value = [make_task(), make_task(**{"$key": 101, "name": "b"})]
    out = invoke("task", "list", "-q")
    assert out.stdout == "100\n101\n"


def test_quiet_mutations_print_nothing(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.enable.return_value = make_task()
    out = invoke("-q", "task", "enable", "nightly-backup")
    assert out.exit_code == 0
    assert out.stdout == ""


def test_json_create_prints_object_with_key(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    mock_client.tasks.create.return_value = make_task(**{"$key": 55, "name": "j"})
    out = invoke("task", "create", "--name", "j", "--owner", "vms/1", "--action", "poweron",
                 "-o", "json")  # fmt: skip
    data = json.loads(out.stdout)
    assert data["$key"] == 55
    assert list(data)[:3] == ["$key", "name", "description"]


def test_wide_shows_last_run_as_local_time_json_keeps_raw(
    invoke: Invoke, mock_client: MagicMock, mock_task: Any
) -> None:
    from vrgtask.commands._common import format_epoch

    mock_client.tasks.list.return_value = [mock_task]
    wide = invoke("task", "list", "-o", "wide")
    assert format_epoch(1707200000) in wide.stdout
    assert "Auto-Delete" in wide.stdout
    raw = invoke("task", "list", "-o", "json")
    assert json.loads(raw.stdout)[0]["last_run"] == 1707200000
    csv_out = invoke("task", "list", "-o", "csv")
    assert "1707200000" in csv_out.stdout


def test_wait_reports_task_error(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask, mocker: MockerFixture
) -> None:
    mocker.patch("vrgtask.commands.task.time.sleep")
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.execute.return_value = make_task(status="running")
    mock_client.tasks.get.return_value = make_task(status="error", error="disk full")
    out = invoke("task", "run", "nightly-backup", "--wait")
    assert out.exit_code == 1
    assert out.stderr.strip() == (
        "Error: task 'nightly-backup' (key 100) ended in error: disk full"
    )


def test_wait_timeout_exits_9(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask, mocker: MockerFixture
) -> None:
    clock = iter([0.0, 0.5, 1.6, 2.7, 3.8])
    mocker.patch("vrgtask.commands.task.time.monotonic", side_effect=lambda: next(clock))
    mocker.patch("vrgtask.commands.task.time.sleep")
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.execute.return_value = make_task(status="running")
    mock_client.tasks.get.return_value = make_task(status="running", progress=10)
    out = invoke("task", "run", "nightly-backup", "--wait", "--timeout", "2")
    assert out.exit_code == 9
    assert "still running after 2s" in out.stderr
    mock_client.tasks.cancel.assert_not_called()


def test_wait_ctrl_c_exits_130_and_says_task_keeps_running(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask, mocker: MockerFixture
) -> None:
    mocker.patch("vrgtask.commands.task.time.sleep", side_effect=KeyboardInterrupt)
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.tasks.execute.return_value = make_task(status="running")
    mock_client.tasks.get.return_value = make_task(status="running")
    out = invoke("task", "run", "nightly-backup", "--wait")
    assert out.exit_code == 130
    assert "keeps running on the server" in out.stderr
    mock_client.tasks.cancel.assert_not_called()


def test_unprojected_progress_is_reported_as_unknown(make_task: MakeTask) -> None:
    from pyvergeos.resources.tasks import Task

    from vrgtask.commands.task import task_to_row

    data = {k: v for k, v in TASK_DATA.items() if k not in {"progress", "error"}}
    row = task_to_row(sdk_object(Task, data))
    assert row["progress"] is None
    assert row["error"] is None
    assert task_to_row(make_task(progress=42))["progress"] == 42


def test_every_command_help_has_an_example(invoke: Invoke) -> None:
    for name in ("list", "get", "create", "update", "delete", "enable", "disable", "run", "cancel"):
        out = invoke("task", name, "--help")
        assert out.exit_code == 0
        assert "Examples:" in out.stdout, name
        assert f"vrgtask task {name}" in out.stdout, name


def test_run_refuses_key_as_a_parameter(invoke: Invoke, mock_client: MagicMock) -> None:
    out = invoke("task", "run", "nightly-backup", "--params-json", '{"key": 1}')
    assert out.exit_code == 2
    assert "--params-json" in out.stderr
    assert mock_client.method_calls == []


def test_delete_confirmation_on_a_terminal(
    invoke: Invoke, mock_client: MagicMock, mock_task: Any, mocker: MockerFixture
) -> None:
    mocker.patch("vrgtask.context.stdin_is_terminal", return_value=True)
    confirm = mocker.patch("vrgtask.context.click.confirm", return_value=False)
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("task", "delete", "nightly-backup")
    assert out.exit_code == 1
    assert "cancelled" in out.stderr
    assert "and its triggers and events?" in confirm.call_args.args[0]
    mock_client.tasks.delete.assert_not_called()
    confirm.return_value = True
    assert invoke("task", "delete", "nightly-backup").exit_code == 0
    mock_client.tasks.delete.assert_called_once_with(100)


def test_fast_rows_equal_accessor_rows(make_task: MakeTask) -> None:
    from vrgtask.commands.task import task_rows, task_to_row

    tasks = [
        make_task(),
        make_task(**{"$key": 2, "owner_display": "db", "triggers_count": 3, "progress": 40}),
        make_task(**{"$key": 3, "events_count": 2, "enabled": False, "settings_args": {"a": 1}}),
    ]
    assert task_rows(tasks) == [task_to_row(t) for t in tasks]


def test_rows_refuse_an_unprojected_first_row() -> None:
    from pyvergeos.exceptions import FieldNotProjectedError
    from pyvergeos.resources.tasks import Task

    from vrgtask.commands.task import task_rows

    narrow = {"$key": 1, "name": "n", "status": "idle"}
    with pytest.raises(FieldNotProjectedError):
        task_rows([sdk_object(Task, narrow)])


def test_list_leaves_out_unused_columns_but_keeps_accessor_fields(
    invoke: Invoke, mock_client: MagicMock, mock_task: Any
) -> None:
    from pyvergeos.resources.tasks import TaskManager

    mock_client.tasks._default_fields = TaskManager._default_fields
    mock_client.tasks.list.return_value = [mock_task]
    assert invoke("task", "list").exit_code == 0
    fields = mock_client.tasks.list.call_args.kwargs["fields"]
    assert "id" not in fields
    assert "creator" not in fields
    for needed in ("owner#$display as owner_display", "count(triggers) as triggers_count",
                   "creator#$display as creator_display", "progress", "error"):  # fmt: skip
        assert needed in fields
