#!/usr/bin/env python
"""Side-by-side benchmark: vrgtask (this venv) against vrg 1.1.3 (its own venv).

Not part of the pytest run. Usage::

    python tests/bench/bench_vs_vrg.py [--runs 7] [--sizes 100,1000,10000]
                                       [--json OUT.json] [--vrg-venv DIR] [--quick]

What it does, for each N in ``--sizes``:

* starts ``vrgtask sandbox serve --port 0 --tasks N`` (HTTPS on 127.0.0.1; the
  seed's 5 tasks plus N bulk tasks) and reads the host and the CA file from
  its first lines of output;
* points both CLIs at it through the same environment (VERGE_HOST,
  VERGE_USERNAME/VERGE_PASSWORD, VERGE_VERIFY_SSL=true, REQUESTS_CA_BUNDLE
  and CURL_CA_BUNDLE = the sandbox CA, an empty HOME so no user config is
  read, NO_COLOR=1, fixed COLUMNS);
* for each command runs the two CLIs interleaved (vrgtask, vrg, vrgtask, ...)
  ``--runs`` times each after ``--warmup`` discarded runs each, every run a
  fresh process: wall time (``time.perf_counter`` around spawn + reap), peak
  RSS of that process (``os.wait4`` -> ``ru_maxrss``), and, from the
  sandbox's request log (cleared before and read after every run), the API
  requests made and the response body bytes;
* checks ``task run --wait`` of vrgtask alone (see :func:`measure_run_wait`).

Then it prints one table per N plus the target checks, and writes the same
as JSON (default ``tests/bench/results/bench-<date>.json``, git-ignored).

The vrgtask measured is the console script in this interpreter's venv
(``<venv>/bin/vrgtask``, what users run), not ``python -m vrgtask``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import math
import os
import platform
import re
import select
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: support.py

from support import stop_server

VRG_VERSION = "1.1.3"
TASK_NAME = "nightly-snapshot"  # seeded task, key 1: the same row at every N
TASK_KEY = 1
WAIT_DURATION = 3.0  # sandbox_duration of the task run --wait check (seconds)
WAIT_INTERVAL = 1.0  # vrgtask's --interval default, when its help does not say
CLI_TIMEOUT = 180.0  # per CLI run
SERVER_START_TIMEOUT = 120.0
PIP_TIMEOUT = 900.0
MIB = 1024 * 1024

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_RESULTS = BENCH_DIR / "results"

# Budget of API requests per command for vrgtask: connection check (GET
# /system) + name resolution + the operation itself + the SDK's read-back.
BUDGET = {
    "help": 0,
    "list": 2,  # connection + list
    "get": 3,  # connection + resolution + read
    "enable": 4,  # connection + resolution + PUT + SDK read-back
}


class BenchError(RuntimeError):
    """A run failed: wrong exit code, wrong output, no server..."""


# ----------------------------------------------------------------------------
# Child processes


@dataclass
class RunResult:
    wall_s: float
    rss_kib: int
    cpu_s: float  # user + system CPU time of the process
    returncode: int
    stdout: bytes
    stderr: bytes
    spawned_at: float  # time.time() just before the spawn
    reaped_at: float  # time.time() just after the reap


# Peak RSS needs care. ``ru_maxrss`` of a process also counts the memory
# it had before its exec(); ``subprocess.Popen`` starts children with vfork,
# whose pre-exec memory IS the parent's, so every child would report at
# least the bench's own peak RSS (tens of MiB once a 10,000-task JSON has
# been parsed). So each measured command is started by this small launcher
# (``python -I -S``, a few MiB, nothing imported but builtins): it
# posix_spawn()s the command, reaps it with os.wait4() and reports the exit
# code, ``ru_maxrss`` and the wall time from just before the spawn to just
# after the reap (time.perf_counter). The launcher runs in its own process
# group so that a timeout or Ctrl-C kills the launcher and the command at once.
LAUNCHER = r"""
import os, select, sys, time
timeout, out, err = float(sys.argv[1]), sys.argv[2], sys.argv[3]
argv = sys.argv[4:]
w = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
actions = [
    (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
    (os.POSIX_SPAWN_OPEN, 1, out, w, 0o600),
    (os.POSIX_SPAWN_OPEN, 2, err, w, 0o600),
]
e0, t0 = time.time(), time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
fd = os.pidfd_open(pid)
poller = select.poll()
poller.register(fd, select.POLLIN)
late = not poller.poll(int(timeout * 1000))
if late:
    os.kill(pid, 9)
_, status, usage = os.wait4(pid, 0)
t1, e1 = time.perf_counter(), time.time()
code = os.waitstatus_to_exitcode(status)
cpu = usage.ru_utime + usage.ru_stime
print(code, usage.ru_maxrss, repr(t1 - t0), int(late), repr(e0), repr(e1), repr(cpu))
"""


def run_measured(
    argv: Sequence[str], env: dict[str, str], workdir: Path, timeout: float = CLI_TIMEOUT
) -> RunResult:
    """Run ``argv`` once (through LAUNCHER); wall time, peak RSS, its output.

    stdout and stderr go to files (no pipe to drain; the same for both CLIs).
    """
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    launcher = [
        sys.executable,
        "-I",
        "-S",
        "-c",
        LAUNCHER,
        str(timeout),
        str(out_path),
        str(err_path),
        *argv,
    ]
    proc = subprocess.Popen(
        launcher,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=workdir,
        start_new_session=True,
    )
    try:
        report, problems = proc.communicate(timeout=timeout + 30)
    except BaseException:  # a hung launcher, or Ctrl-C: kill it and the command
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            proc.communicate(timeout=10)
        raise
    fields = report.decode().split()
    if proc.returncode != 0 or len(fields) != 7:
        raise BenchError(
            f"the launcher failed ({proc.returncode}): {problems.decode(errors='replace')[-2000:]}"
        )
    code, rss_kib, wall, late = int(fields[0]), int(fields[1]), float(fields[2]), fields[3] == "1"
    spawned_at, reaped_at, cpu_s = float(fields[4]), float(fields[5]), float(fields[6])
    if late:
        raise BenchError(f"timed out after {timeout:g}s: {' '.join(argv)}")
    return RunResult(
        wall_s=wall,
        rss_kib=rss_kib,  # KiB on Linux
        cpu_s=cpu_s,
        returncode=code,
        stdout=out_path.read_bytes(),
        stderr=err_path.read_bytes(),
        spawned_at=spawned_at,
        reaped_at=reaped_at,
    )


# The floor of a job: the least any click + pyvergeos CLI can do for it. A
# Python process (same interpreter, same environment, same launcher) that
# imports click, connects with pyvergeos (VergeClient checks the connection
# itself), sends the same queries vrgtask sent after its connection check (read
# from the sandbox's log of a vrgtask run: for ``task get NAME`` that is the
# name lookup and the read) and prints the last answer as JSON. For ``--help``
# the floor is ``python -c "import click"``.
FLOOR_CODE = r"""
import json, os, sys
from urllib.parse import parse_qsl

import click  # every click CLI pays for it
from pyvergeos import VergeClient

client = VergeClient(
    host=os.environ["VERGE_HOST"],
    username=os.environ["VERGE_USERNAME"],
    password=os.environ["VERGE_PASSWORD"],
)
one = sys.argv[1] == "--one"  # print the one object found (task get NAME), not a list
data = None
for url in sys.argv[2:]:
    path, _, query = url.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    data = client._request("GET", path.removeprefix("/api/v4/"), params=params)
if one and isinstance(data, list):
    (data,) = data
sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
"""
FLOOR_JOBS = ("help", "list", "get")


def floor_argv(command: Command, vrgtask_log: list[dict[str, Any]]) -> list[str]:
    """The floor's command line for ``command``, given the log of a vrgtask run."""
    if command.name == "help":
        return [sys.executable, "-c", "import click"]
    queries = vrgtask_log[1:]  # [0] is the SDK's connection check, made by VergeClient
    if not queries or any(e["method"] != "GET" for e in queries):
        raise BenchError(f"no floor for {command.label}: {[describe(e) for e in vrgtask_log]}")
    urls = [str(e["path"]) + ("?" + str(e["query"]) if e.get("query") else "") for e in queries]
    return [sys.executable, "-c", FLOOR_CODE, "--one" if command.name == "get" else "--all", *urls]


def _floor_label(command: Command) -> str:
    if command.name == "help":
        return "python -c 'import click'"
    return "python -c FLOOR_CODE <the GET queries vrgtask sent after connecting>"


def _check_nothing(_result: RunResult, _n: int) -> None:
    pass


def launcher_floor_mib(workdir: Path) -> float:
    """Peak RSS reported for /bin/true: the launcher's share (any less is unmeasurable)."""
    true = shutil.which("true") or "/bin/true"
    return run_measured([true], {"PATH": os.environ.get("PATH", "")}, workdir).rss_kib / 1024


def run_text(argv: Sequence[str], timeout: float = 120.0, env: dict[str, str] | None = None) -> str:
    """Run a helper command; its stdout (fail loudly otherwise)."""
    done = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(
            f"{' '.join(argv)} exited {done.returncode}: "
            f"{done.stderr.decode(errors='replace').strip()[-2000:]}"
        )
    return done.stdout.decode(errors="replace").strip()


# ----------------------------------------------------------------------------
# The two CLIs


def vrgtask_executable() -> Path:
    """The console script next to this interpreter (what users run)."""
    candidate = Path(sys.executable).parent / "vrgtask"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("vrgtask")
    if found is None:
        raise BenchError("no vrgtask console script next to sys.executable nor on PATH")
    return Path(found)


def default_vrg_venv() -> Path:
    return Path(tempfile.gettempdir()) / f"vrgtask-bench-vrg-{VRG_VERSION}"


def ensure_vrg(venv: Path) -> Path:
    """vrg 1.1.3 in its own throwaway venv (reused when already correct)."""
    exe = venv / "bin" / "vrg"
    expected = f"vrg version {VRG_VERSION}"
    if exe.is_file():
        try:
            if run_text([str(exe), "--version"], timeout=120) == expected:
                print(f"reusing {venv} ({expected})", file=sys.stderr)
                return exe
        except (BenchError, subprocess.TimeoutExpired):
            pass
        print(f"{venv} is not a working vrg {VRG_VERSION} venv: recreating it", file=sys.stderr)
        shutil.rmtree(venv)
    print(f"creating {venv} and installing vrg=={VRG_VERSION} ...", file=sys.stderr)
    run_text([sys.executable, "-m", "venv", str(venv)], timeout=300)
    run_text(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"vrg=={VRG_VERSION}",
        ],
        timeout=PIP_TIMEOUT,
    )
    version = run_text([str(exe), "--version"], timeout=120)
    if version != expected:
        raise BenchError(f"{exe} --version printed {version!r}, expected {expected!r}")
    return exe


