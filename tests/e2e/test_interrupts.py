"""Interrupted and destructive work, through real ``python -m vrgtask`` processes
against the HTTPS sandbox.

* Ctrl-C (SIGINT) during ``task run --wait`` exits 130, says on one line that
  the task keeps running, and the task does keep running (it is not cancelled)
  -- while waiting, while the start is being confirmed, and while the run is queued.
* Every ``delete`` refuses without ``--yes`` when there is no terminal (stdin
  is a pipe): exit 2, the message names --yes, nothing is deleted.
* A plugin that raises at import, or whose entry point is not a command, is
  marked in ``--help``; running it explains itself in one line; every other
  command keeps working.
"""

from __future__ import annotations

import functools
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata

import pytest
from support import run_cli, run_process, spawn

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

RUN_WAIT = [
    sys.executable, "-m", "vrgtask", "task", "run", "nightly-snapshot", "--wait", "--params-json",
]  # fmt: skip
TASK_PATH = "/api/v4/tasks/1"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll ``condition()`` (bounded) until it is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def executed(server: SandboxServer) -> bool:
    return any(
        e["method"] == "POST" and e["path"] == "/api/v4/task_actions" for e in server.log.entries()
    )


def polls_after_execute(server: SandboxServer) -> int:
    """GETs of the task after the execute (the start check, then --wait's polls)."""
    entries = server.log.entries()
    starts = [
        i
        for i, e in enumerate(entries)
        if e["method"] == "POST" and e["path"] == "/api/v4/task_actions"
    ]
    if not starts:
        return 0
    return sum(
        1 for e in entries[starts[0] + 1 :] if e["method"] == "GET" and e["path"] == TASK_PATH
    )


def task_status(server: SandboxServer) -> str:
    return str(json.loads(server.emulator.export_state())["tables"]["tasks"]["1"]["status"])


