"""``vrgtask event ...`` and ``vrgtask script ...`` end to end.

The real CLI and pyvergeos over HTTPS against the sandbox (reseeded per test,
TLS verified). In-process runs register the two groups on the root group the
way their entry points will; the subprocess runs (byte-exact pipes, ``--help``)
get them from a throw-away distribution that declares exactly the entry
points setup.cfg is to declare, so they are loaded through the
``vrgtask.commands`` group like every other command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import Outcome, run_cli

from vrgtask.cli import cli
from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

#: CRLF and LF lines, tabs, non-ASCII (2- and 3-byte), a last line without newline.
MIXED_BYTES = (
    b"# cleanup script\r\n"
    b"let days = 14\n"
    b"\tif days > 7 {\r\n"
    b"\t\tlog('caf\xc3\xa9 \xe2\x86\x92 done')\n"
    b"}\r\n"
    b"\n"
    b"log('no newline at the end')"
)

ENTRY_POINTS = """\
[vrgtask.commands]
event = vrgtask.commands.event:event
script = vrgtask.commands.script:script
"""


@pytest.fixture(scope="session")
def entry_point_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a distribution that declares the event/script entry points."""
    root = tmp_path_factory.mktemp("entry-points")
    info = root / "vrgtask_e2e_entry_points-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: vrgtask-e2e-entry-points\nVersion: 0.0\n"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return root


def run_bytes(
    *args: str, dist: Path | None, input: bytes = b"", timeout: float = 60
) -> tuple[int, bytes, str]:
    """``python -m vrgtask ARGS`` in a subprocess; stdout as bytes (no newline folding)."""
    env = dict(os.environ)
    if dist is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(dist), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "vrgtask", *args],
        input=input,
        capture_output=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def cli_bytes(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    """In-process run; stdout as bytes (``Result.stdout`` folds CRLF)."""
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True)
    return result.exit_code, result.stdout_bytes, result.stderr


def ok(*args: str, input: str | None = None) -> Outcome:
    out = run_cli(*args, input=input)
    assert out.exit_code == 0, (args, out.stderr)
    return out


def as_json(*args: str) -> Any:
    return json.loads(ok(*args, "-o", "json").stdout)


def api_calls(server: SandboxServer) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in server.log.entries()]


def state_table(server: SandboxServer, table: str) -> dict[str, Any]:
    rows: dict[str, Any] = json.loads(server.emulator.export_state())["tables"][table]
    return rows


# ============================================================================= events


def test_event_list(sandbox_env: SandboxServer) -> None:
    out = ok("event", "list")
    header, _rule, line = out.stdout.splitlines()
    assert header.split() == ["Key", "Task", "Event", "Table", "Owner"]
    assert line.split() == ["1", "power-on-dev", "Login", "users", "ops"]
    assert api_calls(sandbox_env) == [("GET", "/api/v4/system"), ("GET", "/api/v4/task_events")]
    wide = ok("event", "list", "-o", "wide").stdout
    assert "Owner Ref" in wide
    assert "users/3" in wide


def test_user_login_event_appears_in_list_by_task(sandbox_env: SandboxServer) -> None:
    before = as_json("event", "list", "--task", "nightly-snapshot")
    assert before == []
    sandbox_env.log.clear()
    made = ok("event", "create", "nightly-snapshot", "--owner", "users/3", "--event", "login")
    key = max(int(k) for k in state_table(sandbox_env, "task_events"))
    assert made.stdout == (
        f"Created event {key} (Login on users) for users/3 ('ops') "
        "running task 'nightly-snapshot' (key 1)\n"
    )
    # connection check, task resolution, the POST, one read back.
    assert api_calls(sandbox_env) == [
        ("GET", "/api/v4/system"),
        ("GET", "/api/v4/tasks"),
        ("POST", "/api/v4/task_events"),
        ("GET", f"/api/v4/task_events/{key}"),
    ]
    rows = as_json("event", "list", "--task", "nightly-snapshot")
    assert rows == [
        {
            "$key": key,
            "task_key": 1,
            "task_display": "nightly-snapshot",
            "event": "login",
            "event_name": "Login",
            "table": "users",
            "owner": "users/3",
            "owner_display": "ops",
            "table_event_filters": None,
            "context": None,
        }
    ]
    table = ok("event", "list", "--task", "1").stdout
    assert table.splitlines()[2].split() == [str(key), "nightly-snapshot", "Login", "users", "ops"]
    stored = state_table(sandbox_env, "task_events")[str(key)]
    assert stored["owner"] == "users/3"  # the owner given, not the task's (vms/1)
    assert stored["task"] == 1