@dataclass
class Command:
    """One job, as each CLI spells it."""

    name: str  # key in the results: help, list, get, enable
    label: str  # as printed in the tables
    vrgtask: list[str]
    vrg: list[str]
    check: Callable[[RunResult, int], None]  # (result, n_tasks) -> raises BenchError


def _json_output(result: RunResult) -> Any:
    try:
        return json.loads(result.stdout)
    except ValueError as exc:
        raise BenchError(f"output is not JSON: {result.stdout[:300]!r}") from exc


def _check_help(result: RunResult, _n: int) -> None:
    if b"Usage" not in result.stdout:
        raise BenchError(f"no usage text in --help output: {result.stdout[:300]!r}")


def seed_tasks() -> int:
    """Tasks in the sandbox's seed before the N bulk ones (vrgtask/sandbox/seed.py)."""
    from vrgtask.sandbox.seed import seed_state

    return len(seed_state(0)["tables"]["tasks"])


def _check_list(result: RunResult, n: int) -> None:
    rows = _json_output(result)
    expected = n + seed_tasks()
    if not isinstance(rows, list) or len(rows) != expected:
        got = len(rows) if isinstance(rows, list) else type(rows).__name__
        raise BenchError(f"task list -o json: expected {expected} rows, got {got}")
    if not any(isinstance(r, dict) and r.get("name") == TASK_NAME for r in rows):
        raise BenchError(f"task list -o json: {TASK_NAME} missing")


def _check_get(result: RunResult, _n: int) -> None:
    row = _json_output(result)
    if not isinstance(row, dict) or row.get("name") != TASK_NAME or row.get("$key") != TASK_KEY:
        raise BenchError(f"task get -o json: unexpected output {result.stdout[:300]!r}")


def _check_enable(result: RunResult, _n: int) -> None:
    if TASK_NAME.encode() not in result.stdout:
        raise BenchError(f"task enable: the task is not named in {result.stdout[:300]!r}")


