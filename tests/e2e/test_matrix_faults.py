"""Fault matrix: every way a request can fail, for one read and one write
command of each of task, schedule and trigger, through the real CLI over
HTTPS against the sandbox (fault injection and request log).

Every case proves:

* the documented exit code (README, "Exit codes");
* exactly one line on stderr, ``Error: ...``, no traceback, nothing on stdout;
* the line carries what the user needs (the server's message, the status,
  ``--timeout``, the host that could not be reached);
* the attempts the server saw (request log): a failing read (GET) with 500/503,
  a broken connection is retried 3 times (4 attempts); a read timeout is not
  (--timeout bounds the request as a whole, retries included); a
  write is sent exactly once; a 4xx is never retried;
* the sandbox state digest before and after: nothing changed that the server
  did not accept. Faults with a status, ``drop`` or ``invalid_json`` answer
  instead of the emulator, so the state must be unchanged. A ``delay`` longer
  than ``--timeout`` on a write lets the emulator accept the write after the
  client gave up: the state must then be exactly what one clean run of the
  command produces (applied once, never twice).

The fault is injected only on the operation's own request (method + path
regex): the connection check ``GET /api/v4/system`` and the name resolution
(``GET /api/v4/<table>?filter=...`` of a write command) are answered normally.
For ``task get`` and ``schedule get`` the filtered query *is* the operation.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import Outcome, run_cli

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

#: README: reads are retried 3 times; writes are sent once.
READ_RETRIES = 3
#: ``--timeout`` of the read-timeout cases, and the server's delay (longer).
REQUEST_TIMEOUT = 0.5
SERVER_DELAY = 1.5

Tables = dict[str, dict[str, dict[str, Any]]]


def tables_of(server: SandboxServer) -> Tables:
    state = json.loads(server.emulator.export_state())
    result: Tables = state["tables"]
    return result


def trigger_links(tables: Tables, task: int, schedule: int) -> int:
    return sum(
        1
        for row in tables["task_schedule_triggers"].values()
        if row["task"] == task and row["schedule"] == schedule
    )


@dataclass(frozen=True)
class Command:
    """One CLI command and the request that is its operation."""

    id: str
    argv: tuple[str, ...]
    method: str
    #: Regex of the operation's own request path (the fault's ``path``).
    path: str
    #: For writes: the state the command changes (read from the tables).
    effect: Callable[[Tables], Any] | None = None
    #: The effect before and after an accepted write.
    effect_before: Any = None
    effect_after: Any = None

    @property
    def is_read(self) -> bool:
        return self.method == "GET"


COMMANDS: list[Command] = [
    Command("task-get", ("task", "get", "nightly-snapshot"), "GET", r"^/api/v4/tasks$"),
    Command(
        "task-enable",
        ("task", "enable", "reset-dmz"),
        "PUT",
        r"^/api/v4/tasks/4$",
        effect=lambda t: t["tasks"]["4"]["enabled"],
        effect_before=False,
        effect_after=True,
    ),
    Command("schedule-get", ("schedule", "get", "nightly"), "GET", r"^/api/v4/task_schedules$"),
    Command(
        "schedule-disable",
        ("schedule", "disable", "hourly"),
        "PUT",
        r"^/api/v4/task_schedules/3$",
        effect=lambda t: t["task_schedules"]["3"]["enabled"],
        effect_before=True,
        effect_after=False,
    ),
    Command("trigger-list", ("trigger", "list"), "GET", r"^/api/v4/task_schedule_triggers$"),
    Command(
        "trigger-create",
        ("trigger", "create", "tenant-poweroff", "--schedule", "hourly"),
        "POST",
        r"^/api/v4/task_schedule_triggers$",
        effect=lambda t: trigger_links(t, task=3, schedule=3),
        effect_before=0,
        effect_after=1,
    ),
]


@dataclass(frozen=True)
class Fault:
    """What goes wrong, and what the CLI must make of it."""

    id: str
    #: The sandbox fault rule (without method/path); None: connection refused.
    rule: dict[str, Any] | None
    exit_code: int
    #: Text the one stderr line must contain ({host} is replaced).
    needles: tuple[str, ...]
    #: Attempts of the operation's request the server sees, for a read / a write.
    read_attempts: int
    write_attempts: int
    extra_argv: tuple[str, ...] = field(default=())


def _status(code: int, message: str, *needles: str) -> Fault:
    """A status fault; 5xx reads are retried, 4xx never, writes never."""
    retried = 1 + READ_RETRIES if code >= 500 else 1
    return Fault(
        f"http-{code}",
        {"status": code, "body": {"err": message}},
        exit_code={401: 4, 403: 5, 404: 6, 409: 7, 422: 8}.get(code, 1),
        needles=(message, *needles),
        read_attempts=retried,
        write_attempts=1,
    )


FAULTS: list[Fault] = [
    _status(401, "session expired for the fault matrix"),
    _status(403, "the fault matrix may not touch this"),
    _status(404, "the fault matrix lost this object"),
    _status(409, "the fault matrix holds a lock on it"),
    _status(422, "the fault matrix finds field 'enabled' invalid"),
    _status(500, "the fault matrix broke the database", "HTTP 500"),
    _status(503, "the fault matrix is under maintenance", "HTTP 503"),
    Fault(
        "read-timeout",
        {"delay": SERVER_DELAY},
        exit_code=9,
        needles=("timed out", "--timeout"),
        # --timeout bounds the request as a whole, retries included: the
        # first attempt uses it up, so the server sees exactly one.
        read_attempts=1,
        write_attempts=1,
        extra_argv=("--timeout", str(REQUEST_TIMEOUT)),
    ),
    Fault(
        "connection-refused",
        None,
        exit_code=10,
        needles=("{host}",),
        read_attempts=0,
        write_attempts=0,
    ),
    Fault(
        "connection-dropped",
        {"drop": True},
        exit_code=10,
        needles=("{host}",),
        read_attempts=1 + READ_RETRIES,
        write_attempts=1,
    ),
    Fault(
        "invalid-json",
        {"invalid_json": True},
        exit_code=1,
        needles=("not valid JSON",),
        read_attempts=1,
        write_attempts=1,
    ),
]

CASES: list[tuple[Command, Fault]] = [(c, f) for c in COMMANDS for f in FAULTS]
CASE_IDS: list[str] = [f"{c.id}:{f.id}" for c, f in CASES]


def closed_port() -> int:
    """A 127.0.0.1 port that was just free: nothing listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def error_line(out: Outcome) -> str:
    """The single ``Error: ...`` line of a failed run (asserts the shape)."""
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("Error: "), out.stderr
    assert out.stdout == "", out.stdout
    return lines[0]


