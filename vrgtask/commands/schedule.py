"""``vrgtask schedule``: list, get, create, update, delete, enable, disable, show.

A schedule is a recurring time window (every N minutes/hours/days/... between
a start and an end time of day, on some weekdays). Triggers link tasks to it
(``vrgtask trigger``). This module turns pyvergeos ``TaskSchedule`` objects
into rows and hands them to the formatter registry; it never prints tables.

The same group is reachable as ``vrgtask task schedule``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from vrgtask.commands._common import (
    BOOL_STYLES,
    NAME_OR_KEY,
    add_toggles,
    confirm_delete,
    enabled_filter,
    examples,
    format_yes_no,
    nonempty,
    optional_bool,
    require_changes,
    resolve,
    update_options,
    yes_option,
)
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.errors import ConflictError
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column
from vrgtask.schedtime import (
    DAY_NAMES,
    DAY_OF_MONTH_CHOICES,
    DAY_SECONDS,
    REPEAT_CHOICES,
    WEEKDAYS,
    DaysType,
    PointInTime,
    ScheduleDate,
    TimeOfDay,
    date_of,
    format_days,
    int_or,
    seconds_to_time,
    time_text,
)
from vrgtask.upcoming import ask_upcoming, raw_text, run_entry_epoch

if TYPE_CHECKING:
    from pyvergeos.resources.task_schedules import TaskSchedule

__all__ = [
    "SCHEDULE_UPCOMING_COLUMNS",
    "TASK_SCHEDULE_COLUMNS",
    "find_schedule",
    "format_run_time",
    "schedule",
    "schedule_to_row",
    "upcoming_to_row",
]

NOUN = "schedule"

F = TypeVar("F", bound=Callable[..., Any])


# -- rows and columns -------------------------------------------------------


def schedule_to_row(schedule: TaskSchedule) -> dict[str, Any]:
    """One SDK TaskSchedule as a plain row.

    Needs the manager's default projection (every accessor read here is a
    plain column, so a narrower row only shows defaults, never raises).
    """
    start = int_or(schedule.get("start_time_of_day", 0), 0)
    end = int_or(schedule.get("end_time_of_day", DAY_SECONDS), DAY_SECONDS)
    iteration = schedule.get("repeat_iteration")
    return {
        "$key": int(schedule.key),
        "name": schedule.get("name"),
        "description": schedule.get("description", "") or "",
        "enabled": optional_bool(schedule.get("enabled", True)),
        "repeat_every": schedule.get("repeat_every", "") or "",
        "repeat_display": schedule.repeat_every_display,
        "repeat_iteration": schedule.repeat_count if iteration is not None else 1,
        "start_date": schedule.get("start_date", "") or "",
        "end_date": schedule.get("end_date", "") or "",
        "start_time_of_day": start,
        "start_time_display": seconds_to_time(start),
        "end_time_of_day": end,
        "end_time_display": seconds_to_time(end),
        "day_of_month": schedule.get("day_of_month", "") or "",
        "active_days": ", ".join(schedule.active_days),
    }


TASK_SCHEDULE_COLUMNS = [
    Column("$key", "Key"),
    Column("name", "Name"),
    Column("repeat_display", "Repeat"),
    Column("repeat_iteration", "Every N"),
    Column("enabled", "Enabled", format=format_yes_no, styles=BOOL_STYLES),
    Column("active_days", "Days", format=format_days),
    Column("start_date", "Start Date", wide=True),
    Column("end_date", "End Date", wide=True),
    Column("start_time_display", "Start Time", wide=True),
    Column("end_time_display", "End Time", wide=True),
    Column("day_of_month", "Day of Month", wide=True),
    Column("description", "Description", wide=True),
]


def _label(found: TaskSchedule) -> str:
    return f"schedule {found.get('name')!r} (key {found.key})"


def _done(
    app: AppContext, verb: str, found: TaskSchedule, sent: dict[str, Any] | None = None
) -> None:
    if sent is not None:
        from vrgtask.hints import command_hint
        from vrgtask.verify import verify_write

        verify_write(
            sent,
            found,
            what=f"the change ({verb.lower()}) of {_label(found)}",
            hint=command_hint(app, "schedule", "get", found.key),
        )
    app.done(f"{verb} {_label(found)}", schedule_to_row(found), TASK_SCHEDULE_COLUMNS)


def find_schedule(app: AppContext, ident: str, *, full: bool = False) -> TaskSchedule:
    """Resolve SCHEDULE (name or key) with one query.

    ``full`` reads the manager's default projection (every column a row
    shows, the times of day included); otherwise key, name and enabled.
    """
    fields = None if full else ["$key", "name", "enabled"]
    return resolve(app.client.task_schedules, ident, noun=NOUN, fields=fields)


def upcoming_to_row(entry: Any) -> dict[str, Any]:
    """One upcoming run: local ISO-8601 time with offset, weekday, epoch.

    An entry that cannot be read as a time keeps its raw text and has no
    weekday or epoch.
    """
    epoch = run_entry_epoch(entry)
    if epoch is None:
        return {"execution_time": raw_text(entry), "weekday": None, "epoch": None}
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc).astimezone()
    return {
        "execution_time": moment.isoformat(),
        "weekday": DAY_NAMES[moment.weekday()],
        "epoch": epoch,
    }


def format_run_time(value: Any) -> str:
    """``2026-11-27T02:00:00+01:00`` as ``2026-11-27 02:00:00 CET (Friday)``."""
    if value is None:
        return ""
    try:
        moment = datetime.fromisoformat(str(value)).astimezone()
    except ValueError:
        return str(value)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S %Z").rstrip()
    return f"{stamp} ({DAY_NAMES[moment.weekday()]})"


SCHEDULE_UPCOMING_COLUMNS = [
    Column("execution_time", "Scheduled Time", format=format_run_time),
    Column("weekday", "Weekday", wide=True),
    Column("epoch", "Epoch", wide=True),
]


# -- shared option handling -------------------------------------------------


def _day_options(*, create: bool) -> Callable[[F], F]:
    """``--days`` and the seven ``--monday/--no-monday`` ... flags (None when not given)."""

    def decorate(func: F) -> F:
        for day in reversed(WEEKDAYS):
            if create:
                text = f"Run on {day.capitalize()}s.  [default: yes]"
            else:
                text = f"Run on {day.capitalize()}s, or not."
            func = click.option(f"--{day}/--no-{day}", default=None, help=text)(func)
        return click.option(
            "--days",
            "days_spec",
            type=DaysType(),
            help="The days to run on, e.g. mon,wed,fri, weekdays, weekend or all; "
            "sets all seven day flags (the others off).",
        )(func)

    return decorate


def _weekday_flags(
    days_spec: dict[str, bool] | None, flags: Mapping[str, bool | None]
) -> dict[str, bool | None]:
    given = [
        f"--{day}" if flags[day] else f"--no-{day}" for day in WEEKDAYS if flags[day] is not None
    ]
    if days_spec is not None and given:
        raise click.UsageError(
            f"--days cannot be combined with {', '.join(given)}: --days already sets every day flag"
        )
    if days_spec is not None:
        return dict(days_spec)
    return {day: flags[day] for day in WEEKDAYS}


def _check_time_window(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and end < start:
        raise click.BadParameter(
            f"{time_text(end)} is before --start-time {time_text(start)}",
            param_hint="'--end-time'",
        )


def _check_dates(start: str | None, end: str | None) -> None:
    first, last = date_of(start), date_of(end)
    if first is not None and last is not None and last < first:
        raise click.BadParameter(f"{end} is before --start-date {start}", param_hint="'--end-date'")


#: The options create and update share, and the SDK field each one sets.
_OPTION_FIELDS = {
    "name": "name",
    "description": "description",
    "repeat_every": "repeat_every",
    "repeat_iteration": "repeat_iteration",
    "start_date": "start_date",
    "end_date": "end_date",
    "start_time": "start_time_of_day",
    "end_time": "end_time_of_day",
    "day_of_month": "day_of_month",
}


def _option_fields() -> dict[str, Any]:
    """The SDK fields of the running create or update, from its options (None: not given)."""
    params = click.get_current_context().params
    return {field: params[option] for option, field in _OPTION_FIELDS.items()}


REPEAT_HELP = "Repeat interval."
ITERATION_HELP = "Run every N intervals (at least 1)."
TIME_HELP = "HH:MM[:SS] or seconds after midnight (0..86400, 24:00 = end of day)."


# -- commands ---------------------------------------------------------------


@click.group(
    epilog=examples(
        "vrgtask schedule list --enabled",
        "vrgtask schedule create --name nightly --repeat-every day --start-time 02:00",
        "vrgtask schedule show nightly --max-results 5",
        "vrgtask task schedule list   (same as: vrgtask schedule list)",
    ),
)
def schedule() -> None:
    """Manage task schedules: recurring time windows that triggers link to tasks.

    SCHEDULE arguments take a name or a key. A name shared by several
    schedules is refused (exit 7) and the matching keys are listed.
    """


@fans_out()
@schedule.command(
    "list",
    epilog=examples(
        "vrgtask schedule list",
        "vrgtask schedule list --enabled --repeat-every day -o wide",
        "vrgtask schedule list --disabled -q          (keys only)",
        "vrgtask schedule list --filter \"name bw 'backup'\" -o json",
    ),
)
@click.option("--filter", "filter_", metavar="EXPR", help="Server-side filter expression.")
@click.option("--enabled", is_flag=True, help="Only enabled schedules.")
@click.option("--disabled", is_flag=True, help="Only disabled schedules.")
@click.option(
    "--repeat-every",
    type=click.Choice(REPEAT_CHOICES),
    help="Only schedules with this repeat interval.",
)
@output_options
def list_schedules(
    filter_: str | None, enabled: bool, disabled: bool, repeat_every: str | None
) -> None:
    """List task schedules."""
    wanted = enabled_filter(enabled, disabled)
    app = get_app()
    found = app.client.task_schedules.list(
        filter=filter_ or None, enabled=wanted, repeat_every=repeat_every
    )
    app.render_list(
        [schedule_to_row(s) for s in found], TASK_SCHEDULE_COLUMNS, empty="No schedules found."
    )


@schedule.command(
    "get", epilog=examples("vrgtask schedule get nightly", "vrgtask schedule get 3 -o json")
)
@click.argument("schedule_ref", metavar="SCHEDULE", type=NAME_OR_KEY)
@output_options
def get_schedule(schedule_ref: str) -> None:
    """Show one task schedule."""
    app = get_app()
    found = find_schedule(app, schedule_ref, full=True)
    app.render_one(schedule_to_row(found), TASK_SCHEDULE_COLUMNS)


@schedule.command(
    "create",
    epilog=examples(
        "vrgtask schedule create --name hourly",
        "vrgtask schedule create --name nightly --repeat-every day --start-time 02:00",
        "vrgtask schedule create --name office --repeat-every hour --start-time 08:00 "
        "--end-time 18:00 --days weekdays",
        "vrgtask schedule create --name friday-eob --repeat-every week --start-time 18:00 "
        "--days fri -o json",
    ),
)
@click.option("--name", required=True, callback=nonempty, help="Schedule name.")
@click.option("--description", help="Description.")
@click.option("--disabled", is_flag=True, help="Create the schedule disabled.")
@click.option(
    "--repeat-every",
    type=click.Choice(REPEAT_CHOICES),
    default="hour",
    show_default=True,
    help=REPEAT_HELP,
)
@click.option(
    "--repeat-iteration",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help=ITERATION_HELP,
)
@click.option("--start-date", type=ScheduleDate(), help="First day the schedule runs.")
@click.option("--end-date", type=ScheduleDate(), help="Last day the schedule runs.")
@click.option(
    "--start-time",
    type=TimeOfDay(),
    default=0,
    help="Start of the daily window: " + TIME_HELP + "  [default: 00:00]",
)
@click.option(
    "--end-time",
    type=TimeOfDay(),
    default=DAY_SECONDS,
    help="End of the daily window: " + TIME_HELP + "  [default: 24:00]",
)
@click.option(
    "--day-of-month",
    type=click.Choice(DAY_OF_MONTH_CHOICES),
    default="start_date",
    show_default=True,
    help="Day of a monthly run.",
)
@_day_options(create=True)
@output_options
def create_schedule(
    name: str,
    description: str | None,
    disabled: bool,
    repeat_every: str,
    repeat_iteration: int,
    start_date: str | None,
    end_date: str | None,
    start_time: int,
    end_time: int,
    day_of_month: str,
    days_spec: dict[str, bool] | None,
    **day_flags: bool | None,
) -> None:
    """Create a task schedule (every hour of every day unless told otherwise)."""
    _check_time_window(start_time, end_time)
    _check_dates(start_date, end_date)
    days = _weekday_flags(days_spec, day_flags)
    app = get_app()
    fields: dict[str, Any] = {
        **_option_fields(),
        "enabled": not disabled,
        **{day: True if flag is None else flag for day, flag in days.items()},
    }
    created = app.client.task_schedules.create(**fields)
    _done(app, "Created", created, {k: v for k, v in fields.items() if v is not None})


@schedule.command(
    "update",
    epilog=examples(
        "vrgtask schedule update nightly --start-time 03:30",
        "vrgtask schedule update 3 --repeat-every week --days mon,thu",
        "vrgtask schedule update office --no-friday --enabled false",
    ),
)
@click.argument("schedule_ref", metavar="SCHEDULE", type=NAME_OR_KEY)
@update_options(enabled=True)
@click.option("--repeat-every", type=click.Choice(REPEAT_CHOICES), help=REPEAT_HELP)
@click.option("--repeat-iteration", type=click.IntRange(min=1), metavar="N", help=ITERATION_HELP)
@click.option("--start-date", type=ScheduleDate(), help="First day the schedule runs.")
@click.option("--end-date", type=ScheduleDate(), help="Last day the schedule runs.")
@click.option("--start-time", type=TimeOfDay(), help="Start of the daily window: " + TIME_HELP)
@click.option("--end-time", type=TimeOfDay(), help="End of the daily window: " + TIME_HELP)
@click.option(
    "--day-of-month", type=click.Choice(DAY_OF_MONTH_CHOICES), help="Day of a monthly run."
)
@_day_options(create=False)
@output_options
def update_schedule(
    schedule_ref: str,
    name: str | None,
    description: str | None,
    enabled: bool | None,
    repeat_every: str | None,
    repeat_iteration: int | None,
    start_date: str | None,
    end_date: str | None,
    start_time: int | None,
    end_time: int | None,
    day_of_month: str | None,
    days_spec: dict[str, bool] | None,
    **day_flags: bool | None,
) -> None:
    """Change a schedule's fields; only what is given is sent.

    A new start or end time (or date) alone is checked against the
    schedule's current other end.
    """
    _check_time_window(start_time, end_time)
    _check_dates(start_date, end_date)
    changes = require_changes(
        {**_option_fields(), "enabled": enabled, **_weekday_flags(days_spec, day_flags)}
    )
    app = get_app()
    found = find_schedule(app, schedule_ref, full=True)
    _check_against_current(found, start_time, end_time, start_date, end_date)
    updated = app.client.task_schedules.update(found.key, **changes)
    _done(app, "Updated", updated, changes)


def _check_against_current(
    found: TaskSchedule,
    start_time: int | None,
    end_time: int | None,
    start_date: str | None,
    end_date: str | None,
) -> None:
    """One end of a window given alone must not cross the schedule's other end."""
    current_start = int_or(found.get("start_time_of_day"), 0)
    current_end = int_or(found.get("end_time_of_day"), DAY_SECONDS)
    if end_time is not None and start_time is None and end_time < current_start:
        _refuse_crossing(time_text(end_time), "before", time_text(current_start), "time")
    if start_time is not None and end_time is None and current_end < start_time:
        _refuse_crossing(time_text(start_time), "after", time_text(current_end), "time")
    first, last = date_of(found.get("start_date")), date_of(found.get("end_date"))
    new_last = date_of(end_date)
    if new_last is not None and start_date is None and first is not None and new_last < first:
        _refuse_crossing(str(end_date), "before", first.isoformat(), "date")
    new_first = date_of(start_date)
    if new_first is not None and end_date is None and last is not None and last < new_first:
        _refuse_crossing(str(start_date), "after", last.isoformat(), "date")


