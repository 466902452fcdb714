"""Terminal manners, through real ``python -m vrgtask`` processes on a pseudo-terminal
against the HTTPS sandbox.

* The ``--wait`` progress line is cut to the terminal's width: it never wraps.
* ``TERM=dumb`` gets no colour and no in-place redraw (no escape sequences,
  no carriage returns), only plain lines.
* Ctrl-C or Ctrl-D at a confirmation prompt ends the prompt's line before the
  error, exits 130 or 1, and deletes nothing.
* ``-vv`` prints one line per request and one per response.
"""

from __future__ import annotations

import os
import re
import select
import sys
import time
import warnings
from collections.abc import Sequence

import pytest
from support import default_sigint, run_cli

from vrgtask.context import fit_width
from vrgtask.sandbox.server import SandboxServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

RUN_WAIT = ["task", "run", "nightly-snapshot", "--wait", "--params-json", '{"sandbox_duration": 3}']


def _read(fd: int, until: re.Pattern[bytes] | None, deadline: float) -> bytes:
    data = b""
    while time.monotonic() < deadline and not (until is not None and until.search(data)):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            data += chunk
    return data


def on_pty(
    argv: list[str],
    *,
    term: str,
    columns: int = 80,
    keys: Sequence[tuple[bytes, bytes]] = (),
) -> tuple[str, int]:
    """Run ``vrgtask ARGV`` with a pty as its terminal; its output and exit code.

    ``keys``: (text to wait for, bytes to type then).
    """
    import fcntl
    import pty
    import struct
    import termios

    env = {**os.environ, "TERM": term}
    env.pop("COLUMNS", None)
    env.pop("NO_COLOR", None)
    with warnings.catch_warnings():
        # 3.12+ warns about forking a process with threads (the sandbox server's);
        # the child only sets the window size and calls execve.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid, fd = pty.fork()
    if pid == 0:
        default_sigint()  # the child presses Ctrl-C: it must not inherit SIG_IGN
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        full = [sys.executable, "-m", "vrgtask", *argv]
        os.execve(sys.executable, full, env)  # noqa: S606  # fixed argv, no shell
    deadline = time.monotonic() + 60
    seen = b""
    try:
        for wait_for, typed in keys:
            seen += _read(fd, re.compile(re.escape(wait_for)), deadline)
            assert wait_for in seen, seen
            time.sleep(0.2)  # let the prompt start reading
            os.write(fd, typed)
        seen += _read(fd, None, deadline)  # to the end of output
    finally:
        status = None
        while time.monotonic() < deadline + 10:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert status is not None
    return seen.decode("utf-8", errors="replace"), os.waitstatus_to_exitcode(status)


def status_lines(output: str) -> list[str]:
    """The live lines drawn in place: each one erased by the next redraw."""
    return re.findall(r"\x1b\[2K([^\r\n\x1b]+)(?=\r\x1b\[2K)", output)


def _width(text: str) -> int:
    """Terminal columns of ``text`` (fit_width leaves text that fits unchanged)."""
    for width in range(len(text) * 2 + 1):
        if fit_width(text, width) == text:
            return width
    raise AssertionError(text)


def test_the_progress_line_is_cut_to_the_terminal_width(sandbox_env: SandboxServer) -> None:
    output, code = on_pty(RUN_WAIT, term="xterm", columns=30)
    assert code == 0, output
    shown = status_lines(output)
    assert shown, output  # the live line was drawn
    assert all(_width(line) <= 29 for line in shown), shown
    assert any(line.endswith("\u2026") for line in shown), shown  # it had to be cut


def test_a_wide_terminal_shows_the_whole_line(sandbox_env: SandboxServer) -> None:
    output, code = on_pty(RUN_WAIT, term="xterm", columns=200)
    assert code == 0, output
    shown = status_lines(output)
    assert shown, output
    label = "task 'nightly-snapshot' (key 1): "
    assert all(line.startswith(label) and not line.endswith("\u2026") for line in shown), shown


def test_a_dumb_terminal_gets_plain_lines_only(sandbox_env: SandboxServer) -> None:
    output, code = on_pty(RUN_WAIT, term="dumb", columns=30)
    assert code == 0, output
    assert "\x1b" not in output
    assert re.search(r"\r(?!\n)", output) is None, repr(output)  # no redraw in place
    # the status is still shown, as a line
    assert re.search(r"task 'nightly-snapshot' \(key 1\): [^\r\n]*\(\d+s\)", output), output
    listed, code = on_pty(["task", "list"], term="dumb")
    assert code == 0
    assert "\x1b" not in listed  # no colour either


def test_colour_on_a_capable_terminal(sandbox_env: SandboxServer) -> None:
    listed, code = on_pty(["task", "list"], term="xterm")
    assert code == 0
    assert "\x1b[" in listed  # the check above is not vacuous


@pytest.mark.parametrize(
    ("key", "exit_code", "message"),
    [(b"\x03", 130, "Error: interrupted"), (b"\x04", 1, "Error: cancelled")],
    ids=["ctrl-c", "ctrl-d"],
)
def test_ctrl_c_or_d_at_a_confirmation_ends_the_line_first(
    sandbox_env: SandboxServer, key: bytes, exit_code: int, message: str
) -> None:
    output, code = on_pty(
        ["task", "delete", "power-on-dev"], term="xterm", keys=[(b"[y/N]: ", key)]
    )
    assert code == exit_code, output
    lines = output.replace("\r\n", "\n").split("\n")
    assert any(line.startswith(message) for line in lines), repr(output)
    prompt_line = next(line for line in lines if "[y/N]:" in line)
    assert "Error" not in prompt_line
    assert not any(e["method"] == "DELETE" for e in sandbox_env.log.entries())


def test_vv_prints_one_line_per_request_and_per_response(sandbox_env: SandboxServer) -> None:
    out = run_cli("-vv", "task", "get", "nightly-snapshot")
    assert out.exit_code == 0, out.stderr
    log = [line for line in out.stderr.splitlines() if line.startswith(("> ", "< "))]
    requests = sandbox_env.log.entries()
    assert len(requests) == 2
    assert len(log) == 2 * len(requests)
    for (sent, answer), entry in zip(zip(log[::2], log[1::2], strict=True), requests, strict=True):
        assert sent.startswith(f"> GET https://{sandbox_env.host}{entry['path']}")
        assert answer.startswith(f"< {entry['status']} ")


def test_vv_logs_a_request_that_never_got_an_answer(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERGE_RETRY_TOTAL", "0")
    sandbox_env.faults.add({"path": "^/api/v4/tasks$", "drop": True})
    out = run_cli("-vv", "task", "list")
    assert out.exit_code == 10, out.stderr
    log = [line for line in out.stderr.splitlines() if line.startswith(("> ", "< "))]
    assert log[-2].startswith("> GET ")
    assert log[-1].startswith("< failed: ")