def commands(vrgtask: Path, vrg: Path) -> list[Command]:
    # vrg's -o is a global option only (vrg -o json task ...); vrgtask takes it
    # after the command as well, which is how the issue spells it.
    t, v = str(vrgtask), str(vrg)
    return [
        Command("help", "--help", [t, "--help"], [v, "--help"], _check_help),
        Command(
            "list",
            "task list -o json",
            [t, "task", "list", "-o", "json"],
            [v, "-o", "json", "task", "list"],
            _check_list,
        ),
        Command(
            "get",
            f"task get {TASK_NAME} -o json",
            [t, "task", "get", TASK_NAME, "-o", "json"],
            [v, "-o", "json", "task", "get", TASK_NAME],
            _check_get,
        ),
        Command(
            "enable",
            f"task enable {TASK_NAME}",
            [t, "task", "enable", TASK_NAME],
            [v, "task", "enable", TASK_NAME],
            _check_enable,
        ),
    ]


# ----------------------------------------------------------------------------
# The sandbox server and its control endpoints


class Control:
    """The sandbox's /_sandbox endpoints over one kept-alive HTTPS connection."""

    def __init__(self, host: str, port: int, ca_file: Path) -> None:
        self.host, self.port = host, port
        self.context = ssl.create_default_context(cafile=str(ca_file))
        self._conn: http.client.HTTPSConnection | None = None

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPSConnection(
                    self.host, self.port, context=self.context, timeout=60
                )
            try:
                self._conn.request(method, "/_sandbox/" + path, body=data, headers=headers)
                response = self._conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.status != 200:
                raise BenchError(f"{method} /_sandbox/{path}: {response.status} {payload[:200]!r}")
            return json.loads(payload) if payload else None
        raise AssertionError("unreachable")

    def log(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._request("GET", "log")
        return entries

    def clear_log(self) -> None:
        self._request("DELETE", "log")

    def objects(self) -> str:
        """The state without the sandbox's own log (a write adds an audit entry)."""
        tables = dict(self.state()["tables"])
        tables.pop("logs", None)
        return json.dumps(tables, sort_keys=True)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self._request("GET", "state")
        return state

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None


_LISTENING = re.compile(r"listening on https://(?P<host>127\.0\.0\.1):(?P<port>\d+)/")
_TRUST = re.compile(r"REQUESTS_CA_BUNDLE=(?P<ca>\S+)")


class SandboxProcess:
    """``vrgtask sandbox serve --port 0 --tasks N`` as a child process."""

    def __init__(self, vrgtask: Path, n_tasks: int, workdir: Path) -> None:
        self.n_tasks = n_tasks
        self.ca_dir = workdir / f"ca-{n_tasks}"
        self.argv = [
            str(vrgtask),
            "sandbox",
            "serve",
            "--port",
            "0",
            "--tasks",
            str(n_tasks),
            "--ca-dir",
            str(self.ca_dir),
        ]
        self.stderr_path = workdir / f"server-{n_tasks}.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        self.host = ""
        self.port = 0
        self.ca_file = Path()
        self.banner: list[str] = []

    def start(self, env: dict[str, str]) -> SandboxProcess:
        with self.stderr_path.open("wb") as err:
            # Its own session: a Ctrl-C meant for the bench does not reach it
            # before the bench's finally has stopped the CLI run in progress.
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                start_new_session=True,
            )
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        buffer = b""
        while not (_LISTENING.search(buffer.decode()) and _TRUST.search(buffer.decode())):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(f"the sandbox did not start in {SERVER_START_TIMEOUT:g}s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise BenchError(
                    "the sandbox exited before listening: "
                    + self.stderr_path.read_text(errors="replace")[-2000:]
                )
            buffer += chunk
        text = buffer.decode()
        self.banner = text.splitlines()
        listening, trust = _LISTENING.search(text), _TRUST.search(text)
        assert listening is not None
        assert trust is not None
        self.host, self.port = listening["host"], int(listening["port"])
        self.ca_file = Path(trust["ca"])
        if not self.ca_file.is_file():
            raise BenchError(f"the sandbox CA {self.ca_file} does not exist")
        return self

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_server(proc)


@contextlib.contextmanager
def sandbox(
    vrgtask: Path, n_tasks: int, workdir: Path, env: dict[str, str]
) -> Iterator[SandboxProcess]:
    server = SandboxProcess(vrgtask, n_tasks, workdir)
    try:
        yield server.start(env)
    finally:
        server.stop()


def cli_env(base_home: Path, server: SandboxProcess, passed: Sequence[str] = ()) -> dict[str, str]:
    """The same environment for both CLIs: nothing inherited but PATH (and
    the variables named by --pass-env)."""
    inherited = {name: os.environ[name] for name in passed if name in os.environ}
    return inherited | {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(base_home),
        "XDG_CONFIG_HOME": str(base_home / ".config"),
        "XDG_DATA_HOME": str(base_home / ".local" / "share"),
        "XDG_CACHE_HOME": str(base_home / ".cache"),
        "TMPDIR": tempfile.gettempdir(),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "COLUMNS": "100",
        "LINES": "40",
        "NO_COLOR": "1",
        "VERGE_HOST": server.address,
        "VERGE_USERNAME": "admin",
        "VERGE_PASSWORD": "sandbox",
        "VERGE_VERIFY_SSL": "true",
        "REQUESTS_CA_BUNDLE": str(server.ca_file),
        "CURL_CA_BUNDLE": str(server.ca_file),
    }


# ----------------------------------------------------------------------------
# Measurements


@dataclass
class Sample:
    wall_s: float
    rss_mib: float
    requests: int
    bytes: int
    cpu_s: float  # the CLI process's user + system CPU time
    server_s: float  # the sandbox's own time answering (sum of the log's ms)


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)
    request_lines: list[str] = field(default_factory=list)  # of the first measured run

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(s, attr) for s in self.samples))

    def summary(self) -> dict[str, Any]:
        walls = [s.wall_s for s in self.samples]
        return {
            "runs": len(self.samples),
            "median_s": self.median("wall_s"),
            "min_s": min(walls),
            "max_s": max(walls),
            "stdev_s": statistics.stdev(walls) if len(walls) > 1 else 0.0,
            "median_rss_mib": self.median("rss_mib"),
            "median_cpu_s": self.median("cpu_s"),
            "median_server_s": self.median("server_s"),
            "max_rss_mib": max(s.rss_mib for s in self.samples),
            "requests": int(self.median("requests")),
            "requests_all": sorted({s.requests for s in self.samples}),
            "bytes": int(self.median("bytes")),
            "bytes_all": sorted({s.bytes for s in self.samples}),
            "request_lines": self.request_lines,
            "samples": [asdict(s) for s in self.samples],
        }


def describe(entry: dict[str, Any]) -> str:
    """``GET /api/v4/tasks?filter=... -> 200, 467 B`` (query shortened)."""
    query = str(entry.get("query") or "")
    if len(query) > 70:
        query = query[:67] + "..."
    path = str(entry["path"])
    return (
        f"{entry['method']} {path}{'?' + query if query else ''} "
        f"-> {entry['status']}, {entry['bytes']} B"
    )


