"""Hostile-server matrix: what a server (or a man in the middle with a valid
certificate) can send, through the real CLI and the real pyvergeos over HTTPS
against :mod:`hostile_server` (the sandbox emulator behind a front end that
trickles, resets, redirects and lies).

Every case proves:

* the documented exit code, and exactly one ``Error: ...`` line on stderr
  (no traceback), nothing on stdout;
* the line says what happened (``--timeout``, "not valid", "another origin");
* the attempts the server saw: broken reads of a GET are retried (4 attempts),
  a write is sent once, a request redirected to another origin never arrives
  there (no request carries the other origin's Host);
* nothing changed on the server when the client refused the answer of a write
  it never saw through (the state digest).

Classes of case: slow servers (a byte at a time in the body or the headers, a
huge ``Retry-After``) end at ``--timeout`` with exit 9; connections that break
halfway through the body are retried, then exit 10; redirects to another
origin are refused (exit 10); malformed answers (a non-object in a list, a
string or missing ``$key``, JSON nested thousands deep, a field of the wrong
type) are "the server's response is not valid" (exit 1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import Outcome, run_cli, run_process, spawn

from .hostile_server import Behaviour, HostileServer

pytestmark = pytest.mark.e2e

TASKS = r"^/api/v4/tasks$"
#: --timeout of the slow-server cases: the server would take far longer.
TIMEOUT = "1"
READ_RETRIES = 3
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileServer]:
    server = HostileServer(tmp_path_factory.mktemp("hostile-ca"), extra_tasks=5000)
    with server.running():
        yield server


@pytest.fixture
def hostile(hostile_server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> HostileServer:
    """The server with no behaviours, an empty log, and the CLI pointed at it."""
    hostile_server.behaviours.clear()
    hostile_server.seen.clear()
    hostile_server.emulator.reset(extra_tasks=5000)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(name, str(hostile_server.ca_path))
    monkeypatch.setenv("VERGE_HOST", hostile_server.host)
    monkeypatch.setenv("VERGE_USERNAME", "admin")
    monkeypatch.setenv("VERGE_PASSWORD", "sandbox")
    monkeypatch.setenv("VERGE_RETRY_BACKOFF", "0.05")  # the counts matter, not the waits
    return hostile_server


@dataclass(frozen=True)
class Case:
    id: str
    #: The behaviour, given the server's port (for redirect targets).
    behaviour: Callable[[int], Behaviour]
    argv: tuple[str, ...]
    exit_code: int
    needles: tuple[str, ...]
    #: (method, path regex, how many such requests the server must see).
    attempts: tuple[str, str, int] | None = None


def _answer(body: bytes, status: int = 200, **headers: str) -> Callable[[int], Behaviour]:
    return lambda _port: Behaviour(
        "answer", method="GET", path=TASKS, status=status, body=body, headers=headers
    )


def _elsewhere(method: str, status: int, scheme: str = "https") -> Callable[[int], Behaviour]:
    """A redirect to another origin: the same server under another host name."""
    return lambda port: Behaviour(
        "redirect",
        method=method,
        path=TASKS,
        status=status,
        location=f"{scheme}://localhost:{port}/api/v4/tasks",
    )


LIST = ("task", "list")
CREATE = ("task", "create", "--name", "hostile", "--owner", "vms/1", "--action", "poweron")

CASES: list[Case] = [
    # -- slow servers: --timeout bounds the request as a whole ----------------
    Case(
        "trickled-body",
        lambda _p: Behaviour("trickle_body", method="GET", path=TASKS),
        ("--timeout", TIMEOUT, *LIST),
        9,
        ("timed out", "--timeout"),
        ("GET", TASKS, 1),
    ),
    Case(
        "trickled-headers",
        lambda _p: Behaviour("trickle_headers", method="GET", path=TASKS),
        ("--timeout", TIMEOUT, *LIST),
        9,
        ("timed out", "--timeout"),
        ("GET", TASKS, 1),
    ),
    Case(
        "trickled-write-answer",
        lambda _p: Behaviour("trickle_body", method="POST", path=TASKS),
        ("--timeout", TIMEOUT, *CREATE),
        9,
        ("timed out", "--timeout"),
        ("POST", TASKS, 1),
    ),
    Case(
        "retry-after-an-hour",
        _answer(b'{"err": "busy"}', 503, **{"Retry-After": "30"}),
        ("--timeout", TIMEOUT, *LIST),
        9,
        ("timed out", "--timeout"),
        ("GET", TASKS, 1),
    ),
    # -- connections that break halfway through the answer ---------------------
    Case(
        "reset-mid-body",
        lambda _p: Behaviour("reset_mid_body", method="GET", path=TASKS),
        LIST,
        10,
        ("127.0.0.1",),
        ("GET", TASKS, 1 + READ_RETRIES),
    ),
    Case(
        "short-body",
        lambda _p: Behaviour("short_body", method="GET", path=TASKS),
        LIST,
        10,
        ("broke while the answer was read",),
        ("GET", TASKS, 1 + READ_RETRIES),
    ),
    Case(
        "short-body-of-a-write",
        lambda _p: Behaviour("short_body", method="POST", path=TASKS),
        CREATE,
        10,
        ("broke while the answer was read",),
        ("POST", TASKS, 1),
    ),
    # -- redirects to another origin -------------------------------------------
    Case(
        "redirect-read-elsewhere",
        _elsewhere("GET", 302),
        LIST,
        10,
        ("another origin", "https://localhost"),
        ("GET", TASKS, 1),
    ),
    Case(
        "redirect-write-elsewhere",
        _elsewhere("POST", 302),
        CREATE,
        10,
        ("another origin",),
        ("POST", TASKS, 1),
    ),
    Case(
        "redirect-write-elsewhere-307",
        _elsewhere("POST", 307),
        CREATE,
        10,
        ("another origin",),
        ("POST", TASKS, 1),
    ),
    Case(
        "redirect-to-plain-http",
        lambda port: Behaviour(
            "redirect",
            method="GET",
            path=TASKS,
            status=301,
            location=f"http://127.0.0.1:{port}/api/v4/tasks",
        ),
        LIST,
        10,
        ("another origin", "http://127.0.0.1"),
        ("GET", TASKS, 1),
    ),
    # -- malformed answers -------------------------------------------------------
    Case("non-object-in-list", _answer(b'[1, "x"]'), LIST, 1, ("not valid", "not an object")),
    Case(
        "string-key",
        _answer(b'[{"$key": "abc", "name": "x"}]'),
        LIST,
        1,
        ("not valid", "$key"),
    ),
    Case("missing-key", _answer(b'[{"name": "x"}]'), LIST, 1, ("not valid", "no $key")),
    Case("nested-100000-deep", _answer(DEEP), LIST, 1, ("not valid", "nested too deeply")),
    Case(
        "field-of-the-wrong-type",
        _answer(b'[{"$key": 1, "name": "x"}, {"$key": 2, "name": "y", "triggers_count": "abc"}]'),
        LIST,
        1,
        ("not valid",),
    ),
    Case(
        "nested-error-answer",
        _answer(DEEP, 404),
        ("task", "get", "x"),
        6,
        ("not valid",),
    ),
]


def _one_error_line(out: Outcome) -> str:
    """The one ``Error:`` line (a usage error, exit 2, also shows click's usage)."""
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.splitlines()
    if out.exit_code != 2:
        assert len(lines) == 1, out.stderr
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, out.stderr
    return errors[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_answer(hostile: HostileServer, case: Case) -> None:
    hostile.add(case.behaviour(hostile.port))
    before = hostile.emulator.digest()
    out = run_cli(*case.argv)
    line = _one_error_line(out)
    assert out.exit_code == case.exit_code, line
    for needle in case.needles:
        assert needle in line, line
    assert out.stdout == ""
    assert "sandbox" not in line  # the password never shows
    if case.attempts is not None:
        method, path, count = case.attempts
        assert len(hostile.requests(method, path)) == count, hostile.seen
    # Nothing ever went to the other origin.
    assert all(seen.host.startswith("127.0.0.1") for seen in hostile.seen), hostile.seen
    if case.argv[-1] == "poweron" and case.id.startswith("redirect"):
        assert hostile.emulator.digest() == before  # a refused redirect creates nothing


def test_a_reset_mid_body_is_retried_and_then_succeeds(hostile: HostileServer) -> None:
    hostile.add(Behaviour("reset_mid_body", method="GET", path=TASKS, times=1))
    out = run_cli("task", "list", "-q")
    assert (out.exit_code, out.stderr) == (0, "")
    assert len(out.stdout.split()) == 6 + 5000  # the seed and the bulk tasks
    assert len(hostile.requests("GET", TASKS)) == 2


def test_a_null_flag_shows_as_empty_not_as_no(hostile: HostileServer) -> None:
    hostile.add(_answer(b'[{"$key": 1, "name": "x", "enabled": null, "status": "idle"}]')(0))
    table = run_cli("task", "get", "x")
    assert table.exit_code == 0, table.stderr
    enabled = next(line for line in table.stdout.splitlines() if line.startswith("Enabled"))
    assert enabled.split() == ["Enabled"]
    as_json = run_cli("-o", "json", "task", "get", "x")
    assert json.loads(as_json.stdout)["enabled"] is None


def test_verbose_traceback_is_escaped(hostile: HostileServer) -> None:
    hostile.add(_answer(b'{"err": "\\u001b]52;c;SGVsbG8=\\u0007 evil \\u202e"}', 404)(0))
    out = run_cli("-v", "task", "list")
    assert out.exit_code == 6
    assert "Traceback" in out.stderr  # -v shows it ...
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in out.stderr  # ... escaped like every other output
    assert "\\x1b]52;c;SGVsbG8=\\x07 evil \\u202e" in out.stderr.splitlines()[-1]


def test_unencodable_names_are_escaped(hostile: HostileServer) -> None:
    hostile.add(_answer(b'[{"$key": 1, "name": "lone \\ud800 surrogate", "status": "idle"}]')(0))
    out = run_cli("task", "list")
    assert out.exit_code == 0, out.stderr
    assert "lone \\ud800 surrogate" in out.stdout


# -- the reader of stdout goes away, stdout is closed, a narrow encoding -------

PIPED = [("table", []), ("json", ["-o", "json"]), ("csv", ["-o", "csv"]),
         ("quiet", ["-q"]), ("query", ["--query", "name"])]  # fmt: skip


@pytest.mark.parametrize("argv", [p[1] for p in PIPED], ids=[p[0] for p in PIPED])
def test_reader_that_goes_away_is_not_an_error(hostile: HostileServer, argv: list[str]) -> None:
    """``vrgtask task list | head -1`` with 5,005 tasks: exit 0, nothing on stderr."""
    with spawn(
        [sys.executable, "-m", "vrgtask", *argv, "task", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        _, err = proc.communicate(timeout=120)
    assert first.strip()
    assert err == ""
    assert proc.returncode == 0


@pytest.mark.skipif(os.name != "posix", reason="closing a descriptor is POSIX shell syntax")
@pytest.mark.parametrize("closing", [">&-", "<&-", "<&- >&-"], ids=["stdout", "stdin", "both"])
def test_closed_standard_streams_are_not_a_crash(hostile: HostileServer, closing: str) -> None:
    with spawn(
        ["sh", "-c", f'exec "$@" {closing}', "sh", sys.executable, "-m", "vrgtask", "task", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as proc:
        out, err = proc.communicate(timeout=120)
    assert err == ""
    assert proc.returncode == 0
    if ">&-" not in closing:
        assert "nightly-snapshot" in out


ENCODED = [("table", []), ("json", ["-o", "json"]), ("csv", ["-o", "csv"])]


@pytest.mark.parametrize("argv", [e[1] for e in ENCODED], ids=[e[0] for e in ENCODED])
def test_narrow_output_encoding_escapes(hostile: HostileServer, argv: list[str]) -> None:
    made = run_cli("task", "create", "--name", "名前-😀", "--owner", "vms/1", "--action", "poweron")
    assert made.exit_code == 0, made.stderr
    with spawn(
        [sys.executable, "-m", "vrgtask", *argv, "task", "get", "名前-😀"],
        env={"PYTHONIOENCODING": "latin-1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as proc:
        out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, "")
    if argv:
        if argv[1] == "json":
            assert json.loads(out)["name"] == "名前-😀"  # still valid, exact JSON
        else:
            assert "\\u540d\\u524d-\\ud83d\\ude00" in out
    else:
        assert "\\u540d\\u524d-" in out


# -- -o csv: cells a spreadsheet would run -------------------------------------

FORMULAS = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", '=HYPERLINK("x")']


def test_csv_neutralises_formula_cells(hostile: HostileServer) -> None:
    for name in FORMULAS:
        made = run_cli(
            "task", "create", "--name", name, "--owner", "vms/1", "--action", "poweron",
            "--description", name,
        )  # fmt: skip
        assert made.exit_code == 0, made.stderr
    out = run_cli("-o", "csv", "task", "list")
    assert out.exit_code == 0, out.stderr
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    names = {row["name"] for row in rows}
    for name in FORMULAS:
        assert f"'{name}" in names
        assert name not in names
    assert all(row["$key"].isdigit() for row in rows)  # numbers are left alone
    as_json = run_cli("-o", "json", "task", "list")
    assert set(FORMULAS) <= {row["name"] for row in json.loads(as_json.stdout)}


def test_year_9999_runs_are_read_as_seconds(hostile: HostileServer) -> None:
    """``--start-date 9999-12-31``: the upcoming runs lie in year 9999, not 1978."""
    hostile.add(
        Behaviour(
            "answer",
            method="POST",
            path=r"^/api/v4/task_schedule_actions$",
            body=b'{"times": [253402214400]}',
        )
    )
    out = run_cli("-o", "json", "schedule", "show", "1")
    assert out.exit_code == 0, out.stderr
    (run,) = json.loads(out.stdout)
    assert run["epoch"] == 253402214400
    assert run["execution_time"].startswith("9999-12-3")


# -- hostile files and settings: a clear error naming them, never a hang ----------

SETTINGS: list[tuple[str, dict[str, str], int, str]] = [
    ("env-timeout-nan", {"VERGE_TIMEOUT": "nan"}, 2, "VERGE_TIMEOUT"),
    ("env-timeout-inf", {"VERGE_TIMEOUT": "inf"}, 2, "VERGE_TIMEOUT"),
    ("env-timeout-1e400", {"VERGE_TIMEOUT": "1e400"}, 2, "VERGE_TIMEOUT"),
    ("retry-backoff-nan", {"VERGE_RETRY_BACKOFF": "nan"}, 3, "VERGE_RETRY_BACKOFF"),
    ("retry-backoff-inf", {"VERGE_RETRY_BACKOFF": "inf"}, 3, "VERGE_RETRY_BACKOFF"),
    ("retry-backoff-1e400", {"VERGE_RETRY_BACKOFF": "1e400"}, 3, "VERGE_RETRY_BACKOFF"),
    ("retry-backoff-120", {"VERGE_RETRY_BACKOFF": "120"}, 3, "VERGE_RETRY_BACKOFF"),
    ("retry-total-million", {"VERGE_RETRY_TOTAL": "1000000"}, 3, "VERGE_RETRY_TOTAL"),
    ("retry-total-negative", {"VERGE_RETRY_TOTAL": "-1"}, 3, "VERGE_RETRY_TOTAL"),
    ("config-dev-zero", {"VRGTASK_CONFIG": "/dev/zero"}, 3, "not a regular file"),
    ("config-dev-urandom", {"VRGTASK_CONFIG": "/dev/urandom"}, 3, "not a regular file"),
    ("config-directory", {"VRGTASK_CONFIG": "/"}, 3, "not a regular file"),
]
CONFIGS: list[tuple[str, str, str]] = [
    ("config-timeout-nan", "[default]\ntimeout = nan\n", "finite"),
    ("config-timeout-inf", "[default]\ntimeout = inf\n", "finite"),
    ("config-timeout-1e400", "[default]\ntimeout = 1e400\n", "finite"),
    ("config-timeout-huge", "[default]\ntimeout = 1e9\n", "at most"),
    ("config-host-with-password", '[default]\nhost = "https://admin:secretPW@h/"\n', "credentials"),
    ("config-too-large", "# " + "x" * (1024 * 1024 + 10) + "\n", "larger than"),
    ("config-nested-deep", "x = " + "[" * 5000 + "]" * 5000 + "\n", "not valid TOML"),
]


@pytest.mark.parametrize(
    ("env", "code", "needle"), [s[1:] for s in SETTINGS], ids=[s[0] for s in SETTINGS]
)
def test_hostile_setting_is_refused_by_name(
    hostile: HostileServer, env: dict[str, str], code: int, needle: str
) -> None:
    out = run_process("task", "list", env=env, timeout=60)
    line = _one_error_line(out)
    assert out.exit_code == code, line
    assert needle in line
    assert hostile.seen == []  # refused before any request


@pytest.mark.parametrize(("text", "needle"), [c[1:] for c in CONFIGS], ids=[c[0] for c in CONFIGS])
def test_hostile_config_file_is_refused_by_name(
    hostile: HostileServer, tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    out = run_cli("task", "list", env={"VRGTASK_CONFIG": str(path), "VERGE_HOST": ""})
    line = _one_error_line(out)
    assert out.exit_code == 3, line
    assert needle in line, line
    assert "secretPW" not in out.stderr
    assert hostile.seen == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("where", ["config", "code-file"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(
    hostile: HostileServer, tmp_path: Path, where: str
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    if where == "config":
        out = run_process("task", "list", env={"VRGTASK_CONFIG": str(fifo)}, timeout=60)
        code = 3
    else:
        out = run_process("script", "create", "--name", "s", "--code-file", str(fifo), timeout=60)
        code = 2
    line = _one_error_line(out)
    assert out.exit_code == code, line
    assert "not a regular file" in line
    assert hostile.seen == []


def test_an_oversized_code_file_is_refused(hostile: HostileServer, tmp_path: Path) -> None:
    big = tmp_path / "big.gcs"
    with big.open("wb") as handle:  # sparse: no 5 MiB written to disk
        handle.truncate(5 * 1024 * 1024)
    out = run_cli("script", "create", "--name", "s", "--code-file", str(big))
    line = _one_error_line(out)
    assert out.exit_code == 2, line
    assert "--code-file" in line
    assert "larger than" in line
    assert hostile.seen == []
