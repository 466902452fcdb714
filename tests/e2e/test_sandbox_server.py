"""The HTTPS sandbox server: control endpoints, fault injection, TLS, life cycle."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest
import requests
import trustme
from pyvergeos import VergeClient
from pyvergeos.exceptions import APIError, VergeConnectionError, VergeTimeoutError
from support import spawn

import vrgtask
from vrgtask.sandbox import Emulator, FileStore, MemoryStore, SandboxError, state_digest
from vrgtask.sandbox.faults import INVALID_JSON_BODY
from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:sandbox").decode()}
SHORT: Any = 0.2  # a client timeout (seconds); the SDK annotates it as int
LOG_KEYS = {"method", "path", "query", "status", "bytes", "ms", "at"}


@pytest.fixture
def web(trust_sandbox: SandboxServer) -> Iterator[requests.Session]:
    """A plain requests session trusting the sandbox CA (no retries)."""
    with requests.Session() as session:
        yield session


def control(
    session: requests.Session, server: SandboxServer, method: str, route: str, body: Any = None
) -> Any:
    response = session.request(method, f"{server.url}/_sandbox/{route}", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def digest(session: requests.Session, server: SandboxServer) -> str:
    value = control(session, server, "GET", "digest")["digest"]
    assert isinstance(value, str)
    return value


def client(server: SandboxServer, **kwargs: Any) -> VergeClient:
    return VergeClient(
        host=server.host, username="admin", password="sandbox", retry_total=0, **kwargs
    )


# ---------------------------------------------------------------------------
# Control endpoints and the request log


def test_request_log_entries(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    sdk = client(trust_sandbox)
    sdk.tasks.get(name="reset-dmz")
    entries = control(web, trust_sandbox, "GET", "log")
    assert [e["path"] for e in entries] == ["/api/v4/system", "/api/v4/tasks"]
    assert all(set(e) == LOG_KEYS for e in entries)
    entry = entries[1]
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["ms"] >= 0
    assert "filter=%28name+eq+%27reset-dmz%27%29" in entry["query"]
    assert "limit=1" in entry["query"]
    body = web.get(f"{trust_sandbox.url}/api/v4/tasks?{entry['query']}", headers=ADMIN).content
    assert entry["bytes"] == len(body)
    # Control requests are never logged; the log is the same object the server exposes.
    assert trust_sandbox.log.count() == 3
    assert trust_sandbox.log.count("GET", "/api/v4/tasks") == 2
    control(web, trust_sandbox, "DELETE", "log")
    assert control(web, trust_sandbox, "GET", "log") == []


def test_digest_state_and_reset(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    state = control(web, trust_sandbox, "GET", "state")
    assert state["tables"]["users"]["1"]["_password"] == "sandbox"
    assert digest(web, trust_sandbox) == state_digest(state)
    client(trust_sandbox).tasks.delete(1)
    changed = digest(web, trust_sandbox)
    assert changed != state_digest(state)
    after = control(web, trust_sandbox, "POST", "reset")
    assert after["digest"] == state_digest(state) == digest(web, trust_sandbox)
    control(web, trust_sandbox, "POST", "reset", {"tasks": 20})
    assert len(control(web, trust_sandbox, "GET", "state")["tables"]["tasks"]) == 26
    for bad in ({"tasks": -1}, {"tasks": "5"}, [1]):
        assert web.post(f"{trust_sandbox.url}/_sandbox/reset", json=bad).status_code == 400
    assert web.get(f"{trust_sandbox.url}/_sandbox/nope").status_code == 404
    assert web.post(f"{trust_sandbox.url}/_sandbox/digest").status_code == 404


def test_name_lookup_on_ten_thousand_tasks_over_https(
    trust_sandbox: SandboxServer, web: requests.Session, record_property: Any
) -> None:
    control(web, trust_sandbox, "POST", "reset", {"tasks": 10_000})
    sdk = client(trust_sandbox)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        task = sdk.tasks.get(name="bulk-task-09999")
        best = min(best, time.perf_counter() - started)
    assert task.key == 10_005
    assert task.owner_display == "web-01"
    record_property("https_name_lookup_ms", round(best * 1000, 2))
    assert best < 0.5, f"{best * 1000:.1f} ms"


# ---------------------------------------------------------------------------
# Faults


def test_fault_rules_management(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    rules = control(web, trust_sandbox, "POST", "faults", {"path": "^/api/v4/tasks", "status": 503})
    assert rules == [
        {
            "method": None,
            "path": "^/api/v4/tasks",
            "query": None,
            "status": 503,
            "delay": 0.0,
            "drop": False,
            "invalid_json": False,
            "times": None,
        }
    ]
    rules = control(
        web,
        trust_sandbox,
        "POST",
        "faults",
        [{"drop": True, "method": "put"}, {"delay": 0.1, "times": 2}],
    )
    assert [(r["method"], r["drop"], r["times"]) for r in rules[1:]] == [
        ("PUT", True, None),
        (None, False, 2),
    ]
    for bad in (
        {"status": 99},
        {"status": "500"},
        {"delay": -1},
        {"times": 0},
        {"path": "("},
        {"colour": "red", "status": 500},
        {"path": "x"},  # no effect at all
        [{"status": 500}, {"drop": "yes"}],  # one bad rule: none added
        "text",
    ):
        response = web.post(f"{trust_sandbox.url}/_sandbox/faults", json=bad)
        assert response.status_code == 400, bad
        assert "err" in response.json()
    assert len(control(web, trust_sandbox, "GET", "faults")) == 3
    assert control(web, trust_sandbox, "DELETE", "faults") == []
    assert len(trust_sandbox.faults) == 0


def test_status_fault_short_circuits_and_is_logged(
    trust_sandbox: SandboxServer, web: requests.Session
) -> None:
    sdk = client(trust_sandbox)
    before = digest(web, trust_sandbox)
    control(
        web,
        trust_sandbox,
        "POST",
        "faults",
        {"method": "POST", "path": "^/api/v4/tasks$", "status": 418, "times": 1},
    )
    with pytest.raises(APIError, match="injected HTTP 418") as raised:
        sdk.tasks.create("never", 1, "reset", table="vms")
    assert raised.value.status_code == 418
    assert digest(web, trust_sandbox) == before  # the emulator was not called
    assert control(web, trust_sandbox, "GET", "faults") == []  # times=1 used up
    created = sdk.tasks.create("second try", 1, "reset", table="vms")
    assert created.key == 7
    statuses = [
        (e["method"], e["status"])
        for e in trust_sandbox.log.entries()
        if e["path"] == "/api/v4/tasks"
    ]
    assert statuses == [("POST", 418), ("POST", 201)]


def test_status_fault_with_a_body(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    control(
        web,
        trust_sandbox,
        "POST",
        "faults",
        [
            {
                "path": "^/api/v4/tasks/1$",
                "status": 503,
                "body": {"err": "maintenance"},
                "times": 1,
            },
            {
                "path": "^/api/v4/tasks/2$",
                "status": 502,
                "body": "<html>bad gateway</html>",
                "times": 1,
            },
        ],
    )
    first = web.get(f"{trust_sandbox.url}/api/v4/tasks/1", headers=ADMIN)
    assert (first.status_code, first.json()) == (503, {"err": "maintenance"})
    second = web.get(f"{trust_sandbox.url}/api/v4/tasks/2", headers=ADMIN)
    assert (second.status_code, second.text) == (502, "<html>bad gateway</html>")
    assert web.get(f"{trust_sandbox.url}/api/v4/tasks/1", headers=ADMIN).status_code == 200


def test_query_and_method_matching(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    sdk = client(trust_sandbox)
    control(
        web,
        trust_sandbox,
        "POST",
        "faults",
        {"method": "PUT", "query": "action=execute", "status": 507, "body": {"err": "engine down"}},
    )
    with pytest.raises(APIError, match="engine down"):
        sdk.tasks.execute(1)
    with pytest.raises(APIError, match="engine down"):
        sdk.tasks.execute(2)  # times: null applies forever
    assert sdk.tasks.cancel(1).is_complete  # another action: not matched
    assert sdk.tasks.get(1).is_complete


def test_drop_closes_the_connection(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    sdk = client(trust_sandbox)
    before = digest(web, trust_sandbox)
    control(
        web,
        trust_sandbox,
        "POST",
        "faults",
        {"method": "PUT", "path": "^/api/v4/tasks/1$", "drop": True, "times": 1},
    )
    with pytest.raises(VergeConnectionError):
        sdk.tasks.disable(1)
    assert digest(web, trust_sandbox) == before
    assert sdk.tasks.disable(1).is_enabled is False
    puts = [e for e in trust_sandbox.log.entries() if e["method"] == "PUT"]
    assert [(e["status"], e["bytes"]) for e in puts] == [(0, 0), (200, 2)]


def test_invalid_json(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    sdk = client(trust_sandbox)
    control(
        web,
        trust_sandbox,
        "POST",
        "faults",
        {"path": "^/api/v4/task_schedules$", "invalid_json": True, "times": 1},
    )
    with pytest.raises(requests.exceptions.JSONDecodeError):
        sdk.task_schedules.list()
    assert len(sdk.task_schedules.list()) == 4
    raw = web.get(f"{trust_sandbox.url}/api/v4/tasks", headers=ADMIN)
    assert raw.status_code == 200
    control(
        web,
        trust_sandbox,
        "POST",
        "faults",
        {"path": "^/api/v4/tasks$", "invalid_json": True, "status": 201},
    )
    broken = web.get(f"{trust_sandbox.url}/api/v4/tasks", headers=ADMIN)
    assert (broken.status_code, broken.content) == (201, INVALID_JSON_BODY)


def test_delay_makes_the_client_time_out(
    trust_sandbox: SandboxServer, web: requests.Session
) -> None:
    control(
        web, trust_sandbox, "POST", "faults", {"path": "^/api/v4/tasks$", "delay": 0.6, "times": 1}
    )
    with pytest.raises(requests.exceptions.ReadTimeout):
        web.get(f"{trust_sandbox.url}/api/v4/tasks", headers=ADMIN, timeout=0.2)
    fault = {"path": "^/api/v4/tasks/1$", "delay": 0.6, "times": 1}
    # The SDK's own retrying adapter wraps a read timeout in MaxRetryError, which
    # requests reports as a ConnectionError: VergeConnectionError, not VergeTimeoutError.
    sdk = client(trust_sandbox, timeout=SHORT)
    control(web, trust_sandbox, "POST", "faults", fault)
    with pytest.raises(VergeConnectionError, match="Read timed out"):
        sdk.tasks.get(1)
    # Through a caller's plain session (as vrgtask passes its own), it is a timeout.
    plain = VergeClient(
        host=trust_sandbox.host, token="sandbox-token", session=requests.Session(), timeout=SHORT
    )
    control(web, trust_sandbox, "POST", "faults", fault)
    with pytest.raises(VergeTimeoutError):
        plain.tasks.get(1)


def test_pure_delay_then_answers(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    control(web, trust_sandbox, "POST", "faults", {"method": "POST", "delay": 0.15, "times": 1})
    started = time.perf_counter()
    key = client(trust_sandbox).tasks.create("slow", 1, "reset", table="vms").key
    assert time.perf_counter() - started >= 0.15
    assert key == 7
    post = next(e for e in trust_sandbox.log.entries() if e["method"] == "POST")
    assert post["status"] == 201
    assert post["ms"] >= 150


# ---------------------------------------------------------------------------
# HTTP and TLS


def test_keep_alive_and_content_length(trust_sandbox: SandboxServer) -> None:
    assert trust_sandbox.ca_pem_path is not None
    context = ssl.create_default_context(cafile=str(trust_sandbox.ca_pem_path))
    conn = http.client.HTTPSConnection("127.0.0.1", trust_sandbox.port, context=context, timeout=10)
    try:
        sockets = set()
        for path in ("/api/v4/tasks/1", "/api/v4/vms", "/nowhere", "/api/v4/tasks/4"):
            conn.request("DELETE" if path.endswith("/4") else "GET", path, headers=ADMIN)
            response = conn.getresponse()
            body = response.read()
            assert response.getheader("Content-Length") == str(len(body))
            assert response.getheader("Content-Type") == "application/json"
            assert response.version == 11
            sockets.add(id(conn.sock))
        assert len(sockets) == 1  # one connection for every request
        conn.request("HEAD", "/api/v4/tasks", headers=ADMIN)
        response = conn.getresponse()
        assert (response.status, response.read()) == (405, b"")
    finally:
        conn.close()
    assert [e["status"] for e in trust_sandbox.log.entries()] == [200, 200, 404, 200, 405]


def test_chunked_request_body(trust_sandbox: SandboxServer, web: requests.Session) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"name": "chunked", "owner": '
        yield b'"vms/1", "action": "reset"}'

    response = web.post(f"{trust_sandbox.url}/api/v4/tasks", data=body(), headers=ADMIN)
    assert response.status_code == 201, response.text
    assert web.get(f"{trust_sandbox.url}/api/v4/tasks/7", headers=ADMIN).json()["name"] == "chunked"


def test_listens_on_loopback_only_with_its_own_ca(sandbox: SandboxServer) -> None:
    assert sandbox.host == f"127.0.0.1:{sandbox.port}"
    assert sandbox.url == f"https://{sandbox.host}"
    assert sandbox._httpd is not None
    assert sandbox._httpd.server_address[0] == "127.0.0.1"
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{sandbox.url}/_sandbox/digest", verify=certifi.where(), timeout=10)
    assert sandbox.ca_pem_path is not None
    ok = requests.get(f"{sandbox.url}/_sandbox/digest", verify=str(sandbox.ca_pem_path), timeout=10)
    assert ok.status_code == 200


def test_own_certificate_and_ca_dir(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with SandboxServer(Emulator(MemoryStore()), certfile=cert, keyfile=key) as server:
        assert server.ca_pem_path is None
        response = requests.get(
            f"{server.url}/_sandbox/log", verify=str(tmp_path / "ca.pem"), timeout=10
        )
        assert response.json() == []
    with SandboxServer(Emulator(MemoryStore()), ca_dir=tmp_path / "ca") as server:
        assert server.ca_pem_path == tmp_path / "ca" / "sandbox-ca.pem"
        assert requests.get(
            f"{server.url}/_sandbox/log", verify=str(server.ca_pem_path), timeout=10
        ).ok
    assert (tmp_path / "ca" / "sandbox-ca.pem").exists()  # a given directory is kept


def test_missing_trustme_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trustme", None)
    server = SandboxServer(Emulator(MemoryStore()))
    with pytest.raises(SandboxError, match=r"pipx inject vrgtask trustme.*vrgtask\[sandbox\]"):
        server.start()
    assert not server.running


def test_context_manager_and_stop(tmp_path: Path) -> None:
    with SandboxServer(Emulator(MemoryStore())) as server:
        assert server.running
        assert server.ca_pem_path is not None
        ca, url = server.ca_pem_path, server.url
        session = requests.Session()
        assert session.get(f"{url}/_sandbox/log", verify=str(ca), timeout=10).ok
    assert not server.running
    assert not ca.exists()
    with pytest.raises(SandboxError):
        server.port  # noqa: B018
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"{url}/_sandbox/log", verify=False, timeout=5)
    session.close()


def test_emulator_failures_become_500(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{corrupt")
    with SandboxServer(Emulator(FileStore(path))) as server:
        assert server.ca_pem_path is not None
        response = requests.get(
            f"{server.url}/api/v4/tasks", headers=ADMIN, verify=str(server.ca_pem_path), timeout=10
        )
    assert response.status_code == 500
    assert str(path) in response.json()["err"]
    assert "vrgtask sandbox reset" in response.json()["err"]
    assert path.read_text() == "{corrupt"


SERVE = textwrap.dedent(
    """
    from vrgtask.sandbox import Emulator, MemoryStore
    from vrgtask.sandbox.server import SandboxServer
    server = SandboxServer(Emulator(MemoryStore()))
    server.start()
    print(server.port, server.ca_pem_path, flush=True)
    server.serve_forever()
    print("stopped", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery")
def test_serve_forever_stops_cleanly_on_ctrl_c() -> None:
    root = Path(vrgtask.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    with spawn(
        [sys.executable, "-c", SERVE], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        port, ca = proc.stdout.readline().split()
        response = requests.get(
            f"https://127.0.0.1:{port}/api/v4/tasks", headers=ADMIN, verify=ca, timeout=10
        )
        assert len(response.json()) == 6
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        # Checked before spawn() removes the child's scratch TMPDIR.
        ca_left_behind = Path(ca).exists()
    assert proc.returncode == 0, err
    assert out.strip() == "stopped"
    assert "Traceback" not in err
    assert not ca_left_behind
    assert json.loads(response.text)[0]["name"] == "nightly-snapshot"
