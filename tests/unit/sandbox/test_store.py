"""State stores (vrgtask.sandbox.store): first use, corruption, atomicity, locking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from support import CHILD_KWARGS

import vrgtask
from vrgtask.sandbox import (
    Emulator,
    FileStore,
    MemoryStore,
    SandboxStateError,
    default_state_path,
    seed_state,
    state_digest,
)
from vrgtask.sandbox.seed import STATE_VERSION

from .sandbox_api import Api, FakeClock

REPO_ROOT = Path(vrgtask.__file__).resolve().parents[1]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "vrgtask" / "sandbox.json"


def file_api(path: Path, clock: FakeClock | None = None) -> Api:
    return Api(Emulator(FileStore(path), clock=clock or FakeClock()))


def test_default_state_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VRGTASK_SANDBOX_STATE", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_path() == tmp_path / "home" / ".local/share/vrgtask/sandbox.json"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_state_path() == tmp_path / "xdg" / "vrgtask" / "sandbox.json"
    monkeypatch.setenv("VRGTASK_SANDBOX_STATE", str(tmp_path / "explicit.json"))
    assert default_state_path() == tmp_path / "explicit.json"


def test_first_use_creates_the_directory_and_writes_the_seed(path: Path) -> None:
    assert not path.parent.exists()
    assert len(file_api(path).rows("tasks")) == 6
    assert state_digest(json.loads(path.read_bytes())) == state_digest(seed_state())


def test_writes_persist_and_reads_do_not_rewrite(path: Path) -> None:
    api = file_api(path)
    key = api.create("tasks", {"name": "kept", "owner": "vms/1", "action": "reset"})
    before = path.stat()
    assert file_api(path).row(f"tasks/{key}")["name"] == "kept"  # another store object
    after = path.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert api.put(f"tasks/{key}", {"name": "x"}).status == 200
    assert path.stat().st_ino != before.st_ino  # replaced by rename


def test_runs_are_materialised_across_processes_from_timestamps(path: Path) -> None:
    clock = FakeClock(1_000.0)
    file_api(path, clock).action("tasks/1", "execute", {"params": {"sandbox_duration": 4}})
    assert file_api(path, clock).row("tasks/1", fields="status") == {"status": "idle"}  # queued
    clock.advance(3)
    assert file_api(path, clock).row("tasks/1", fields="status,last_run") == {
        "status": "running",
        "last_run": 1_001,
    }
    clock.advance(2)
    assert file_api(path, clock).row("tasks/1", fields="status,last_run") == {
        "status": "idle",
        "last_run": 1_001,
    }
    stored = json.loads(path.read_bytes())["tables"]["tasks"]["1"]
    assert stored["status"] == "idle"
    assert "_run" not in stored


CORRUPT = [
    b"{not json",
    b"",
    b"\xff\xfe\x00garbage",
    b"[]",
    b'"text"',
    json.dumps({"version": STATE_VERSION + 1, "tables": {}, "next_key": {}}).encode(),
    json.dumps({"version": STATE_VERSION, "tables": {"tasks": {}}, "next_key": {}}).encode(),
    json.dumps({**seed_state(), "tables": {**seed_state()["tables"], "tasks": []}}).encode(),
    json.dumps({**seed_state(), "next_key": {**seed_state()["next_key"], "tasks": "6"}}).encode(),
]


@pytest.mark.parametrize("content", CORRUPT)
def test_corrupt_file_is_reported_and_left_untouched(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    store = FileStore(path)
    with pytest.raises(SandboxStateError) as raised, store.transaction():
        pass
    message = str(raised.value)
    assert str(path) in message
    assert "vrgtask sandbox reset" in message
    with pytest.raises(SandboxStateError):
        Emulator(store).handle(
            "GET", "/api/v4/tasks", "", {"Authorization": "Bearer sandbox-token"}, b""
        )
    with pytest.raises(SandboxStateError):
        store.status()
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == ["sandbox.json", "sandbox.json.lock"]


def test_unreadable_file(path: Path) -> None:
    path.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(SandboxStateError, match="unreadable"), FileStore(path).transaction():
        pass


def test_unusable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = FileStore(blocker / "sub" / "sandbox.json")
    with pytest.raises(SandboxStateError, match="cannot create the sandbox state directory"):
        file_api(store.path).get("tasks")
    with pytest.raises(SandboxStateError, match="VRGTASK_SANDBOX_STATE"):
        store.reset()


def test_reset_over_a_corrupt_file(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{broken")
    store = FileStore(path)
    store.reset(extra_tasks=3)
    state = json.loads(path.read_bytes())
    assert state_digest(state) == state_digest(seed_state(3))
    assert len(file_api(path).rows("tasks")) == 9


def test_crash_while_writing_leaves_the_previous_file(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = file_api(path)
    api.create("tasks", {"name": "before", "owner": "vms/1", "action": "reset"})
    previous = path.read_bytes()

    def crash(src: Any, dst: Any) -> None:
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(SandboxStateError, match=r"simulated crash.*keeps its previous content"):
        api.post("tasks", {"name": "lost", "owner": "vms/1", "action": "reset"})
    monkeypatch.undo()
    assert path.read_bytes() == previous
    assert [t["name"] for t in json.loads(previous)["tables"]["tasks"].values()][-1] == "before"
    assert sorted(p.name for p in path.parent.iterdir()) == ["sandbox.json", "sandbox.json.lock"]
    # The next transaction reads the intact file and works.
    assert len(api.rows("tasks")) == 7


def test_status(path: Path) -> None:
    store = FileStore(path)
    assert store.status() == {
        "path": str(path),
        "exists": False,
        "size": 0,
        "counts": {},
        "digest": None,
    }
    assert not path.parent.exists()  # status creates nothing
    store.reset(extra_tasks=2)
    status = store.status()
    assert status["exists"] is True
    assert status["size"] == path.stat().st_size
    assert status["counts"]["tasks"] == 8
    assert status["counts"]["task_schedules"] == 4
    assert status["digest"] == state_digest(json.loads(path.read_bytes()))


def test_memory_store_reset_is_in_place() -> None:
    store = MemoryStore()
    state = store.state
    api = Api(Emulator(store, clock=FakeClock()))
    api.create("tasks", {"name": "x", "owner": "vms/1", "action": "reset"})
    store.reset(extra_tasks=1)
    assert store.state is state
    assert [t["name"] for t in api.rows("tasks")][-1] == "bulk-task-00001"
    with pytest.raises(SandboxStateError):
        MemoryStore({"version": 0})


WRITER = textwrap.dedent(
    """
    import base64, json, sys
    from vrgtask.sandbox import Emulator, FileStore
    auth = "Basic " + base64.b64encode(b"admin:sandbox").decode()
    body = json.dumps({"name": sys.argv[2], "owner": "vms/1", "action": "reset"}).encode()
    reply = Emulator(FileStore(sys.argv[1])).handle(
        "POST", "/api/v4/tasks", "", {"Authorization": auth}, body
    )
    print(reply.status)
    """
)


def test_concurrent_writer_processes(path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *sys.path])}
    # No state file yet: the writers also race for the first-use seed.
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"writer-{i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **CHILD_KWARGS,
        )
        for i in range(8)
    ]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [
        (proc.returncode, out.strip()) for proc, (out, _err) in zip(procs, results, strict=True)
    ] == [(0, "201")] * 8, [e for _o, e in results]
    state = json.loads(path.read_bytes())
    tasks = state["tables"]["tasks"]
    assert sorted(t["name"] for t in tasks.values() if t["name"].startswith("writer-")) == [
        f"writer-{i}" for i in range(8)
    ]
    assert len(tasks) == 6 + 8
    assert sorted(int(k) for k in tasks) == list(range(1, 15))
    assert state["next_key"]["tasks"] == 15


def test_reads_during_a_queued_or_running_run_do_not_rewrite(path: Path) -> None:
    clock = FakeClock(1_000.0)
    file_api(path, clock).action("tasks/1", "execute", {"params": {"sandbox_duration": 4}})
    before = path.stat()
    assert file_api(path, clock).row("tasks/1", fields="status") == {"status": "idle"}
    assert path.stat().st_ino == before.st_ino  # queued: nothing to write
    clock.advance(2)
    assert file_api(path, clock).row("tasks/1", fields="status") == {"status": "running"}
    started = path.stat()
    assert started.st_ino != before.st_ino  # the start was written (status, log entry)
    clock.advance(1)
    assert file_api(path, clock).row("tasks/1", fields="status") == {"status": "running"}
    assert path.stat().st_ino == started.st_ino
