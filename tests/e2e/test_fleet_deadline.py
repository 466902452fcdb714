"""A fleet's slow site ends at its own ``--timeout`` even when it trickles.

Each profile of a fleet is served in a worker thread, where no timer signal
can interrupt a request. One site here answers ``GET /api/v4/tasks`` one byte
every 0.2 s (the hostile server's ``trickle_body``): every socket read
succeeds well within the per-operation timeout, so only a bound on the whole
request can stop it, and the whole answer would take far longer than these
tests wait for the CLI. The CLI is a separate process (``python -m vrgtask``)
bounded by a generous subprocess timeout; nothing measures durations.

What is proved: the trickling profile is one ``Error: profile NAME: ... timed
out ... --timeout`` line, the exit code is the timeout's (9, the worst of the
fleet), and the other profiles' rows are printed in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import Outcome, run_process

from vrgtask.sandbox import Emulator, MemoryStore, seed_state
from vrgtask.sandbox.server import SandboxServer

from .hostile_server import Behaviour, HostileServer

pytestmark = pytest.mark.e2e

TASKS = r"^/api/v4/tasks$"
#: Far longer than a working fix needs (about a second per profile), far
#: shorter than the trickled answer would take (minutes).
PROCESS_TIMEOUT = 120.0
HEALTHY = ("site-1", "site-2")


@dataclass
class Sites:
    servers: dict[str, SandboxServer]
    trickle: HostileServer
    bundle: Path

    def config(self, path: Path, *, trickle_timeout: float | None = None) -> Path:
        lines: list[str] = []
        hosts = {name: server.host for name, server in self.servers.items()}
        hosts["trickle"] = self.trickle.host
        for name, host in hosts.items():
            lines += [f"[profile.{name}]", f'host = "{host}"', 'username = "admin"']
            lines += ['password = "sandbox"']
            if name == "trickle" and trickle_timeout is not None:
                lines.append(f"timeout = {trickle_timeout:g}")
            lines.append("")
        path.write_text("\n".join(lines), encoding="utf-8")
        path.chmod(0o600)
        return path

    def env(self, config: Path, home: Path) -> dict[str, str]:
        return {
            "VRGTASK_CONFIG": str(config),
            "REQUESTS_CA_BUNDLE": str(self.bundle),
            "CURL_CA_BUNDLE": str(self.bundle),
            "HOME": str(home),
            "NO_COLOR": "1",
        }


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    root = tmp_path_factory.mktemp("fleet-deadline")
    (root / "trickle").mkdir()
    trickle = HostileServer(root / "trickle")
    servers: dict[str, SandboxServer] = {}
    try:
        for name in HEALTHY:
            server = SandboxServer(Emulator(MemoryStore(seed_state())), ca_dir=root / name)
            servers[name] = server.start()
        pems = [s.ca_pem_path.read_text() for s in servers.values() if s.ca_pem_path]
        bundle = root / "bundle.pem"
        bundle.write_text("".join([*pems, trickle.ca_path.read_text()]), encoding="utf-8")
        with trickle.running():
            yield Sites(servers, trickle, bundle)
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def trickling(sites: Sites) -> Sites:
    """The trickle site with an empty log, trickling its task list."""
    sites.trickle.behaviours.clear()
    sites.trickle.seen.clear()
    sites.trickle.add(
        Behaviour("trickle_body", method="GET", path=TASKS, interval=0.2, max_bytes=1_000_000)
    )
    return sites


def error_lines(result: Outcome) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def test_a_trickling_site_ends_at_its_timeout_and_the_others_print(
    trickling: Sites, tmp_path: Path
) -> None:
    env = trickling.env(trickling.config(tmp_path / "config.toml"), tmp_path)
    result = run_process(
        "-A", "--timeout", "1", "-o", "json", "task", "list", env=env, timeout=PROCESS_TIMEOUT
    )
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    assert [r["profile"] for r in rows] == [p for p in HEALTHY for _ in range(6)]
    (line,) = error_lines(result)
    assert line.startswith("Error: profile trickle: ")
    assert "timed out" in line
    assert "--timeout (1 s" in line
    assert "Traceback" not in result.stderr
    assert result.exit_code == 9
    # The site did get the request (and only once: a timeout is not retried).
    assert len(trickling.trickle.requests("GET", TASKS)) == 1


def test_the_profiles_own_timeout_bounds_its_request(trickling: Sites, tmp_path: Path) -> None:
    """A timeout set in the trickling profile's section: the other profiles
    keep the default (30 s) and print their table."""
    config = trickling.config(tmp_path / "config.toml", trickle_timeout=1)
    env = trickling.env(config, tmp_path)
    result = run_process("-p", "trickle,site-1", "task", "list", env=env, timeout=PROCESS_TIMEOUT)
    header, rule, *table = result.stdout.splitlines()
    assert header.split()[:2] == ["Profile", "Key"]
    assert set(rule) == {"-", " "}
    assert [row.split()[0] for row in table] == ["site-1"] * 6
    (line,) = error_lines(result)
    assert line.startswith("Error: profile trickle: ")
    assert "--timeout (1 s" in line
    assert result.exit_code == 9
