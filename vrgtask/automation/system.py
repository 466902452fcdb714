"""What a system has, read with a bounded number of requests, and its export.

Reading costs one list request per kind (tasks, schedules, triggers, events,
scripts), whatever the number of objects. Naming the owners in an export
costs one request per owner table (a filtered list of the names in use).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vrgtask.automation.document import (
    DAY_NAMES,
    DOCUMENT_VERSION,
    SCHEDULE_API_KEYS,
    days_text,
)
from vrgtask.errors import ConflictError, NotFoundError
from vrgtask.owners import STRING_KEY_TABLES, format_owner

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = [
    "SystemState",
    "export_document",
    "read_system",
    "schedule_fields",
    "script_fields",
    "task_fields",
]

TASK_FIELDS = (
    "$key",
    "name",
    "description",
    "enabled",
    "action",
    "owner",
    "owner#$display as owner_display",
    "delete_after_run",
    "system_created",
    "settings_args",
)
SCHEDULE_FIELDS = (
    "$key",
    *SCHEDULE_API_KEYS,
    "start_time_of_day",
    "end_time_of_day",
    "day_of_month",
    *DAY_NAMES,
    "system_created",
)
TRIGGER_FIELDS = ("$key", "task", "schedule")
EVENT_FIELDS = (
    "$key",
    "task",
    "owner",
    "owner#$display as owner_display",
    "table",
    "event",
    "table_event_filters",
    "context",
)
SCRIPT_FIELDS = ("$key", "name", "description", "script", "task_settings")

#: Kind -> (endpoint, projection).
ENDPOINTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "task": ("tasks", TASK_FIELDS),
    "schedule": ("task_schedules", SCHEDULE_FIELDS),
    "trigger": ("task_schedule_triggers", TRIGGER_FIELDS),
    "event": ("task_events", EVENT_FIELDS),
    "script": ("task_scripts", SCRIPT_FIELDS),
}


BOOL_COLUMNS = frozenset({"enabled", "delete_after_run", "system_created", *DAY_NAMES})
JSON_COLUMNS = frozenset({"settings_args", "task_settings", "table_event_filters", "context"})


def _boolean(value: Any) -> Any:
    """``"true"``/``"false"``/``1``/``0`` as booleans (some servers send text)."""
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value


def _json_value(value: Any) -> Any:
    """A JSON column sent back as text is read as the object it encodes."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        import json

        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _rows(reply: Any) -> list[dict[str, Any]]:
    """Rows as plain dicts: keys as text, booleans and JSON columns decoded."""
    if reply is None:
        return []
    if isinstance(reply, dict):
        reply = [reply]
    rows = [dict(row) for row in reply if isinstance(row, dict)]
    for row in rows:
        if row.get("$key") is not None:
            row["$key"] = str(row["$key"])
        for column in BOOL_COLUMNS.intersection(row):
            row[column] = _boolean(row[column])
        for column in JSON_COLUMNS.intersection(row):
            row[column] = _json_value(row[column])
    return rows


def list_kind(client: VergeClient, kind: str) -> list[dict[str, Any]]:
    """Every object of one kind, in one request."""
    endpoint, fields = ENDPOINTS[kind]
    return _rows(client._request("GET", endpoint, params={"fields": ",".join(fields)}))


def _key(value: Any) -> str | None:
    """A reference column (``12``, ``"12"`` or ``"tasks/12"``) as a key."""
    if value is None or value == "":
        return None
    text = str(value)
    return text.rpartition("/")[2]


