"""``vrgtask trigger``: list, create, delete, run.

A trigger links a task to a schedule: when the schedule fires, the task runs.
This module turns pyvergeos ``TaskScheduleTrigger`` objects into rows and
hands them to the formatter registry; it never prints tables itself.

The same group is reachable as ``vrgtask task trigger``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from vrgtask.commands._common import (
    BOOL_STYLES,
    KEY,
    NAME_OR_KEY,
    confirm_delete,
    examples,
    format_yes_no,
    optional_bool,
    yes_option,
)
from vrgtask.commands.schedule import find_schedule
from vrgtask.commands.task import (
    find_task,
    run_fired_task,
)
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column
from vrgtask.hints import command_hint
from vrgtask.runopts import Timing, wait_options
from vrgtask.verify import verify_write

if TYPE_CHECKING:
    from pyvergeos.resources.task_schedule_triggers import TaskScheduleTrigger

__all__ = ["TASK_TRIGGER_COLUMNS", "trigger", "trigger_to_row"]

TASK_TRIGGER_COLUMNS = [
    Column("$key", "Key"),
    Column("task_display", "Task"),
    Column("schedule_display", "Schedule"),
    Column("schedule_enabled", "Sch Enabled", format=format_yes_no, styles=BOOL_STYLES),
    Column("schedule_repeat", "Repeat"),
]


def trigger_to_row(found: TaskScheduleTrigger) -> dict[str, Any]:
    """One SDK TaskScheduleTrigger as a plain row.

    Needs the manager's default projection: task_display and
    schedule_display are projected accessors.
    """
    return {
        "$key": int(found.key),
        "task_key": found.task_key,
        "task_display": found.task_display,
        "schedule_key": found.schedule_key,
        "schedule_display": found.schedule_display,
        "schedule_enabled": optional_bool(found.get("sch_enabled", False)),
        "schedule_repeat": found.schedule_repeat_every or "",
    }


def _link(found: TaskScheduleTrigger) -> str:
    """``task 'x' (key 3) to schedule 'nightly' (key 2)`` for one trigger."""
    return (
        f"task {found.task_display!r} (key {found.task_key}) to "
        f"schedule {found.schedule_display!r} (key {found.schedule_key})"
    )


def _get_trigger(app: AppContext, key: int) -> TaskScheduleTrigger:
    """One trigger by key, with the default projection (one request)."""
    return app.client.task_schedule_triggers.get(key)


@click.group(
    epilog=examples(
        "vrgtask trigger list nightly-snapshot",
        "vrgtask trigger create nightly-snapshot --schedule nightly",
        "vrgtask trigger run 7",
        "vrgtask task trigger list   (same as: vrgtask trigger list)",
    ),
)
def trigger() -> None:
    """Link tasks to schedules: a trigger runs its task whenever its schedule fires.

    TASK and SCHEDULE arguments take a name or a key; TRIGGER_ID is a key.
    """


@fans_out()
@trigger.command(
    "list",
    epilog=examples(
        "vrgtask trigger list",
        "vrgtask trigger list nightly-snapshot",
        "vrgtask trigger list --schedule nightly -q          (keys only)",
        "vrgtask trigger list 12 -o json",
    ),
)
@click.argument("task_ref", metavar="[TASK]", required=False, type=NAME_OR_KEY)
@click.option(
    "--schedule",
    "schedule_ref",
    metavar="SCHEDULE",
    type=NAME_OR_KEY,
    help="Only triggers of this schedule.",
)
@output_options
def list_triggers(task_ref: str | None, schedule_ref: str | None) -> None:
    """List triggers: all of them, or those of one task and/or schedule."""
    app = get_app()
    task_key = find_task(app, task_ref).key if task_ref is not None else None
    schedule_key = find_schedule(app, schedule_ref).key if schedule_ref is not None else None
    found = app.client.task_schedule_triggers.list(task=task_key, schedule=schedule_key)
    app.render_list(
        [trigger_to_row(t) for t in found], TASK_TRIGGER_COLUMNS, empty="No triggers found."
    )


@trigger.command(
    "create",
    epilog=examples(
        "vrgtask trigger create nightly-snapshot --schedule nightly",
        "vrgtask trigger create 12 --schedule 3 --query '$key'     (prints the new key)",
    ),
)
@click.argument("task_ref", metavar="TASK", type=NAME_OR_KEY)
@click.option(
    "--schedule",
    "schedule_ref",
    required=True,
    metavar="SCHEDULE",
    type=NAME_OR_KEY,
    help="The schedule that runs the task (name or key).",
)
@output_options
def create_trigger(task_ref: str, schedule_ref: str) -> None:
    """Link a task to a schedule."""
    app = get_app()
    task = find_task(app, task_ref)
    sched = find_schedule(app, schedule_ref)
    created = app.client.task_schedule_triggers.create(task=task.key, schedule=sched.key)
    verify_write(
        {"task": int(task.key), "schedule": int(sched.key)},
        {"task": created.task_key, "schedule": created.schedule_key},
        what=f"the creation of trigger {created.key}",
        hint=command_hint(app, "trigger", "list", task.key),
    )
    app.done(
        f"Created trigger {created.key} linking task {task.get('name')!r} (key {task.key}) "
        f"to schedule {sched.get('name')!r} (key {sched.key})",
        trigger_to_row(created),
        TASK_TRIGGER_COLUMNS,
    )


@trigger.command(
    "delete",
    epilog=examples("vrgtask trigger delete 7", "vrgtask trigger delete 7 --yes"),
)
@click.argument("trigger_id", metavar="TRIGGER_ID", type=KEY)
@yes_option()
@output_options
def delete_trigger(trigger_id: int, yes: bool) -> None:
    """Delete a trigger (the task and the schedule stay)."""
    app = get_app()
    found = _get_trigger(app, trigger_id)
    confirm_delete(
        app,
        found,
        app.client.task_schedule_triggers.delete,
        yes=yes,
        ask=f"Delete trigger {found.key} linking {_link(found)}?",
        told=f"Deleted trigger {found.key} linking {_link(found)}",
        row=trigger_to_row(found),
        columns=TASK_TRIGGER_COLUMNS,
    )


@trigger.command(
    "run",
    epilog=examples(
        "vrgtask trigger run 7",
        "vrgtask trigger run 7 --wait          (exit 1 if the run logs an error)",
        "vrgtask trigger run 7 -o json         (how the task's start was seen)",
    ),
)
@click.argument("trigger_id", metavar="TRIGGER_ID", type=KEY)
@wait_options
@output_options
def run_trigger(trigger_id: int, wait: bool, timing: Timing) -> None:
    """Fire a trigger now: its task runs at once, whatever the schedule says.

    Reports whether the task was seen starting, or only queued; --wait
    follows the run as 'task run --wait' does.
    """
    app = get_app()
    found = _get_trigger(app, trigger_id)
    run_fired_task(
        app,
        "task_schedule_triggers",
        found,
        {},
        f"Triggered trigger {found.key}",
        (trigger_to_row(found), TASK_TRIGGER_COLUMNS),
        wait=wait,
        timing=timing,
    )
