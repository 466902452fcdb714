"""Shared test set-up: every test runs with a clean environment and HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

_VARIABLES = (
    "VERGE_HOST",
    "VERGE_TOKEN",
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
