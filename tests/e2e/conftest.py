"""End-to-end fixtures: the sandbox over real HTTPS on 127.0.0.1.

``sandbox_server`` (one per session) serves a fresh in-memory seed with a
throw-away trustme CA. ``sandbox`` gives each test that server reseeded, with
an empty request log and no fault rules. ``sdk_client`` is a real
``pyvergeos.VergeClient`` verifying TLS against the sandbox CA;
``sandbox_env`` points the VERGE_* variables at the server for CLI runs.

The machine exports ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, and requests
lets them override a session's ``verify``: both are pointed at the sandbox CA
(per test, through monkeypatch) so that verification stays on and succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from vrgtask.sandbox import (
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    Emulator,
    MemoryStore,
    seed_state,
)
from vrgtask.sandbox.server import SandboxServer

if TYPE_CHECKING:
    from pyvergeos import VergeClient


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """The HTTPS sandbox, shared by the whole session.

    Its CA lives under pytest's own temporary folder, so nothing is left in
    the system's temporary folder even when the run is killed.
    """
    ca_dir = tmp_path_factory.mktemp("sandbox-ca")
    server = SandboxServer(Emulator(MemoryStore(seed_state())), ca_dir=ca_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The shared server, reseeded, with an empty log and no faults."""
    sandbox_server.faults.clear()
    # A request a previous test left waiting on a delay fault must not land here.
    assert sandbox_server.wait_idle(timeout=30), "a sandbox request is stuck"
    sandbox_server.emulator.reset()
    sandbox_server.log.clear()
    return sandbox_server


@pytest.fixture
def trust_sandbox(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """Make requests (and so pyvergeos) trust the sandbox CA, verification on."""
    assert sandbox.ca_pem_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_pem_path))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(sandbox.ca_pem_path))
    return sandbox


@pytest.fixture
def sdk_client(trust_sandbox: SandboxServer) -> Iterator[VergeClient]:
    """A connected pyvergeos client (admin) over HTTPS, TLS verified."""
    from pyvergeos import VergeClient

    client = VergeClient(
        host=trust_sandbox.host,
        username=SANDBOX_USERNAME,
        password=SANDBOX_PASSWORD,
        retry_total=0,
        timeout=10,
    )
    try:
        yield client
    finally:
        client.disconnect()


@pytest.fixture
def sandbox_env(trust_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """VERGE_HOST/USERNAME/PASSWORD pointing at the sandbox (for CLI runs)."""
    monkeypatch.setenv("VERGE_HOST", trust_sandbox.host)
    monkeypatch.setenv("VERGE_USERNAME", SANDBOX_USERNAME)
    monkeypatch.setenv("VERGE_PASSWORD", SANDBOX_PASSWORD)
    return trust_sandbox
