"""The changes that take a system to a document, and applying them.

Planning reads each kind once (:func:`vrgtask.automation.system.read_system`)
and looks up each distinct owner name once. Applying goes in dependency
order: schedules and scripts, tasks, then triggers and events; deletes come
last, in reverse. Every write is read back and compared with what was sent:
a field the server accepted but did not apply stops the apply (exit 1) and
is named. The first failed write stops the apply; the summary says what was
applied and what was not, and running the same apply again converges.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vrgtask.automation.document import DAY_NAMES, Document, DocumentError, TaskSpec, days_text
from vrgtask.automation.system import (
    SystemState,
    _key,
    schedule_fields,
    script_fields,
    task_fields,
)
from vrgtask.errors import ConflictError, NotFoundError, VrgtaskError
from vrgtask.owners import OwnerRef, lookup_owner_key
from vrgtask.text import value_text

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = ["Change", "Op", "Plan", "WriteNotApplied", "apply_plan", "build_plan"]

CREATE, UPDATE, DELETE = "create", "update", "delete"


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Op:
    verb: str
    kind: str
    name: str
    changes: list[Change] = field(default_factory=list)
    run: Callable[[Executor], None] | None = None
    system_created: bool = False

    @property
    def label(self) -> str:
        return f"{self.verb} {self.kind} {self.name!r}"


@dataclass
class Plan:
    ops: list[Op]

    @property
    def deletes(self) -> list[Op]:
        return [op for op in self.ops if op.verb == DELETE]

    def counts(self) -> dict[str, int]:
        return {
            verb: sum(1 for op in self.ops if op.verb == verb) for verb in (CREATE, UPDATE, DELETE)
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per changed field (one per object without fields)."""
        rows: list[dict[str, Any]] = []
        for op in self.ops:
            base = {"change": op.verb, "kind": op.kind, "name": op.name}
            if not op.changes:
                rows.append({**base, "field": "", "from": "", "to": ""})
            for change in op.changes:
                rows.append({**base, "field": change.field, "from": change.old, "to": change.new})
        return rows


# -- value display ----------------------------------------------------------


def _show(fieldname: str, value: Any) -> str:
    from vrgtask.schedtime import seconds_to_time

    if value is None:
        return ""
    if fieldname in ("start_time", "end_time") and isinstance(value, int):
        return seconds_to_time(value)
    if fieldname == "days" and isinstance(value, tuple):
        return days_text(value)
    return value_text(value, sort_keys=True)


def _empty(value: Any) -> bool:
    return value is None or value in ("", {}, [])


def same(sent: Any, found: Any) -> bool:
    """Equal for the purpose of a plan or a read-back (None, "" and {} alike)."""
    if _empty(sent) and _empty(found):
        return True
    if isinstance(sent, bool) or isinstance(found, bool):
        return sent is found or (
            isinstance(found, int | str)
            and str(found).lower() in (("true", "1") if sent else ("false", "0"))
        )
    if isinstance(sent, int) and isinstance(found, int | str) and not isinstance(found, bool):
        return str(sent) == str(found).strip()
    if isinstance(sent, dict) and isinstance(found, dict):
        return sent.keys() == found.keys() and all(same(v, found[k]) for k, v in sent.items())
    return bool(sent == found)


def _created(fields: dict[str, Any]) -> list[Change]:
    """The fields of a new object worth showing (empty ones are left out)."""
    return [Change(k, "", _show(k, v)) for k, v in fields.items() if not _empty(v)]


def _diff(current: dict[str, Any], desired: dict[str, Any]) -> list[Change]:
    return [
        Change(name, _show(name, current.get(name)), _show(name, value))
        for name, value in desired.items()
        if not same(value, current.get(name))
    ]


# -- writing ----------------------------------------------------------------


class WriteNotApplied(VrgtaskError):
    """The server answered a write with success but did not apply (all of) it."""


