"""Fleets: one command across many VergeOS systems (profiles) at once.

``-p a,b`` (or ``-p a -p b``) and ``-A/--all-profiles`` select several
profiles of the config file. A command opts in with one declaration::

    @fans_out()                       # rows of every profile in one table
    @task.command("list")
    def list_tasks(...): ...

    @fans_out(sections=True)          # one section per profile + a summary line
    @click.command("status")
    def status(...): ...

With one profile nothing changes. With several, the command's own callback
runs once per profile, in parallel (``--parallel N``, default 8), each time
with an AppContext of its own (its own settings, client and timeout) that
records what the command would print instead of printing it. When every
profile has answered (or failed), the records are merged:

* lists gain a leading Profile column (tables) or a ``profile`` field
  (json, csv, yaml); ``-q`` prints ``PROFILE<TAB>KEY``;
* confirmations and notes are printed prefixed with ``PROFILE: ``;
* a profile that failed is one ``Error: profile NAME: ...`` line on stderr;
  the exit code is the highest any profile ended with.

A command that is not declared refuses several profiles (exit 2) before any
request. Commands that need more than "run it everywhere and merge" (export,
diff, apply) give their own ``runner``; :func:`run_profiles` is the engine
they share. Nothing here imports pyvergeos or requests.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from vrgtask.context import AppContext
from vrgtask.errors import ExitCode, classify
from vrgtask.formatters import Column, Columns, Row, Rows
from vrgtask.text import one_line, redact

if TYPE_CHECKING:
    from vrgtask.config import Settings

from vrgtask.fanout import FleetSpec

__all__ = [
    "CONNECTION_OPTIONS",
    "DEFAULT_PARALLEL",
    "PROFILE_COLUMN",
    "Fleet",
    "FleetApp",
    "FleetSpec",
    "ProfileApp",
    "ProfileResult",
    "is_fleet",
    "refuse_unless_fleet_command",
    "run_declared",
    "run_profiles",
    "start_fleet",
]

DEFAULT_PARALLEL = 8
#: Options that name one system: meaningless (and dangerous) for a fleet.
CONNECTION_OPTIONS = ("host", "sandbox", "token", "api_key", "username", "password")
PROFILE_COLUMN = Column("profile", "Profile")
#: Retry back-off of each profile's client in a fleet (seconds; see Fleet.settings_for).
FLEET_RETRY_BACKOFF = 0.1
_WARNED_LOCK = threading.Lock()
#: The bound on every wait of the main thread, so Ctrl-C is seen promptly.
_POLL = 0.2


# -- running a declared command (vrgtask.fanout.fans_out) ----------------------


def _runner(spec: FleetSpec) -> Callable[..., int]:
    if spec.runner is None:
        return generic_runner
    if isinstance(spec.runner, str):  # "package.module:function", imported when run
        import importlib

        module, _, name = spec.runner.partition(":")
        found: Callable[..., int] = getattr(importlib.import_module(module), name)
        return found
    return spec.runner


def run_declared(
    spec: FleetSpec, ctx: click.Context, app: Any, original: Callable[..., Any], kwargs: Any
) -> None:
    """Run a command that :func:`vrgtask.fanout.fans_out` declared across ``app``'s fleet."""
    for name in spec.single_only:
        source = ctx.get_parameter_source(name)
        if kwargs.get(name) not in (None, False, ()) and source is not None:
            option = name.replace("_", "-")
            raise click.UsageError(
                f"--{option} works on one system; it cannot be combined with several profiles"
            )
    assert isinstance(app, FleetApp)
    code = _runner(spec)(app.fleet, app, original, kwargs, spec=spec)
    if code:
        ctx.exit(code)


# -- one profile's context ----------------------------------------------------


@dataclass
class Event:
    """One thing a command asked its AppContext to print."""

    kind: str  # list, one, sections, done, note, text
    payload: tuple[Any, ...]


