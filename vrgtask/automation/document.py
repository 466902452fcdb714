"""The automation document: reading, checking, writing, and its JSON Schema.

A document (YAML, or JSON, which YAML reads too)::

    version: 1
    schedules:
      - name: weekdays-0630
        repeat_every: day
        start_time: "06:30"
        days: weekdays
    scripts:
      - name: say-hello
        code: |
          log('hello')
    tasks:
      - name: wake-build-runner
        owner: vms/build-runner          # table/name, or table/key (vms/3)
        action: poweron
        triggers: [weekdays-0630]        # schedule names
        events:
          - {event: login, table: users, owner: users/ops}

Everything is checked before any request: every problem is reported as
``FILE:LINE: message`` (all of them, not just the first). PyYAML's safe
loader parses; the line numbers come from its nodes. Plain YAML scalars that
YAML 1.1 would read as base-60 numbers (``12:30``) are kept as the text
written, so times of day need no quotes.

A field left out means its default (``enabled: true``, an empty
``description``, no ``events`` ...), except ``start_date`` of a schedule and
``settings`` of a script, which are then left as the system has them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import click

from vrgtask.errors import ExitCode, VrgtaskError
from vrgtask.owners import OwnerRef, OwnerSyntaxError, parse_owner

__all__ = [
    "DAY_NAMES",
    "DOCUMENT_VERSION",
    "SCHEDULE_API_KEYS",
    "Document",
    "DocumentError",
    "EventSpec",
    "ScheduleSpec",
    "ScriptSpec",
    "TaskSpec",
    "days_text",
    "dump_document",
    "load_document",
    "parse_document",
    "schema",
]

DOCUMENT_VERSION = 1
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TASK_NAME_MAX = 64
DAY_SECONDS = 86400


class DocumentError(VrgtaskError, exit_code=ExitCode.USAGE):
    """The document has problems; ``problems`` are ``FILE:LINE: message`` lines."""

    def __init__(self, path: str, problems: list[str]) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{path}: {count} {noun} in the document; nothing was sent")
        self.problems = problems


@dataclass
class ScheduleSpec:
    name: str
    line: int
    #: Document field -> canonical value (times in seconds, days a 7-tuple of bools).
    fields: dict[str, Any]


@dataclass
class ScriptSpec:
    name: str
    line: int
    fields: dict[str, Any]


@dataclass
class EventSpec:
    event: str
    table: str
    owner: OwnerRef | None
    filters: dict[str, Any] | None
    context: dict[str, Any] | None
    line: int
    owner_line: int


@dataclass
class TaskSpec:
    name: str
    line: int
    owner: OwnerRef
    owner_line: int
    #: description, enabled, delete_after_run, action, settings.
    fields: dict[str, Any]
    triggers: list[tuple[str, int]] = field(default_factory=list)
    events: list[EventSpec] = field(default_factory=list)


@dataclass
class Document:
    path: str
    schedules: list[ScheduleSpec] = field(default_factory=list)
    scripts: list[ScriptSpec] = field(default_factory=list)
    tasks: list[TaskSpec] = field(default_factory=list)


# -- YAML with line numbers -------------------------------------------------


@dataclass
class _Y:
    """A parsed value and the (1-based) line it starts on.

    Mappings hold ``dict[str, _Y]``, sequences ``list[_Y]``, scalars themselves.
    """

    value: Any
    line: int


class _Problems:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))

    def raise_if_any(self) -> None:
        if self.items:
            lines = [f"{self.path}:{line}: {msg}" for line, msg in sorted(self.items)]
            raise DocumentError(self.path, lines)


def _node_value(loader: Any, node: Any, problems: _Problems) -> _Y:
    import yaml

    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[str, _Y] = {}
        for key_node, value_node in node.value:
            key = _node_value(loader, key_node, problems)
            if not isinstance(key.value, str):
                problems.add(key.line, f"a key must be text, not {key.value!r}")
                continue
            if key.value in out:
                problems.add(
                    key.line,
                    f"key {key.value!r} appears twice (first on line {out[key.value].line})",
                )
                continue
            item = _node_value(loader, value_node, problems)
            # A value is reported on its key's line (a nested block starts below it).
            out[key.value] = _Y(item.value, key.line)
        return _Y(out, line)
    if isinstance(node, yaml.SequenceNode):
        return _Y([_node_value(loader, item, problems) for item in node.value], line)
    # Scalars: YAML 1.1 reads 12:30 as 750 (base 60): keep times as written.
    if not node.style and ":" in node.value and node.tag.endswith((":int", ":float")):
        return _Y(node.value, line)
    try:
        return _Y(loader.construct_object(node, deep=True), line)
    except Exception:  # a malformed timestamp and the like: keep the text
        return _Y(node.value, line)


def _parse_yaml(text: str, problems: _Problems) -> _Y | None:
    import yaml

    if text.lstrip().startswith(("{", "[")):
        # JSON: a tab may indent JSON but not YAML; inside JSON strings tabs
        # are escaped (\t), so spaces change nothing else and keep the lines.
        text = text.replace("\t", " ")
    # The C loader (libyaml) when PyYAML has it: the same nodes and marks, faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            problems.add(1, "the document is empty")
            return None
        return _node_value(loader, node, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        problems.add(line, f"not valid YAML or JSON: {what or exc}")
        return None
    except yaml.YAMLError as exc:
        problems.add(1, f"not valid YAML or JSON: {exc}")
        return None
    finally:
        loader.dispose()


# -- field checks -----------------------------------------------------------

_TYPE_WORDS = {str: "text", bool: "true or false", int: "a whole number", dict: "a mapping"}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _plain(y: _Y) -> Any:
    """A parsed value without line numbers (for settings, filters, context)."""
    value = y.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Checker:
    """Checks one mapping of the document; problems go to the shared list."""

    def __init__(self, problems: _Problems, item: _Y, what: str, allowed: tuple[str, ...]) -> None:
        self.problems = problems
        self.item = item
        self.what = what
        self.ok = True
        self.values: dict[str, _Y] = item.value if isinstance(item.value, dict) else {}
        if not isinstance(item.value, dict):
            self.fail(item.line, f"{what} must be a mapping, not {_kind(item.value)}")
            return
        for key, value in self.values.items():
            if key not in allowed:
                self.fail(
                    value.line, f"{what}: unknown key {key!r} (allowed: {', '.join(allowed)})"
                )

    def fail(self, line: int, message: str) -> None:
        self.ok = False
        self.problems.add(line, message)

    def line(self, key: str) -> int:
        found = self.values.get(key)
        return found.line if found is not None else self.item.line

    def text(self, key: str, *, required: bool = False, default: str | None = "") -> str | None:
        found = self.values.get(key)
        if found is None:
            if required:
                self.fail(self.item.line, f"{self.what}: {key!r} is required")
            return default
        if found.value is None and not required:
            return default
        if not isinstance(found.value, str):
            hint = " (quote it)" if isinstance(found.value, bool | int | float | date) else ""
            self.fail(
                found.line, f"{self.what}: {key!r} must be text, not {_kind(found.value)}{hint}"
            )
            return default
        if required and not found.value.strip():
            self.fail(found.line, f"{self.what}: {key!r} must not be empty")
        return found.value

    def boolean(self, key: str, default: bool) -> bool:
        found = self.values.get(key)
        if found is None:
            return default
        if not isinstance(found.value, bool):
            self.fail(
                found.line, f"{self.what}: {key!r} must be true or false, not {found.value!r}"
            )
            return default
        return found.value

    def integer(self, key: str, default: int, minimum: int) -> int:
        found = self.values.get(key)
        if found is None:
            return default
        value = found.value
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(
                found.line,
                f"{self.what}: {key!r} must be a whole number >= {minimum}, not {value!r}",
            )
            return default
        return value

    def items(
        self, key: str, expected: str = "a list, not {kind}", *, prefixed: bool = True
    ) -> list[_Y]:
        """The items of list ``key``: none when it is absent or null; when it
        is not a list, none and the problem "``key`` must be ``expected``"."""
        found = self.values.get(key)
        if found is None or found.value is None:
            return []
        if not isinstance(found.value, list):
            where = f"{self.what}: " if prefixed else ""
            must = expected.format(kind=_kind(found.value))
            self.fail(found.line, f"{where}{key!r} must be {must}")
            return []
        items: list[_Y] = found.value
        return items

    def mapping(self, key: str) -> dict[str, Any] | None:
        found = self.values.get(key)
        if found is None or found.value is None:
            return None
        if not isinstance(found.value, dict):
            self.fail(
                found.line, f"{self.what}: {key!r} must be a mapping, not {_kind(found.value)}"
            )
            return None
        plain: dict[str, Any] = _plain(found)
        return plain

    def choice(self, key: str, choices: list[str], default: str) -> str:
        found = self.values.get(key)
        if found is None:
            return default
        if found.value not in choices:
            self.fail(
                found.line,
                f"{self.what}: {key!r} must be one of {', '.join(choices)}, not {found.value!r}",
            )
            return default
        return str(found.value)

    def param(self, key: str, param_type: Any, default: Any) -> Any:
        """A value checked by one of the CLI's own parameter types."""
        found = self.values.get(key)
        if found is None:
            return default
        value = found.value
        if isinstance(value, date):
            value = value.isoformat()
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.fail(found.line, f"{self.what}: {key!r}: {value!r} is not valid")
            return default
        try:
            return param_type.convert(value, None, None)
        except click.BadParameter as exc:
            self.fail(found.line, f"{self.what}: {key!r}: {exc.message}")
            return default


