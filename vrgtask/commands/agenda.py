"""``vrgtask agenda``: every run the task engine will start in a window.

The runs are those of the *active* triggers: a trigger whose task is enabled
and whose schedule is enabled. Each schedule that active triggers point at is
asked once for its upcoming times (the schedule ``get_schedule`` action, as
``schedule show`` asks it), never once per trigger, so the command costs
three requests (connection check, tasks, triggers) plus one per schedule.
Reads that do not depend on each other are sent at once (vrgtask.together):
tasks with triggers, and every schedule after the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from vrgtask.commands._common import NAME_OR_KEY, examples, resolve
from vrgtask.commands._watch import WatchCommand, check_watch, watch_loop, watch_option
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column
from vrgtask.timespec import When, format_local, iso_local, local_now

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = [
    "AGENDA_COLUMNS",
    "MAX_PER_SCHEDULE",
    "Agenda",
    "active_triggers",
    "agenda",
    "ask_schedule",
    "collect_agenda",
]

#: The most runs one ``get_schedule`` answer may hold (the API's bound).
MAX_PER_SCHEDULE = 1440
DEFAULT_HOURS = 24
#: How far ahead an agenda may look (a year and a day).
MAX_AHEAD = timedelta(days=366)

AGENDA_COLUMNS = [
    Column("time", "Time", format=format_local),
    Column("task", "Task"),
    Column("schedule", "Schedule"),
    Column("time_iso", "ISO Time", wide=True),
    Column("task_key", "Task Key", wide=True),
    Column("schedule_key", "Schedule Key", wide=True),
]


@dataclass
class Agenda:
    """Upcoming runs in time order, and what the schedules' answers lacked."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    #: (schedule key, name) of the schedules that had more runs than asked for.
    cut: list[tuple[int, str]] = field(default_factory=list)
    #: (schedule key, name, how many) of entries that were not readable times.
    unreadable: list[tuple[int, str, int]] = field(default_factory=list)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def active_triggers(
    triggers: Iterable[Any],
    enabled_tasks: Mapping[int, str],
    schedules_enabled: Mapping[int, bool] | None = None,
) -> list[Any]:
    """The triggers that will start runs: enabled task, enabled schedule.

    Whether the schedule is enabled comes from ``schedules_enabled`` when
    given, else from the trigger's own ``sch_enabled`` (the SDK's default
    projection); a trigger without that field counts as enabled.
    """

    def schedule_on(trigger: Any) -> bool:
        key = _int(trigger.schedule_key)
        if schedules_enabled is not None and key is not None and key in schedules_enabled:
            return schedules_enabled[key]
        return bool(trigger.get("sch_enabled", True))

    return [t for t in triggers if _int(t.task_key) in enabled_tasks and schedule_on(t)]


def ask_schedule(client: VergeClient, key: int, limit: int, start: int, end: int) -> list[Any]:
    """One schedule's runs in ``[start, end]`` (its ``get_schedule`` action): one request."""
    from vrgtask.upcoming import ask_upcoming

    return ask_upcoming(client, key, limit, start, end)


def collect_agenda(
    client: VergeClient,
    triggers: Sequence[Any],
    task_names: Mapping[int, str],
    start: int,
    end: int,
    limit: int,
) -> Agenda:
    """Ask each schedule of ``triggers`` once for its runs in ``[start, end]``.

    At most ``limit`` runs per schedule are kept; a schedule that has more
    is listed in ``Agenda.cut``. (One more than ``limit`` is asked for, so
    a schedule with exactly ``limit`` runs is not reported as cut; at the
    API's bound of 1440 a full answer is reported as possibly cut.)
    """
    from vrgtask.upcoming import run_entry_epoch

    by_schedule: dict[int, list[Any]] = {}
    names: dict[int, str] = {}
    for trig in triggers:
        key = _int(trig.schedule_key)
        if key is None:
            continue
        by_schedule.setdefault(key, []).append(trig)
        names[key] = str(trig.get("schedule_display") or "")
    ask = min(limit + 1, MAX_PER_SCHEDULE)
    result = Agenda()
    if end < start:  # a fixed --until that a --watch has outlived
        return result
    seen: set[tuple[int, int, int]] = set()
    keys = sorted(by_schedule)
    answers = _ask_schedules(client, keys, ask, start, end)
    for schedule_key, entries in zip(keys, answers, strict=True):
        epochs: list[int] = []
        bad = 0
        for entry in entries:
            epoch = run_entry_epoch(entry)
            if epoch is None:
                bad += 1
            elif start <= epoch <= end:
                epochs.append(epoch)
        epochs = sorted(set(epochs))
        if len(entries) > limit or len(entries) >= MAX_PER_SCHEDULE:
            result.cut.append((schedule_key, names[schedule_key]))
            epochs = epochs[:limit]
        if bad:
            result.unreadable.append((schedule_key, names[schedule_key], bad))
        for trig in by_schedule[schedule_key]:
            task_key = _int(trig.task_key)
            if task_key is None:
                continue
            task_name = task_names.get(task_key) or str(trig.get("task_display") or "")
            for epoch in epochs:
                if (epoch, task_key, schedule_key) in seen:
                    continue
                seen.add((epoch, task_key, schedule_key))
                result.rows.append(
                    {
                        "time": epoch,
                        "time_iso": iso_local(epoch),
                        "task": task_name,
                        "task_key": task_key,
                        "schedule": names[schedule_key],
                        "schedule_key": schedule_key,
                    }
                )
    result.rows.sort(key=lambda r: (r["time"], r["task"], r["task_key"], r["schedule_key"]))
    return result