class ProfileApp(AppContext):
    """The AppContext of one profile in a fleet: it records output.

    It never prompts (there is no one to answer for forty sites at once):
    credentials must be in the profile.
    """

    def __init__(self, name: str, settings: Settings, parent: AppContext) -> None:
        super().__init__(
            settings, verbosity=parent.verbosity, quiet=parent.quiet, query=parent.query
        )
        self.color = parent.color
        self.profile = name
        self.settings.output = parent.settings.output
        self.events: list[Event] = []

    @property
    def client(self) -> Any:
        if self._client is None:
            from vrgtask.client import connect

            self._client = connect(self.settings, verbosity=self.verbosity, write=self.note)
        return self._client

    def render_list(
        self, rows: Rows, columns: Columns, *, key: str = "$key", empty: str | None = None
    ) -> None:
        self.events.append(Event("list", (list(rows), list(columns), key, empty)))

    def render_one(self, row: Mapping[str, Any], columns: Sequence[Column]) -> None:
        self.events.append(Event("one", (dict(row), list(columns))))

    def render_sections(self, sections: Sequence[Any]) -> None:
        self.events.append(Event("sections", (list(sections),)))

    def done(self, message: str, row: Row | None = None, columns: Columns = ()) -> None:
        self.events.append(Event("done", (message, row, list(columns))))

    def note(self, message: str) -> None:
        self.events.append(Event("note", (message,)))

    def warn(self, message: str) -> None:
        self.events.append(Event("note", (f"Warning: {message}",)))

    def verbatim(self, text: str) -> None:
        self.events.append(Event("text", (text,)))

    def confirm(self, question: str, *, yes: bool) -> None:
        if not yes:
            raise click.UsageError(
                f"{question} Across several profiles nothing is asked: pass --yes to confirm."
            )

    def progress(self, text: str) -> None:
        return None

    def progress_end(self) -> None:
        return None


# -- the fleet ----------------------------------------------------------------


@dataclass
class ProfileResult:
    """How one profile's part ended."""

    name: str
    app: ProfileApp | None = None
    code: int = 0
    error: str | None = None  # the one-line reason when it failed
    value: Any = None
    finished: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class Fleet:
    """The selected profiles and how to run them."""

    names: list[str]
    options: dict[str, Any]
    parallel: int = DEFAULT_PARALLEL
    fail_fast: bool = False
    warn: Callable[[str], None] = field(default=lambda _m: None)
    apps: dict[str, ProfileApp] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)
    #: Guards ``apps``: worker threads add to it while others read it.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def settings_for(self, name: str) -> Settings:
        """``name``'s settings: its profile, with -o/--timeout/--insecure on top.

        Unless ``VERGE_RETRY_BACKOFF`` says otherwise, retries back off for
        0.1 s instead of 1 s: a site that refuses connections is reported in
        well under a second, not after 6 s, while the rest of the fleet waits.
        """
        import os

        from vrgtask.config import resolve

        settings = resolve({**self.options, "profile": name}, os.environ, warn=self._warn_once)
        if not os.environ.get("VERGE_RETRY_BACKOFF", "").strip():
            settings.retry_backoff = min(settings.retry_backoff, FLEET_RETRY_BACKOFF)
        return settings

    def _warn_once(self, message: str) -> None:
        with _WARNED_LOCK:
            if message in self.warned:
                return
            self.warned.add(message)
        self.warn(message)

    def app_for(self, name: str, parent: AppContext) -> ProfileApp:
        with self.lock:
            app = self.apps.get(name)
        if app is None:
            app = ProfileApp(name, self.settings_for(name), parent)
            with self.lock:
                app = self.apps.setdefault(name, app)
        return app

    def _apps(self) -> list[ProfileApp]:
        with self.lock:
            return list(self.apps.values())

    def secrets(self) -> list[str]:
        return [s for app in self._apps() for s in app.settings.secrets()]

    def close(self) -> None:
        for app in self._apps():
            app.close()


