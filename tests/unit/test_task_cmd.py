"""Unit tests of ``vrgtask task``: the basic commands, then the edge cases.

The client is a mock (no network); SDK objects are real pyvergeos Tasks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock

import pytest
from fake_runs import FakeRun
from pytest_mock import MockerFixture
from support import TASK_DATA, Invoke, sdk_object

MakeTask = Callable[..., Any]


class TaskServer:
    """Task writes as a server that applies them: ``client._request`` takes the
    POST/PUT, ``client.tasks.get`` reads the task back with what was sent."""

    def __init__(self, client: MagicMock, make_task: MakeTask) -> None:
        self.client = client
        self.make_task = make_task
        self.rows: dict[int, dict[str, Any]] = {100: dict(TASK_DATA)}
        self.sent: list[tuple[str, str, Any]] = []
        self.drop: set[str] = set()  # fields accepted but not applied
        client._request.side_effect = self.request
        client.tasks.get.side_effect = self.get

    def request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        body = dict(kwargs.get("json_data") or {})
        self.sent.append((method, endpoint, body))
        kept = {k: v for k, v in body.items() if k not in self.drop}
        if method == "POST" and endpoint == "tasks":
            key = max(self.rows) + 1
            self.rows[key] = {**TASK_DATA, **kept, "$key": key}
            return {"location": f"/v4/tasks/{key}", "$key": str(key)}
        if method == "PUT" and endpoint.startswith("tasks/"):
            self.rows[int(endpoint.split("/")[1])].update(kept)
            return {}
        return {}

    def get(self, key: int, fields: Any = None) -> Any:
        return self.make_task(**self.rows[int(key)])


@pytest.fixture
def server(mock_client: MagicMock, make_task: MakeTask) -> TaskServer:
    mock_client.tasks.list.return_value = [make_task()]
    return TaskServer(mock_client, make_task)


@pytest.fixture
def fake(mock_client: MagicMock, mock_task: Any, mocker: MockerFixture) -> FakeRun:
    """A queued-then-running task on a fake clock (see tests/fake_runs.py)."""
    run = FakeRun(last_run=TASK_DATA["last_run"])
    run.attach(mock_client)
    mock_client.tasks.list.return_value = [mock_task]
    mocker.patch("vrgtask.runs.CLOCK", run.clock)
    mocker.patch("vrgtask.runs.SLEEP", run.sleep)
    return run


def _filter_of(call: Any) -> str:
    return str(call.kwargs.get("filter"))


# --- the basic commands -----------------------------------------------------------


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
    assert "progress" not in kwargs["fields"]
    assert "error" not in kwargs["fields"]


def test_task_list_running(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task(status="running")]
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


def test_task_create(invoke: Invoke, server: TaskServer) -> None:
    out = invoke("task", "create", "--name", "wake", "--owner", "1", "--table", "vms",
                 "--action", "poweron")  # fmt: skip
    assert out.exit_code == 0, out.stderr
    assert server.sent == [
        (
            "POST",
            "tasks",
            {
                "name": "wake",
                "owner": "vms/1",
                "action": "poweron",
                "enabled": True,
                "delete_after_run": False,
            },
        )
    ]
    assert out.stdout.strip() == "Created task 'wake' (key 101)"


def test_task_create_with_options(invoke: Invoke, server: TaskServer) -> None:
    out = invoke(
        "task", "create", "--name", "once", "--owner", "tenants/4", "--action", "poweroff",
        "--description", "one shot", "--disabled", "--delete-after-run",
        "--settings-json", '{"force": true}',
    )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    assert server.sent[0][2] == {
        "name": "once",
        "owner": "tenants/4",
        "action": "poweroff",
        "enabled": False,
        "delete_after_run": True,
        "description": "one shot",
        "settings_args": {"force": True},
    }
    fields = server.client.tasks.get.call_args.kwargs["fields"]
    assert "settings_args" in fields  # read back to be compared


def test_task_create_dropped_setting_is_reported(invoke: Invoke, server: TaskServer) -> None:
    """Accepted with 200 but not applied: exit 1, the field named, nothing retried."""
    server.drop = {"settings_args"}
    out = invoke("--sandbox", "task", "create", "--name", "n", "--owner", "vms/1",
                 "--action", "poweron", "--settings-json", '{"force": true}')  # fmt: skip
    assert out.exit_code == 1
    assert "did not apply the field settings_args" in out.stderr
    assert 'sent {"force": true}' in out.stderr
    assert "(check it with: vrgtask --sandbox task get 101)" in out.stderr
    assert [m for m, _e, _b in server.sent] == ["POST"]  # not retried


def test_task_update(invoke: Invoke, server: TaskServer) -> None:
    out = invoke("task", "update", "nightly-backup", "--name", "renamed", "--description", "new")
    assert out.exit_code == 0, out.stderr
    assert server.sent == [("PUT", "tasks/100", {"name": "renamed", "description": "new"})]
    assert "Updated task 'renamed' (key 100)" in out.stdout


def test_task_update_settings_not_applied(invoke: Invoke, server: TaskServer) -> None:
    server.drop = {"settings_args"}
    out = invoke("task", "update", "nightly-backup", "--settings-json", '{"x": 1}')
    assert out.exit_code == 1
    assert "the update of task 'nightly-backup' (key 100)" in out.stderr
    assert "did not apply the field settings_args" in out.stderr
    assert out.stdout == ""


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


def test_task_enable(invoke: Invoke, server: TaskServer) -> None:
    server.rows[100]["enabled"] = False
    out = invoke("task", "enable", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    assert server.sent == [("PUT", "tasks/100", {"enabled": True})]
    assert out.stdout.strip() == "Enabled task 'nightly-backup' (key 100)"


def test_task_disable(invoke: Invoke, server: TaskServer) -> None:
    out = invoke("-o", "json", "task", "disable", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    assert server.sent == [("PUT", "tasks/100", {"enabled": False})]
    assert json.loads(out.stdout)["enabled"] is False


def test_task_disable_ignored_is_reported(invoke: Invoke, server: TaskServer) -> None:
    server.drop = {"enabled"}
    out = invoke("task", "disable", "nightly-backup")
    assert out.exit_code == 1
    assert "did not apply the field enabled" in out.stderr


def test_task_run(invoke: Invoke, fake: FakeRun) -> None:
    """Right after the request the task is still idle: accepted and queued, said so."""
    out = invoke("task", "run", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    assert fake.requests == [
        ("POST", "task_actions", {"task": 100, "action": "execute", "params": {}})
    ]
    assert "the server accepted the request" in out.stdout
    assert "has not started yet (queued)" in out.stdout
    assert "vrgtask task wait 100" in out.stdout
    assert fake.sleeps == []  # without --wait: one look, no waiting


def test_task_run_seen_running(invoke: Invoke, fake: FakeRun) -> None:
    fake.start_delay = 0
    out = invoke("task", "run", "nightly-backup", "-o", "json")
    assert out.exit_code == 0, out.stderr
    row = json.loads(out.stdout)
    assert (row["$key"], row["run"], row["started_by"], row["status"]) == (
        100,
        "started",
        "running",
        "running",
    )


def test_task_run_with_wait(invoke: Invoke, fake: FakeRun) -> None:
    out = invoke("task", "run", "nightly-backup", "--wait")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip() == (
        "Ran task 'nightly-backup' (key 100): task 'nightly-backup' (key 100) finished; "
        "task log: Task 'nightly-backup' completed"
    )
    assert fake.now >= 4  # start delay 1 s + duration 3 s: not reported before
    assert all(s >= 1 for s in fake.sleeps)
    assert out.stderr == ""  # not a terminal: no live progress


def test_task_run_wait_failure_exits_1_with_the_log_text(invoke: Invoke, fake: FakeRun) -> None:
    fake.fail = "disk full"
    out = invoke("task", "run", "nightly-backup", "--wait")
    assert out.exit_code == 1
    assert out.stderr.strip() == (
        "Error: task 'nightly-backup' (key 100) failed; task log: "
        "Task 'nightly-backup' failed: disk full"
    )
    assert out.stdout == ""


def test_task_run_wait_not_started(invoke: Invoke, fake: FakeRun) -> None:
    fake.start_delay = None
    out = invoke("--sandbox", "task", "run", "nightly-backup", "--wait", "--start-timeout", "3")
    assert out.exit_code == 1
    assert "the server accepted the request, but task 'nightly-backup' (key 100) did not " in (
        out.stderr
    )
    assert "vrgtask --sandbox task wait 100" in out.stderr


@pytest.mark.parametrize(
    "params",
    [{"reason": "manual", "n": 2}, {"self": 1}, {"key": 1}, {"key": 1, "params": {"a": 1}}],
)
def test_task_run_with_params(invoke: Invoke, fake: FakeRun, params: dict[str, Any]) -> None:
    """Parameters are data: names like self and key reach the server as they are."""
    out = invoke("task", "run", "nightly-backup", "--params-json", json.dumps(params))
    assert out.exit_code == 0, out.stderr
    assert fake.requests[0] == (
        "POST",
        "task_actions",
        {"task": 100, "action": "execute", "params": params},
    )


def test_task_run_falls_back_to_put(invoke: Invoke, fake: FakeRun, mock_client: MagicMock) -> None:
    from pyvergeos.exceptions import NotFoundError

    answer = fake.request

    def old_server(method: str, endpoint: str, **kwargs: Any) -> Any:
        if method == "POST" and endpoint.endswith("_actions"):
            fake.requests.append((method, endpoint, kwargs.get("json_data")))
            raise NotFoundError("Not found", status_code=404)
        if method == "PUT" and "?action=execute" in endpoint:
            fake.sent_at = fake.now
        return answer(method, endpoint, **kwargs)

    mock_client._request.side_effect = old_server
    out = invoke("task", "run", "nightly-backup", "--wait", "--params-json", '{"self": 1}')
    assert out.exit_code == 0, out.stderr
    assert [(m, e) for m, e, _b in fake.requests] == [
        ("POST", "task_actions"),
        ("PUT", "tasks/100?action=execute"),
    ]
    assert fake.requests[1][2] == {"params": {"self": 1}}


def test_task_wait_attaches_to_a_running_task(
    invoke: Invoke, fake: FakeRun, mock_client: MagicMock, make_task: MakeTask
) -> None:
    fake.sent_at = -0.5
    fake.start_delay = 0
    fake.duration = 5
    mock_client.tasks.list.return_value = [make_task(status="running", last_run=fake.last_run())]
    out = invoke("task", "wait", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip() == (
        "task 'nightly-backup' (key 100) finished; task log: Task 'nightly-backup' completed"
    )
    assert fake.requests == []  # waiting sends nothing


def test_task_wait_on_a_failing_run(
    invoke: Invoke, fake: FakeRun, mock_client: MagicMock, make_task: MakeTask
) -> None:
    fake.sent_at = -0.5
    fake.start_delay = 0
    fake.fail = "no space"
    mock_client.tasks.list.return_value = [make_task(status="running", last_run=fake.last_run())]
    out = invoke("task", "wait", "100")
    assert out.exit_code == 1
    assert "failed: no space" in out.stderr


def test_task_wait_idle_task_with_nothing_queued(invoke: Invoke, fake: FakeRun) -> None:
    fake.start_delay = None
    out = invoke("task", "wait", "nightly-backup", "--start-timeout", "2")
    assert out.exit_code == 1
    assert "is not running, and no run of it started within 2s" in out.stderr


def test_task_wait_timeout_and_ctrl_c(invoke: Invoke, fake: FakeRun) -> None:
    fake.sent_at = 0
    fake.start_delay = 0
    fake.duration = None
    out = invoke("task", "wait", "nightly-backup", "--timeout", "5")
    assert out.exit_code == 9
    assert "is still running after 5s" in out.stderr
    fake.interrupt_after = len(fake.sleeps) + 1
    out = invoke("task", "wait", "nightly-backup")
    assert out.exit_code == 130
    assert "keeps running on the server" in out.stderr
    assert fake.requests == []  # never cancelled


def test_task_cancel(invoke: Invoke, mock_client: MagicMock, make_task: MakeTask) -> None:
    mock_client.tasks.list.return_value = [make_task(status="running")]
    mock_client.tasks.get.return_value = make_task(status="idle")
    out = invoke("task", "cancel", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    mock_client._request.assert_called_once_with(
        "POST", "task_actions", json_data={"task": 100, "action": "cancel", "params": {}}
    )
    mock_client.tasks.cancel.assert_not_called()
    assert "Cancelled task 'nightly-backup' (key 100); status: idle" in out.stdout


def test_task_cancel_that_is_not_applied_yet_says_so(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    """A cancel the server accepted while the task still reads running is not "Cancelled"."""
    mock_client.tasks.list.return_value = [make_task(status="running")]
    mock_client.tasks.get.return_value = make_task(status="running")
    out = invoke("task", "cancel", "nightly-backup")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip() == (
        "Asked to cancel task 'nightly-backup' (key 100); it still reads running"
    )


def test_task_not_found(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.tasks.list.return_value = []
    out = invoke("task", "get", "nope")
    assert out.exit_code == 6
    assert out.stderr.strip() == "Error: no task is named 'nope'"


# --- edge cases --------------------------------------------------------------------


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


def test_update_booleans(invoke: Invoke, server: TaskServer) -> None:
    out = invoke("task", "update", "100", "--enabled", "false", "--delete-after-run", "yes")
    assert out.exit_code == 0, out.stderr
    assert server.sent == [("PUT", "tasks/100", {"enabled": False, "delete_after_run": True})]


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


def test_quiet_mutations_print_nothing(invoke: Invoke, server: TaskServer) -> None:
    out = invoke("-q", "task", "enable", "nightly-backup")
    assert out.exit_code == 0
    assert out.stdout == ""


def test_json_create_prints_object_with_key(invoke: Invoke, server: TaskServer) -> None:
    out = invoke("task", "create", "--name", "j", "--owner", "vms/1", "--action", "poweron",
                 "-o", "json")  # fmt: skip
    data = json.loads(out.stdout)
    assert data["$key"] == 101
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


def test_rows_have_no_progress_or_error(make_task: MakeTask) -> None:
    """A task has neither on VergeOS; a run's outcome is in the task log."""
    from pyvergeos.resources.tasks import Task

    from vrgtask.commands.task import TASK_DETAIL_COLUMNS, task_to_row

    row = task_to_row(sdk_object(Task, dict(TASK_DATA)))
    assert "progress" not in row
    assert "error" not in row
    assert {c.key for c in TASK_DETAIL_COLUMNS}.isdisjoint({"progress", "error"})


