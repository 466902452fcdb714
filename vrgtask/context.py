"""The object every command finds on ``ctx.obj``.

It holds the resolved settings and output preferences, builds the pyvergeos
client the first time a command asks for it (that is when pyvergeos gets
imported), and is the only way commands put anything on stdout: rows go to
the formatter registry, confirmations through :meth:`AppContext.done`.

Tests replace :func:`build_client` (``mocker.patch("vrgtask.context.build_client")``)
to run commands against a mock client.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vrgtask.errors import VrgtaskError
from vrgtask.formatters import (
    Column,
    Formatter,
    RenderOptions,
    escape_control,
    formatter_names,
    load_formatter,
    value_text,
)

if TYPE_CHECKING:
    from vrgtask.config import Settings

__all__ = [
    "OUTPUT_HELP",
    "QUERY_HELP",
    "QUIET_HELP",
    "AppContext",
    "LazyChoice",
    "build_client",
    "get_app",
    "lookup_path",
    "output_options",
]

OUTPUT_HELP = "Output format."
QUERY_HELP = "Print only this field of the result (dot paths allowed, e.g. settings_args.x)."
QUIET_HELP = "Lists print keys only; confirmations are silent."


def stdin_is_terminal() -> bool:
    """Whether a person could answer a question on stdin."""
    return sys.stdin.isatty()


def build_client(app: AppContext) -> Any:
    """Connect using the app's settings. The seam tests replace."""
    from vrgtask.client import connect

    prompt = None
    if stdin_is_terminal() and sys.stderr.isatty():

        def prompt(text: str) -> str:
            return str(click.prompt(text, hide_input=True, err=True))

    return connect(app.settings, verbosity=app.verbosity, prompt_password=prompt, write=app.note)


_MISSING = object()
_UNSAFE_ON_TERMINAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def lookup_path(row: Any, path: str) -> Any:
    """``a.b.c`` inside nested mappings and lists; ``_MISSING`` when absent.

    A key containing dots (or ``$key``) is tried whole first.
    """
    if isinstance(row, Mapping) and path in row:
        return row[path]
    current = row
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                return _MISSING
            current = current[index]
        else:
            return _MISSING
    return current