def _name_of(item: _Y) -> str:
    if isinstance(item.value, dict):
        name = item.value.get("name")
        if name is not None and isinstance(name.value, str):
            return name.value
    return ""


def days_text(flags: tuple[bool, ...]) -> str:
    """Seven day flags (Monday first) as the CLI writes days: weekdays, mon,wed ..."""
    chosen = [day for day, on in zip(DAY_NAMES, flags, strict=True) if on]
    if len(chosen) == 7:
        return "all"
    if chosen == list(DAY_NAMES[:5]):
        return "weekdays"
    if chosen == list(DAY_NAMES[5:]):
        return "weekend"
    if not chosen:
        return "none"
    return ",".join(day[:3] for day in chosen)


def _schedule(c: _Checker) -> ScheduleSpec | None:
    from vrgtask.schedtime import (
        DAY_OF_MONTH_CHOICES,
        REPEAT_CHOICES,
        DaysType,
        ScheduleDate,
        TimeOfDay,
    )

    name = c.text("name", required=True)
    fields: dict[str, Any] = {
        "description": c.text("description") or "",
        "enabled": c.boolean("enabled", True),
        "repeat_every": c.choice("repeat_every", REPEAT_CHOICES, "hour"),
        "repeat_iteration": c.integer("repeat_iteration", 1, 1),
        "end_date": "",
        "start_time": c.param("start_time", TimeOfDay(), 0),
        "end_time": c.param("end_time", TimeOfDay(), DAY_SECONDS),
        "day_of_month": c.choice("day_of_month", DAY_OF_MONTH_CHOICES, "start_date"),
    }
    if "start_date" in c.values:
        fields["start_date"] = c.param("start_date", ScheduleDate(), None)
    end = c.values.get("end_date")
    if end is not None and end.value not in (None, ""):
        fields["end_date"] = c.param("end_date", ScheduleDate(), "")
    days_node = c.values.get("days")
    if days_node is not None and days_node.value == "none":
        fields["days"] = (False,) * 7
    else:
        flags = c.param("days", DaysType(), dict.fromkeys(DAY_NAMES, True))
        fields["days"] = tuple(bool(flags[day]) for day in DAY_NAMES)
    if fields["end_time"] < fields["start_time"]:
        c.fail(c.line("end_time"), f"{c.what}: 'end_time' is before 'start_time'")
    start_date = fields.get("start_date")
    if start_date and fields["end_date"] and fields["end_date"] < start_date:
        c.fail(c.line("end_date"), f"{c.what}: 'end_date' is before 'start_date'")
    if not c.ok or name is None:
        return None
    return ScheduleSpec(name, c.item.line, fields)


