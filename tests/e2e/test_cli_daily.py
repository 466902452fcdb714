"""``vrgtask agenda``, ``vrgtask status`` and ``vrgtask task history`` end to end.

The real CLI and the real pyvergeos talk HTTPS to the sandbox; what the CLI
says is checked against what the sandbox was given (its own schedule answers,
its log), and what it costs against the sandbox's request log.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

import pytest
from support import CHILD_KWARGS, run_cli, run_process

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

HOUR = 3600


def js(*args: str) -> Any:
    out = run_cli("-o", "json", *args)
    assert out.exit_code == 0, out.stderr
    return json.loads(out.stdout)


def requests(server: SandboxServer) -> list[tuple[str, str]]:
    return [(e["method"], e["path"].removeprefix("/api/v4/")) for e in server.log.entries()]


def schedule_actions(seen: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The get_schedule actions, in whichever form the client sends them."""
    return [(m, p) for m, p in seen if m in {"PUT", "POST"}]


def away_from_the_hour() -> None:
    """Wait (at most 10 s) until a full hour is not about to pass, so a window
    computed here and the one the CLI computes hold the same hourly runs."""
    for _ in range(11):
        into = time.time() % HOUR
        if 5 < into < HOUR - 5:
            return
        time.sleep(1)


@pytest.fixture
def engine(sandbox_env: SandboxServer) -> SandboxServer:
    """The seed plus: task 3 and task 5 on 'hourly' (one schedule, two triggers),
    disabled task 4 on 'hourly', task 3 on a disabled schedule 'paused'."""
    for task, schedule in (("tenant-poweroff", "hourly"), ("weekly-cleanup", "hourly")):
        assert run_cli("trigger", "create", task, "--schedule", schedule).exit_code == 0
    assert run_cli("trigger", "create", "reset-dmz", "--schedule", "hourly").exit_code == 0
    made = run_cli("schedule", "create", "--name", "paused", "--disabled")
    assert made.exit_code == 0, made.stderr
    assert run_cli("trigger", "create", "tenant-poweroff", "--schedule", "paused").exit_code == 0
    sandbox_env.log.clear()
    return sandbox_env


# ---------------------------------------------------------------------------- agenda


def test_agenda_matches_the_schedules_answers(engine: SandboxServer, sdk_client: Any) -> None:
    away_from_the_hour()
    before = int(time.time())
    rows = js("agenda", "--hours", "30")
    after = int(time.time()) + 1
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert all(set(r) == {"time", "time_iso", "task", "task_key", "schedule", "schedule_key"}
               for r in rows)  # fmt: skip
    assert all(before <= r["time"] <= after + 30 * HOUR for r in rows)
    pairs = {(r["task"], r["schedule"]) for r in rows}
    assert ("reset-dmz", "hourly") not in pairs  # disabled task
    assert all(schedule != "paused" for _task, schedule in pairs)  # disabled schedule
    # Every run the sandbox itself reports for the window is in the agenda.
    expected: set[tuple[str, int]] = set()
    for task, schedule_key in (
        ("nightly-snapshot", 1),
        ("power-on-dev", 2),
        ("tenant-poweroff", 3),
        ("weekly-cleanup", 3),
    ):
        answer = sdk_client.task_schedules.get_schedule(
            schedule_key, max_results=1440, start_time=after, end_time=before + 30 * HOUR
        )
        expected |= {(task, int(entry["time"])) for entry in answer}
    shown = {(r["task"], r["time"]) for r in rows}
    assert expected <= shown
    assert len([r for r in rows if r["task"] == "weekly-cleanup"]) in (30, 31)
    assert all(r["time"] % HOUR == 0 for r in rows if r["schedule"] == "hourly")
    first = next(r for r in rows if r["task"] == "nightly-snapshot")
    assert first["task_key"] == 1
    assert first["schedule_key"] == 1
    assert datetime.fromisoformat(first["time_iso"]).timestamp() == first["time"]
    assert datetime.fromisoformat(first["time_iso"]).utcoffset() is not None


