"""The sandbox's seed state, its shape, and its digest.

State shape (JSON)::

    {"version": 2,
     "settings": {"actions": "both", "strict": false, "start_delay": null},
     "next_key": {"tasks": 7, ...},               next $key per table
     "tables": {"tasks": {"1": {row}, ...}, ...}}  rows by str($key), in key order

``settings`` are the sandbox-wide knobs ``vrgtask sandbox config`` changes:
the platform profile for actions (``both``, ``post``, ``put``), strict writes,
and the start delay of a run in seconds (null: the default, 1 s).

Rows may carry hidden bookkeeping columns whose names start with ``_`` (a
user's password, a running task's ``_run``); the API never returns them.

Seeded rows never depend on ``extra_tasks``: the bulk tasks are appended after
them, so a seeded task reads the same whatever the size of the state.

Credentials: ``admin`` / ``sandbox`` (or ``Bearer sandbox-token``) may do
everything; ``auditor`` / ``auditor`` may only read.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from vrgtask.sandbox.tables import OWNER_ACTIONS, TABLES

__all__ = [
    "ACTION_PROFILES",
    "DEFAULT_SETTINGS",
    "SANDBOX_PASSWORD",
    "SANDBOX_TOKEN",
    "SANDBOX_USERNAME",
    "STATE_VERSION",
    "check_settings",
    "check_state",
    "log_entry",
    "seed_state",
    "state_digest",
]

# Public by design: the sandbox is a local test double, not a secured service.
SANDBOX_USERNAME = "admin"
SANDBOX_PASSWORD = "sandbox"  # noqa: S105
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105
AUDITOR_USERNAME = "auditor"
AUDITOR_PASSWORD = "auditor"  # noqa: S105

STATE_VERSION = 2

#: How the platform takes actions (see docs/platform-behaviour.md):
#: ``both`` forms work; ``post`` -- only ``POST /{table}_actions``, the
#: ``PUT ?action=`` form is a silent no-op; ``put`` -- only ``PUT ?action=``.
ACTION_PROFILES = ("both", "post", "put")

DEFAULT_SETTINGS: dict[str, Any] = {"actions": "both", "strict": False, "start_delay": None}

#: 2026-01-01T00:00:00Z; seeded timestamps are fixed so the seed is reproducible.
_SEED_EPOCH = 1767225600


def task_id(key: int, salt: str = "") -> str:
    """A task's 40-hex ``id``: deterministic for seeded rows."""
    text = f"vrgtask-sandbox/tasks/{key}/{salt}"
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def task_row(
    key: int,
    name: str,
    owner: str,
    action: str,
    *,
    description: str = "",
    enabled: bool = True,
    last_run: int = 0,
    settings_args: dict[str, Any] | None = None,
    creator: str | None = "users/1",
    delete_after_run: bool = False,
    ident: str | None = None,
    system_created: bool = False,
) -> dict[str, Any]:
    """A complete, idle task row (``idle``/``running`` only; no progress or error)."""
    table = owner.partition("/")[0]
    return {
        "$key": key,
        "name": name,
        "description": description,
        "enabled": enabled,
        "status": "idle",
        "action": action,
        "action_display": OWNER_ACTIONS[table][action],
        "table": table,
        "owner": owner,
        "creator": creator,
        "last_run": last_run,
        "delete_after_run": delete_after_run,
        "system_created": system_created,
        "id": ident if ident is not None else task_id(key),
        "settings_args": settings_args,
    }


def schedule_row(
    key: int,
    name: str,
    *,
    description: str = "",
    repeat_every: str = "hour",
    start_time_of_day: int = 0,
    end_time_of_day: int = 86400,
    weekdays_only: bool = False,
    start_date: str = "2026-01-01",
    creator: str | None = "users/1",
    system_created: bool = False,
) -> dict[str, Any]:
    """A complete schedule row (derived columns are computed on read)."""
    row: dict[str, Any] = {
        "$key": key,
        "name": name,
        "description": description,
        "enabled": True,
        "repeat_every": repeat_every,
        "repeat_iteration": 1,
        "start_date": start_date,
        "end_date": "",
        "start_time_of_day": start_time_of_day,
        "end_time_of_day": end_time_of_day,
        "day_of_month": "start_date",
    }
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        row[day] = True
    row["saturday"] = row["sunday"] = not weekdays_only
    row.update({"task": None, "system_created": system_created, "creator": creator})
    return row


def log_entry(
    key: int,
    level: str,
    text: str,
    timestamp_us: int,
    *,
    user: str,
    object_type: str,
    object_name: str,
) -> dict[str, Any]:
    """A ``logs`` row (pyvergeos ``resources/logs.py``: timestamp in microseconds)."""
    return {
        "$key": key,
        "level": level,
        "text": text,
        "timestamp": timestamp_us,
        "user": user,
        "object_type": object_type,
        "object_name": object_name,
    }