def one_run(
    cli: str,
    argv: list[str],
    command: Command,
    n_tasks: int,
    env: dict[str, str],
    control: Control,
    workdir: Path,
    check: Callable[[RunResult, int], None] | None = None,
) -> tuple[Sample, list[dict[str, Any]]]:
    control.clear_log()
    result = run_measured(argv, env, workdir)
    log = control.log()
    if result.returncode != 0:
        raise BenchError(
            f"{cli} {command.label} (N={n_tasks}) exited {result.returncode}: "
            f"{result.stderr.decode(errors='replace').strip()[-2000:]}"
        )
    try:
        (check or command.check)(result, n_tasks)
    except BenchError as exc:
        raise BenchError(f"{cli} {command.label} (N={n_tasks}): {exc}") from None
    bad = [e for e in log if not 200 <= int(e["status"]) < 300]
    if bad:
        raise BenchError(f"{cli} {command.label}: failed requests {[describe(e) for e in bad]}")
    sample = Sample(
        wall_s=result.wall_s,
        rss_mib=result.rss_kib / 1024,
        requests=len(log),
        bytes=sum(int(e["bytes"]) for e in log),
        cpu_s=result.cpu_s,
        server_s=sum(float(e["ms"]) for e in log) / 1000,
    )
    return sample, log


def measure_command(
    command: Command,
    n_tasks: int,
    runs: int,
    warmup: int,
    env: dict[str, str],
    control: Control,
    workdir: Path,
) -> dict[str, Series]:
    clis = ["vrgtask", "vrg"] + (["floor"] if command.name in FLOOR_JOBS else [])
    series = {cli: Series() for cli in clis}
    argvs = {"vrgtask": command.vrgtask, "vrg": command.vrg}
    for i in range(warmup + runs):
        for cli in clis:  # interleaved: A B C A B C ...
            check = _check_nothing if (cli, command.name) == ("floor", "help") else command.check
            sample, log = one_run(
                cli, argvs[cli], command, n_tasks, env, control, workdir, check=check
            )
            if cli == "vrgtask" and "floor" in clis and "floor" not in argvs:
                argvs["floor"] = floor_argv(command, log)
            if i < warmup:
                continue
            if not series[cli].samples:
                series[cli].request_lines = [describe(e) for e in log]
            series[cli].samples.append(sample)
        if i < warmup:
            note = "warm-up"
        else:
            note = " ".join(f"{c} {series[c].samples[-1].wall_s:.3f}s" for c in series)
        print(
            f"  N={n_tasks:<6} {command.label:<30} {i + 1:>2}/{warmup + runs}  {note}",
            file=sys.stderr,
        )
    return series


class LogWatcher(threading.Thread):
    """Polls the request log every ``period`` s and stamps each new entry with
    the wall-clock time it was first seen (the log itself has no timestamps).
    When the ``execute`` request shows up it reads the task's hidden run record
    (``_run.started``, ``_run.duration``) from ``/_sandbox/state``."""

    def __init__(self, control: Control, task_key: int, period: float = 0.02) -> None:
        super().__init__(name="bench-log-watcher", daemon=True)
        self.control = control
        self.task_key = task_key
        self.period = period
        self.entries: list[tuple[float, dict[str, Any]]] = []
        self.run_record: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while True:
                stopping = self._halt.is_set()
                log = self.control.log()
                now = time.time()
                for entry in log[len(self.entries) :]:
                    self.entries.append((now, entry))
                    if self.run_record is None and _is_execute(entry, self.task_key):
                        state = self.control.state()
                        row = state["tables"]["tasks"][str(self.task_key)]
                        self.run_record = dict(row.get("_run") or {})
                if stopping:
                    return
                self._halt.wait(self.period)
        except BaseException as exc:  # reported by the caller
            self.error = exc

    def finish(self) -> None:
        self._halt.set()
        self.join(timeout=30)


def _is_execute(entry: dict[str, Any], key: int) -> bool:
    """The request that starts the run: ``POST /task_actions`` (the log has no
    body; the bench runs one task) or the ``PUT ?action=execute`` form."""
    if entry["method"] == "POST":
        return bool(entry["path"] == "/api/v4/task_actions")
    return (
        entry["method"] == "PUT"
        and entry["path"] == f"/api/v4/tasks/{key}"
        and "action=execute" in str(entry["query"])
    )


def default_wait_interval(vrgtask: Path) -> float:
    """``task run``'s default --interval, from its help (users run the default)."""
    text = run_text([str(vrgtask), "task", "run", "--help"], env={**os.environ, "COLUMNS": "200"})
    found = re.search(r"--interval[^\[]*\[default:\s*([0-9.]+)\]", text)
    return float(found.group(1)) if found else WAIT_INTERVAL


