"""A thread-safe record of the requests a sandbox transport answered."""

from __future__ import annotations

import threading
import time
from typing import Any, TypedDict

__all__ = ["LogEntry", "RequestLog"]


class LogEntry(TypedDict):
    method: str
    path: str
    query: str
    status: int
    bytes: int
    ms: float
    at: float


class RequestLog:
    """Entries ``{"method", "path", "query", "status", "bytes", "ms", "at"}`` in arrival order.

    ``path`` is the URL path, ``query`` the raw query string, ``bytes`` the
    length of the response body, ``ms`` the time to answer and ``at`` when the
    request arrived (epoch seconds), so tests and benchmarks can measure the
    spacing of requests exactly. A connection
    dropped on purpose by a fault is logged with status 0.
    """

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def record(self, method: str, path: str, query: str, status: int, size: int, ms: float) -> None:
        arrived = time.time() - ms / 1000
        entry = LogEntry(
            method=method,
            path=path,
            query=query,
            status=status,
            bytes=size,
            ms=round(ms, 3),
            at=round(arrived, 6),
        )
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """A copy of every entry."""
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        """How many entries match ``method`` (any case) and start with ``path_prefix``."""
        wanted = method.upper() if method is not None else None
        with self._lock:
            return sum(
                1
                for entry in self._entries
                if (wanted is None or entry["method"] == wanted)
                and (path_prefix is None or entry["path"].startswith(path_prefix))
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
