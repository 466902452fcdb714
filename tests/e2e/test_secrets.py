"""Secrets: the password and the token never appear in any output.

A matrix of commands and failures (success, a failing ``--wait``, a 500, a
server that echoes the credentials in its error, bad credentials, a host that
refuses the connection, an untrusted certificate, a dropped connection), each
run with ``-vvv`` (request log, headers, tracebacks) and four ways to give
credentials: password in the environment, password on the command line, a
token, and an API key (``VERGE_API_KEY``). Distinctive secret values are
used, and their Basic form (base64 of ``user:password``) is looked for as well.

TLS is verified by default and a certificate failure exits 10 saying how to
trust the certificate (REQUESTS_CA_BUNDLE) or, knowingly, to use --insecure:
test_cli_transport.py proves that in depth; the ``tls-untrusted`` scenario
here checks it once more under every way of giving credentials.
"""

from __future__ import annotations

import base64
import os
import socket
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import default_sigint, read_pty_until, run_cli

from vrgtask.sandbox import SANDBOX_USERNAME
from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"

PASSWORD = "Pw-9qX-sEcReT-horse"
WRONG_PASSWORD = "Pw-4kZ-wRoNg-staple"
TOKEN = "tok-7Hq2-sEcReT-battery"
WRONG_TOKEN = "tok-3Lm8-wRoNg-correct"


def basic(password: str) -> str:
    return base64.b64encode(f"{SANDBOX_USERNAME}:{password}".encode()).decode()


def forms(secret: str) -> list[str]:
    """Every spelling of a secret that must not be printed."""
    return [secret, basic(secret)]


@dataclass(frozen=True)
class Credentials:
    id: str
    scheme: str  # what the -vvv log shows: "Basic" or "Bearer"


CREDENTIALS = [
    Credentials("password-env", "Basic"),
    Credentials("password-option", "Basic"),
    Credentials("token-env", "Bearer"),
    Credentials("api-key-env", "Bearer"),
]


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


Setup = Callable[[SandboxServer, pytest.MonkeyPatch, Path, str], None]


def _fault(rule: dict[str, object]) -> Setup:
    def setup(server: SandboxServer, _mp: pytest.MonkeyPatch, _tmp: Path, _auth: str) -> None:
        server.faults.add({"method": "GET", "path": "^/api/v4/tasks$", **rule})

    return setup


def _echo(server: SandboxServer, _mp: pytest.MonkeyPatch, _tmp: Path, auth: str) -> None:
    """A server whose error message repeats the credentials it was sent."""
    secret = auth.split(" ", 1)[1]
    server.faults.add(
        {
            "method": "GET",
            "path": "^/api/v4/tasks$",
            "status": 422,
            "body": {"err": f"rejected Authorization: {auth} (credential {secret})"},
        }
    )


def _wrong_host(_server: SandboxServer, mp: pytest.MonkeyPatch, _tmp: Path, _auth: str) -> None:
    mp.setenv("VERGE_HOST", f"127.0.0.1:{closed_port()}")


def _untrusted(_server: SandboxServer, mp: pytest.MonkeyPatch, tmp: Path, _auth: str) -> None:
    import trustme

    other = tmp / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    mp.setenv("REQUESTS_CA_BUNDLE", str(other))
    mp.setenv("CURL_CA_BUNDLE", str(other))


@dataclass(frozen=True)
class Scenario:
    id: str
    argv: tuple[str, ...]
    exit_code: int
    setup: Setup | None = None
    #: Did an authenticated request reach the server (so -vvv logs its headers)?
    reaches_server: bool = True
    #: The CLI sends wrong credentials (the server expects the right ones).
    wrong_secret: bool = False
    needles: tuple[str, ...] = ()


OWNER_ACTION = ("--owner", "vms/1", "--action", "poweron")
FAIL_AT_ONCE = '{"sandbox_fail": "disk full", "sandbox_duration": 0}'

