"""An emulation of the VergeOS REST API subset the task engine uses.

:meth:`Emulator.handle` takes one HTTP request (method, URL path, raw query
string, headers, body) and returns a :class:`Reply`. It knows nothing about
sockets: :mod:`vrgtask.sandbox.transport` feeds it from a ``requests``
adapter, :mod:`vrgtask.sandbox.server` from an HTTPS server.

What it emulates, where each behaviour comes from and how sure it is, is
listed in ``docs/platform-behaviour.md``; the comments below cite the source
of each choice.

Conventions of the API: everything lives under ``/api/v4/``; ``GET /{table}``
lists (``filter``, ``fields``, ``sort``, ``limit`` -- 0 is unlimited --,
``offset``), ``GET /{table}/{key}`` reads one row, ``GET /{table}/$table``
describes the table, ``POST`` creates (201 and a receipt whose ``$key`` is a
string, as in the API guide), ``PUT`` updates partially (200 ``{}``),
``DELETE`` removes (200, empty body). Every answer carries a ``Date`` header.
Every error is ``{"err": "message"}`` with its status: 400 malformed JSON or
an unknown action, 401 no or bad credentials, 403 a read-only user writing,
404 unknown table or row, 405 a method the table does not take, 409 a
conflict, 422 anything invalid (``Validation error on field: 'name' - '...'``).

Writes (pyvergeos ``snapshot_profiles.py``, issue #139, measured on 26.1.8):
unknown and read-only fields are dropped and the write answers 200; numeric
strings are accepted for integer columns. In *strict* mode the dropped
fields answer 422 instead.

Actions come in two forms (conflicting sources, so both are emulated):

* ``POST /{singular}_actions {"<singular>": KEY, "action": NAME, "params": {...}}``
  (Go SDK, TypeScript SDK, API guide), e.g. ``POST /task_actions``;
* ``PUT /{table}/{key}?action=NAME`` with the parameters as the body
  (pyvergeos ``ResourceManager.action``; execute sends ``{"params": {...}}``).

The *platform profile* decides which work: ``both``; ``post`` (the ``PUT``
form answers 200 ``{}`` and does nothing -- the silent no-op pyvergeos
``drives.py`` reports on 26.1.8); ``put`` (``POST /*_actions`` is 404).

Task execution model
--------------------
State may be shared by separate processes (one CLI invocation after another,
through :class:`~vrgtask.sandbox.store.FileStore`), so nothing runs in the
background: a run is a record of when it was queued, and every request first
brings the tasks up to date with the clock ("materialises" them).

* Tasks are ``idle`` or ``running``, nothing else (Go SDK ``types_task.go``,
  TypeScript SDK ``services/task/types.ts``, PSVergeOS ``Get-VergeTask``,
  pyvergeos ``tasks.py``). A run's outcome is in the ``logs`` table.
* ``execute`` (or a schedule trigger, an event trigger, a script ``run``)
  queues a run and returns at once ("fire-and-forget at the API level", Go SDK
  ADR-008). The task stays ``idle`` for the *start delay*, then is ``running``
  for the run's *duration*, then ``idle`` again. ``last_run`` (epoch seconds)
  is set when the run starts. A second execute while a run is queued or
  running answers 409.
* The start delay is the ``sandbox_start_delay`` parameter, else the task's
  ``settings_args["sandbox_start_delay"]``, else the sandbox-wide setting
  (:class:`Emulator` ``start_delay``, ``$VRGTASK_SANDBOX_START_DELAY``, the
  state's ``start_delay`` setting), else 1 second.
* The duration is ``sandbox_duration`` (parameter, else settings), else 3 s.
* A failure is requested with ``sandbox_fail`` (a message)::

      vrgtask task create ... --settings-json '{"sandbox_fail": "disk full"}'
      vrgtask task run NAME --params-json '{"sandbox_fail": "disk full"}'

* Log entries (``object_type`` ``task``, ``object_name`` the task's name):
  ``message`` "Task 'NAME' started" when it starts; ``message`` "Task 'NAME'
  completed" when it succeeds; ``error`` "Task 'NAME' failed: TEXT" and
  ``message`` "Task 'NAME' ended with errors" when it fails. A task marked
  ``delete_after_run`` is deleted (with its triggers and events) after a
  successful run.
* ``cancel`` of a queued or running run makes the task ``idle`` and writes a
  ``warning`` "Task 'NAME' cancelled"; otherwise it does nothing.
* Creating, updating and deleting a task-engine object writes an ``audit``
  entry ("Created task 'NAME'", "Updated task 'NAME' (fields: a, b)",
  "Deleted task 'NAME'").
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

from vrgtask.sandbox.errors import SandboxStateError
from vrgtask.sandbox.filters import FilterError, compile_filter
from vrgtask.sandbox.limits import (
    MAX_FILTER_DEPTH,
    MAX_YEAR,
    MIN_YEAR,
    ApiError,
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
from vrgtask.sandbox.seed import (
    ACTION_PROFILES,
    SANDBOX_TOKEN,
    canonical_json,
    log_entry,
    state_digest,
    task_row,
)
from vrgtask.sandbox.store import Store
from vrgtask.sandbox.tables import (
    ACTION_TABLES,
    LOG_OBJECT_TYPES,
    OWNER_ACTIONS,
    OWNER_TABLES,
    TABLES,
    Column,
    TableSpec,
)

__all__ = [
    "API_PREFIX",
    "DEFAULT_DURATION",
    "DEFAULT_START_DELAY",
    "ENV_ACTIONS",
    "ENV_START_DELAY",
    "ENV_STRICT",
    "MAX_NAME_LENGTH",
    "Emulator",
    "Reply",
    "parse_bool",
]

API_PREFIX = "/api/v4/"
#: A request's headers (looked up without regard to case, see _header).
Headers = Mapping[str, str]
DEFAULT_DURATION = 3.0
DEFAULT_START_DELAY = 1.0
MAX_SCHEDULE_RESULTS = 1440
#: Go SDK and TypeScript SDK validate task names as 1-64 characters.
MAX_NAME_LENGTH = 64

ENV_ACTIONS = "VRGTASK_SANDBOX_ACTIONS"
ENV_STRICT = "VRGTASK_SANDBOX_STRICT"
ENV_START_DELAY = "VRGTASK_SANDBOX_START_DELAY"

_JSON_HEADERS = {"Content-Type": "application/json"}
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?")
_UINT_RE = re.compile(r"[0-9]{1,18}")  # longer: no row, no page (and no huge int)
_INT_TEXT_RE = re.compile(r"\s*-?[0-9]{1,18}\s*")
_TYPE_NAMES = {
    "int": "an integer",
    "str": "a string",
    "bool": "a boolean",
    "object": "an object",
    "ref": "a 'table/key' reference",
    "key": "an integer key",
}
#: ``GET /{table}/$table`` field types (the platform's own names are unknown).
_SCHEMA_TYPES = {
    "int": "int",
    "str": "text",
    "bool": "bool",
    "object": "json",
    "ref": "row",
    "key": "row",
}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
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
#: What an audit entry calls a row of each table.
_NOUNS = {
    "tasks": "task",
    "task_schedules": "schedule",
    "task_schedule_triggers": "schedule trigger",
    "task_events": "event trigger",
    "task_scripts": "task script",
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


def invalid(name: str, why: str) -> ApiError:
    """A 422 in the platform's wording (API guide):
    ``Validation error on field: 'name' - 'why'``."""
    return ApiError(422, f"Validation error on field: '{name}' - '{why}'")


def parse_bool(text: str) -> bool | None:
    """``1/true/yes/on`` -> True, ``0/false/no/off/''`` -> False, else None."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _header(headers: Headers, name: str) -> str | None:
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


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(epoch: float) -> str:
    """An RFC 9110 ``Date`` value (not email.utils: it imports socket)."""
    t = time.gmtime(epoch)
    return (
        f"{_WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def _check_delay(value: Any, source: str) -> float:
    if not _is_number(value) or value < 0:
        raise SandboxStateError(f"{source} must be a number of seconds >= 0, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Settings:
    """The sandbox-wide knobs in force for one request."""

    actions: str
    strict: bool
    start_delay: float


class Emulator:
    """The API, answering requests against a :class:`~vrgtask.sandbox.store.Store`.

    Args:
        store: Where the state lives.
        clock: Returns the current time as epoch seconds (injectable for tests).
        tz: Time zone for dates (``start_date``) and schedules; None is local time.
        actions: Platform profile for actions (``both``, ``post``, ``put``);
            None: ``$VRGTASK_SANDBOX_ACTIONS``, else the state's setting, else both.
        strict: Refuse unknown and read-only fields with 422; None:
            ``$VRGTASK_SANDBOX_STRICT``, else the state's setting, else False.
        start_delay: Seconds a queued run waits before it starts; None:
            ``$VRGTASK_SANDBOX_START_DELAY``, else the state's setting, else 1.

    Attributes of the same names may be changed between requests (tests do).

    Raises:
        SandboxStateError: An unknown profile or a bad delay.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        actions: str | None = None,
        strict: bool | None = None,
        start_delay: float | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.tz = tz
        if actions is not None and actions not in ACTION_PROFILES:
            raise SandboxStateError(
                f"unknown actions profile {actions!r}: use one of {', '.join(ACTION_PROFILES)}"
            )
        self.actions = actions
        self.strict = strict
        self.start_delay = None if start_delay is None else _check_delay(start_delay, "start delay")

    def settings(self, state: Mapping[str, Any]) -> Settings:
        """The knobs in force: constructor, else environment, else state, else defaults.

        Raises:
            SandboxStateError: A bad value in the environment.
        """
        stored: Mapping[str, Any] = state.get("settings") or {}
        actions = self.actions
        if actions is None:
            env = os.environ.get(ENV_ACTIONS, "").strip()
            if env:
                if env not in ACTION_PROFILES:
                    raise SandboxStateError(
                        f"{ENV_ACTIONS}={env!r} is not a platform profile: "
                        f"use one of {', '.join(ACTION_PROFILES)}"
                    )
                actions = env
            else:
                actions = str(stored.get("actions") or "both")
        strict = self.strict
        if strict is None:
            flag = os.environ.get(ENV_STRICT, "")
            if flag.strip():
                strict = parse_bool(flag)
                if strict is None:
                    raise SandboxStateError(f"{ENV_STRICT}={flag!r} is not a boolean: use 1 or 0")
            else:
                strict = bool(stored.get("strict", False))
        delay = self.start_delay
        if delay is None:
            env = os.environ.get(ENV_START_DELAY, "").strip()
            if env:
                try:
                    value = float(env)
                except ValueError:
                    value = math.nan
                delay = _check_delay(value, f"{ENV_START_DELAY}={env!r}")
            else:
                stored_delay = stored.get("start_delay")
                delay = DEFAULT_START_DELAY if stored_delay is None else float(stored_delay)
        return Settings(actions=actions, strict=strict, start_delay=delay)

    def handle(self, method: str, path: str, query: str, headers: Headers, body: bytes) -> Reply:
        """Answer one request (every reply carries a ``Date`` header)."""
        reply = self._handle(method, path, query, headers, body)
        reply.headers.setdefault("Date", http_date(self.clock()))
        return reply

    def _handle(self, method: str, path: str, query: str, headers: Headers, body: bytes) -> Reply:
        if not path.startswith(API_PREFIX):
            return error_reply(404, "Not found")
        parts = [unquote(part) for part in path[len(API_PREFIX) :].split("/") if part]
        params = _parse_query(query)
        with self.store.transaction() as state:
            request = _Request(self, state, self.clock(), self.settings(state))
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


_ActionHandler = Callable[["_Request", dict[str, Any], dict[str, Any]], Reply]


class _Request:
    """One request's view of the state; also the projection resolver."""

    def __init__(
        self, emulator: Emulator, state: dict[str, Any], now: float, settings: Settings
    ) -> None:
        self.emulator = emulator
        self.state = state
        self.tables: dict[str, dict[str, dict[str, Any]]] = state["tables"]
        self.now = now
        self.settings = settings
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

    def row(self, table: str, key: int | str) -> dict[str, Any] | None:
        return self.tables[table].get(str(key))

    def require_row(self, table: str, key: int | str) -> dict[str, Any]:
        row = self.row(table, key)
        if row is None:
            raise ApiError(404, f"Not found: {table}/{key}")
        return row

    @property
    def creator(self) -> str:
        return f"users/{self.user['$key']}"

    @property
    def user_name(self) -> str:
        return str(self.user.get("name") or "system")

    def receipt(self, table: str, key: int) -> Reply:
        """The create receipt of the API guide: ``$key`` is a string."""
        self.changed()
        return json_reply(
            201,
            {
                "location": f"/v4/{table}/{key}",
                "dbpath": f"{table}/{key}",
                "$row": key,
                "$key": str(key),
            },
        )

    def log(
        self,
        level: str,
        text: str,
        *,
        table: str,
        name: str,
        at: float | None = None,
        user: str | None = None,
    ) -> None:
        """Append a ``logs`` entry (timestamp in microseconds)."""
        key = self.next_key("logs")
        when = self.now if at is None else at
        self.tables["logs"][str(key)] = log_entry(
            key,
            level,
            text,
            round(when * 1_000_000),
            user=self.user_name if user is None else user,
            object_type=LOG_OBJECT_TYPES.get(table, table),
            object_name=name,
        )
        self.changed()

    def label(self, table: str, row: Mapping[str, Any]) -> str:
        """The name a log entry gives a row."""
        if table == "task_schedule_triggers":
            task = self.row("tasks", row.get("task", ""))
            schedule = self.row("task_schedules", row.get("schedule", ""))
            task_name = task["name"] if task else row.get("task")
            schedule_name = schedule["name"] if schedule else row.get("schedule")
            return f"{task_name} @ {schedule_name}"
        if table == "task_events":
            return str(row.get("event_name") or row.get("event") or row.get("$key"))
        return str(row.get("name", row.get("$key")))

    def audit(self, verb: str, table: str, row: Mapping[str, Any], suffix: str = "") -> None:
        name = self.label(table, row)
        self.log("audit", f"{verb} {_NOUNS[table]} '{name}'{suffix}", table=table, name=name)

    # ------------------------------------------------------------------
    # Authentication and routing

    def authenticate(self, headers: Headers) -> None:
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
        headers: Headers,
        body: bytes,
    ) -> Reply:
        self.authenticate(headers)
        if not parts or len(parts) > 2:
            raise ApiError(404, "Not found")
        if parts[0] in ACTION_TABLES:
            return self.action_table(method, parts, body)
        spec = TABLES.get(parts[0])
        if spec is None:
            raise ApiError(404, "Invalid table")
        if len(parts) == 2 and parts[1] == "$table":
            if method != "GET":
                raise ApiError(405, f"Method {method} not allowed on {spec.name}/$table")
            return json_reply(200, _schema(spec))
        key: int | str | None = None
        if len(parts) == 2:
            if spec.string_keys:
                key = parts[1]
            elif _UINT_RE.fullmatch(parts[1]) is None:
                raise ApiError(404, f"Not found: {parts[0]}/{parts[1]}")
            else:
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
                clean = self.clean_body(spec, _json_object(body), create=True)
                reply = _CREATE[spec.name](self, clean)
                created = self.row(spec.name, int(json.loads(reply.body)["$key"]))
                if created is not None:
                    self.audit("Created", spec.name, created)
                return reply
            raise ApiError(405, f"Method {method} not allowed on {spec.name}")
        row = self.require_row(spec.name, key)
        if method == "GET":
            return self.get_row(spec, row, params)
        if method == "PUT" and action is not None:
            if self.settings.actions == "post":
                # The silent no-op pyvergeos drives.py reports on 26.1.8.
                return json_reply(200, {})
            handler = self.action_handler(spec, action)
            body_params = _json_object(body)
            if (spec.name, action) == ("tasks", "execute"):
                # pyvergeos tasks.execute sends {"params": {...}}.
                for name in body_params:
                    if name != "params":
                        raise invalid(name, "is not a parameter of execute")
                body_params = _params_object(body_params.get("params"))
            return handler(self, row, body_params)
        if method == "PUT":
            clean = self.clean_body(spec, _json_object(body), create=False)
            _UPDATE[spec.name](self, row, clean)
            if clean:
                fields = ", ".join(clean)
                self.audit("Updated", spec.name, row, f" (fields: {fields})")
            self.changed()
            return json_reply(200, {})
        if method == "DELETE":
            name_row = dict(row)
            label = self.label(spec.name, name_row)
            _DELETE[spec.name](self, row)
            self.log(
                "audit",
                f"Deleted {_NOUNS[spec.name]} '{label}'",
                table=spec.name,
                name=label,
            )
            self.changed()
            return Reply(200, b"")
        raise ApiError(405, f"Method {method} not allowed on {spec.name}/{key}")

    def action_handler(self, spec: TableSpec, action: str) -> _ActionHandler:
        handler = _ACTIONS.get((spec.name, action))
        if handler is None:
            # An unknown action name is a 400 (API guide; TypeScript SDK review).
            allowed = ", ".join(sorted(a for t, a in _ACTIONS if t == spec.name))
            raise ApiError(400, f"Invalid action '{action}' for {spec.name} (allowed: {allowed})")
        return handler

    def action_table(self, method: str, parts: list[str], body: bytes) -> Reply:
        """``/{singular}_actions``: the documented form of actions."""
        name = parts[0]
        if self.settings.actions == "put":
            raise ApiError(404, "Invalid table")
        table, singular = ACTION_TABLES[name]
        if len(parts) == 2:
            if parts[1] == "$table" and method == "GET":
                return json_reply(200, _action_schema(name, singular))
            raise ApiError(404, f"Not found: {name}/{parts[1]}")
        if method != "POST":
            raise ApiError(405, f"Method {method} not allowed on {name}")
        payload = _json_object(body)
        action = payload.get("action")
        if not isinstance(action, str) or not action:
            raise invalid("action", "is required")
        spec = TABLES[table]
        handler = self.action_handler(spec, action)
        if self.user.get("_readonly") and (table, action) != ("task_schedules", "get_schedule"):
            raise ApiError(403, "Permission denied")
        raw_key = payload.get(singular)
        key: int | None = None
        if _is_int(raw_key):
            key = raw_key
        elif isinstance(raw_key, str) and _UINT_RE.fullmatch(raw_key.strip()):
            key = int(raw_key)
        if key is None:
            raise invalid(singular, "is required (the $key of the row)")
        self.materialise()
        row = self.require_row(table, key)
        return handler(self, row, _params_object(payload.get("params")))

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
        if limit == 0:
            limit = None  # 0 means unlimited (API guide)
        offset = _uint(params, "offset") or 0
        rows: Iterable[dict[str, Any]] = (row for row in self.views(spec.name) if predicate(row))
        if not entries:
            # A projection naming no column answers with a count, as the platform does.
            return json_reply(200, [{"$count": sum(1 for _ in rows)}])
        if order:
            if spec.name == "logs" and all(column != "$key" for column, _ in order):
                # Entries written in the same microsecond keep their order.
                order = [*order, ("$key", order[0][1])]
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

    def summary_columns(self, table: str) -> tuple[str, ...]:
        spec = TABLES[table]
        if spec.summary is not None:
            return spec.summary
        display = spec.display_column
        return ("$key",) if display is None else ("$key", display)

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

    def clean_body(
        self, spec: TableSpec, body: Mapping[str, Any], *, create: bool
    ) -> dict[str, Any]:
        """The fields of a write the platform takes, with numeric strings coerced.

        Unknown and read-only fields are dropped (pyvergeos
        ``snapshot_profiles.py``, issue #139: the platform answers 200 and
        ignores them); in strict mode they are a 422. A value of the wrong
        type is a 422 either way.
        """
        clean: dict[str, Any] = {}
        for name, given in body.items():
            value = given
            column = None if name.startswith("_") else spec.column(name)
            settable = column is not None and (column.create if create else column.update)
            if column is None or not settable:
                if self.settings.strict:
                    why = "no such field" if column is None else "field is read-only"
                    raise invalid(name, why)
                continue
            if (
                column.type in ("int", "key")
                and isinstance(value, str)
                and _INT_TEXT_RE.fullmatch(value)
            ):
                value = int(value)  # numbers sent as strings are accepted
            if not _type_ok(column, value):
                kind = _TYPE_NAMES.get(column.type, column.type)
                null = " or null" if column.nullable else ""
                raise invalid(name, f"expected {kind}{null}")
            if column.choices is not None and value not in column.choices:
                allowed = ", ".join(column.choices)
                raise invalid(name, f"{value!r} is not one of {allowed}")
            clean[name] = value
        return clean

    def owner(self, value: Any, name: str = "owner") -> tuple[str, int | str]:
        """Validate a ``"table/key"`` owner reference naming an existing owner row."""
        if isinstance(value, str):
            table, sep, key_text = value.partition("/")
            if sep and table in OWNER_TABLES and key_text:
                key: int | str | None = None
                if TABLES[table].string_keys:
                    key = key_text
                elif _UINT_RE.fullmatch(key_text):
                    key = int(key_text)
                if key is not None and self.row(table, key) is not None:
                    return table, key
        raise invalid(name, f"{value!r} is not an existing owner")

    def existing(self, table: str, value: Any, what: str) -> int:
        if isinstance(value, str) and _UINT_RE.fullmatch(value.strip()):
            value = int(value)
        if not _is_int(value) or self.row(table, value) is None:
            raise invalid(what, f"{value!r} does not exist")
        key: int = value
        return key

    # ------------------------------------------------------------------
    # Task execution

    def materialise(self) -> None:
        """Start queued runs and finish runs whose time is up (module docstring)."""
        for row in list(self.tables["tasks"].values()):
            if row.get("_run") is not None:
                self.advance(row)

    def advance(self, row: dict[str, Any]) -> None:
        run = row["_run"]
        start_at = float(run["start_at"])
        if not run.get("started"):
            if self.now < start_at:
                return
            run["started"] = True
            row["status"] = "running"
            row["last_run"] = int(start_at)
            name = row["name"]
            self.log(
                "message",
                f"Task '{name}' started",
                table="tasks",
                name=name,
                at=start_at,
                user=run.get("user"),
            )
        end = start_at + float(run["duration"])
        if self.now < end:
            return
        row.pop("_run")
        row["status"] = "idle"
        name = row["name"]
        user = run.get("user")
        fail = run.get("fail")
        if fail:
            self.log(
                "error",
                f"Task '{name}' failed: {fail}",
                table="tasks",
                name=name,
                at=end,
                user=user,
            )
            self.log(
                "message",
                f"Task '{name}' ended with errors",
                table="tasks",
                name=name,
                at=end,
                user=user,
            )
        else:
            self.log(
                "message", f"Task '{name}' completed", table="tasks", name=name, at=end, user=user
            )
            if row.get("delete_after_run"):
                self.delete_task(row)
                self.log(
                    "audit", f"Deleted task '{name}'", table="tasks", name=name, at=end, user=user
                )
        self.changed()

    def run_settings(self, params: Any, settings: Any) -> tuple[float, float, str | None]:
        """``(start delay, duration, failure)`` of a run, from its parameters and settings."""

        def pick(name: str) -> Any:
            for source in (params, settings):
                if isinstance(source, dict) and source.get(name) is not None:
                    return source[name]
            return None

        delay = pick("sandbox_start_delay")
        if delay is None:
            delay = self.settings.start_delay
        if not _is_number(delay) or delay < 0:
            raise invalid("sandbox_start_delay", "must be a number of seconds >= 0")
        duration = pick("sandbox_duration")
        if duration is None:
            duration = DEFAULT_DURATION
        if not _is_number(duration) or duration < 0:
            raise invalid("sandbox_duration", "must be a number of seconds >= 0")
        fail = pick("sandbox_fail")
        if fail is not None and not isinstance(fail, str):
            raise invalid("sandbox_fail", "must be a string (the error message)")
        return float(delay), float(duration), fail or None

    def start_run(self, task: dict[str, Any], params: Any) -> Reply:
        """Queue a run of ``task``: it starts after the start delay (module docstring)."""
        if task.get("_run") is not None or task.get("status") == "running":
            raise ApiError(409, f"Task '{task['name']}' is already running or queued")
        delay, duration, fail = self.run_settings(params, task.get("settings_args"))
        task["_run"] = {
            "start_at": self.now + delay,
            "duration": duration,
            "fail": fail,
            "user": self.user_name,
            "started": False,
        }
        key = task["$key"]
        self.advance(task)  # a zero delay starts the run now
        self.changed()
        return json_reply(200, {"task": key})

    def cancel_run(self, task: dict[str, Any]) -> None:
        run = task.pop("_run", None)
        if run is None and task.get("status") != "running":
            return
        task["status"] = "idle"
        name = task["name"]
        self.log("warning", f"Task '{name}' cancelled", table="tasks", name=name)
        self.changed()

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


def _schema(spec: TableSpec) -> dict[str, Any]:
    """``GET /{table}/$table``: the table's fields (the platform's shape is richer)."""
    return {
        "table": spec.name,
        "fields": [
            {"name": c.name, "type": _SCHEMA_TYPES.get(c.type, c.type)} for c in spec.columns
        ],
    }


def _action_schema(name: str, singular: str) -> dict[str, Any]:
    return {
        "table": name,
        "fields": [
            {"name": "$key", "type": "int"},
            {"name": singular, "type": "row"},
            {"name": "action", "type": "text"},
            {"name": "params", "type": "json"},
        ],
    }


def _params_object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("params", "must be an object")
    return value


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}

    value = parse_body(body)  # size, depth, NaN: refused (BodyError) before anything is stored
    if not isinstance(value, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return value


def _required_text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid(name, "is required and cannot be empty")
    return value


# ----------------------------------------------------------------------
# tasks


def _task_action(owner_table: str, action: Any) -> str:
    """The display text of ``action``; an action the owner's table lacks is a 400."""
    actions = OWNER_ACTIONS[owner_table]
    if not isinstance(action, str) or action not in actions:
        allowed = ", ".join(actions) or "none"
        raise ApiError(400, f"Invalid action {action!r} for {owner_table} (allowed: {allowed})")
    return actions[action]


def _task_name(value: Any) -> str:
    """Task names are 1-64 characters (Go SDK and TypeScript SDK validation)."""
    if not isinstance(value, str) or not value.strip():
        raise invalid("name", "is required and cannot be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise invalid("name", f"must be 1-{MAX_NAME_LENGTH} characters")
    return value


def _create_task(req: _Request, body: dict[str, Any]) -> Reply:
    name = _task_name(body.get("name"))
    if "owner" not in body:
        raise invalid("owner", "is required")
    owner_table, owner_key = req.owner(body["owner"])
    if "table" in body and body["table"] != owner_table:
        raise invalid("table", f"{body['table']!r} is not the table of {body['owner']!r}")
    if "action" not in body:
        raise invalid("action", "is required")
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
    if "name" in body:
        _task_name(body["name"])
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


def _execute_task(req: _Request, row: dict[str, Any], params: dict[str, Any]) -> Reply:
    return req.start_run(row, params)


def _cancel_task(req: _Request, row: dict[str, Any], params: dict[str, Any]) -> Reply:
    req.cancel_run(row)
    return json_reply(200, {"task": row["$key"]})


# ----------------------------------------------------------------------
# task_schedules


def _check_schedule(req: _Request, merged: Mapping[str, Any]) -> None:
    """Meaning checks on a complete schedule row (types were checked before)."""
    _required_text(merged, "name")
    if merged["repeat_iteration"] < 1:
        raise invalid("repeat_iteration", "must be >= 1")
    for name in ("start_time_of_day", "end_time_of_day"):
        if not 0 <= merged[name] <= 86400:
            raise invalid(name, "must be between 0 and 86400")
    if not _valid_date(merged["start_date"]):
        raise invalid("start_date", "expected YYYY-MM-DD")
    if not _valid_end_date(merged["end_date"] or ""):
        raise invalid("end_date", "expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")
    for name in ("start_date", "end_date"):
        text = merged[name] or ""
        if text and not year_in_range(int(text[:4])):
            raise invalid(name, f"years {MIN_YEAR} to {MAX_YEAR} only")
    if merged["task"] is not None:
        req.existing("tasks", merged["task"], "task")


def _create_schedule(req: _Request, body: dict[str, Any]) -> Reply:
    spec = TABLES["task_schedules"]
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
            raise invalid(name, "is not a parameter of get_schedule")
    limit = body.get("max", 100)
    if not _is_int(limit) or not 1 <= limit <= MAX_SCHEDULE_RESULTS:
        raise invalid("max", f"must be 1..{MAX_SCHEDULE_RESULTS}")
    start = body.get("start_time")
    end = body.get("end_time")
    for name, value in (("start_time", start), ("end_time", end)):
        if value is not None and not _is_number(value):
            raise invalid(name, "expected epoch seconds")
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
    """A trigger has no updatable column: every field was dropped already."""


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
    row.update(body)


def _fire_event(req: _Request, row: dict[str, Any], body: dict[str, Any]) -> Reply:
    for name in body:
        if name != "context":
            raise invalid(name, "is not a parameter of trigger")
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise invalid("context", "must be an object")
    task = req.require_row("tasks", row["task"])
    return req.start_run(task, context if context is not None else row.get("context"))


# ----------------------------------------------------------------------
# task_scripts


def _unique_script_name(req: _Request, name: str, key: int | None) -> None:
    for script in req.tables["task_scripts"].values():
        if script["name"] == name and script["$key"] != key:
            raise ApiError(409, f"A task script named '{name}' already exists")


def _create_script(req: _Request, body: dict[str, Any]) -> Reply:
    name = _required_text(body, "name")
    if not isinstance(body.get("script"), str):
        raise invalid("script", "is required")
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
    req.audit("Created", "tasks", task)
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