def measure_run_wait(
    vrgtask: Path,
    n_tasks: int,
    runs: int,
    env: dict[str, str],
    server: SandboxProcess,
    workdir: Path,
) -> dict[str, Any]:
    """``vrgtask task run NAME --wait`` with a 3 s run (vrgtask alone).

    The end of the run is known from the sandbox's documented duration model
    (vrgtask/sandbox/emulator.py): a run started at ``_run.started`` (server
    clock = this machine's ``time.time()``) with ``sandbox_duration`` d is
    over at ``started + d``; the first request after that sees it finished.
    ``started`` is read from ``/_sandbox/state`` while the task runs. Request
    times are the moments a 20 ms poller of ``/_sandbox/log`` first saw them
    (so they are late by at most ~20 ms plus one log read).
    """
    interval = default_wait_interval(vrgtask)
    argv = [
        str(vrgtask),
        "task",
        "run",
        TASK_NAME,
        "--wait",
        "--params-json",
        json.dumps({"sandbox_duration": WAIT_DURATION}),
    ]
    results: list[dict[str, Any]] = []
    for i in range(runs):
        control = Control(server.host, server.port, server.ca_file)
        watch_control = Control(server.host, server.port, server.ca_file)
        try:
            control.clear_log()
            watcher = LogWatcher(watch_control, TASK_KEY)
            watcher.start()
            try:
                result = run_measured(argv, env, workdir)
            finally:
                watcher.finish()
            if watcher.error is not None:
                raise BenchError(f"log watcher failed: {watcher.error!r}")
            if result.returncode != 0:
                raise BenchError(
                    f"vrgtask task run --wait exited {result.returncode}: "
                    f"{result.stderr.decode(errors='replace')[-2000:]}"
                )
            entries = watcher.entries
            full_log = control.log()
        finally:
            control.close()
            watch_control.close()
        if len(full_log) != len(entries):
            raise BenchError("log watcher missed entries")
        execute = [j for j, (_, e) in enumerate(entries) if _is_execute(e, TASK_KEY)]
        if len(execute) != 1 or watcher.run_record is None:
            raise BenchError(f"expected one execute request, log: {[e for _, e in entries]}")
        # The run's start: ``start_at`` (a queued run; ``started`` is then a
        # flag), or ``started`` in sandboxes before the start delay.
        record = watcher.run_record
        started = float(record["start_at"] if "start_at" in record else record["started"])
        duration = float(watcher.run_record["duration"])
        end = started + duration
        status_gets = [
            (t, e)
            for t, e in entries[execute[0] + 1 :]
            if e["method"] == "GET" and e["path"] == f"/api/v4/tasks/{TASK_KEY}"
        ]
        # pyvergeos' tasks.execute() reads the task back right after the PUT:
        # that GET belongs to the operation; the rest are the wait's polls.
        readback, polls = status_gets[:1], status_gets[1:]
        # The sandbox stamps each request with its arrival time ("at"); the
        # watcher's "first seen" time is only a fallback (it lags by ~20 ms+).
        times = [float(e.get("at", t)) for t, e in status_gets]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        noticed_at = times[-1] if times else math.nan
        exited = result.reaped_at
        # Waiting starts with the request that starts the run (a queued run
        # starts a start delay later, and vrgtask polls from the request on).
        execute_seen, execute_entry = entries[execute[0]]
        waiting_s = exited - float(execute_entry.get("at", execute_seen))
        results.append(
            {
                "wall_s": result.wall_s,
                "rss_mib": result.rss_kib / 1024,
                "requests": len(entries),
                "bytes": sum(int(e["bytes"]) for _, e in entries),
                "request_lines": [
                    f"+{t - result.spawned_at:6.3f}s {describe(e)}" for t, e in entries
                ],
                "duration_s": duration,
                "started_epoch": started,
                "end_epoch": end,
                "status_gets": len(status_gets),
                "readback_gets": len(readback),
                "poll_gets": len(polls),
                "gaps_s": gaps,
                "min_gap_s": min(gaps) if gaps else math.inf,
                "noticed_lag_s": noticed_at - end,
                "exit_lag_s": exited - end,
                "waiting_s": waiting_s,
                # one status request per second of waiting (the target)
                "allowed_polls": max(1, math.floor(waiting_s)),
            }
        )
        print(
            f"  N={n_tasks:<6} task run --wait (vrgtask) run {i + 1}/{runs}: "
            f"{len(status_gets)} status GETs, completion noticed "
            f"{results[-1]['noticed_lag_s']:+.3f}s after the end, exit "
            f"{results[-1]['exit_lag_s']:+.3f}s",
            file=sys.stderr,
        )
    return {
        "command": " ".join(["vrgtask", *argv[1:]]),
        "interval_s": interval,
        "runs": results,
        "max_noticed_lag_s": max(r["noticed_lag_s"] for r in results),
        "max_exit_lag_s": max(r["exit_lag_s"] for r in results),
        "min_gap_s": min(r["min_gap_s"] for r in results),
        "max_status_gets": max(r["status_gets"] for r in results),
        "max_poll_gets": max(r["poll_gets"] for r in results),
        "max_requests": max(r["requests"] for r in results),
        "allowed_polls": min(r["allowed_polls"] for r in results),
    }


# ----------------------------------------------------------------------------
# Report


def machine_info(vrgtask: Path, vrg: Path) -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    vrg_python = vrg.parent / "python"
    sdk_of_vrg = run_text(
        [str(vrg_python), "-c", "import importlib.metadata as m; print(m.version('pyvergeos'))"]
    )
    from importlib import metadata

    commit = ""
    with contextlib.suppress(Exception):
        root = BENCH_DIR.parent.parent
        commit = run_text(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], timeout=30)
        dirty = run_text(["git", "-C", str(root), "status", "--porcelain"], timeout=30)
        commit += " (+ uncommitted changes)" if dirty else ""
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram": ram,
        "load_avg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_of_vrg": run_text(
            [str(vrg_python), "-c", "import platform; print(platform.python_version())"]
        ),
        "vrgtask_executable": str(vrgtask),
        "vrgtask_version": run_text([str(vrgtask), "--version"]),
        "vrgtask_commit": commit,
        "pyvergeos_of_vrgtask": metadata.version("pyvergeos"),
        "vrg_executable": str(vrg),
        "vrg_version": run_text([str(vrg), "--version"]),
        "pyvergeos_of_vrg": sdk_of_vrg,
    }