class AppContext:
    """Settings, output preferences and the lazily built client."""

    def __init__(
        self,
        settings: Settings,
        *,
        verbosity: int = 0,
        quiet: bool = False,
        query: str | None = None,
        color: bool | None = None,
    ) -> None:
        self.settings = settings
        self.verbosity = verbosity
        self.quiet = quiet
        self.query = query
        if color is None:
            color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.color = color
        self._client: Any = None
        self._formatter: Formatter | None = None
        self._formatter_name = ""

    # -- the server ---------------------------------------------------------
    @property
    def client(self) -> Any:
        """The connected pyvergeos client, built on first use."""
        if self._client is None:
            self._client = build_client(self)
        return self._client

    def close(self) -> None:
        """Disconnect, if a client was built."""
        if self._client is not None:
            with contextlib.suppress(Exception):  # best effort at exit
                self._client.disconnect()
            self._client = None

    # -- output -------------------------------------------------------------
    @property
    def output(self) -> str:
        return self.settings.output

    @property
    def formatter(self) -> Formatter:
        """The selected output format (imported on first use)."""
        if self._formatter is None or self._formatter_name != self.settings.output:
            self._formatter = load_formatter(self.settings.output)
            self._formatter_name = self.settings.output
        return self._formatter

    @property
    def structured(self) -> bool:
        """Whether the selected format is for programs (json, csv, yaml) rather
        than people (table, wide): the formatter says so."""
        return self.formatter.structured

    def _options(self) -> RenderOptions:
        return RenderOptions(color=self.color)

    def _print(self, text: str) -> None:
        if text:
            click.echo(text, color=self.color)

    def _write(self, text: str) -> None:
        click.echo(text, nl=False, color=self.color)

    def verbatim(self, text: str) -> None:
        """Write ``text`` to stdout exactly (as UTF-8 bytes, no newline added).

        For content that must round-trip byte for byte, such as script code:
        piped or redirected, these are exactly its bytes. On a terminal,
        control characters other than tab, CR and LF are shown escaped so
        the content cannot drive the terminal.
        """
        stdout = sys.stdout
        if stdout.isatty():
            text = _UNSAFE_ON_TERMINAL.sub(lambda m: escape_control(m.group(0)), text)
        stdout.flush()
        binary = getattr(stdout, "buffer", None)
        if binary is None:  # a text-only stream (tests): write the text as it is
            stdout.write(text)
            stdout.flush()
            return
        binary.write(text.encode("utf-8", errors="replace"))
        binary.flush()

    def note(self, message: str) -> None:
        """A line for the human on stderr (never stdout)."""
        click.echo(escape_control(message), err=True)

    def warn(self, message: str) -> None:
        click.echo(f"Warning: {escape_control(message)}", err=True)

    def _query(self, row: Mapping[str, Any]) -> str:
        assert self.query is not None
        value = lookup_path(row, self.query)
        if value is _MISSING:
            raise VrgtaskError(f"--query: no field {self.query!r} in the result")
        return self.formatter.format_value(value)

    def render_list(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        *,
        key: str = "$key",
        empty: str | None = None,
    ) -> None:
        """Print rows through the selected formatter (or keys with --quiet)."""
        if self.quiet:
            for row in rows:
                self._print(value_text(row.get(key)))
            return
        if self.query is not None:
            for row in rows:
                click.echo(self._query(row))
            return
        formatter = self.formatter
        if not rows and empty and not formatter.structured:
            self.note(empty)
            return
        formatter.write_list(rows, columns, self._options(), self._write)

    def render_one(self, row: Mapping[str, Any], columns: Sequence[Column]) -> None:
        """Print one object through the selected formatter."""
        if self.query is not None:
            click.echo(self._query(row))
            return
        if self.quiet:
            return
        self._print(self.formatter.format_one(row, columns, self._options()))

    def done(
        self,
        message: str,
        row: Mapping[str, Any] | None = None,
        columns: Sequence[Column] = (),
    ) -> None:
        """Report a change: the resulting object under a structured format
        (json, csv, yaml) or ``--query``, one confirmation line otherwise
        (table, wide), nothing with --quiet.
        """
        if self.quiet:
            return
        if row is not None and (self.query is not None or self.structured):
            self.render_one(row, columns)
            return
        click.echo(escape_control(message))

    def confirm(self, question: str, *, yes: bool) -> None:
        """Ask before destroying something; refuse without a terminal.

        Raises a usage error (exit 2) when there is no terminal to ask and
        ``--yes`` was not given, so a script never deletes by accident and
        never hangs on a prompt.
        """
        if yes:
            return
        if not stdin_is_terminal():
            raise click.UsageError(
                f"{escape_control(question)} Refusing without confirmation: "
                "there is no terminal to ask; pass --yes to confirm."
            )
        if not click.confirm(escape_control(question), default=False, err=True):
            raise VrgtaskError("cancelled; nothing was changed")

    def progress(self, text: str) -> None:
        """A live status line on a terminal (stderr); nothing when piped."""
        if sys.stderr.isatty() and not self.quiet:
            click.echo(f"\r\x1b[2K{escape_control(text)}", err=True, nl=False)

    def progress_end(self) -> None:
        if sys.stderr.isatty() and not self.quiet:
            click.echo("\r\x1b[2K", err=True, nl=False)


def get_app(ctx: click.Context | None = None) -> AppContext:
    """The AppContext of the current invocation."""
    ctx = ctx or click.get_current_context()
    app = ctx.find_object(AppContext)
    if app is None:  # a command invoked outside the vrgtask group (tests)
        raise VrgtaskError("vrgtask command run outside the vrgtask group")
    return app


class LazyChoice(click.Choice):  # type: ignore[type-arg]
    """A Choice whose values are the registered formatter names, read when needed."""

    def __init__(self) -> None:
        super().__init__([], case_sensitive=True)

    @property  # type: ignore[override]
    def choices(self) -> Sequence[str]:
        return formatter_names()

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        pass


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None and not ctx.resilient_parsing:
        get_app(ctx).settings.output = value


def _set_query(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None and not ctx.resilient_parsing:
        get_app(ctx).query = value


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        get_app(ctx).quiet = True


F = TypeVar("F", bound=Callable[..., Any])


def output_options(func: F) -> F:
    """Accept ``-o/--output``, ``--query`` and ``-q/--quiet`` on a command too.

    ``vrgtask task list -o json`` then works as well as
    ``vrgtask -o json task list``; the value given last wins. Plugin authors
    can decorate their own commands with it.
    """
    func = click.option(
        "--quiet", "-q", is_flag=True, expose_value=False, callback=_set_quiet, help=QUIET_HELP
    )(func)
    func = click.option(
        "--query", metavar="FIELD", expose_value=False, callback=_set_query, help=QUERY_HELP
    )(func)
    return click.option(
        "--output",
        "-o",
        type=LazyChoice(),
        expose_value=False,
        callback=_set_output,
        help=OUTPUT_HELP,
    )(func)
