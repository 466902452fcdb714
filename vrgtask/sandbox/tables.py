"""The tables the sandbox serves: columns, types, references, display texts.

Only static knowledge lives here; behaviour (validation of meanings, actions,
the execution model) is in :mod:`vrgtask.sandbox.emulator`. Where each fact
comes from is listed in ``docs/platform-behaviour.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ACTION_TABLES",
    "DAY_OF_MONTH_OPTIONS",
    "LOG_LEVELS",
    "LOG_OBJECT_TYPES",
    "OWNER_ACTIONS",
    "OWNER_TABLES",
    "REPEAT_INTERVALS",
    "TABLES",
    "TASK_STATUS_DISPLAY",
    "Column",
    "Relation",
    "TableSpec",
]

#: The display texts pyvergeos uses (``pyvergeos.resources.task_schedules``).
REPEAT_INTERVALS: Mapping[str, str] = {
    "minute": "Minute(s)",
    "hour": "Hour(s)",
    "day": "Day(s)",
    "week": "Week(s)",
    "month": "Month(s)",
    "year": "Year(s)",
    "never": "Does Not Repeat",
}

DAY_OF_MONTH_OPTIONS: Mapping[str, str] = {
    "first": "First",
    "last": "Last",
    "15th": "15th",
    "start_date": "Start Date",
}

#: Only ``idle`` and ``running``: the Go SDK (``types_task.go``), the TypeScript
#: SDK (``services/task/types.ts``: "Error detection is not possible via status
#: alone -- check task logs for failure details"), PSVergeOS ``Get-VergeTask``
#: (ValidateSet Running/Idle) and the pyvergeos ``tasks.py`` docstring agree.
TASK_STATUS_DISPLAY: Mapping[str, str] = {
    "idle": "Idle",
    "running": "Running",
}

#: pyvergeos ``resources/logs.py`` ``LOG_LEVELS``.
LOG_LEVELS = ("critical", "error", "warning", "message", "audit", "summary", "debug")

#: Table -> the ``object_type`` its log entries carry. ``task`` is pyvergeos'
#: ``OBJECT_TYPE_MAP["Task"]``; the others are inferred (singular table names).
LOG_OBJECT_TYPES: Mapping[str, str] = {
    "tasks": "task",
    "task_schedules": "task_schedule",
    "task_schedule_triggers": "task_schedule_trigger",
    "task_events": "task_event",
    "task_scripts": "task_script",
}

_POWER = {"poweron": "Power On", "poweroff": "Power Off", "reset": "Reset"}

#: Owner table -> {action: action_display}. A task's action must be one of its
#: owner table's actions (else 400). Sources: pyvergeos ``vms.py`` (``vm_actions``:
#: poweron, poweroff, kill, reset; no ``shutdown``) and ``snapshot``; the VergeOS
#: API and product guides (nodes: maintenance / leavemaintenance; clusters:
#: shutdown / cancel_shutdown; smtp and webhook "send"; update check / download /
#: install -- those three names inferred from the UI). Tenants share the
#: VM power verbs (inferred); ``vm_recipes`` rows have string keys
#: (``vm_recipes/nas-winbind``, API guide), their action name is inferred.
OWNER_ACTIONS: Mapping[str, Mapping[str, str]] = {
    "vms": {
        "poweron": "Power On",
        "poweroff": "Power Off",
        "kill": "Kill Power",
        "reset": "Reset",
        "snapshot": "Take Snapshot",
    },
    "tenants": dict(_POWER),
    "users": {"enable": "Enable", "disable": "Disable"},
    "vnets": dict(_POWER),
    "nodes": {"maintenance": "Enable Maintenance Mode", "leavemaintenance": "Leave Maintenance"},
    "clusters": {"shutdown": "Shut Down", "cancel_shutdown": "Cancel Shutdown"},
    "smtp_settings": {"send": "Send Email"},
    "webhook_urls": {"send": "Send Webhook"},
    "update_settings": {"check": "Check for Updates", "download": "Download", "install": "Install"},
    "vm_recipes": {"deploy": "Deploy Recipe"},
    "task_scripts": {"run": "Run Script"},
}

OWNER_TABLES = frozenset(OWNER_ACTIONS)

#: ``{table}_actions`` table -> (row table, the body field naming the row).
#: The Go and TypeScript SDKs send ``POST /task_actions {"task": K, "action":
#: "execute", "params": {...}}``; the API guide describes every ``*_actions``
#: table that way. The same rule is applied to the other task-engine tables.
ACTION_TABLES: Mapping[str, tuple[str, str]] = {
    "task_actions": ("tasks", "task"),
    "task_schedule_actions": ("task_schedules", "task_schedule"),
    "task_schedule_trigger_actions": ("task_schedule_triggers", "task_schedule_trigger"),
    "task_event_actions": ("task_events", "task_event"),
    "task_script_actions": ("task_scripts", "task_script"),
}


@dataclass(frozen=True)
class Column:
    """One column.

    ``type`` is the JSON type a write must carry: ``int``, ``str``, ``bool``,
    ``object``, ``ref`` (a ``"table/key"`` string) or ``key`` (an integer key
    into ``ref_table``). ``derived`` columns are computed on read.
    """

    name: str
    type: str
    nullable: bool = False
    create: bool = False
    update: bool = False
    derived: bool = False
    ref_table: str | None = None
    choices: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Relation:
    """``count(name)``: rows of ``table`` whose ``column`` points at the row."""

    table: str
    column: str
    #: Compare with the ``"{this table}/{key}"`` reference instead of the key.
    by_reference: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    display_column: str | None = "name"
    writable: bool = False
    actions: frozenset[str] = frozenset()
    relations: Mapping[str, Relation] = field(default_factory=dict)
    #: Rows are keyed by strings (``vm_recipes/nas-winbind``), not integers.
    string_keys: bool = False
    #: The columns ``fields=summary`` returns (None: ``$key`` and the display column).
    summary: tuple[str, ...] | None = None

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _c(name: str, type_: str, flags: str = "", **extra: object) -> Column:
    """Declare a column; flags: ``c`` create, ``u`` update, ``n`` nullable, ``d`` derived."""
    ref_table = extra.get("ref_table")
    choices = extra.get("choices")
    return Column(
        name=name,
        type=type_,
        nullable="n" in flags,
        create="c" in flags,
        update="u" in flags,
        derived="d" in flags,
        ref_table=ref_table if isinstance(ref_table, str) else None,
        choices=choices if isinstance(choices, Mapping) else None,
    )


def _owner_table(name: str, *extra: Column, string_keys: bool = False) -> TableSpec:
    return TableSpec(
        name=name,
        columns=(
            _c("$key", "str" if string_keys else "int"),
            _c("name", "str"),
            _c("description", "str"),
            *extra,
        ),
        string_keys=string_keys,
    )


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

TABLES: Mapping[str, TableSpec] = {
    "system": TableSpec(
        name="system",
        columns=(
            _c("$key", "int"),
            _c("yb_version", "str"),
            _c("os_version", "str"),
            _c("cloud_name", "str"),
        ),
        display_column="cloud_name",
    ),
    "vms": _owner_table("vms", _c("enabled", "bool"), _c("os_family", "str")),
    "tenants": _owner_table("tenants", _c("enabled", "bool")),
    "users": _owner_table("users", _c("enabled", "bool"), _c("displayname", "str")),
    "vnets": _owner_table("vnets", _c("type", "str")),
    "nodes": _owner_table("nodes"),
    "clusters": _owner_table("clusters"),
    "smtp_settings": _owner_table("smtp_settings"),
    "webhook_urls": _owner_table("webhook_urls", _c("url", "str")),
    "update_settings": _owner_table("update_settings"),
    "vm_recipes": _owner_table("vm_recipes", string_keys=True),
    "logs": TableSpec(
        name="logs",
        display_column="text",
        columns=(
            _c("$key", "int"),
            _c("level", "str"),
            _c("text", "str"),
            _c("timestamp", "int"),
            _c("user", "str"),
            _c("object_type", "str"),
            _c("object_name", "str"),
        ),
        summary=("$key", "level", "text", "timestamp"),
    ),
    "tasks": TableSpec(
        name="tasks",
        writable=True,
        actions=frozenset({"execute", "cancel"}),
        columns=(
            _c("$key", "int"),
            _c("name", "str", "cu"),
            _c("description", "str", "cu"),
            _c("enabled", "bool", "cu"),
            _c("status", "str", choices=TASK_STATUS_DISPLAY),
            _c("action", "str", "cu"),
            _c("action_display", "str"),
            _c("table", "str", "c"),
            _c("owner", "ref", "cu"),
            _c("creator", "ref", "n"),
            _c("last_run", "int"),
            _c("delete_after_run", "bool", "cu"),
            _c("system_created", "bool"),
            _c("id", "str"),
            _c("settings_args", "object", "cun"),
        ),
        summary=("$key", "name", "status", "enabled"),
        relations={
            "triggers": Relation("task_schedule_triggers", "task"),
            "events": Relation("task_events", "task"),
        },
    ),
    "task_schedules": TableSpec(
        name="task_schedules",
        writable=True,
        actions=frozenset({"get_schedule"}),
        columns=(
            _c("$key", "int"),
            _c("name", "str", "cu"),
            _c("description", "str", "cu"),
            _c("enabled", "bool", "cu"),
            _c("repeat_every", "str", "cu", choices=REPEAT_INTERVALS),
            _c("repeat_iteration", "int", "cu"),
            _c("start_date", "str", "cu"),
            _c("start_date_epoch", "int", "d"),
            _c("end_date", "str", "cun"),
            _c("start_time_of_day", "int", "cu"),
            _c("end_time_of_day", "int", "cu"),
            _c("all_day", "bool", "d"),
            _c("day_of_month", "str", "cu", choices=DAY_OF_MONTH_OPTIONS),
            *(_c(day, "bool", "cu") for day in _DAYS),
            _c("task", "key", "cun", ref_table="tasks"),
            _c("system_created", "bool"),
            _c("creator", "ref", "n"),
        ),
        relations={"triggers": Relation("task_schedule_triggers", "schedule")},
    ),
    "task_schedule_triggers": TableSpec(
        name="task_schedule_triggers",
        writable=True,
        actions=frozenset({"trigger"}),
        display_column=None,
        columns=(
            _c("$key", "int"),
            _c("task", "key", "c", ref_table="tasks"),
            _c("schedule", "key", "c", ref_table="task_schedules"),
            _c("trigger", "int", "d"),
        ),
    ),
    "task_events": TableSpec(
        name="task_events",
        writable=True,
        actions=frozenset({"trigger"}),
        display_column="event_name",
        columns=(
            _c("$key", "int"),
            _c("owner", "ref", "c"),
            _c("table", "str", "c"),
            _c("event", "str", "c"),
            _c("event_name", "str", "c"),
            _c("task", "key", "c", ref_table="tasks"),
            _c("table_event_filters", "object", "cun"),
            _c("trigger", "int"),
            _c("context", "object", "cun"),
        ),
    ),
    "task_scripts": TableSpec(
        name="task_scripts",
        writable=True,
        actions=frozenset({"run"}),
        columns=(
            _c("$key", "int"),
            _c("name", "str", "cu"),
            _c("description", "str", "cu"),
            _c("script", "str", "cu"),
            _c("task_settings", "object", "cu"),
        ),
        relations={"tasks": Relation("tasks", "owner", by_reference=True)},
    ),
}