def _ask_schedules(
    client: VergeClient, keys: Sequence[int], ask: int, start: int, end: int
) -> list[Any]:
    """Each schedule's runs in ``[start, end]``, in the order of ``keys``.

    The first schedule is asked alone: it settles which form of the action
    the server takes (vrgtask.actions remembers it); the others are asked at
    once (vrgtask.together), each in that form.
    """
    if not keys:
        return []
    from vrgtask.together import read_together

    first = ask_schedule(client, keys[0], ask, start, end)

    def asker(key: int) -> Any:
        return lambda: ask_schedule(client, key, ask, start, end)

    return [first, *read_together([asker(key) for key in keys[1:]])]


def _window_text(start: int, end: int) -> str:
    return f"{format_local(start)} to {format_local(end)}"


def _draw(
    app: AppContext,
    task_ref: str | None,
    hours: int | None,
    until: datetime | None,
    limit: int,
) -> None:
    now = local_now()
    start = int(now.timestamp())
    end = int(until.timestamp()) if until is not None else start + (hours or DEFAULT_HOURS) * 3600
    client = app.client
    if task_ref is not None:
        found = resolve(client.tasks, task_ref, noun="task", fields=["$key", "name", "enabled"])
        label = f"task {found.get('name')!r} (key {found.key})"
        if not found.get("enabled"):
            app.note(f"Note: {label} is disabled; it runs on no schedule until enabled.")
            app.render_list([], AGENDA_COLUMNS, key="time")
            return
        enabled = {int(found.key): str(found.get("name"))}
        triggers = client.task_schedule_triggers.list(task=int(found.key))
    else:
        from vrgtask.together import read_together

        tasks, triggers = read_together(
            [
                lambda: client.tasks.list(enabled=True, fields=["$key", "name"]),
                client.task_schedule_triggers.list,
            ]
        )
        enabled = {int(t.key): str(t.get("name")) for t in tasks}
    active = active_triggers(triggers, enabled)
    result = collect_agenda(client, active, enabled, start, end, limit)
    if not app.quiet:
        for key, name in result.cut:
            app.note(
                f"Note: schedule {name!r} (key {key}) has more than {limit} runs in the "
                "window; only its first ones are shown (raise --limit, at most "
                f"{MAX_PER_SCHEDULE})."
            )
        for key, name, count in result.unreadable:
            app.note(
                f"Note: schedule {name!r} (key {key}) answered {count} entries that are not "
                "times; they are left out (see: vrgtask schedule show "
                f"{key} -o json)."
            )
    app.render_list(
        result.rows,
        AGENDA_COLUMNS,
        key="time",
        empty=f"No runs from {_window_text(start, end)}.",
    )


@fans_out(single_only=("watch",))
@click.command(
    "agenda",
    cls=WatchCommand,
    epilog=examples(
        "vrgtask agenda                          (the next 24 hours)",
        "vrgtask agenda --hours 72 --task nightly-snapshot",
        "vrgtask agenda --until tomorrow",
        "vrgtask agenda --until 2026-12-24T18:00 -o json",
        "vrgtask agenda --watch 10               (redraw every 10 s; Ctrl-C to stop)",
    ),
)
@click.option(
    "--hours",
    type=click.IntRange(1, MAX_AHEAD.days * 24),
    metavar="N",
    help=f"The window: the next N hours (1..{MAX_AHEAD.days * 24}).  [default: 24]",
)
@click.option(
    "--until",
    type=When(future=True, max_ahead=MAX_AHEAD),
    help="The window: from now until WHEN: a duration (12h, 3d), tomorrow, a date "
    "(YYYY-MM-DD, local midnight) or a date-time (YYYY-MM-DDTHH:MM, local unless it "
    "carries an offset).",
)
@click.option(
    "--task",
    "task_ref",
    metavar="TASK",
    type=NAME_OR_KEY,
    help="Only the runs of this task (name or key).",
)
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_PER_SCHEDULE),
    default=MAX_PER_SCHEDULE,
    show_default=True,
    metavar="N",
    help="At most N runs per schedule; a schedule with more is named on stderr.",
)
@watch_option
@output_options
def agenda(
    hours: int | None,
    until: datetime | None,
    task_ref: str | None,
    limit: int,
    watch: float | None,
) -> None:
    """What runs next: every run that enabled triggers of enabled tasks start
    in the window, in time order (local time, with the weekday).

    A trigger runs its task when both the task and the schedule are enabled.
    Each schedule is asked once for its times: 3 requests plus one per
    schedule, whatever the number of tasks and triggers.
    """
    if hours is not None and until is not None:
        raise click.UsageError("--hours and --until are mutually exclusive: give one of them")
    check_watch(watch)
    app = get_app()
    if watch is None:
        _draw(app, task_ref, hours, until, limit)
        return
    title = "vrgtask agenda" + (f" --task {task_ref}" if task_ref is not None else "")
    watch_loop(title, watch, lambda: _draw(app, task_ref, hours, until, limit))