def test_task_get_shows_event_count_going_up(sandbox_env: SandboxServer) -> None:
    assert as_json("task", "get", "nightly-snapshot")["events_count"] == 0
    ok("event", "create", "nightly-snapshot", "--owner", "users/3", "--event", "login")
    assert as_json("task", "get", "nightly-snapshot")["events_count"] == 1
    ok("event", "create", "1", "--owner", "1", "--table", "users", "--event", "logout")
    assert as_json("task", "get", "nightly-snapshot")["events_count"] == 2
    wide = ok("task", "get", "nightly-snapshot", "-o", "wide").stdout
    events_line = next(line for line in wide.splitlines() if line.startswith("Events"))
    assert events_line.split() == ["Events", "2"]
    listed = as_json("task", "list")
    assert next(t for t in listed if t["name"] == "nightly-snapshot")["events_count"] == 2


def test_deleting_the_task_removes_its_events(sandbox_env: SandboxServer) -> None:
    made = as_json(
        "task", "create", "--name", "on-login", "--owner", "vms/2", "--action", "poweron"
    )
    task_key = made["$key"]
    keys = []
    for user in ("users/1", "users/3"):
        created = as_json("event", "create", "on-login", "--owner", user, "--event", "login")
        keys.append(created["$key"])
    assert [e["$key"] for e in as_json("event", "list", "--task", "on-login")] == keys
    assert as_json("task", "get", "on-login")["events_count"] == 2

    ok("task", "delete", "on-login", "--yes")

    gone = run_cli("event", "list", "--task", str(task_key))
    assert gone.exit_code == 6
    remaining = as_json("event", "list")
    assert [e["$key"] for e in remaining] == [1]  # the seeded one stays
    assert all(e["task_key"] != task_key for e in remaining)
    assert all(row["task"] != task_key for row in state_table(sandbox_env, "task_events").values())
    for key in keys:
        assert run_cli("event", "get", str(key)).exit_code == 6


def test_event_list_by_owner_compares_the_whole_reference(sandbox_env: SandboxServer) -> None:
    # Same key (3), other table: an owner filter by key alone would match it too.
    vm = as_json("event", "create", "nightly-snapshot", "--owner", "vms/3", "--event", "poweron")
    by_user = [e["$key"] for e in as_json("event", "list", "--owner", "users/3")]
    assert by_user == [1]
    by_bare = [e["$key"] for e in as_json("event", "list", "--owner", "3", "--table", "users")]
    assert by_bare == [1]
    by_vm = [e["$key"] for e in as_json("event", "list", "--owner", "vms/3")]
    assert by_vm == [vm["$key"]]
    assert ok("event", "list", "--table", "vms", "--event", "poweron", "-q").stdout == (
        f"{vm['$key']}\n"
    )
    combined = ok("event", "list", "--task", "power-on-dev", "--owner", "users/3", "-q")
    assert combined.stdout == "1\n"


def test_event_create_with_filters_context_and_other_table(sandbox_env: SandboxServer) -> None:
    made = as_json(
        "event", "create", "tenant-poweroff", "--owner", "vms/1", "--table", "alarms",
        "--event", "raised", "--event-name", "Alarm raised",
        "--filters-json", '{"level": "critical"}', "--context-json", '{"why": "alarm"}',
    )  # fmt: skip
    assert made["owner"] == "vms/1"
    assert made["owner_display"] == "web-01"
    assert made["table"] == "alarms"
    assert made["event"] == "raised"
    assert made["event_name"] == "Alarm raised"
    assert made["table_event_filters"] == {"level": "critical"}
    assert made["context"] == {"why": "alarm"}
    assert made["task_display"] == "tenant-poweroff"


