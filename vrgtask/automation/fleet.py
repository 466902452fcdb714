"""``export``, ``diff`` and ``apply`` across several profiles (see vrgtask.fleet).

* ``export -f DIR``: one document per profile, ``DIR/PROFILE.yaml`` (or .json).
* ``diff``: the document is read once; every profile's plan in one table with
  a Profile column; ``--exit-code`` exits 1 when any profile drifted.
* ``apply``: every profile is planned first (in parallel); the plans are shown
  together and confirmed once; then each profile applies its own plan (in
  parallel), every write read back; a summary line per profile and one for
  the fleet. ``--dry-run`` shows all plans. A profile whose plan could not be
  made is reported and left alone; ``--fail-fast`` applies nothing then.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import click

from vrgtask.context import AppContext
from vrgtask.errors import ExitCode, VrgtaskError, classify
from vrgtask.fleet import (
    Fleet,
    FleetSpec,
    ProfileApp,
    ProfileResult,
    file_name,
    report_failures,
    run_profiles,
    summary_line,
    worst,
)

__all__ = ["apply_fleet", "diff_fleet", "export_fleet"]


def _structured(app: AppContext) -> bool:
    from vrgtask.fleet import _structured as structured

    return structured(app)


def export_fleet(
    fleet: Fleet, app: AppContext, callback: Any, kwargs: dict[str, Any], *, spec: FleetSpec
) -> int:
    """One document per profile into the directory ``-f DIR``."""
    if kwargs.get("schema"):  # no request: the same for every profile
        callback(**kwargs)
        return 0
    path = kwargs.get("path")
    if path is None or path == "-":
        raise click.UsageError(
            "with several profiles, export writes one document per profile: "
            "give -f DIR (a directory, made if missing)"
        )
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise click.BadParameter(
            f"{path!r} is a file; with several profiles -f names a directory",
            param_hint="'-f' / '--file'",
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VrgtaskError(
            f"cannot make directory {path}: {exc.strerror or exc}", exit_code=ExitCode.USAGE
        ) from None
    fmt = kwargs.get("fmt") or ("json" if app.output == "json" else "yaml")
    tasks, include_system = kwargs.get("tasks", ()), bool(kwargs.get("include_system"))

    def work(papp: ProfileApp) -> str:
        from vrgtask.automation.document import dump_document
        from vrgtask.automation.system import export_document, read_system

        client = papp.client
        return str(
            dump_document(export_document(client, read_system(client), tasks, include_system), fmt)
        )

    results = run_profiles(fleet, app, work)
    for result in results:
        if not result.finished or result.failed:
            continue
        target = directory / f"{file_name(result.name)}.{fmt}"
        try:
            target.write_text(str(result.value), encoding="utf-8")
        except OSError as exc:
            result.code = max(result.code, ExitCode.ERROR)
            result.error = f"cannot write {target}: {exc.strerror or exc}"
            continue
        app.note(f"Wrote {target}")
    report_failures(app, results)
    return worst(results)


def _plans(
    fleet: Fleet, app: AppContext, source: str, prune: bool
) -> tuple[list[ProfileResult], Any]:
    """Read the document once (problems: exit 2, nothing sent), then read
    every profile and compare, in parallel."""
    from vrgtask.commands.automation import _load

    doc = _load(source)

    def work(papp: ProfileApp) -> Any:
        from vrgtask.automation.document import DocumentError
        from vrgtask.automation.plan import build_plan
        from vrgtask.automation.system import read_system

        client = papp.client
        state = read_system(client)
        try:
            return build_plan(client, copy.deepcopy(doc), state, prune=prune)
        except DocumentError as exc:
            raise VrgtaskError(
                f"{exc.message}: {'; '.join(exc.problems)}", exit_code=exc.exit_code
            ) from None

    return run_profiles(fleet, app, work), doc


def _show_plans(app: AppContext, results: list[ProfileResult]) -> None:
    from vrgtask.commands.automation import PLAN_COLUMNS, _summary
    from vrgtask.fleet import _print_rows, _with_profile

    if app.quiet:
        return
    planned = [r for r in results if r.finished and not r.failed]
    rows = [_with_profile(r.name, row) for r in planned for row in r.value.rows()]
    if rows or _structured(app):
        _print_rows(app, rows, PLAN_COLUMNS, "name", None)
    if _structured(app):
        return
    for result in planned:
        if result.value.ops:
            click.echo(f"{result.name}: {_summary(result.value.counts())}", err=True)
        else:
            click.echo(f"{result.name}: No changes.")


def diff_fleet(
    fleet: Fleet, app: AppContext, callback: Any, kwargs: dict[str, Any], *, spec: FleetSpec
) -> int:
    results, _doc = _plans(fleet, app, kwargs["source"], bool(kwargs.get("prune")))
    _show_plans(app, results)
    report_failures(app, results)
    code = worst(results)
    drifted = any(r.finished and not r.failed and r.value.ops for r in results)
    if kwargs.get("exit_code") and drifted:
        code = max(code, 1)
    return code


def apply_fleet(
    fleet: Fleet, app: AppContext, callback: Any, kwargs: dict[str, Any], *, spec: FleetSpec
) -> int:
    from vrgtask.automation.plan import apply_plan
    from vrgtask.commands.automation import RESULT_COLUMNS, _applied_text, _op_row
    from vrgtask.context import stdin_is_terminal
    from vrgtask.fleet import _print_rows, _with_profile

    results, _doc = _plans(fleet, app, kwargs["source"], bool(kwargs.get("prune")))
    dry_run = bool(kwargs.get("dry_run"))
    planned = {r.name: r.value for r in results if r.finished and not r.failed}
    todo = [name for name, plan in planned.items() if plan.ops]
    if not _structured(app) or dry_run or not todo:
        _show_plans(app, results)
    report_failures(app, results)
    code = worst(results)
    if dry_run or not todo:
        return code
    if code and fleet.fail_fast:
        click.echo(
            "Note: --fail-fast: a profile could not be planned; nothing was applied", err=True
        )
        return code
    changes = sum(len(planned[name].ops) for name in todo)
    deletes = sum(len(planned[name].deletes) for name in todo)
    if deletes or stdin_is_terminal():
        noun = "profile" if len(todo) == 1 else "profiles"
        question = f"Apply these {changes} changes to {len(todo)} {noun}"
        question += f" ({deletes} deletes)?" if deletes else "?"
        app.confirm(question, yes=bool(kwargs.get("yes")))

    def work(papp: ProfileApp) -> Any:
        return apply_plan(papp.client, planned[papp.profile])

    applied = run_profiles(fleet, app, work, names=todo, writes=True)
    rows: list[dict[str, Any]] = []
    lines: list[str] = []
    for result in applied:
        plan = planned[result.name]
        outcome = result.value
        if result.failed or outcome is None:
            continue
        rows += [_with_profile(result.name, _op_row(op, "applied")) for op in outcome.applied]
        if outcome.failed is None:
            lines.append(f"{result.name}: {_applied_text(plan)}")
            continue
        failed = outcome.failed
        err_code, reason = classify(outcome.error)
        rows.append(_with_profile(result.name, _op_row(failed, f"FAILED: {reason}")))
        rows += [
            _with_profile(result.name, _op_row(op, "not applied")) for op in outcome.not_applied
        ]
        result.code = int(err_code) if err_code != ExitCode.OK else int(ExitCode.ERROR)
        result.error = (
            f"apply stopped at {failed.label}: {reason}; {len(outcome.applied)} of "
            f"{len(plan.ops)} changes applied, {len(outcome.not_applied) + 1} not; run apply "
            "again to converge"
        )
    if _structured(app):
        if not app.quiet:
            _print_rows(app, rows, RESULT_COLUMNS, "name", None)
    elif not app.quiet:
        for line in lines:
            click.echo(line)
    report_failures(app, applied)
    everything = {r.name: r for r in results}
    everything.update({r.name: r for r in applied})
    ordered = [everything[name] for name in fleet.names if name in everything]
    if not app.quiet:
        click.echo(summary_line(ordered), err=True)
    return max(code, worst(applied))
