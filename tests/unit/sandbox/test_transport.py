"""The in-process transport: the real pyvergeos over SandboxAdapter, no socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pyvergeos import VergeClient
from pyvergeos.exceptions import AuthenticationError, NotFoundError, ValidationError

from vrgtask.sandbox import Emulator, FileStore, MemoryStore
from vrgtask.sandbox.log import RequestLog
from vrgtask.sandbox.transport import SandboxAdapter, sandbox_session


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the in-process transport opened a socket")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def client(no_sockets: None, log: RequestLog) -> Iterator[VergeClient]:
    session = requests.Session()
    session.mount("https://", SandboxAdapter(Emulator(MemoryStore()), log))
    client = VergeClient(host="sandbox", username="admin", password="sandbox", session=session)
    yield client
    client.disconnect()


def test_sdk_lists_seeded_tasks_in_process(client: VergeClient, log: RequestLog) -> None:
    assert client.is_connected
    assert client.version == "26.1.2"
    assert client.cloud_name == "vrgtask-sandbox"
    tasks = client.tasks.list()
    assert [t.name for t in tasks] == [
        "nightly-snapshot",
        "power-on-dev",
        "tenant-poweroff",
        "reset-dmz",
        "weekly-cleanup",
        "check-for-updates",
    ]
    assert tasks[0].owner_display == "web-01"
    assert tasks[0].trigger_count == 1
    entries = log.entries()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/api/v4/system", 200),
        ("GET", "/api/v4/tasks", 200),
    ]
    assert entries[0]["query"] == "fields=%24key%2Cyb_version%2Cos_version%2Ccloud_name"
    assert entries[1]["bytes"] > 100
    assert entries[1]["ms"] >= 0
    assert log.count("get", "/api/v4/tasks") == 1
    assert log.count(path_prefix="/api/") == 2
    log.clear()
    assert log.entries() == []


def test_sdk_errors_in_process(client: VergeClient) -> None:
    with pytest.raises(NotFoundError):
        client.tasks.get(99)
    with pytest.raises(ValidationError, match="Invalid argument"):
        client.tasks.list(filter="name like 'x'")
    task = client.tasks.create("in-process", 2, "snapshot", table="vms")
    assert task.owner_display == "db-01"
    assert client.tasks.get(name="in-process").key == task.key


def test_wrong_password_in_process(no_sockets: None) -> None:
    session = sandbox_session(Emulator(MemoryStore()))
    with pytest.raises(AuthenticationError, match="Invalid credentials"):
        VergeClient(host="sandbox", username="admin", password="nope", session=session)


def test_response_object(no_sockets: None) -> None:
    session = sandbox_session(Emulator(MemoryStore()))
    response = session.get(
        "https://anything/api/v4/tasks/1", headers={"Authorization": "Bearer sandbox-token"}
    )
    assert response.status_code == 200
    assert response.reason == "OK"
    assert response.headers["content-type"] == "application/json"
    assert response.encoding == "utf-8"
    assert response.json()["name"] == "nightly-snapshot"
    assert response.url == "https://anything/api/v4/tasks/1"
    assert response.request is not None
    assert response.request.method == "GET"
    missing = session.delete(
        "https://anything/api/v4/tasks/99", headers={"Authorization": "Bearer sandbox-token"}
    )
    assert (missing.status_code, missing.reason) == (404, "Not Found")
    deleted = session.delete(
        "https://x/api/v4/tasks/4", headers={"Authorization": "Bearer sandbox-token"}
    )
    assert (deleted.status_code, deleted.content, deleted.text) == (200, b"", "")


def test_file_backed_session_shares_state(no_sockets: None, tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = VergeClient(
        host="s", token="sandbox-token", session=sandbox_session(Emulator(FileStore(path)))
    )
    key = first.tasks.create("shared", 1, "reset", table="vms").key
    second = VergeClient(
        host="s", token="sandbox-token", session=sandbox_session(Emulator(FileStore(path)))
    )
    assert second.tasks.get(key).name == "shared"
