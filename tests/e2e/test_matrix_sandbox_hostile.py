"""Hostile-input matrix of the sandbox: what it accepts, what it loads, what it serves.

Each class of case from the red-team pass (issue 14), run as a hostile client,
a careless admin and a damaged machine would:

* dates no epoch can hold: refused by the CLI (exit 2, nothing sent) and by
  the emulator (422, nothing stored); a stored one never breaks a later read;
* a request that fails inside the emulator stores nothing (FileStore and
  MemoryStore), and the failure is an HTTP 500, never a connection error;
* request bodies: too deep is 400, too large is 413, nothing stored;
* ``sandbox serve``: a huge ``Content-Length`` is 413 without reading, a
  filter nested 900 parentheses deep is 400 with a clear body, a state that
  cannot be loaded is named, and the server keeps serving everyone else;
* state files that are not regular files (``/dev/zero``, ``/dev/urandom``, a
  FIFO, a directory) or too large: exit 3 at once, nothing read, nothing
  replaced; a symbolic link is written through to its target.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support import Outcome, run_cli, run_process

from vrgtask.sandbox import Emulator, FileStore, MemoryStore, seed_state, state_digest
from vrgtask.sandbox import emulator as emulator_module
from vrgtask.sandbox.limits import MAX_BODY_BYTES, MAX_FILTER_DEPTH, MAX_JSON_DEPTH
from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:sandbox").decode()}
OWNER_ACTION = ["--owner", "vms/1", "--action", "poweron"]
NEW_TASK = {"name": "n", "owner": "vms/1", "action": "poweron"}
SEED_KEYS = [int(key) for key in seed_state()["tables"]["tasks"]]


def nested(depth: int) -> str:
    """JSON text of lists nested ``depth`` levels deep (built as text: no recursion)."""
    return "[" * depth + "]" * depth


def one_error_line(out: Outcome) -> str:
    assert "Traceback" not in out.stderr, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.fixture
def web(trust_sandbox: SandboxServer) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(ADMIN)
        yield session


def api(server: SandboxServer, path: str) -> str:
    return f"{server.url}/api/v4/{path}"


def digest(server: SandboxServer) -> str:
    return server.emulator.digest()


@pytest.fixture
def state_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "sandbox" / "state.json"
    monkeypatch.setenv("VRGTASK_SANDBOX_STATE", str(path))
    return path


# ---------------------------------------------------------------------------
# Dates no epoch can hold (finding 1)

SCHEDULE_DATE_CASES: list[tuple[str, list[str], str]] = [
    ("create-start-0001", ["schedule", "create", "--name", "s", "--start-date", "0001-01-01"],
     "--start-date"),
    ("create-start-1970", ["schedule", "create", "--name", "s", "--start-date", "1970-12-31"],
     "--start-date"),
    ("create-start-3000", ["schedule", "create", "--name", "s", "--start-date", "3000-01-01"],
     "--start-date"),
    ("create-start-9999", ["schedule", "create", "--name", "s", "--start-date", "9999-12-31"],
     "--start-date"),
    ("create-end-9999", ["schedule", "create", "--name", "s", "--end-date", "9999-12-31"],
     "--end-date"),
    ("update-start-0001", ["schedule", "update", "nightly", "--start-date", "0001-01-01"],
     "--start-date"),
    ("update-end-9999", ["schedule", "update", "nightly", "--end-date", "9999-12-31"],
     "--end-date"),
    ("show-start-9999", ["schedule", "show", "nightly", "--start-time", "9999-12-31T23:00:00"],
     "--start-time"),
    ("show-start-0001", ["schedule", "show", "nightly", "--start-time", "0001-01-01T00:00+14:00"],
     "--start-time"),
    ("show-end-3000", ["schedule", "show", "nightly", "--end-time", "3000-01-01"],
     "--end-time"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "option"),
    [case[1:] for case in SCHEDULE_DATE_CASES],
    ids=[case[0] for case in SCHEDULE_DATE_CASES],
)
def test_unrepresentable_dates_are_refused_before_any_request(
    sandbox_env: SandboxServer, argv: list[str], option: str
) -> None:
    before = digest(sandbox_env)
    out = run_cli(*argv)
    assert out.exit_code == 2, (out.stdout, out.stderr)
    assert option in out.stderr
    assert "1971-01-01 to 2999-12-31" in out.stderr
    assert sandbox_env.log.entries() == []  # nothing sent
    assert digest(sandbox_env) == before


@pytest.mark.parametrize("year", ["1971", "2999"])
def test_the_edges_of_the_date_range_are_accepted(sandbox_env: SandboxServer, year: str) -> None:
    day = f"{year}-01-01" if year == "1971" else f"{year}-12-31"
    out = run_cli("schedule", "create", "--name", f"edge-{year}", "--start-date", day)
    assert out.exit_code == 0, out.stderr
    listed = run_cli("schedule", "list", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert any(row["name"] == f"edge-{year}" for row in json.loads(listed.stdout))


EMULATOR_DATE_CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("post-start-0001", "POST", "task_schedules", {"name": "s", "start_date": "0001-01-01"}),
    ("post-start-1970", "POST", "task_schedules", {"name": "s", "start_date": "1970-01-01"}),
    ("post-start-9999", "POST", "task_schedules", {"name": "s", "start_date": "9999-12-31"}),
    ("post-end-9999", "POST", "task_schedules",
     {"name": "s", "end_date": "9999-12-31 23:59:59"}),
    ("put-start-0001", "PUT", "task_schedules/1", {"start_date": "0001-01-01"}),
    ("put-end-3000", "PUT", "task_schedules/1", {"end_date": "3000-01-01"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [case[1:] for case in EMULATOR_DATE_CASES],
    ids=[case[0] for case in EMULATOR_DATE_CASES],
)
def test_the_emulator_refuses_unrepresentable_dates(
    trust_sandbox: SandboxServer, web: requests.Session, method: str, path: str, body: Any
) -> None:
    before = digest(trust_sandbox)
    response = web.request(method, api(trust_sandbox, path), json=body, timeout=10)
    assert response.status_code == 422, response.text
    assert "1971 to 2999" in response.json()["err"]
    assert digest(trust_sandbox) == before
    assert web.get(api(trust_sandbox, "task_schedules"), timeout=10).status_code == 200


def test_a_stored_unrepresentable_date_never_breaks_a_read() -> None:
    """A state written before the date check: reads answer, with no epoch for it."""
    state = seed_state()
    state["tables"]["task_schedules"]["1"]["start_date"] = "0001-01-01"
    state["tables"]["task_schedules"]["2"]["start_date"] = "9999-12-31"
    emulator = Emulator(MemoryStore(state))
    for path in ("task_schedules", "task_schedules/1", "task_schedule_triggers"):
        reply = emulator.handle("GET", f"/api/v4/{path}", "", ADMIN, b"")
        assert reply.status == 200, reply.body
    reply = emulator.handle("GET", "/api/v4/task_schedules/1", "", ADMIN, b"")
    assert reply.json()["start_date_epoch"] is None


# ---------------------------------------------------------------------------
# All or nothing: a failing request stores nothing (finding 1)


def _failing_create(req: Any, body: dict[str, Any]) -> Any:
    """Half a create (a row and a key taken), then a crash."""
    key = req.next_key("tasks")
    req.tables["tasks"][str(key)] = {"$key": key, "name": "half-made"}
    req.changed()
    raise ValueError("year 0 is out of range")


def _failing_update(req: Any, row: dict[str, Any], body: dict[str, Any]) -> None:
    """Half an update (the row edited in place), then a crash."""
    row["name"] = "half-updated"
    req.changed()
    raise OverflowError("date value out of range")


@pytest.fixture
def crashing_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(emulator_module._CREATE, "tasks", _failing_create)
    monkeypatch.setitem(emulator_module._UPDATE, "tasks", _failing_update)


WRITES = [
    ("create", "POST", "/api/v4/tasks", NEW_TASK),
    ("update", "PUT", "/api/v4/tasks/1", {"description": "x"}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), [w[1:] for w in WRITES], ids=[w[0] for w in WRITES]
)
def test_memory_store_keeps_nothing_of_a_failed_request(
    crashing_emulator: None, method: str, path: str, body: Any
) -> None:
    store = MemoryStore(seed_state(50))
    emulator = Emulator(store)
    before = emulator.digest()
    live = store.state
    with pytest.raises((ValueError, OverflowError)):
        emulator.handle(method, path, "", ADMIN, json.dumps(body).encode())
    assert emulator.digest() == before
    assert store.state is live  # restored in place: references stay valid
    reply = emulator.handle("GET", "/api/v4/tasks/1", "", ADMIN, b"")
    assert reply.json()["name"] == "nightly-snapshot"


def test_memory_store_takes_no_copy_on_a_read() -> None:
    """The committed copy is taken after a change, never for a GET (10,000 tasks)."""
    store = MemoryStore(seed_state(10_000))
    emulator = Emulator(store)
    committed = store._committed
    for _ in range(3):
        reply = emulator.handle(
            "GET", "/api/v4/tasks", "filter=name eq 'bulk-task-09999'", ADMIN, b""
        )
        assert reply.status == 200
    assert store._committed is committed
    emulator.handle("POST", "/api/v4/tasks", "", ADMIN, json.dumps(NEW_TASK).encode())
    assert store._committed is not committed


@pytest.mark.parametrize(
    ("method", "path", "body"), [w[1:] for w in WRITES], ids=[w[0] for w in WRITES]
)
def test_file_store_keeps_nothing_of_a_failed_request(
    crashing_emulator: None, state_path: Path, method: str, path: str, body: Any
) -> None:
    FileStore(state_path).reset()
    before = state_path.read_bytes()
    argv = (
        ["task", "create", "--name", "n", *OWNER_ACTION]
        if method == "POST"
        else ["task", "update", "1", "--description", "x"]
    )
    out = run_cli("--sandbox", *argv)
    assert out.exit_code == 1, (out.stdout, out.stderr)
    line = one_error_line(out)
    assert "HTTP 500" in line  # not a connection error
    assert "sandbox failure" in line
    assert state_path.read_bytes() == before
    listed = run_cli("--sandbox", "task", "list", "-q")
    assert listed.exit_code == 0, listed.stderr


def test_a_failed_request_over_https_is_500_and_stores_nothing(
    crashing_emulator: None, trust_sandbox: SandboxServer, web: requests.Session
) -> None:
    before = digest(trust_sandbox)
    response = web.post(api(trust_sandbox, "tasks"), json=NEW_TASK, timeout=10)
    assert response.status_code == 500
    assert "sandbox failure: ValueError" in response.json()["err"]
    assert digest(trust_sandbox) == before
    assert web.get(api(trust_sandbox, "tasks"), timeout=10).status_code == 200


# ---------------------------------------------------------------------------
# Request bodies: depth and size (findings 2 and 15)

DEEP = [MAX_JSON_DEPTH, 200, 970, 5000]


@pytest.mark.parametrize("depth", DEEP)
def test_a_deeply_nested_body_is_400_and_stores_nothing(
    trust_sandbox: SandboxServer, web: requests.Session, depth: int
) -> None:
    before = digest(trust_sandbox)
    # settings_args sits at level 2 of the body: MAX_JSON_DEPTH more is one too many.
    body = '{"name": "deep", "owner": "vms/1", "action": "poweron", "settings_args": {"x": '
    body += nested(depth - 1) + "}}"
    response = web.post(api(trust_sandbox, "tasks"), data=body, timeout=30)
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.json()["err"]
    assert digest(trust_sandbox) == before
    assert len(web.get(api(trust_sandbox, "tasks"), timeout=10).json()) == len(SEED_KEYS)


def test_a_body_at_the_depth_limit_is_accepted(
    trust_sandbox: SandboxServer, web: requests.Session
) -> None:
    body = '{"name": "deep", "owner": "vms/1", "action": "poweron", "settings_args": {"x": '
    body += nested(MAX_JSON_DEPTH - 2) + "}}"
    response = web.post(api(trust_sandbox, "tasks"), data=body, timeout=30)
    assert response.status_code == 201, response.text
    key = int(response.json()["$key"])
    assert web.get(api(trust_sandbox, f"tasks/{key}"), timeout=10).json()["name"] == "deep"


@pytest.mark.parametrize("transport", ["https", "in-process"])
def test_an_oversized_body_is_413_and_stores_nothing(
    trust_sandbox: SandboxServer, web: requests.Session, transport: str
) -> None:
    big = json.dumps({**NEW_TASK, "description": "x" * MAX_BODY_BYTES}).encode()
    if transport == "https":
        before = digest(trust_sandbox)
        response = web.post(api(trust_sandbox, "tasks"), data=big, timeout=30)
        status, err = response.status_code, response.json()["err"]
        assert digest(trust_sandbox) == before
    else:
        emulator = Emulator(MemoryStore())
        before = emulator.digest()
        reply = emulator.handle("POST", "/api/v4/tasks", "", ADMIN, big)
        status, err = reply.status, reply.json()["err"]
        assert emulator.digest() == before
    assert status == 413
    assert "too large" in err


def test_nan_in_a_body_is_400(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    body = '{"name": "n", "owner": "vms/1", "action": "poweron", "settings_args": {"x": NaN}}'
    response = web.post(api(trust_sandbox, "tasks"), data=body, timeout=10)
    assert response.status_code == 400


def test_cli_deep_settings_never_break_later_commands(state_path: Path) -> None:
    """The red-team case: ~970 nested lists through --settings-json."""
    FileStore(state_path).reset()
    before = state_path.read_bytes()
    deep = '{"x": ' + nested(970) + "}"
    # A process of its own: the red team ran it from a shell, with a shallow stack.
    out = run_process("--sandbox", "task", "create", "--name", "deep", *OWNER_ACTION,
                      "--settings-json", deep)  # fmt: skip
    # Refused by the client (exit 2) or by the sandbox (HTTP 400, exit 1): never stored.
    assert out.exit_code in (1, 2), (out.stdout, out.stderr)
    assert "nested too deeply" in one_error_line(out) or "--settings-json" in out.stderr
    assert state_path.read_bytes() == before
    listed = run_cli("--sandbox", "task", "list", "-q")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.split() == [str(key) for key in SEED_KEYS]


# ---------------------------------------------------------------------------
# sandbox serve: hostile HTTP (finding 15)


def _connect(server: SandboxServer) -> ssl.SSLSocket:
    assert server.ca_pem_path is not None
    context = ssl.create_default_context(cafile=str(server.ca_pem_path))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _read_response(sock: ssl.SSLSocket) -> tuple[int, dict[str, str], bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


HEADER_CASES = [
    ("content-length-1TB", f"Content-Length: {10**12}", 413),
    ("content-length-1GiB", f"Content-Length: {2**30}", 413),
    ("chunk-of-1TB", "Transfer-Encoding: chunked", 413),
    ("content-length-text", "Content-Length: lots", 400),
    ("content-length-negative", "Content-Length: -5", 400),
]


@pytest.mark.parametrize(
    ("header", "status"), [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES]
)
def test_hostile_body_headers_are_refused_without_reading(
    trust_sandbox: SandboxServer, web: requests.Session, header: str, status: int
) -> None:
    before = digest(trust_sandbox)
    with _connect(trust_sandbox) as sock:
        head = f"POST /api/v4/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}\r\n"
        head += f"Authorization: {ADMIN['Authorization']}\r\n\r\n"
        if "chunked" in header:
            head += f"{10**12:x}\r\n"
        sock.sendall(head.encode())  # and no body at all
        code, headers, body = _read_response(sock)
    assert code == status
    assert headers.get("connection") == "close"
    assert json.loads(body)["err"]
    if status == 413:
        assert "too large" in json.loads(body)["err"]
    assert digest(trust_sandbox) == before
    assert web.get(api(trust_sandbox, "tasks"), timeout=10).status_code == 200


FILTER_CASES = [
    ("parentheses-900", "(" * 900 + "name eq 'x'" + ")" * 900, 400, "nested too deeply"),
    ("parentheses-33", "(" * (MAX_FILTER_DEPTH + 1) + "name eq 'x'" + ")" * 33, 400,
     "nested too deeply"),
    ("terms-1001", " and ".join(["name ne 'x'"] * 1001), 400, "too long"),
    ("terms-1000", " and ".join(["name ne 'x'"] * 1000), 200, ""),
    ("parentheses-32", "(" * MAX_FILTER_DEPTH + "name eq 'power-on-dev'" + ")" * 32, 200, ""),
]  # fmt: skip

QUERY_CASES = [
    ("fields-flatten-2000-deep", "fields=" + "flatten(creator[" * 2000 + "name" + "])" * 2000,
     400, "nested more than"),
    ("fields-count-3000-deep", "fields=" + "count(" * 3000 + "x" + ")" * 3000, 400,
     "nested more than"),
    ("limit-5000-digits", "limit=" + "9" * 5000, 422, "Invalid limit"),
    ("offset-30-digits", "offset=" + "9" * 30, 422, "Invalid offset"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "status", "says"), [c[1:] for c in FILTER_CASES], ids=[c[0] for c in FILTER_CASES]
)
def test_hostile_filters_are_answered_clearly(
    trust_sandbox: SandboxServer, web: requests.Session, text: str, status: int, says: str
) -> None:
    response = web.get(api(trust_sandbox, "tasks"), params={"filter": text}, timeout=30)
    assert response.status_code == status, response.text[:300]
    if status == 400:
        assert says in response.json()["err"]
    else:
        assert len(response.json()) in (1, len(SEED_KEYS))
    assert web.get(api(trust_sandbox, "tasks"), timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("query", "status", "says"), [c[1:] for c in QUERY_CASES], ids=[c[0] for c in QUERY_CASES]
)
def test_hostile_query_parameters_are_answered_clearly(
    trust_sandbox: SandboxServer, web: requests.Session, query: str, status: int, says: str
) -> None:
    response = web.get(f"{api(trust_sandbox, 'tasks')}?{query}", timeout=30)
    assert response.status_code == status, response.text[:300]
    assert says in response.json()["err"]


def test_a_row_key_of_5000_digits_is_404(
    trust_sandbox: SandboxServer, web: requests.Session
) -> None:
    response = web.get(api(trust_sandbox, "tasks/" + "9" * 5000), timeout=30)
    assert response.status_code == 404


def test_a_stalled_client_does_not_stop_the_others(
    trust_sandbox: SandboxServer, web: requests.Session
) -> None:
    rest = b'me": "x"}'.ljust(96)
    with _connect(trust_sandbox) as stalled:
        head = "POST /api/v4/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        head += f"Authorization: {ADMIN['Authorization']}\r\n\r\n"
        stalled.sendall(head.encode() + b'{"na')  # and then nothing, for a while
        for _ in range(3):
            assert web.get(api(trust_sandbox, "tasks/1"), timeout=10).status_code == 200
        stalled.sendall(rest)
        status, _headers, body = _read_response(stalled)
    assert status == 422  # the body arrived whole: {"name": "x"} lacks an owner
    assert b"owner" in body


CONTROL_CASES = [
    ("faults-deep-body", "faults", "[" * 5000 + "]" * 5000, 400),
    ("faults-huge-delay", "faults", json.dumps({"delay": 1e300}), 400),
    ("reset-too-many-tasks", "reset", json.dumps({"tasks": 10**9}), 400),
]


@pytest.mark.parametrize(
    ("route", "body", "status"), [c[1:] for c in CONTROL_CASES], ids=[c[0] for c in CONTROL_CASES]
)
def test_hostile_control_requests_are_refused(
    trust_sandbox: SandboxServer, web: requests.Session, route: str, body: str, status: int
) -> None:
    response = web.post(f"{trust_sandbox.url}/_sandbox/{route}", data=body, timeout=30)
    assert response.status_code == status, response.text
    assert trust_sandbox.faults.rules() == []
    assert web.get(api(trust_sandbox, "tasks"), timeout=10).status_code == 200


def test_serve_names_a_state_that_cannot_be_loaded(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    FileStore(path).reset()
    text = path.read_text()
    path.write_text(text.replace('"retention_days":14', '"x":' + nested(990)))
    with SandboxServer(Emulator(FileStore(path))) as server:
        assert server.ca_pem_path is not None
        ca = str(server.ca_pem_path)
        response = requests.get(api(server, "tasks"), headers=ADMIN, verify=ca, timeout=10)
        assert response.status_code == 500
        err = response.json()["err"]
        assert "sandbox state unusable" in err
        assert str(path) in err
        assert "nested" in err
        # still serving: the control endpoints answer
        log = requests.get(f"{server.url}/_sandbox/log", verify=ca, timeout=10)
        assert log.status_code == 200
    assert '"x":[[[' in path.read_text()  # untouched


@pytest.mark.parametrize("kind", ["device", "corrupt"])
def test_serve_refuses_an_unusable_state_at_start(tmp_path: Path, kind: str) -> None:
    path = Path("/dev/zero") if kind == "device" else tmp_path / "state.json"
    if kind == "corrupt":
        path.write_text('{"version": 1')
    if not path.exists():
        pytest.skip("no /dev/zero here")
    out = run_process("sandbox", "serve", "--port", "0", "--state", str(path), timeout=60)
    assert out.exit_code == 3, (out.stdout, out.stderr)
    assert str(path) in one_error_line(out)
    assert "listening" not in out.stdout


# ---------------------------------------------------------------------------
# State files that are not regular files, or too large (finding 6)

COMMANDS = {
    "task-list": ["--sandbox", "task", "list"],
    "task-create": ["--sandbox", "task", "create", "--name", "n", *OWNER_ACTION],
    "sandbox-status": ["sandbox", "status"],
    "sandbox-reset": ["sandbox", "reset"],
}
SPECIAL = ["dev-zero", "dev-urandom", "fifo", "directory"]


def _special(kind: str, tmp_path: Path) -> Path:
    if kind == "dev-zero":
        return Path("/dev/zero")
    if kind == "dev-urandom":
        return Path("/dev/urandom")
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="devices and FIFOs are POSIX")
@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", SPECIAL)
def test_a_state_path_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path: Path, kind: str, command: str
) -> None:
    path = _special(kind, tmp_path)
    if not path.exists():
        pytest.skip(f"no {path} here")
    mode = os.stat(path).st_mode
    started = time.monotonic()
    # A separate process with a timeout: a hang or an endless read fails the case.
    out = run_process(*COMMANDS[command], env={"VRGTASK_SANDBOX_STATE": str(path)}, timeout=60)
    assert out.exit_code == 3, (out.stdout, out.stderr)
    line = one_error_line(out)
    assert str(path) in line
    assert "not a regular file" in line
    assert out.stdout == ""
    assert os.stat(path).st_mode == mode  # still the same kind of thing
    assert time.monotonic() - started < 60
    if kind == "directory":
        assert list(path.iterdir()) == []


def test_a_state_file_over_the_size_limit_is_refused_unread(state_path: Path) -> None:
    from vrgtask.sandbox.limits import MAX_STATE_BYTES

    state_path.parent.mkdir(parents=True)
    with state_path.open("wb") as handle:  # sparse: no disk, no memory
        handle.truncate(MAX_STATE_BYTES + 1)
    out = run_cli("--sandbox", "task", "list")
    assert out.exit_code == 3, out.stderr
    assert "larger than" in one_error_line(out)
    assert state_path.stat().st_size == MAX_STATE_BYTES + 1


# ---------------------------------------------------------------------------
# A symbolic link as the state path (finding 4)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
@pytest.mark.parametrize("target_exists", [True, False], ids=["target", "dangling"])
def test_a_symlinked_state_is_written_through_to_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target_exists: bool
) -> None:
    target = tmp_path / "real" / "state.json"
    target.parent.mkdir()
    if target_exists:
        FileStore(target).reset()
    link = tmp_path / "link.json"
    link.symlink_to(target)
    monkeypatch.setenv("VRGTASK_SANDBOX_STATE", str(link))
    out = run_cli("--sandbox", "task", "create", "--name", "through", *OWNER_ACTION)
    assert out.exit_code == 0, out.stderr
    assert stat.S_ISLNK(os.lstat(link).st_mode)  # still a link
    names = [r["name"] for r in json.loads(target.read_bytes())["tables"]["tasks"].values()]
    assert "through" in names
    assert (target.parent / "state.json.lock").exists()  # the target is what is locked
    assert not (tmp_path / "link.json.lock").exists()
    assert run_cli("sandbox", "reset").exit_code == 0
    assert stat.S_ISLNK(os.lstat(link).st_mode)
    assert state_digest(json.loads(target.read_bytes())) == state_digest(seed_state())
