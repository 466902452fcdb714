"""Shell completion against the HTTPS sandbox: live names, one request, silent failures.

The completion protocol is driven as the shell drives it (``_VRGTASK_COMPLETE``
and ``COMP_WORDS`` in a separate ``vrgtask`` process), and once through a real
bash on a pseudo-terminal, installed the way the README says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from support import read_pty_until

from vrgtask.sandbox.seed import task_row
from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
VRGTASK = Path(sys.executable).parent / "vrgtask"


def complete(line: str, env: dict[str, str] | None = None) -> tuple[list[str], str, int]:
    """What bash completion offers for ``line`` (the cursor at its end)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    proc = subprocess.run(
        [sys.executable, "-m", "vrgtask"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        env={
            **os.environ,
            **(env or {}),
            "_VRGTASK_COMPLETE": "bash_complete",
            "COMP_WORDS": line,
            "COMP_CWORD": str(cword),
        },
    )
    offered = [entry.split(",", 1)[1] for entry in proc.stdout.splitlines() if "," in entry]
    return offered, proc.stderr, proc.returncode


def list_requests(server: SandboxServer) -> list[dict[str, object]]:
    return [e for e in server.log.entries() if e["path"] != "/api/v4/system"]


def test_task_names_with_one_filtered_request(sandbox_env: SandboxServer) -> None:
    offered, stderr, code = complete("vrgtask task get n")
    assert code == 0
    assert stderr == ""
    assert offered == ["nightly-snapshot"]
    (request,) = sandbox_env.log.entries()  # no connection check: one request in all
    assert request["method"] == "GET"
    assert request["path"] == "/api/v4/tasks"
    query = parse_qs(str(request["query"]))
    assert query["filter"] == ["name bw 'n'"]
    assert query["limit"] == ["50"]
    assert query["fields"] == ["name"]


def test_every_task_for_an_empty_word(sandbox_env: SandboxServer) -> None:
    offered, _, _ = complete("vrgtask task run ")
    assert offered == [
        "check-for-updates",
        "nightly-snapshot",
        "power-on-dev",
        "reset-dmz",
        "tenant-poweroff",
        "weekly-cleanup",
    ]
    (request,) = list_requests(sandbox_env)
    assert "filter" not in parse_qs(str(request["query"]))


def test_schedule_names_for_the_argument_and_the_option(sandbox_env: SandboxServer) -> None:
    assert complete("vrgtask schedule show ni")[0] == ["nightly"]
    assert complete("vrgtask trigger create power-on-dev --schedule h")[0] == ["hourly"]
    assert complete("vrgtask task trigger list --schedule w")[0] == ["weekday-mornings"]
    tables = [entry["path"] for entry in sandbox_env.log.entries()]
    assert tables == ["/api/v4/task_schedules"] * 3


def test_the_typed_text_is_quoted_in_the_filter(sandbox_env: SandboxServer) -> None:
    with sandbox_env.emulator.store.transaction() as state:
        state["tables"]["tasks"]["90"] = task_row(90, "it's {odd}", "vms/1", "poweron")
        state["tables"]["tasks"]["91"] = task_row(91, "x{y}", "vms/1", "poweron")
    assert complete("vrgtask task get \"it's")[0] == ["it's {odd}"]
    assert complete("vrgtask task get x{")[0] == ["x{y}"]
    filters = [parse_qs(str(e["query"]))["filter"] for e in sandbox_env.log.entries()]
    assert filters == [["name bw 'it\\'s'"], ["name bw 'x\\{'"]]


def test_at_most_fifty_names(sandbox_env: SandboxServer) -> None:
    with sandbox_env.emulator.store.transaction() as state:
        for key in range(100, 170):
            state["tables"]["tasks"][str(key)] = task_row(key, f"bulk-{key}", "vms/1", "poweron")
    offered, _, _ = complete("vrgtask task get bulk-")
    assert len(offered) == 50
    assert all(name.startswith("bulk-") for name in offered)
    assert len(list_requests(sandbox_env)) == 1


def test_names_from_an_api_key(sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from vrgtask.sandbox import SANDBOX_TOKEN

    monkeypatch.delenv("VERGE_USERNAME")
    monkeypatch.delenv("VERGE_PASSWORD")
    assert complete("vrgtask task get p", {"VERGE_API_KEY": SANDBOX_TOKEN})[0] == ["power-on-dev"]


@pytest.mark.parametrize(
    "rule",
    [
        {"status": 500},
        {"status": 401},
        {"drop": True},
        {"invalid_json": True},
        {"delay": 6},  # beyond the 2-second limit
    ],
    ids=["http-500", "http-401", "dropped", "invalid-json", "too-slow"],
)
def test_any_failure_offers_nothing_silently(
    sandbox_env: SandboxServer, rule: dict[str, object]
) -> None:
    sandbox_env.faults.add({"path": "^/api/v4/tasks", **rule})
    offered, stderr, code = complete("vrgtask task get n")
    assert (offered, stderr, code) == ([], "", 0)
    assert sandbox_env.wait_idle(timeout=30)
    assert sandbox_env.log.count(path_prefix="/api/v4/tasks") == 1  # it was asked, once


def test_no_password_means_no_names_and_no_prompt(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VERGE_PASSWORD")
    offered, stderr, code = complete("vrgtask task get n")
    assert (offered, stderr, code) == ([], "", 0)
    assert sandbox_env.log.entries() == []


def test_unreachable_host_offers_nothing(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("VERGE_HOST", f"127.0.0.1:{port}")
    assert complete("vrgtask task get n") == ([], "", 0)


def test_the_embedded_sandbox_completes_too(tmp_path: Path) -> None:
    env = {"VRGTASK_SANDBOX_STATE": str(tmp_path / "state.json")}
    assert complete("vrgtask --sandbox task get re", env)[0] == ["reset-dmz"]


def test_profiles_complete_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[default]\nhost = "a"\n[profile.lab]\nhost = "b"\n[profile.lab2]\n')
    env = {"VRGTASK_CONFIG": str(path)}
    assert complete("vrgtask -p l", env)[0] == ["lab", "lab2"]
    assert complete("vrgtask --profile ", env)[0] == ["default", "lab", "lab2"]
    assert complete("vrgtask config set --profile la", env)[0] == ["lab", "lab2"]


@pytest.mark.skipif(
    sys.platform == "win32" or shutil.which("bash") is None, reason="needs bash and a pty"
)
def test_bash_completes_a_task_name_on_a_real_terminal(
    sandbox_env: SandboxServer, tmp_path: Path
) -> None:
    """Installed as the README says, bash completes ``nig<TAB>`` to the task's name."""
    import pty

    readme = README.read_text(encoding="utf-8")
    install = 'eval "$(vrgtask completion bash)"'
    assert install in readme
    rc = tmp_path / "bashrc"
    rc.write_text(f"PS1='READY> '\n{install}\n")
    env = {
        **os.environ,
        "PATH": f"{VRGTASK.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TERM": "dumb",
        "HOME": str(tmp_path),
        "INPUTRC": os.devnull,
    }
    with warnings.catch_warnings():
        # 3.12+ warns about forking a process with threads (the sandbox server's);
        # the child only calls execve, which is safe.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid, fd = pty.fork()
    if pid == 0:  # the child: bash with the pty as its terminal
        bash = shutil.which("bash") or "/bin/bash"
        os.execve(bash, [bash, "--noprofile", "--rcfile", str(rc), "-i"], env)  # noqa: S606
    deadline = time.monotonic() + 60
    try:
        seen = read_pty_until(fd, re.compile(rb"READY> "), deadline)
        assert b"READY> " in seen, seen
        os.write(fd, b"vrgtask task get nig\t")
        seen += read_pty_until(fd, re.compile(rb"htly-snapshot"), deadline)
        # Put the completed line in an echo, so bash prints it whole on its own line.
        os.write(fd, b"\x01echo LINE=\r")
        seen += read_pty_until(fd, re.compile(rb"LINE=vrgtask[^\r\n]*\r?\n"), deadline)
        os.write(fd, b"exit\r")
        seen += read_pty_until(fd, re.compile(rb"\x00never"), min(deadline, time.monotonic() + 3))
    finally:
        waited = 0.0
        while waited < 10:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
            waited += 0.05
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    text = seen.decode(errors="replace")
    assert re.search(r"LINE=vrgtask task get nightly-snapshot ?\r?\n", text), text
    assert sandbox_env.log.count(path_prefix="/api/v4/tasks") == 1
