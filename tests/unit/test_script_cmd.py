"""``vrgtask script ...`` against a mock pyvergeos client (no network).

Scripts are real pyvergeos ``TaskScript`` objects built from dicts; the mock
client only stands in for the manager, so every assertion is about what the
command asked the SDK for and what it printed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from click.testing import CliRunner
from support import Invoke, sdk_object, untouched

from vrgtask.cli import cli
from vrgtask.commands.script import code_size

#: CRLF and LF lines, a tab, non-ASCII, and a last line without a newline.
MIXED_CODE = "# cleanup\r\nlog('héllo')\n\tif x {\r\n\t\tlog('→ done')\n}\nlast line"

SCRIPT_ROW: dict[str, Any] = {
    "$key": 500,
    "name": "cleanup",
    "description": "Delete old logs",
    "task_count": 2,
    "code_bytes": 19,
    "code_lines": 2,
    "task_settings": {"questions": []},
    "script": "log('a')\r\nlog('b')\n",
}

KEY_NAME = ["$key", "name"]
BAD_JSON = ["{", "[1, 2]", "null", "3", "{'single': 1}"]


@pytest.fixture
def narrow_script() -> Callable[..., Any]:
    """What a resolution with a narrowed projection returns (no code, maybe no count)."""
    from pyvergeos.resources.task_scripts import TaskScript

    def build(**data: Any) -> Any:
        return sdk_object(TaskScript, {"$key": 500, "name": "cleanup", **data})

    return build


@pytest.fixture
def client(mock_client: MagicMock, make_script: Callable[..., Any]) -> MagicMock:
    from pyvergeos.resources.tasks import Task

    mock_client.task_scripts.list.return_value = [make_script()]
    mock_client.task_scripts.create.return_value = make_script()
    mock_client.task_scripts.update.return_value = make_script()
    # A script run: the action answers with the task that runs it, seen running.
    mock_client._request.return_value = {"task": 42}
    mock_client.tasks.get.return_value = sdk_object(
        Task, {"$key": 42, "name": "run: cleanup", "status": "running", "last_run": 1}
    )
    mock_client.logs.list.return_value = []
    return mock_client


def run_action(client: MagicMock) -> Any:
    """The body of the one run action sent (``POST /task_script_actions``)."""
    client._request.assert_called_once()
    assert client._request.call_args.args == ("POST", "task_script_actions")
    return client._request.call_args.kwargs["json_data"]


# ----------------------------------------------------------------------------- list


def test_list(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("script", "list")
    assert result.exit_code == 0, result.stderr
    client.task_scripts.list.assert_called_once_with()
    header, _rule, line = result.stdout.splitlines()
    assert header.split() == ["Key", "Name", "Description", "Tasks"]
    assert line.split() == ["500", "cleanup", "Delete", "old", "logs", "2"]
    assert "log(" not in result.stdout


def test_list_wide_shows_code_size(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("script", "list", "-o", "wide")
    assert result.exit_code == 0, result.stderr
    header, _rule, line = result.stdout.splitlines()
    assert "Code Size" in header
    assert "Lines" in header
    assert "19 bytes" in line
    assert line.split()[-1] == "2"


def test_list_json_and_quiet(invoke: Invoke, client: MagicMock) -> None:
    as_json = invoke("script", "list", "-o", "json")
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [SCRIPT_ROW]
    quiet = invoke("script", "list", "-q")
    assert quiet.stdout == "500\n"


def test_list_csv_has_no_code(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("script", "list", "-o", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "$key,name,description,task_count,code_bytes,code_lines"


def test_list_empty(invoke: Invoke, client: MagicMock) -> None:
    client.task_scripts.list.return_value = []
    result = invoke("script", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No task scripts found." in result.stderr


# ----------------------------------------------------------------------------- get


def test_get_table_summarises_the_code(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("script", "get", "cleanup")
    assert result.exit_code == 0, result.stderr
    client.task_scripts.list.assert_called_once_with(filter="name eq 'cleanup'", fields=None)
    assert "2 lines, 19 bytes (use --show-code or -o json)" in result.stdout
    assert "log('a')" not in result.stdout


def test_get_by_key(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("script", "get", "500", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_scripts.list.assert_called_once_with(
        filter="(name eq '500') or ($key eq 500)", fields=None
    )
    assert result.stdout == ""


def test_get_json_has_the_whole_code(
    invoke: Invoke, client: MagicMock, make_script: Callable[..., Any]
) -> None:
    big = "x = 1\n" * 5000
    client.task_scripts.list.return_value = [make_script(script=big)]
    result = invoke("script", "get", "cleanup", "-o", "json")
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["script"] == big
    assert row["code_lines"] == 5000
    assert row["code_bytes"] == len(big)


def test_get_table_counts_large_code_with_separators(
    invoke: Invoke, client: MagicMock, make_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [make_script(script="é\n" * 1500)]
    result = invoke("script", "get", "cleanup")
    assert "1,500 lines, 4,500 bytes (use --show-code or -o json)" in result.stdout


def test_get_show_code_prints_table_then_code_verbatim(
    client: MagicMock, make_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [make_script(script=MIXED_CODE)]
    result = CliRunner().invoke(cli, ["script", "get", "cleanup", "--show-code"])
    assert result.exit_code == 0, result.output
    # Result.stdout folds CRLF; the bytes are what a pipe receives.
    head, sep, code = result.stdout_bytes.partition(b"\n\n")
    assert sep
    assert code == MIXED_CODE.encode("utf-8")
    table = head.decode()
    assert table.splitlines()[0].split() == ["Field", "Value"]
    assert "(shown below)" in table
    assert "--show-code" not in table


def test_get_show_code_quiet_prints_only_the_code(
    client: MagicMock, make_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [make_script(script=MIXED_CODE)]
    result = CliRunner().invoke(cli, ["script", "get", "cleanup", "--show-code", "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == MIXED_CODE.encode("utf-8")


def test_get_show_code_keeps_escape_sequences_when_piped(
    client: MagicMock, make_script: Callable[..., Any]
) -> None:
    code = "log('\x1b[31mred\x1b[0m')\n"
    client.task_scripts.list.return_value = [make_script(script=code)]
    result = CliRunner().invoke(cli, ["script", "get", "cleanup", "--show-code", "-q"])
    assert result.stdout_bytes == code.encode()


def test_get_show_code_with_json_is_json_only(
    invoke: Invoke, client: MagicMock, make_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [make_script(script=MIXED_CODE)]
    result = invoke("script", "get", "cleanup", "--show-code", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["script"] == MIXED_CODE


def test_get_query_field(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("script", "get", "cleanup", "--query", "task_count", "--show-code")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "2\n"


def test_get_unknown_exits_6(invoke: Invoke, client: MagicMock) -> None:
    client.task_scripts.list.return_value = []
    result = invoke("script", "get", "nope")
    assert result.exit_code == 6
    assert result.stderr == "Error: no script is named 'nope'\n"


def test_get_ambiguous_exits_7(
    invoke: Invoke, client: MagicMock, make_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [make_script(), make_script(**{"$key": 501})]
    result = invoke("script", "get", "cleanup")
    assert result.exit_code == 7
    assert "key 500" in result.stderr
    assert "key 501" in result.stderr


def test_get_empty_name_is_a_usage_error(invoke: Invoke, mock_client: MagicMock) -> None:
    result = invoke("script", "get", " ")
    assert result.exit_code == 2
    mock_client.task_scripts.list.assert_not_called()


# ----------------------------------------------------------------------------- create


def test_create_inline(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("script", "create", "--name", "cleanup", "--code", "log('a')")
    assert result.exit_code == 0, result.stderr
    client.task_scripts.create.assert_called_once_with(
        name="cleanup", script="log('a')", description=None, task_settings=None
    )
    assert result.stdout == "Created script 'cleanup' (key 500): 1 line, 8 bytes\n"


def test_create_code_not_applied_is_reported(invoke: Invoke, client: MagicMock) -> None:
    """The server answered 200 but kept other code: exit 1 naming the field."""
    client.task_scripts.create.side_effect = None
    result = invoke("script", "create", "--name", "cleanup", "--code", "log('new')")
    assert result.exit_code == 1
    assert "did not apply the field script" in result.stderr
    assert "vrgtask script get 500" in result.stderr


def test_create_from_file_is_byte_exact(invoke: Invoke, client: MagicMock, tmp_path: Path) -> None:
    path = tmp_path / "cleanup.gcs"
    path.write_bytes(MIXED_CODE.encode("utf-8"))
    result = invoke(
        "script", "create", "--name", "cleanup", "--code-file", str(path),
        "--description", "Cleans", "--settings-json", '{"questions": [{"name": "days"}]}',
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    sent = client.task_scripts.create.call_args.kwargs
    assert sent["script"].encode("utf-8") == path.read_bytes()
    assert sent["description"] == "Cleans"
    assert sent["task_settings"] == {"questions": [{"name": "days"}]}


def test_create_keeps_a_byte_order_mark(invoke: Invoke, client: MagicMock, tmp_path: Path) -> None:
    path = tmp_path / "bom.gcs"
    path.write_bytes(b"\xef\xbb\xbflog(1)\r\n")
    assert invoke("script", "create", "--name", "b", "--code-file", str(path)).exit_code == 0
    assert client.task_scripts.create.call_args.kwargs["script"] == "\ufefflog(1)\r\n"


def test_create_from_stdin(client: MagicMock) -> None:
    data = MIXED_CODE.encode("utf-8")
    result = CliRunner().invoke(
        cli, ["script", "create", "--name", "cleanup", "--code-file", "-"], input=data
    )
    assert result.exit_code == 0, result.output
    assert client.task_scripts.create.call_args.kwargs["script"] == MIXED_CODE


def test_create_json_and_quiet(invoke: Invoke, client: MagicMock) -> None:
    as_json = invoke("script", "create", "--name", "cleanup", "--code", "x", "-o", "json")
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {
        **SCRIPT_ROW,
        "script": "x",
        "code_bytes": 1,
        "code_lines": 1,
    }
    quiet = invoke("script", "create", "--name", "cleanup", "--code", "x", "-q")
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stdout == ""


def test_create_not_utf8_file(invoke: Invoke, mock_client: MagicMock, tmp_path: Path) -> None:
    path = tmp_path / "latin1.gcs"
    path.write_bytes("log('caf\xe9')\n".encode("latin-1"))
    result = invoke("script", "create", "--name", "x", "--code-file", str(path))
    assert result.exit_code == 2
    assert "'--code-file'" in result.stderr
    assert "not UTF-8" in result.stderr
    assert "0xe9 at offset 8" in result.stderr
    untouched(mock_client)


def test_create_not_utf8_stdin(mock_client: MagicMock) -> None:
    result = CliRunner().invoke(
        cli, ["script", "create", "--name", "x", "--code-file", "-"], input=b"\xff\xfe"
    )
    assert result.exit_code == 2
    assert "standard input is not UTF-8" in result.stderr
    untouched(mock_client)


def test_create_missing_file(invoke: Invoke, mock_client: MagicMock, tmp_path: Path) -> None:
    result = invoke("script", "create", "--name", "x", "--code-file", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "'--code-file'" in result.stderr
    untouched(mock_client)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--name", "x"], "--code"),
        (["--name", "x", "--code", "a", "--code-file", "-"], "mutually exclusive"),
        (["--code", "a"], "'--name'"),
        (["--name", " ", "--code", "a"], "'--name'"),
    ],
)
def test_create_usage_errors(
    invoke: Invoke, mock_client: MagicMock, args: list[str], named: str
) -> None:
    result = invoke("script", "create", *args, input="stdin code")
    assert result.exit_code == 2
    assert named in result.stderr
    untouched(mock_client)


@pytest.mark.parametrize("value", BAD_JSON)
def test_create_bad_settings_json(invoke: Invoke, mock_client: MagicMock, value: str) -> None:
    result = invoke("script", "create", "--name", "x", "--code", "a", "--settings-json", value)
    assert result.exit_code == 2
    assert "'--settings-json'" in result.stderr
    untouched(mock_client)


def test_create_duplicate_name_is_a_conflict(invoke: Invoke, client: MagicMock) -> None:
    from pyvergeos.exceptions import ConflictError

    client.task_scripts.create.side_effect = ConflictError("already exists", 409)
    result = invoke("script", "create", "--name", "cleanup", "--code", "a")
    assert result.exit_code == 7


# ----------------------------------------------------------------------------- update


def test_update(invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]) -> None:
    client.task_scripts.list.return_value = [narrow_script()]
    result = invoke("script", "update", "cleanup", "--description", "new", "--code", "b")
    assert result.exit_code == 0, result.stderr
    client.task_scripts.list.assert_called_once_with(filter="name eq 'cleanup'", fields=KEY_NAME)
    client.task_scripts.update.assert_called_once_with(500, description="new", script="b")
    assert result.stdout == "Updated script 'cleanup' (key 500)\n"


def test_update_every_field_from_file(
    invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any], tmp_path: Path
) -> None:
    client.task_scripts.list.return_value = [narrow_script()]
    path = tmp_path / "v2.gcs"
    path.write_bytes(MIXED_CODE.encode())
    result = invoke(
        "script", "update", "500", "--name", "cleanup-v2", "--description", "",
        "--code-file", str(path), "--settings-json", "{}", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    client.task_scripts.update.assert_called_once_with(
        500, name="cleanup-v2", description="", script=MIXED_CODE, task_settings={}
    )
    lines, size = code_size(MIXED_CODE)
    assert json.loads(result.stdout) == {
        **SCRIPT_ROW,
        "name": "cleanup-v2",
        "description": "",
        "script": MIXED_CODE,
        "task_settings": {},
        "code_bytes": size,
        "code_lines": lines,
    }


def test_update_quiet(invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]) -> None:
    client.task_scripts.list.return_value = [narrow_script()]
    result = invoke("script", "update", "cleanup", "--name", "c2", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ([], "nothing to change"),
        (["--code", "a", "--code-file", "-"], "mutually exclusive"),
        (["--name", ""], "'--name'"),
        (["--settings-json", "[]"], "'--settings-json'"),
    ],
)
def test_update_usage_errors(
    invoke: Invoke, mock_client: MagicMock, args: list[str], named: str
) -> None:
    result = invoke("script", "update", "cleanup", *args, input="x")
    assert result.exit_code == 2
    assert named in result.stderr
    untouched(mock_client)


def test_update_unknown(invoke: Invoke, client: MagicMock) -> None:
    client.task_scripts.list.return_value = []
    result = invoke("script", "update", "nope", "--name", "x")
    assert result.exit_code == 6
    client.task_scripts.update.assert_not_called()


# ----------------------------------------------------------------------------- delete


def test_delete(invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]) -> None:
    client.task_scripts.list.return_value = [narrow_script(task_count=2)]
    result = invoke("script", "delete", "cleanup", "--yes")
    assert result.exit_code == 0, result.stderr
    client.task_scripts.list.assert_called_once_with(
        filter="name eq 'cleanup'", fields=["$key", "name", "count(tasks) as task_count"]
    )
    client.task_scripts.delete.assert_called_once_with(500)
    assert result.stdout == "Deleted script 'cleanup' (key 500) and the 2 tasks it owned\n"


def test_delete_without_yes_names_the_cascade(
    invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [narrow_script(task_count=1)]
    result = invoke("script", "delete", "cleanup")
    assert result.exit_code == 2
    assert "Delete script 'cleanup' (key 500) and the 1 task it owns" in result.stderr
    assert "deleted with it" in result.stderr
    assert "--yes" in result.stderr
    client.task_scripts.delete.assert_not_called()


def test_delete_json(invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]) -> None:
    client.task_scripts.list.return_value = [narrow_script(task_count=0)]
    result = invoke("script", "delete", "cleanup", "-y", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "$key": 500,
        "name": "cleanup",
        "task_count": 0,
        "deleted": True,
    }


def test_delete_quiet(invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]) -> None:
    client.task_scripts.list.return_value = [narrow_script(task_count=0)]
    result = invoke("script", "delete", "cleanup", "-y", "-q")
    assert result.exit_code == 0, result.stderr
    client.task_scripts.delete.assert_called_once_with(500)
    assert result.stdout == ""


def test_delete_ambiguous(
    invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [
        narrow_script(task_count=0),
        narrow_script(task_count=0, **{"$key": 501}),
    ]
    result = invoke("script", "delete", "cleanup", "--yes")
    assert result.exit_code == 7
    client.task_scripts.delete.assert_not_called()


# ----------------------------------------------------------------------------- run


def test_run(invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]) -> None:
    client.task_scripts.list.return_value = [narrow_script()]
    result = invoke("script", "run", "cleanup")
    assert result.exit_code == 0, result.stderr
    client.task_scripts.list.assert_called_once_with(filter="name eq 'cleanup'", fields=KEY_NAME)
    assert run_action(client) == {"task_script": 500, "action": "run", "params": {}}
    client.task_scripts.run.assert_not_called()
    assert result.stdout == (
        "Ran script 'cleanup' (key 500) as task 42: task 'run: cleanup' (key 42) started "
        "(it is running)\n"
    )


def test_run_with_params_json(
    invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [narrow_script()]
    result = invoke("script", "run", "cleanup", "--params-json", '{"days": 7, "dry": true}',
                    "-o", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert run_action(client)["params"] == {"days": 7, "dry": True}
    row = json.loads(result.stdout)
    assert {k: row[k] for k in ("$key", "name", "task", "response", "run")} == {
        "$key": 500,
        "name": "cleanup",
        "task": 42,
        "response": {"task": 42},
        "run": "started",
    }


@pytest.mark.parametrize("params", [{"key": 1}, {"self": 1}, {"key": 1, "self": 2, "action": 3}])
def test_run_params_are_data_not_keywords(
    invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any], params: dict[str, int]
) -> None:
    """Names the SDK's keyword arguments would have clashed with reach the server."""
    client.task_scripts.list.return_value = [narrow_script()]
    result = invoke("script", "run", "cleanup", "--params-json", json.dumps(params))
    assert result.exit_code == 0, result.stderr
    assert run_action(client)["params"] == params


