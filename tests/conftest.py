"""Shared test set-up: every test runs with a clean environment and HOME."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Take SIGINT back when the suite was started with it ignored.

    A shell script's ``cmd &``, ``nohup`` or a CI runner may start pytest with
    SIGINT ignored, and an ignored signal stays ignored in every child it
    starts: the tests that press Ctrl-C (in a ``vrgtask`` child, on a pty)
    would then wait for nothing. With Python's own handler here, children start
    with the default action again (handlers, unlike SIG_IGN, are reset at exec).
    """
    if os.name == "posix" and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_VARIABLES = (
    "VERGE_HOST",
    "VERGE_TOKEN",
    "VERGE_API_KEY",
    "VERGE_USERNAME",
    "VERGE_PASSWORD",
    "VERGE_VERIFY_SSL",
    "VERGE_TIMEOUT",
    "VERGE_PROFILE",
    "VERGE_OUTPUT",
    "VERGE_RETRY_TOTAL",
    "VERGE_RETRY_BACKOFF",
    "VRGTASK_CONFIG",
    "VRGTASK_SANDBOX_STATE",
    "VRGTASK_SANDBOX_ACTIONS",
    "VRGTASK_SANDBOX_STRICT",
    "VRGTASK_SANDBOX_START_DELAY",
    "NO_COLOR",
    "TERM",
    "COLUMNS",
    "XDG_DATA_HOME",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No VERGE_* settings leak in; HOME (and so ~/.vrg, the sandbox) is per test."""
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home
