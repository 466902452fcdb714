"""Durability of the in-process sandbox's state file (``--sandbox`` with
``VRGTASK_SANDBOX_STATE`` pointing at a temporary file).

* 8 concurrent ``vrgtask --sandbox task create`` processes lose nothing.
* A writer killed (SIGKILL) in the middle of its writes leaves a state file
  that parses and holds either the previous or the next complete state, never
  part of one; the CLI keeps working (the lock dies with the process).
* A corrupt state file is reported (exit 3, one line naming the file and
  ``vrgtask sandbox reset``), by reads and writes alike, and is never
  modified; ``vrgtask sandbox reset`` recovers. Corrupt includes consistent
  JSON that would lose data (a ``next_key`` at or below a key in use, a row
  under the wrong key) and a state nested too deeply to handle.
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from support import run_cli

from vrgtask.sandbox import FileStore, seed_state, state_digest
from vrgtask.sandbox.seed import check_state

pytestmark = pytest.mark.e2e

SEED_TASKS = len(seed_state()["tables"]["tasks"])
WRITERS = 8
#: Extra tasks in the state a killed writer rewrites: ~1.8 MB, tens of ms a write.
BIG = 5000
CLI = [sys.executable, "-m", "vrgtask"]
OWNER_ACTION = ["--owner", "vms/1", "--action", "poweron"]


@pytest.fixture
def state_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "sandbox" / "state.json"
    monkeypatch.setenv("VRGTASK_SANDBOX_STATE", str(path))
    return path


def load(path: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(path.read_bytes())
    return state


# -- concurrent writers -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("start", ["existing-state", "no-state-yet"])
def test_concurrent_writers_lose_nothing(state_path: Path, start: str) -> None:
    if start == "existing-state":
        FileStore(state_path).reset()
    procs = [
        subprocess.Popen(
            [*CLI, "--sandbox", "task", "create", "--name", f"w{i}", *OWNER_ACTION],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WRITERS)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr
        assert stdout.startswith("Created task 'w"), stdout

    state = load(state_path)
    assert check_state(state) is None
    tasks = state["tables"]["tasks"]
    made = {row["name"]: int(k) for k, row in tasks.items() if re.fullmatch(r"w\d", row["name"])}
    assert sorted(made) == [f"w{i}" for i in range(WRITERS)]
    assert len(set(made.values())) == WRITERS
    assert len(tasks) == SEED_TASKS + WRITERS
    assert state["next_key"]["tasks"] == SEED_TASKS + WRITERS + 1
    seed = seed_state()["tables"]["tasks"]
    assert {k: v for k, v in tasks.items() if k in seed} == seed  # nothing else touched
    listed = run_cli("--sandbox", "task", "list", "-q")
    assert listed.exit_code == 0, listed.stderr
    assert len(listed.stdout.split()) == SEED_TASKS + WRITERS


# -- a writer killed in the middle of its writes ------------------------------

#: Rewrites the whole state again and again, numbering each version; prints
#: the number of every version once it is committed. From the second version
#: on, "during-write" also prints "writing" when the temporary file is opened,
#: and "before-rename" stops just before the atomic rename (and is killed there).
WRITER = r"""
import os, sys, time
from vrgtask.sandbox import FileStore

store = FileStore(sys.argv[1])
mode = sys.argv[2]
real_open, real_replace = os.open, os.replace

def open_(path, *args, **kwargs):
    if mode == "during-write" and generation >= 2 and str(path).endswith(".tmp"):
        print("writing", flush=True)
    return real_open(path, *args, **kwargs)

def replace(src, dst):
    if mode == "before-rename" and generation == 2:
        print("renaming", flush=True)
        time.sleep(60)
    real_replace(src, dst)

os.open, os.replace = open_, replace
generation = 0
while True:
    generation += 1
    with store.transaction() as state:
        state["tables"]["tasks"]["1"]["description"] = f"generation {generation}"
        store.mark_changed()
    print(generation, flush=True)
"""

_rng = random.Random(20261126)  # reproducible "random" moments
#: (id, writer mode, line to wait for, seconds to wait after it before SIGKILL)
KILL_MOMENTS: list[tuple[str, str, str, float]] = [
    *[(f"random-{i}", "loop", r"\d+", round(_rng.uniform(0.0, 0.15), 3)) for i in range(1, 5)],
    *[(f"during-write-{i}", "during-write", "writing", d) for i, d in ((1, 0.0), (2, 0.001))],
    ("before-rename", "before-rename", "renaming", 0.0),
]


def read_until(proc: subprocess.Popen[bytes], until: str, timeout: float) -> bytes:
    """What the writer printed, up to a complete line matching ``until`` (bounded)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        complete = data[: data.rfind(b"\n") + 1].decode().splitlines()
        if any(re.fullmatch(until, line) for line in complete):
            return data
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    pytest.fail(f"the writer never printed {until!r}: {data!r}")


def generation_of(state: dict[str, Any]) -> int:
    text = state["tables"]["tasks"]["1"]["description"]
    if text == "Nightly snapshot of web-01":
        return 0
    match = re.fullmatch(r"generation (\d+)", text)
    assert match is not None, text
    return int(match.group(1))


def without_generation(state: dict[str, Any]) -> str:
    copy = json.loads(json.dumps(state))
    copy["tables"]["tasks"]["1"]["description"] = ""
    return state_digest(copy)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize(("mode", "signal_line", "delay"), [m[1:] for m in KILL_MOMENTS],
                         ids=[m[0] for m in KILL_MOMENTS])  # fmt: skip