def _script(c: _Checker) -> ScriptSpec | None:
    name = c.text("name", required=True)
    fields: dict[str, Any] = {
        "description": c.text("description") or "",
        "code": c.text("code", required=True, default=None),
    }
    if "settings" in c.values:
        fields["settings"] = c.mapping("settings")
    if not c.ok or name is None:
        return None
    return ScriptSpec(name, c.item.line, fields)


def _owner(c: _Checker, key: str, required: bool) -> OwnerRef | None:
    text = c.text(key, required=required, default=None)
    if text is None:
        return None
    try:
        return parse_owner(text)
    except OwnerSyntaxError as exc:
        c.fail(c.line(key), f"{c.what}: {key!r}: {exc}")
        return None


def _events(c: _Checker, problems: _Problems) -> list[EventSpec]:
    events: list[EventSpec] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, item in enumerate(c.items("events"), 1):
        e = _Checker(problems, item, f"{c.what}, event {index}", _EVENT_KEYS)
        event = e.text("event", required=True)
        table = e.text("table", required=True)
        owner = _owner(e, "owner", False)
        filters = e.mapping("filters")
        context = e.mapping("context")
        if not e.ok:
            c.ok = False
            continue
        assert event is not None
        assert table is not None
        identity = (event, table, str(owner) if owner else "")
        if identity in seen:
            c.fail(item.line, f"{e.what}: the same event as on line {seen[identity]}")
            continue
        seen[identity] = item.line
        events.append(EventSpec(event, table, owner, filters, context, item.line, e.line("owner")))
    return events


