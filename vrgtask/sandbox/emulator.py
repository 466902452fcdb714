"""An emulation of the VergeOS REST API subset the task engine uses.

:meth:`Emulator.handle` takes one HTTP request (method, URL path, raw query
string, headers, body) and returns a :class:`Reply`. It knows nothing about
sockets: :mod:`vrgtask.sandbox.transport` feeds it from a ``requests``
adapter, :mod:`vrgtask.sandbox.server` from an HTTPS server.

Conventions of the API (as pyvergeos 1.7 uses it): everything lives under
``/api/v4/``; ``GET /{table}`` lists (``filter``, ``fields``, ``sort``,
``limit``, ``offset``), ``GET /{table}/{key}`` reads one row, ``POST`` creates
(201 and a receipt), ``PUT`` updates partially (200 ``{}``), ``DELETE``
removes (200, empty body), and ``PUT /{table}/{key}?action=NAME`` runs a row
action. Every error is ``{"err": "message"}`` with its status: 400 malformed
JSON, 401 no or bad credentials, 403 a read-only user writing, 404 unknown
table or row, 405 a method the table does not take, 409 a conflict, 422
anything invalid.

Task execution model
--------------------
State may be shared by separate processes (one CLI invocation after another,
through :class:`~vrgtask.sandbox.store.FileStore`), so nothing runs in the
background: a run is a record of when it started, and every request first
brings the tasks up to date with the clock ("materialises" them).

* ``execute`` (or a schedule trigger, an event trigger, a script ``run``) on a
  task that is already running answers 409 ``Task is already running``.
  Otherwise the task becomes ``running`` with ``progress`` 0 and ``error``
  ``""``, and remembers ``started``, a ``duration`` and an optional failure.
* The duration is the ``sandbox_duration`` execution parameter (seconds, a
  number >= 0), else the task's ``settings_args["sandbox_duration"]``, else 3.
* A failure is requested with the ``sandbox_fail`` parameter (a message), else
  ``settings_args["sandbox_fail"]``. This is the documented way to make a task
  fail in the sandbox::

      vrgtask task create ... --settings-json '{"sandbox_fail": "disk full"}'
      vrgtask task run NAME --params-json '{"sandbox_fail": "disk full"}'

* While running, ``progress`` reads ``min(99, 100 * elapsed / duration)``.
* Once ``duration`` has elapsed the run ends: ``last_run`` becomes the end
  time, and the task is ``idle`` with ``progress`` 100 -- or, for a failing
  run, ``error`` with the message in ``error`` and ``progress`` frozen at the
  99 it last showed (0 for a zero-length run). A task marked
  ``delete_after_run`` is deleted (with its triggers and events) after a
  successful run.
* ``cancel`` on a running task makes it ``idle`` with ``progress`` 0 and
  ``last_run`` unchanged; on a task that is not running it does nothing.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from itertools import islice
from typing import Any
from urllib.parse import parse_qs, unquote

from vrgtask.sandbox.filters import FilterError, compile_filter
from vrgtask.sandbox.limits import (
    MAX_FILTER_DEPTH,
    MAX_YEAR,
    MIN_YEAR,
    BodyError,
    bracket_depth,
    parse_body,
    year_in_range,
)
from vrgtask.sandbox.projection import (
    AllColumns,
    Entry,
    ProjectionError,
    parse_fields,
    project,
)
from vrgtask.sandbox.seed import SANDBOX_TOKEN, canonical_json, state_digest, task_row
from vrgtask.sandbox.store import Store
from vrgtask.sandbox.tables import OWNER_ACTIONS, OWNER_TABLES, TABLES, Column, TableSpec

__all__ = ["API_PREFIX", "DEFAULT_DURATION", "Emulator", "Reply"]

API_PREFIX = "/api/v4/"
DEFAULT_DURATION = 3.0
MAX_SCHEDULE_RESULTS = 1440

_JSON_HEADERS = {"Content-Type": "application/json"}
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?")
_UINT_RE = re.compile(r"[0-9]{1,18}")  # longer: no row, no page (and no huge int)
_TYPE_NAMES = {
    "int": "an integer",
    "str": "a string",
    "bool": "a boolean",
    "object": "an object",
    "ref": "a 'table/key' reference",
    "key": "an integer key",
}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SCHEDULE_DEFAULTS: dict[str, Any] = {
    "description": "",
    "enabled": True,
    "repeat_every": "hour",
    "repeat_iteration": 1,
    "end_date": "",
    "start_time_of_day": 0,
    "end_time_of_day": 86400,
    "day_of_month": "start_date",
    **dict.fromkeys(_DAYS, True),
    "task": None,
}


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: dict(_JSON_HEADERS))

    def json(self) -> Any:
        """The decoded body (None when empty)."""
        return json.loads(self.body) if self.body else None


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_reply(status: int, value: Any) -> Reply:
    return Reply(status, _encode(value))


def error_reply(status: int, message: str) -> Reply:
    return json_reply(status, {"err": message})


class ApiError(Exception):
    """Answer the request with ``status`` and ``{"err": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, item in headers.items():
        if key.lower() == lowered:
            return item
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _type_ok(column: Column, value: Any) -> bool:
    if value is None:
        return column.nullable
    if column.type in ("int", "key"):
        return _is_int(value)
    if column.type in ("str", "ref"):
        return isinstance(value, str)
    if column.type == "bool":
        return isinstance(value, bool)
    return isinstance(value, dict)


def _valid_date(text: str) -> bool:
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return False
    try:
        date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


def _valid_end_date(text: str) -> bool:
    if text == "":
        return True
    if _DATETIME_RE.fullmatch(text) is None:
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d %H:%M:%S" if " " in text else "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, json.dumps(value, sort_keys=True))