def test_writer_killed_mid_write_leaves_a_complete_state(
    state_path: Path, mode: str, signal_line: str, delay: float
) -> None:
    hold = mode == "before-rename"
    FileStore(state_path).reset(extra_tasks=BIG)
    baseline = without_generation(load(state_path))
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(state_path), mode],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        printed = read_until(proc, signal_line, timeout=30)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        rest, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL, stderr
    committed = [int(n) for n in (printed + rest).decode().split() if n.isdigit()]
    last = max(committed, default=0)

    state = load(state_path)  # parses: never a partial file
    assert check_state(state) is None
    assert len(state["tables"]["tasks"]) == SEED_TASKS + BIG
    allowed = {last} if hold else {last, last + 1}  # the old or the new version
    assert generation_of(state) in allowed, (generation_of(state), last)
    assert without_generation(state) == baseline  # and every other row complete

    # The lock died with the writer: the CLI reads and writes again.
    listed = run_cli("--sandbox", "task", "list", "-q")
    assert listed.exit_code == 0, listed.stderr
    assert len(listed.stdout.split()) == SEED_TASKS + BIG
    made = run_cli("--sandbox", "task", "create", "--name", "after-kill", *OWNER_ACTION)
    assert made.exit_code == 0, made.stderr
    assert len(load(state_path)["tables"]["tasks"]) == SEED_TASKS + BIG + 1


# -- corrupt state files ------------------------------------------------------


def _truncated() -> bytes:
    data = json.dumps(seed_state()).encode()
    return data[: len(data) // 2]


def _with(change: str, depth: int = 0) -> bytes:
    """The seed with one inconsistency a hand edit (or an old bug) could leave."""
    state = seed_state()
    if change == "next-key-below-keys":
        state["next_key"]["tasks"] = 3  # a new task would overwrite task 3
    elif change == "key-mismatch":
        state["tables"]["tasks"]["2"]["$key"] = 7
    else:  # nested far deeper than any body the sandbox accepts
        state["tables"]["tasks"]["5"]["settings_args"] = "DEEP"
        text = json.dumps(state).replace('"DEEP"', "[" * depth + "]" * depth)
        return text.encode()
    return json.dumps(state).encode()


CORRUPTIONS: dict[str, bytes] = {
    "next-key-below-keys": _with("next-key-below-keys"),
    "key-mismatch": _with("key-mismatch"),
    "nested-100-deep": _with("nested", 100),  # loads, but deeper than the limit
    "nested-970-deep": _with("nested", 970),  # near Python's own recursion limit
    "truncated": _truncated(),
    "garbage-bytes": b"\x00\xff\xfe garbage \x1b[2J\x1b]0;pwned\x07\n",
    "empty": b"",
    "json-list": b"[1, 2, 3]\n",
    "other-version": json.dumps({**seed_state(), "version": 99}).encode(),
    "table-missing": json.dumps(
        {**seed_state(), "tables": {**seed_state()["tables"], "tasks": None}}
    ).encode(),
}

READERS_AND_WRITERS: dict[str, list[str]] = {
    "task-list": ["--sandbox", "task", "list"],
    "task-create": ["--sandbox", "task", "create", "--name", "n", *OWNER_ACTION],
    "trigger-create": ["--sandbox", "trigger", "create", "tenant-poweroff", "--schedule", "hourly"],
    "sandbox-status": ["sandbox", "status"],
}

CORRUPT_CASES = [(c, r) for c in CORRUPTIONS for r in READERS_AND_WRITERS]
CORRUPT_IDS = [f"{c}:{r}" for c, r in CORRUPT_CASES]


@pytest.mark.parametrize(("corruption", "command"), CORRUPT_CASES, ids=CORRUPT_IDS)
def test_a_corrupt_state_file_is_reported_and_never_replaced(
    state_path: Path, corruption: str, command: str
) -> None:
    state_path.parent.mkdir(parents=True)
    content = CORRUPTIONS[corruption]
    state_path.write_bytes(content)
    before = sorted(p.name for p in state_path.parent.iterdir())

    out = run_cli(*READERS_AND_WRITERS[command])
    assert out.exit_code == 3, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("Error: ")
    assert str(state_path) in lines[0]
    assert "vrgtask sandbox reset" in lines[0]
    assert "\x1b" not in out.stderr
    assert out.stdout == ""
    assert state_path.read_bytes() == content  # byte for byte
    after = sorted(p.name for p in state_path.parent.iterdir() if not p.name.endswith(".lock"))
    assert after == [n for n in before if not n.endswith(".lock")]  # no new state written


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_sandbox_reset_recovers_from_a_corrupt_file(state_path: Path, corruption: str) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_bytes(CORRUPTIONS[corruption])
    assert run_cli("--sandbox", "task", "list").exit_code == 3
    reset = run_cli("sandbox", "reset")
    assert reset.exit_code == 0, reset.stderr
    assert str(state_path) in reset.stdout
    listed = run_cli("--sandbox", "task", "list", "-q")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.split() == [str(k) for k in range(1, SEED_TASKS + 1)]
    assert load(state_path) == seed_state()


def test_the_state_path_is_where_the_environment_says(state_path: Path) -> None:
    assert not state_path.exists()
    assert run_cli("--sandbox", "task", "list", "-q").exit_code == 0
    assert state_path.exists()
    assert os.environ["VRGTASK_SANDBOX_STATE"] == str(state_path)
