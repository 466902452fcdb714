"""Issue 12 end to end: runs, waits, verified writes, pasted hints and doctor,
in each platform profile of the sandbox (``both``, ``post``, ``put``).

The real CLI and the real pyvergeos talk HTTPS to the sandbox server, whose
profile decides which action form works: ``both`` takes both, ``post`` makes
the ``PUT ?action=`` form a silent 200 no-op, ``put`` answers 404 for
``POST /{table}_actions``. Every run below is queued (the sandbox's start
delay) before it runs, as on a real system.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from support import run_cli

from vrgtask.sandbox import SANDBOX_PASSWORD, SANDBOX_USERNAME
from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

PROFILES = ["both", "post", "put"]
QUICK = {"sandbox_start_delay": 0.3, "sandbox_duration": 0.5}


@pytest.fixture(params=PROFILES)
def profile(
    request: pytest.FixtureRequest, sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The sandbox server answering in one platform profile."""
    monkeypatch.setattr(sandbox_env.emulator, "actions", request.param)
    return str(request.param)


def calls(server: SandboxServer) -> list[tuple[str, str]]:
    return [(e["method"], e["path"].removeprefix("/api/v4/")) for e in server.log.entries()]


def actions_sent(server: SandboxServer) -> list[tuple[str, str]]:
    return [
        (e["method"], f"{e['path'].removeprefix('/api/v4/')}?{e['query']}".rstrip("?"))
        for e in server.log.entries()
        if e["path"].endswith("_actions") or "action=" in e["query"]
    ]


def params(**extra: Any) -> str:
    return json.dumps({**QUICK, **extra})


def task_log(server: SandboxServer, name: str) -> list[tuple[str, str]]:
    state = json.loads(server.emulator.export_state())
    rows = sorted(state["tables"]["logs"].values(), key=lambda r: r["timestamp"])
    return [(r["level"], r["text"]) for r in rows if r.get("object_name") == name]


# ----------------------------------------------------------------------------- runs


def test_run_wait_success(profile: str, sandbox_env: SandboxServer) -> None:
    out = run_cli("task", "run", "nightly-snapshot", "--wait", "--params-json", params())
    assert out.exit_code == 0, out.stderr
    assert out.stdout.strip().endswith("task log: Task 'nightly-snapshot' completed")
    # Reported only after the run really ended on the server.
    assert task_log(sandbox_env, "nightly-snapshot")[-2:] == [
        ("message", "Task 'nightly-snapshot' started"),
        ("message", "Task 'nightly-snapshot' completed"),
    ]
    expected = [("POST", "task_actions")]
    if profile == "put":
        expected.append(("PUT", "tasks/1?action=execute"))
    assert actions_sent(sandbox_env) == expected


def test_run_wait_failure_exits_1_with_the_log_text(
    profile: str, sandbox_env: SandboxServer
) -> None:
    out = run_cli("task", "run", "nightly-snapshot", "--wait",
                  "--params-json", params(sandbox_fail="disk full"))  # fmt: skip
    assert out.exit_code == 1
    assert out.stderr.strip() == (
        "Error: task 'nightly-snapshot' (key 1) failed; task log: "
        "Task 'nightly-snapshot' failed: disk full"
    )
    assert out.stdout == ""


def test_a_queued_run_is_waited_for_not_reported_at_once(
    profile: str, sandbox_env: SandboxServer
) -> None:
    slow_start = params(sandbox_start_delay=1.5)
    out = run_cli("-o", "json", "task", "run", "nightly-snapshot", "--wait",
                  "--params-json", slow_start)  # fmt: skip
    assert out.exit_code == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["run"] == "finished"
    assert [e["text"] for e in row["log"]] == [
        "Task 'nightly-snapshot' started",
        "Task 'nightly-snapshot' completed",
    ]


def test_run_without_wait_says_queued_and_task_wait_follows(
    profile: str, sandbox_env: SandboxServer
) -> None:
    out = run_cli("task", "run", "nightly-snapshot", "--params-json", params(sandbox_start_delay=1))
    assert out.exit_code == 0, out.stderr
    assert "the server accepted the request" in out.stdout
    assert "has not started yet (queued)" in out.stdout
    hint = out.stdout.rsplit("Follow it with: ", 1)[1].strip()
    assert hint == "vrgtask task wait 1"
    waited = run_cli(*shlex.split(hint)[1:])
    assert waited.exit_code == 0, waited.stderr
    assert "task log: Task 'nightly-snapshot' completed" in waited.stdout


def test_run_that_never_starts(profile: str, sandbox_env: SandboxServer) -> None:
    out = run_cli("task", "run", "nightly-snapshot", "--wait", "--start-timeout", "1",
                  "--params-json", params(sandbox_start_delay=30))  # fmt: skip
    assert out.exit_code == 1
    assert "the server accepted the request, but task 'nightly-snapshot' (key 1) did not " in (
        out.stderr
    )
    # Cancel the queued run so the next test starts from a quiet server.
    assert run_cli("task", "cancel", "nightly-snapshot").exit_code == 0


@pytest.mark.parametrize("extra", [{"self": 1}, {"key": 2}, {"self": 1, "key": 2}])
def test_params_named_self_or_key_reach_the_server(
    profile: str, sandbox_env: SandboxServer, extra: dict[str, int]
) -> None:
    """Sent as the action's params: the run sees them with its own (sandbox_fail)."""
    out = run_cli("task", "run", "nightly-snapshot", "--wait",
                  "--params-json", params(sandbox_fail="got them", **extra))  # fmt: skip
    assert out.exit_code == 1
    assert "failed: got them" in out.stderr
    assert "Traceback" not in out.stderr


