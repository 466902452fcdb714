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
from support import run_cli, run_process

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
    assert seen[:3] == [("GET", "system"), ("GET", "tasks"), ("GET", "task_schedule_triggers")]
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


@pytest.mark.parametrize("command", ["agenda"])
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
        env=os.environ.copy(),
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