def _refuse_crossing(given: str, side: str, current: str, unit: str) -> NoReturn:
    """Exit 2: the end given alone (its ``unit``: time or date) is ``side``
    (before or after) the schedule's current other end."""
    mine, other = ("end", "start") if side == "before" else ("start", "end")
    raise click.BadParameter(
        f"{given} is {side} the schedule's current {other} {unit} {current}; "
        f"give --{other}-{unit} too",
        param_hint=f"'--{mine}-{unit}'",
    )


def _conflict_message(app: AppContext, found: TaskSchedule, exc: Exception) -> str:
    """Why a schedule could not be deleted: the triggers that still link to it."""
    from vrgtask.hints import command_hint

    label = _label(found)
    try:
        triggers = app.client.task_schedule_triggers.list(schedule=found.key)
    except Exception as listing:  # the refusal is the news; the listing is a courtesy
        return (
            f"{label} was not deleted: the server refused ({exc}); its triggers could not "
            f"be listed ({listing}). See them with: "
            f"{command_hint(app, 'trigger', 'list', '--schedule', found.key)}"
        )
    if not triggers:
        return f"{label} was not deleted: the server refused ({exc})"
    listed = ", ".join(
        f"trigger {t.key} (task {t.task_display!r}, key {t.task_key})" for t in triggers[:10]
    )
    more = f" and {len(triggers) - 10} more" if len(triggers) > 10 else ""
    if len(triggers) == 1:
        still = "1 trigger still links a task to it"
        how = f"Remove it first with: {command_hint(app, 'trigger', 'delete', triggers[0].key)}"
    else:
        still = f"{len(triggers)} triggers still link tasks to it"
        how = (
            "Remove them first with 'vrgtask trigger delete KEY' "
            f"(e.g. {command_hint(app, 'trigger', 'delete', triggers[0].key)})"
        )
    return f"{label} was not deleted: {still}: {listed}{more}. {how}, then delete the schedule"


