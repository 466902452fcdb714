"""A scripted task and its task log, on a fake clock, for the run-waiting tests.

``FakeRun`` answers what vrgtask reads while it follows a run
(``client.tasks.get``, ``client.logs.list``) and what it sends
(``client._request`` for the action), the way the platform behaves: a run
is queued for ``start_delay`` seconds (status ``idle``), then ``running``
for ``duration`` seconds (``last_run`` set, a "started" log entry), then
``idle`` again with a "completed" entry, or an ``error`` entry when
``fail`` is set. Time passes only through :meth:`sleep`, so a test never
waits and never depends on the wall clock.
"""

from __future__ import annotations

import re
from typing import Any
from unittest.mock import MagicMock

from support import sdk_object

EPOCH = 1_800_000_000  # the fake clock's 0, in epoch seconds


class FakeRun:
    def __init__(
        self,
        *,
        key: int = 100,
        name: str = "nightly-backup",
        start_delay: float | None = 1.0,
        duration: float | None = 3.0,
        fail: str | None = None,
        status: str = "idle",
        last_run: Any = EPOCH - 86400,
        last_run_format: str = "epoch",
    ) -> None:
        self.key = key
        self.name = name
        self.start_delay = start_delay  # None: never starts
        self.duration = duration  # None: never ends
        self.fail = fail
        self.initial_status = status
        self.initial_last_run = last_run
        self.last_run_format = last_run_format
        self.now = 0.0
        self.sent_at: float | None = None
        self.sleeps: list[float] = []
        self.requests: list[tuple[str, str, Any]] = []
        self.log_reads = 0
        self.task_reads = 0
        self.interrupt_after: int | None = None  # raise KeyboardInterrupt on that sleep
        self.throttle_reads: set[int] = set()  # task reads (1-based) that answer 429
        self.old_entries = [
            {
                "$key": 1,
                "level": "message",
                "text": f"Task '{name}' completed",
                "timestamp": (EPOCH - 86400) * 1_000_000,
                "object_type": "task",
                "object_name": name,
            }
        ]

    # -- time ---------------------------------------------------------------
    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.interrupt_after is not None and len(self.sleeps) >= self.interrupt_after:
            raise KeyboardInterrupt
        self.now += seconds

    # -- the run's timeline ---------------------------------------------------
    def _start(self) -> float | None:
        if self.sent_at is None or self.start_delay is None:
            return None
        return self.sent_at + self.start_delay

    def _end(self) -> float | None:
        start = self._start()
        if start is None or self.duration is None:
            return None
        return start + self.duration

    def status(self) -> str:
        start, end = self._start(), self._end()
        if start is None or self.now < start:
            return self.initial_status
        if end is None or self.now < end:
            return "running"
        return "idle"

    def last_run(self) -> Any:
        start = self._start()
        if start is None or self.now < start:
            return self.initial_last_run
        when = EPOCH + int(start)
        if self.last_run_format == "string":
            from datetime import datetime, timezone

            return datetime.fromtimestamp(when, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return when

    def entries(self) -> list[dict[str, Any]]:
        found = list(self.old_entries)
        start, end = self._start(), self._end()

        def entry(at: float, level: str, text: str) -> dict[str, Any]:
            return {
                "$key": len(found) + 1,
                "level": level,
                "text": text,
                "timestamp": int((EPOCH + at) * 1_000_000),
                "object_type": "task",
                "object_name": self.name,
            }

        if start is not None and self.now >= start:
            found.append(entry(start, "message", f"Task '{self.name}' started"))
        if end is not None and self.now >= end:
            if self.fail:
                found.append(entry(end, "error", f"Task '{self.name}' failed: {self.fail}"))
                found.append(entry(end, "message", f"Task '{self.name}' ended with errors"))
            else:
                found.append(entry(end, "message", f"Task '{self.name}' completed"))
        return found

    # -- what the client answers ---------------------------------------------
    def tasks_get(self, key: int, fields: Any = None) -> Any:
        from pyvergeos.exceptions import APIError
        from pyvergeos.resources.tasks import Task

        self.task_reads += 1
        if self.task_reads in self.throttle_reads:
            raise APIError("Too Many Requests", status_code=429)
        data = {
            "$key": self.key,
            "name": self.name,
            "status": self.status(),
            "last_run": self.last_run(),
        }
        return sdk_object(Task, data)

    def logs_list(
        self,
        filter: str | None = None,
        object_type: str | None = None,
        limit: int | None = 100,
        fields: Any = None,
        **_: Any,
    ) -> list[Any]:
        from pyvergeos.resources.logs import Log

        self.log_reads += 1
        rows = self.entries()
        text = filter or ""
        named = re.search(r"object_name eq '((?:[^'\\]|\\.)*)'", text)
        if named:
            rows = [r for r in rows if r["object_name"] == named.group(1)]
        since = re.search(r"timestamp ge (\d+)", text)
        if since:
            rows = [r for r in rows if r["timestamp"] >= int(since.group(1))]
        if "level eq 'error'" in text:
            rows = [r for r in rows if r["level"] in ("error", "critical")]
        rows.sort(key=lambda r: r["timestamp"], reverse=True)
        if limit:
            rows = rows[:limit]
        return [sdk_object(Log, r) for r in rows]

    def request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        self.requests.append((method, endpoint, kwargs.get("json_data")))
        if method == "POST" and endpoint.endswith("_actions"):
            self.sent_at = self.now
            return {"task": self.key}
        return {}

    def attach(self, client: MagicMock) -> MagicMock:
        """Make ``client`` answer from this run."""
        client.tasks.get.side_effect = self.tasks_get
        client.logs.list.side_effect = self.logs_list
        client._request.side_effect = self.request
        return client
