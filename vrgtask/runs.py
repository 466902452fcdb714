"""Confirming that a run started, waiting for it, and reading its result.

Shared by ``task run``, ``task wait``, ``trigger run``, ``event trigger`` and
``script run``. What a real VergeOS gives to go on (docs/vergeos-api notes):

* a task's ``status`` is only ``idle`` or ``running``; runs start
  asynchronously, so right after an execute the task may still read ``idle``;
* ``last_run`` is set when a run starts (epoch seconds, or a formatted
  string on some releases: both are accepted);
* a run's outcome is written to the task log (``logs``, ``object_type``
  ``task``, ``object_name`` the task's name, ``timestamp`` in microseconds).

So a run is *started* once the task reads ``running``, or its ``last_run``
moved, or a new log entry for it appeared (or it is gone: a
``delete_after_run`` task deletes itself after its run). It is *finished*
once it reads ``idle`` again after that. Its *result* comes from the log
entries written since the request: an ``error`` or ``critical`` entry is a
failure. "New" is measured against the newest task-log entry read before
the request, on the server's clock, so the client's clock never matters.

Polling: every second for the first 10 s, then 1.5 times longer each time
up to 10 s (``--interval`` fixes it); a 429 is honoured with its
Retry-After. Nothing here cancels a task: on timeout or Ctrl-C the run
keeps going on the server and the message says how to look at it.

pyvergeos and requests are imported inside functions.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any

from vrgtask.errors import (
    InterruptedWait,
    RunNotStartedError,
    TaskFailedError,
    VrgtaskError,
    WaitTimeoutError,
)
from vrgtask.runopts import Timing

if TYPE_CHECKING:
    from pyvergeos import VergeClient

    from vrgtask.context import AppContext

__all__ = [
    "LOG_FIELDS",
    "Backoff",
    "LogMark",
    "Look",
    "RunOutcome",
    "RunWatch",
    "epoch_seconds",
    "last_run_moved",
    "log_mark",
    "parse_retry_after",
]

LOG_FIELDS = ["$key", "level", "text", "timestamp", "object_type", "object_name"]
TASK_LOOK_FIELDS = ["$key", "name", "status", "last_run"]
FAIL_LEVELS = frozenset({"error", "critical"})
#: Entries that say nothing about a run (someone edited the task, debugging).
IGNORED_LEVELS = frozenset({"audit", "debug"})
#: How many of a run's log entries one request reads; more -> an errors-only read too.
RESULT_LIMIT = 200

Clock = Callable[[], float]
Sleep = Callable[[float], None]

#: The clock and the pause every RunWatch uses unless given its own (tests swap them).
CLOCK: Clock = time.monotonic
SLEEP: Sleep = time.sleep


class Throttled(Exception):
    """The server answered 429; wait ``delay`` seconds before asking again."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"throttled for {delay:g}s")
        self.delay = delay


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def epoch_seconds(value: Any) -> int | None:
    """``last_run`` as epoch seconds: a number, digits, or a formatted date-time."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if value > 0 else None
    text = str(value).strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        number = int(text)
        return number if number > 0 else None
    from datetime import datetime, timezone

    candidate = text.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        parsed = None
        for pattern in ("%Y-%m-%d %H:%M:%S %Z", "%a, %d %b %Y %H:%M:%S %Z", "%m/%d/%Y %H:%M:%S"):
            try:
                parsed = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


def _normal_last_run(value: Any) -> Any:
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def last_run_moved(before: Any, after: Any) -> bool:
    """Did ``last_run`` change to a (non-empty) new value? Numbers or strings."""
    now = _normal_last_run(after)
    return now is not None and now != _normal_last_run(before)


@dataclass
class LogMark:
    """Where "new" begins in the task log: its newest entry before the request."""

    timestamp: int | None = None
    key: Any = None
    readable: bool = True
    problem: str | None = None


def _sdk_api_error() -> type[Exception]:
    from pyvergeos.exceptions import APIError

    return APIError


def log_mark(client: VergeClient) -> LogMark:
    """Read the newest task-log entry (one request); a refusal is remembered, not raised."""
    try:
        newest = client.logs.list(object_type="task", limit=1, fields=LOG_FIELDS)
    except _sdk_api_error() as exc:
        if getattr(exc, "status_code", None) == 429:
            raise
        return LogMark(readable=False, problem=str(exc) or type(exc).__name__)
    if not newest:
        return LogMark()
    entry = newest[0]
    stamp = entry.get("timestamp")
    return LogMark(timestamp=int(stamp) if stamp is not None else None, key=entry.get("$key"))


@dataclass
class Look:
    """One look at the task (and, when asked, at its new log entries)."""

    status: str | None = None
    last_run: Any = None
    gone: bool = False
    entries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunOutcome:
    """A finished run: how its start was seen, its log entries, the final one."""

    started_by: str
    entries: list[dict[str, Any]]
    final: dict[str, Any] | None
    look: Look
    elapsed: float = 0.0


@dataclass
class Backoff:
    """Poll intervals: ``fixed`` if given, else ``first`` for ``calm`` seconds,
    then x``factor`` up to ``cap``."""

    fixed: float | None = None
    _: KW_ONLY
    first: float = 1.0
    cap: float = 10.0
    calm: float = 10.0
    factor: float = 1.5
    current: float = field(init=False)

    def __post_init__(self) -> None:
        self.current = self.first

    def next(self, elapsed: float) -> float:
        if self.fixed is not None:
            return self.fixed
        if elapsed >= self.calm:
            self.current = min(self.cap, self.current * self.factor)
        return self.current


def _entry_row(entry: Any) -> dict[str, Any]:
    return {
        "$key": entry.get("$key"),
        "level": str(entry.get("level") or ""),
        "text": str(entry.get("text") or ""),
        "timestamp": entry.get("timestamp"),
    }


class RunWatch:
    """Everything known about one run of one task, and how to look again.

    ``name`` may be unknown (a script run names its task only by key); the
    first look at the task fills it in.
    """

    def __init__(
        self,
        client: VergeClient,
        key: int,
        *,
        name: str | None,
        label: str,
        status: str | None,
        last_run: Any,
        mark: LogMark,
        hint: str,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.client = client
        self.key = int(key)
        self.name = name
        self.label = label
        self.status_before = status
        self.last_run_before = last_run
        self.mark = mark
        self.hint = hint
        self.clock = clock if clock is not None else CLOCK
        self.sleep = sleep if sleep is not None else SLEEP
        self._retry_after: dict[str, str] = {}
        self._hooked = False
        self.page_full = False

    # -- looking ------------------------------------------------------------
    def _hook_retry_after(self) -> None:
        """Remember the Retry-After of a 429 (pyvergeos keeps only the body)."""
        if self._hooked:
            return
        self._hooked = True
        session = getattr(getattr(self.client, "_connection", None), "session", None)
        hooks = getattr(session, "hooks", None)
        if not isinstance(hooks, dict) or not isinstance(hooks.get("response"), list):
            return
        seen = self._retry_after

        def keep(response: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(response, "status_code", None) == 429:
                seen["value"] = str(response.headers.get("Retry-After") or "")
            return response

        hooks["response"].append(keep)

    def _polite(self, call: Callable[[], Any]) -> Any:
        self._hook_retry_after()
        try:
            return call()
        except _sdk_api_error() as exc:
            if getattr(exc, "status_code", None) != 429:
                raise
            delay = parse_retry_after(self._retry_after.pop("value", None))
            raise Throttled(delay if delay is not None else 10.0) from None

    def look(self, *, logs: bool) -> Look:
        """Read the task (and its new log entries when ``logs``)."""
        from pyvergeos.exceptions import NotFoundError

        try:
            task = self._polite(lambda: self.client.tasks.get(self.key, fields=TASK_LOOK_FIELDS))
        except NotFoundError:
            return Look(gone=True, entries=self.entries() if logs else [])
        if self.name is None and task.get("name"):
            self.name = str(task.get("name"))
            self.label = f"task {self.name!r} (key {self.key})"
        found = Look(status=task.get("status"), last_run=task.get("last_run"))
        if logs:
            found.entries = self.entries()
        return found

    def _log_filter(self, *extra: str) -> str | None:
        from pyvergeos.filters import quote_value

        if self.name is None:
            return None
        parts = [f"object_name eq {quote_value(self.name)}"]
        if self.mark.timestamp is not None:
            parts.append(f"timestamp ge {int(self.mark.timestamp)}")
        parts.extend(extra)
        return " and ".join(parts)

    def entries(self, limit: int = 20) -> list[dict[str, Any]]:
        """The task's log entries since the mark, newest first (audit/debug left out)."""
        if not self.mark.readable:
            return []
        flt = self._log_filter()
        if flt is None:
            return []
        found = self._polite(
            lambda: self.client.logs.list(
                filter=flt, object_type="task", limit=limit, fields=LOG_FIELDS
            )
        )
        rows = [_entry_row(e) for e in found]
        # A full page may hide older entries (counted before audit/debug
        # entries and the mark are left out).
        self.page_full = len(rows) >= limit
        return self._new(rows)

    def _new(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The run's entries among ``rows``: audit/debug and the mark's own entry left out."""
        return [
            r
            for r in rows
            if r["level"] not in IGNORED_LEVELS
            and (self.mark.key is None or str(r["$key"]) != str(self.mark.key))
        ]

    def start_signal(self, seen: Look) -> str | None:
        """What shows the run started: running, last_run, log, gone; None if nothing."""
        if seen.gone:
            return "gone"
        if seen.status == "running":
            return "running"
        if self._last_run_is_new(seen.last_run):
            return "last_run"
        if seen.entries:
            return "log"
        return None

    def _last_run_is_new(self, last_run: Any) -> bool:
        """``last_run`` moved since the request. When the task was not read before
        it (a script's run task, a fired trigger: ``status_before`` unknown), a
        value counts only if it is newer than the newest log entry then."""
        if self.status_before is not None:
            return last_run_moved(self.last_run_before, last_run)
        epoch = epoch_seconds(last_run)
        since = self.mark.timestamp
        return epoch is not None and since is not None and epoch * 1_000_000 > since

    def interrupted_request(self) -> InterruptedWait:
        """What Ctrl-C raises once a run was requested: it may have been accepted."""
        return InterruptedWait(
            f"interrupted; {self.label} may have started and then keeps running on the "
            f"server (follow it with: {self.hint})"
        )

    def confirm_once(self) -> tuple[str | None, Look]:
        """One look after the request: the start signal, if any (task first, then logs)."""
        seen = self.look(logs=False)
        signal = self.start_signal(seen)
        if signal is None:
            seen.entries = self.entries()
            signal = self.start_signal(seen)
        return signal, seen

    # -- the result -----------------------------------------------------------
    def result(self, started_by: str, seen: Look, elapsed: float) -> RunOutcome:
        """Read the run's log entries; an error or critical one raises TaskFailedError."""
        if not self.mark.readable:
            raise VrgtaskError(
                f"{self.label} finished, but its result is unknown: the task log could not "
                f"be read ({self.mark.problem}); look at it with: {self.hint}"
            )
        entries = self.entries(limit=RESULT_LIMIT)
        failures = [e for e in entries if e["level"] in FAIL_LEVELS]
        if self.page_full and not failures:
            flt = self._log_filter("(level eq 'error' or level eq 'critical')")
            if flt is not None:
                more = self._polite(
                    lambda: self.client.logs.list(
                        filter=flt, object_type="task", limit=1, fields=LOG_FIELDS
                    )
                )
                failures = self._new([_entry_row(e) for e in more])
        if failures:
            first = failures[-1]  # the oldest: what went wrong first
            raise TaskFailedError(f"{self.label} failed; task log: {first['text']}")
        final = entries[0] if entries else None
        return RunOutcome(started_by, entries, final, seen, elapsed)

    # -- waiting ------------------------------------------------------------
    def wait(
        self,
        *,
        timeout: float,
        start_timeout: float,
        interval: float | None,
        started_by: str | None = None,
        seen: Look | None = None,
        progress: Callable[[str], None] | None = None,
        live_log: bool = False,
        requested: bool = True,
    ) -> RunOutcome:
        """Wait for the run to start (if not yet seen) and finish; its outcome.

        Raises RunNotStartedError (exit 1) when it has not started within
        ``start_timeout`` seconds, WaitTimeoutError (exit 9) when it is not
        over within ``timeout`` seconds (0 = no limit), TaskFailedError
        (exit 1) for an error in the task log, InterruptedWait (exit 130) on
        Ctrl-C. The task is never cancelled.
        """
        began = self.clock()
        backoff = Backoff(interval)
        show = progress or (lambda _text: None)
        newest = ""
        signal = started_by
        current = seen
        try:
            while True:
                elapsed = self.clock() - began
                try:
                    if current is None:
                        current = self.look(logs=False)
                        if signal is None and self.start_signal(current) is None:
                            current.entries = self.entries()
                    if signal is None:
                        signal = self.start_signal(current)
                    if signal is not None and (current.gone or current.status != "running"):
                        return self.result(signal, current, elapsed)
                    if signal is not None and live_log:
                        recent = self.entries(limit=1)
                        newest = recent[0]["text"] if recent else newest
                    pause = backoff.next(elapsed)
                except Throttled as slow:
                    pause = slow.delay
                if signal is None:
                    if elapsed >= start_timeout:
                        if not requested:
                            raise RunNotStartedError(
                                f"{self.label} is not running, and no run of it started "
                                f"within {start_timeout:g}s"
                            )
                        raise RunNotStartedError(
                            f"the server accepted the request, but {self.label} did not start "
                            f"within {start_timeout:g}s (it may still be queued; follow it "
                            f"with: {self.hint})"
                        )
                    show(f"{self.label}: accepted, waiting for it to start ({elapsed:.0f}s)")
                else:
                    line = f"{self.label}: running ({elapsed:.0f}s)"
                    show(f"{line}; log: {newest}" if newest else line)
                if timeout and elapsed >= timeout:
                    state = "is still running" if signal else "has not started"
                    raise WaitTimeoutError(
                        f"{self.label} {state} after {timeout:g}s; it keeps going on the "
                        f"server (follow it with: {self.hint})"
                    )
                limits = [pause]
                if signal is None:
                    limits.append(max(0.0, start_timeout - elapsed))
                if timeout:
                    limits.append(max(0.0, timeout - elapsed))
                self.sleep(max(min(limits), 0.05))
                current = None
        except KeyboardInterrupt:
            what = "keeps running" if signal else "may still start and run"
            raise InterruptedWait(
                f"interrupted; {self.label} {what} on the server (follow it with: {self.hint})"
            ) from None


def outcome_row(watch: RunWatch, outcome: RunOutcome) -> dict[str, Any]:
    """The run as a row (``-o json``): the task, how its start was seen, its log."""
    return {
        "$key": watch.key,
        "name": watch.name,
        "status": "gone" if outcome.look.gone else outcome.look.status,
        "last_run": outcome.look.last_run,
        "run": "finished",
        "started_by": outcome.started_by,
        "result": "ok",
        "message": outcome.final["text"] if outcome.final else None,
        "log": list(reversed(outcome.entries)),
    }


def started_row(watch: RunWatch, signal: str | None, seen: Look) -> dict[str, Any]:
    """A run not waited for, as a row: started (and how it was seen) or queued."""
    return {
        "$key": watch.key,
        "name": watch.name,
        "status": "gone" if seen.gone else seen.status,
        "last_run": seen.last_run,
        "run": "started" if signal else "queued",
        "started_by": signal,
    }


SIGNAL_TEXT: Mapping[str, str] = {
    "running": "it is running",
    "last_run": "its last-run time moved",
    "log": "the task log shows it",
    "gone": "it has already run and deleted itself",
}


def progress_visible(quiet: bool) -> bool:
    """Is there a terminal to show a live progress line on (stderr)?"""
    return sys.stderr.isatty() and not quiet


# -- what the commands share ------------------------------------------------


def watch_read_task(app: AppContext, found: Any) -> RunWatch:
    """A RunWatch for a task read with :data:`TASK_LOOK_FIELDS` (its status and
    last run are how its start is recognised)."""
    return watch_task(
        app,
        int(found.key),
        name=found.get("name"),
        status=found.get("status"),
        last_run=found.get("last_run"),
    )


def watch_task(
    app: AppContext,
    key: int,
    *,
    name: str | None,
    status: str | None = None,
    last_run: Any = None,
    mark: LogMark | None = None,
) -> RunWatch:
    """A RunWatch for task ``key``; its log mark is read now (before the request)
    unless one read earlier is given."""
    from vrgtask.hints import command_hint

    label = f"task {name!r} (key {key})" if name is not None else f"task {key}"
    return RunWatch(
        app.client,
        key,
        name=name,
        label=label,
        status=status,
        last_run=last_run,
        mark=mark if mark is not None else log_mark(app.client),
        hint=command_hint(app, "task", "wait", key),
    )


def wait_shown(
    app: AppContext,
    watch: RunWatch,
    timing: Timing,
    *,
    started_by: str | None,
    seen: Look | None,
    requested: bool = True,
) -> tuple[RunOutcome, str]:
    """Wait for the run, with progress on a terminal; the outcome and the
    text of its last log entry (what the final sentence quotes)."""
    live = progress_visible(app.quiet)
    try:
        outcome = watch.wait(
            timeout=timing.timeout,
            start_timeout=timing.start_timeout,
            interval=timing.interval,
            started_by=started_by,
            seen=seen,
            progress=app.progress,
            live_log=live,
            requested=requested,
        )
    finally:
        app.progress_end()
    final = outcome.final["text"] if outcome.final else "no log entry for this run"
    return outcome, final


def follow_run(
    app: AppContext,
    watch: RunWatch,
    what: str,
    *,
    wait: bool,
    timing: Timing,
    row_extra: Mapping[str, Any] | None = None,
) -> None:
    """After a run was requested: confirm its start, wait when asked, report.

    ``what`` starts the sentence ("Ran task 'x' (key 3)", "Triggered trigger 7").
    """
    from vrgtask.hints import command_hint

    try:
        signal, seen = watch.confirm_once()
    except KeyboardInterrupt:
        raise watch.interrupted_request() from None
    except Throttled:
        signal, seen = None, Look()
    if not wait:
        if signal is None:
            message = (
                f"{what}: the server accepted the request; {watch.label} has not started yet "
                f"(queued). Follow it with: {command_hint(app, 'task', 'wait', watch.key)}"
            )
        else:
            message = f"{what}: {watch.label} started ({SIGNAL_TEXT[signal]})"
        app.done(message, {**started_row(watch, signal, seen), **(row_extra or {})})
        return
    outcome, final = wait_shown(app, watch, timing, started_by=signal, seen=seen)
    for entry in reversed(outcome.entries):
        if entry["level"] == "warning":
            app.note(f"Warning from the task log: {entry['text']}")
    row = {**outcome_row(watch, outcome), **(row_extra or {})}
    app.done(f"{what}: {watch.label} finished; task log: {final}", row)