def attempts(server: SandboxServer, command: Command) -> int:
    pattern = re.compile(command.path)
    return sum(
        1
        for e in server.log.entries()
        if e["method"] == command.method and pattern.search(e["path"])
    )


def other_requests_succeeded(server: SandboxServer, command: Command) -> bool:
    """The connection check and name resolution were not disturbed."""
    pattern = re.compile(command.path)
    others = [
        e
        for e in server.log.entries()
        if not (e["method"] == command.method and pattern.search(e["path"]))
    ]
    return bool(others) and all(200 <= e["status"] < 300 for e in others)


def digest_of_clean_run(server: SandboxServer, command: Command) -> str:
    """The state one fault-free run of ``command`` produces from the seed."""
    server.faults.clear()
    server.emulator.reset()
    out = run_cli(*command.argv)
    assert out.exit_code == 0, out.stderr
    return server.emulator.digest()


@pytest.mark.parametrize(("command", "fault"), CASES, ids=CASE_IDS)
def test_fault(
    sandbox_env: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    command: Command,
    fault: Fault,
) -> None:
    monkeypatch.setenv("VERGE_RETRY_BACKOFF", "0.01")
    server = sandbox_env
    host = server.host
    if fault.rule is None:
        host = f"127.0.0.1:{closed_port()}"
        monkeypatch.setenv("VERGE_HOST", host)
    else:
        server.faults.add({"method": command.method, "path": command.path, **fault.rule})
    before_digest = server.emulator.digest()
    before = tables_of(server)

    started = time.monotonic()
    out = run_cli(*fault.extra_argv, *command.argv)
    elapsed = time.monotonic() - started
    assert server.wait_idle(timeout=30), "a delayed request never finished"

    line = error_line(out)
    assert out.exit_code == fault.exit_code, line
    for needle in fault.needles:
        assert needle.format(host=host) in line, line

    expected = fault.read_attempts if command.is_read else fault.write_attempts
    assert attempts(server, command) == expected, server.log.entries()
    if fault.rule is not None:
        assert other_requests_succeeded(server, command), server.log.entries()
    else:
        assert server.log.entries() == []

    if fault.id == "read-timeout":
        # Each attempt gave up after --timeout instead of waiting for the server.
        assert elapsed < expected * REQUEST_TIMEOUT + 3.0, elapsed

    after_digest = server.emulator.digest()
    if command.is_read or fault.id != "read-timeout":
        assert after_digest == before_digest, "the state changed although the server refused"
        return
    # The server accepted the write after its delay: exactly one application of it.
    assert command.effect is not None
    assert command.effect(before) == command.effect_before
    assert command.effect(tables_of(server)) == command.effect_after
    assert after_digest == digest_of_clean_run(server, command)


def test_the_matrix_covers_every_command_and_fault() -> None:
    resources = {c.argv[0] for c in COMMANDS}
    assert resources == {"task", "schedule", "trigger"}
    for resource in resources:
        kinds = {c.is_read for c in COMMANDS if c.argv[0] == resource}
        assert kinds == {True, False}, resource
    assert len(CASES) == len(COMMANDS) * len(FAULTS) >= 60
    assert len(set(CASE_IDS)) == len(CASE_IDS)
