"""``vrgtask task``: list, get, create, update, delete, enable, disable, run, cancel.

A task is an action (power on, snapshot, ...) bound to an owner object (a VM,
a tenant, ...). This module turns pyvergeos ``Task`` objects into rows and
hands them to the formatter registry; it never prints tables itself.
"""

from __future__ import annotations

import time
from typing import Any

import click

from vrgtask.commands._common import (
    NAME_OR_KEY,
    FiniteFloat,
    JsonObject,
    LinkedGroup,
    enabled_filter,
    examples,
    format_epoch,
    format_json,
    format_yes_no,
    is_key,
    nonempty,
    optional_bool,
    resolve,
)
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.errors import InterruptedWait, TaskFailedError, WaitTimeoutError
from vrgtask.formatters import Column

__all__ = [
    "TASK_COLUMNS",
    "TASK_DETAIL_COLUMNS",
    "find_task",
    "report_task_fired",
    "task",
    "task_fields",
    "task_rows",
    "task_to_row",
]

STATUS_STYLES = {"running": "green", "idle": "bright_black", "error": "red"}
BOOL_STYLES = {True: "green", False: "yellow"}

TASK_COLUMNS = [
    Column("$key", "Key"),
    Column("name", "Name"),
    Column("action_display", "Action"),
    Column("owner_display", "Owner"),
    Column("status", "Status", styles=STATUS_STYLES),
    Column("enabled", "Enabled", format=format_yes_no, styles=BOOL_STYLES),
    Column("last_run", "Last Run", wide=True, format=format_epoch),
    Column("progress", "Progress", wide=True),
    Column("triggers_count", "Triggers", wide=True),
    Column("events_count", "Events", wide=True),
    Column("description", "Description", wide=True),
    Column("delete_after_run", "Auto-Delete", wide=True, format=format_yes_no),
]

#: ``task get`` (one object) shows these as well.
TASK_DETAIL_COLUMNS = [
    *TASK_COLUMNS,
    Column("error", "Error", wide=True),
    Column("action", "Action Name", wide=True),
    Column("owner", "Owner Ref", wide=True),
    Column("creator_display", "Creator", wide=True),
    Column("system_created", "System", wide=True, format=format_yes_no),
    Column("settings_args", "Settings", wide=True, format=format_json),
]

NOUN = "task"
#: The longest ``--wait --timeout`` accepted: a year, in seconds.
MAX_WAIT = 365 * 86400


#: Plain columns of the SDK's default projection that no row shows (the
#: 40-hex run id and the raw creator reference): a list of 10,000 tasks is
#: about 15% smaller without them. No SDK accessor vrgtask reads needs them.
LIST_OMITS = ("id", "creator")


def task_fields(client: Any, *extra: str, omit: tuple[str, ...] = ()) -> list[str]:
    """The SDK's default task projection plus ``progress`` and ``error``.

    The SDK's defaults carry every field its accessors read (so none of them
    raises FieldNotProjectedError) but not progress and error, which a CLI
    must show. ``omit`` drops plain columns that are not needed.
    """
    defaults = list(getattr(client.tasks, "_default_fields", None) or [])
    wanted = [f for f in [*defaults, "progress", "error", *extra] if f not in omit]
    return list(dict.fromkeys(wanted))


def task_to_row(task: Any, *, projection_checked: bool = False) -> dict[str, Any]:
    """One SDK Task as a plain row (the plan's data mapping).

    ``progress`` and ``error`` are None when the request that produced the
    object did not ask for them (the SDK's own read-back after a change).

    The computed fields go through the SDK's accessors, which refuse a field
    the request never asked for. Every row of one response has the same
    projection, so :func:`task_rows` lets the accessors check the first row
    and reads the rest straight from the row (``projection_checked``).
    """
    get = task.get
    if projection_checked:
        owner_display = str(get("owner_display", ""))
        creator_display = str(get("creator_display", ""))
        triggers_count = int(get("triggers_count", 0))
        events_count = int(get("events_count", 0))
    else:
        owner_display = task.owner_display
        creator_display = task.creator_display
        triggers_count = task.trigger_count
        events_count = task.event_count
    row: dict[str, Any] = {
        "$key": int(task.key),
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
        "progress": int(get("progress", 0)) if "progress" in task else None,
        "error": get("error"),
        "triggers_count": triggers_count,
        "events_count": events_count,
    }
    if "settings_args" in task:
        row["settings_args"] = get("settings_args")
    return row


def task_rows(tasks: list[Any]) -> list[dict[str, Any]]:
    """Rows of the tasks of one response (see :func:`task_to_row`)."""
    return [task_to_row(t, projection_checked=i > 0) for i, t in enumerate(tasks)]


def report_task_fired(app: AppContext, task_key: int, what: str) -> None:
    """After a trigger or an event fired: read the task back once and say so.

    ``what`` names what fired ("Triggered trigger 7"); ``-o json`` prints the
    task's row.
    """
    client = app.client
    fired = client.tasks.get(task_key, fields=task_fields(client))
    status = fired.get("status")
    detail = f"is now {status}"
    if status == "error" and fired.get("error"):
        detail += f" ({fired.get('error')})"
    app.done(
        f"{what}: task {fired.get('name')!r} (key {fired.key}) {detail}",
        task_to_row(fired),
        TASK_DETAIL_COLUMNS,
    )


