"""The sandbox as a new user meets it: separate processes, an empty HOME."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import run_process, spawn

pytestmark = pytest.mark.e2e

SEEDED = ["1", "2", "3", "4", "5", "6"]


def test_seed_persistence_and_reset_across_processes(clean_environment: Path) -> None:
    state = clean_environment / ".local" / "share" / "vrgtask" / "sandbox.json"
    assert not state.exists()
    first = run_process("--sandbox", "task", "list")
    assert first.exit_code == 0, first.stderr
    assert "nightly-snapshot" in first.stdout
    assert state.exists()
    made = run_process("--sandbox", "--query", "$key", "task", "create", "--name", "kept",
                       "--owner", "vms/1", "--action", "poweron")  # fmt: skip
    assert made.stdout.strip() == "7"
    assert run_process("--sandbox", "task", "get", "kept", "-q").exit_code == 0
    assert run_process("--host", "sandbox", "task", "list", "-q").stdout.split() == [*SEEDED, "7"]
    status = json.loads(run_process("sandbox", "status", "-o", "json").stdout)
    assert status["tasks"] == 7
    assert status["path"] == str(state)
    assert run_process("sandbox", "reset").exit_code == 0
    assert run_process("--sandbox", "task", "list", "-q").stdout.split() == SEEDED


def test_state_path_override(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.json"
    out = run_process("--sandbox", "task", "list", "-q", env={"VRGTASK_SANDBOX_STATE": str(path)})
    assert out.exit_code == 0
    assert path.exists()


def test_serve_over_https_then_stop(tmp_path: Path) -> None:
    with spawn(
        [sys.executable, "-m", "vrgtask", "sandbox", "serve", "--port", "0", "--tasks", "3",
         "--ca-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(3)]
        match = re.search(r"https://(127\.0\.0\.1:\d+)/", banner[0])
        assert match, banner
        host = match.group(1)
        assert "admin / sandbox" in banner[2]
        env = {
            "VERGE_HOST": host,
            "VERGE_TOKEN": "sandbox-token",
            "REQUESTS_CA_BUNDLE": str(tmp_path / "sandbox-ca.pem"),
        }
        out = run_process("task", "list", "-q", env=env)
        assert out.exit_code == 0, out.stderr
        assert len(out.stdout.split()) == 9  # the seed and 3 generated tasks
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_serve_refuses_key_without_cert() -> None:
    out = run_process("sandbox", "serve", "--key", os.devnull)
    assert out.exit_code == 2
    assert "--cert" in out.stderr
