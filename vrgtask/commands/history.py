"""``vrgtask task history``: what the task log says about tasks, newest first.

VergeOS records task runs, failures and changes in its log (``logs``, object
type ``task``, under the task's name at the time). One request reads the
entries of every task asked for; one more finds the tasks by name or key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from vrgtask.commands._common import NAME_OR_KEY, examples, is_key
from vrgtask.context import get_app, output_options
from vrgtask.errors import NotFoundError
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column
from vrgtask.timespec import When, format_local

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = [
    "ERROR_LEVELS",
    "HISTORY_COLUMNS",
    "LEVEL_STYLES",
    "history_command",
    "log_time_iso",
    "log_to_row",
    "newest_first",
]

LEVEL_STYLES = {
    "critical": "red",
    "error": "red",
    "warning": "yellow",
    "audit": "cyan",
    "summary": "blue",
    "debug": "bright_black",
}
ERROR_LEVELS = ["error", "critical"]
MAX_ENTRIES = 10000

HISTORY_COLUMNS = [
    Column("time", "Time", format=format_local),
    Column("object_name", "Task"),
    Column("level", "Level", styles=LEVEL_STYLES),
    Column("text", "Text"),
    Column("user", "User"),
    Column("$key", "Key", wide=True),
]
#: One task: its name on every line would say nothing.
ONE_TASK_COLUMNS = [c for c in HISTORY_COLUMNS if c.key != "object_name"]


def log_time_iso(timestamp: Any) -> str | None:
    """A log ``timestamp`` (microseconds since the epoch) as local ISO-8601."""
    try:
        micros = int(timestamp)
    except (TypeError, ValueError):
        return None
    try:
        moment = datetime.fromtimestamp(micros / 1_000_000, tz=timezone.utc).astimezone()
    except (ValueError, OverflowError, OSError):
        return None
    return moment.isoformat(timespec="seconds")


def log_to_row(entry: Any) -> dict[str, Any]:
    """One SDK Log as a row: every raw field the server sent, plus ``time``."""
    return {**dict(entry), "time": log_time_iso(entry.get("timestamp"))}


def _stamp(row: Any) -> int:
    try:
        return int(row.get("timestamp"))
    except (TypeError, ValueError):
        return 0


def newest_first(rows: list[Any]) -> list[Any]:
    """Log rows by ``timestamp``, newest first (the server is asked to sort them
    so already; entries of the same moment keep the server's order)."""
    return sorted(rows, key=_stamp, reverse=True)


def _quote(value: str) -> str:
    from pyvergeos.filters import quote_value

    return str(quote_value(value))


def _task_names(client: VergeClient, refs: Sequence[str]) -> tuple[list[str], list[str]]:
    """The names to read the log under, and the refs that name no task now.

    One request finds every ref: an exact name wins, digits that name no
    task are a key. Several tasks may share a name: their entries are the
    same entries (the log keeps names, not keys).
    """
    conditions: list[str] = []
    for ref in refs:
        conditions.append(f"name eq {_quote(ref)}")
        if is_key(ref):
            conditions.append(f"$key eq {int(ref)}")
    found = client.tasks.list(filter=" or ".join(conditions), fields=["$key", "name"])
    names: list[str] = []
    missing: list[str] = []
    for ref in refs:
        if any(t.get("name") == ref for t in found):
            names.append(ref)
            continue
        keyed = [t for t in found if is_key(ref) and str(t.key) == str(int(ref))]
        if keyed:
            names.append(str(keyed[0].get("name")))
        else:
            names.append(ref)
            missing.append(ref)
    return list(dict.fromkeys(names)), missing


@fans_out()
@click.command(
    "history",
    epilog=examples(
        "vrgtask task history nightly-snapshot",
        "vrgtask task history nightly-snapshot --since 7d --errors",
        "vrgtask task history 1 power-on-dev --since 2026-11-01 --limit 200",
        "vrgtask task history --since 24h            (every task)",
        "vrgtask task history nightly-snapshot -o json",
    ),
)
@click.argument("task_refs", metavar="[TASK]...", nargs=-1, type=NAME_OR_KEY)
@click.option(
    "--since",
    type=When(),
    help="Only entries since WHEN: a duration back from now (30m, 24h, 7d), today, "
    "yesterday, a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM[:SS], local "
    "unless it carries an offset).",
)
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_ENTRIES),
    default=50,
    show_default=True,
    metavar="N",
    help=f"At most N entries, the newest (1..{MAX_ENTRIES}).",
)
@click.option("--errors", is_flag=True, help="Only errors (levels error and critical).")
@output_options
def history_command(
    task_refs: tuple[str, ...], since: datetime | None, limit: int, errors: bool
) -> None:
    """Show the task log, newest first: runs, failures and changes of TASK.

    TASK takes a name or a key; give several, or none for every task. Time
    is local, with the weekday. Entries are kept under the task's name at
    the time, so a deleted task's history is still shown by its name.
    """
    app = get_app()
    client = app.client
    refs = list(dict.fromkeys(task_refs))
    names: list[str] = []
    missing: list[str] = []
    if refs:
        names, missing = _task_names(client, refs)
    flt = " or ".join(f"object_name eq {_quote(n)}" for n in names) or None
    entries = client.logs.list(
        filter=flt,
        object_type="task",
        level=ERROR_LEVELS if errors else None,
        since=since,
        limit=limit,
    )
    rows = newest_first([log_to_row(e) for e in entries])
    logged = {str(r.get("object_name")) for r in rows}
    absent = [ref for ref in missing if ref not in logged]
    if absent:
        listed = ", ".join(repr(ref) for ref in absent)
        raise NotFoundError(
            f"no task is named {listed} (or has that key), and no log entry that matches "
            "is recorded under that name"
        )
    if not app.quiet:
        for ref in missing:
            app.note(f"Note: no task is named {ref!r} now; these entries were logged under it.")
        if len(rows) >= limit:
            app.note(f"Note: the newest {limit} entries are shown; there may be more (--limit N).")
    columns = ONE_TASK_COLUMNS if len(names) == 1 else HISTORY_COLUMNS
    app.render_list(rows, columns, empty="No log entries found.")