def test_agenda_asks_each_schedule_once(engine: SandboxServer) -> None:
    out = run_cli("agenda", "-o", "json")
    assert out.exit_code == 0, out.stderr
    seen = requests(engine)
    assert seen[0] == ("GET", "system")
    assert sorted(seen[1:3]) == [("GET", "task_schedule_triggers"), ("GET", "tasks")]  # at once
    actions = schedule_actions(seen)
    # Schedules 1, 2 and 3 have active triggers (3 has two); 'paused' is disabled.
    assert len(actions) == 3
    assert len(seen) == 3 + 3
    if all(m == "PUT" for m, _ in actions):
        assert sorted(p for _, p in actions) == [f"task_schedules/{k}" for k in (1, 2, 3)]


def test_agenda_of_one_task_and_the_limit_note(engine: SandboxServer) -> None:
    out = run_cli("agenda", "--task", "weekly-cleanup", "--hours", "12", "--limit", "3")
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["Time", "Task", "Schedule"]
    assert len(lines) == 2 + 3
    assert all(line.split()[3:] == ["weekly-cleanup", "hourly"] for line in lines[2:])
    assert "schedule 'hourly' (key 3) has more than 3 runs" in out.stderr
    seen = requests(engine)
    assert seen[:3] == [("GET", "system"), ("GET", "tasks"), ("GET", "task_schedule_triggers")]
    assert len(schedule_actions(seen)) == 1
    assert len(seen) == 4


def test_agenda_until(engine: SandboxServer) -> None:
    away_from_the_hour()
    until = (int(time.time()) // HOUR + 3) * HOUR  # the third full hour from now
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(until))
    rows = js("agenda", "--until", stamp, "--task", "tenant-poweroff")
    assert [r["time"] for r in rows] == [until - 2 * HOUR, until - HOUR, until]


# ------------------------------------------------------------------ bad input, no request

BAD: list[tuple[list[str], str]] = [
    (["agenda", "--hours", "0"], "--hours"),
    (["agenda", "--hours", "abc"], "--hours"),
    (["agenda", "--hours", "-1"], "--hours"),
    (["agenda", "--until", "yesterday"], "--until"),
    (["agenda", "--until", "2020-01-01T00:00"], "--until"),
    (["agenda", "--until", "whenever"], "--until"),
    (["agenda", "--until", "2026-02-30"], "--until"),
    (["agenda", "--hours", "2", "--until", "1h"], "--until"),
    (["agenda", "--limit", "0"], "--limit"),
    (["agenda", "--limit", "99999"], "--limit"),
    (["agenda", "--watch", "1"], "--watch"),
    (["agenda", "--watch", "soon"], "--watch"),
    (["agenda", "--watch"], "--watch"),
    (["status", "--since", "0m"], "--since"),
    (["status", "--since", "7x"], "--since"),
    (["status", "--since", "2999-01-01"], "--since"),
    (["status", "--fail-on", "always"], "--fail-on"),
    (["status", "--watch", "-5"], "--watch"),
    (["status", "--watch", "inf"], "--watch"),
    (["status", "--watch"], "--watch"),
    (["task", "history", "nightly-snapshot", "--since", "later"], "--since"),
    (["task", "history", "nightly-snapshot", "--since", "-5m"], "--since"),
    (["task", "history", "nightly-snapshot", "--since", "2026-13-01"], "--since"),
    (["task", "history", "nightly-snapshot", "--limit", "0"], "--limit"),
    (["task", "history", "nightly-snapshot", "--limit", "ten"], "--limit"),
]


