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
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

from vrgtask.errors import VrgtaskError
from vrgtask.formatters import (
    Column,
    Columns,
    Formatter,
    RenderOptions,
    Row,
    Rows,
    escape_control,
    load_formatter,
    value_text,
)
from vrgtask.params import OUTPUT_HELP, QUERY_HELP, QUIET_HELP, LazyChoice

if TYPE_CHECKING:
    from pyvergeos import VergeClient

    from vrgtask.config import Settings

__all__ = [
    "OUTPUT_HELP",
    "QUERY_HELP",
    "QUIET_HELP",
    "AppContext",
    "LazyChoice",
    "Section",
    "build_client",
    "get_app",
    "lookup_path",
    "output_options",
]


def stdin_is_terminal() -> bool:
    """Whether a person could answer a question on stdin."""
    return sys.stdin.isatty()


def stderr_is_terminal() -> bool:
    """Whether stderr shows on a terminal (live status lines go there)."""
    return sys.stderr.isatty()


def terminal_is_dumb() -> bool:
    """``TERM=dumb`` (Emacs shells, some CI logs): no colour, no cursor movement."""
    return os.environ.get("TERM", "").strip().lower() == "dumb"


def terminal_width() -> int:
    """Columns of the terminal stderr shows on: ``COLUMNS``, the terminal, else 80."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):
        return 80


def _char_width(char: str) -> int:
    import unicodedata

    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit_width(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns (wide characters count two),
    ending in an ellipsis when it was cut."""
    if width <= 0:
        return ""
    if sum(_char_width(ch) for ch in text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        cost = _char_width(char)
        if used + cost > width - 1:
            break
        kept.append(char)
        used += cost
    return "".join(kept) + "\u2026"


#: On a dumb terminal a status line is printed whole, at most this often (seconds).
PLAIN_PROGRESS_EVERY = 10.0


def build_client(app: AppContext) -> VergeClient:
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
            color = (
                sys.stdout.isatty() and not os.environ.get("NO_COLOR") and not terminal_is_dumb()
            )
        self.color = color
        self._client: VergeClient | None = None
        self._plain_progress_at: float | None = None
        self._status_drawn = False  # a live status line is on screen
        self._formatter: Formatter | None = None
        self._formatter_name = ""
        #: Why the settings could not be resolved, when a command that repairs
        #: them (``config``, ``completion``) runs on the defaults instead.
        self.settings_error: Exception | None = None

    # -- the server ---------------------------------------------------------
    @property
    def client(self) -> VergeClient:
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
        self._clear_status()
        click.echo(escape_control(message), err=True)

    def warn(self, message: str) -> None:
        self._clear_status()
        click.echo(f"Warning: {escape_control(message)}", err=True)

    def _query(self, row: Mapping[str, Any]) -> str:
        assert self.query is not None
        value = lookup_path(row, self.query)
        if value is _MISSING:
            raise VrgtaskError(f"--query: no field {self.query!r} in the result")
        return self.formatter.format_value(value)

    def render_list(
        self, rows: Rows, columns: Columns, *, key: str = "$key", empty: str | None = None
    ) -> None:
        """Print rows through the selected formatter (or keys with --quiet)."""
        if self.quiet:
            for row in rows:
                self._print(escape_control(value_text(row.get(key))))  # keys may be text
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

    def done(self, message: str, row: Row | None = None, columns: Columns = ()) -> None:
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
        never hangs on a prompt. Ctrl-C at the prompt exits 130, Ctrl-D
        cancels (exit 1); either way the prompt's line is ended first, so the
        error starts a line of its own.
        """
        if yes:
            return
        if not stdin_is_terminal():
            raise click.UsageError(
                f"{escape_control(question)} Refusing without confirmation: "
                "there is no terminal to ask; pass --yes to confirm."
            )
        try:
            answer = click.confirm(escape_control(question), default=False, err=True)
        except click.Abort as exc:
            click.echo(err=True)  # end the prompt's line
            if isinstance(exc.__context__, KeyboardInterrupt):
                raise
            raise VrgtaskError("cancelled (end of input); nothing was changed") from None
        if not answer:
            raise VrgtaskError("cancelled; nothing was changed")

    def progress(self, text: str) -> None:
        """A live status line on a terminal (stderr); nothing when piped.

        It is redrawn in place and cut to the terminal's width, so it never
        wraps. On a dumb terminal (``TERM=dumb``) it is printed as a plain
        line instead, at most every :data:`PLAIN_PROGRESS_EVERY` seconds.
        """
        if self.quiet or not stderr_is_terminal():
            return
        line = escape_control(text)
        if terminal_is_dumb():
            import time

            now = time.monotonic()
            last = self._plain_progress_at
            if last is None or now - last >= PLAIN_PROGRESS_EVERY:
                self._plain_progress_at = now
                click.echo(line, err=True, color=False)
            return
        # one column short of the width: writing the last column wraps on some terminals
        # color=True: click would strip the erase sequence from a stream it thinks is no tty
        text = f"\r\x1b[2K{fit_width(line, terminal_width() - 1)}"
        click.echo(text, err=True, nl=False, color=True)
        self._status_drawn = True

    def _clear_status(self) -> None:
        """Erase a live status line, so that a line printed now starts clean
        (the next :meth:`progress` draws the status again)."""
        if self._status_drawn:
            click.echo("\r\x1b[2K", err=True, nl=False, color=True)
            self._status_drawn = False

    def progress_end(self) -> None:
        """Clear the status line (nothing to clear on a dumb terminal)."""
        if self.quiet or not stderr_is_terminal():
            return
        if terminal_is_dumb():
            self._plain_progress_at = None
            return
        click.echo("\r\x1b[2K", err=True, nl=False, color=True)
        self._status_drawn = False

    def render_sections(self, sections: Sequence[Section]) -> None:
        """Several titled lists as one result (``vrgtask status``).

        ``table``/``wide`` print each title and its table; every other format
        gets one object, section name -> its rows (``format_one``); --query
        reads that object; --quiet prints nothing.
        """
        result = {section.name: list(section.rows) for section in sections}
        if self.query is not None:
            click.echo(self._query(result))
            return
        if self.quiet:
            return
        formatter = self.formatter
        if formatter.structured:
            columns = [Column(section.name) for section in sections]
            self._print(formatter.format_one(result, columns, self._options()))
            return
        parts = []
        for section in sections:
            title = escape_control(section.title)
            if self.color:
                title = click.style(title, bold=True)
            if section.rows:
                body = formatter.format_list(section.rows, section.columns, self._options())
            else:
                body = f"  {escape_control(section.empty)}"
            parts.append(f"{title}\n{body}")
        self._print("\n\n".join(parts))


def get_app(ctx: click.Context | None = None) -> AppContext:
    """The AppContext of the current invocation."""
    ctx = ctx or click.get_current_context()
    app = ctx.find_object(AppContext)
    if app is None:  # a command invoked outside the vrgtask group (tests)
        raise VrgtaskError("vrgtask command run outside the vrgtask group")
    return app


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


class Section(NamedTuple):
    """One titled list of a several-part result (:meth:`AppContext.render_sections`)."""

    name: str
    title: str
    rows: Sequence[Mapping[str, Any]]
    columns: Sequence[Column]
    empty: str = "none"
