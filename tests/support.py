"""Helpers shared by the test suites (importable as ``support``)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from unittest.mock import MagicMock


@dataclass
class Outcome:
    """What one CLI invocation produced."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


Invoke = Callable[..., Outcome]


def sdk_object(cls: type, data: dict[str, Any], requested: Sequence[str] | None = None) -> Any:
    """A real pyvergeos model object built from ``data``.

    ``requested`` lists the projection aliases the (pretend) request asked
    for; by default every key of ``data``, like a default-projection read.
    """
    manager = MagicMock()
    manager._requested_aliases = frozenset(requested if requested is not None else data)
    return cls(data, manager)


TASK_DATA: dict[str, Any] = {
    "$key": 100,
    "name": "nightly-backup",
    "description": "Nightly backup task",
    "enabled": True,
    "status": "idle",
    "action": "snapshot",
    "action_display": "Take Snapshot",
    "table": "vms",
    "owner": "vms/1",
    "owner_display": "web-server",
    "creator": "users/1",
    "creator_display": "admin",
    "last_run": 1707200000,
    "delete_after_run": False,
    "system_created": False,
    "id": "a" * 40,
    "triggers_count": 1,
    "events_count": 0,
}


#: The standard schedule as a row of the SDK's default projection.
SCHEDULE_DATA: dict[str, Any] = {
    "$key": 200,
    "name": "nightly-window",
    "description": "Nightly maintenance window",
    "enabled": True,
    "task": None,
    "task_display": "",
    "repeat_every": "day",
    "repeat_iteration": 1,
    "start_date": "2026-01-01",
    "start_date_epoch": 1767225600,
    "end_date": "",
    "start_time_of_day": 7200,
    "end_time_of_day": 14400,
    "all_day": False,
    "day_of_month": "start_date",
    "monday": True,
    "tuesday": True,
    "wednesday": True,
    "thursday": True,
    "friday": True,
    "saturday": False,
    "sunday": False,
    "system_created": False,
    "creator": "users/1",
    "creator_display": "admin",
}

#: The standard trigger, with the SDK's projected column names.
TRIGGER_DATA: dict[str, Any] = {
    "$key": 300,
    "task": 100,
    "task_display": "nightly-backup",
    "schedule": 200,
    "schedule_display": "nightly-window",
    "trigger": 0,
    "sch_enabled": True,
    "sch_repeat_every": "day",
}


def run_cli(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Outcome:
    """``vrgtask ARGS`` in this process: the real CLI, the real SDK, no mocks.

    The environment (``VERGE_*``) is the process's own, as a shell would pass it.
    """
    from click.testing import CliRunner

    from vrgtask.cli import cli

    result = CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=True)
    return Outcome(result.exit_code, result.stdout, result.stderr, result.exception)


def default_sigint() -> None:
    """``preexec_fn`` of every child: SIGINT back to its default.

    A suite started with SIGINT ignored (``nohup``, ``&`` in a script) would
    otherwise hand the ignoring on to every child (exec keeps ignored
    signals), and a child that is meant to stop on Ctrl-C would never stop.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: Keyword arguments that make a child independent of how the suite was started.
CHILD_KWARGS: dict[str, Any] = {"preexec_fn": default_sigint} if os.name == "posix" else {}


@contextlib.contextmanager
def spawn(
    argv: Sequence[str], *, env: dict[str, str] | None = None, **kwargs: Any
) -> Iterator[subprocess.Popen[str]]:
    """A child process with default SIGINT handling and a scratch TMPDIR.

    On leaving, a child still running is killed, and its scratch directory
    (where it made its temporary folders, ``vrgtask-sandbox-*`` among them)
    is removed, even when the child was killed before cleaning up itself.
    """
    scratch = tempfile.mkdtemp(prefix="vrgtask-test-child-")
    full_env = {**os.environ, **(env or {}), "TMPDIR": scratch}
    kwargs.setdefault("text", True)
    proc = subprocess.Popen(list(argv), env=full_env, **CHILD_KWARGS, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


def stop_server(proc: subprocess.Popen[Any] | None) -> None:
    """Stop a ``vrgtask sandbox serve`` child: SIGTERM (it stops cleanly on
    it), then SIGKILL after 15 s; close its stdout."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    if proc.stdout is not None:
        proc.stdout.close()


def run_process(
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Outcome:
    """``python -m vrgtask ARGS`` as a separate process (stdin/stdout are pipes)."""
    with spawn(
        [sys.executable, "-m", "vrgtask", *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(input if input is not None else "", timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    return Outcome(proc.returncode, stdout, stderr, None)


def untouched(mock_client: MagicMock) -> None:
    """No client was built and nothing was asked of the SDK (a refusal before any request)."""
    import vrgtask.context

    assert mock_client.method_calls == []
    build = vrgtask.context.build_client
    assert isinstance(build, MagicMock), "the unit-test mock_client fixture is not in use"
    assert not build.called


#: A row of task_events as the SDK's default projection returns it.
EVENT_DATA: dict[str, Any] = {
    "$key": 400,
    "owner": "users/3",
    "owner_display": "ops",
    "table": "users",
    "event": "login",
    "event_name": "Login",
    "task": 100,
    "task_name": "nightly-backup",
    "table_event_filters": None,
    "trigger": 0,
    "context": None,
    "task_display": "nightly-backup",
}

#: A row of task_scripts with every column (the code too).
SCRIPT_DATA: dict[str, Any] = {
    "$key": 500,
    "name": "cleanup",
    "description": "Delete old logs",
    "script": "log('a')\r\nlog('b')\n",
    "task_settings": {"questions": []},
    "task_count": 2,
}


def read_pty_until(fd: int, wanted: bytes | re.Pattern[bytes], deadline: float) -> bytes:
    """What a pty's other side writes, until ``wanted`` shows, it closes, or ``deadline``
    (a ``time.monotonic()`` value) passes."""
    import select
    import time

    def found(data: bytes) -> bool:
        return wanted in data if isinstance(wanted, bytes) else bool(wanted.search(data))

    data = b""
    while not found(data) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            data += chunk
    return data