def test_event_get_update_delete(sandbox_env: SandboxServer) -> None:
    got = as_json("event", "get", "1")
    assert got["task_display"] == "power-on-dev"
    assert got["owner"] == "users/3"
    table = ok("event", "get", "1").stdout
    assert "Owner Ref" in table
    assert "users/3" in table

    updated = as_json("event", "update", "1", "--filters-json", '{"realm": "corp"}')
    assert updated["table_event_filters"] == {"realm": "corp"}
    assert updated["context"] is None
    msg = ok("event", "update", "1", "--context-json", '{"reason": "login"}')
    assert msg.stdout == "Updated event 1 (Login on users)\n"
    stored = state_table(sandbox_env, "task_events")["1"]
    assert stored["table_event_filters"] == {"realm": "corp"}
    assert stored["context"] == {"reason": "login"}

    before = sandbox_env.emulator.digest()
    refused = run_cli("event", "delete", "1")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr
    assert sandbox_env.emulator.digest() == before

    deleted = ok("event", "delete", "1", "--yes")
    assert deleted.stdout == (
        "Deleted event 1 (Login on users) that ran task 'power-on-dev' (key 2)\n"
    )
    assert state_table(sandbox_env, "task_events") == {}
    assert as_json("task", "get", "power-on-dev")["events_count"] == 0  # the task stays


def test_event_delete_json_and_quiet(sandbox_env: SandboxServer) -> None:
    second = as_json("event", "create", "2", "--owner", "users/1", "--event", "logout")
    row = as_json("event", "delete", "1", "--yes")
    assert row["$key"] == 1
    assert row["deleted"] is True
    assert ok("event", "delete", str(second["$key"]), "--yes", "-q").stdout == ""
    assert state_table(sandbox_env, "task_events") == {}


def test_event_trigger_runs_the_task(sandbox_env: SandboxServer) -> None:
    """The run is queued (the sandbox's start delay): reported as accepted, not as running."""
    sandbox_env.log.clear()
    out = ok("event", "trigger", "1")
    assert out.stdout == (
        "Triggered event 1 (Login on users): the server accepted the request; task "
        "'power-on-dev' (key 2) has not started yet (queued). Follow it with: "
        "vrgtask task wait 2\n"
    )
    assert api_calls(sandbox_env) == [
        ("GET", "/api/v4/system"),
        ("GET", "/api/v4/task_events/1"),
        ("GET", "/api/v4/tasks/2"),
        ("GET", "/api/v4/logs"),
        ("POST", "/api/v4/task_event_actions"),
        ("GET", "/api/v4/tasks/2"),
        ("GET", "/api/v4/logs"),
    ]
    again = run_cli("event", "trigger", "1")
    assert again.exit_code == 7
    assert "already running or queued" in again.stderr
    waited = ok("task", "wait", "power-on-dev")
    assert waited.stdout.endswith("task log: Task 'power-on-dev' completed\n")


def test_event_trigger_passes_the_context(sandbox_env: SandboxServer) -> None:
    failed = run_cli(
        "-o", "json", "event", "trigger", "1", "--wait", "--context-json",
        '{"sandbox_start_delay": 0, "sandbox_duration": 0, "sandbox_fail": "no"}',
    )  # fmt: skip
    assert failed.exit_code == 1
    assert failed.stderr.strip() == (
        "Error: task 'power-on-dev' (key 2) failed; task log: Task 'power-on-dev' failed: no"
    )
    text = run_cli(
        "event", "trigger", "1", "--context-json",
        '{"sandbox_start_delay": 0, "sandbox_duration": 60}',
    )  # fmt: skip
    assert text.exit_code == 0, text.stderr
    assert text.stdout.endswith("started (it is running)\n")


def test_event_unknown_key_exits_6(sandbox_env: SandboxServer) -> None:
    before = sandbox_env.emulator.digest()
    for command in (
        ["get", "99"],
        ["update", "99", "--context-json", "{}"],
        ["delete", "99", "--yes"],
        ["trigger", "99"],
    ):
        out = run_cli("event", *command)
        assert out.exit_code == 6, (command, out.stderr)
        assert out.stderr.startswith("Error: not found:")
    assert sandbox_env.emulator.digest() == before


