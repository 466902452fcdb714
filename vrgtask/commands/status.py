"""``vrgtask status``: the whole task engine on one screen.

Four sections: tasks running now, runs that failed since ``--since`` (from
the task log), the next runs (the agenda's first few) and *findings*,
configurations that are almost always mistakes. Exit 0 when healthy, 1 when
``--fail-on`` says so, so it can run from cron or a monitoring check.

Requests: the connection check, tasks, schedules, triggers and the log (one
each, sent at once), plus one ``get_schedule`` per schedule that active
triggers use (the first alone, the others at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from vrgtask.commands._common import examples
from vrgtask.commands._watch import WatchCommand, check_watch, watch_loop, watch_option
from vrgtask.commands.agenda import AGENDA_COLUMNS, active_triggers, collect_agenda
from vrgtask.commands.history import ERROR_LEVELS, LEVEL_STYLES, log_time_iso, newest_first
from vrgtask.context import AppContext, Section, get_app, output_options
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column
from vrgtask.timespec import When, format_local, iso_local, local_now

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = [
    "FAILED_COLUMNS",
    "FINDING_COLUMNS",
    "RUNNING_COLUMNS",
    "SEVERITIES",
    "Engine",
    "exit_code_for",
    "find_problems",
    "status",
]

SEVERITIES = ("error", "warning", "info")
SEVERITY_STYLES = {"error": "red", "warning": "yellow", "info": "blue"}
#: How many upcoming runs the status shows (the first of the next 24 hours).
UPCOMING = 10
UPCOMING_HOURS = 24
#: The most failure entries read from the log in one request.
FAILED_LIMIT = 500
DEFAULT_SINCE = timedelta(hours=24)
#: Repeat units whose runs depend on the weekday flags.
DAY_BOUND_UNITS = {"minute", "hour", "day", "week"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

TASK_FIELDS = ["$key", "name", "enabled", "status", "last_run", "count(events) as events_count"]
SCHEDULE_FIELDS = [
    "$key",
    "name",
    "enabled",
    "repeat_every",
    "start_date",
    "end_date",
    "start_time_of_day",
    "end_time_of_day",
    *WEEKDAYS,
]

RUNNING_COLUMNS = [
    Column("task", "Task"),
    Column("time", "Started", format=format_local),
    Column("task_key", "Task Key", wide=True),
]
FAILED_COLUMNS = [
    Column("time", "Time", format=format_local),
    Column("task", "Task"),
    Column("text", "Text"),
    Column("level", "Level", wide=True, styles=LEVEL_STYLES),
    Column("user", "User", wide=True),
    Column("task_key", "Task Key", wide=True),
]
FINDING_COLUMNS = [
    Column("severity", "Severity", styles=SEVERITY_STYLES),
    Column("message", "Finding"),
    Column("kind", "Kind", wide=True),
]


@dataclass
class Engine:
    """What the status reads of the task engine, as plain values."""

    #: key -> {"name", "enabled", "status", "last_run", "events"}
    tasks: dict[int, dict[str, Any]]
    #: key -> the schedule's row (plain dict)
    schedules: dict[int, dict[str, Any]]
    #: {"key", "task_key", "schedule_key", "schedule", "schedule_enabled"}
    triggers: list[dict[str, Any]]


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _task_label(engine: Engine, key: int) -> str:
    task = engine.tasks.get(key)
    name = task["name"] if task else "?"
    return f"task {name!r} (key {key})"


def _schedule_label(engine: Engine, trigger: Mapping[str, Any]) -> str:
    key = trigger["schedule_key"]
    found = engine.schedules.get(key)
    name = found.get("name") if found else trigger.get("schedule")
    return f"schedule {name!r} (key {key})"


def _end_passed(end_date: Any, now: datetime) -> str | None:
    """The schedule's end as text when it lies in the past, else None.

    A date alone lets the schedule run through that local day.
    """
    from vrgtask.timespec import parse_when

    text = str(end_date or "").strip()
    if not text:
        return None
    if text.isdigit():  # epoch seconds, as some releases give dates
        return format_local(int(text)) if int(text) < now.timestamp() else None
    try:
        if len(text) == 10:
            return text if date.fromisoformat(text) < now.date() else None
        return text if parse_when(text, now=now) < now else None
    except ValueError:
        return None


def _never_fires(schedule: Mapping[str, Any]) -> str | None:
    """Why the schedule's window excludes every day, or None when it does not."""
    unit = str(schedule.get("repeat_every") or "hour")
    flags = [schedule[day] for day in WEEKDAYS if day in schedule]
    if unit in DAY_BOUND_UNITS and flags and not any(flags):
        return "no weekday is selected"
    start = _int(schedule.get("start_time_of_day"))
    end = _int(schedule.get("end_time_of_day"))
    if unit in {"minute", "hour"} and start is not None and end is not None and start >= end:
        return "its daily window is empty (start time not before end time)"
    first, last = str(schedule.get("start_date") or ""), str(schedule.get("end_date") or "")
    try:
        if first and last and date.fromisoformat(last[:10]) < date.fromisoformat(first[:10]):
            return "its end date is before its start date"
    except ValueError:
        pass
    return None