def test_run_query_task(
    invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [narrow_script()]
    result = invoke("script", "run", "cleanup", "--query", "task")
    assert result.stdout == "42\n"


def test_run_without_a_task_in_the_answer(
    invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]
) -> None:
    client.task_scripts.list.return_value = [narrow_script()]
    client._request.return_value = None
    result = invoke("script", "run", "cleanup")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Started script 'cleanup' (key 500); the server did not name the task that runs it\n"
    )
    waited = invoke("script", "run", "cleanup", "--wait")
    assert waited.exit_code == 1
    assert "cannot be waited for" in waited.stderr


def test_run_quiet(invoke: Invoke, client: MagicMock, narrow_script: Callable[..., Any]) -> None:
    client.task_scripts.list.return_value = [narrow_script()]
    result = invoke("script", "run", "cleanup", "-q")
    assert result.exit_code == 0, result.stderr
    assert run_action(client)["task_script"] == 500
    assert result.stdout == ""


@pytest.mark.parametrize("value", BAD_JSON)
def test_run_bad_params(invoke: Invoke, mock_client: MagicMock, value: str) -> None:
    result = invoke("script", "run", "cleanup", "--params-json", value)
    assert result.exit_code == 2
    assert "'--params-json'" in result.stderr
    untouched(mock_client)


