"""Where the sandbox keeps its state: in memory, or in a JSON file.

Both stores hand the emulator the whole mutable state inside
``transaction()``; the emulator calls ``mark_changed()`` when it modified it.

:class:`FileStore` lets separate processes (one CLI invocation after another,
or several at once) share one sandbox. Every transaction takes an exclusive
lock on a sibling ``.lock`` file, loads the JSON, and -- only if the state was
marked changed -- writes it back atomically: a temporary file in the same
directory, flushed and fsynced, then ``os.replace``. A reader therefore sees
the old state or the new one, never half of one, and a crash mid-write leaves
the previous file intact.

A file that cannot be used (not JSON, wrong shape, another version) raises
:class:`SandboxStateError` naming the file; it is never replaced or modified,
except by an explicit :meth:`FileStore.reset` (``vrgtask sandbox reset``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from vrgtask.sandbox.errors import SandboxStateError
from vrgtask.sandbox.seed import check_state, seed_state, state_digest

__all__ = ["FileStore", "MemoryStore", "Store", "default_state_path"]

ENV_STATE_PATH = "VRGTASK_SANDBOX_STATE"


class Store(Protocol):
    """What the emulator needs from a store."""

    def transaction(self) -> AbstractContextManager[dict[str, Any]]:
        """Exclusive access to the mutable state for one request."""
        ...

    def mark_changed(self) -> None:
        """Record that the state of the current transaction was modified."""
        ...

    def reset(self, extra_tasks: int = 0) -> None:
        """Replace the state with a fresh seed."""
        ...


def default_state_path() -> Path:
    """The state file: ``$VRGTASK_SANDBOX_STATE``, else under the XDG data directory."""
    explicit = os.environ.get(ENV_STATE_PATH)
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME")
    base = Path(data_home) if data_home else Path.home() / ".local" / "share"
    return base / "vrgtask" / "sandbox.json"


class MemoryStore:
    """State held in this process only (tests, ``vrgtask sandbox serve``)."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        state = seed_state() if state is None else state
        reason = check_state(state)
        if reason is not None:
            raise SandboxStateError(f"invalid sandbox state: {reason}")
        self.state = state
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            yield self.state

    def mark_changed(self) -> None:
        """Nothing to do: the state is the live object."""

    def reset(self, extra_tasks: int = 0) -> None:
        fresh = seed_state(extra_tasks)
        with self._lock:
            # In place, so that references to the state stay valid.
            self.state.clear()
            self.state.update(fresh)


def _lock_file(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        while True:
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after ~10 s; keep waiting
                continue
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


def _unlock_file(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class FileStore:
    """State in a JSON file shared by every process that opens it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._temp_path = self.path.with_name(f".{self.path.name}.tmp")
        self._thread_lock = threading.Lock()
        self._changed = False

    def __repr__(self) -> str:
        return f"FileStore({str(self.path)!r})"

    def _make_directory(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SandboxStateError(
                f"cannot create the sandbox state directory {self.path.parent}: "
                f"{exc.strerror or exc}; set VRGTASK_SANDBOX_STATE to a writable file path"
            ) from None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise SandboxStateError(
                    f"cannot open the sandbox lock file {self.lock_path}: {exc.strerror or exc}"
                ) from None
            try:
                _lock_file(fd)
                try:
                    yield
                finally:
                    _unlock_file(fd)
            finally:
                os.close(fd)

    def _unusable(self, reason: str) -> SandboxStateError:
        return SandboxStateError(
            f"the sandbox state file {self.path} cannot be used ({reason}); "
            "it was left untouched. Run `vrgtask sandbox reset` to start over "
            "with a fresh sandbox."
        )

    def _load(self) -> dict[str, Any] | None:
        """The state in the file; None when there is no file."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._unusable(f"unreadable: {exc.strerror or exc}") from None
        try:
            state = json.loads(data)
        except ValueError as exc:  # includes UnicodeDecodeError
            raise self._unusable(f"not valid JSON: {exc}") from None
        reason = check_state(state)
        if reason is not None:
            raise self._unusable(reason)
        result: dict[str, Any] = state
        return result

    def _write(self, state: dict[str, Any]) -> None:
        """Replace the file atomically with ``state``."""
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
        fd = os.open(self._temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(self._temp_path, self.path)
        except BaseException:
            with suppress(OSError):
                os.unlink(self._temp_path)
            raise
        if sys.platform != "win32":
            # Make the rename itself durable.
            with suppress(OSError):
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    @contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """Lock, load (writing the seed on first use), yield, write if changed."""
        self._make_directory()
        with self._locked():
            state = self._load()
            if state is None:
                state = seed_state()
                self._write(state)
            self._changed = False
            try:
                yield state
                if self._changed:
                    self._write(state)
            finally:
                self._changed = False

    def mark_changed(self) -> None:
        self._changed = True

    def reset(self, extra_tasks: int = 0) -> None:
        """Write a fresh seed, whatever the file holds now (even a corrupt one)."""
        state = seed_state(extra_tasks)
        self._make_directory()
        with self._locked():
            self._write(state)

    def status(self) -> dict[str, Any]:
        """``path``, ``exists``, ``size``, row ``counts`` per table and ``digest``.

        Creates nothing. Raises :class:`SandboxStateError` for an unusable file.
        """
        info: dict[str, Any] = {
            "path": str(self.path),
            "exists": False,
            "size": 0,
            "counts": {},
            "digest": None,
        }
        if not self.path.exists():
            return info
        with self._locked():
            state = self._load()
            if state is None:
                return info
            info["exists"] = True
            info["size"] = self.path.stat().st_size
            info["counts"] = {name: len(rows) for name, rows in state["tables"].items()}
            info["digest"] = state_digest(state)
        return info
