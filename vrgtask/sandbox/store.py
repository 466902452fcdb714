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

A file that cannot be used (not JSON, wrong shape, another version, keys that
disagree with ``next_key``, nested or sized beyond :mod:`vrgtask.sandbox.limits`)
raises :class:`SandboxStateError` naming the file; it is never replaced or
modified, except by an explicit :meth:`FileStore.reset` (``vrgtask sandbox
reset``). The state must be a regular file: a FIFO, a device (``/dev/zero``)
or a directory is refused before anything is read, and nothing larger than
``MAX_STATE_BYTES`` is ever read. A symbolic link is followed: the lock, the
temporary file and the atomic rename all happen next to the link's target,
so the link stays a link and the target is what changes.

Both stores are all-or-nothing: when handling a request raises (a bug, a
value no epoch can hold, memory), nothing of it is kept. :class:`FileStore`
simply does not write; :class:`MemoryStore` puts back a copy of the last
committed state (taken after each changed transaction, never on a read, so a
GET over 10,000 tasks costs no copy).
"""

from __future__ import annotations

import copy
import json
import os
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from vrgtask.sandbox.errors import SandboxStateError
from vrgtask.sandbox.limits import MAX_STATE_BYTES, MAX_STATE_DEPTH, json_depth_exceeds
from vrgtask.sandbox.seed import check_state, seed_state, state_digest

__all__ = ["FileStore", "MemoryStore", "Store", "default_state_path"]

ENV_STATE_PATH = "VRGTASK_SANDBOX_STATE"


class Store(Protocol):
    """What the emulator needs from a store."""

    def transaction(self) -> AbstractContextManager[dict[str, Any]]:
        """Exclusive access to the mutable state for one request.

        All or nothing: when the body raises, nothing it changed is kept. The
        emulator replaces a row's nested values (``settings_args``, ``_run``)
        rather than editing them in place.
        """
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


_SCALARS = frozenset({str, int, float, bool, type(None)})


def state_problem(state: Any) -> str | None:
    """Why ``state`` cannot be used, or None: its shape, then its consistency.

    Beyond :func:`~vrgtask.sandbox.seed.check_state`: every row sits under
    ``str($key)``, every ``next_key`` lies above the integer keys in use (so a
    new row never overwrites one), and nothing is nested deeper than
    ``MAX_STATE_DEPTH``. Linear in the rows, a few ms for 10,000 tasks.
    """
    reason = check_state(state)
    if reason is not None:
        return reason
    too_deep = f"nested more than {MAX_STATE_DEPTH} levels deep"
    for name, value in state.items():
        if name != "tables" and json_depth_exceeds(value, MAX_STATE_DEPTH - 1):
            return too_deep
    for name, rows in state["tables"].items():
        if not isinstance(rows, dict):
            return f"table {name!r} is malformed"
        highest = 0
        for text, row in rows.items():
            if row.__class__ is not dict:
                return f"table {name!r} is malformed"
            key = row.get("$key")
            if key.__class__ is int and key > 0:  # (not a bool)
                if str(key) != text:
                    return f"row {text!r} of table {name!r} carries $key {key}"
                highest = max(highest, key)
            elif key.__class__ is not str or key != text:  # string keys (vm_recipes)
                return f"row {text!r} of table {name!r} does not carry $key {text}"
            # Rows sit at level 4; most hold scalars only and need no walk.
            if not _SCALARS.issuperset(map(type, row.values())) and json_depth_exceeds(
                row, MAX_STATE_DEPTH - 3
            ):
                return too_deep
        next_key = state["next_key"].get(name)
        if next_key is None or highest == 0:
            continue
        if not isinstance(next_key, int) or isinstance(next_key, bool) or next_key <= highest:
            return (
                f"next_key of {name!r} is {next_key!r}, not above its highest key {highest} "
                "(a new row would overwrite an existing one)"
            )
    return None


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``state`` down to its rows (5 ms for 10,000 tasks).

    Values inside a row (``settings_args``, ``_run``...) are shared: the
    emulator replaces them, it never edits them in place.
    """
    result = {name: copy.deepcopy(value) for name, value in state.items() if name != "tables"}
    result["tables"] = {
        name: dict(zip(rows.keys(), map(dict.copy, rows.values()), strict=True))
        for name, rows in state["tables"].items()
    }
    return result