@schedule.command(
    "delete",
    epilog=examples("vrgtask schedule delete old-window", "vrgtask schedule delete 3 --yes"),
)
@click.argument("schedule_ref", metavar="SCHEDULE", type=NAME_OR_KEY)
@yes_option()
@output_options
def delete_schedule(schedule_ref: str, yes: bool) -> None:
    """Delete a task schedule.

    A schedule that triggers still link to is not deleted (exit 7); the
    triggers are listed.
    """
    from pyvergeos.exceptions import ConflictError as SdkConflictError

    app = get_app()
    found = find_schedule(app, schedule_ref)

    def delete(key: int) -> None:
        try:
            app.client.task_schedules.delete(key)
        except SdkConflictError as exc:
            raise ConflictError(_conflict_message(app, found, exc)) from exc

    ask, told = f"Delete {_label(found)}?", f"Deleted {_label(found)}"
    confirm_delete(app, found, delete, yes=yes, ask=ask, told=told)


def _toggle(schedule_ref: str, enable: bool) -> None:
    app = get_app()
    found = find_schedule(app, schedule_ref)
    manager = app.client.task_schedules
    changed = manager.enable(found.key) if enable else manager.disable(found.key)
    _done(app, "Enabled" if enable else "Disabled", changed, {"enabled": enable})