def find_problems(engine: Engine, now: datetime) -> list[dict[str, Any]]:
    """Configurations that are almost always mistakes, most severe first."""
    found: list[dict[str, Any]] = []
    by_task: dict[int, list[dict[str, Any]]] = {}
    by_schedule: dict[int, list[dict[str, Any]]] = {}
    for trig in engine.triggers:
        by_task.setdefault(trig["task_key"], []).append(trig)
        by_schedule.setdefault(trig["schedule_key"], []).append(trig)

    def schedule_enabled(trig: Mapping[str, Any]) -> bool:
        row = engine.schedules.get(trig["schedule_key"])
        if row is not None:
            return bool(row.get("enabled", True))
        return bool(trig["schedule_enabled"])

    for trig in engine.triggers:
        task = engine.tasks.get(trig["task_key"])
        row = engine.schedules.get(trig["schedule_key"])
        if task is None:
            continue
        if task["enabled"] and schedule_enabled(trig) and row is not None:
            why = _never_fires(row)
            if why:
                found.append(
                    {
                        "severity": "error",
                        "kind": "schedule_never_fires",
                        "message": f"trigger {trig['key']} runs "
                        f"{_task_label(engine, trig['task_key'])} "
                        f"on {_schedule_label(engine, trig)}, whose window excludes every day "
                        f"({why}): it never runs",
                        "trigger_key": trig["key"],
                        "task_key": trig["task_key"],
                        "schedule_key": trig["schedule_key"],
                    }
                )
        if not task["enabled"]:
            found.append(
                {
                    "severity": "warning",
                    "kind": "trigger_on_disabled_task",
                    "message": f"trigger {trig['key']} links disabled "
                    f"{_task_label(engine, trig['task_key'])} to {_schedule_label(engine, trig)}; "
                    "it starts nothing until the task is enabled",
                    "trigger_key": trig["key"],
                    "task_key": trig["task_key"],
                    "schedule_key": trig["schedule_key"],
                }
            )

    for task_key, task in sorted(engine.tasks.items()):
        trigs = by_task.get(task_key, [])
        if task["enabled"] and trigs and not any(schedule_enabled(t) for t in trigs):
            schedules = sorted({t["schedule_key"] for t in trigs})
            named = ", ".join(_schedule_label(engine, t) for t in trigs)
            found.append(
                {
                    "severity": "warning",
                    "kind": "all_schedules_disabled",
                    "message": f"{_task_label(engine, task_key)} is enabled but every trigger "
                    f"points at a disabled schedule ({named}); it never runs on a schedule",
                    "task_key": task_key,
                    "schedule_keys": schedules,
                    "trigger_keys": sorted(t["key"] for t in trigs),
                }
            )

    for schedule_key, row in sorted(engine.schedules.items()):
        trigs = by_schedule.get(schedule_key, [])
        ended = _end_passed(row.get("end_date"), now)
        if trigs and ended:
            count = len(trigs)
            found.append(
                {
                    "severity": "warning",
                    "kind": "schedule_ended",
                    "message": f"schedule {row.get('name')!r} (key {schedule_key}) ended on "
                    f"{ended} but {count} trigger{'s' if count != 1 else ''} still link "
                    f"task{'s' if count != 1 else ''} to it "
                    f"({', '.join(_task_label(engine, t['task_key']) for t in trigs)})",
                    "schedule_key": schedule_key,
                    "trigger_keys": sorted(t["key"] for t in trigs),
                    "task_keys": sorted({t["task_key"] for t in trigs}),
                }
            )

    for task_key, task in sorted(engine.tasks.items()):
        if not by_task.get(task_key) and not task["events"]:
            found.append(
                {
                    "severity": "info",
                    "kind": "task_without_triggers",
                    "message": f"{_task_label(engine, task_key)} has no triggers or events; "
                    "it runs only when started by hand",
                    "task_key": task_key,
                }
            )
    found.sort(key=lambda f: SEVERITIES.index(f["severity"]))
    return found