def _sort_key(column: str) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    def key(row: Mapping[str, Any]) -> tuple[int, Any]:
        return _sort_value(row.get(column))

    return key


def _parse_query(query: str) -> dict[str, str]:
    parsed = parse_qs(query, keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


def _uint(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    if _UINT_RE.fullmatch(text.strip()) is None:
        raise ApiError(422, f"Invalid {name}: {text!r} (expected an integer >= 0)")
    return int(text)


class Emulator:
    """The API, answering requests against a :class:`~vrgtask.sandbox.store.Store`.

    Args:
        store: Where the state lives.
        clock: Returns the current time as epoch seconds (injectable for tests).
        tz: Time zone for dates (``start_date``) and schedules; None is local time.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.tz = tz

    def handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Reply:
        """Answer one request."""
        if not path.startswith(API_PREFIX):
            return error_reply(404, "Not found")
        parts = [unquote(part) for part in path[len(API_PREFIX) :].split("/") if part]
        params = _parse_query(query)
        with self.store.transaction() as state:
            request = _Request(self, state, self.clock())
            try:
                return request.dispatch(method.upper(), parts, params, headers, body)
            except ApiError as exc:
                return error_reply(exc.status, exc.message)

    def reset(self, extra_tasks: int = 0) -> None:
        """Reseed the state (``extra_tasks`` bulk tasks appended)."""
        self.store.reset(extra_tasks)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the state."""
        with self.store.transaction() as state:
            return state_digest(state)

    def export_state(self) -> bytes:
        """The whole state, hidden columns included, as canonical JSON."""
        with self.store.transaction() as state:
            return canonical_json(state)


class _Request:
    """One request's view of the state; also the projection resolver."""

    def __init__(self, emulator: Emulator, state: dict[str, Any], now: float) -> None:
        self.emulator = emulator
        self.state = state
        self.tables: dict[str, dict[str, dict[str, Any]]] = state["tables"]
        self.now = now
        self.user: dict[str, Any] = {}
        self._counts: dict[tuple[str, str], Counter[Any]] = {}
        self._next_fire: dict[int, int] = {}

    # ------------------------------------------------------------------
    # Plumbing

    def changed(self) -> None:
        self.emulator.store.mark_changed()

    def next_key(self, table: str) -> int:
        key: int = self.state["next_key"][table]
        self.state["next_key"][table] = key + 1
        return key

    def row(self, table: str, key: int) -> dict[str, Any] | None:
        return self.tables[table].get(str(key))

    def require_row(self, table: str, key: int) -> dict[str, Any]:
        row = self.row(table, key)
        if row is None:
            raise ApiError(404, f"Not found: {table}/{key}")
        return row

    @property
    def creator(self) -> str:
        return f"users/{self.user['$key']}"

    def receipt(self, table: str, key: int) -> Reply:
        self.changed()
        return json_reply(
            201,
            {"$key": key, "location": f"/v4/{table}/{key}", "dbpath": f"{table}/{key}", "$row": 1},
        )

    # ------------------------------------------------------------------
    # Authentication and routing

    def authenticate(self, headers: Mapping[str, str]) -> None:
        value = (_header(headers, "Authorization") or "").strip()
        scheme, _, credentials = value.partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer" and credentials:
            if not hmac.compare_digest(credentials.encode(), SANDBOX_TOKEN.encode()):
                raise ApiError(401, "Invalid credentials")
            self.user = self.tables["users"]["1"]
            return
        if scheme.lower() != "basic" or not credentials:
            raise ApiError(401, "Authentication required")
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Authentication required") from None
        username, sep, password = decoded.partition(":")
        for user in self.tables["users"].values():
            secret = user.get("_password")
            if (
                sep
                and user.get("name") == username
                and isinstance(secret, str)
                and hmac.compare_digest(secret.encode(), password.encode())
            ):
                self.user = user
                return
        raise ApiError(401, "Invalid credentials")

    def dispatch(
        self,
        method: str,
        parts: list[str],
        params: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Reply:
        self.authenticate(headers)
        if not parts or len(parts) > 2:
            raise ApiError(404, "Not found")
        spec = TABLES.get(parts[0])
        if spec is None:
            raise ApiError(404, "Invalid table")
        key: int | None = None
        if len(parts) == 2:
            if _UINT_RE.fullmatch(parts[1]) is None:
                raise ApiError(404, f"Not found: {parts[0]}/{parts[1]}")
            key = int(parts[1])
        self.materialise()
        action = params.get("action")
        if method != "GET":
            read_only_action = spec.name == "task_schedules" and action == "get_schedule"
            if self.user.get("_readonly") and not (method == "PUT" and read_only_action):
                raise ApiError(403, "Permission denied")
            if not spec.writable:
                raise ApiError(405, f"Table '{spec.name}' is read-only in the sandbox")
        if key is None:
            if method == "GET":
                return self.list_rows(spec, params)
            if method == "POST":
                return _CREATE[spec.name](self, _json_object(body))
            raise ApiError(405, f"Method {method} not allowed on {spec.name}")
        row = self.require_row(spec.name, key)
        if method == "GET":
            return self.get_row(spec, row, params)
        if method == "PUT" and action is not None:
            if action not in spec.actions:
                raise ApiError(422, f"Invalid action '{action}' for {spec.name}")
            return _ACTIONS[(spec.name, action)](self, row, _json_object(body))
        if method == "PUT":
            _UPDATE[spec.name](self, row, _json_object(body))
            self.changed()
            return json_reply(200, {})
        if method == "DELETE":
            _DELETE[spec.name](self, row)
            self.changed()
            return Reply(200, b"")
        raise ApiError(405, f"Method {method} not allowed on {spec.name}/{key}")

    # ------------------------------------------------------------------
    # Reading

    def fields(self, params: Mapping[str, str]) -> list[Entry]:
        text = params.get("fields")
        if text is None:
            return [AllColumns()]
        if bracket_depth(text) > MAX_FILTER_DEPTH:
            raise ApiError(400, f"Invalid fields: nested more than {MAX_FILTER_DEPTH} levels")
        try:
            return parse_fields(text)
        except ProjectionError as exc:
            raise ApiError(422, f"Invalid fields: {exc}") from None

    def views(self, table: str) -> Iterator[dict[str, Any]]:
        view = self.view
        for row in self.tables[table].values():
            yield view(table, row)

    def list_rows(self, spec: TableSpec, params: Mapping[str, str]) -> Reply:
        names = spec.column_names
        try:
            predicate = compile_filter(params.get("filter", ""), frozenset(names))
        except FilterError as exc:
            raise ApiError(exc.status, str(exc)) from None
        entries = self.fields(params)
        order = self.sort_order(spec, params.get("sort", ""))
        limit = _uint(params, "limit")
        offset = _uint(params, "offset") or 0
        rows: Iterable[dict[str, Any]] = (row for row in self.views(spec.name) if predicate(row))
        if not entries:
            # A projection naming no column answers with a count, as the platform does.
            return json_reply(200, [{"$count": sum(1 for _ in rows)}])
        if order:
            ordered = list(rows)
            for column, descending in reversed(order):
                ordered.sort(key=_sort_key(column), reverse=descending)
            rows = ordered
        stop = None if limit is None else offset + limit
        page = [project(spec.name, row, entries, self) for row in islice(rows, offset, stop)]
        return json_reply(200, page)

    def get_row(self, spec: TableSpec, row: dict[str, Any], params: Mapping[str, str]) -> Reply:
        entries = self.fields(params) or [AllColumns()]
        return json_reply(200, project(spec.name, self.view(spec.name, row), entries, self))

    def sort_order(self, spec: TableSpec, text: str) -> list[tuple[str, bool]]:
        order: list[tuple[str, bool]] = []
        for part in text.split(","):
            name = part.strip()
            if not name:
                continue
            descending = name.startswith("-")
            name = name.lstrip("+-").strip()
            if name.startswith("_") or name not in spec.column_names:
                raise ApiError(422, f"Invalid sort field: {name!r}")
            order.append((name, descending))
        return order

    def view(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` with its derived columns computed (the row itself when it has none)."""
        if table == "tasks":
            run = row.get("_run")
            if run is None:
                return row
            duration = float(run["duration"])
            elapsed = self.now - float(run["started"])
            progress = min(99, max(0, int(100 * elapsed / duration))) if duration > 0 else 0
            return {**row, "progress": progress}
        if table == "task_schedules":
            all_day = row.get("start_time_of_day") == 0 and row.get("end_time_of_day") == 86400
            return {
                **row,
                "start_date_epoch": self.midnight(row.get("start_date")),
                "all_day": all_day,
            }
        if table == "task_schedule_triggers":
            return {**row, "trigger": self.next_fire(row.get("schedule"))}
        return row

    def midnight(self, text: Any) -> int | None:
        if not isinstance(text, str) or not _valid_date(text):
            return None
        day = date.fromisoformat(text)
        tz = self.emulator.tz
        try:
            return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())
        except (ValueError, OverflowError, OSError):  # a date no epoch can hold
            return None

    def next_fire(self, schedule_key: Any) -> int:
        """The next run of a schedule (a trigger's ``trigger`` timer); 0 when none."""
        if not _is_int(schedule_key):
            return 0
        if schedule_key in self._next_fire:
            return self._next_fire[schedule_key]
        result = 0
        schedule = self.row("task_schedules", schedule_key)
        if schedule is not None and schedule.get("enabled"):
            try:
                from vrgtask.sandbox.schedule import ScheduleError, upcoming_runs
            except ImportError:
                return 0
            try:
                runs = upcoming_runs(
                    self.schedule_row(schedule),
                    start_time=int(self.now),
                    end_time=None,
                    max_results=1,
                    tz=self.emulator.tz,
                )
            except ScheduleError:
                runs = []
            result = int(runs[0]) if runs else 0
        self._next_fire[schedule_key] = result
        return result

    def schedule_row(self, schedule: dict[str, Any]) -> dict[str, Any]:
        view = self.view("task_schedules", schedule)
        return {k: v for k, v in view.items() if not k.startswith("_")}

    # Resolver protocol (projection) ------------------------------------

    def columns(self, table: str) -> tuple[str, ...]:
        return TABLES[table].column_names

    def is_reference(self, table: str, column: str) -> bool:
        spec = TABLES[table].column(column)
        return spec is not None and spec.type in ("ref", "key")

    def follow(
        self, table: str, column: str, row: Mapping[str, Any]
    ) -> tuple[str, Mapping[str, Any]] | None:
        spec = TABLES[table].column(column)
        if spec is None or column.startswith("_"):
            return None
        value = row.get(column)
        target_table: str | None = None
        target_key = ""
        if spec.type == "ref" and isinstance(value, str):
            target_table, _, target_key = value.partition("/")
        elif spec.type == "key" and _is_int(value):
            target_table, target_key = spec.ref_table, str(value)
        if target_table is None or target_table not in self.tables:
            return None
        target = self.tables[target_table].get(target_key)
        if target is None:
            return None
        return target_table, self.view(target_table, target)

    def display_name(self, table: str, row: Mapping[str, Any]) -> Any:
        column = TABLES[table].display_column
        if column is None:
            return str(row.get("$key"))
        return row.get(column)

    def display_text(self, table: str, column: str, row: Mapping[str, Any]) -> tuple[bool, Any]:
        if table == "tasks" and column == "action":
            return True, row.get("action_display")
        spec = TABLES[table].column(column)
        if spec is None or spec.choices is None:
            return False, None
        value = row.get(column)
        return True, spec.choices.get(value, value) if isinstance(value, str) else value

    def count(self, table: str, relation: str, row: Mapping[str, Any]) -> int | None:
        rel = TABLES[table].relations.get(relation)
        if rel is None:
            return None
        index = self._counts.get((table, relation))
        if index is None:
            index = Counter(r.get(rel.column) for r in self.tables[rel.table].values())
            self._counts[(table, relation)] = index
        key = row.get("$key")
        return index[f"{table}/{key}" if rel.by_reference else key]

    # ------------------------------------------------------------------
    # Validation helpers

    def check_body(self, spec: TableSpec, body: Mapping[str, Any], *, create: bool) -> None:
        """Unknown or read-only columns and wrong JSON types are 422."""
        for name, value in body.items():
            column = None if name.startswith("_") else spec.column(name)
            if column is None:
                raise ApiError(422, f"Invalid column '{name}' for {spec.name}")
            if not (column.create if create else column.update):
                raise ApiError(422, f"Column '{name}' of {spec.name} cannot be set")
            if not _type_ok(column, value):
                kind = _TYPE_NAMES.get(column.type, column.type)
                null = " or null" if column.nullable else ""
                raise ApiError(422, f"Invalid value for '{name}': expected {kind}{null}")
            if column.choices is not None and value not in column.choices:
                allowed = ", ".join(column.choices)
                raise ApiError(422, f"Invalid value for '{name}': {value!r} (one of {allowed})")

    def owner(self, value: Any) -> tuple[str, int]:
        """Validate a ``"table/key"`` owner reference naming an existing owner row."""
        if isinstance(value, str):
            table, sep, key_text = value.partition("/")
            if sep and table in OWNER_TABLES and _UINT_RE.fullmatch(key_text):
                key = int(key_text)
                if self.row(table, key) is not None:
                    return table, key
        raise ApiError(422, f"Invalid owner: {value!r}")

    def existing(self, table: str, value: Any, what: str) -> int:
        if not _is_int(value) or self.row(table, value) is None:
            raise ApiError(422, f"Invalid {what}: {value!r}")
        key: int = value
        return key

    # ------------------------------------------------------------------
    # Task execution

    def materialise(self) -> None:
        """Finish every run whose time is up (see the module docstring)."""
        finished: list[dict[str, Any]] = []
        for row in self.tables["tasks"].values():
            run = row.get("_run")
            if run is not None and self.now >= float(run["started"]) + float(run["duration"]):
                finished.append(row)
        for row in finished:
            run = row.pop("_run")
            duration = float(run["duration"])
            row["last_run"] = int(float(run["started"]) + duration)
            if run.get("fail"):
                row["status"] = "error"
                row["error"] = str(run["fail"])
                row["progress"] = 99 if duration > 0 else 0
            else:
                row["status"] = "idle"
                row["error"] = ""
                row["progress"] = 100
                if row.get("delete_after_run"):
                    self.delete_task(row)
        if finished:
            self.changed()

    def run_settings(self, params: Any, settings: Any) -> tuple[float, str | None]:
        def pick(name: str) -> Any:
            for source in (params, settings):
                if isinstance(source, dict) and source.get(name) is not None:
                    return source[name]
            return None

        duration = pick("sandbox_duration")
        if duration is None:
            duration = DEFAULT_DURATION
        if not _is_number(duration) or duration < 0:
            raise ApiError(422, "sandbox_duration must be a number of seconds >= 0")
        fail = pick("sandbox_fail")
        if fail is not None and not isinstance(fail, str):
            raise ApiError(422, "sandbox_fail must be a string (the error message)")
        return float(duration), fail or None

    def start_run(self, task: dict[str, Any], params: Any) -> Reply:
        if task.get("status") == "running":
            raise ApiError(409, "Task is already running")
        duration, fail = self.run_settings(params, task.get("settings_args"))
        task["_run"] = {"started": self.now, "duration": duration, "fail": fail}
        task["status"] = "running"
        task["progress"] = 0
        task["error"] = ""
        self.changed()
        return json_reply(200, {"task": task["$key"]})

    def delete_task(self, task: Mapping[str, Any]) -> None:
        key = task["$key"]
        self.tables["tasks"].pop(str(key), None)
        for table in ("task_schedule_triggers", "task_events"):
            rows = self.tables[table]
            for doomed in [k for k, r in rows.items() if r.get("task") == key]:
                del rows[doomed]
        for schedule in self.tables["task_schedules"].values():
            if schedule.get("task") == key:
                schedule["task"] = None


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}

    try:
        value = parse_body(body)  # size, depth, NaN: refused before anything is stored
    except BodyError as exc:
        raise ApiError(exc.status, exc.message) from None
    if not isinstance(value, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return value


def _required_text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, f"'{name}' is required and cannot be empty")
    return value


# ----------------------------------------------------------------------
# tasks


def _task_action(owner_table: str, action: Any) -> str:
    actions = OWNER_ACTIONS[owner_table]
    if not isinstance(action, str) or action not in actions:
        allowed = ", ".join(actions) or "none"
        raise ApiError(422, f"Invalid action {action!r} for {owner_table} (allowed: {allowed})")
    return actions[action]


def _create_task(req: _Request, body: dict[str, Any]) -> Reply:
    req.check_body(TABLES["tasks"], body, create=True)
    name = _required_text(body, "name")
    if "owner" not in body:
        raise ApiError(422, "'owner' is required")
    owner_table, owner_key = req.owner(body["owner"])
    if "table" in body and body["table"] != owner_table:
        raise ApiError(422, f"Invalid table {body['table']!r} for owner {body['owner']!r}")
    if "action" not in body:
        raise ApiError(422, "'action' is required")
    _task_action(owner_table, body["action"])
    settings = body.get("settings_args")
    req.run_settings({}, settings)
    key = req.next_key("tasks")
    req.tables["tasks"][str(key)] = task_row(
        key,
        name,
        f"{owner_table}/{owner_key}",
        body["action"],
        description=body.get("description", ""),
        enabled=body.get("enabled", True),
        settings_args=settings,
        creator=req.creator,
        delete_after_run=body.get("delete_after_run", False),
        ident=os.urandom(20).hex(),
    )
    return req.receipt("tasks", key)


def _update_task(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> None:
    req.check_body(TABLES["tasks"], body, create=False)
    if "name" in body:
        _required_text(body, "name")
    owner_table, owner_key = req.owner(body.get("owner", row["owner"]))
    action = body.get("action", row["action"])
    action_display = _task_action(owner_table, action)
    if "settings_args" in body:
        req.run_settings({}, body["settings_args"])
    row.update(body)
    row.update(
        owner=f"{owner_table}/{owner_key}",
        table=owner_table,
        action=action,
        action_display=action_display,
    )


def _delete_task(req: _Request, row: dict[str, Any]) -> None:
    req.delete_task(row)


def _execute_task(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> Reply:
    for name in body:
        if name != "params":
            raise ApiError(422, f"Invalid parameter '{name}' for execute")
    params = body.get("params")
    if params is not None and not isinstance(params, dict):
        raise ApiError(422, "'params' must be an object")
    return req.start_run(row, params)


def _cancel_task(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> Reply:
    if row.get("status") == "running":
        row.pop("_run", None)
        row.update(status="idle", progress=0, error="")
        req.changed()
    return json_reply(200, {"task": row["$key"]})


# ----------------------------------------------------------------------
# task_schedules


def _check_schedule(req: _Request, merged: Mapping[str, Any]) -> None:
    """Meaning checks on a complete schedule row (types were checked before)."""
    _required_text(merged, "name")
    if merged["repeat_iteration"] < 1:
        raise ApiError(422, "Invalid value for 'repeat_iteration': must be >= 1")
    for name in ("start_time_of_day", "end_time_of_day"):
        if not 0 <= merged[name] <= 86400:
            raise ApiError(422, f"Invalid value for '{name}': must be between 0 and 86400")
    if not _valid_date(merged["start_date"]):
        raise ApiError(422, "Invalid value for 'start_date': expected YYYY-MM-DD")
    if not _valid_end_date(merged["end_date"] or ""):
        raise ApiError(
            422, "Invalid value for 'end_date': expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"
        )
    for name in ("start_date", "end_date"):
        text = merged[name] or ""
        if text and not year_in_range(int(text[:4])):
            raise ApiError(422, f"Invalid value for '{name}': years {MIN_YEAR} to {MAX_YEAR} only")
    if merged["task"] is not None:
        req.existing("tasks", merged["task"], "task")


def _create_schedule(req: _Request, body: dict[str, Any]) -> Reply:
    spec = TABLES["task_schedules"]
    req.check_body(spec, body, create=True)
    today = datetime.fromtimestamp(req.now, req.emulator.tz).date().isoformat()
    merged = {**_SCHEDULE_DEFAULTS, "start_date": today, **body}
    merged["end_date"] = merged["end_date"] or ""
    _check_schedule(req, merged)
    key = req.next_key("task_schedules")
    merged.update({"$key": key, "system_created": False, "creator": req.creator})
    row = {c.name: merged[c.name] for c in spec.columns if not c.derived}
    req.tables["task_schedules"][str(key)] = row
    return req.receipt("task_schedules", key)


def _update_schedule(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> None:
    req.check_body(TABLES["task_schedules"], body, create=False)
    merged = {**row, **body}
    merged["end_date"] = merged["end_date"] or ""
    _check_schedule(req, merged)
    row.update(body)
    row["end_date"] = merged["end_date"]


def _delete_schedule(req: _Request, row: dict[str, Any]) -> None:
    key = row["$key"]
    count = sum(1 for t in req.tables["task_schedule_triggers"].values() if t["schedule"] == key)
    if count:
        raise ApiError(409, f"Schedule '{row['name']}' has {count} trigger(s); delete them first")
    del req.tables["task_schedules"][str(key)]


def _get_schedule(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> Reply:
    for name in body:
        if name not in ("max", "start_time", "end_time"):
            raise ApiError(422, f"Invalid parameter '{name}' for get_schedule")
    limit = body.get("max", 100)
    if not _is_int(limit) or not 1 <= limit <= MAX_SCHEDULE_RESULTS:
        raise ApiError(422, f"Invalid value for 'max': must be 1..{MAX_SCHEDULE_RESULTS}")
    start = body.get("start_time")
    end = body.get("end_time")
    for name, value in (("start_time", start), ("end_time", end)):
        if value is not None and not _is_number(value):
            raise ApiError(422, f"Invalid value for '{name}': expected epoch seconds")
    try:
        from vrgtask.sandbox.schedule import ScheduleError, upcoming_runs
    except ImportError:
        raise ApiError(501, "Schedule computation is not available in this sandbox") from None
    try:
        times = upcoming_runs(
            req.schedule_row(row),
            start_time=int(req.now if start is None else start),
            end_time=None if end is None else int(end),
            max_results=limit,
            tz=req.emulator.tz,
        )
    except ScheduleError as exc:
        raise ApiError(422, str(exc)) from None
    return json_reply(200, {"schedule": [{"time": int(t)} for t in times]})


# ----------------------------------------------------------------------
# task_schedule_triggers


def _create_trigger(req: _Request, body: dict[str, Any]) -> Reply:
    req.check_body(TABLES["task_schedule_triggers"], body, create=True)
    task = req.existing("tasks", body.get("task"), "task")
    schedule = req.existing("task_schedules", body.get("schedule"), "schedule")
    for trigger in req.tables["task_schedule_triggers"].values():
        if trigger["task"] == task and trigger["schedule"] == schedule:
            task_name = req.tables["tasks"][str(task)]["name"]
            schedule_name = req.tables["task_schedules"][str(schedule)]["name"]
            raise ApiError(
                409, f"Task '{task_name}' is already linked to schedule '{schedule_name}'"
            )
    key = req.next_key("task_schedule_triggers")
    req.tables["task_schedule_triggers"][str(key)] = {
        "$key": key,
        "task": task,
        "schedule": schedule,
    }
    return req.receipt("task_schedule_triggers", key)


def _update_trigger(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> None:
    req.check_body(TABLES["task_schedule_triggers"], body, create=False)


def _delete_plain(table: str) -> Callable[[_Request, dict[str, Any]], None]:
    def delete(req: _Request, row: dict[str, Any]) -> None:
        del req.tables[table][str(row["$key"])]

    return delete


def _fire_trigger(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> Reply:
    task = req.require_row("tasks", row["task"])
    return req.start_run(task, {})


# ----------------------------------------------------------------------
# task_events


def _create_event(req: _Request, body: dict[str, Any]) -> Reply:
    req.check_body(TABLES["task_events"], body, create=True)
    task_key = req.existing("tasks", body.get("task"), "task")
    table = _required_text(body, "table")
    event = _required_text(body, "event")
    owner = body.get("owner")
    if owner is None:
        owner = req.tables["tasks"][str(task_key)]["owner"]
    else:
        owner_table, owner_key = req.owner(owner)
        owner = f"{owner_table}/{owner_key}"
    event_name = body.get("event_name") or event.replace("_", " ").title()
    key = req.next_key("task_events")
    req.tables["task_events"][str(key)] = {
        "$key": key,
        "owner": owner,
        "table": table,
        "event": event,
        "event_name": event_name,
        "task": task_key,
        "table_event_filters": body.get("table_event_filters"),
        "trigger": 0,
        "context": body.get("context"),
    }
    return req.receipt("task_events", key)


def _update_event(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> None:
    req.check_body(TABLES["task_events"], body, create=False)
    row.update(body)


def _fire_event(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> Reply:
    for name in body:
        if name != "context":
            raise ApiError(422, f"Invalid parameter '{name}' for trigger")
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise ApiError(422, "'context' must be an object")
    task = req.require_row("tasks", row["task"])
    return req.start_run(task, context if context is not None else row.get("context"))


# ----------------------------------------------------------------------
# task_scripts


def _unique_script_name(req: _Request, name: str, key: int | None) -> None:
    for script in req.tables["task_scripts"].values():
        if script["name"] == name and script["$key"] != key:
            raise ApiError(409, f"A task script named '{name}' already exists")


def _create_script(req: _Request, body: dict[str, Any]) -> Reply:
    req.check_body(TABLES["task_scripts"], body, create=True)
    name = _required_text(body, "name")
    if not isinstance(body.get("script"), str):
        raise ApiError(422, "'script' is required")
    _unique_script_name(req, name, None)
    key = req.next_key("task_scripts")
    req.tables["task_scripts"][str(key)] = {
        "$key": key,
        "name": name,
        "description": body.get("description", ""),
        "script": body["script"],
        "task_settings": body.get("task_settings", {"questions": []}),
    }
    return req.receipt("task_scripts", key)


def _update_script(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> None:
    req.check_body(TABLES["task_scripts"], body, create=False)
    if "name" in body:
        _unique_script_name(req, _required_text(body, "name"), row["$key"])
    row.update(body)


def _delete_script(req: _Request, row: dict[str, Any]) -> None:
    owner = f"task_scripts/{row['$key']}"
    for task in [t for t in req.tables["tasks"].values() if t.get("owner") == owner]:
        req.delete_task(task)
    del req.tables["task_scripts"][str(row["$key"])]


def _run_script(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> Reply:
    req.run_settings(body, None)  # refuse bad parameters before creating anything
    key = req.next_key("tasks")
    task = task_row(
        key,
        f"run: {row['name']}",
        f"task_scripts/{row['$key']}",
        "run",
        description=f"Run of task script '{row['name']}'",
        creator=req.creator,
        delete_after_run=True,
        ident=os.urandom(20).hex(),
    )
    req.tables["tasks"][str(key)] = task
    req.start_run(task, body)
    return json_reply(200, {"task": key})


_Handler = Callable[[_Request, dict[str, Any], dict[str, Any]], Reply]

_CREATE: dict[str, Callable[[_Request, dict[str, Any]], Reply]] = {
    "tasks": _create_task,
    "task_schedules": _create_schedule,
    "task_schedule_triggers": _create_trigger,
    "task_events": _create_event,
    "task_scripts": _create_script,
}
_UPDATE: dict[str, Callable[[_Request, dict[str, Any], dict[str, Any]], None]] = {
    "tasks": _update_task,
    "task_schedules": _update_schedule,
    "task_schedule_triggers": _update_trigger,
    "task_events": _update_event,
    "task_scripts": _update_script,
}
_DELETE: dict[str, Callable[[_Request, dict[str, Any]], None]] = {
    "tasks": _delete_task,
    "task_schedules": _delete_schedule,
    "task_schedule_triggers": _delete_plain("task_schedule_triggers"),
    "task_events": _delete_plain("task_events"),
    "task_scripts": _delete_script,
}
_ACTIONS: dict[tuple[str, str], _Handler] = {
    ("tasks", "execute"): _execute_task,
    ("tasks", "cancel"): _cancel_task,
    ("task_schedules", "get_schedule"): _get_schedule,
    ("task_schedule_triggers", "trigger"): _fire_trigger,
    ("task_events", "trigger"): _fire_event,
    ("task_scripts", "run"): _run_script,
}