#: moment, --params-json, what the one stderr line says, the task's status afterwards
INTERRUPT_MOMENTS = [
    ("while-waiting", '{"sandbox_duration": 30, "sandbox_start_delay": 0.2}',
     "keeps running on the server", "running"),
    ("while-starting", '{"sandbox_duration": 30, "sandbox_start_delay": 0.2}',
     "may have started and then keeps running on the server", "running"),
    ("while-queued", '{"sandbox_duration": 30, "sandbox_start_delay": 30}',
     "may still start and run on the server", "idle"),
]  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize(
    ("moment", "params", "says", "status"),
    INTERRUPT_MOMENTS,
    ids=[m[0] for m in INTERRUPT_MOMENTS],
)
def test_ctrl_c_during_run_wait_exits_130_and_the_task_keeps_running(
    sandbox_env: SandboxServer, moment: str, params: str, says: str, status: str
) -> None:
    server = sandbox_env
    if moment == "while-starting":
        # Hold the first look at the task after the server accepted the run, so
        # that Ctrl-C lands while vrgtask is confirming the start.
        server.faults.add({"method": "GET", "path": f"^{TASK_PATH}$", "delay": 3, "times": 1})
    with spawn(
        [*RUN_WAIT, params],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        if moment == "while-waiting":
            wait_for(lambda: task_status(server) == "running", "the run to start")
            seen = polls_after_execute(server)
            wait_for(lambda: polls_after_execute(server) >= seen + 2, "polls of the running task")
        elif moment == "while-queued":
            wait_for(lambda: polls_after_execute(server) >= 2, "a --wait poll of the queued task")
        else:
            wait_for(lambda: executed(server), "the execute request")
            time.sleep(0.3)  # the client is now waiting for the delayed look
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    assert server.wait_idle(timeout=10)

    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: interrupted; task 'nightly-snapshot' (key 1) ")
    assert says in lines[0]
    assert "vrgtask task wait 1" in lines[0]  # how to follow it
    assert stdout == ""

    # The run goes on on the server: vrgtask never cancels it.
    assert not any(
        e["method"] in ("POST", "PUT") and e["path"] != "/api/v4/task_actions"
        for e in server.log.entries()
    )
    assert sum(1 for e in server.log.entries() if e["method"] == "POST") == 1
    got = run_cli("-o", "json", "task", "get", "nightly-snapshot")
    assert got.exit_code == 0, got.stderr
    assert json.loads(got.stdout)["status"] == status


# -- delete without --yes and without a terminal ------------------------------

DELETES: list[tuple[str, list[str], str]] = [
    ("task", ["task", "delete", "nightly-snapshot"], "tasks"),
    ("schedule", ["schedule", "delete", "hourly"], "task_schedules"),
    ("trigger", ["trigger", "delete", "1"], "task_schedule_triggers"),
    ("event", ["event", "delete", "1"], "task_events"),
    ("script", ["script", "delete", "cleanup-logs"], "task_scripts"),
]
DELETE_IDS = [d[0] for d in DELETES]


@functools.lru_cache(maxsize=1)
def top_level_commands() -> frozenset[str]:
    """The commands ``vrgtask --help`` lists (plugins included)."""
    out = run_process("--help")
    assert out.exit_code == 0, out.stderr
    section = out.stdout.split("Commands:", 1)[1]
    return frozenset(re.findall(r"^  (\S+)", section, flags=re.MULTILINE))


@pytest.mark.parametrize(("argv", "table"), [d[1:] for d in DELETES], ids=DELETE_IDS)
def test_delete_refuses_without_yes_when_there_is_no_terminal(
    sandbox_env: SandboxServer, argv: list[str], table: str
) -> None:
    if argv[0] not in top_level_commands():
        pytest.skip(f"`vrgtask {argv[0]}` is not installed (yet)")
    before = sandbox_env.emulator.digest()
    rows_before = json.loads(sandbox_env.emulator.export_state())["tables"][table]
    assert rows_before, f"the seed has no {table} to refuse to delete"
    out = run_process(*argv)  # stdin is a pipe: no terminal to ask
    assert out.exit_code == 2, (out.stdout, out.stderr)
    assert "--yes" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout == ""
    assert not [e for e in sandbox_env.log.entries() if e["method"] == "DELETE"]
    assert sandbox_env.emulator.digest() == before


# -- broken plugins -------------------------------------------------------------


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_broken_plugins = pytest.mark.skipif(
    not _installed("vrgtask-broken"),
    reason="the example plugins of tests/plugins are not installed (tox installs them)",
)

BROKEN = ["broken-import", "broken-load"]


@needs_broken_plugins
def test_broken_plugins_are_marked_and_every_other_command_works(
    sandbox_env: SandboxServer,
) -> None:
    top = run_process("--help")
    assert top.exit_code == 0, top.stderr
    assert "Traceback" not in top.stdout + top.stderr
    for name in BROKEN:
        marked = [line for line in top.stdout.splitlines() if line.strip().startswith(name)]
        assert marked, top.stdout
        assert "broken plugin" in marked[0]
    assert {"task", "schedule", "trigger"} <= top_level_commands()

    task = run_process("-o", "json", "task", "get", "nightly-snapshot")
    assert task.exit_code == 0, task.stderr
    assert json.loads(task.stdout)["$key"] == 1
    schedules = run_process("schedule", "list", "-q")
    assert (schedules.exit_code, schedules.stdout.split()) == (0, ["1", "2", "3", "4"])
    triggers = run_process("trigger", "list", "-q")
    assert (triggers.exit_code, triggers.stdout.split()) == (0, ["1", "2"])
    made = run_process("trigger", "create", "tenant-poweroff", "--schedule", "hourly", "-q")
    assert made.exit_code == 0, made.stderr
    for out in (task, schedules, triggers, made):
        assert out.stderr == ""


@needs_broken_plugins
@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_plugin_explains_itself_in_one_line(name: str) -> None:
    out = run_process(name)
    assert out.exit_code == 1, (out.stdout, out.stderr)
    assert "Traceback" not in out.stdout + out.stderr, out.stdout + out.stderr
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("Error: ")
    assert name in lines[0]
