"""With TLS verification off, no CA store is loaded (it costs ~40 ms a run)."""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from support import run_cli

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every CA store loaded into a TLS context while the test runs."""
    seen: list[str] = []
    default, locations = ssl.SSLContext.load_default_certs, ssl.SSLContext.load_verify_locations

    def load_default_certs(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        seen.append("system store")
        default(self, *args, **kwargs)

    def load_verify_locations(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        seen.append("CA file")
        locations(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", load_default_certs)
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", load_verify_locations)
    return seen


def test_insecure_loads_no_ca_store(sandbox_env: SandboxServer, loads: list[str]) -> None:
    out = run_cli("--insecure", "task", "list", "-q")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.split() == ["1", "2", "3", "4", "5", "6"]
    assert loads == []


def test_verified_connections_do_load_the_ca_file(
    sandbox_env: SandboxServer, loads: list[str]
) -> None:
    out = run_cli("task", "list", "-q")  # REQUESTS_CA_BUNDLE names the sandbox CA
    assert out.exit_code == 0, out.stderr
    assert "CA file" in loads
