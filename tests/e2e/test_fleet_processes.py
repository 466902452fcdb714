"""Fleets against separate ``vrgtask sandbox serve`` processes, with the CLI
itself a separate process (``python -m vrgtask``) reading a test config file
through VRGTASK_CONFIG: one server slowed by fault injection, one stopped.

Every child gets the default SIGINT handler back (pytest's may be inherited)
and runs in its own session; temporary directories are pytest's own and the
servers are stopped (SIGTERM, then kill) whatever happens.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import default_sigint, stop_server

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and signals")

START_TIMEOUT = 60.0
_LISTENING = re.compile(r"listening on https://127\.0\.0\.1:(?P<port>\d+)/")
_TRUST = re.compile(r"REQUESTS_CA_BUNDLE=(?P<ca>\S+)")


class Serve:
    """``python -m vrgtask sandbox serve --port 0`` in a child process."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.name = name
        self.ca_dir = workdir / f"ca-{name}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.ca = Path()

    def start(self) -> Serve:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vrgtask",
                "sandbox",
                "serve",
                "--port",
                "0",
                "--ca-dir",
                str(self.ca_dir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            preexec_fn=default_sigint,  # noqa: PLW1509 - only restores a signal handler
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + START_TIMEOUT
        text = ""
        while not (_LISTENING.search(text) and _TRUST.search(text)):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"sandbox {self.name} did not start: {text!r}"
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, f"sandbox {self.name} exited: {text!r}"
                text += chunk.decode()
        listening, trust = _LISTENING.search(text), _TRUST.search(text)
        assert listening is not None
        assert trust is not None
        self.port, self.ca = int(listening["port"]), Path(trust["ca"])
        return self

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def control(self, method: str, route: str, body: object = None) -> object:
        context = ssl.create_default_context(cafile=str(self.ca))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=30)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, f"/_sandbox/{route}", body=data)
            response = conn.getresponse()
            payload = response.read()
            assert response.status == 200, payload
            return json.loads(payload) if payload else None
        finally:
            conn.close()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_server(proc)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Serve]]:
    servers = {name: Serve(tmp_path, name) for name in ("east", "west", "slow", "stopped")}
    try:
        for server in servers.values():
            server.start()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def run_vrgtask(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vrgtask", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        preexec_fn=default_sigint,
    )


def test_served_fleet_rows_slow_site_and_stopped_site(
    served: dict[str, Serve], tmp_path: Path
) -> None:
    served["slow"].control("POST", "faults", {"delay": 0.5, "times": None})
    served["stopped"].stop()
    config = tmp_path / "config.toml"
    config.write_text(
        "".join(
            f'[profile.{name}]\nhost = "{server.host}"\ntoken = "sandbox-token"\n'
            for name, server in served.items()
        ),
        encoding="utf-8",
    )
    config.chmod(0o600)
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(
        "".join(s.ca.read_text() for n, s in served.items() if n != "stopped"), encoding="utf-8"
    )
    env = {
        **os.environ,
        "VRGTASK_CONFIG": str(config),
        "REQUESTS_CA_BUNDLE": str(bundle),
        "CURL_CA_BUNDLE": str(bundle),
        "HOME": str(tmp_path),
        "NO_COLOR": "1",
    }
    for name in ("VERGE_HOST", "VERGE_TOKEN", "VERGE_PROFILE", "VERGE_USERNAME"):
        env.pop(name, None)

    result = run_vrgtask("-A", "-o", "json", "task", "list", env=env)
    rows = json.loads(result.stdout)
    assert sorted({r["profile"] for r in rows}) == ["east", "slow", "west"]
    assert all(sum(r["profile"] == p for r in rows) == 6 for p in ("east", "slow", "west"))
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("Error: profile stopped: ")
    assert result.returncode == 10

    # The slow site answered every request of the run after its delay.
    log = served["slow"].control("GET", "log")
    assert isinstance(log, list)
    assert len(log) >= 2

    table = run_vrgtask("-p", "east,west", "script", "list", env=env)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[0] == "Profile"
