"""A thread-safe record of the requests a sandbox transport answered."""

from __future__ import annotations

import threading
from typing import Any, TypedDict

__all__ = ["LogEntry", "RequestLog"]


class LogEntry(TypedDict):
    method: str
    path: str
    query: str
    status: int
    bytes: int
    ms: float


class RequestLog:
    """Entries ``{"method", "path", "query", "status", "bytes", "ms"}`` in arrival order.

    ``path`` is the URL path, ``query`` the raw query string, ``bytes`` the
    length of the response body and ``ms`` the time to answer. A connection
    dropped on purpose by a fault is logged with status 0.
    """

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def record(self, method: str, path: str, query: str, status: int, size: int, ms: float) -> None:
        entry = LogEntry(
            method=method, path=path, query=query, status=status, bytes=size, ms=round(ms, 3)
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