def test_status_error_is_gone(invoke: Invoke, mock_client: MagicMock) -> None:
    out = invoke("task", "list", "--status", "error")
    assert out.exit_code == 2
    assert "'--status'" in out.stderr
    assert mock_client.method_calls == []


def test_every_command_help_has_an_example(invoke: Invoke) -> None:
    for name in ("list", "get", "create", "update", "delete", "enable", "disable", "run", "cancel",
                 "wait"):  # fmt: skip
        out = invoke("task", name, "--help")
        assert out.exit_code == 0
        assert "Examples:" in out.stdout, name
        assert f"vrgtask task {name}" in out.stdout, name


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
        make_task(**{"$key": 2, "owner_display": "db", "triggers_count": 3}),
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
                   "creator#$display as creator_display"):  # fmt: skip
        assert needed in fields


# --- task list reads the server's rows without a model object per task -----------


def _real_task_manager(client: MagicMock, rows: list[dict[str, Any]]) -> Any:
    """The SDK's own TaskManager on a client whose ``_request`` answers ``rows``."""
    from pyvergeos.resources.tasks import TaskManager

    manager = TaskManager(client)
    client.tasks = manager
    client._request.side_effect = None
    client._request.return_value = rows
    return manager


def test_list_sends_the_sdks_own_query_and_builds_no_task_per_row(
    invoke: Invoke, mock_client: MagicMock, mocker: MockerFixture
) -> None:
    from pyvergeos.resources.tasks import TaskManager

    second = {**TASK_DATA, "$key": 101, "name": "second", "enabled": None}
    manager = _real_task_manager(mock_client, [dict(TASK_DATA), second])
    to_model = mocker.spy(TaskManager, "_to_model")
    out = invoke("-o", "json", "task", "list", "--enabled", "--filter", "action eq 'snapshot'")
    assert out.exit_code == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["$key"] for r in rows] == [100, 101]
    assert rows[1]["enabled"] is None
    assert rows[0]["owner_display"] == "web-server"
    assert rows[0]["triggers_count"] == 1
    assert to_model.call_count == 0  # no Task per row
    assert "_to_model" not in vars(manager)  # the manager is left as it was
    # The very request TaskManager.list sends for the same arguments.
    (call,) = mock_client._request.call_args_list
    reference = MagicMock()
    reference._request.return_value = []
    TaskManager(reference).list(
        filter="action eq 'snapshot'",
        fields=call.kwargs["params"]["fields"].split(","),
        enabled=True,
        running=None,
        status=None,
    )
    assert call == reference._request.call_args
    assert "owner#$display as owner_display" in call.kwargs["params"]["fields"]


