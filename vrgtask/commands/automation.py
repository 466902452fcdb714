"""``vrgtask export``, ``vrgtask diff``, ``vrgtask apply``: the task engine as code.

``export`` writes what a system has as a document (YAML or JSON); ``diff``
shows what ``apply`` would change to make the system match a document;
``apply`` makes those changes, each one read back. See
:mod:`vrgtask.automation` for the document and the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from vrgtask.commands._common import examples, yes_option
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.errors import ExitCode, VrgtaskError, classify
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column

__all__ = ["apply", "diff", "export"]

F = TypeVar("F", bound=Callable[..., Any])

PLAN_COLUMNS = [
    Column("change", "Change"),
    Column("kind", "Kind"),
    Column("name", "Name"),
    Column("field", "Field"),
    Column("from", "From"),
    Column("to", "To"),
]

RESULT_COLUMNS = [*PLAN_COLUMNS[:3], Column("result", "Result")]

FILE_HELP = "The document (YAML or JSON); - reads standard input."
PRUNE_HELP = (
    "Also delete tasks, schedules and scripts the document does not name "
    "(never system-created ones)."
)


def _plan_options(func: F) -> F:
    """``-f/--file`` and ``--prune``: what diff and apply compare the system with."""
    func = click.option("--prune", is_flag=True, help=PRUNE_HELP)(func)
    return click.option("-f", "--file", "source", required=True, metavar="FILE", help=FILE_HELP)(
        func
    )


def _load(source: str) -> Any:
    from vrgtask.automation.document import DocumentError, load_document

    try:
        return load_document(source)
    except DocumentError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise


def _plan(app: AppContext, source: str, prune: bool) -> Any:
    """Check the document (no request), read the system, compare."""
    from vrgtask.automation.document import DocumentError
    from vrgtask.automation.plan import build_plan
    from vrgtask.automation.system import read_system

    doc = _load(source)
    client = app.client
    state = read_system(client)
    try:
        return build_plan(client, doc, state, prune=prune)
    except DocumentError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise


def _summary(counts: dict[str, int]) -> str:
    return (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete."
    )


def _show_plan(app: AppContext, plan: Any) -> None:
    if app.quiet:  # -q: the exit code (diff --exit-code) says it all
        return
    if not plan.ops:
        if app.structured:
            app.render_list([], PLAN_COLUMNS)
        else:
            app.done("No changes.")
        return
    app.render_list(plan.rows(), PLAN_COLUMNS)
    if not app.structured:
        app.note(_summary(plan.counts()))


# -- export -----------------------------------------------------------------


@fans_out(runner="vrgtask.automation.fleet:export_fleet")
@click.command(
    epilog=examples(
        "vrgtask export > automation.yaml",
        "vrgtask export --task nightly-snapshot --task power-on-dev -f two-tasks.yaml",
        "vrgtask export -o json --include-system",
        "vrgtask export --schema > vrgtask-automation.schema.json",
        "vrgtask -A export -f sites/          (one document per profile: sites/NAME.yaml)",
    )
)
@click.option(
    "--task",
    "tasks",
    multiple=True,
    metavar="NAME",
    help="Only this task (repeatable), with the schedules and scripts it uses.",
)
@click.option(
    "-f",
    "--file",
    "path",
    type=click.Path(writable=True, allow_dash=True),
    help="Write the document to this file instead of standard output "
    "(with several profiles: a directory, one document per profile).",
)
@click.option(
    "-o",
    "--output",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    help="Document format (default: yaml; json when vrgtask -o json).",
)
@click.option("--include-system", is_flag=True, help="Include system-created tasks and schedules.")
@click.option("--schema", is_flag=True, help="Print the document's JSON Schema (no request).")
def export(
    tasks: tuple[str, ...], path: str | None, fmt: str | None, include_system: bool, schema: bool
) -> None:
    """Write what the system has as a document (YAML or JSON).

    The schedules, scripts and tasks (with their triggers and event
    triggers) of the system.

    The document names objects by name, never by key; owners are written
    table/name when that name is unique in its table, table/key otherwise.
    Exporting, applying to an empty system and exporting again gives the
    same document.
    """
    import json
    import os

    from vrgtask.automation.document import dump_document

    app = get_app()
    if fmt is None:
        fmt = "json" if app.output == "json" else "yaml"
    if schema:
        from vrgtask.automation.document import schema as make_schema

        text = json.dumps(make_schema(), indent=2) + "\n"
    else:
        from vrgtask.automation.system import export_document, read_system

        client = app.client
        document = export_document(client, read_system(client), tasks, include_system)
        text = dump_document(document, fmt)
    if path is None or path == "-":
        app.verbatim(text)
        return
    if os.path.isdir(path):
        raise click.BadParameter(f"File {path!r} is a directory.", param_hint="'-f' / '--file'")
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise VrgtaskError(
            f"cannot write {path}: {exc.strerror or exc}", exit_code=ExitCode.USAGE
        ) from None
    app.note(f"Wrote {path}")


# -- diff -------------------------------------------------------------------


@fans_out(runner="vrgtask.automation.fleet:diff_fleet")
@click.command(
    epilog=examples(
        "vrgtask diff -f automation.yaml",
        "vrgtask diff -f automation.yaml --prune",
        "vrgtask diff -f automation.yaml --exit-code   (exit 1 when the system drifted)",
        "cat automation.yaml | vrgtask diff -f - -o json",
        "vrgtask -A diff -f automation.yaml --exit-code   (exit 1 when any profile drifted)",
    )
)
@_plan_options
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes, 0 when none.")
@output_options
def diff(source: str, prune: bool, exit_code: bool) -> None:
    """Show what apply would change, and change nothing.

    Lists the objects to create, to update (field by field, from -> to)
    and, with --prune, to delete; "No changes." when the system matches.
    """
    app = get_app()
    plan = _plan(app, source, prune)
    _show_plan(app, plan)
    if exit_code and plan.ops:
        raise click.exceptions.Exit(1)


# -- apply ------------------------------------------------------------------


def _op_row(op: Any, result: str) -> dict[str, Any]:
    return {"change": op.verb, "kind": op.kind, "name": op.name, "result": result}


def _applied_text(plan: Any) -> str:
    """The sentence of a plan applied in full."""
    counts = plan.counts()
    noun = "change" if len(plan.ops) == 1 else "changes"
    return (
        f"Applied {len(plan.ops)} {noun}: {counts['create']} created, "
        f"{counts['update']} updated, {counts['delete']} deleted."
    )


@fans_out(runner="vrgtask.automation.fleet:apply_fleet")
@click.command(
    epilog=examples(
        "vrgtask apply -f automation.yaml",
        "vrgtask apply -f automation.yaml --dry-run        (same as diff)",
        "vrgtask apply -f automation.yaml --prune --yes",
        "vrgtask sandbox sample | vrgtask --sandbox apply -f - --yes",
        "vrgtask -A apply -f automation.yaml --dry-run   (every profile's plan)",
        "vrgtask -p site-a,site-b apply -f automation.yaml --yes",
    )
)
@_plan_options
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")
@yes_option(note=None)
@output_options
def apply(source: str, prune: bool, dry_run: bool, yes: bool) -> None:
    """Make the system match a document.

    Shows the plan, asks on a terminal, then applies it in dependency
    order (schedules and scripts, tasks, triggers and events; deletes last).
    Without a terminal, a plan that deletes anything needs --yes. Every
    write is read back; the first one that fails stops the apply, and the
    summary says what was applied and what was not: run it again to
    converge. A second apply of the same document changes nothing.
    """
    from vrgtask.automation.plan import apply_plan
    from vrgtask.context import stdin_is_terminal

    app = get_app()
    plan = _plan(app, source, prune)
    if not app.structured or dry_run or not plan.ops:
        _show_plan(app, plan)
    if not plan.ops or dry_run:
        return
    deletes = len(plan.deletes)
    if deletes or stdin_is_terminal():
        question = f"Apply these {len(plan.ops)} changes"
        question += f" ({deletes} deletes)?" if deletes else "?"
        app.confirm(question, yes=yes)
    outcome = apply_plan(app.client, plan)
    rows = [_op_row(op, "applied") for op in outcome.applied]
    if outcome.failed is None:
        if app.structured:
            app.render_list(rows, RESULT_COLUMNS)
        else:
            app.done(_applied_text(plan))
        return
    failed = outcome.failed
    assert outcome.error is not None
    code, reason = classify(outcome.error)
    rows.append(_op_row(failed, f"FAILED: {reason}"))
    rows += [_op_row(op, "not applied") for op in outcome.not_applied]
    if app.structured:
        app.render_list(rows, RESULT_COLUMNS)
    else:
        app.note(f"Applied ({len(outcome.applied)}):")
        for op in outcome.applied:
            app.note(f"  {op.label}")
        app.note(f"Failed: {failed.label}: {reason}")
        app.note(f"Not applied ({len(outcome.not_applied)}):")
        for op in outcome.not_applied:
            app.note(f"  {op.label}")
    raise VrgtaskError(
        f"apply stopped at {failed.label}: {reason}; {len(outcome.applied)} of "
        f"{len(plan.ops)} changes applied, {len(outcome.not_applied) + 1} not; run apply "
        "again to converge",
        exit_code=code if code != ExitCode.OK else ExitCode.ERROR,
    )