class MemoryStore:
    """State held in this process only (tests, ``vrgtask sandbox serve``).

    ``state`` is the live object (edit it through transactions). A transaction
    that raises leaves the state as the last committed transaction left it.
    """

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        state = seed_state() if state is None else state
        reason = state_problem(state)
        if reason is not None:
            raise SandboxStateError(f"invalid sandbox state: {reason}")
        self.state = state
        self._lock = threading.RLock()
        self._depth = 0
        self._changed = False
        self._committed = _copy_state(state)

    @contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._changed = False
            self._depth += 1
            try:
                yield self.state
            except BaseException:
                if outermost:
                    self._restore()
                raise
            finally:
                self._depth -= 1
            if outermost and self._changed:
                self._committed = _copy_state(self.state)
                self._changed = False

    def _restore(self) -> None:
        # In place, so that references to the state stay valid.
        self.state.clear()
        self.state.update(_copy_state(self._committed))
        self._changed = False

    def mark_changed(self) -> None:
        """Remember to take a new committed copy when the transaction ends."""
        self._changed = True

    def reset(self, extra_tasks: int = 0) -> None:
        fresh = seed_state(extra_tasks)
        with self._lock:
            # In place, so that references to the state stay valid.
            self.state.clear()
            self.state.update(fresh)
            self._committed = _copy_state(fresh)


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


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class FileStore:
    """State in a JSON file shared by every process that opens it.

    ``path`` may be a symbolic link: the file it points to is read, locked and
    replaced (the link itself is left alone).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._thread_lock = threading.Lock()
        self._changed = False

    def __repr__(self) -> str:
        return f"FileStore({str(self.path)!r})"

    @property
    def target(self) -> Path:
        """The file really read and written: ``path`` with symbolic links resolved."""
        return Path(os.path.realpath(self.path))

    @property
    def lock_path(self) -> Path:
        target = self.target
        return target.with_name(target.name + ".lock")

    def _temp_path(self, target: Path) -> Path:
        return target.with_name(f".{target.name}.tmp")

    def _make_directory(self, target: Path) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SandboxStateError(
                f"cannot create the sandbox state directory {target.parent}: "
                f"{exc.strerror or exc}; set VRGTASK_SANDBOX_STATE to a writable file path"
            ) from None

    @contextmanager
    def _locked(self, target: Path) -> Iterator[None]:
        lock_path = target.with_name(target.name + ".lock")
        with self._thread_lock:
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise SandboxStateError(
                    f"cannot open the sandbox lock file {lock_path}: {exc.strerror or exc}"
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

    def _not_a_file(self, mode: int) -> SandboxStateError:
        return SandboxStateError(
            f"the sandbox state file {self.path} is {_kind(mode)}, not a regular file; "
            "it was left untouched. Point VRGTASK_SANDBOX_STATE (or --state) at a regular file."
        )

    def _check_kind(self, target: Path) -> bool:
        """Does ``target`` exist? Raises for anything but a regular file."""
        try:
            mode = os.stat(target).st_mode
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._unusable(f"unreadable: {exc.strerror or exc}") from None
        if not stat.S_ISREG(mode):
            raise self._not_a_file(mode)
        return True

    def _read(self, target: Path) -> bytes | None:
        """The bytes of a regular file of at most MAX_STATE_BYTES; None when absent."""
        if not self._check_kind(target):
            return None
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(target, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._unusable(f"unreadable: {exc.strerror or exc}") from None
        too_large = self._unusable(f"larger than {MAX_STATE_BYTES} bytes")
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # swapped since the stat above
                raise self._not_a_file(info.st_mode)
            if info.st_size > MAX_STATE_BYTES:
                raise too_large
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = os.read(fd, min(1 << 20, MAX_STATE_BYTES + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > MAX_STATE_BYTES:
                    raise too_large
        except OSError as exc:
            raise self._unusable(f"unreadable: {exc.strerror or exc}") from None
        finally:
            os.close(fd)
        return b"".join(chunks)

    def _load(self, target: Path | None = None) -> dict[str, Any] | None:
        """The state in the file; None when there is no file."""
        data = self._read(self.target if target is None else target)
        if data is None:
            return None
        try:
            state = json.loads(data)
        except RecursionError:
            raise self._unusable(f"nested more than {MAX_STATE_DEPTH} levels deep") from None
        except ValueError as exc:  # includes UnicodeDecodeError
            raise self._unusable(f"not valid JSON: {exc}") from None
        reason = state_problem(state)
        if reason is not None:
            raise self._unusable(reason)
        result: dict[str, Any] = state
        return result

    def _write(self, target: Path, state: dict[str, Any]) -> None:
        """Replace ``target`` atomically with ``state``."""
        try:
            data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
        except RecursionError:
            data = b""
        if not data or len(data) > MAX_STATE_BYTES:
            raise SandboxStateError(
                f"the sandbox state would exceed the limits ({MAX_STATE_BYTES} bytes, "
                f"{MAX_STATE_DEPTH} levels); {self.path} was left as it was"
            )
        temp = self._temp_path(target)
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            except BaseException:
                with suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError as exc:  # disk full, read-only directory...
            raise SandboxStateError(
                f"cannot write the sandbox state file {self.path}: {exc.strerror or exc}; "
                "it keeps its previous content"
            ) from None
        if sys.platform != "win32":
            # Make the rename itself durable.
            with suppress(OSError):
                dir_fd = os.open(target.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    @contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """Lock, load (writing the seed on first use), yield, write if changed.

        When the body raises, nothing is written: the file keeps the state it
        had before the transaction.
        """
        target = self.target
        self._make_directory(target)
        self._check_kind(target)  # no lock file next to /dev/zero or a FIFO
        with self._locked(target):
            state = self._load(target)
            if state is None:
                state = seed_state()
                self._write(target, state)
            self._changed = False
            try:
                yield state
                if self._changed:
                    self._write(target, state)
            finally:
                self._changed = False

    def mark_changed(self) -> None:
        self._changed = True

    def reset(self, extra_tasks: int = 0) -> None:
        """Write a fresh seed, whatever the file holds now (even a corrupt one).

        Only a regular file (or no file) is replaced: a FIFO, a device or a
        directory at the path is refused.
        """
        state = seed_state(extra_tasks)
        target = self.target
        self._make_directory(target)
        self._check_kind(target)
        with self._locked(target):
            self._check_kind(target)
            self._write(target, state)

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
        target = self.target
        if not self._check_kind(target):
            return info
        with self._locked(target):
            state = self._load(target)
            if state is None:
                return info
            info["exists"] = True
            info["size"] = target.stat().st_size
            info["counts"] = {name: len(rows) for name, rows in state["tables"].items()}
            info["digest"] = state_digest(state)
        return info