def test_event_unknown_and_ambiguous_task(sandbox_env: SandboxServer) -> None:
    for owner in ("vms/1", "vms/2"):
        ok("task", "create", "--name", "twin", "--owner", owner, "--action", "poweron")
    before = sandbox_env.emulator.digest()
    ambiguous = run_cli("event", "create", "twin", "--owner", "users/3", "--event", "login")
    assert ambiguous.exit_code == 7
    assert "2 tasks are named 'twin'" in ambiguous.stderr
    assert run_cli("event", "list", "--task", "twin").exit_code == 7
    unknown = run_cli("event", "create", "ghost", "--owner", "users/3", "--event", "login")
    assert unknown.exit_code == 6
    assert unknown.stderr == "Error: no task is named 'ghost'\n"
    assert sandbox_env.emulator.digest() == before


def test_event_create_with_unknown_owner_is_rejected_by_the_server(
    sandbox_env: SandboxServer,
) -> None:
    before = sandbox_env.emulator.digest()
    out = run_cli("event", "create", "1", "--owner", "users/99", "--event", "login")
    assert out.exit_code == 8
    assert "Validation error on field: 'owner'" in out.stderr
    assert sandbox_env.emulator.digest() == before


@pytest.mark.parametrize(
    "args",
    [
        ["event", "create", "1", "--owner", "users/3", "--event", "login", "--filters-json", "{"],
        ["event", "create", "1", "--owner", "users/3", "--event", "login", "--context-json", "[]"],
        ["event", "create", "1", "--owner", "3", "--event", "login"],
        ["event", "update", "1", "--filters-json", "nope"],
        ["event", "update", "1"],
        ["event", "trigger", "1", "--context-json", "1"],
        ["event", "list", "--owner", "users/"],
        ["event", "get", "0"],
    ],
)
def test_event_usage_errors_send_nothing(sandbox_env: SandboxServer, args: list[str]) -> None:
    out = run_cli(*args)
    assert out.exit_code == 2, out.stderr
    assert sandbox_env.log.entries() == []


def test_task_event_spelling(sandbox_env: SandboxServer) -> None:
    assert ok("task", "event", "list", "--task", "power-on-dev", "-q").stdout == "1\n"
    assert as_json("task", "event", "get", "1") == as_json("event", "get", "1")
    made = as_json("task", "event", "create", "3", "--owner", "tenants/2", "--event", "poweroff")
    assert made["owner_display"] == "globex"
    assert ok("task", "event", "delete", str(made["$key"]), "-y", "-q").stdout == ""


# ============================================================================= scripts


def test_script_list(sandbox_env: SandboxServer) -> None:
    out = ok("script", "list")
    header, _rule, line = out.stdout.splitlines()
    assert header.split() == ["Key", "Name", "Description", "Tasks"]
    assert line.split() == ["1", "cleanup-logs", "Delete", "old", "log", "files", "1"]
    assert api_calls(sandbox_env) == [("GET", "/api/v4/system"), ("GET", "/api/v4/task_scripts")]
    wide = ok("script", "list", "-o", "wide").stdout
    assert "28 bytes" in wide
    assert ok("script", "list", "-q").stdout == "1\n"


def test_script_get_table_json_and_requests(sandbox_env: SandboxServer) -> None:
    table = ok("script", "get", "cleanup-logs").stdout
    assert "1 line, 28 bytes (use --show-code or -o json)" in table
    assert "cleaning up" not in table
    assert api_calls(sandbox_env) == [("GET", "/api/v4/system"), ("GET", "/api/v4/task_scripts")]
    by_name = as_json("script", "get", "cleanup-logs")
    assert by_name == as_json("script", "get", "1")
    assert by_name["script"] == "log('cleaning up old logs')\n"
    assert by_name["task_count"] == 1
    assert by_name["task_settings"] == {"questions": []}