@dataclass
class SystemState:
    tasks: list[dict[str, Any]]
    schedules: list[dict[str, Any]]
    triggers: list[dict[str, Any]]
    events: list[dict[str, Any]]
    scripts: list[dict[str, Any]]

    def __post_init__(self) -> None:
        self._by_task: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._by_name: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def _index(self, rows: list[dict[str, Any]], column: str, value: str) -> list[dict[str, Any]]:
        """Rows whose ``column`` is ``value``, from an index built on first use."""
        cache = self._by_task if column == "task" else self._by_name
        index = cache.get(str(id(rows)))
        if index is None:
            index = {}
            for row in rows:
                found = _key(row.get(column)) if column == "task" else str(row.get(column))
                index.setdefault(found or "", []).append(row)
            cache[str(id(rows))] = index
        return index.get(value, [])

    def triggers_of(self, task_key: str) -> list[dict[str, Any]]:
        return self._index(self.triggers, "task", task_key)

    def events_of(self, task_key: str) -> list[dict[str, Any]]:
        return self._index(self.events, "task", task_key)

    def named(self, rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
        """The rows of one kind (``self.tasks`` ...) with this name."""
        return self._index(rows, "name", name)


def read_system(client: VergeClient) -> SystemState:
    """One list request per kind."""
    return SystemState(
        tasks=list_kind(client, "task"),
        schedules=list_kind(client, "schedule"),
        triggers=list_kind(client, "trigger"),
        events=list_kind(client, "event"),
        scripts=list_kind(client, "script"),
    )


# -- documents fields from rows ---------------------------------------------


def _seconds(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def schedule_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A schedule row in the document's terms (canonical values)."""
    return {
        "description": row.get("description") or "",
        "enabled": bool(row.get("enabled", True)),
        "repeat_every": row.get("repeat_every") or "hour",
        "repeat_iteration": _seconds(row.get("repeat_iteration"), 1),
        "start_date": str(row.get("start_date") or "")[:10],
        "end_date": str(row.get("end_date") or "")[:10],
        "start_time": _seconds(row.get("start_time_of_day"), 0),
        "end_time": _seconds(row.get("end_time_of_day"), 86400),
        "days": tuple(bool(row.get(day, False)) for day in DAY_NAMES),
        "day_of_month": row.get("day_of_month") or "start_date",
    }


def script_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": row.get("description") or "",
        "code": row.get("script") or "",
        "settings": row.get("task_settings"),
    }


def task_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": row.get("action") or "",
        "description": row.get("description") or "",
        "enabled": bool(row.get("enabled", True)),
        "delete_after_run": bool(row.get("delete_after_run", False)),
        "settings": row.get("settings_args") or {},
    }


# -- export -----------------------------------------------------------------


def _duplicates(rows: list[dict[str, Any]], noun: str) -> None:
    counts = Counter(row.get("name") for row in rows)
    for name, count in counts.items():
        if count > 1:
            keys = ", ".join(str(r.get("$key")) for r in rows if r.get("name") == name)
            raise ConflictError(
                f"{count} {noun}s are named {name!r} (keys {keys}); a document names each "
                f"object once: rename one (vrgtask {noun} update KEY --name NEW)"
            )


class OwnerNamer:
    """Writes owners as ``table/name`` when the name is unique in its table.

    One filtered request per owner table, for the names in use there.
    """

    CHUNK = 40

    def __init__(self, client: VergeClient, scripts: list[dict[str, Any]]) -> None:
        self.client = client
        self.counts: dict[str, Counter[str]] = {
            "task_scripts": Counter(str(s.get("name")) for s in scripts)
        }
        self.names: dict[tuple[str, str], str] = {
            ("task_scripts", str(s.get("$key"))): str(s.get("name")) for s in scripts
        }

    def learn(self, refs: list[tuple[str, str, str]]) -> None:
        """``refs``: (table, key, display name) of every owner to be written."""
        from pyvergeos.filters import quote_value

        wanted: dict[str, set[str]] = {}
        for table, key, display in refs:
            if table == "task_scripts" or table in STRING_KEY_TABLES or not display:
                continue
            self.names[(table, key)] = display
            wanted.setdefault(table, set()).add(display)
        for table, names in sorted(wanted.items()):
            counts: Counter[str] = Counter()
            ordered = sorted(names)
            for start in range(0, len(ordered), self.CHUNK):
                chunk = ordered[start : start + self.CHUNK]
                flt = " or ".join(f"(name eq {quote_value(n)})" for n in chunk)
                try:
                    rows = _rows(
                        self.client._request(
                            "GET", table, params={"filter": flt, "fields": "$key,name"}
                        )
                    )
                except Exception:  # a table without names: owners stay table/key
                    counts = Counter(dict.fromkeys(names, 2))
                    break
                counts.update(str(r.get("name")) for r in rows if r.get("name") in names)
            self.counts[table] = counts

    def write(self, ref: Any) -> str:
        table, _, key = str(ref).partition("/")
        name = self.names.get((table, key))
        unique = name is not None and self.counts.get(table, Counter()).get(name, 0) == 1
        return format_owner(table, key, name, unique)


def _time(seconds: int) -> str:
    from vrgtask.schedtime import seconds_to_time

    return seconds_to_time(seconds)