def bytecode_state() -> str:
    """Whether vrgtask's modules have up-to-date .pyc files (without them,
    and with PYTHONDONTWRITEBYTECODE set, every run compiles them: +~35 ms)."""
    code = (
        "import importlib.util as u, os, pathlib\n"
        "spec = u.find_spec('vrgtask')\n"
        "root = pathlib.Path(spec.origin).parent\n"
        "srcs = list(root.rglob('*.py'))\n"
        "ok = sum(1 for f in srcs if os.path.exists(u.cache_from_source(str(f))) and "
        "os.path.getmtime(u.cache_from_source(str(f))) >= os.path.getmtime(f))\n"
        "print(f'{ok}/{len(srcs)} modules compiled ({root})')\n"
    )
    try:
        return run_text([sys.executable, "-I", "-c", code], timeout=60)
    except (BenchError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.inf


def print_table(n_tasks: int, data: dict[str, Any], runs: int, warmup: int) -> None:
    print()
    print(
        f"N = {n_tasks:,} tasks (+{seed_tasks()} seeded) -- median of {runs} runs each, "
        f"interleaved vrgtask/vrg, {warmup} warm-up run(s) each discarded"
    )
    header = (
        f"{'command':<34} {'vrgtask s':>9} {'vrg s':>8} {'ratio':>6}  "
        f"{'requests':>9}  {'response bytes':>21}  {'peak RSS MiB':>13}"
    )
    print(header)
    print("-" * len(header))
    for entry in data["commands"].values():
        a, b = entry["vrgtask"], entry["vrg"]
        print(
            f"{entry['label']:<34} {a['median_s']:>9.3f} {b['median_s']:>8.3f} "
            f"{entry['ratio']:>6.2f}  {a['requests']:>4} / {b['requests']:<2}  "
            f"{a['bytes']:>10,} / {b['bytes']:<9,} {a['median_rss_mib']:>6.1f} / "
            f"{b['median_rss_mib']:<5.1f}"
        )
    floors = [e for e in data["commands"].values() if "floor" in e]
    if floors:
        print(
            "against the floor (same run, interleaved; medians; the floor of --help is "
            "python -c 'import click', of the others a click + pyvergeos process sending "
            "the same queries and printing JSON):"
        )
        print(
            f"  {'command':<34} {'vrgtask s':>9} {'floor s':>8} {'above ms':>9} "
            f"{'CPU above ms':>12}  {'vrgtask MiB':>11} {'floor MiB':>9} {'above MiB':>9}  "
            f"{'requests':>8}"
        )
        for entry in floors:
            a, f = entry["vrgtask"], entry["floor"]
            cpu_above = (a["median_cpu_s"] - f["median_cpu_s"]) * 1000
            print(
                f"  {entry['label']:<34} {a['median_s']:>9.3f} {f['median_s']:>8.3f} "
                f"{entry['over_floor_ms']:>+9.1f} {cpu_above:>+12.1f}  "
                f"{a['median_rss_mib']:>11.1f} {f['median_rss_mib']:>9.1f} "
                f"{entry['over_floor_mib']:>+9.1f}  {a['requests']:>3} / {f['requests']:<2}"
            )
    wait = data.get("run_wait")
    if wait:
        wall = statistics.median(r["wall_s"] for r in wait["runs"])
        rss = statistics.median(r["rss_mib"] for r in wait["runs"])
        size = max(r["bytes"] for r in wait["runs"])
        label = f"task run --wait ({WAIT_DURATION:g} s run)"
        print(
            f"{label:<34} {wall:>9.3f} {'-':>8} {'-':>6}  {wait['max_requests']:>4} / -   "
            f"{size:>10,} / -         {rss:>6.1f} / -    (vrgtask only, {len(wait['runs'])} runs)"
        )
    print(
        "where the time went (medians; CPU = the CLI process's user+sys; server = the "
        "sandbox's time answering; min-max = spread of the wall times):"
    )
    print(
        f"  {'command':<34} {'vrgtask wall/CPU/server s':>26} {'min-max':>13}   "
        f"{'vrg wall/CPU/server s':>22} {'min-max':>13}"
    )
    for entry in data["commands"].values():
        cells = []
        for cli in ("vrgtask", "vrg"):
            x = entry[cli]
            cells.append(
                f"{x['median_s']:.3f}/{x['median_cpu_s']:.3f}/{x['median_server_s']:.3f}".rjust(
                    26 if cli == "vrgtask" else 22
                )
                + f" {x['min_s']:.3f}-{x['max_s']:.3f}".rjust(14)
            )
        print(f"  {entry['label']:<34} {cells[0]}   {cells[1]}")
    print("requests made (first measured run):")
    for entry in data["commands"].values():
        for cli in ("vrgtask", "vrg"):
            lines = entry[cli]["request_lines"]
            print(f"  {entry['label']} -- {cli}: {len(lines)} request(s)")
            for line in lines:
                print(f"      {line}")
    if wait:
        first = wait["runs"][0]
        print(f"  {wait['command']} -- vrgtask: {first['requests']} request(s) (seen at)")
        for line in first["request_lines"]:
            print(f"      {line}")


@dataclass
class Check:
    target: str
    ok: bool | None  # None: not measurable in this run (SKIP)
    detail: str

    @property
    def verdict(self) -> str:
        return "SKIP" if self.ok is None else "PASS" if self.ok else "FAIL"

    def line(self) -> str:
        return f"[{self.verdict}] {self.target}: {self.detail}"


def import_floor(runs: int, env: dict[str, str], workdir: Path) -> float:
    """Median wall time of a process that only imports click and pyvergeos.

    No CLI built on pyvergeos (with click) can start, connect and answer in
    less: it is the floor under ``task get`` that vrgtask's own code cannot
    lower. Measured with the same launcher and interpreter as vrgtask.
    """
    argv = [sys.executable, "-c", "import click, pyvergeos"]
    run_measured(argv, env, workdir)  # warm-up
    walls = []
    for _ in range(runs):
        result = run_measured(argv, env, workdir)
        if result.returncode != 0:
            raise BenchError(f"import floor probe failed: {result.stderr.decode()[-500:]}")
        walls.append(result.wall_s)
    return statistics.median(walls)


def evaluate(sizes_data: dict[int, dict[str, Any]], floor_s: float | None = None) -> list[Check]:
    checks: list[Check] = []
    sizes = sorted(sizes_data)
    big, small = sizes[-1], sizes[0]
    at_big = "" if big == 10_000 else f" [measured at N={big:,}: 10,000 not in --sizes]"

    def cmd(n: int, name: str) -> dict[str, Any]:
        value: dict[str, Any] = sizes_data[n]["commands"][name]
        return value

    helps = [(n, cmd(n, "help")) for n in sizes]
    checks.append(
        Check(
            "vrgtask --help median <= 0.08 s",
            all(h["vrgtask"]["median_s"] <= 0.08 for _, h in helps),
            ", ".join(f"{h['vrgtask']['median_s']:.3f} s (N={n:,})" for n, h in helps),
        )
    )
    checks.append(
        Check(
            "vrgtask --help <= 0.15 x vrg's time",
            all(h["ratio"] <= 0.15 for _, h in helps),
            ", ".join(
                f"{h['ratio']:.3f} = {h['vrgtask']['median_s']:.3f}/{h['vrg']['median_s']:.3f}"
                f" (N={n:,})"
                for n, h in helps
            ),
        )
    )
    checks.append(
        Check(
            "vrgtask --help peak RSS <= 25 MiB",
            all(h["vrgtask"]["median_rss_mib"] <= 25 for _, h in helps),
            ", ".join(
                f"{h['vrgtask']['median_rss_mib']:.1f} MiB (vrg {h['vrg']['median_rss_mib']:.1f})"
                for _, h in helps
            ),
        )
    )
    if all("floor" in cmd(n, "help") for n in sizes):
        checks.append(
            Check(
                "vrgtask --help at most 15 ms above python -c 'import click' (same run)",
                all(h["over_floor_ms"] <= 15 for _, h in helps),
                ", ".join(
                    f"{h['over_floor_ms']:+.1f} ms = {h['vrgtask']['median_s']:.3f} - "
                    f"{h['floor']['median_s']:.3f} s (N={n:,})"
                    for n, h in helps
                ),
            )
        )
    list_floor = cmd(big, "list")
    if "floor" in list_floor:
        checks.append(
            Check(
                f"task list -o json at 10,000 tasks: within 30 ms of the floor{at_big}",
                list_floor["over_floor_ms"] <= 30,
                f"{list_floor['over_floor_ms']:+.1f} ms = "
                f"{list_floor['vrgtask']['median_s']:.3f} - "
                f"{list_floor['floor']['median_s']:.3f} s",
            )
        )
        checks.append(
            Check(
                f"task list -o json at 10,000 tasks: peak RSS within 5 MiB of the floor{at_big}",
                list_floor["over_floor_mib"] <= 5,
                f"{list_floor['over_floor_mib']:+.1f} MiB = "
                f"{list_floor['vrgtask']['median_rss_mib']:.1f} - "
                f"{list_floor['floor']['median_rss_mib']:.1f} MiB",
            )
        )
        checks.append(
            Check(
                f"task list -o json at 10,000 tasks <= 0.4 x vrg's time{at_big}",
                list_floor["ratio"] <= 0.4,
                f"{list_floor['ratio']:.3f} = {list_floor['vrgtask']['median_s']:.3f} s / "
                f"{list_floor['vrg']['median_s']:.3f} s; the floor: "
                f"{list_floor['floor']['median_s'] / list_floor['vrg']['median_s']:.3f} x vrg "
                f"(the server's time answering: vrgtask "
                f"{list_floor['vrgtask']['median_server_s']:.3f} s, "
                f"vrg {list_floor['vrg']['median_server_s']:.3f} s)",
            )
        )
    get_floor = cmd(big, "get")
    if "floor" in get_floor:
        checks.append(
            Check(
                f"task get NAME -o json at 10,000 tasks: at or below the floor{at_big}",
                get_floor["over_floor_ms"] <= 0,
                f"{get_floor['over_floor_ms']:+.1f} ms = "
                f"{get_floor['vrgtask']['median_s']:.3f} - {get_floor['floor']['median_s']:.3f} s",
            )
        )
    get_big = cmd(big, "get")
    checks.append(
        Check(
            f"task get NAME at 10,000 tasks <= 0.15 x vrg's time{at_big}",
            get_big["ratio"] <= 0.15,
            f"{get_big['ratio']:.3f} = {get_big['vrgtask']['median_s']:.3f} s / "
            f"{get_big['vrg']['median_s']:.3f} s"
            + (
                f"; floor: importing click + pyvergeos alone takes {floor_s:.3f} s = "
                f"{floor_s / get_big['vrg']['median_s']:.3f} x vrg"
                if floor_s
                else ""
            ),
        )
    )
    checks.append(
        Check(
            f"task get NAME at 10,000 tasks: at most 3 requests{at_big}",
            max(get_big["vrgtask"]["requests_all"]) <= 3,
            f"{get_big['vrgtask']['requests']} (vrg {get_big['vrg']['requests']})",
        )
    )
    get_small = cmd(small, "get")
    checks.append(
        Check(
            f"task get NAME: response bytes the same at N={small:,} and N={big:,}",
            None
            if small == big
            else get_small["vrgtask"]["bytes_all"] == get_big["vrgtask"]["bytes_all"],
            f"{get_small['vrgtask']['bytes']:,} B vs {get_big['vrgtask']['bytes']:,} B "
            f"(vrg: {get_small['vrg']['bytes']:,} B vs {get_big['vrg']['bytes']:,} B)"
            + (" -- only one size measured" if small == big else ""),
        )
    )
    list_big = cmd(big, "list")
    checks.append(
        Check(
            f"task list -o json at 10,000 tasks <= 0.5 x vrg's time{at_big}",
            list_big["ratio"] <= 0.5,
            f"{list_big['ratio']:.3f} = {list_big['vrgtask']['median_s']:.3f} s / "
            f"{list_big['vrg']['median_s']:.3f} s",
        )
    )
    checks.append(
        Check(
            f"task list -o json at 10,000 tasks: peak RSS not above vrg's{at_big}",
            list_big["vrgtask"]["median_rss_mib"] <= list_big["vrg"]["median_rss_mib"],
            f"{list_big['vrgtask']['median_rss_mib']:.1f} MiB vs "
            f"{list_big['vrg']['median_rss_mib']:.1f} MiB",
        )
    )
    waits = [(n, sizes_data[n]["run_wait"]) for n in sizes if sizes_data[n].get("run_wait")]
    if waits:
        checks.append(
            Check(
                "task run --wait: completion noticed within one poll interval",
                all(w["max_noticed_lag_s"] <= w["interval_s"] for _, w in waits),
                ", ".join(
                    f"worst {w['max_noticed_lag_s']:.3f} s after the end (interval "
                    f"{w['interval_s']:g} s), exit {w['max_exit_lag_s']:.3f} s after (N={n:,})"
                    for n, w in waits
                ),
            )
        )
        checks.append(
            Check(
                "task run --wait: no more than one status request per second while waiting",
                all(
                    w["min_gap_s"] >= 0.9  # 1 s less the log poller's jitter
                    and w["max_poll_gets"] <= w["allowed_polls"]
                    for _, w in waits
                ),
                ", ".join(
                    f"{w['max_status_gets']} status GETs (1 SDK read-back + "
                    f"{w['max_poll_gets']} polls; {w['allowed_polls']} polls fit in the wait) "
                    f"closest two {w['min_gap_s']:.3f} s apart (N={n:,})"
                    for n, w in waits
                ),
            )
        )
    over: list[str] = []
    counts: list[str] = []
    for name, budget in BUDGET.items():
        got = {n: max(cmd(n, name)["vrgtask"]["requests_all"]) for n in sizes}
        vrg_got = {n: max(cmd(n, name)["vrg"]["requests_all"]) for n in sizes}
        label = cmd(small, name)["label"]
        counts.append(
            f"{label}: {'/'.join(str(v) for v in got.values())} "
            f"(vrg {'/'.join(str(v) for v in vrg_got.values())}; budget {budget})"
        )
        over += [f"{label} N={n:,}: {v} > {budget}" for n, v in got.items() if v > budget]
    for n, w in waits:
        # The README's request table: connection check, resolution, the newest
        # task-log entry, the action, the task read-back and its new log entries
        # (6), one task read per poll, and at the end one or two log reads plus
        # one while the start had not shown yet (3).
        budget = 6 + w["allowed_polls"] + 3
        counts.append(f"task run --wait N={n:,}: {w['max_requests']} (budget {budget})")
        if w["max_requests"] > budget:
            over.append(f"task run --wait N={n:,}: {w['max_requests']} > {budget}")
    checks.append(
        Check(
            "every command: no request beyond connection check + name resolution + "
            "operation (+ SDK read-back)",
            not over,
            ("; ".join(counts) + (" -- over: " + "; ".join(over) if over else "")),
        )
    )
    return checks


# ----------------------------------------------------------------------------
# Main


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.strip()) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes: integers separated by commas: {text!r}"
        ) from None
    if not sizes or sizes[0] < 0:
        raise argparse.ArgumentTypeError("--sizes: at least one N >= 0")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="measured runs per CLI (default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded runs per CLI first")
    parser.add_argument("--sizes", type=parse_sizes, default=[100, 1000, 10000])
    parser.add_argument("--wait-runs", type=int, default=3, help="task run --wait runs per N")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--vrg-venv", type=Path, default=None, help="venv for vrg 1.1.3")
    parser.add_argument(
        "--pass-env",
        action="append",
        default=[],
        metavar="NAME",
        help="also give both CLIs this variable of the caller's environment "
        "(e.g. PYTHONDONTWRITEBYTECODE); repeatable",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: N=100 only, 3 runs, 1 run --wait"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.runs, args.wait_runs = [100], 3, 1
    if args.runs < 1 or args.warmup < 0 or args.wait_runs < 0:
        parser.error("--runs >= 1, --warmup >= 0, --wait-runs >= 0")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_path: Path = args.json or DEFAULT_RESULTS / f"bench-{stamp}.json"
    began = time.monotonic()

    vrgtask = vrgtask_executable()
    vrg = ensure_vrg(args.vrg_venv or default_vrg_venv())
    meta = machine_info(vrgtask, vrg)
    meta["vrgtask_bytecode_before"] = bytecode_state()
    meta["caller_PYTHONDONTWRITEBYTECODE"] = os.environ.get("PYTHONDONTWRITEBYTECODE")
    meta["pass_env"] = args.pass_env
    print(
        f"# vrgtask vs vrg -- {meta['date']}\n"
        f"# CPU: {meta['cpu_model']} x {meta['cpu_count']} (affinity {meta['cpu_affinity']}), "
        f"RAM {meta['ram']}, load {meta['load_avg_at_start']}\n"
        f"# {meta['platform']}, Python {meta['python']} (vrg venv: {meta['python_of_vrg']})\n"
        f"# {meta['vrgtask_version']} [{meta['vrgtask_executable']}; "
        f"commit {meta['vrgtask_commit'] or '?'}]\n"
        f"# {meta['vrg_version']} (pyvergeos {meta['pyvergeos_of_vrg']}) "
        f"[{meta['vrg_executable']}]\n"
        f"# vrgtask byte-code before this run: {meta['vrgtask_bytecode_before']}; "
        f"caller's PYTHONDONTWRITEBYTECODE={meta['caller_PYTHONDONTWRITEBYTECODE']!r} "
        f"({'passed on' if 'PYTHONDONTWRITEBYTECODE' in args.pass_env else 'not passed on'})"
    )
    cmds = commands(vrgtask, vrg)
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="vrgtask-bench-") as tmp:
        workdir = Path(tmp)
        meta["rss_floor_mib"] = launcher_floor_mib(workdir)
        print(
            "# each run: a fresh process, spawned and reaped by a small launcher "
            "(wall = spawn to reap; peak RSS = ru_maxrss from os.wait4; "
            f"floor {meta['rss_floor_mib']:.1f} MiB = what /bin/true reports)"
        )
        home = workdir / "home"
        home.mkdir()
        server_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TMPDIR": tempfile.gettempdir(),
        }
        for n_tasks in args.sizes:
            with sandbox(vrgtask, n_tasks, workdir, server_env) as server:
                env = cli_env(home, server, args.pass_env)
                control = Control(server.host, server.port, server.ca_file)
                data: dict[str, Any] = {
                    "server": server.address,
                    "server_command": " ".join(["vrgtask", *server.argv[1:]]),
                    "cli_environment": env,
                    "commands": {},
                }
                try:
                    for command in cmds:
                        before = control.objects()
                        series = measure_command(
                            command, n_tasks, args.runs, args.warmup, env, control, workdir
                        )
                        after = control.objects()
                        # enable of an enabled task changes nothing but the audit log
                        if before != after:
                            raise BenchError(f"{command.label} changed the sandbox state")
                        a, b = series["vrgtask"].summary(), series["vrg"].summary()
                        data["commands"][command.name] = {
                            "label": command.label,
                            "vrgtask_argv": ["vrgtask", *command.vrgtask[1:]],
                            "vrg_argv": ["vrg", *command.vrg[1:]],
                            "vrgtask": a,
                            "vrg": b,
                            "ratio": _ratio(a["median_s"], b["median_s"]),
                        }
                        if "floor" in series:
                            f = series["floor"].summary()
                            data["commands"][command.name].update(
                                floor=f,
                                floor_argv=_floor_label(command),
                                over_floor_ms=(a["median_s"] - f["median_s"]) * 1000,
                                over_floor_mib=a["median_rss_mib"] - f["median_rss_mib"],
                            )
                    if args.wait_runs:
                        data["run_wait"] = measure_run_wait(
                            vrgtask, n_tasks, args.wait_runs, env, server, workdir
                        )
                finally:
                    control.close()
            results[n_tasks] = data
            print_table(n_tasks, data, args.runs, args.warmup)
        meta["import_floor_s"] = import_floor(args.runs, env, workdir)
        print(
            f"# floor: a process that only imports click and pyvergeos: "
            f"{meta['import_floor_s']:.3f} s (median of {args.runs})"
        )

    checks = evaluate(results, meta["import_floor_s"])
    print()
    print("Target checks (medians, this run):")
    for check in checks:
        print("  " + check.line())
    elapsed = time.monotonic() - began
    verdicts = [c.verdict for c in checks]
    print(
        f"\n# {verdicts.count('PASS')} PASS, {verdicts.count('FAIL')} FAIL, "
        f"{verdicts.count('SKIP')} SKIP; took {elapsed:.0f} s"
    )
    document = {
        "meta": meta,
        "settings": {
            "runs": args.runs,
            "warmup": args.warmup,
            "sizes": args.sizes,
            "wait_runs": args.wait_runs,
            "task_name": TASK_NAME,
            "command_line": [Path(sys.executable).name, *sys.argv],
            "elapsed_s": elapsed,
        },
        "sizes": {str(n): d for n, d in results.items()},
        "checks": [{**asdict(c), "verdict": c.verdict} for c in checks],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(_finite(document), indent=2) + "\n")
    print(f"# results written to {out_path}")
    return 0


def _finite(value: Any) -> Any:
    """The document with inf/nan as null (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _terminate(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM: clean up (server, CLI run) as on Ctrl-C


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