def _seed_logs() -> list[dict[str, Any]]:
    """Past history: a successful and a failed run, and an audit entry."""
    us = 1_000_000
    entries = [
        ("audit", "Created task 'tenant-poweroff'", _SEED_EPOCH + 60, "admin", "tenant-poweroff"),
        (
            "message",
            "Task 'tenant-poweroff' started",
            _SEED_EPOCH + 3600,
            "admin",
            "tenant-poweroff",
        ),
        (
            "error",
            "Task 'tenant-poweroff' failed: tenant acme is busy",
            _SEED_EPOCH + 3603,
            "admin",
            "tenant-poweroff",
        ),
        (
            "message",
            "Task 'tenant-poweroff' ended with errors",
            _SEED_EPOCH + 3603,
            "admin",
            "tenant-poweroff",
        ),
        (
            "message",
            "Task 'nightly-snapshot' started",
            _SEED_EPOCH + 7200,
            "admin",
            "nightly-snapshot",
        ),
        (
            "message",
            "Task 'nightly-snapshot' completed",
            _SEED_EPOCH + 7203,
            "admin",
            "nightly-snapshot",
        ),
    ]
    return [
        log_entry(i, level, text, at * us, user=user, object_type="task", object_name=name)
        for i, (level, text, at, user, name) in enumerate(entries, start=1)
    ]


def _keyed(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(row["$key"]): row for row in rows}


def _owner(key: int | str, name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"$key": key, "name": name, "description": description, **extra}


def seed_state(extra_tasks: int = 0) -> dict[str, Any]:
    """A fresh seed state, with ``extra_tasks`` bulk tasks appended for load tests."""
    if extra_tasks < 0:
        raise ValueError("extra_tasks must be >= 0")
    system = {
        "$key": 1,
        "yb_version": "26.1.2",
        "os_version": "26.1.2-sandbox",
        "cloud_name": "vrgtask-sandbox",
    }
    vms = [
        _owner(1, "web-01", "Front-end web server", enabled=True, os_family="linux"),
        _owner(2, "db-01", "PostgreSQL primary", enabled=True, os_family="linux"),
        _owner(3, "build-runner", "CI build runner", enabled=True, os_family="linux"),
    ]
    tenants = [
        _owner(1, "acme", "Acme Corporation", enabled=True),
        _owner(2, "globex", "Globex Corporation", enabled=True),
    ]
    users = [
        _owner(
            1,
            SANDBOX_USERNAME,
            "Sandbox administrator",
            enabled=True,
            displayname="Administrator",
            _password=SANDBOX_PASSWORD,
            _readonly=False,
        ),
        _owner(
            2,
            AUDITOR_USERNAME,
            "Read-only auditor",
            enabled=True,
            displayname="Auditor",
            _password=AUDITOR_PASSWORD,
            _readonly=True,
        ),
        _owner(3, "ops", "Operations engineer (cannot log in)", enabled=True, displayname="Ops"),
    ]
    vnets = [
        _owner(1, "internal", "Internal network", type="internal"),
        _owner(2, "dmz", "Demilitarised zone", type="internal"),
    ]
    tasks = [
        task_row(
            1,
            "nightly-snapshot",
            "vms/1",
            "snapshot",
            description="Nightly snapshot of web-01",
            last_run=_SEED_EPOCH + 7200,
        ),
        task_row(
            2,
            "power-on-dev",
            "vms/3",
            "poweron",
            description="Power on the build runner on weekday mornings",
        ),
        task_row(
            3,
            "tenant-poweroff",
            "tenants/1",
            "poweroff",
            description="Power off the acme tenant",
            last_run=_SEED_EPOCH + 3600,
        ),
        task_row(
            4,
            "reset-dmz",
            "vnets/2",
            "reset",
            description="Reset the DMZ network (disabled)",
            enabled=False,
        ),
        task_row(
            5,
            "weekly-cleanup",
            "task_scripts/1",
            "run",
            description="Run the cleanup-logs script",
            settings_args={"retention_days": 14},
        ),
        # Real systems ship system-created tasks and default schedules.
        task_row(
            6,
            "check-for-updates",
            "update_settings/1",
            "check",
            description="System task: check for VergeOS updates",
            creator=None,
            system_created=True,
        ),
    ]
    first_bulk = len(tasks) + 1
    owners = ("vms/1", "vms/2", "vms/3")
    for i in range(1, extra_tasks + 1):
        key = first_bulk + i - 1
        tasks.append(
            task_row(key, f"bulk-task-{i:05d}", owners[i % 3], "snapshot", description="bulk")
        )
    schedules = [
        schedule_row(
            1,
            "nightly",
            description="Every night at 02:00",
            repeat_every="day",
            start_time_of_day=7200,
        ),
        schedule_row(
            2,
            "weekday-mornings",
            description="Monday to Friday at 07:30",
            repeat_every="day",
            start_time_of_day=27000,
            weekdays_only=True,
        ),
        schedule_row(3, "hourly", description="Every hour", repeat_every="hour"),
        schedule_row(
            4,
            "daily-system",
            description="System schedule: every day at 03:00",
            repeat_every="day",
            start_time_of_day=10800,
            creator=None,
            system_created=True,
        ),
    ]
    triggers = [
        {"$key": 1, "task": 1, "schedule": 1},
        {"$key": 2, "task": 2, "schedule": 2},
    ]
    events = [
        {
            "$key": 1,
            "owner": "users/3",
            "table": "users",
            "event": "login",
            "event_name": "Login",
            "task": 2,
            "table_event_filters": None,
            "trigger": 0,
            "context": None,
        }
    ]
    scripts = [
        {
            "$key": 1,
            "name": "cleanup-logs",
            "description": "Delete old log files",
            "script": "log('cleaning up old logs')\n",
            "task_settings": {"questions": []},
        }
    ]
    tables: dict[str, list[dict[str, Any]]] = {
        "system": [system],
        "vms": vms,
        "tenants": tenants,
        "users": users,
        "vnets": vnets,
        "nodes": [_owner(1, "node1", "Node 1")],
        "clusters": [_owner(1, "cluster1", "Default cluster")],
        "smtp_settings": [_owner(1, "smtp", "Outgoing mail")],
        "webhook_urls": [
            _owner(
                1, "ops-chat", "Operations chat webhook", url="https://chat.example.invalid/hook"
            )
        ],
        "update_settings": [_owner(1, "updates", "Update settings")],
        "logs": _seed_logs(),
        "tasks": tasks,
        "task_schedules": schedules,
        "task_schedule_triggers": triggers,
        "task_events": events,
        "task_scripts": scripts,
    }
    next_key = {name: len(rows) + 1 for name, rows in tables.items()}
    keyed = {name: _keyed(rows) for name, rows in tables.items()}
    # String-keyed rows (API guide: recipes are addressed by name).
    recipes = [_owner("nas-winbind", "nas-winbind", "NAS with Winbind (recipe)")]
    keyed["vm_recipes"] = {str(row["$key"]): row for row in recipes}
    next_key["vm_recipes"] = 0
    return {
        "version": STATE_VERSION,
        "settings": dict(DEFAULT_SETTINGS),
        "next_key": next_key,
        "tables": keyed,
    }