SCENARIOS = [
    Scenario("list", ("task", "list"), 0),
    Scenario("get", ("task", "get", "nightly-snapshot"), 0),
    Scenario("create", ("task", "create", "--name", "s", *OWNER_ACTION), 0),
    Scenario("delete", ("task", "delete", "power-on-dev", "--yes"), 0),
    Scenario(
        "run-wait-fails",
        ("task", "run", "tenant-poweroff", "--wait", "--params-json", FAIL_AT_ONCE),
        1,
        needles=("disk full",),
    ),
    Scenario("http-500", ("task", "list"), 1, _fault({"status": 500}), needles=("HTTP 500",)),
    Scenario("server-echoes-credentials", ("task", "list"), 8, _echo),
    Scenario("wrong-credentials", ("task", "list"), 4, wrong_secret=True),
    Scenario("wrong-host", ("task", "list"), 10, _wrong_host, reaches_server=False),
    Scenario(
        "tls-untrusted",
        ("task", "list"),
        10,
        _untrusted,
        reaches_server=False,
        needles=("REQUESTS_CA_BUNDLE", "--insecure"),
    ),
    Scenario("connection-dropped", ("task", "list"), 10, _fault({"drop": True})),
]

_PAIRS = [(c, s) for s in SCENARIOS for c in CREDENTIALS]
CASES = [pytest.param(c, s) for c, s in _PAIRS]
CASE_IDS: list[str] = [f"{s.id}:{c.id}" for c, s in _PAIRS]


@pytest.mark.parametrize(("creds", "scenario"), CASES, ids=CASE_IDS)
def test_no_secret_in_any_output(
    sandbox_env: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    creds: Credentials,
    scenario: Scenario,
) -> None:
    monkeypatch.setenv("VERGE_RETRY_BACKOFF", "0.01")
    server = sandbox_env
    # The server expects the distinctive secrets; the CLI sends them (or wrong ones).
    with server.emulator.store.transaction() as state:
        state["tables"]["users"]["1"]["_password"] = PASSWORD
    monkeypatch.setattr("vrgtask.sandbox.emulator.SANDBOX_TOKEN", TOKEN)
    argv: list[str] = ["-vvv"]
    if creds.scheme == "Bearer":
        sent = WRONG_TOKEN if scenario.wrong_secret else TOKEN
        monkeypatch.delenv("VERGE_USERNAME")
        monkeypatch.delenv("VERGE_PASSWORD")
        monkeypatch.setenv("VERGE_API_KEY" if creds.id == "api-key-env" else "VERGE_TOKEN", sent)
        auth = f"Bearer {sent}"
    else:
        sent = WRONG_PASSWORD if scenario.wrong_secret else PASSWORD
        if creds.id == "password-option":
            monkeypatch.delenv("VERGE_PASSWORD")
            argv += ["--password", sent]
        else:
            monkeypatch.setenv("VERGE_PASSWORD", sent)
        auth = f"Basic {basic(sent)}"
    if scenario.setup is not None:
        scenario.setup(server, monkeypatch, tmp_path, auth)

    out = run_cli(*argv, *scenario.argv)
    assert server.wait_idle(timeout=10)

    for secret in (PASSWORD, WRONG_PASSWORD, TOKEN, WRONG_TOKEN):
        for form in forms(secret):
            assert form not in out.stdout, f"{form!r} on stdout"
            assert form not in out.stderr, f"{form!r} on stderr:\n{out.stderr}"
    assert out.exit_code == scenario.exit_code, out.stderr
    if scenario.reaches_server:
        assert f"Authorization: {creds.scheme} [redacted]" in out.stderr, out.stderr
    if creds.id == "password-option":
        warnings = [line for line in out.stderr.splitlines() if line.startswith("Warning:")]
        assert len(warnings) == 1, out.stderr
        assert "--password" in warnings[0]
        assert "VERGE_PASSWORD" in warnings[0]
        assert "prompt" in warnings[0]
    if scenario.exit_code != 0:
        last = out.stderr.splitlines()[-1]
        assert last.startswith("Error: "), out.stderr
        for needle in scenario.needles:
            assert needle in last, last