def find_task(app: AppContext, ident: str, *, full: bool = False) -> Any:
    """Resolve TASK (name or key) with one query; ``full`` fetches every column."""
    client = app.client
    fields = task_fields(client, "settings_args") if full else ["$key", "name"]
    return resolve(client.tasks, ident, noun=NOUN, fields=fields)


def _label(task: Any) -> str:
    return f"task {task.get('name')!r} (key {task.key})"


def _done(app: AppContext, verb: str, task: Any, extra: str = "") -> None:
    app.done(f"{verb} {_label(task)}{extra}", task_to_row(task), TASK_DETAIL_COLUMNS)


@click.group(
    cls=LinkedGroup,
    links={"schedule": "schedule", "trigger": "trigger", "event": "event", "script": "script"},
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
    type=click.Choice(["idle", "running", "error"]),
    help="Only tasks with this status.",
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
    tasks = client.tasks.list(
        filter=filter_ or None,
        fields=task_fields(client, omit=LIST_OMITS),
        running=True if running else None,
        enabled=enabled_only,
        status=status,
    )
    app.render_list(task_rows(tasks), TASK_COLUMNS, empty="No tasks found.")


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


def _parse_owner(owner: str, table: str | None) -> tuple[str, str | int]:
    text = owner.strip()
    if "/" in text:
        owner_table, _, key = text.partition("/")
        if not owner_table or not key:
            raise click.BadParameter(
                f"{owner!r}: expected a key (12) or a table/key reference (vms/12)",
                param_hint="'--owner'",
            )
        if table is not None and table != owner_table:
            raise click.BadParameter(
                f"the owner reference names table {owner_table!r} but --table is {table!r}",
                param_hint="'--table'",
            )
        return owner_table, int(key) if is_key(key) else key
    if not is_key(text) or int(text) < 1:
        raise click.BadParameter(
            f"{owner!r}: expected a key (12) or a table/key reference (vms/12)",
            param_hint="'--owner'",
        )
    if table is None:
        raise click.UsageError(
            "Missing option '--table': the owner's table (vms, tenants, users, vnets, ...) "
            "is required unless --owner carries it, as in --owner vms/12"
        )
    return table, int(text)


@task.command(
    "create",
    epilog=examples(
        "vrgtask task create --name nightly --owner vms/12 --action snapshot",
        "vrgtask task create --name wake --owner 3 --table vms --action poweron --disabled",
        "vrgtask -o json task create --name once --owner vms/12 --action poweroff "
        "--delete-after-run",
    ),
)
@click.option("--name", required=True, callback=nonempty, help="Task name.")
@click.option(
    "--owner",
    required=True,
    metavar="KEY|TABLE/KEY",
    help="Owner object: its key (with --table) or a reference like vms/12.",
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
    owner: str,
    action: str,
    table: str | None,
    description: str | None,
    disabled: bool,
    delete_after_run: bool,
    settings_json: dict[str, Any] | None,
) -> None:
    """Create a task."""
    owner_table, owner_key = _parse_owner(owner, table)
    app = get_app()
    created = app.client.tasks.create(
        name=name,
        owner=owner_key,
        action=action,
        table=owner_table,
        description=description,
        enabled=not disabled,
        delete_after_run=delete_after_run,
        settings_args=settings_json,
    )
    _done(app, "Created", created)


@task.command(
    "update",
    epilog=examples(
        "vrgtask task update nightly --description 'Nightly snapshot of web-01'",
        "vrgtask task update 12 --enabled false --delete-after-run true",
    ),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@click.option("--name", callback=nonempty, help="New name.")
@click.option("--description", help="New description.")
@click.option("--enabled", type=click.BOOL, metavar="BOOL", help="true or false.")
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
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise click.UsageError(
            "nothing to change: give at least one of --name, --description, --enabled, "
            "--delete-after-run, --settings-json"
        )
    app = get_app()
    found = find_task(app, task_ref)
    updated = app.client.tasks.update(found.key, **changes)
    _done(app, "Updated", updated)


@task.command(
    "delete",
    epilog=examples("vrgtask task delete old-task", "vrgtask task delete 12 --yes"),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@output_options
def delete_task(task_ref: str, yes: bool) -> None:
    """Delete a task (its triggers and events go with it).

    Asks first on a terminal; without a terminal, --yes is required.
    """
    app = get_app()
    found = find_task(app, task_ref)
    app.confirm(f"Delete {_label(found)} and its triggers and events?", yes=yes)
    app.client.tasks.delete(found.key)
    row = {"$key": int(found.key), "name": found.get("name"), "deleted": True}
    app.done(f"Deleted {_label(found)}", row)


def _toggle(task_ref: str, enable: bool) -> None:
    app = get_app()
    found = find_task(app, task_ref)
    tasks = app.client.tasks
    changed = tasks.enable(found.key) if enable else tasks.disable(found.key)
    _done(app, "Enabled" if enable else "Disabled", changed)


@task.command("enable", epilog=examples("vrgtask task enable nightly-snapshot"))
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@output_options
def enable_task(task_ref: str) -> None:
    """Enable a task so its triggers and events run it."""
    _toggle(task_ref, True)


@task.command("disable", epilog=examples("vrgtask task disable nightly-snapshot"))
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@output_options
def disable_task(task_ref: str) -> None:
    """Disable a task; a run in progress finishes."""
    _toggle(task_ref, False)


def wait_for_task(
    app: AppContext,
    started: Any,
    label: str,
    *,
    timeout: float,
    interval: float,
) -> Any:
    """Poll one task until it is no longer running; the final Task object.

    ``started`` is the task as read back right after it was started (the
    SDK's execute() reads it back), so the first status check happens one
    interval later: at most one status request per ``interval`` (>= 1 s).
    A task that ends in error raises TaskFailedError (exit 1); running past
    ``timeout`` seconds (0 = no limit) raises WaitTimeoutError (exit 9);
    Ctrl-C raises InterruptedWait (exit 130). vrgtask never cancels the task.
    """
    tasks = app.client.tasks
    key = int(started.key)
    fields = task_fields(app.client)
    began = time.monotonic()
    current = started
    if current.get("status") != "running":
        # Already over: the SDK's read-back lacks the error text (and the
        # progress), so read the task properly before reporting it.
        current = tasks.get(key, fields=fields)
    try:
        while True:
            status = current.get("status")
            elapsed = time.monotonic() - began
            if status == "error":
                app.progress_end()
                message = current.get("error") or "no error message"
                raise TaskFailedError(f"{label} ended in error: {message}")
            if status != "running":
                app.progress_end()
                return current
            if timeout and elapsed >= timeout:
                app.progress_end()
                raise WaitTimeoutError(
                    f"{label} is still running after {timeout:g}s; it keeps running on the "
                    f"server (check it with: vrgtask task get {key})"
                )
            progress = current.get("progress")
            shown = f"{progress}%" if progress is not None else "running"
            app.progress(f"{label}: {shown} ({elapsed:.0f}s elapsed)")
            pause = interval if not timeout else max(0.0, min(interval, timeout - elapsed))
            time.sleep(pause if pause > 0 else interval)
            current = tasks.get(key, fields=fields)
    except KeyboardInterrupt:
        app.progress_end()
        raise InterruptedWait(
            f"interrupted; {label} keeps running on the server "
            f"(check it with: vrgtask task get {key})"
        ) from None


@task.command(
    "run",
    epilog=examples(
        "vrgtask task run nightly-snapshot",
        "vrgtask task run nightly-snapshot --wait --timeout 600",
        'vrgtask task run 12 --params-json \'{"reason": "manual"}\'',
    ),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@click.option("--wait", "-w", is_flag=True, help="Wait until the task has finished.")
@click.option(
    "--timeout",
    type=FiniteFloat(min=0, max=MAX_WAIT),
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="With --wait: give up waiting after this long (0 = no limit). Exit 9.",
)
@click.option(
    "--interval",
    type=FiniteFloat(min=1, max=3600),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="With --wait: seconds between status checks (at least 1).",
)
@click.option("--params-json", type=JsonObject(), help="Execution parameters as a JSON object.")
@output_options
def run_task(
    task_ref: str,
    wait: bool,
    timeout: float,
    interval: float,
    params_json: dict[str, Any] | None,
) -> None:
    """Run a task now, whatever its schedule.

    With --wait, shows progress on a terminal and exits 1 if the task ends
    in error. Ctrl-C stops waiting (exit 130); the task keeps running.
    """
    if params_json and "key" in params_json:
        raise click.BadParameter(
            "'key' cannot be passed as an execution parameter (the SDK uses it for the task)",
            param_hint="'--params-json'",
        )
    app = get_app()
    found = find_task(app, task_ref)
    label = _label(found)
    try:
        started = app.client.tasks.execute(found.key, **(params_json or {}))
    except KeyboardInterrupt:
        # The run may have been accepted before the interruption: say so, and
        # how to look, rather than leave the user guessing.
        raise InterruptedWait(
            f"interrupted; {label} may have started and then keeps running on the server "
            f"(check it with: vrgtask task get {found.key})"
        ) from None
    if not wait:
        _done(app, "Started", started, f"; status: {started.get('status')}")
        return
    final = wait_for_task(app, started, label, timeout=timeout, interval=interval)
    _done(app, "Finished", final, f"; status: {final.get('status')}")


@task.command("cancel", epilog=examples("vrgtask task cancel nightly-snapshot"))
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@output_options
def cancel_task(task_ref: str) -> None:
    """Cancel a running task."""
    app = get_app()
    found = find_task(app, task_ref)
    cancelled = app.client.tasks.cancel(found.key)
    _done(app, "Cancelled", cancelled, f"; status: {cancelled.get('status')}")