def test_cancel(profile: str, sandbox_env: SandboxServer) -> None:
    queued = run_cli("task", "run", "nightly-snapshot", "--params-json",
                     params(sandbox_start_delay=30))  # fmt: skip
    assert queued.exit_code == 0, queued.stderr
    out = run_cli("task", "cancel", "nightly-snapshot")
    assert out.exit_code == 0, out.stderr
    warnings = [t for level, t in task_log(sandbox_env, "nightly-snapshot") if level == "warning"]
    assert any("cancelled" in text for text in warnings)


def test_trigger_run_and_event_trigger_wait(profile: str, sandbox_env: SandboxServer) -> None:
    for command in (["trigger", "run", "1"], ["event", "trigger", "1"]):
        out = run_cli(*command, "--wait", "--start-timeout", "10")
        assert out.exit_code == 0, (command, out.stderr)
        assert "finished; task log:" in out.stdout


def test_script_run_wait(profile: str, sandbox_env: SandboxServer) -> None:
    out = run_cli("-o", "json", "script", "run", "cleanup-logs", "--wait",
                  "--params-json", params())  # fmt: skip
    assert out.exit_code == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["run"] == "finished"
    assert row["name"] == "cleanup-logs"
    assert isinstance(row["task"], int)


def test_schedule_show_in_every_profile(profile: str, sandbox_env: SandboxServer) -> None:
    out = run_cli("-o", "json", "schedule", "show", "nightly", "--max-results", "3")
    assert out.exit_code == 0, out.stderr
    assert len(json.loads(out.stdout)) == 3


# ----------------------------------------------------------------------------- writes


def test_a_dropped_write_is_reported_by_name(profile: str, sandbox_env: SandboxServer) -> None:
    """The server answers 200 to the PUT but applies nothing (a silent no-op)."""
    sandbox_env.faults.add(
        {"method": "PUT", "path": "^/api/v4/tasks/1$", "status": 200, "body": {}, "times": 1}
    )
    out = run_cli("task", "update", "nightly-snapshot", "--description", "new words",
                  "--settings-json", '{"retention": 7}')  # fmt: skip
    assert out.exit_code == 1
    assert "did not apply the fields description, settings_args" in out.stderr
    assert "check it with: vrgtask task get 1" in out.stderr
    assert [c for c in calls(sandbox_env) if c[0] == "PUT"] == [("PUT", "tasks/1")]


def test_a_write_that_sticks_passes(profile: str, sandbox_env: SandboxServer) -> None:
    out = run_cli("-o", "json", "task", "update", "nightly-snapshot",
                  "--settings-json", '{"retention": 7}')  # fmt: skip
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["settings_args"] == {"retention": 7}


def test_event_create_without_owner_gets_the_tasks(
    profile: str, sandbox_env: SandboxServer
) -> None:
    out = run_cli("-o", "json", "event", "create", "nightly-snapshot", "--table", "alarms",
                  "--event", "raised")  # fmt: skip
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["owner"] == "vms/1"


# ----------------------------------------------------------------------------- hints


def test_a_pasted_hint_works_with_a_profile(
    profile: str, sandbox_env: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profile.lab]\nhost = "{sandbox_env.host}"\nusername = "{SANDBOX_USERNAME}"\n'
        f'password = "{SANDBOX_PASSWORD}"\n'
    )
    config.chmod(0o600)
    for name in ("VERGE_HOST", "VERGE_USERNAME", "VERGE_PASSWORD"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("VRGTASK_CONFIG", str(config))
    out = run_cli("-p", "lab", "task", "run", "nightly-snapshot",
                  "--params-json", params(sandbox_start_delay=1))  # fmt: skip
    assert out.exit_code == 0, out.stderr
    hint = out.stdout.rsplit("Follow it with: ", 1)[1].strip()
    assert hint == "vrgtask -p lab task wait 1"
    pasted = run_cli(*shlex.split(hint)[1:])
    assert pasted.exit_code == 0, pasted.stderr
    assert SANDBOX_PASSWORD not in out.stdout + out.stderr + pasted.stdout + pasted.stderr


# ----------------------------------------------------------------------------- doctor


def test_doctor_answers_in_every_profile_without_a_write(
    profile: str, sandbox_env: SandboxServer
) -> None:
    out = run_cli("-o", "json", "doctor")
    assert out.exit_code == 0, (out.stdout, out.stderr)
    rows = {row["check"]: row for row in json.loads(out.stdout)}
    assert {row["verdict"] for row in rows.values()} == {"pass"}
    form = rows["action form"]["detail"]
    if profile == "put":
        assert "no task_actions table (HTTP 404)" in form
    else:
        assert "POST /task_actions is served" in form
    assert {method for method, _path in calls(sandbox_env)} == {"GET"}
    assert SANDBOX_PASSWORD not in out.stdout + out.stderr


def test_doctor_says_what_fails(sandbox_env: SandboxServer) -> None:
    sandbox_env.faults.add({"method": "GET", "path": "^/api/v4/logs$", "status": 403})
    out = run_cli("doctor")
    assert out.exit_code == 1
    assert "read logs" in out.stdout
    assert "Error: 1 of 12 checks did not pass: read logs" in out.stderr