def test_script_from_file_round_trips_byte_for_byte(
    sandbox_env: SandboxServer, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.gcs"
    path.write_bytes(MIXED_BYTES)
    made = ok("script", "create", "--name", "mixed", "--code-file", str(path))
    assert made.stdout.endswith(f": 7 lines, {len(MIXED_BYTES)} bytes\n")

    stored = next(
        r for r in state_table(sandbox_env, "task_scripts").values() if r["name"] == "mixed"
    )
    assert stored["script"].encode("utf-8") == MIXED_BYTES

    got = as_json("script", "get", "mixed")
    assert got["script"].encode("utf-8") == MIXED_BYTES
    assert got["code_bytes"] == len(MIXED_BYTES)

    code, stdout, stderr = cli_bytes("script", "get", "mixed", "--show-code", "-q")
    assert code == 0, stderr
    assert stdout == MIXED_BYTES

    code, stdout, stderr = cli_bytes("script", "get", "mixed", "--show-code")
    assert code == 0, stderr
    head, sep, tail = stdout.partition(b"\n\n")
    assert sep
    assert tail == MIXED_BYTES
    assert b"(shown below)" in head


def test_script_round_trip_through_real_pipes(
    sandbox_env: SandboxServer, entry_point_dist: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = run_bytes(
        "script", "create", "--name", "piped", "--code-file", "-",
        dist=entry_point_dist, input=MIXED_BYTES,
    )  # fmt: skip
    assert code == 0, stderr
    code, stdout, stderr = run_bytes(
        "script", "get", "piped", "--show-code", "-q", dist=entry_point_dist
    )
    assert code == 0, stderr
    assert stdout == MIXED_BYTES
    code, stdout, stderr = run_bytes("script", "get", "piped", "-o", "json", dist=entry_point_dist)
    assert code == 0, stderr
    assert json.loads(stdout)["script"].encode("utf-8") == MIXED_BYTES


def test_script_not_utf8_file_sends_nothing(sandbox_env: SandboxServer, tmp_path: Path) -> None:
    path = tmp_path / "latin1.gcs"
    path.write_bytes(b"log('caf\xe9')\r\n")
    out = run_cli("script", "create", "--name", "latin", "--code-file", str(path))
    assert out.exit_code == 2
    assert "'--code-file'" in out.stderr
    assert "not UTF-8" in out.stderr
    assert sandbox_env.log.entries() == []


def test_script_create_update_run_delete(sandbox_env: SandboxServer) -> None:
    made = as_json(
        "script", "create", "--name", "hello", "--code", "log('hello')",
        "--description", "Says hello", "--settings-json", '{"questions": [{"name": "who"}]}',
    )  # fmt: skip
    key = made["$key"]
    assert made["script"] == "log('hello')"
    assert made["description"] == "Says hello"
    assert made["task_settings"] == {"questions": [{"name": "who"}]}
    assert made["task_count"] == 0

    updated = ok("script", "update", "hello", "--name", "hello-v2", "--code", "log('v2')\n")
    assert updated.stdout == f"Updated script 'hello-v2' (key {key})\n"
    got = as_json("script", "get", str(key))
    assert got["name"] == "hello-v2"
    assert got["script"] == "log('v2')\n"
    assert got["description"] == "Says hello"

    started = ok("script", "run", "hello-v2", "--params-json", '{"sandbox_start_delay": 0}')
    task_key = max(int(k) for k in state_table(sandbox_env, "tasks"))
    assert started.stdout == (
        f"Ran script 'hello-v2' (key {key}) as task {task_key}: task 'run: hello-v2' "
        f"(key {task_key}) started (it is running)\n"
    )
    task = as_json("task", "get", str(task_key))
    assert task["owner"] == f"task_scripts/{key}"
    assert task["status"] == "running"
    assert task["delete_after_run"] is True
    assert as_json("script", "get", "hello-v2")["task_count"] == 1

    refused = run_cli("script", "delete", "hello-v2")
    assert refused.exit_code == 2
    assert "the 1 task it owns" in refused.stderr
    assert run_cli("task", "get", str(task_key)).exit_code == 0

    deleted = as_json("script", "delete", "hello-v2", "--yes")
    assert deleted == {"$key": key, "name": "hello-v2", "task_count": 1, "deleted": True}
    assert run_cli("script", "get", str(key)).exit_code == 6
    assert run_cli("task", "get", str(task_key)).exit_code == 6  # cascaded


def test_script_run_with_params_and_json(sandbox_env: SandboxServer) -> None:
    quick = '{"sandbox_duration": 0, "sandbox_start_delay": 0}'
    result = as_json("script", "run", "cleanup-logs", "--params-json", quick)
    task_key = result["task"]
    assert result["$key"] == 1
    assert result["name"] == "cleanup-logs"
    assert result["response"] == {"task": task_key}
    # A zero-length successful run is over at the next request: the task deletes itself.
    assert run_cli("task", "get", str(task_key)).exit_code == 6
    assert ok("script", "run", "1", "--query", "task").stdout.strip().isdigit()


def test_script_delete_cascades_to_its_tasks(sandbox_env: SandboxServer) -> None:
    assert as_json("task", "get", "weekly-cleanup")["owner"] == "task_scripts/1"
    before = sandbox_env.emulator.digest()
    refused = run_cli("script", "delete", "cleanup-logs")
    assert refused.exit_code == 2
    assert "Delete script 'cleanup-logs' (key 1) and the 1 task it owns" in refused.stderr
    assert sandbox_env.emulator.digest() == before
    out = ok("script", "delete", "cleanup-logs", "--yes")
    assert out.stdout == "Deleted script 'cleanup-logs' (key 1) and the 1 task it owned\n"
    assert run_cli("task", "get", "weekly-cleanup").exit_code == 6
    assert state_table(sandbox_env, "task_scripts") == {}


def test_script_unknown_and_conflicting_names(sandbox_env: SandboxServer) -> None:
    before = sandbox_env.emulator.digest()
    for command in (
        ["get", "nope"],
        ["update", "nope", "--name", "x"],
        ["delete", "nope", "--yes"],
        ["run", "nope"],
    ):
        out = run_cli("script", *command)
        assert out.exit_code == 6, command
        assert out.stderr == "Error: no script is named 'nope'\n"
    assert sandbox_env.emulator.digest() == before
    dup = run_cli("script", "create", "--name", "cleanup-logs", "--code", "x")
    assert dup.exit_code == 7
    assert "already exists" in dup.stderr
    ok("script", "create", "--name", "other", "--code", "x")
    clash = run_cli("script", "update", "other", "--name", "cleanup-logs")
    assert clash.exit_code == 7


@pytest.mark.parametrize(
    "args",
    [
        ["script", "create", "--name", "x", "--code", "a", "--settings-json", "{bad"],
        ["script", "create", "--name", "x"],
        ["script", "create", "--name", "x", "--code", "a", "--code-file", "-"],
        ["script", "update", "cleanup-logs", "--settings-json", "[1]"],
        ["script", "update", "cleanup-logs"],
        ["script", "run", "cleanup-logs", "--params-json", "not json"],
    ],
)
def test_script_usage_errors_send_nothing(sandbox_env: SandboxServer, args: list[str]) -> None:
    out = run_cli(*args)
    assert out.exit_code == 2, out.stderr
    assert sandbox_env.log.entries() == []


def test_task_script_spelling(sandbox_env: SandboxServer) -> None:
    assert ok("task", "script", "list", "-q").stdout == "1\n"
    assert as_json("task", "script", "get", "cleanup-logs") == as_json("script", "get", "1")
    made = as_json("task", "script", "create", "--name", "t", "--code", "x")
    assert ok("task", "script", "delete", "t", "-y").stdout == (
        f"Deleted script 't' (key {made['$key']}) and the 0 tasks it owned\n"
    )


# ============================================================================= loading


def _commands_listed(help_text: str) -> list[str]:
    section = help_text.split("Commands:", 1)[1]
    return [
        line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.split()
    ]


def test_help_lists_every_command_through_the_entry_point_group(entry_point_dist: Path) -> None:
    code, stdout, stderr = run_bytes("--help", dist=entry_point_dist)
    assert code == 0, stderr
    listed = _commands_listed(stdout.decode())
    for name in ("task", "schedule", "trigger", "event", "script", "sandbox"):
        assert name in listed, listed
    code, stdout, stderr = run_bytes("task", "--help", dist=entry_point_dist)
    assert code == 0, stderr
    assert {"event", "script", "schedule", "trigger"} <= set(_commands_listed(stdout.decode()))