def _triggers(c: _Checker) -> list[tuple[str, int]]:
    names: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    for item in c.items("triggers", "a list of schedule names"):
        if not isinstance(item.value, str) or not item.value.strip():
            c.fail(item.line, f"{c.what}: a trigger must be a schedule name, not {item.value!r}")
        elif item.value in seen:
            c.fail(item.line, f"{c.what}: schedule {item.value!r} is listed twice")
        else:
            seen[item.value] = item.line
            names.append((item.value, item.line))
    return names


def _task(c: _Checker, problems: _Problems) -> TaskSpec | None:
    name = c.text("name", required=True)
    if name is not None and len(name) > TASK_NAME_MAX:
        c.fail(c.line("name"), f"{c.what}: 'name' is longer than {TASK_NAME_MAX} characters")
    owner = _owner(c, "owner", True)
    action = c.text("action", required=True)
    fields: dict[str, Any] = {
        "action": action,
        "description": c.text("description") or "",
        "enabled": c.boolean("enabled", True),
        "delete_after_run": c.boolean("delete_after_run", False),
        "settings": c.mapping("settings") or {},
    }
    triggers = _triggers(c)
    events = _events(c, problems)
    if not c.ok or name is None or owner is None:
        return None
    return TaskSpec(name, c.item.line, owner, c.line("owner"), fields, triggers, events)


_TOP_KEYS = ("version", "schedules", "scripts", "tasks")
#: The schedule keys a document spells as the API's fields.
SCHEDULE_API_KEYS = (
    "name",
    "description",
    "enabled",
    "repeat_every",
    "repeat_iteration",
    "start_date",
    "end_date",
)
_SCHEDULE_KEYS = (*SCHEDULE_API_KEYS, "start_time", "end_time", "days", "day_of_month")
_SCRIPT_KEYS = ("name", "description", "code", "settings")
_TASK_KEYS = (
    "name",
    "owner",
    "action",
    "description",
    "enabled",
    "delete_after_run",
    "settings",
    "triggers",
    "events",
)
_EVENT_KEYS = ("event", "table", "owner", "filters", "context")


def _section(root: _Checker, key: str) -> list[_Y]:
    items = root.items(key, prefixed=False)
    seen: dict[str, int] = {}
    for item in items:
        name = _name_of(item)
        if not name:
            continue
        if name in seen:
            root.fail(item.line, f"{key}: {name!r} appears twice (first on line {seen[name]})")
        else:
            seen[name] = item.line
    return items