class Executor:
    """Writes through pyvergeos, each write read back and compared."""

    def __init__(self, client: VergeClient) -> None:
        self.client = client
        #: Keys of objects by kind and name, filled as objects are created.
        self.keys: dict[tuple[str, str], str] = {}

    def _read(self, table: str, key: str, fields: list[str]) -> dict[str, Any]:
        row = self.client._request("GET", f"{table}/{key}", params={"fields": ",".join(fields)})
        if isinstance(row, list):
            row = row[0] if row else None
        if not isinstance(row, dict):
            raise WriteNotApplied(f"{table}/{key} cannot be read back after the write")
        return row

    def _verify(self, table: str, key: str, body: dict[str, Any], what: str) -> None:
        from vrgtask.verify import same_value

        row = self._read(table, key, ["$key", *body])
        for name, sent in body.items():
            if _empty(sent) and _empty(row.get(name)):
                continue
            # the read-back comparison every verified write uses (JSON text, numbers as text)
            if name not in row or not same_value(sent, row.get(name)):
                shown = json.dumps(row.get(name), default=str) if name in row else "nothing"
                raise WriteNotApplied(
                    f"the server accepted field {name!r} of {what} but did not apply it "
                    f"(sent {json.dumps(sent, default=str)}, read back {shown})"
                )

    def create(self, table: str, body: dict[str, Any], what: str) -> str:
        receipt = self.client._request("POST", table, json_data=body)
        key = receipt.get("$key") if isinstance(receipt, dict) else None
        if key is None or str(key) == "":
            raise WriteNotApplied(f"the server did not return the key of the new {what}")
        self._verify(table, str(key), body, what)
        return str(key)

    def update(self, table: str, key: str, body: dict[str, Any], what: str) -> None:
        self.client._request("PUT", f"{table}/{key}", json_data=body)
        self._verify(table, key, body, what)

    def delete(self, table: str, key: str, what: str) -> None:
        from pyvergeos.exceptions import NotFoundError as SdkNotFound

        self.client._request("DELETE", f"{table}/{key}")
        try:
            self._read(table, key, ["$key"])
        except SdkNotFound:
            return
        except WriteNotApplied:
            return
        raise WriteNotApplied(f"the server accepted the delete of {what} but it is still there")


# -- request bodies ---------------------------------------------------------