add_toggles(
    schedule,
    _toggle,
    metavar="SCHEDULE",
    example="schedule {verb} nightly",
    enable_help="Enable a schedule so the tasks linked to it run.",
    disable_help="Disable a schedule; its tasks stop running on it.",
)


@schedule.command(
    "show",
    epilog=examples(
        "vrgtask schedule show nightly",
        "vrgtask schedule show nightly --max-results 5",
        "vrgtask schedule show 3 --start-time 2026-12-24 --end-time 2026-12-31T23:59",
        "vrgtask schedule show nightly -o json",
    ),
)
@click.argument("schedule_ref", metavar="SCHEDULE", type=NAME_OR_KEY)
@click.option(
    "--max-results",
    type=click.IntRange(1, 1440),
    default=20,
    show_default=True,
    metavar="N",
    help="How many upcoming runs to show (1..1440).",
)
@click.option(
    "--start-time",
    type=PointInTime(bounded=True),
    help="Start of the window: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], local time unless "
    "an offset (+01:00, Z) is given [default: now].",
)
@click.option(
    "--end-time",
    type=PointInTime(bounded=True),
    help="End of the window, written like --start-time.",
)
@output_options
def show_schedule(
    schedule_ref: str, max_results: int, start_time: int | None, end_time: int | None
) -> None:
    """Show when a schedule runs next, in local time."""
    if start_time is not None and end_time is not None and end_time < start_time:
        raise click.BadParameter(
            "the end of the window is before its start (--start-time)",
            param_hint="'--end-time'",
        )
    app = get_app()
    found = find_schedule(app, schedule_ref)
    entries = ask_upcoming(app.client, found.key, max_results, start_time, end_time)
    rows = [upcoming_to_row(entry) for entry in entries]
    if not found.is_enabled and not app.quiet:
        app.note(f"Note: {_label(found)} is disabled; it runs at these times once enabled.")
    app.render_list(
        rows,
        SCHEDULE_UPCOMING_COLUMNS,
        key="epoch",
        empty=f"No upcoming runs of {_label(found)} in that window.",
    )