def exit_code_for(
    failed: Sequence[Any], findings: Iterable[Mapping[str, Any]], fail_on: str
) -> int:
    """1 when ``--fail-on`` says the state is unhealthy, else 0.

    Failed runs count as errors.
    """
    if fail_on == "never":
        return 0
    severities = {f["severity"] for f in findings}
    if failed:
        severities.add("error")
    worst = {"error"} if fail_on == "errors" else {"error", "warning"}
    return 1 if severities & worst else 0


def _read_engine(client: VergeClient, since: datetime) -> tuple[Engine, Any, Any]:
    """The engine, its triggers and the errors logged since ``since``: four
    independent reads, sent at once (vrgtask.together)."""
    from vrgtask.together import read_together

    tasks, schedules, triggers, entries = read_together(
        [
            lambda: client.tasks.list(fields=TASK_FIELDS),
            lambda: client.task_schedules.list(fields=SCHEDULE_FIELDS),
            client.task_schedule_triggers.list,
            lambda: client.logs.list(
                object_type="task", level=ERROR_LEVELS, since=since, limit=FAILED_LIMIT
            ),
        ]
    )
    engine = Engine(
        tasks={
            int(t.key): {
                "name": str(t.get("name")),
                "enabled": bool(t.get("enabled")),
                "status": t.get("status"),
                "last_run": t.get("last_run"),
                "events": _int(t.get("events_count")) or 0,
            }
            for t in tasks
        },
        schedules={int(s.key): dict(s) for s in schedules},
        triggers=[
            {
                "key": int(t.key),
                "task_key": _int(t.task_key),
                "schedule_key": _int(t.schedule_key),
                "schedule": t.get("schedule_display"),
                "schedule_enabled": bool(t.get("sch_enabled")),
            }
            for t in triggers
            if _int(t.task_key) is not None and _int(t.schedule_key) is not None
        ],
    )
    return engine, triggers, entries


def _running(engine: Engine) -> list[dict[str, Any]]:
    from vrgtask.upcoming import run_entry_epoch

    rows = []
    for key, task in sorted(engine.tasks.items()):
        if task["status"] != "running":
            continue
        started = run_entry_epoch(task["last_run"]) if task["last_run"] else None
        rows.append(
            {
                "time": started,
                "time_iso": iso_local(started) if started is not None else None,
                "task": task["name"],
                "task_key": key,
            }
        )
    return rows


def _failed(engine: Engine, entries: Iterable[Any]) -> list[dict[str, Any]]:
    keys_by_name: dict[str, list[int]] = {}
    for key, task in engine.tasks.items():
        keys_by_name.setdefault(task["name"], []).append(key)
    rows = []
    for entry in newest_first(list(entries)):
        name = str(entry.get("object_name") or "")
        keys = keys_by_name.get(name, [])
        micros = _int(entry.get("timestamp"))
        rows.append(
            {
                "time": micros // 1_000_000 if micros is not None else None,
                "time_iso": log_time_iso(micros),
                "task": name,
                "task_key": keys[0] if len(keys) == 1 else None,
                "level": entry.get("level"),
                "text": entry.get("text"),
                "user": entry.get("user"),
                "log_key": _int(entry.get("$key")),
            }
        )
    return rows


