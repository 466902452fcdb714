"""The vrgtask sandbox: an emulation of the VergeOS task-engine API.

The real pyvergeos SDK talks to it either in-process (a ``requests`` transport
adapter, :mod:`vrgtask.sandbox.transport`) or over HTTPS on 127.0.0.1
(:mod:`vrgtask.sandbox.server`).

This package root is cheap to import: the names below are loaded on first
use, and none of them imports requests, urllib3, ssl or trustme, so the CLI
may refer to the sandbox on its start-up path.

Credentials: ``admin`` / ``sandbox`` or ``Bearer sandbox-token`` (everything),
``auditor`` / ``auditor`` (read-only).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vrgtask.sandbox.emulator import Emulator, Reply
    from vrgtask.sandbox.errors import SandboxError, SandboxStateError
    from vrgtask.sandbox.seed import (
        SANDBOX_PASSWORD,
        SANDBOX_TOKEN,
        SANDBOX_USERNAME,
        seed_state,
        state_digest,
    )
    from vrgtask.sandbox.store import FileStore, MemoryStore, default_state_path

__all__ = [
    "SANDBOX_PASSWORD",
    "SANDBOX_TOKEN",
    "SANDBOX_USERNAME",
    "Emulator",
    "FileStore",
    "MemoryStore",
    "Reply",
    "SandboxError",
    "SandboxStateError",
    "default_state_path",
    "seed_state",
    "state_digest",
]

_HOMES = {
    "Emulator": "emulator",
    "Reply": "emulator",
    "SandboxError": "errors",
    "SandboxStateError": "errors",
    "SANDBOX_PASSWORD": "seed",
    "SANDBOX_TOKEN": "seed",
    "SANDBOX_USERNAME": "seed",
    "seed_state": "seed",
    "state_digest": "seed",
    "FileStore": "store",
    "MemoryStore": "store",
    "default_state_path": "store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
