"""``vrgtask event``: list, get, create, update, delete, trigger.

An event trigger (a row of ``task_events``) runs a task when something
happens to an object: "power on this VM when this user logs in". It names
the task, the owner object it watches (a ``table/key`` reference such as
``users/3``), the table whose event fires and the event itself (``login``).
This module turns pyvergeos ``TaskEvent`` objects into rows and hands them to
the formatter registry; it never prints tables itself.

The same group is reachable as ``vrgtask task event``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from vrgtask.commands._common import (
    KEY,
    NAME_OR_KEY,
    JsonObject,
    confirm_delete,
    examples,
    format_json,
    nonempty,
    require_changes,
    yes_option,
)
from vrgtask.commands.task import (
    find_task,
    run_fired_task,
)
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.errors import VrgtaskError
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column
from vrgtask.hints import command_hint
from vrgtask.owners import OwnerParam, OwnerRef, owner_with_table, resolve_owner
from vrgtask.runopts import Timing, wait_options
from vrgtask.verify import verify_write

if TYPE_CHECKING:
    from pyvergeos.resources.task_events import TaskEvent

__all__ = [
    "EVENT_COLUMNS",
    "event",
    "event_to_row",
]


EVENT_COLUMNS = [
    Column("$key", "Key"),
    Column("task_display", "Task"),
    Column("event_name", "Event"),
    Column("table", "Table"),
    Column("owner_display", "Owner"),
    Column("task_key", "Task Key", wide=True),
    Column("event", "Event ID", wide=True),
    Column("owner", "Owner Ref", wide=True),
    Column("table_event_filters", "Filters", wide=True, format=format_json),
    Column("context", "Context", wide=True, format=format_json),
]


def event_to_row(found: TaskEvent) -> dict[str, Any]:
    """One SDK TaskEvent as a plain row.

    Needs the manager's default projection: ``task_display`` is a projected
    accessor (``task#$display``); ``task_name`` is the fallback when a server
    leaves the display name empty.
    """
    return {
        "$key": int(found.key),
        "task_key": found.task_key,
        "task_display": found.task_display or found.get("task_name") or "",
        "event": found.event_type or "",
        "event_name": found.event_name_display or found.event_type or "",
        "table": found.owner_table or "",
        "owner": found.get("owner"),
        "owner_display": found.get("owner_display") or "",
        "table_event_filters": found.get("table_event_filters"),
        "context": found.get("context"),
    }


def _label(found: TaskEvent) -> str:
    """``event 3 (Login on users)``."""
    name = found.event_name_display or found.event_type or "?"
    return f"event {found.key} ({name} on {found.owner_table or '?'})"


def _task_label(found: TaskEvent) -> str:
    """``task 'power-on-dev' (key 2)`` for the task an event runs."""
    display = found.task_display or found.get("task_name") or ""
    return f"task {display!r} (key {found.task_key})"


def _owner_label(found: TaskEvent) -> str:
    """``users/3 ('ops')``: the owner reference and its display name."""
    display = found.get("owner_display")
    return f"{found.get('owner')} ({display!r})" if display else str(found.get("owner"))


def _get_event(app: AppContext, key: int) -> TaskEvent:
    """One event by key, with the default projection (one request)."""
    return app.client.task_events.get(key)


@click.group(
    epilog=examples(
        "vrgtask event list --task power-on-dev",
        "vrgtask event create power-on-dev --owner users/3 --event login",
        "vrgtask event trigger 4",
        "vrgtask task event list   (same as: vrgtask event list)",
    ),
)
def event() -> None:
    """Event triggers: run a task when something happens (a user logs in, ...).

    TASK arguments take a name or a key; KEY is an event trigger's key.
    An owner REF is a table/key reference such as users/3 or vms/12.
    """


@fans_out()
@event.command(
    "list",
    epilog=examples(
        "vrgtask event list",
        "vrgtask event list --task power-on-dev",
        "vrgtask event list --owner users/3 -q          (keys only)",
        "vrgtask event list --table users --event login -o wide",
    ),
)
@click.option(
    "--task", "task_ref", metavar="TASK", type=NAME_OR_KEY, help="Only events that run this task."
)
@click.option(
    "--owner",
    type=OwnerParam(),
    metavar="REF",
    help="Only events of this owner: users/3, users/ops (by name), or a bare key with --table.",
)
@click.option("--table", callback=nonempty, help="Only events fired by this table (users...).")
@click.option("--event", "event_id", callback=nonempty, help="Only this event (login, ...).")
@output_options
def list_events(
    task_ref: str | None, owner: OwnerRef | None, table: str | None, event_id: str | None
) -> None:
    """List event triggers: all, or those matching every option given."""
    if owner is not None:
        owner = owner_with_table(owner, table, same_table=False, example="users")
    app = get_app()
    client = app.client
    owner_ref = resolve_owner(client, owner).ref if owner is not None else None
    task_key = find_task(app, task_ref).key if task_ref is not None else None
    owner_filter = None
    if owner_ref is not None:
        from pyvergeos.filters import quote_value

        # The SDK's owner= compares the key part only (users/3 and vms/3 alike).
        owner_filter = f"owner eq {quote_value(owner_ref)}"
    found = client.task_events.list(filter=owner_filter, task=task_key, table=table, event=event_id)
    app.render_list(
        [event_to_row(e) for e in found], EVENT_COLUMNS, empty="No event triggers found."
    )


@event.command("get", epilog=examples("vrgtask event get 4", "vrgtask event get 4 -o json"))
@click.argument("event_key", metavar="KEY", type=KEY)
@output_options
def get_event(event_key: int) -> None:
    """Show one event trigger."""
    app = get_app()
    app.render_one(event_to_row(_get_event(app, event_key)), EVENT_COLUMNS)


@event.command(
    "create",
    epilog=examples(
        "vrgtask event create power-on-dev --owner users/3 --event login",
        "vrgtask event create 2 --owner 3 --table users --event logout",
        "vrgtask event create alert --owner vms/1 --table alarms --event raised "
        '--filters-json \'{"level": "critical"}\'',
        "vrgtask event create power-on-dev --owner users/3 --event login --query '$key'",
    ),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@click.option(
    "--owner",
    type=OwnerParam(),
    metavar="REF",
    help="The object whose event runs the task: users/3, users/ops (by name), or a bare "
    "key with --table "
    "[default: the platform fills it from the task; give --table then].",
)
@click.option(
    "--event",
    "event_id",
    required=True,
    metavar="NAME",
    callback=nonempty,
    help="The event: login, logout, poweron, error, ...",
)
@click.option(
    "--table",
    callback=nonempty,
    help="The table whose event fires [default: the table of --owner].",
)
@click.option("--event-name", callback=nonempty, help="Display name [default: from the server].")
@click.option("--filters-json", type=JsonObject(), help="Event filter conditions (JSON object).")
@click.option("--context-json", type=JsonObject(), help="Context passed to the task (JSON object).")
@output_options
def create_event(
    task_ref: str,
    owner: OwnerRef | None,
    event_id: str,
    table: str | None,
    event_name: str | None,
    filters_json: dict[str, Any] | None,
    context_json: dict[str, Any] | None,
) -> None:
    """Run a task whenever an event happens to an object.

    Without --owner the platform fills the owner from the task (alarm and
    log events need none); --table then names the table whose event fires.
    Every field sent is read back and compared: a field the server accepted
    but did not apply ends the command with exit 1, naming it.
    """
    if owner is None and table is None:
        raise click.UsageError(
            "Missing option '--table': without --owner, give the table whose event fires "
            "(alarms, logs, users, ...)"
        )
    if owner is not None:
        owner = owner_with_table(owner, table, same_table=False, example="users")
    event_table = table if table is not None else owner.table if owner is not None else ""
    app = get_app()
    client = app.client
    owner_ref = resolve_owner(client, owner).ref if owner is not None else None
    task = find_task(app, task_ref)
    body: dict[str, Any] = {
        "task": int(task.key),
        "owner": owner_ref,
        "table": event_table,
        "event": event_id,
        "event_name": event_name,
        "table_event_filters": filters_json,
        "context": context_json,
    }
    body = {k: v for k, v in body.items() if v is not None}
    if owner_ref is None:
        created = client.task_events.create(
            task=int(task.key),
            event=event_id,
            table=event_table,
            event_name=event_name,
            table_event_filters=filters_json,
            context=context_json,
        )
    else:
        from pyvergeos.resources.base import ResourceManager

        # TaskEventManager.create() does not send an owner (the server would use
        # the task's), so the generic create posts the one the user gave.
        receipt = ResourceManager.create(client.task_events, **body)
        new_key = receipt.get("$key")
        if new_key is None:
            raise VrgtaskError("the server created the event trigger but did not return its key")
        created = client.task_events.get(int(new_key))
    verify_write(
        body,
        created,
        what=f"the creation of {_label(created)}",
        hint=command_hint(app, "event", "get", created.key),
    )
    app.done(
        f"Created {_label(created)} for {_owner_label(created)} running {_task_label(created)}",
        event_to_row(created),
        EVENT_COLUMNS,
    )


@event.command(
    "update",
    epilog=examples(
        'vrgtask event update 4 --context-json \'{"reason": "login"}\'',
        'vrgtask event update 4 --filters-json \'{"level": "critical"}\' -o json',
    ),
)
@click.argument("event_key", metavar="KEY", type=KEY)
@click.option("--filters-json", type=JsonObject(), help="New filter conditions (JSON object).")
@click.option("--context-json", type=JsonObject(), help="New task context (JSON object).")
@output_options
def update_event(
    event_key: int, filters_json: dict[str, Any] | None, context_json: dict[str, Any] | None
) -> None:
    """Change an event trigger's filters or context; only what is given is sent."""
    require_changes({"table_event_filters": filters_json, "context": context_json})
    app = get_app()
    updated = app.client.task_events.update(
        event_key, table_event_filters=filters_json, context=context_json
    )
    sent = {"table_event_filters": filters_json, "context": context_json}
    verify_write(
        {k: v for k, v in sent.items() if v is not None},
        updated,
        what=f"the update of {_label(updated)}",
        hint=command_hint(app, "event", "get", updated.key),
    )
    app.done(f"Updated {_label(updated)}", event_to_row(updated), EVENT_COLUMNS)


@event.command(
    "delete",
    epilog=examples("vrgtask event delete 4", "vrgtask event delete 4 --yes"),
)
@click.argument("event_key", metavar="KEY", type=KEY)
@yes_option()
@output_options
def delete_event(event_key: int, yes: bool) -> None:
    """Delete an event trigger (the task stays)."""
    app = get_app()
    found = _get_event(app, event_key)
    confirm_delete(
        app,
        found,
        app.client.task_events.delete,
        yes=yes,
        ask=f"Delete {_label(found)} that runs {_task_label(found)}?",
        told=f"Deleted {_label(found)} that ran {_task_label(found)}",
        row=event_to_row(found),
        columns=EVENT_COLUMNS,
    )


@event.command(
    "trigger",
    epilog=examples(
        "vrgtask event trigger 4",
        'vrgtask event trigger 4 --context-json \'{"user": "ops"}\'',
        "vrgtask event trigger 4 --wait        (exit 1 if the run logs an error)",
        "vrgtask event trigger 4 -o json       (how the task's start was seen)",
    ),
)
@click.argument("event_key", metavar="KEY", type=KEY)
@click.option(
    "--context-json",
    type=JsonObject(),
    help="Context for this run (JSON object) [default: the event's own].",
)
@wait_options
@output_options
def trigger_event(
    event_key: int, context_json: dict[str, Any] | None, wait: bool, timing: Timing
) -> None:
    """Fire an event trigger now: its task runs as if the event had happened.

    Reports whether the task was seen starting, or only queued; --wait
    follows the run as 'task run --wait' does.
    """
    app = get_app()
    found = _get_event(app, event_key)
    params: dict[str, Any] = {} if context_json is None else {"context": context_json}
    run_fired_task(
        app,
        "task_events",
        found,
        params,
        f"Triggered {_label(found)}",
        (event_to_row(found), EVENT_COLUMNS),
        wait=wait,
        timing=timing,
    )