def _schedule_body(fields: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "days":
            body.update(dict(zip(DAY_NAMES, value, strict=True)))
        elif name == "start_time":
            body["start_time_of_day"] = value
        elif name == "end_time":
            body["end_time_of_day"] = value
        else:
            body[name] = value
    return body


def _script_body(fields: dict[str, Any]) -> dict[str, Any]:
    names = {"code": "script", "settings": "task_settings"}
    return {names.get(k, k): v for k, v in fields.items()}


def _task_body(fields: dict[str, Any]) -> dict[str, Any]:
    body = {("settings_args" if k == "settings" else k): v for k, v in fields.items()}
    if body.get("settings_args") == {}:
        body["settings_args"] = None
    return body


# -- planning ---------------------------------------------------------------


def _one(
    state: SystemState, rows: list[dict[str, Any]], name: str, noun: str, where: str
) -> dict[str, Any] | None:
    found = state.named(rows, name)
    if len(found) > 1:
        keys = ", ".join(str(r.get("$key")) for r in found)
        raise ConflictError(
            f"{where}: {len(found)} {noun}s on the system are named {name!r} (keys {keys}); "
            "rename one so the document can name it; nothing was changed"
        )
    return found[0] if found else None


class _Owners:
    """Owner names to keys: one lookup per distinct name (scripts from the list)."""

    def __init__(self, client: VergeClient, doc: Document, state: SystemState) -> None:
        self.client = client
        self.doc = doc
        self.state = state
        self.cache: dict[tuple[str, str], str] = {}
        self.new_scripts = {s.name for s in doc.scripts} - {
            str(s.get("name")) for s in state.scripts
        }

    def ref(self, owner: OwnerRef, line: int) -> str:
        """``table/key``, or ``task_scripts/@NAME`` for a script this apply creates."""
        if owner.key is not None:
            return owner.ref
        assert owner.name is not None
        where = f"{self.doc.path}:{line}"
        if owner.table == "task_scripts":
            found = _one(self.state, self.state.scripts, owner.name, "script", where)
            if found is not None:
                return f"task_scripts/{found['$key']}"
            if owner.name in self.new_scripts:
                return f"task_scripts/@{owner.name}"
            raise NotFoundError(f"{where}: no script is named {owner.name!r}")
        cached = self.cache.get((owner.table, owner.name))
        if cached is None:
            try:
                cached = lookup_owner_key(self.client, owner.table, owner.name)
            except (ConflictError, NotFoundError) as exc:
                raise type(exc)(f"{where}: {exc.message}") from None
            self.cache[(owner.table, owner.name)] = cached
        return f"{owner.table}/{cached}"


def _owner_key(executor: Executor, ref: str) -> str:
    """A planned owner reference with a script created by this apply resolved."""
    table, _, key = ref.partition("/")
    if key.startswith("@"):
        return f"{table}/{executor.keys[('script', key[1:])]}"
    return ref


def _shown_owner(ref: str, display: Any) -> str:
    table, _, key = ref.partition("/")
    if key.startswith("@"):
        return f"{table}/{key[1:]}"
    return f"{ref} ({display})" if display else ref


def build_plan(client: VergeClient, doc: Document, state: SystemState, *, prune: bool) -> Plan:
    """Compare; refuse ambiguous names (exit 7) and unknown schedules (exit 2)."""
    owners = _Owners(client, doc, state)
    ops: list[Op] = []
    later: list[Op] = []  # triggers and events
    deletes: list[Op] = []
    problems: list[str] = []
    schedule_names = {s.name for s in doc.schedules}

    for sched in doc.schedules:
        where = f"{doc.path}:{sched.line}"
        row = _one(state, state.schedules, sched.name, "schedule", where)
        ops.extend(_plan_named(_SCHEDULE, sched.name, sched.fields, row))
    for script in doc.scripts:
        where = f"{doc.path}:{script.line}"
        row = _one(state, state.scripts, script.name, "script", where)
        ops.extend(_plan_named(_SCRIPT, script.name, script.fields, row))

    for task in doc.tasks:
        where = f"{doc.path}:{task.line}"
        row = _one(state, state.tasks, task.name, "task", where)
        owner = owners.ref(task.owner, task.owner_line)
        ops.extend(_plan_task(task, owner, row))
        for sched_name, line in task.triggers:
            if sched_name not in schedule_names:
                found = _one(state, state.schedules, sched_name, "schedule", f"{doc.path}:{line}")
                if found is None:
                    problems.append(
                        f"{doc.path}:{line}: task {task.name!r}: trigger names schedule "
                        f"{sched_name!r}, which is neither in the file nor on the system"
                    )
        if problems:
            continue
        later.extend(_plan_triggers(task, row, state))
        later.extend(_plan_events(task, owner, row, state, owners))
    if problems:
        raise DocumentError(doc.path, problems)

    if prune:
        # What the document uses is kept even when it does not declare it:
        # a schedule its triggers name, a script a task's owner names.
        used_schedules = schedule_names | {n for t in doc.tasks for n, _line in t.triggers}
        used_scripts = {s.name for s in doc.scripts} | {
            t.owner.name for t in doc.tasks if t.owner.table == "task_scripts" and t.owner.name
        }
        used_script_keys = {
            t.owner.key for t in doc.tasks if t.owner.table == "task_scripts" and t.owner.key
        }
        wanted_tasks = {t.name for t in doc.tasks}
        for row in state.tasks:
            if row.get("name") not in wanted_tasks and not row.get("system_created"):
                deletes.append(_delete_op("task", "tasks", row))
        for row in state.scripts:
            if row.get("name") not in used_scripts and str(row["$key"]) not in used_script_keys:
                deletes.append(_delete_op("script", "task_scripts", row))
        for row in state.schedules:
            if row.get("name") not in used_schedules and not row.get("system_created"):
                deletes.append(_delete_op("schedule", "task_schedules", row))
    sub_deletes = [op for op in later if op.verb == DELETE]
    later = [op for op in later if op.verb != DELETE]
    return Plan([*ops, *later, *sub_deletes, *deletes])


def _delete_op(kind: str, table: str, row: dict[str, Any]) -> Op:
    key = str(row["$key"])
    what = f"{kind} {row.get('name')!r} (key {key})"

    def run(ex: Executor) -> None:
        ex.delete(table, key, what)

    return Op(DELETE, kind, str(row.get("name")), run=run)


@dataclass(frozen=True)
class _Named:
    """How a named object without owner (a schedule, a script) is planned.

    ``optional`` is the field a create leaves out when ``is_unset`` says so
    (the server's default applies); ``flag_system`` marks an update of a
    system-created row.
    """

    kind: str
    table: str
    body_of: Callable[[dict[str, Any]], dict[str, Any]]
    current: Callable[[dict[str, Any]], dict[str, Any]]
    optional: str
    is_unset: Callable[[Any], bool]
    flag_system: bool = False


_SCHEDULE = _Named(
    "schedule", "task_schedules", _schedule_body, schedule_fields, "end_date", lambda v: not v, True
)
_SCRIPT = _Named(
    "script", "task_scripts", _script_body, script_fields, "task_settings", lambda v: v is None
)


def _plan_named(
    spec: _Named, name: str, fields: dict[str, Any], row: dict[str, Any] | None
) -> list[Op]:
    """Create the object when there is no ``row``, else update the fields
    that differ from it (none: no op)."""
    kind, table = spec.kind, spec.table
    if row is None:
        body = {"name": name, **spec.body_of(fields)}
        if spec.is_unset(body.get(spec.optional)):
            body.pop(spec.optional, None)

        def create(ex: Executor) -> None:
            ex.keys[(kind, name)] = ex.create(table, body, f"{kind} {name!r}")

        return [Op(CREATE, kind, name, _created(fields), create)]
    changes = _diff(spec.current(row), fields)
    if not changes:
        return []
    key = str(row["$key"])
    changed = spec.body_of({c.field: fields[c.field] for c in changes})

    def update(ex: Executor) -> None:
        ex.update(table, key, changed, f"{kind} {name!r} (key {key})")

    system = spec.flag_system and bool(row.get("system_created"))
    return [Op(UPDATE, kind, name, changes, update, system)]


def _plan_task(task: TaskSpec, owner: str, row: dict[str, Any] | None) -> list[Op]:
    name = task.name
    desired = dict(task.fields)
    if row is None:

        def create(ex: Executor) -> None:
            body = {"name": name, "owner": _owner_key(ex, owner), **_task_body(desired)}
            if body.get("settings_args") is None:
                body.pop("settings_args")
            ex.keys[("task", name)] = ex.create("tasks", body, f"task {name!r}")

        changes = [Change("owner", "", str(task.owner))]
        changes += _created(desired)
        return [Op(CREATE, "task", name, changes, create)]
    key = str(row["$key"])
    changes = _diff(task_fields(row), desired)
    owner_changed = owner != str(row.get("owner"))
    if owner_changed:
        changes.insert(
            0,
            Change(
                "owner",
                _shown_owner(str(row.get("owner")), row.get("owner_display")),
                str(task.owner),
            ),
        )
    if not changes:
        return []
    body = _task_body({c.field: desired[c.field] for c in changes if c.field != "owner"})

    def update(ex: Executor) -> None:
        sent = dict(body)
        if owner_changed:
            sent["owner"] = _owner_key(ex, owner)
        ex.update("tasks", key, sent, f"task {name!r} (key {key})")

    return [Op(UPDATE, "task", name, changes, update, bool(row.get("system_created")))]


def _task_key(ex: Executor, name: str, row: dict[str, Any] | None) -> str:
    return str(row["$key"]) if row is not None else ex.keys[("task", name)]


def _plan_triggers(task: TaskSpec, row: dict[str, Any] | None, state: SystemState) -> list[Op]:
    current: dict[str, dict[str, Any]] = {}
    if row is not None:
        for trigger in state.triggers_of(str(row["$key"])):
            current[_key(trigger.get("schedule")) or ""] = trigger
    by_key = {str(s["$key"]): s for s in state.schedules}
    ops: list[Op] = []
    wanted: set[str] = set()
    for sched_name, _line in task.triggers:
        found = state.named(state.schedules, sched_name)
        sched_key = str(found[0]["$key"]) if len(found) == 1 else None
        if sched_key is not None:
            wanted.add(sched_key)
            if sched_key in current:
                continue
        label = f"{task.name} -> {sched_name}"

        def create(
            ex: Executor,
            sched_name: str = sched_name,
            sched_key: str | None = sched_key,
            label: str = label,
        ) -> None:
            schedule = sched_key or ex.keys[("schedule", sched_name)]
            body = {"task": int(_task_key(ex, task.name, row)), "schedule": int(schedule)}
            ex.create("task_schedule_triggers", body, f"trigger {label!r}")

        ops.append(Op(CREATE, "trigger", label, [Change("schedule", "", sched_name)], create))
    for sched_key, trigger in current.items():
        if sched_key in wanted:
            continue
        sched = by_key.get(sched_key)
        sched_name = str(sched.get("name")) if sched else f"key {sched_key}"
        label = f"{task.name} -> {sched_name}"
        trigger_key = str(trigger["$key"])

        def delete(ex: Executor, trigger_key: str = trigger_key, label: str = label) -> None:
            ex.delete("task_schedule_triggers", trigger_key, f"trigger {label!r}")

        ops.append(Op(DELETE, "trigger", label, [Change("schedule", sched_name, "")], delete))
    return ops


def _event_label(task: str, event: Any, table: Any, owner: Any) -> str:
    """``wake: login on users/ops``; the event's table when it is not the owner's."""
    text = f"{task}: {event} on {owner}"
    return text if str(owner).startswith(f"{table}/") else f"{text} (table {table})"


def _plan_events(
    task: TaskSpec, owner: str, row: dict[str, Any] | None, state: SystemState, owners: _Owners
) -> list[Op]:
    current = state.events_of(str(row["$key"])) if row is not None else []
    matched: set[str] = set()
    ops: list[Op] = []
    for spec in task.events:
        event_owner = owners.ref(spec.owner, spec.owner_line) if spec.owner else owner
        label = _event_label(task.name, spec.event, spec.table, spec.owner or task.owner)
        desired = {"filters": spec.filters, "context": spec.context}
        found = next(
            (
                e
                for e in current
                if str(e["$key"]) not in matched
                and e.get("event") == spec.event
                and e.get("table") == spec.table
                and str(e.get("owner")) == event_owner
            ),
            None,
        )
        if found is not None:
            matched.add(str(found["$key"]))
            now = {"filters": found.get("table_event_filters"), "context": found.get("context")}
            changes = _diff(now, desired)
            if changes:
                event_key = str(found["$key"])
                body = {
                    ("table_event_filters" if c.field == "filters" else "context"): desired[c.field]
                    for c in changes
                }

                def update(
                    ex: Executor,
                    event_key: str = event_key,
                    body: dict[str, Any] = body,
                    label: str = label,
                ) -> None:
                    ex.update("task_events", event_key, body, f"event {label!r}")

                ops.append(Op(UPDATE, "event", label, changes, update))
            continue

        def create(
            ex: Executor, spec: Any = spec, event_owner: str = event_owner, label: str = label
        ) -> None:
            body: dict[str, Any] = {
                "task": int(_task_key(ex, task.name, row)),
                "event": spec.event,
                "table": spec.table,
                "owner": _owner_key(ex, event_owner),
            }
            if spec.filters:
                body["table_event_filters"] = spec.filters
            if spec.context:
                body["context"] = spec.context
            ex.create("task_events", body, f"event {label!r}")

        changes = [Change(k, "", _show(k, v)) for k, v in desired.items() if v]
        ops.append(Op(CREATE, "event", label, changes, create))
    for event in current:
        if str(event["$key"]) in matched:
            continue
        event_key = str(event["$key"])
        shown = _shown_owner(str(event.get("owner")), event.get("owner_display"))
        label = _event_label(task.name, event.get("event"), event.get("table"), shown)

        def delete(ex: Executor, event_key: str = event_key, label: str = label) -> None:
            ex.delete("task_events", event_key, f"event {label!r}")

        ops.append(Op(DELETE, "event", label, [], delete))
    return ops


# -- applying ---------------------------------------------------------------


@dataclass
class Outcome:
    applied: list[Op]
    failed: Op | None
    not_applied: list[Op]
    error: BaseException | None


def apply_plan(
    client: VergeClient, plan: Plan, on_done: Callable[[Op], None] | None = None
) -> Outcome:
    """Run the plan's operations in order; stop at the first failure."""
    ex = Executor(client)
    applied: list[Op] = []
    for index, op in enumerate(plan.ops):
        try:
            assert op.run is not None
            op.run(ex)
        except Exception as exc:
            return Outcome(applied, op, plan.ops[index + 1 :], exc)
        applied.append(op)
        if on_done is not None:
            on_done(op)
    return Outcome(applied, None, [], None)
