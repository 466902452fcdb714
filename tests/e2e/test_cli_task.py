"""``vrgtask task ...`` end to end: the real CLI and pyvergeos over HTTPS.

Each test runs against the sandbox server (reseeded per test) with TLS
verification on, and reads the sandbox's request log to count round trips.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import run_cli, run_process

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e


def api_calls(server: SandboxServer) -> list[tuple[str, str]]:
    """(method, path) of every API request the server saw."""
    return [(e["method"], e["path"]) for e in server.log.entries()]


def task_keys_named(server: SandboxServer, name: str) -> list[int]:
    state = json.loads(server.emulator.export_state())
    return sorted(int(k) for k, row in state["tables"]["tasks"].items() if row["name"] == name)


def test_list(sandbox_env: SandboxServer) -> None:
    out = run_cli("task", "list")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines()[0].split() == [
        "Key", "Name", "Action", "Owner", "Status", "Enabled",
    ]  # fmt: skip
    assert "nightly-snapshot" in out.stdout
    assert "web-01" in out.stdout  # owner display name through owner#$display
    assert api_calls(sandbox_env) == [("GET", "/api/v4/system"), ("GET", "/api/v4/tasks")]


def test_list_filters(sandbox_env: SandboxServer) -> None:
    disabled = json.loads(run_cli("-o", "json", "task", "list", "--disabled").stdout)
    assert [t["name"] for t in disabled] == ["reset-dmz"]
    assert all(t["enabled"] for t in json.loads(run_cli("task", "list", "--enabled",
                                                         "-o", "json").stdout))  # fmt: skip
    assert json.loads(run_cli("task", "list", "--running", "-o", "json").stdout) == []
    snap = run_cli("task", "list", "--filter", "action eq 'snapshot'", "-q")
    assert snap.stdout.split() == ["1"]


def test_list_json_is_global_option_too(sandbox_env: SandboxServer) -> None:
    first = json.loads(run_cli("-o", "json", "task", "list").stdout)
    second = json.loads(run_cli("task", "list", "-o", "json").stdout)
    assert first == second
    assert {"$key", "name", "status", "owner_display", "triggers_count"} <= set(first[0])


def test_get_by_name_and_key(sandbox_env: SandboxServer) -> None:
    by_name = json.loads(run_cli("-o", "json", "task", "get", "nightly-snapshot").stdout)
    by_key = json.loads(run_cli("-o", "json", "task", "get", "1").stdout)
    assert by_name == by_key
    assert by_name["owner"] == "vms/1"
    assert by_name["creator_display"] == "admin"
    table = run_cli("task", "get", "nightly-snapshot")
    assert "Nightly snapshot of web-01" in table.stdout


def test_get_costs_the_same_requests_at_10_and_1000_tasks(sandbox_env: SandboxServer) -> None:
    counts = []
    sizes = []
    for extra in (10, 1000):
        sandbox_env.emulator.reset(extra_tasks=extra)
        sandbox_env.log.clear()
        out = run_cli("-o", "json", "task", "get", "nightly-snapshot")
        assert out.exit_code == 0, out.stderr
        entries = sandbox_env.log.entries()
        counts.append(len(entries))
        sizes.append([e["bytes"] for e in entries])
        assert all(e["method"] == "GET" for e in entries)
    assert counts == [2, 2]  # connection check + one filtered query
    assert sizes[0] == sizes[1]  # not one byte more with 100x the tasks


def test_unknown_name_exits_6(sandbox_env: SandboxServer) -> None:
    out = run_cli("task", "get", "no-such-task")
    assert out.exit_code == 6
    assert out.stderr == "Error: no task is named 'no-such-task'\n"


def test_ambiguous_name_exits_7_and_changes_nothing(sandbox_env: SandboxServer) -> None:
    for owner in ("vms/1", "vms/2"):
        made = run_cli("task", "create", "--name", "twin", "--owner", owner, "--action", "poweron")
        assert made.exit_code == 0, made.stderr
    keys = task_keys_named(sandbox_env, "twin")
    before = sandbox_env.emulator.digest()
    for command in (["delete", "twin", "--yes"], ["disable", "twin"], ["run", "twin"]):
        out = run_cli("task", *command)
        assert out.exit_code == 7, command
        for key in keys:
            assert f"key {key}" in out.stderr
    assert sandbox_env.emulator.digest() == before


def test_create_update_enable_disable_delete(sandbox_env: SandboxServer) -> None:
    made = run_cli(
        "-o", "json", "task", "create", "--name", "e2e-task", "--owner", "3", "--table", "vms",
        "--action", "snapshot", "--description", "made by e2e", "--disabled",
        "--settings-json", '{"retention": 3}',
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    task = json.loads(made.stdout)
    key = task["$key"]
    assert task["enabled"] is False
    assert task["owner_display"] == "build-runner"

    updated = run_cli("task", "update", "e2e-task", "--description", "changed",
                      "--delete-after-run", "true")  # fmt: skip
    assert updated.stdout == f"Updated task 'e2e-task' (key {key})\n"
    got = json.loads(run_cli("-o", "json", "task", "get", str(key)).stdout)
    assert got["description"] == "changed"
    assert got["delete_after_run"] is True
    assert got["settings_args"] == {"retention": 3}

    assert run_cli("task", "enable", "e2e-task").stdout == f"Enabled task 'e2e-task' (key {key})\n"
    assert json.loads(run_cli("-o", "json", "task", "get", "e2e-task").stdout)["enabled"] is True
    disabled = json.loads(run_cli("-o", "json", "task", "disable", "e2e-task").stdout)
    assert disabled["enabled"] is False

    gone = run_cli("task", "delete", "e2e-task", "--yes")
    assert gone.stdout == f"Deleted task 'e2e-task' (key {key})\n"
    assert run_cli("task", "get", str(key)).exit_code == 6


def test_enable_costs_connection_resolution_write_and_sdk_read_back(
    sandbox_env: SandboxServer,
) -> None:
    out = run_cli("task", "enable", "reset-dmz")
    assert out.exit_code == 0, out.stderr
    assert api_calls(sandbox_env) == [
        ("GET", "/api/v4/system"),
        ("GET", "/api/v4/tasks"),
        ("PUT", "/api/v4/tasks/4"),
        ("GET", "/api/v4/tasks/4"),
    ]


def test_create_needs_a_known_owner(sandbox_env: SandboxServer) -> None:
    out = run_cli("task", "create", "--name", "x", "--owner", "vms/999", "--action", "poweron")
    assert out.exit_code == 8
    assert out.stderr.startswith("Error: the server rejected the request:")


def test_invalid_json_sends_no_request(sandbox_env: SandboxServer) -> None:
    for args in (
        ["task", "create", "--name", "x", "--owner", "vms/1", "--action", "poweron",
         "--settings-json", "{oops"],
        ["task", "update", "nightly-snapshot", "--settings-json", "[1]"],
        ["task", "run", "nightly-snapshot", "--params-json", "nope"],
    ):  # fmt: skip
        out = run_cli(*args)
        assert out.exit_code == 2, args
        assert "-json" in out.stderr
    assert sandbox_env.log.entries() == []


def test_delete_without_yes_in_a_pipe_deletes_nothing(sandbox_env: SandboxServer) -> None:
    before = sandbox_env.emulator.digest()
    out = run_process("task", "delete", "nightly-snapshot")
    assert out.exit_code == 2
    assert "--yes" in out.stderr
    assert sandbox_env.emulator.digest() == before
    assert ("DELETE", "/api/v4/tasks/1") not in api_calls(sandbox_env)


def test_run_without_wait(sandbox_env: SandboxServer) -> None:
    """Queued for the start delay: reported as accepted; a second run is refused (409)."""
    out = run_cli("-o", "json", "task", "run", "nightly-snapshot")
    assert out.exit_code == 0, out.stderr
    row = json.loads(out.stdout)
    assert (row["$key"], row["status"], row["run"], row["started_by"]) == (
        1,
        "idle",
        "queued",
        None,
    )
    again = run_cli("task", "run", "nightly-snapshot")
    assert again.exit_code == 7  # already queued: the server says 409
    started = run_cli("task", "run", "power-on-dev", "--params-json", '{"sandbox_start_delay": 0}')
    assert started.exit_code == 0, started.stderr
    assert started.stdout.endswith("started (it is running)\n")


def test_run_wait_success(sandbox_env: SandboxServer) -> None:
    out = run_process(
        "task", "run", "power-on-dev", "--wait", "--params-json", '{"sandbox_duration": 1.5}'
    )
    assert out.exit_code == 0, out.stderr
    assert out.stdout == (
        "Ran task 'power-on-dev' (key 2): task 'power-on-dev' (key 2) finished; "
        "task log: Task 'power-on-dev' completed\n"
    )
    assert out.stderr == ""  # piped: no live progress
    polls = [e for e in sandbox_env.log.entries() if e["path"] == "/api/v4/tasks/2"]
    # 1 s start delay + 1.5 s run, one look a second: a handful of reads, not a busy loop.
    assert 2 <= len([p for p in polls if p["method"] == "GET"]) <= 6
    final = json.loads(run_cli("-o", "json", "task", "get", "power-on-dev").stdout)
    assert final["status"] == "idle"
    assert "progress" not in final
    assert final["last_run"] > 0


def test_run_wait_failure_exits_1_with_task_error(sandbox_env: SandboxServer) -> None:
    out = run_cli("task", "run", "tenant-poweroff", "--wait", "--params-json",
                  '{"sandbox_fail": "tenant is locked", "sandbox_duration": 1}')  # fmt: skip
    assert out.exit_code == 1
    assert out.stderr == (
        "Error: task 'tenant-poweroff' (key 3) failed; task log: "
        "Task 'tenant-poweroff' failed: tenant is locked\n"
    )


def test_run_wait_timeout_exits_9(sandbox_env: SandboxServer) -> None:
    quick_start = '{"sandbox_duration": 30, "sandbox_start_delay": 0.5}'
    out = run_cli("task", "run", "nightly-snapshot", "--wait", "--timeout", "2",
                  "--params-json", quick_start)  # fmt: skip
    assert out.exit_code == 9
    assert "is still running after 2s" in out.stderr
    assert "keeps going on the server" in out.stderr
    still = json.loads(run_cli("-o", "json", "task", "get", "nightly-snapshot").stdout)
    assert still["status"] == "running"


def test_cancel(sandbox_env: SandboxServer) -> None:
    assert run_cli("task", "run", "nightly-snapshot",
                   "--params-json", '{"sandbox_duration": 30}').exit_code == 0  # fmt: skip
    out = run_cli("task", "cancel", "nightly-snapshot")
    assert out.exit_code == 0, out.stderr
    assert out.stdout == "Cancelled task 'nightly-snapshot' (key 1); status: idle\n"


def test_quiet_and_query(sandbox_env: SandboxServer) -> None:
    keys = run_cli("task", "list", "-q").stdout.split()
    assert keys == ["1", "2", "3", "4", "5", "6"]
    assert run_cli("-q", "task", "enable", "reset-dmz").stdout == ""
    made = run_cli("--query", "$key", "task", "create", "--name", "q", "--owner", "vms/1",
                   "--action", "poweron")  # fmt: skip
    assert made.stdout.strip().isdigit()


def test_console_script_with_environment_only(sandbox_env: SandboxServer) -> None:
    """As an admin's script would: VERGE_* variables, global -o json."""
    out = run_process("-o", "json", "task", "list")
    assert out.exit_code == 0, out.stderr
    assert len(json.loads(out.stdout)) == 6


def test_token_authentication(sandbox_env: SandboxServer, monkeypatch: Any) -> None:
    monkeypatch.delenv("VERGE_USERNAME")
    monkeypatch.delenv("VERGE_PASSWORD")
    monkeypatch.setenv("VERGE_TOKEN", "sandbox-token")
    assert run_cli("task", "list", "-q").exit_code == 0
    monkeypatch.setenv("VERGE_TOKEN", "wrong-token")
    bad = run_cli("task", "list")
    assert bad.exit_code == 4
    assert "wrong-token" not in bad.stderr