def _draw(app: AppContext, since: datetime | None, fail_on: str) -> int:
    now = local_now()
    since = since if since is not None else now - DEFAULT_SINCE
    client = app.client
    engine, triggers, entries = _read_engine(client, since)
    enabled = {k: t["name"] for k, t in engine.tasks.items() if t["enabled"]}
    start = int(now.timestamp())
    upcoming = collect_agenda(
        client,
        active_triggers(
            triggers,
            enabled,
            {k: bool(v.get("enabled", True)) for k, v in engine.schedules.items()},
        ),
        enabled,
        start,
        start + UPCOMING_HOURS * 3600,
        UPCOMING,
    ).rows[:UPCOMING]
    running = _running(engine)
    failed = _failed(engine, entries)
    findings = find_problems(engine, now)
    code = exit_code_for(failed, findings, fail_on)
    if len(entries) >= FAILED_LIMIT and not app.quiet:
        app.note(f"Note: only the newest {FAILED_LIMIT} failures are shown.")
    app.render_sections(
        [
            Section("running", f"Running now ({len(running)})", running, RUNNING_COLUMNS),
            Section(
                "failed",
                f"Failed since {format_local(int(since.timestamp()))} ({len(failed)})",
                failed,
                FAILED_COLUMNS,
            ),
            Section(
                "upcoming",
                f"Next runs (the first {UPCOMING} of the next {UPCOMING_HOURS} hours)",
                upcoming,
                AGENDA_COLUMNS,
            ),
            Section("findings", f"Findings ({len(findings)})", findings, FINDING_COLUMNS),
        ]
    )
    if not app.structured and not app.quiet and app.query is None:
        counts = {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITIES}
        summary = (
            f"{len(failed)} failed run(s), {counts['error']} error(s), "
            f"{counts['warning']} warning(s), {counts['info']} note(s)"
        )
        verdict = "unhealthy" if code else "healthy"
        app.note(f"Status: {verdict} by --fail-on {fail_on}: {summary}.")
    return code


@fans_out(sections=True, single_only=("watch",))
@click.command(
    "status",
    cls=WatchCommand,
    epilog=examples(
        "vrgtask status                             (the morning check)",
        "vrgtask status --since 7d --fail-on warnings",
        "vrgtask status -q || echo 'task engine needs attention'   (cron: exit code only)",
        "vrgtask status -o json --query findings",
        "vrgtask status --watch                     (redraw every 5 s; Ctrl-C to stop)",
    ),
)
@click.option(
    "--since",
    type=When(),
    help="Failed runs since WHEN: a duration back from now (30m, 24h, 7d), today, "
    "yesterday, a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM[:SS]).  [default: 24h]",
)
@click.option(
    "--fail-on",
    type=click.Choice(["errors", "warnings", "never"]),
    default="errors",
    show_default=True,
    help="Exit 1 on errors (failed runs, error findings), on warnings too, or never.",
)
@watch_option
@output_options
def status(since: datetime | None, fail_on: str, watch: float | None) -> None:
    """The task engine at a glance: what runs now, what failed, what runs
    next, and configurations that are almost always mistakes.

    \b
    Findings (severity: kind):
      error:   schedule_never_fires      an active trigger's schedule excludes every day
      warning: all_schedules_disabled    an enabled task whose every trigger's schedule is off
      warning: trigger_on_disabled_task  a trigger whose task is disabled
      warning: schedule_ended            a schedule past its end date that still has triggers
      info:    task_without_triggers     a task with no triggers and no events

    Exit 0 when healthy, 1 when --fail-on says so (failed runs count as
    errors). Costs 5 requests plus one per schedule in use.
    """
    check_watch(watch)
    app = get_app()
    ctx = click.get_current_context()
    if watch is None:
        code = _draw(app, since, fail_on)
        if code:
            ctx.exit(code)
        return
    watch_loop("vrgtask status", watch, lambda: _draw(app, since, fail_on))