def test_run_unknown(invoke: Invoke, client: MagicMock) -> None:
    client.task_scripts.list.return_value = []
    result = invoke("script", "run", "nope")
    assert result.exit_code == 6
    client._request.assert_not_called()


# ----------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (None, (0, 0)),
        ("", (0, 0)),
        ("a", (1, 1)),
        ("a\n", (1, 2)),
        ("a\r\nb", (2, 4)),
        ("\n\n", (2, 2)),
        ("é→", (1, 5)),
    ],
)
def test_code_size(code: str | None, expected: tuple[int, int]) -> None:
    assert code_size(code) == expected


# ----------------------------------------------------------------------------- help, links


@pytest.mark.parametrize("command", ["list", "get", "create", "update", "delete", "run"])
def test_help_has_examples(invoke: Invoke, command: str) -> None:
    result = invoke("script", command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"vrgtask script {command}" in result.stdout
    for option in ("--output", "--query", "--quiet"):
        assert option in result.stdout


def test_group_help_has_examples(invoke: Invoke) -> None:
    result = invoke("script", "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    for command in ("list", "get", "create", "update", "delete", "run"):
        assert f"  {command} " in result.stdout


def test_reached_under_task(invoke: Invoke, client: MagicMock) -> None:
    result = invoke("task", "script", "list", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "500\n"
    listed = invoke("task", "--help")
    assert "script" in listed.stdout.split("Commands:")[1]