def test_list_rows_equal_the_rows_of_sdk_tasks(
    invoke: Invoke, mock_client: MagicMock, make_task: MakeTask
) -> None:
    """The plain-row path writes what the Task path wrote, value for value."""
    data = [dict(TASK_DATA), {**TASK_DATA, "$key": 7, "name": "n", "description": None}]
    mock_client.tasks.list.return_value = [make_task(**d) for d in data]
    from_tasks = invoke("-o", "json", "task", "list")
    _real_task_manager(mock_client, data)
    from_rows = invoke("-o", "json", "task", "list")
    assert from_rows.exit_code == from_tasks.exit_code == 0
    assert from_rows.stdout == from_tasks.stdout


def test_list_accessors_still_check_the_projection(invoke: Invoke, mock_client: MagicMock) -> None:
    """A projection without a computed field the rows need is still refused
    by the SDK's accessor (on the first row), not read as a default."""
    manager = _real_task_manager(mock_client, [{"$key": 1, "name": "x"}])
    manager._default_fields = ["$key", "name", "owner#$display as owner_display"]
    out = invoke("-o", "json", "task", "list")
    assert out.exit_code == 1
    assert "internal error" in out.stderr
    assert "creator_display" in out.stderr
    assert out.stdout == ""


def _row_by_row(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from vrgtask.commands.task import task_to_row

    return [task_to_row(r, projection_checked=True) for r in rows]


PLAIN = {k: v for k, v in TASK_DATA.items() if k not in ("id", "creator")}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"creator_display": None},  # omitted: a null polymorphic reference
        {"description": None},
        {"description": ""},
        {"enabled": None},
        {"enabled": 1},
        {"$key": "7"},
        {"triggers_count": True},
        {"owner_display": 3},
        {"settings_args": {"a": 1}},
        {"id": "b" * 40},
        {"last_run": None, "status": None},
    ],
    ids=repr,
)
def test_list_rows_built_at_once_equal_rows_built_one_by_one(changes: dict[str, Any]) -> None:
    from vrgtask.commands.task import _ROW_TEMPLATE, task_rows

    odd = {**PLAIN, **changes}
    if changes.get("creator_display", 0) is None:
        del odd["creator_display"]
    raw = [dict(PLAIN), dict(PLAIN), odd, {**PLAIN, "$key": 5}]
    expected = [task_rows([raw[0]], MagicMock())[0], *_row_by_row(raw[1:])]
    rows = task_rows(raw, MagicMock())
    assert rows == expected
    assert [list(r) for r in rows] == [list(r) for r in expected]  # same order
    assert list(_ROW_TEMPLATE) == list(expected[1])


