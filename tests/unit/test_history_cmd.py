"""``vrgtask task history`` against a mock pyvergeos client (no network).

Log entries are real pyvergeos ``Log`` objects; the local time zone is UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, cast
from unittest.mock import MagicMock

import pytest
from support import Invoke, sdk_object

import vrgtask.context

#: Monday 2026-11-30 02:00:03.250 UTC, in microseconds.
STAMP = 1_796_004_003_250_000


pytestmark = pytest.mark.usefixtures("utc")


def log_entry(key: int, level: str, text: str, offset_s: int = 0, **extra: Any) -> Any:
    from pyvergeos.resources.logs import Log

    data = {
        "$key": key,
        "level": level,
        "text": text,
        "timestamp": STAMP - offset_s * 1_000_000,
        "user": "admin",
        "object_type": "task",
        "object_name": "nightly-backup",
        **extra,
    }
    return sdk_object(Log, data)


ENTRIES = [
    (12, "message", "Task 'nightly-backup' ended with errors", 0),
    (11, "error", "Task 'nightly-backup' failed: disk full", 1),
    (10, "message", "Task 'nightly-backup' started", 4),
]


@pytest.fixture
def client(mock_client: MagicMock, make_task: Callable[..., Any]) -> MagicMock:
    mock_client.tasks.list.return_value = [make_task()]
    mock_client.logs.list.return_value = [log_entry(*e) for e in ENTRIES]
    return mock_client


def test_history_of_one_task(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("task", "history", "nightly-backup")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_called_once_with(
        filter="name eq 'nightly-backup'", fields=["$key", "name"]
    )
    client.logs.list.assert_called_once_with(
        filter="object_name eq 'nightly-backup'",
        object_type="task",
        level=None,
        since=None,
        limit=50,
    )
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Time", "Level", "Text", "User"]
    assert lines[2].split()[:4] == ["Mon", "2026-11-30", "02:00:03", "message"]
    assert "failed: disk full" in lines[3]
    assert lines[3].split()[3] == "error"
    assert result.stderr == ""


def test_json_keeps_raw_fields_and_adds_iso_time(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("task", "history", "nightly-backup", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows[1] == {
        "$key": 11,
        "level": "error",
        "text": "Task 'nightly-backup' failed: disk full",
        "timestamp": STAMP - 1_000_000,
        "user": "admin",
        "object_type": "task",
        "object_name": "nightly-backup",
        "time": "2026-11-30T02:00:02+00:00",
    }
    assert [r["$key"] for r in rows] == [12, 11, 10]


def test_errors_since_and_limit_go_into_the_one_log_request(
    invoke: Invoke, client: MagicMock
) -> None:
    before = datetime.now(timezone.utc)
    result = invoke("task", "history", "nightly-backup", "--errors", "--since", "7d", "-o", "json")
    assert result.exit_code == 0, result.stderr
    kwargs = client.logs.list.call_args.kwargs
    assert kwargs["level"] == ["error", "critical"]
    since = kwargs["since"]
    assert isinstance(since, datetime)
    assert abs((before - timedelta(days=7)) - since) < timedelta(minutes=1)
    assert invoke("task", "history", "nightly-backup", "--limit", "2").exit_code == 0
    assert client.logs.list.call_args.kwargs["limit"] == 2
    assert (
        "the newest 2 entries are shown"
        in invoke("task", "history", "nightly-backup", "--limit", "2").stderr
    )


def test_a_key_is_read_under_the_task_name(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.list.return_value = [make_task(**{"$key": 7, "name": "weekly"})]
    result = invoke("task", "history", "7", "-o", "json")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_called_once_with(
        filter="name eq '7' or $key eq 7", fields=["$key", "name"]
    )
    assert client.logs.list.call_args.kwargs["filter"] == "object_name eq 'weekly'"


def test_several_tasks_or_every_task_cost_one_log_request(
    invoke: Invoke, client: MagicMock, make_task: Callable[..., Any]
) -> None:
    client.tasks.list.return_value = [make_task(), make_task(**{"$key": 7, "name": "it's"})]
    result = invoke("task", "history", "nightly-backup", "it's", "nightly-backup")
    assert result.exit_code == 0, result.stderr
    assert client.tasks.list.call_count == 1
    assert client.logs.list.call_count == 1
    assert client.logs.list.call_args.kwargs["filter"] == (
        "object_name eq 'nightly-backup' or object_name eq 'it\\'s'"
    )
    assert result.stdout.splitlines()[0].split() == ["Time", "Task", "Level", "Text", "User"]
    client.reset_mock()
    result = invoke("task", "history", "--since", "24h")
    assert result.exit_code == 0, result.stderr
    client.tasks.list.assert_not_called()
    assert client.logs.list.call_args.kwargs["filter"] is None
    assert client.logs.list.call_args.kwargs["object_type"] == "task"


def test_a_deleted_task_is_shown_by_its_name(invoke: Invoke, client: MagicMock) -> None:
    client.tasks.list.return_value = []
    result = invoke("task", "history", "nightly-backup", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3
    assert "no task is named 'nightly-backup' now" in result.stderr


def test_no_task_and_no_entries_is_exit_6(invoke: Invoke, client: MagicMock) -> None:
    client.tasks.list.return_value = []
    client.logs.list.return_value = []
    result = invoke("task", "history", "nope")
    assert result.exit_code == 6
    assert result.stderr.startswith("Error: no task is named 'nope'")


def test_an_existing_task_without_entries_is_empty(invoke: Invoke, client: MagicMock) -> None:
    client.logs.list.return_value = []
    result = invoke("task", "history", "nightly-backup")
    assert result.exit_code == 0
    assert result.stderr == "No log entries found.\n"
    assert invoke("task", "history", "nightly-backup", "-o", "json").stdout == "[]\n"


def test_levels_are_coloured_on_a_terminal(invoke: Invoke, client: MagicMock) -> None:
    from vrgtask.commands.history import HISTORY_COLUMNS
    from vrgtask.formatters import RenderOptions
    from vrgtask.formatters.table import TableFormatter

    rows = [{"level": "error", "text": "x"}, {"level": "message", "text": "y"}]
    text = TableFormatter().format_list(rows, HISTORY_COLUMNS, RenderOptions(color=True))
    assert "\x1b[31merror\x1b[0m" in text
    assert "\x1b[" not in text.splitlines()[3]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--since", "soon"], "--since"),
        (["--since", "0h"], "--since"),
        (["--since", "2999-01-01"], "--since"),
        (["--since", ""], "--since"),
        (["--since", "2026-02-30"], "--since"),
        (["--limit", "0"], "--limit"),
        (["--limit", "-1"], "--limit"),
        (["--limit", "10001"], "--limit"),
        (["--limit", "x"], "--limit"),
    ],
)
def test_bad_input_is_exit_2_before_any_request(
    invoke: Invoke, mock_client: MagicMock, args: list[str], option: str
) -> None:
    result = invoke("task", "history", "nightly-backup", *args)
    assert result.exit_code == 2, result.stderr
    assert option in result.stderr
    assert mock_client.method_calls == []
    assert not cast(MagicMock, vrgtask.context.build_client).called


def test_help_has_examples(invoke: Invoke) -> None:
    result = invoke("task", "history", "--help")
    assert "Examples:" in result.stdout
    assert "vrgtask task history nightly-snapshot --since 7d --errors" in result.stdout
    assert "history" in invoke("task", "--help").stdout


def test_entries_are_newest_first_whatever_the_server_order(
    invoke: Invoke, client: MagicMock
) -> None:
    client.logs.list.return_value = [log_entry(*e) for e in reversed(ENTRIES)]
    rows = json.loads(invoke("task", "history", "nightly-backup", "-o", "json").stdout)
    assert [r["$key"] for r in rows] == [12, 11, 10]