def export_document(
    client: VergeClient,
    state: SystemState,
    tasks: tuple[str, ...] = (),
    include_system: bool = False,
) -> dict[str, Any]:
    """The document that describes what the system has (sorted by name)."""
    chosen = [t for t in state.tasks if include_system or not t.get("system_created")]
    if tasks:
        picked: list[dict[str, Any]] = []
        for name in tasks:
            found = [t for t in state.tasks if t.get("name") == name]
            if len(found) > 1:
                _duplicates(found, "task")
            if not found:
                raise NotFoundError(f"no task is named {name!r}")
            picked.extend(f for f in found if f not in picked)
        chosen = picked
    _duplicates(chosen, "task")
    schedule_by_key = {s["$key"]: s for s in state.schedules}
    schedules = [s for s in state.schedules if include_system or not s.get("system_created")]
    scripts = list(state.scripts)
    if tasks:
        used = {_key(t.get("schedule")) for c in chosen for t in state.triggers_of(c["$key"])}
        schedules = [s for s in schedules if s["$key"] in used]
        owned = {
            str(c.get("owner")).partition("/")[2]
            for c in chosen
            if str(c.get("owner")).startswith("task_scripts/")
        }
        scripts = [s for s in scripts if s["$key"] in owned]
    _duplicates(schedules, "schedule")
    namer = OwnerNamer(client, state.scripts)
    refs: list[tuple[str, str, str]] = []
    for row in [*chosen, *(e for c in chosen for e in state.events_of(c["$key"]))]:
        table, _, key = str(row.get("owner") or "").partition("/")
        refs.append((table, key, str(row.get("owner_display") or "")))
    namer.learn(refs)

    doc: dict[str, Any] = {"version": DOCUMENT_VERSION}
    doc["schedules"] = [_schedule_entry(s) for s in sorted(schedules, key=_by_name)]
    doc["scripts"] = [_script_entry(s) for s in sorted(scripts, key=_by_name)]
    doc["tasks"] = [
        _task_entry(t, state, namer, schedule_by_key) for t in sorted(chosen, key=_by_name)
    ]
    return doc


def _by_name(row: dict[str, Any]) -> tuple[str, str]:
    return str(row.get("name")), str(row.get("$key"))


def _pick(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    """The ``names`` of ``fields``, in that order."""
    return {name: fields[name] for name in names}


def _schedule_entry(row: dict[str, Any]) -> dict[str, Any]:
    f = schedule_fields(row)
    entry: dict[str, Any] = {
        "name": row.get("name"),
        **_pick(f, "description", "enabled", "repeat_every", "repeat_iteration", "start_date"),
    }
    if f["end_date"]:
        entry["end_date"] = f["end_date"]
    entry.update(
        {
            "start_time": _time(f["start_time"]),
            "end_time": _time(f["end_time"]),
            "days": days_text(f["days"]),
            "day_of_month": f["day_of_month"],
        }
    )
    if not entry["start_date"]:
        del entry["start_date"]
    return entry


def _script_entry(row: dict[str, Any]) -> dict[str, Any]:
    f = script_fields(row)
    entry: dict[str, Any] = {"name": row.get("name"), "description": f["description"]}
    entry["code"] = f["code"]
    if f["settings"] is not None:
        entry["settings"] = f["settings"]
    return entry


def _task_entry(
    row: dict[str, Any],
    state: SystemState,
    namer: OwnerNamer,
    schedules: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    f = task_fields(row)
    entry: dict[str, Any] = {
        "name": row.get("name"),
        "owner": namer.write(row.get("owner")),
        **_pick(f, "action", "description", "enabled", "delete_after_run"),
    }
    if f["settings"]:
        entry["settings"] = f["settings"]
    triggers = []
    for trigger in state.triggers_of(row["$key"]):
        found = schedules.get(_key(trigger.get("schedule")) or "")
        triggers.append(str(found.get("name")) if found else str(trigger.get("schedule")))
    if triggers:
        entry["triggers"] = sorted(triggers)
    events = []
    for event in state.events_of(row["$key"]):
        item: dict[str, Any] = {
            "event": event.get("event"),
            "table": event.get("table"),
            "owner": namer.write(event.get("owner")),
        }
        if event.get("table_event_filters"):
            item["filters"] = event["table_event_filters"]
        if event.get("context"):
            item["context"] = event["context"]
        events.append(item)
    if events:
        entry["events"] = sorted(
            events, key=lambda e: (str(e["table"]), str(e["event"]), e["owner"])
        )
    return entry