@pytest.mark.parametrize(("argv", "option"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_values_exit_2_name_the_option_send_nothing(
    sandbox_env: SandboxServer, argv: list[str], option: str
) -> None:
    out = run_process(*argv)  # stdout is a pipe: no terminal for --watch
    assert out.exit_code == 2, out.stderr
    assert option in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("Error:")
    assert sandbox_env.log.entries() == []


# ---------------------------------------------------------------------------- --watch


def _read_until_quiet(fd: int, deadline: float) -> bytes:
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
        if data.count(b"\x1b[H\x1b[2J") >= 2:
            break
    return data


@pytest.mark.parametrize("command", ["agenda", "status"])
def test_watch_redraws_on_a_terminal_and_ctrl_c_exits_0(
    engine: SandboxServer, command: str
) -> None:
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrgtask", command, "--watch", "2"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm"},
        **CHILD_KWARGS,
    )
    os.close(follower)
    try:
        shown = _read_until_quiet(leader, time.monotonic() + 30)
        assert shown.count(b"\x1b[H\x1b[2J") >= 2, shown[-500:]
        assert f"Every 2s: vrgtask {command}".encode() in shown
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(leader)


# ------------------------------------------------------------------ runs that leave logs


def run_and_settle(sdk_client: Any, task_key: int, **params: Any) -> None:
    """Start a short run of a task and wait (at most 30 s) until its log says it ended."""
    name = sdk_client.tasks.get(task_key).get("name")
    endings = {f"Task '{name}' completed", f"Task '{name}' ended with errors"}
    before = len(ended_entries(sdk_client, name, endings))
    sdk_client.tasks.execute(task_key, sandbox_start_delay=0, sandbox_duration=0.2, **params)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len(ended_entries(sdk_client, name, endings)) > before:
            return
        time.sleep(0.2)
    raise AssertionError(f"the run of task {task_key} did not end within 30 s")


def ended_entries(sdk_client: Any, name: str, endings: set[str]) -> list[Any]:
    entries = sdk_client.logs.list(object_type="task", filter=f"object_name eq '{name}'")
    return [e for e in entries if e.get("text") in endings]


@pytest.fixture
def failed_run(sandbox_env: SandboxServer, sdk_client: Any) -> SandboxServer:
    """tenant-poweroff (key 3) ran and failed with 'tenant is locked'."""
    run_and_settle(sdk_client, 3, sandbox_fail="tenant is locked")
    sandbox_env.log.clear()
    return sandbox_env


# ---------------------------------------------------------------------------- history


def test_history_of_a_failed_run(failed_run: SandboxServer) -> None:
    rows = js("task", "history", "tenant-poweroff")
    assert requests(failed_run) == [("GET", "system"), ("GET", "tasks"), ("GET", "logs")]
    texts = [r["text"] for r in rows]
    assert texts[:3] == [
        "Task 'tenant-poweroff' ended with errors",
        "Task 'tenant-poweroff' failed: tenant is locked",
        "Task 'tenant-poweroff' started",
    ]
    assert [r["level"] for r in rows[:3]] == ["message", "error", "message"]
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    for row in rows:
        assert {"$key", "level", "text", "timestamp", "user", "object_type", "object_name",
                "time"} <= set(row)  # fmt: skip
        assert row["object_name"] == "tenant-poweroff"
        assert row["object_type"] == "task"
        moment = datetime.fromisoformat(row["time"])
        assert moment.utcoffset() is not None
        assert int(moment.timestamp()) == row["timestamp"] // 1_000_000


def test_history_errors_since_limit_and_key(failed_run: SandboxServer) -> None:
    errors = js("task", "history", "3", "--errors")
    assert [r["text"] for r in errors][:1] == ["Task 'tenant-poweroff' failed: tenant is locked"]
    assert {r["level"] for r in errors} <= {"error", "critical"}
    recent = js("task", "history", "tenant-poweroff", "--since", "10m")
    assert all(r["timestamp"] >= (time.time() - 660) * 1_000_000 for r in recent)
    assert len(recent) >= 3
    assert len(js("task", "history", "tenant-poweroff", "--limit", "1")) == 1