def test_rows_sent_in_row_order_are_used_as_they_are_and_others_are_copied() -> None:
    from vrgtask.commands.task import _ROW_TEMPLATE, task_rows

    in_order = {name: PLAIN[name] for name in _ROW_TEMPLATE if name in PLAIN}
    assert list(in_order) == list(_ROW_TEMPLATE)  # PLAIN holds every field of a row
    same = [dict(in_order) for _ in range(3)]
    rows = task_rows(same, MagicMock())
    assert all(row is sent for row, sent in zip(rows[1:], same[1:], strict=True))
    shuffled = [dict(reversed(list(in_order.items()))) for _ in range(3)]
    copied = task_rows(shuffled, MagicMock())
    assert all(row is not sent for row, sent in zip(copied[1:], shuffled[1:], strict=True))
    assert [list(r) for r in copied] == [list(_ROW_TEMPLATE)] * 3
    assert copied == rows
    mixed = [dict(in_order), dict(in_order), shuffled[0], dict(in_order)]
    rows = task_rows(mixed, MagicMock())
    assert [row is sent for row, sent in zip(rows, mixed, strict=True)][1:] == [True, False, True]
    assert [list(r) for r in rows] == [list(_ROW_TEMPLATE)] * 4


def test_task_list_asks_for_its_fields_in_row_order() -> None:
    from vrgtask.commands.task import _ROW_TEMPLATE, in_row_order

    asked = in_row_order(
        [
            "events_count",
            "count(triggers) as triggers_count",
            "zzz",
            "owner#$display as owner_display",
            "name",
            "$key",
        ]
    )
    assert asked == [
        "$key",
        "name",
        "owner#$display as owner_display",
        "count(triggers) as triggers_count",
        "events_count",
        "zzz",
    ]
    assert list(_ROW_TEMPLATE).index("owner_display") < list(_ROW_TEMPLATE).index("events_count")


def test_list_rows_built_at_once_raise_what_one_by_one_raises() -> None:
    from vrgtask.commands.task import task_rows

    raw = [dict(PLAIN), dict(PLAIN), {**PLAIN, "triggers_count": "abc"}]
    with pytest.raises(ValueError, match="abc"):
        task_rows(raw, MagicMock())
    without_key = {k: v for k, v in PLAIN.items() if k != "$key"}
    with pytest.raises(TypeError):
        task_rows([dict(PLAIN), without_key], MagicMock())