class FleetApp(AppContext):
    """The invocation's AppContext when several profiles are selected.

    It prints (the merged output) but has no client of its own: a command
    that reaches for one was not declared with :func:`fans_out`.
    """

    def __init__(self, settings: Settings, fleet: Fleet, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self.fleet = fleet

    @property
    def client(self) -> Any:
        path = click.get_current_context().command_path
        raise click.UsageError(refusal(path, self.fleet))

    def close(self) -> None:
        self.fleet.close()
        super().close()


def is_fleet(app: AppContext | None) -> bool:
    """Whether ``app`` belongs to an invocation over several profiles."""
    return isinstance(app, FleetApp)


def refusal(command_path: str, fleet: Fleet) -> str:
    shown = ", ".join(fleet.names[:4]) + (", ..." if len(fleet.names) > 4 else "")
    return (
        f"'{command_path}' works on one system at a time and {len(fleet.names)} profiles are "
        f"selected ({shown}); choose one with -p NAME. Commands that run across profiles: "
        "task/schedule/trigger/event/script list, task history, agenda, status, doctor, "
        "export, diff, apply; to change many systems, use 'vrgtask apply -f FILE -A'"
    )


def _rest(ctx: click.Context) -> list[str]:
    """The arguments a group left for its subcommand: the subcommand's name
    (``protected_args``, deprecated since click 8.2) and what follows it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        protected = list(getattr(ctx, "protected_args", []))
    return [*protected, *ctx.args]


def _leaf(
    ctx: click.Context, command: click.Command, args: list[str]
) -> tuple[click.Command | None, list[str]]:
    """The command ``args`` lead to below ``command`` (parsed leniently), and
    the words of its path."""
    words = [command.name or ""]
    for _depth in range(8):
        if not isinstance(command, click.Group):
            return command, words
        try:
            sub = command.make_context(command.name, list(args), parent=ctx, resilient_parsing=True)
            rest = _rest(sub)
            if not rest:
                return None, words
            name, found, args = command.resolve_command(sub, rest)
        except click.ClickException:
            return None, words
        if found is None:
            return None, words
        words.append(name or "")
        ctx, command = sub, found
    return None, words


def refuse_unless_fleet_command(ctx: click.Context, fleet: Fleet) -> None:
    """Exit 2 now, before any request, when the command about to run does not
    fan out. The root group left what it resolved in ``ctx.meta``."""
    pending = ctx.meta.get("vrgtask.subcommand")
    if pending is None:
        return
    _name, command, args = pending
    if command is None or any(a in ("-h", "--help") for a in args):
        return
    leaf, words = _leaf(ctx, command, list(args))
    if leaf is None or getattr(leaf, "fleet_spec", None) is not None:
        return
    raise click.UsageError(refusal(" ".join([ctx.command_path, *words]), fleet))


def start_fleet(
    ctx: click.Context,
    names: list[str],
    options: dict[str, Any],
    *,
    parallel: int,
    fail_fast: bool,
    warn: Callable[[str], None],
    verbosity: int,
    quiet: bool,
    query: str | None,
    color: bool | None,
) -> FleetApp:
    """The invocation's AppContext for ``names`` (called by the root group).

    Connection options on the command line would send every profile to one
    system: refused (exit 2). The same variables in the environment are
    ignored, with a warning: each profile uses its own host and credentials.
    """
    from click.core import ParameterSource

    from vrgtask.config import DEFAULT_OUTPUT, Settings

    given = [
        name
        for name in CONNECTION_OPTIONS
        if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE and options.get(name)
    ]
    if given:
        shown = ", ".join("--" + n.replace("_", "-") for n in given)
        raise click.UsageError(
            f"{shown} cannot be used with several profiles: each profile uses the host and "
            "credentials of its own section in the config file"
        )
    from_env = [
        name
        for name in CONNECTION_OPTIONS
        if ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT and options.get(name)
    ]
    if from_env:
        from vrgtask.config import ENV_VARS

        shown = ", ".join(ENV_VARS.get(n, n) for n in from_env)
        warn(f"ignoring {shown} for several profiles: each profile uses its own host and login")
    kept = {k: v for k, v in options.items() if k not in CONNECTION_OPTIONS and k != "profile"}
    output = kept.get("output") or DEFAULT_OUTPUT
    settings = Settings(output=str(output))
    settings.sources["output"] = "option" if kept.get("output") else "default"
    fleet = Fleet(list(names), kept, parallel=parallel, fail_fast=fail_fast, warn=warn)
    app = FleetApp(settings, fleet, verbosity=verbosity, quiet=quiet, query=query, color=color)
    refuse_unless_fleet_command(ctx, fleet)
    return app


# -- running ------------------------------------------------------------------


def _failure(exc: BaseException, secrets: Sequence[str]) -> tuple[int, str]:
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code, ""
    if isinstance(exc, click.ClickException):
        code = ExitCode.USAGE if isinstance(exc, click.UsageError) else exc.exit_code
        return int(code), exc.format_message()
    code, message = classify(exc)
    return int(code), one_line(redact(message, secrets))


def run_profiles(
    fleet: Fleet,
    parent: AppContext,
    work: Callable[[ProfileApp], Any],
    *,
    names: Sequence[str] | None = None,
    writes: bool = False,
) -> list[ProfileResult]:
    """Run ``work(app)`` for every profile, at most ``fleet.parallel`` at once.

    Each profile has its own :class:`ProfileApp` (settings, client, timeout);
    a slow or dead one holds only its own worker. ``work`` raising
    ``click.exceptions.Exit`` ends that profile with the exit code, without
    an error; anything else is the profile's failure (code and one line).

    With ``fleet.fail_fast`` the first failure stops the run: profiles not
    started are skipped; reads still in flight are abandoned (their threads
    are daemons), writes (``writes=True``) are waited for. Results come back
    in the order of the names.
    """
    order = list(names if names is not None else fleet.names)
    results = {name: ProfileResult(name) for name in order}
    pending = list(reversed(order))
    lock = threading.Condition()
    state = {"running": 0, "stop": False}

    def worker() -> None:
        while True:
            with lock:
                if state["stop"] or not pending:
                    return
                name = pending.pop()
                state["running"] += 1
            result = results[name]
            started = time.monotonic()
            try:
                app = fleet.app_for(name, parent)
                result.app = app
                result.value = work(app)
            except BaseException as exc:
                secrets = [*fleet.secrets(), *parent.settings.secrets()]
                result.code, message = _failure(exc, secrets)
                if message:
                    result.error = message
            result.seconds = time.monotonic() - started
            with lock:
                result.finished = True
                state["running"] -= 1
                if result.failed and fleet.fail_fast:
                    state["stop"] = True
                lock.notify_all()

    _import_once()
    count = max(1, min(fleet.parallel, len(order)))
    threads = [
        threading.Thread(target=worker, name=f"vrgtask-fleet-{i}", daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    with lock:
        while True:
            if all(r.finished for r in results.values()):
                break
            if state["stop"] and (not writes or state["running"] == 0):
                break
            lock.wait(_POLL)
    return [results[name] for name in order]


def _import_once() -> None:
    """Import the SDK and requests here, once, rather than in several worker
    threads at the same moment (concurrent first imports can trip over each
    other's half-initialised modules)."""
    import contextlib

    with contextlib.suppress(ImportError):
        from vrgtask import sdk

        sdk.load()
        import pyvergeos.client  # noqa: F401

        import vrgtask.client  # noqa: F401


def worst(results: Iterable[ProfileResult]) -> int:
    """The exit code of the fleet: the highest any profile ended with."""
    return max((r.code for r in results), default=0)


def report_failures(app: AppContext, results: Sequence[ProfileResult]) -> None:
    """One stderr line per failed profile; one for those --fail-fast skipped."""
    for result in results:
        if result.failed:
            click.echo(f"Error: profile {result.name}: {result.error}", err=True)
    skipped = [r.name for r in results if not r.finished]
    if skipped:
        click.echo(
            f"Note: --fail-fast: not run or not finished: {', '.join(skipped)}",
            err=True,
        )


# -- merging ------------------------------------------------------------------


def _structured(app: AppContext) -> bool:
    structured = getattr(app, "structured", None)
    if isinstance(structured, bool):
        return structured
    return app.output not in {"table", "wide"}


def _echo(app: AppContext, text: str) -> None:
    click.echo(text, color=app.color)


def _with_profile(name: str, row: Mapping[str, Any]) -> dict[str, Any]:
    out = {"profile": name}
    out.update({k: v for k, v in row.items() if k != "profile"})
    return out


def _print_rows(
    app: AppContext,
    rows: list[dict[str, Any]],
    columns: Sequence[Column],
    key: str,
    empty: str | None,
) -> None:
    """Rows that carry their profile, through the invocation's formatter."""
    if app.quiet:
        for row in rows:
            value = row.get(key)
            _echo(app, f"{row['profile']}\t{'' if value is None else value}")
        return
    if app.query is not None:
        from vrgtask.context import _MISSING, lookup_path

        for row in rows:
            value = lookup_path(row, app.query)
            if value is _MISSING:
                continue
            _echo(app, f"{row['profile']}\t{_text(value)}")
        return
    cols = [PROFILE_COLUMN, *[c for c in columns if c.key != "profile"]]
    app.render_list(rows, cols, key=key, empty=empty)


def _text(value: Any) -> str:
    import json

    from vrgtask.formatters import escape_control

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return escape_control(str(value))


def _notes(app: AppContext, results: Sequence[ProfileResult]) -> None:
    for result in results:
        if result.app is None or not result.finished:
            continue
        for event in result.app.events:
            if event.kind == "note":
                click.echo(f"{result.name}: {one_line(event.payload[0])}", err=True)


def merge_rows(app: AppContext, results: Sequence[ProfileResult]) -> None:
    """Lists of every profile as one list with a profile column; single
    objects likewise; confirmation lines prefixed with the profile."""
    groups: dict[tuple[str, ...], tuple[list[Column], str, str | None, list[dict[str, Any]]]] = {}
    lines: list[str] = []
    for result in results:
        if result.app is None or not result.finished:
            continue
        for event in result.app.events:
            if event.kind in ("list", "one") or (
                event.kind == "done"
                and event.payload[1] is not None
                and (_structured(app) or app.query is not None)
            ):
                if event.kind == "list":
                    rows, columns, key, empty = event.payload
                elif event.kind == "one":
                    (row, columns), key, empty = event.payload, "$key", None
                    rows = [row]
                else:
                    _msg, row, columns = event.payload
                    rows, key, empty = [row], "$key", None
                signature = tuple(c.key for c in columns)
                group = groups.setdefault(signature, (columns, key, empty, []))
                group[3].extend(_with_profile(result.name, r) for r in rows)
            elif event.kind == "done":
                lines.append(f"{result.name}: {event.payload[0]}")
            elif event.kind == "sections":
                _merge_sections_structured(app, [(result.name, event.payload[0])])
            elif event.kind == "text":
                lines.append(event.payload[0].rstrip("\n"))
    for columns, key, empty, rows in groups.values():
        _print_rows(app, rows, columns, key, empty)
    if not groups and not lines and _structured(app) and not app.quiet and app.query is None:
        app.render_list([], [PROFILE_COLUMN])  # no profile answered: still valid output
    if not app.quiet:
        for line in lines:
            from vrgtask.formatters import escape_control

            _echo(app, escape_control(line))


def _merge_sections_structured(app: AppContext, parts: list[tuple[str, list[Any]]]) -> None:
    for name, sections in parts:
        obj: dict[str, Any] = {"profile": name}
        for section in sections:
            obj[section.name] = [dict(r) for r in section.rows]
        cols = [PROFILE_COLUMN, *[Column(s.name) for s in sections]]
        if app.query is not None:
            from vrgtask.context import _MISSING, lookup_path

            value = lookup_path(obj, app.query)
            if value is not _MISSING:
                _echo(app, f"{name}\t{_text(value)}")
            continue
        if not app.quiet:
            app.render_one(obj, cols)


def show_sections(app: AppContext, results: Sequence[ProfileResult]) -> None:
    """Tables: each profile's output under a heading of its own. Structured
    formats: one object (or row) per profile, each with its profile."""
    if _structured(app) or app.query is not None or app.quiet:
        structured_parts = []
        plain = []
        for result in results:
            if result.app is None or not result.finished:
                continue
            sections = [e for e in result.app.events if e.kind == "sections"]
            if sections:
                structured_parts.append((result.name, sections[-1].payload[0]))
            else:
                plain.append(result)
        if structured_parts and (_structured(app) or app.query is not None):
            objs = []
            for name, sections in structured_parts:
                obj: dict[str, Any] = {"profile": name}
                for section in sections:
                    obj[section.name] = [dict(r) for r in section.rows]
                objs.append(obj)
            names = [s.name for s in structured_parts[0][1]]
            cols = [PROFILE_COLUMN, *[Column(n) for n in names]]
            if app.query is not None:
                from vrgtask.context import _MISSING, lookup_path

                for obj in objs:
                    value = lookup_path(obj, app.query)
                    if value is not _MISSING:
                        _echo(app, f"{obj['profile']}\t{_text(value)}")
            else:
                app.render_list(objs, cols, key="profile")
        if plain or not structured_parts:
            merge_rows(app, plain)
        return
    first = True
    for result in results:
        if result.app is None or not result.finished:
            continue
        if not first:
            _echo(app, "")
        first = False
        heading = f"== {result.name} =="
        if result.failed:
            heading += " (failed)"
        _echo(app, click.style(heading, bold=True) if app.color else heading)
        for event in result.app.events:
            if event.kind == "list":
                rows, columns, key, empty = event.payload
                if not rows and empty:
                    _echo(app, f"  {empty}")
                else:
                    app.render_list(rows, columns, key=key, empty=empty)
            elif event.kind == "one":
                app.render_one(*event.payload)
            elif event.kind == "sections":
                _render_sections(app, event.payload[0])
            elif event.kind == "done":
                _echo(app, event.payload[0])
            elif event.kind == "text":
                _echo(app, event.payload[0].rstrip("\n"))
            elif event.kind == "note":
                _echo(app, one_line(event.payload[0]))
        if result.failed:
            _echo(app, f"  failed: {result.error}")


def _render_sections(app: AppContext, sections: Sequence[Any]) -> None:
    render = getattr(app, "render_sections", None)
    if render is not None:
        render(sections)
        return
    for section in sections:  # an AppContext without render_sections: titles and tables
        _echo(app, one_line(section.title))
        if section.rows:
            app.render_list(section.rows, section.columns)
        else:
            _echo(app, f"  {one_line(getattr(section, 'empty', 'none'))}")


def summary_line(results: Sequence[ProfileResult]) -> str:
    """``Fleet: 5 profiles: 3 ok, 1 exit 1 (b), 1 failed (c)``."""
    ok = [r.name for r in results if r.finished and not r.code]
    flagged = [r for r in results if r.finished and r.code and not r.failed]
    failed = [r.name for r in results if r.failed]
    skipped = [r.name for r in results if not r.finished]
    parts = [f"{len(ok)} ok"]
    if flagged:
        codes = sorted({r.code for r in flagged})
        label = "exit " + "/".join(str(c) for c in codes)
        parts.append(f"{len(flagged)} {label} ({', '.join(r.name for r in flagged)})")
    if failed:
        parts.append(f"{len(failed)} failed ({', '.join(failed)})")
    if skipped:
        parts.append(f"{len(skipped)} not finished ({', '.join(skipped)})")
    return f"Fleet: {len(results)} profiles: {', '.join(parts)}."


def generic_runner(
    fleet: Fleet,
    app: AppContext,
    callback: Callable[..., Any],
    kwargs: dict[str, Any],
    *,
    spec: FleetSpec,
) -> int:
    """Run the command's callback in every profile and merge what it printed."""
    ctx = click.get_current_context()

    def work(papp: ProfileApp) -> Any:
        sub = click.Context(ctx.command, parent=ctx.parent, info_name=ctx.info_name, obj=papp)
        sub.params = dict(ctx.params)
        return sub.invoke(callback, **kwargs)

    results = run_profiles(fleet, app, work)
    if spec.sections:
        show_sections(app, results)
    else:
        merge_rows(app, results)
        _notes(app, results)
    report_failures(app, results)
    if spec.sections and not app.quiet:
        click.echo(summary_line(results), err=True)
    return worst(results)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._@+-]")


def file_name(profile: str) -> str:
    """A profile name made safe as a file name (``site/a`` -> ``site_a``)."""
    name = _UNSAFE_NAME.sub("_", profile).lstrip(".")
    return name or "_"