def test_password_option_works_and_warns_without_verbosity(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VERGE_PASSWORD")
    out = run_cli("--password", "sandbox", "task", "list", "-q")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.split() == ["1", "2", "3", "4", "5", "6"]
    (warning,) = out.stderr.splitlines()
    assert warning.startswith("Warning: ")
    assert "other users" in warning
    assert "sandbox" not in warning  # the password itself is not repeated


HOST_URLS = [
    "https://admin:{pw}@127.0.0.1:1/",
    "https://admin:{pw}@127.0.0.1:1/api/v4/",
    "https://admin:{pw}@127.0.0.1:1/some/path?x=1",
    "http://admin:{pw}@127.0.0.1:1/",
    "admin:{pw}@127.0.0.1:1",
    "https://{pw}@127.0.0.1:1/",
]


@pytest.mark.parametrize("how", ["option", "env", "config"])
@pytest.mark.parametrize("url", HOST_URLS)
def test_credentials_in_a_host_url_are_never_echoed(
    sandbox: SandboxServer, tmp_path: Path, how: str, url: str
) -> None:
    host = url.format(pw=PASSWORD)
    config = tmp_path / "config.toml"
    config.write_text(f'[default]\nhost = "{host}"\n')
    config.chmod(0o600)
    env = {"VRGTASK_CONFIG": str(config)} if how == "config" else {}
    if how == "env":
        env["VERGE_HOST"] = host
    argv = ["-vvv", *(["--host", host] if how == "option" else []), "task", "list"]
    out = run_cli(*argv, env=env)
    assert out.exit_code == 3, out.stderr
    assert PASSWORD not in out.stdout + out.stderr
    line = out.stderr.splitlines()[-1]
    assert line.startswith("Error: ")
    assert "--username" in line  # how to pass them instead
    assert sandbox.log.entries() == []


def test_password_from_the_environment_does_not_warn(sandbox_env: SandboxServer) -> None:
    out = run_cli("task", "list", "-q")
    assert out.exit_code == 0, out.stderr
    assert out.stderr == ""


def test_readme_and_help_document_the_safe_ways() -> None:
    text = README.read_text(encoding="utf-8")
    paragraph = next(p for p in text.split("\n\n") if p.startswith("Passwords:"))
    assert "prompt" in paragraph
    assert "hidden" in paragraph
    assert "VERGE_PASSWORD" in paragraph
    assert "--password" in paragraph
    assert "warns" in paragraph
    assert "TLS certificates are verified by default" in text
    assert "REQUESTS_CA_BUNDLE" in text
    assert "--insecure" in text
    help_text = run_cli("--help").stdout
    password_help = help_text[help_text.index("--password") :][:200]
    assert "prompt" in password_help
    assert "VERGE_PASSWORD" in password_help


def _reap(pid: int, deadline: float) -> int:
    """Wait for the child (bounded); kill it if it does not end in time."""
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, 9)
    return os.waitpid(pid, 0)[1]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_hidden_prompt_does_not_echo_the_password(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, without a password, vrgtask asks for it without echoing it."""
    import pty

    with sandbox_env.emulator.store.transaction() as state:
        state["tables"]["users"]["1"]["_password"] = PASSWORD
    monkeypatch.delenv("VERGE_PASSWORD")
    env = dict(os.environ)
    with warnings.catch_warnings():
        # 3.12+ warns about forking a process with threads (the sandbox server's);
        # the child only calls execve, which is safe.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal
        default_sigint()  # it may get Ctrl-C: it must not inherit SIG_IGN
        argv = [sys.executable, "-m", "vrgtask", "task", "list", "-q"]
        os.execve(sys.executable, argv, env)  # noqa: S606  # fixed argv, no shell
    try:
        deadline = time.monotonic() + 30
        seen = read_pty_until(fd, b"Password for admin@", deadline)
        assert b"Password for admin@" in seen, seen
        time.sleep(0.2)  # let the prompt turn echo off before typing
        os.write(fd, PASSWORD.encode() + b"\r")
        seen += read_pty_until(fd, b"\n6", deadline)
        seen += read_pty_until(fd, b"\x00never", min(deadline, time.monotonic() + 2))
    finally:
        status = _reap(pid, deadline=time.monotonic() + 10)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    text = seen.decode(errors="replace")
    assert PASSWORD not in text
    assert basic(PASSWORD) not in text
    assert text.split()[-6:] == ["1", "2", "3", "4", "5", "6"], text
