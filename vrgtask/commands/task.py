"""``vrgtask task``: list, get, create, update, delete, enable, disable, run, cancel.

A task is an action (power on, snapshot, ...) bound to an owner object (a VM,
a tenant, ...). This module turns pyvergeos ``Task`` objects into rows and
hands them to the formatter registry; it never prints tables itself.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import click

from vrgtask.commands._common import (
    BOOL_STYLES,
    NAME_OR_KEY,
    JsonObject,
    LinkedGroup,
    add_toggles,
    confirm_delete,
    enabled_filter,
    examples,
    format_epoch,
    format_json,
    format_yes_no,
    nonempty,
    optional_bool,
    require_changes,
    resolve,
    update_options,
    yes_option,
)
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column, Columns
from vrgtask.owners import OwnerParam, OwnerRef, owner_with_table, resolve_owner
from vrgtask.runopts import Timing, timing_options, wait_options

if TYPE_CHECKING:
    from pyvergeos.resources.tasks import Task

__all__ = [
    "TASK_COLUMNS",
    "TASK_DETAIL_COLUMNS",
    "find_task",
    "run_fired_task",
    "task",
    "task_fields",
    "task_rows",
    "task_to_row",
]

STATUS_STYLES = {"running": "green", "idle": "bright_black"}

TASK_COLUMNS = [
    Column("$key", "Key"),
    Column("name", "Name"),
    Column("action_display", "Action"),
    Column("owner_display", "Owner"),
    Column("status", "Status", styles=STATUS_STYLES),
    Column("enabled", "Enabled", format=format_yes_no, styles=BOOL_STYLES),
    Column("last_run", "Last Run", wide=True, format=format_epoch),
    Column("triggers_count", "Triggers", wide=True),
    Column("events_count", "Events", wide=True),
    Column("description", "Description", wide=True),
    Column("delete_after_run", "Auto-Delete", wide=True, format=format_yes_no),
]

#: ``task get`` (one object) shows these as well.
TASK_DETAIL_COLUMNS = [
    *TASK_COLUMNS,
    Column("action", "Action Name", wide=True),
    Column("owner", "Owner Ref", wide=True),
    Column("creator_display", "Creator", wide=True),
    Column("system_created", "System", wide=True, format=format_yes_no),
    Column("settings_args", "Settings", wide=True, format=format_json),
]

NOUN = "task"


#: Plain columns of the SDK's default projection that no row shows (the
#: 40-hex run id and the raw creator reference): a list of 10,000 tasks is
#: about 15% smaller without them. No SDK accessor vrgtask reads needs them.
LIST_OMITS = ("id", "creator")


def task_fields(client: Any, *extra: str, omit: tuple[str, ...] = ()) -> list[str]:
    """The SDK's default task projection plus ``extra`` (``settings_args``).

    The SDK's defaults carry every field its accessors read (so none of them
    raises FieldNotProjectedError). A task has no progress or error column on
    VergeOS (a run's outcome is in the task log). ``omit`` drops plain
    columns that are not needed.
    """
    defaults = list(getattr(client.tasks, "_default_fields", None) or [])
    wanted = [f for f in [*defaults, *extra] if f not in omit]
    return list(dict.fromkeys(wanted))


def in_row_order(fields: list[str]) -> list[str]:
    """``fields`` in the order of a list row's keys (an alias ``x as name``
    counts as ``name``; fields a row does not hold come last). A server that
    answers in the order asked saves every row a copy (:func:`_rows_as_sent`).
    """
    order = {name: index for index, name in enumerate(_ROW_TEMPLATE)}

    def position(field: str) -> int:
        return order.get(field.rpartition(" as ")[2].strip(), len(order))

    return sorted(fields, key=position)


def task_to_row(task: Any, *, projection_checked: bool = False) -> dict[str, Any]:
    """One task as a plain row.

    ``task`` is an SDK Task, or with ``projection_checked`` also the server's
    plain row. The computed fields go through the SDK's accessors, which
    refuse a field the request never asked for. Every row of one response
    has the same projection, so :func:`task_rows` lets the accessors check
    the first row and reads the rest straight from the row
    (``projection_checked``).
    """
    get = task.get
    if projection_checked:
        key = int(get("$key"))
        owner_display = str(get("owner_display", ""))
        creator_display = str(get("creator_display", ""))
        triggers_count = int(get("triggers_count", 0))
        events_count = int(get("events_count", 0))
    else:
        key = int(task.key)
        owner_display = task.owner_display
        creator_display = task.creator_display
        triggers_count = task.trigger_count
        events_count = task.event_count
    row: dict[str, Any] = {
        "$key": key,
        "name": get("name"),
        "description": get("description", "") or "",
        "status": get("status"),
        "enabled": optional_bool(get("enabled", False)),
        "action": get("action", ""),
        "action_display": get("action_display"),
        "table": get("table", ""),
        "owner": get("owner"),
        "owner_display": owner_display,
        "creator_display": creator_display,
        "last_run": get("last_run"),
        "delete_after_run": optional_bool(get("delete_after_run", False)),
        "system_created": optional_bool(get("system_created", False)),
        "triggers_count": triggers_count,
        "events_count": events_count,
    }
    if "settings_args" in task:
        row["settings_args"] = get("settings_args")
    return row


def task_rows(tasks: list[Any], manager: Any = None) -> list[dict[str, Any]]:
    """Rows of the tasks of one response (see :func:`task_to_row`).

    ``tasks`` are SDK Tasks, or the server's plain rows as
    :func:`list_plain_tasks` returns them; the first of those is made the SDK
    Task the response would have given (``manager``: the one that sent the
    query), so the SDK's accessors check the projection as they always do.
    """
    if not tasks:
        return []
    first = tasks[0]
    from pyvergeos.resources.base import ResourceObject

    if not isinstance(first, ResourceObject):
        from pyvergeos.resources.tasks import Task

        first = Task(first, manager)
    rest = tasks[1:]
    rows = [task_to_row(first)]
    rows.extend(_rows_as_sent(rest) or [task_to_row(t, projection_checked=True) for t in rest])
    return rows


#: A list row as :func:`task_to_row` builds it from a row whose projection
#: is checked: its fields in order (``task get`` adds ``settings_args``), with
#: the value used for a field the server did not send (``$key`` has none),
#: and the types of the values used as they came, with no conversion.
#: tests/unit/test_task_cmd.py holds the two to each other.
_ROW_TEMPLATE: dict[str, Any] = {
    "$key": None,
    "name": None,
    "description": "",
    "status": None,
    "enabled": False,
    "action": "",
    "action_display": None,
    "table": "",
    "owner": None,
    "owner_display": "",
    "creator_display": "",
    "last_run": None,
    "delete_after_run": False,
    "system_created": False,
    "triggers_count": 0,
    "events_count": 0,
}
_ROW_FIELDS = tuple(_ROW_TEMPLATE)
_FLAG = frozenset({bool, type(None)})
_KEPT_TYPES = {
    "$key": frozenset({int}),
    "description": frozenset({str}),
    "enabled": _FLAG,
    "owner_display": frozenset({str}),
    "creator_display": frozenset({str}),
    "delete_after_run": _FLAG,
    "system_created": _FLAG,
    "triggers_count": frozenset({int}),
    "events_count": frozenset({int}),
}


def _rows_as_sent(tasks: list[Any]) -> list[dict[str, Any]] | None:
    """The rows :func:`task_to_row` gives, when it would convert nothing.

    That is when every row is a plain dict with no field a row does not
    show, and each converted field holds, in every row, a value of a type
    the row keeps as it is (a number for ``$key`` and the counts, text for
    the description and the display names, true/false/null for the flags). Then each
    row is the template updated with the server's row, which the
    interpreter builds in C: for 10,000 tasks several times faster than row
    by row; a server row that already holds exactly the row's fields in the
    row's order (``task list`` asks for them in that order) is the row
    itself, not copied. None otherwise: the caller converts row by row, as always (and
    raises what a malformed value raises).
    """
    from operator import itemgetter

    if not set(map(type, tasks)) <= {dict}:
        return None
    fields, template = _ROW_FIELDS, _ROW_TEMPLATE
    rows = [task if tuple(task) == fields else template | task for task in tasks]
    if not set(map(len, rows)) <= {len(template)}:
        return None  # a field no row shows (settings_args, ...)
    for name, kept in _KEPT_TYPES.items():
        if not set(map(type, map(itemgetter(name), rows))) <= kept:
            return None
    return rows


def _plain_row(data: dict[str, Any]) -> dict[str, Any]:
    return data


def list_plain_tasks(manager: Any, **query: Any) -> list[Any]:
    """``manager.list(**query)``, answered with the server's plain rows.

    The very request the SDK sends (its filter, its projection, the
    projection it records for its accessors), without building a model
    object for every task that would only be turned into a row: for 10,000
    tasks that is most of the time the command spends on its own. The
    answer was checked on arrival (vrgtask.client.check_answer); the
    accessors check the projection on the first row (:func:`task_rows`).
    Not named like a row builder: an error in here is not the answer's
    (vrgtask.errors tells the two apart by the function's name).
    """
    manager._to_model = _plain_row  # this instance only, for this one call
    try:
        tasks: list[Any] = manager.list(**query)
    finally:
        with contextlib.suppress(AttributeError):
            del manager._to_model
    return tasks


def run_fired_task(
    app: AppContext,
    table: str,
    found: Any,
    params: dict[str, Any],
    what: str,
    unlinked: tuple[dict[str, Any], Columns],
    *,
    wait: bool,
    timing: Timing,
) -> None:
    """Fire ``found`` (its ``trigger`` action with ``params``; a row of
    ``table`` that runs the task ``found.task_key``), then follow the run.

    The task is read before (its status and last run: how its start is
    recognised), the action is sent, and the run is confirmed, or waited
    for, as ``task run`` does. ``what`` names what fired. When it names no
    task (``task_key`` None) it is only fired, and reported with the row and
    columns of ``unlinked``.
    """
    from vrgtask.actions import send_action
    from vrgtask.runs import TASK_LOOK_FIELDS, follow_run, watch_read_task

    client = app.client
    if found.task_key is None:
        send_action(client, table, found.key, "trigger", params)
        app.done(what, *unlinked)
        return
    watch = watch_read_task(app, client.tasks.get(found.task_key, fields=list(TASK_LOOK_FIELDS)))
    send_action(client, table, found.key, "trigger", params)
    follow_run(app, watch, what, wait=wait, timing=timing)


def find_task(
    app: AppContext, ident: str, *, full: bool = False, fields: list[str] | None = None
) -> Task:
    """Resolve TASK (name or key) with one query; ``full`` fetches every column."""
    client = app.client
    if fields is None:
        fields = task_fields(client, "settings_args") if full else ["$key", "name"]
    return resolve(client.tasks, ident, noun=NOUN, fields=fields)


def _write_and_verify(
    app: AppContext, method: str, key: int | None, body: dict[str, Any], what: str
) -> Any:
    """Send one task write, read the task back and compare it with ``body``.

    One request to write and one to read back (with ``settings_args`` when
    it was sent), as the SDK's own create/update; a field the server took
    but did not apply ends the command with exit 1 (see vrgtask.verify).
    """
    from vrgtask.hints import command_hint
    from vrgtask.verify import verify_write

    client = app.client
    if method == "POST":
        receipt = client._request("POST", "tasks", json_data=body)
        new_key = receipt.get("$key") if isinstance(receipt, dict) else None
        if new_key is None:
            from vrgtask.errors import VrgtaskError

            raise VrgtaskError("the server created the task but did not return its key")
        key = int(new_key)
    else:
        client._request("PUT", f"tasks/{key}", json_data=body)
    assert key is not None
    extra = ("settings_args",) if "settings_args" in body else ()
    back = client.tasks.get(key, fields=task_fields(client, *extra))
    label = f"{what} of task {back.get('name')!r} (key {key})"
    verify_write(body, back, what=label, hint=command_hint(app, "task", "get", key))
    return back


def _label(task: Any) -> str:
    return f"task {task.get('name')!r} (key {task.key})"


def _done(app: AppContext, verb: str, task: Any, extra: str = "") -> None:
    app.done(f"{verb} {_label(task)}{extra}", task_to_row(task), TASK_DETAIL_COLUMNS)


@click.group(
    cls=LinkedGroup,
    links={"schedule": "schedule", "trigger": "trigger", "event": "event", "script": "script"},
    lazy={"history": "vrgtask.commands.history:history_command"},
    epilog=examples(
        "vrgtask task list --running",
        "vrgtask task run nightly-snapshot --wait",
        "vrgtask task schedule list   (same as: vrgtask schedule list)",
    ),
)
def task() -> None:
    """Manage tasks: actions bound to an object (a VM, a tenant, ...).

    TASK arguments take a name or a key. A name shared by several tasks is
    refused (exit 7) and the matching keys are listed.
    """


@fans_out()
@task.command(
    "list",
    epilog=examples(
        "vrgtask task list",
        "vrgtask task list --running -o wide",
        "vrgtask task list --disabled -q          (keys only)",
        "vrgtask task list --filter \"action eq 'snapshot'\" -o json",
    ),
)
@click.option("--filter", "filter_", metavar="EXPR", help="Server-side filter expression.")
@click.option("--running", is_flag=True, help="Only running tasks.")
@click.option("--enabled", is_flag=True, help="Only enabled tasks.")
@click.option("--disabled", is_flag=True, help="Only disabled tasks.")
@click.option(
    "--status",
    type=click.Choice(["idle", "running"]),
    help="Only tasks with this status (a task is idle or running; a run's result is in "
    "the task log).",
)
@output_options
def list_tasks(
    filter_: str | None, running: bool, enabled: bool, disabled: bool, status: str | None
) -> None:
    """List tasks."""
    if running and status not in (None, "running"):
        raise click.UsageError("--running and --status are mutually exclusive")
    enabled_only = enabled_filter(enabled, disabled)
    app = get_app()
    client = app.client
    manager = client.tasks
    tasks = list_plain_tasks(
        manager,
        filter=filter_ or None,
        fields=in_row_order(task_fields(client, omit=LIST_OMITS)),
        running=True if running else None,
        enabled=enabled_only,
        status=status,
    )
    app.render_list(task_rows(tasks, manager), TASK_COLUMNS, empty="No tasks found.")


@task.command(
    "get", epilog=examples("vrgtask task get nightly-snapshot", "vrgtask task get 12 -o json")
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@output_options
def get_task(task_ref: str) -> None:
    """Show one task."""
    app = get_app()
    found = find_task(app, task_ref, full=True)
    app.render_one(task_to_row(found), TASK_DETAIL_COLUMNS)


@task.command(
    "create",
    epilog=examples(
        "vrgtask task create --name nightly --owner vms/12 --action snapshot",
        "vrgtask task create --name wake --owner vms/web-01 --action poweron   (owner by name)",
        "vrgtask task create --name wake --owner 3 --table vms --action poweron --disabled",
        "vrgtask -o json task create --name once --owner vms/12 --action poweroff "
        "--delete-after-run",
    ),
)
@click.option("--name", required=True, callback=nonempty, help="Task name.")
@click.option(
    "--owner",
    required=True,
    type=OwnerParam(),
    metavar="KEY|TABLE/KEY|TABLE/NAME",
    help="Owner object: its key (with --table) or a reference like vms/12 or vms/web-01.",
)
@click.option("--action", required=True, callback=nonempty, help="Action, e.g. poweron, snapshot.")
@click.option("--table", callback=nonempty, help="Owner table (vms, tenants, users, vnets, ...).")
@click.option("--description", help="Description.")
@click.option("--disabled", is_flag=True, help="Create the task disabled.")
@click.option("--delete-after-run", is_flag=True, help="Delete the task after it has run.")
@click.option("--settings-json", type=JsonObject(), help="Task settings as a JSON object.")
@output_options
def create_task(
    name: str,
    owner: OwnerRef,
    action: str,
    table: str | None,
    description: str | None,
    disabled: bool,
    delete_after_run: bool,
    settings_json: dict[str, Any] | None,
) -> None:
    """Create a task."""
    owner = owner_with_table(owner, table, same_table=True)
    app = get_app()
    body: dict[str, Any] = {
        "name": name,
        "owner": resolve_owner(app.client, owner).ref,
        "action": action,
        "enabled": not disabled,
        "delete_after_run": delete_after_run,
    }
    if description is not None:
        body["description"] = description
    if settings_json is not None:
        body["settings_args"] = settings_json
    created = _write_and_verify(app, "POST", None, body, "the creation")
    _done(app, "Created", created)


@task.command(
    "update",
    epilog=examples(
        "vrgtask task update nightly --description 'Nightly snapshot of web-01'",
        "vrgtask task update 12 --enabled false --delete-after-run true",
    ),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@update_options(enabled=True)
@click.option("--delete-after-run", type=click.BOOL, metavar="BOOL", help="true or false.")
@click.option("--settings-json", type=JsonObject(), help="New settings as a JSON object.")
@output_options
def update_task(
    task_ref: str,
    name: str | None,
    description: str | None,
    enabled: bool | None,
    delete_after_run: bool | None,
    settings_json: dict[str, Any] | None,
) -> None:
    """Change a task's fields; only what is given is sent."""
    changes: dict[str, Any] = {
        "name": name,
        "description": description,
        "enabled": enabled,
        "delete_after_run": delete_after_run,
        "settings_args": settings_json,
    }
    changes = require_changes(changes)
    app = get_app()
    found = find_task(app, task_ref)
    updated = _write_and_verify(app, "PUT", int(found.key), changes, "the update")
    _done(app, "Updated", updated)


@task.command(
    "delete",
    epilog=examples("vrgtask task delete old-task", "vrgtask task delete 12 --yes"),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@yes_option()
@output_options
def delete_task(task_ref: str, yes: bool) -> None:
    """Delete a task (its triggers and events go with it)."""
    app = get_app()
    found = find_task(app, task_ref)
    confirm_delete(
        app,
        found,
        app.client.tasks.delete,
        yes=yes,
        ask=f"Delete {_label(found)} and its triggers and events?",
        told=f"Deleted {_label(found)}",
    )


def _toggle(task_ref: str, enable: bool) -> None:
    app = get_app()
    found = find_task(app, task_ref)
    verb = "Enabled" if enable else "Disabled"
    body = {"enabled": enable}
    changed = _write_and_verify(
        app, "PUT", int(found.key), body, "the enabling" if enable else "the disabling"
    )
    _done(app, verb, changed)


add_toggles(
    task,
    _toggle,
    metavar="TASK",
    example="task {verb} nightly-snapshot",
    enable_help="Enable a task so its triggers and events run it.",
    disable_help="Disable a task; a run in progress finishes.",
)


@task.command(
    "run",
    epilog=examples(
        "vrgtask task run nightly-snapshot",
        "vrgtask task run nightly-snapshot --wait --timeout 600",
        "vrgtask task run nightly-snapshot --wait --start-timeout 120   (a busy system)",
        'vrgtask task run 12 --params-json \'{"reason": "manual"}\'',
    ),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@wait_options
@click.option(
    "--params-json",
    type=JsonObject(),
    help="Execution parameters as a JSON object, sent to the server as they are.",
)
@output_options
def run_task(task_ref: str, wait: bool, timing: Timing, params_json: dict[str, Any] | None) -> None:
    """Run a task now, whatever its schedule.

    A run is queued on the server: vrgtask reports it started only once the
    task reads running, its last-run time moved, or the task log shows it;
    otherwise it says the request was accepted and the run is queued.

    With --wait, shows progress on a terminal, waits for the run to start
    (--start-timeout) and to end, then reads the result from the task log:
    exit 1 with the log's text if the run logged an error. Ctrl-C stops
    waiting (exit 130); the task keeps running.
    """
    from vrgtask.actions import send_action
    from vrgtask.runs import TASK_LOOK_FIELDS, follow_run, watch_read_task

    app = get_app()
    found = find_task(app, task_ref, fields=list(TASK_LOOK_FIELDS))
    watch = watch_read_task(app, found)
    params = dict(params_json or {})
    try:
        send_action(app.client, "tasks", found.key, "execute", params, put_body={"params": params})
    except KeyboardInterrupt:
        # The run may have been accepted before the interruption: say so, and
        # how to look, rather than leave the user guessing.
        raise watch.interrupted_request() from None
    follow_run(app, watch, f"Ran {watch.label}", wait=wait, timing=timing)


@task.command(
    "wait",
    epilog=examples(
        "vrgtask task wait nightly-snapshot",
        "vrgtask task wait 12 --timeout 3600 --interval 30",
        "vrgtask task run nightly-snapshot && vrgtask task wait nightly-snapshot",
    ),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@timing_options
@output_options
def wait_task(task_ref: str, timing: Timing) -> None:
    """Wait for a task's run (queued or running) to end, as 'task run --wait' does.

    Exit 0 when the run ended without an error in the task log, 1 when it
    logged one (its text on stderr) or no run started within
    --start-timeout, 9 on --timeout. Ctrl-C stops waiting (exit 130); the
    task keeps running.
    """
    from vrgtask.runs import TASK_LOOK_FIELDS, LogMark, epoch_seconds, watch_read_task

    app = get_app()
    found = find_task(app, task_ref, fields=list(TASK_LOOK_FIELDS))
    status = found.get("status")
    watch = watch_read_task(app, found)
    started_by = None
    if status == "running":
        started_by = "running"
        since = epoch_seconds(found.get("last_run"))
        if since is not None and watch.mark.readable:
            # The run began before we looked: its log entries count from its start.
            watch.mark = LogMark(timestamp=since * 1_000_000)
    from vrgtask.runs import Look, outcome_row, wait_shown

    seen = Look(status=status, last_run=found.get("last_run"))
    outcome, final = wait_shown(
        app,
        watch,
        timing,
        started_by=started_by,
        seen=seen if started_by else None,
        requested=False,
    )
    app.done(f"{watch.label} finished; task log: {final}", outcome_row(watch, outcome))


@task.command("cancel", epilog=examples("vrgtask task cancel nightly-snapshot"))
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@output_options
def cancel_task(task_ref: str) -> None:
    """Cancel a queued or running run of a task."""
    from vrgtask.actions import send_action

    app = get_app()
    found = find_task(app, task_ref)
    send_action(app.client, "tasks", found.key, "cancel", {})
    cancelled = app.client.tasks.get(int(found.key), fields=task_fields(app.client))
    status = cancelled.get("status")
    if status == "running":  # accepted, not (yet) applied: say so rather than "Cancelled"
        _done(app, "Asked to cancel", cancelled, "; it still reads running")
        return
    _done(app, "Cancelled", cancelled, f"; status: {status}")
