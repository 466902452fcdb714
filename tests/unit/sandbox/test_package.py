"""The package root stays light: the CLI may import it on its start-up path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import vrgtask
import vrgtask.sandbox

HEAVY = ("requests", "urllib3", "ssl", "trustme", "pyvergeos", "socket", "http.server")

PROBE = f"""
import sys
import vrgtask.sandbox as sandbox
assert "vrgtask.sandbox.emulator" not in sys.modules  # names load on first use
from vrgtask.sandbox import Emulator, FileStore, MemoryStore, SandboxStateError, seed_state
from vrgtask.sandbox import filters, projection, store, faults, log, schedule
Emulator(MemoryStore(seed_state())).handle("GET", "/api/v4/tasks", "", {{}}, b"")
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_importing_the_sandbox_loads_no_network_stack() -> None:
    root = Path(vrgtask.__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_public_names() -> None:
    for name in vrgtask.sandbox.__all__:
        assert getattr(vrgtask.sandbox, name) is not None
    assert vrgtask.sandbox.SANDBOX_USERNAME == "admin"
    assert vrgtask.sandbox.SANDBOX_PASSWORD == "sandbox"
    assert vrgtask.sandbox.SANDBOX_TOKEN == "sandbox-token"
    assert set(vrgtask.sandbox.__all__) <= set(dir(vrgtask.sandbox))
    with pytest.raises(AttributeError):
        vrgtask.sandbox.nope  # noqa: B018