def canonical_json(state: Any) -> bytes:
    """The canonical encoding digests are computed over."""
    return json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def state_digest(state: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``state``.

    The ``timestamp`` of log entries is left out, so that the same requests
    made at different times digest alike (the entries themselves count).
    """
    tables = state.get("tables") if isinstance(state, dict) else None
    logs = tables.get("logs") if isinstance(tables, dict) else None
    if isinstance(tables, dict) and isinstance(logs, dict):
        timeless = {k: {**row, "timestamp": 0} for k, row in logs.items() if isinstance(row, dict)}
        state = {**state, "tables": {**tables, "logs": timeless}}
    return hashlib.sha256(canonical_json(state)).hexdigest()


def check_state(state: Any) -> str | None:
    """Why ``state`` is not a usable sandbox state, or None when it is."""
    if not isinstance(state, dict):
        return f"the top level is a JSON {type(state).__name__}, not an object"
    if state.get("version") != STATE_VERSION:
        return f"state version {state.get('version')!r} is not {STATE_VERSION}"
    tables = state.get("tables")
    next_key = state.get("next_key")
    if not isinstance(tables, dict) or not isinstance(next_key, dict):
        return "'tables' and 'next_key' must be objects"
    reason = check_settings(state.get("settings"))
    if reason is not None:
        return reason
    for name in TABLES:
        rows = tables.get(name)
        if not isinstance(rows, dict) or not all(isinstance(r, dict) for r in rows.values()):
            return f"table {name!r} is missing or malformed"
        key = next_key.get(name)
        if not isinstance(key, int) or isinstance(key, bool):
            return f"next_key of {name!r} is missing or malformed"
    return None


def check_settings(settings: Any) -> str | None:
    """Why ``settings`` are not usable sandbox settings, or None when they are."""
    if not isinstance(settings, dict):
        return "'settings' must be an object"
    unknown = sorted(set(settings) - set(DEFAULT_SETTINGS))
    if unknown:
        return f"unknown setting {unknown[0]!r}"
    actions = settings.get("actions", "both")
    if actions not in ACTION_PROFILES:
        return f"setting 'actions' is {actions!r}, not one of {', '.join(ACTION_PROFILES)}"
    if not isinstance(settings.get("strict", False), bool):
        return "setting 'strict' must be true or false"
    delay = settings.get("start_delay")
    if delay is not None and (
        isinstance(delay, bool)
        or not isinstance(delay, int | float)
        or not math.isfinite(delay)
        or delay < 0
    ):
        return "setting 'start_delay' must be null or a number of seconds >= 0"
    return None