def test_history_table(failed_run: SandboxServer) -> None:
    out = run_cli("task", "history", "tenant-poweroff", "--limit", "3")
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["Time", "Level", "Text", "User"]
    weekday, day, _clock, level, *_ = lines[3].split()
    assert weekday in {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
    assert datetime.strptime(day, "%Y-%m-%d").strftime("%a") == weekday
    assert level == "error"
    assert "the newest 3 entries are shown" in out.stderr


def test_history_of_every_task_is_one_log_request(failed_run: SandboxServer) -> None:
    rows = js("task", "history", "--errors", "--limit", "100")
    assert requests(failed_run) == [("GET", "system"), ("GET", "logs")]
    assert "tenant-poweroff" in {r["object_name"] for r in rows}
    # the seed holds at least one past failure of another run
    assert len(rows) >= 2


def test_history_of_a_deleted_task(sandbox_env: SandboxServer, sdk_client: Any) -> None:
    made = js("task", "create", "--name", "one-shot", "--owner", "vms/1", "--action", "poweron")
    run_and_settle(sdk_client, made["$key"])
    assert run_cli("task", "delete", "one-shot", "--yes").exit_code == 0
    out = run_cli("-o", "json", "task", "history", "one-shot")
    assert out.exit_code == 0, out.stderr
    texts = [r["text"] for r in json.loads(out.stdout)]
    assert "Task 'one-shot' completed" in texts
    assert "Deleted task 'one-shot'" in texts
    assert "no task is named 'one-shot' now" in out.stderr
    missing = run_cli("task", "history", "never-existed")
    assert missing.exit_code == 6
    assert missing.stderr.startswith("Error: no task is named 'never-existed'")


# ---------------------------------------------------------------------------- status


def test_status_reports_a_failed_run_and_costs_5_plus_schedules(failed_run: SandboxServer) -> None:
    out = run_cli("status", "-o", "json")
    assert out.exit_code == 1, out.stderr  # a failed run is an error (--fail-on errors)
    status = json.loads(out.stdout)
    assert list(status) == ["running", "failed", "upcoming", "findings"]
    failed = [f for f in status["failed"] if f["task"] == "tenant-poweroff"]
    assert len(failed) == 1
    assert failed[0]["task_key"] == 3
    assert failed[0]["text"] == "Task 'tenant-poweroff' failed: tenant is locked"
    assert failed[0]["level"] == "error"
    assert datetime.fromisoformat(failed[0]["time_iso"]).timestamp() == failed[0]["time"]
    seen = requests(failed_run)
    assert seen[0] == ("GET", "system")
    # the four reads go out at once: any order
    assert sorted(seen[1:5]) == [
        ("GET", "logs"),
        ("GET", "task_schedule_triggers"),
        ("GET", "task_schedules"),
        ("GET", "tasks"),
    ]
    # the seed's active triggers use schedules 1 and 2
    assert len(schedule_actions(seen)) == 2
    assert len(seen) == 5 + 2
    assert run_cli("status", "--fail-on", "never").exit_code == 0
    assert run_cli("status", "--since", "2099-01-01").exit_code == 2


def test_status_healthy_since_a_minute(sandbox_env: SandboxServer) -> None:
    out = run_cli("status", "--since", "1m", "-o", "json")
    assert out.exit_code == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["failed"] == []
    assert status["running"] == []
    assert {f["severity"] for f in status["findings"]} <= {"info"}
    upcoming = status["upcoming"]
    assert 1 <= len(upcoming) <= 10
    assert [u["time"] for u in upcoming] == sorted(u["time"] for u in upcoming)
    assert ("nightly-snapshot", "nightly") in {(u["task"], u["schedule"]) for u in upcoming}
    quiet = run_cli("status", "--since", "1m", "-q")
    assert (quiet.exit_code, quiet.stdout) == (0, "")


def test_status_shows_a_running_task(sandbox_env: SandboxServer, sdk_client: Any) -> None:
    sdk_client.tasks.execute(1, sandbox_start_delay=0, sandbox_duration=60)
    try:
        deadline = time.monotonic() + 30
        while sdk_client.tasks.get(1).get("status") != "running":
            assert time.monotonic() < deadline, "task 1 never started"
            time.sleep(0.2)
        status = js("status", "--since", "1m", "--fail-on", "never")
        (running,) = status["running"]
        assert (running["task"], running["task_key"]) == ("nightly-snapshot", 1)
        assert abs(running["time"] - time.time()) < 60
        table = run_cli("status", "--since", "1m").stdout
        assert "Running now (1)" in table
    finally:
        sdk_client.tasks.cancel(1)


def test_status_findings(sandbox_env: SandboxServer) -> None:
    steps = [
        # power-on-dev's only trigger points at a schedule that is now disabled
        ["schedule", "disable", "weekday-mornings"],
        # a trigger on the disabled task reset-dmz
        ["trigger", "create", "reset-dmz", "--schedule", "hourly"],
        # a schedule that ended, still used by tenant-poweroff
        ["schedule", "create", "--name", "january", "--repeat-every", "day",
         "--start-date", "2026-01-01", "--end-date", "2026-01-31"],
        ["trigger", "create", "tenant-poweroff", "--schedule", "january"],
        # a schedule whose window excludes every day, used by weekly-cleanup
        ["schedule", "create", "--name", "no-days", "--repeat-every", "day", "--no-monday",
         "--no-tuesday", "--no-wednesday", "--no-thursday", "--no-friday", "--no-saturday",
         "--no-sunday"],
        ["trigger", "create", "weekly-cleanup", "--schedule", "no-days"],
    ]  # fmt: skip
    for step in steps:
        made = run_cli(*step)
        assert made.exit_code == 0, (step, made.stderr)
    keys = {s["name"]: s["$key"] for s in js("schedule", "list")}
    out = run_cli("status", "--since", "1m", "-o", "json")
    assert out.exit_code == 1, out.stderr
    findings = json.loads(out.stdout)["findings"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_kind.setdefault(finding["kind"], []).append(finding)
    severities = [f["severity"] for f in findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    (never,) = by_kind["schedule_never_fires"]
    assert never["severity"] == "error"
    assert (never["task_key"], never["schedule_key"]) == (5, keys["no-days"])
    (off,) = by_kind["all_schedules_disabled"]
    assert off["severity"] == "warning"
    assert (off["task_key"], off["schedule_keys"]) == (2, [keys["weekday-mornings"]])
    (on_disabled,) = by_kind["trigger_on_disabled_task"]
    assert (on_disabled["task_key"], on_disabled["schedule_key"]) == (4, keys["hourly"])
    (ended,) = by_kind["schedule_ended"]
    assert ended["schedule_key"] == keys["january"]
    assert ended["task_keys"] == [3]
    assert {f["task_key"] for f in by_kind.get("task_without_triggers", [])}.isdisjoint(
        {1, 2, 3, 4, 5}
    )
    for finding in findings:
        assert finding["severity"] in {"error", "warning", "info"}
        assert finding["message"]
    assert run_cli("status", "--since", "1m", "--fail-on", "never").exit_code == 0
    # without the error, warnings fail only --fail-on warnings
    assert run_cli("trigger", "delete", str(never["trigger_key"]), "--yes").exit_code == 0
    assert run_cli("status", "--since", "1m").exit_code == 0
    assert run_cli("status", "--since", "1m", "--fail-on", "warnings").exit_code == 1


def test_history_of_several_tasks_is_one_log_request(failed_run: SandboxServer) -> None:
    rows = js("task", "history", "nightly-snapshot", "tenant-poweroff", "2", "--limit", "500")
    assert requests(failed_run) == [("GET", "system"), ("GET", "tasks"), ("GET", "logs")]
    names = {r["object_name"] for r in rows}
    assert "tenant-poweroff" in names
    assert "nightly-snapshot" in names
    assert names <= {"nightly-snapshot", "tenant-poweroff", "power-on-dev"}
    out = run_cli("task", "history", "nightly-snapshot", "tenant-poweroff")
    assert out.stdout.splitlines()[0].split() == ["Time", "Task", "Level", "Text", "User"]