def parse_document(text: str, path: str) -> Document:
    """Parse and check a document. Raises DocumentError listing every problem."""
    problems = _Problems(path)
    parsed = _parse_yaml(text, problems)
    if parsed is None:
        problems.raise_if_any()
        raise DocumentError(path, [f"{path}:1: the document is empty"])
    root = _Checker(problems, parsed, "the document", _TOP_KEYS)
    doc = Document(path)
    if root.values:
        version = root.values.get("version")
        if version is None:
            root.fail(parsed.line, f"'version: {DOCUMENT_VERSION}' is missing")
        elif version.value != DOCUMENT_VERSION or isinstance(version.value, bool):
            root.fail(
                version.line,
                f"version {version.value!r} is not supported (this vrgtask reads version "
                f"{DOCUMENT_VERSION})",
            )
    for index, item in enumerate(_section(root, "schedules"), 1):
        label = f"schedule {_name_of(item) or index!r}"
        sched = _schedule(_Checker(problems, item, label, _SCHEDULE_KEYS))
        if sched is not None:
            doc.schedules.append(sched)
    for index, item in enumerate(_section(root, "scripts"), 1):
        label = f"script {_name_of(item) or index!r}"
        script = _script(_Checker(problems, item, label, _SCRIPT_KEYS))
        if script is not None:
            doc.scripts.append(script)
    for index, item in enumerate(_section(root, "tasks"), 1):
        label = f"task {_name_of(item) or index!r}"
        task = _task(_Checker(problems, item, label, _TASK_KEYS), problems)
        if task is not None:
            doc.tasks.append(task)
    problems.raise_if_any()
    return doc


def load_document(source: str) -> Document:
    """Read FILE (``-`` for standard input) and parse it."""
    import sys

    if source == "-":
        text = sys.stdin.read()
        path = "<stdin>"
    else:
        try:
            with open(source, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise VrgtaskError(
                f"cannot read {source}: {exc.strerror or exc}", exit_code=ExitCode.USAGE
            ) from None
        path = source
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise DocumentError(path, [f"{path}:{line}: not UTF-8 text"]) from None
    return parse_document(text, path)


# -- writing ----------------------------------------------------------------


def dump_document(document: dict[str, Any], output: str) -> str:
    """The document as YAML (multi-line text as literal blocks) or JSON."""
    if output == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _text)
    text: str = yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text


# -- JSON Schema ------------------------------------------------------------


def schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the document, for editors."""
    from vrgtask.schedtime import DAY_OF_MONTH_CHOICES, REPEAT_CHOICES

    text = {"type": "string"}
    name = {"type": "string", "minLength": 1}
    time_of_day = {
        "description": "HH:MM[:SS] (24:00 = end of day) or seconds after midnight",
        "oneOf": [
            {"type": "string", "pattern": "^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$"},
            {"type": "integer", "minimum": 0, "maximum": DAY_SECONDS},
        ],
    }
    day = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    owner = {
        "type": "string",
        "description": "table/name (vms/web-01) or table/key (vms/12)",
        "pattern": "^[a-z_][a-z0-9_]*/.+$",
    }
    obj = {"type": ["object", "null"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "vrgtask automation document",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"const": DOCUMENT_VERSION},
            "schedules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": name,
                        "description": text,
                        "enabled": {"type": "boolean", "default": True},
                        "repeat_every": {"enum": REPEAT_CHOICES, "default": "hour"},
                        "repeat_iteration": {"type": "integer", "minimum": 1, "default": 1},
                        "start_date": day,
                        "end_date": {"oneOf": [day, {"const": ""}, {"type": "null"}]},
                        "start_time": time_of_day,
                        "end_time": time_of_day,
                        "days": {
                            "type": "string",
                            "description": "mon,wed,fri / monday,... / weekdays / weekend / all "
                            "/ none",
                        },
                        "day_of_month": {"enum": DAY_OF_MONTH_CHOICES, "default": "start_date"},
                    },
                },
            },
            "scripts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name", "code"],
                    "properties": {
                        "name": name,
                        "description": text,
                        "code": text,
                        "settings": obj,
                    },
                },
            },
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name", "owner", "action"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": TASK_NAME_MAX},
                        "owner": owner,
                        "action": name,
                        "description": text,
                        "enabled": {"type": "boolean", "default": True},
                        "delete_after_run": {"type": "boolean", "default": False},
                        "settings": obj,
                        "triggers": {"type": "array", "items": name, "uniqueItems": True},
                        "events": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["event", "table"],
                                "properties": {
                                    "event": name,
                                    "table": name,
                                    "owner": owner,
                                    "filters": obj,
                                    "context": obj,
                                },
                            },
                        },
                    },
                },
            },
        },
    }
