"""``vrgtask script``: list, get, create, update, delete, run.

A task script (a row of ``task_scripts``) is GCS code a task can run; tasks
that run it are owned by it (``task_scripts/KEY``) and go when it goes. This
module turns pyvergeos ``TaskScript`` objects into rows and hands them to the
formatter registry; it never prints tables itself. The one exception is
``get --show-code``, which writes the code after the table byte for byte:
code is not a table cell.

Code read from ``--code-file`` is read as bytes and decoded as strict UTF-8,
so it reaches the server exactly as it is on disk (CRLF line ends, tabs, a
missing final newline and all).

The same group is reachable as ``vrgtask task script``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from vrgtask.commands._common import (
    NAME_OR_KEY,
    JsonObject,
    confirm_delete,
    examples,
    format_json,
    nonempty,
    require_changes,
    resolve,
    update_options,
    yes_option,
)
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column
from vrgtask.hints import command_hint
from vrgtask.runopts import Timing, wait_options
from vrgtask.verify import verify_write

if TYPE_CHECKING:
    from pyvergeos.resources.task_scripts import TaskScript

__all__ = [
    "SCRIPT_COLUMNS",
    "SCRIPT_DETAIL_COLUMNS",
    "code_size",
    "find_script",
    "script",
    "script_to_row",
]

NOUN = "script"

#: What a resolution asks for when only the key and name are needed.
_KEY_NAME = ["$key", "name"]
#: ... and for a deletion, which reports the tasks it takes with it.
_KEY_NAME_TASKS = ["$key", "name", "count(tasks) as task_count"]


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def code_size(code: str | None) -> tuple[int, int]:
    """(lines, UTF-8 bytes) of a script's code.

    A line is anything ending in ``\\n`` (``\\r\\n`` counts once), plus a last
    line without a newline.
    """
    if not code:
        return 0, 0
    lines = code.count("\n") + (0 if code.endswith("\n") else 1)
    return lines, len(code.encode("utf-8", errors="replace"))


def _size_text(code: Any) -> str:
    lines, size = code_size(code if isinstance(code, str) else None)
    return f"{_plural(lines, 'line')}, {_plural(size, 'byte')}"


def _code_hint(code: Any) -> str:
    return f"{_size_text(code)} (use --show-code or -o json)"


def _code_below(code: Any) -> str:
    return f"{_size_text(code)} (shown below)"


def _format_bytes(value: Any) -> str:
    return _plural(value, "byte") if isinstance(value, int) else ""


SCRIPT_COLUMNS = [
    Column("$key", "Key"),
    Column("name", "Name"),
    Column("description", "Description"),
    Column("task_count", "Tasks"),
    Column("code_bytes", "Code Size", wide=True, format=_format_bytes),
    Column("code_lines", "Lines", wide=True),
]


def _detail_columns(code_format: Callable[[Any], str]) -> list[Column]:
    return [
        *SCRIPT_COLUMNS,
        Column("task_settings", "Settings", wide=True, format=format_json),
        Column("script", "Code", wide=True, format=code_format),
    ]


#: ``script get``: tables show the size of the code; json and csv carry the code.
SCRIPT_DETAIL_COLUMNS = _detail_columns(_code_hint)
_DETAIL_WITH_CODE_BELOW = _detail_columns(_code_below)


def script_to_row(found: TaskScript) -> dict[str, Any]:
    """One SDK TaskScript as a plain row, the full code (``script``) last.

    Needs the manager's default projection: ``task_count`` is a projected
    accessor (``count(tasks)``).
    """
    code = found.script_code
    lines, size = code_size(code)
    return {
        "$key": int(found.key),
        "name": found.get("name"),
        "description": found.get("description") or "",
        "task_count": found.task_count,
        "code_bytes": size,
        "code_lines": lines,
        "task_settings": found.get("task_settings"),
        "script": code,
    }


def find_script(app: AppContext, ident: str, *, fields: list[str] | None = None) -> TaskScript:
    """Resolve ID|NAME with one query; ``fields=None`` reads every column (the code too)."""
    return resolve(app.client.task_scripts, ident, noun=NOUN, fields=fields)


def _label(found: TaskScript) -> str:
    return f"script {found.get('name')!r} (key {found.key})"


def _verify(app: AppContext, sent: dict[str, Any], back: Any, what: str) -> None:
    """The script as read back must hold what was sent (see vrgtask.verify)."""
    verify_write(
        sent,
        back,
        what=f"{what} of {_label(back)}",
        hint=command_hint(app, "script", "get", back.key),
    )


#: The largest script ``--code-file`` reads (a task script is a few kilobytes).
CODE_MAX_BYTES = 4 * 1024 * 1024


def _read_code_file(_ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """The file's bytes as strict UTF-8 text, unchanged (no newline translation).

    FILE must be a regular file of at most :data:`CODE_MAX_BYTES`; ``-``
    reads standard input up to that size.
    """
    if value is None:
        return None
    from vrgtask.config import FileRefused, read_regular_file

    if value == "-":
        where = "standard input"
        import sys

        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # stdin closed at start-up (or a text-only stream)
            raise click.BadParameter(f"{where} cannot be read", param=param)
        data = stream.read(CODE_MAX_BYTES + 1)
        if len(data) > CODE_MAX_BYTES:
            raise click.BadParameter(f"{where} is larger than {CODE_MAX_BYTES} bytes", param=param)
    else:
        where = value
        try:
            data = read_regular_file(value, CODE_MAX_BYTES)
        except FileRefused as exc:
            raise click.BadParameter(f"{value!r} is {exc}", param=param) from None
        except OSError as exc:
            raise click.BadParameter(
                f"cannot read {value!r}: {exc.strerror or exc}", param=param
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.BadParameter(
            f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "task scripts are stored as text",
            param=param,
        ) from None


def _code_option(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--code", metavar="TEXT", help="The script's code, given inline.")(func)
    return click.option(
        "--code-file",
        type=click.Path(dir_okay=False, allow_dash=True),
        callback=_read_code_file,
        metavar="FILE",
        help="Read the code from FILE ('-' = standard input), byte for byte.",
    )(func)


def _pick_code(code_file: str | None, code: str | None) -> str | None:
    if code_file is not None and code is not None:
        raise click.UsageError("--code-file and --code are mutually exclusive: give one")
    return code_file if code_file is not None else code


@click.group(
    epilog=examples(
        "vrgtask script list",
        "vrgtask script create --name cleanup --code-file cleanup.gcs",
        "vrgtask script get cleanup --show-code -q > cleanup.gcs",
        "vrgtask script run cleanup",
        "vrgtask task script list   (same as: vrgtask script list)",
    ),
)
def script() -> None:
    """Task scripts: GCS code that tasks run.

    ID|NAME arguments take a name or a key. Deleting a script deletes the
    tasks that run it.
    """


@fans_out()
@script.command(
    "list",
    epilog=examples(
        "vrgtask script list",
        "vrgtask script list -o wide          (with code sizes)",
        "vrgtask script list -q               (keys only)",
        "vrgtask script list -o json          (the code of each script included)",
    ),
)
@output_options
def list_scripts() -> None:
    """List task scripts."""
    app = get_app()
    found = app.client.task_scripts.list()
    app.render_list(
        [script_to_row(s) for s in found], SCRIPT_COLUMNS, empty="No task scripts found."
    )


@script.command(
    "get",
    epilog=examples(
        "vrgtask script get cleanup",
        "vrgtask script get cleanup --show-code",
        "vrgtask script get cleanup --show-code -q > cleanup.gcs   (only the code)",
        "vrgtask script get 1 -o json                              (the code in 'script')",
    ),
)
@click.argument("script_ref", metavar="ID|NAME", type=NAME_OR_KEY)
@click.option(
    "--show-code",
    is_flag=True,
    help="Print the code, byte for byte, after the table (with -q: only the code).",
)
@output_options
def get_script(script_ref: str, show_code: bool) -> None:
    """Show one task script.

    Tables show the size of the code; --show-code prints the code itself
    after them, and -o json carries it in the 'script' field. Neither ever
    shortens it.
    """
    app = get_app()
    found = find_script(app, script_ref)
    row = script_to_row(found)
    if not show_code or app.query is not None:
        app.render_one(row, SCRIPT_DETAIL_COLUMNS)
        return
    code = row["script"] or ""
    if app.quiet:
        get_app().verbatim(code)
    elif not app.structured:
        app.render_one(row, _DETAIL_WITH_CODE_BELOW)
        click.echo()
        get_app().verbatim(code)
    else:  # json, csv, ...: the row carries the code already
        app.render_one(row, SCRIPT_DETAIL_COLUMNS)


@script.command(
    "create",
    epilog=examples(
        "vrgtask script create --name cleanup --code-file cleanup.gcs",
        "cat cleanup.gcs | vrgtask script create --name cleanup --code-file -",
        "vrgtask script create --name hello --code \"log('hello')\" --description 'Says hello'",
        "vrgtask script create --name ask --code-file ask.gcs "
        "--settings-json '{\"questions\": []}' -o json",
    ),
)
@click.option("--name", required=True, callback=nonempty, help="Script name (unique).")
@_code_option
@click.option("--description", help="Description.")
@click.option(
    "--settings-json",
    type=JsonObject(),
    help='Settings and questions (JSON object) [default: {"questions": []}].',
)
@output_options
def create_script(
    name: str,
    code_file: str | None,
    code: str | None,
    description: str | None,
    settings_json: dict[str, Any] | None,
) -> None:
    """Create a task script from a file (--code-file) or inline code (--code)."""
    text = _pick_code(code_file, code)
    if text is None:
        raise click.UsageError("Missing option '--code-file' or '--code': give the script's code")
    app = get_app()
    created = app.client.task_scripts.create(
        name=name, script=text, description=description, task_settings=settings_json
    )
    sent: dict[str, Any] = {"name": name, "script": text, "description": description}
    if settings_json is not None:
        sent["task_settings"] = settings_json
    _verify(app, {k: v for k, v in sent.items() if v is not None}, created, "the creation")
    row = script_to_row(created)
    app.done(f"Created {_label(created)}: {_size_text(row['script'])}", row, SCRIPT_DETAIL_COLUMNS)


@script.command(
    "update",
    epilog=examples(
        "vrgtask script update cleanup --code-file cleanup.gcs",
        "vrgtask script update 1 --name cleanup-v2 --description 'Second version'",
        "vrgtask script update cleanup --settings-json '{\"questions\": []}' -o json",
    ),
)
@click.argument("script_ref", metavar="ID|NAME", type=NAME_OR_KEY)
@update_options()
@_code_option
@click.option("--settings-json", type=JsonObject(), help="New settings (JSON object).")
@output_options
def update_script(
    script_ref: str,
    name: str | None,
    description: str | None,
    code_file: str | None,
    code: str | None,
    settings_json: dict[str, Any] | None,
) -> None:
    """Change a task script; only what is given is sent."""
    changes: dict[str, Any] = {
        "name": name,
        "description": description,
        "script": _pick_code(code_file, code),
        "task_settings": settings_json,
    }
    changes = require_changes(changes)
    app = get_app()
    found = find_script(app, script_ref, fields=_KEY_NAME)
    updated = app.client.task_scripts.update(found.key, **changes)
    _verify(app, changes, updated, "the update")
    app.done(f"Updated {_label(updated)}", script_to_row(updated), SCRIPT_DETAIL_COLUMNS)


@script.command(
    "delete",
    epilog=examples("vrgtask script delete cleanup", "vrgtask script delete 3 --yes"),
)
@click.argument("script_ref", metavar="ID|NAME", type=NAME_OR_KEY)
@yes_option()
@output_options
def delete_script(script_ref: str, yes: bool) -> None:
    """Delete a task script AND every task that runs it."""
    app = get_app()
    found = find_script(app, script_ref, fields=_KEY_NAME_TASKS)
    tasks = found.task_count
    confirm_delete(
        app,
        found,
        app.client.task_scripts.delete,
        yes=yes,
        ask=f"Delete {_label(found)} and the {_plural(tasks, 'task')} it owns "
        "(tasks that run a script are deleted with it)?",
        told=f"Deleted {_label(found)} and the {_plural(tasks, 'task')} it owned",
        task_count=tasks,
    )


@script.command(
    "run",
    epilog=examples(
        "vrgtask script run cleanup",
        "vrgtask script run cleanup --wait     (exit 1 if the run logs an error)",
        "vrgtask script run cleanup --params-json '{\"retention_days\": 7}'",
        "vrgtask script run 1 --query task      (prints the key of the task that runs it)",
    ),
)
@click.argument("script_ref", metavar="ID|NAME", type=NAME_OR_KEY)
@click.option(
    "--params-json",
    type=JsonObject(),
    help="Parameters for the script (JSON object), sent to the server as they are.",
)
@wait_options
@output_options
def run_script(
    script_ref: str, params_json: dict[str, Any] | None, wait: bool, timing: Timing
) -> None:
    """Run a task script now.

    The server answers with the task that runs the script; vrgtask reports
    whether that task was seen starting, or only queued, and --wait follows
    the run as 'task run --wait' does (the result comes from the task log).
    """
    from vrgtask.actions import send_action
    from vrgtask.errors import VrgtaskError
    from vrgtask.runs import follow_run, log_mark, watch_task

    params = dict(params_json or {})
    app = get_app()
    found = find_script(app, script_ref, fields=_KEY_NAME)
    mark = log_mark(app.client)
    response = send_action(app.client, "task_scripts", found.key, "run", params)
    answer = response if isinstance(response, dict) else {}
    task_key = answer.get("task")
    row = {"$key": int(found.key), "name": found.get("name"), "task": task_key, "response": answer}
    if task_key is None or not str(task_key).isdigit():
        if wait:
            raise VrgtaskError(
                f"the server accepted the run of {_label(found)} but did not say which task "
                "runs it, so it cannot be waited for"
            )
        app.done(f"Started {_label(found)}; the server did not name the task that runs it", row)
        return
    watch = watch_task(app, int(task_key), name=None, mark=mark)
    follow_run(
        app,
        watch,
        f"Ran {_label(found)} as task {task_key}",
        wait=wait,
        timing=timing,
        row_extra=row,
    )
