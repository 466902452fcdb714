"""The sandbox's seed state, its shape, and its digest.

State shape (JSON)::

    {"version": 1,
     "next_key": {"tasks": 6, ...},               next $key per table
     "tables": {"tasks": {"1": {row}, ...}, ...}}  rows by str($key), in key order

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
from typing import Any

from vrgtask.sandbox.tables import OWNER_ACTIONS, TABLES

__all__ = [
    "SANDBOX_PASSWORD",
    "SANDBOX_TOKEN",
    "SANDBOX_USERNAME",
    "STATE_VERSION",
    "check_state",
    "seed_state",
    "state_digest",
]

# Public by design: the sandbox is a local test double, not a secured service.
SANDBOX_USERNAME = "admin"
SANDBOX_PASSWORD = "sandbox"  # noqa: S105
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105
AUDITOR_USERNAME = "auditor"
AUDITOR_PASSWORD = "auditor"  # noqa: S105

STATE_VERSION = 1

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
) -> dict[str, Any]:
    """A complete, idle task row."""
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
        "system_created": False,
        "id": ident if ident is not None else task_id(key),
        "progress": 100 if last_run else 0,
        "error": "",
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
    row.update({"task": None, "system_created": False, "creator": creator})
    return row


def _keyed(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(row["$key"]): row for row in rows}


def _owner(key: int, name: str, description: str, **extra: Any) -> dict[str, Any]:
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
        "tasks": tasks,
        "task_schedules": schedules,
        "task_schedule_triggers": triggers,
        "task_events": events,
        "task_scripts": scripts,
    }
    return {
        "version": STATE_VERSION,
        "next_key": {name: len(rows) + 1 for name, rows in tables.items()},
        "tables": {name: _keyed(rows) for name, rows in tables.items()},
    }


def canonical_json(state: Any) -> bytes:
    """The canonical encoding digests are computed over."""
    return json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def state_digest(state: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``state``."""
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
    for name in TABLES:
        rows = tables.get(name)
        if not isinstance(rows, dict) or not all(isinstance(r, dict) for r in rows.values()):
            return f"table {name!r} is missing or malformed"
        key = next_key.get(name)
        if not isinstance(key, int) or isinstance(key, bool):
            return f"next_key of {name!r} is missing or malformed"
    return None
