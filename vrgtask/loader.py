"""Commands load lazily: an invocation imports only the command it runs.

Every command, the built-in ones included, is an entry point of the
``vrgtask.commands`` group (:mod:`vrgtask.plugins` finds and resolves them).
:class:`LazyCommandGroup` knows their names without importing anything;
when a command is needed (it is run, or completed, or its ``--help`` is
shown) its one entry point goes through click-plugins' ``with_plugins``, as
every entry point used to at start-up.

A plugin that cannot be loaded (its import fails, or its entry point names
something that is not a click command) becomes a :class:`BrokenPlugin`.
That is decided here, by watching the entry point's own ``load()``: it does
not depend on how click-plugins marks or words a failure.

``vrgtask --help`` lists every command with its short help, which is read
from the entry-point cache (:func:`vrgtask.plugins.cached_help`); only a
command whose module changed since it was last listed is imported.
"""

from __future__ import annotations

import os
from typing import Any, cast

import click

from vrgtask import plugins

__all__ = ["BrokenPlugin", "LazyCommandGroup", "load_command"]


class BrokenPlugin(click.Command):
    """A plugin command that could not be loaded.

    It keeps a mark in ``--help``; run, it reports one ``Error:`` line
    (exit 1) naming the plugin and the cause, with the traceback on stderr
    under ``-v``.
    """

    def __init__(self, name: str, source: str, trace: str, cause: str) -> None:
        self.cause = cause
        self.source = source
        self.trace = trace
        super().__init__(
            name,
            help=(
                f"This plugin command could not be loaded from {source}: {cause}. "
                "Reinstall or update the package that provides it.\n\n\b\n" + trace
            ),
            short_help=broken_short_help(name),
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        )

    def invoke(self, ctx: click.Context) -> None:
        from vrgtask.context import AppContext
        from vrgtask.errors import VrgtaskError

        app = ctx.find_object(AppContext)
        if app is not None and app.verbosity:
            click.echo(self.trace, err=True)
        raise VrgtaskError(
            f"plugin command {self.name!r} ({self.source}) could not be loaded: {self.cause}; "
            "reinstall or update the package that provides it (-v shows the traceback)"
        )


def broken_short_help(name: str) -> str:
    return f"\u2020 broken plugin: could not be loaded (see 'vrgtask {name} --help')"


class _Watched:
    """An entry point as click-plugins sees it; remembers why loading failed."""

    def __init__(self, ep: plugins.PluginEntryPoint) -> None:
        self.ep = ep
        self.name = ep.name
        self.trace: str | None = None
        self.cause = ""

    def load(self) -> Any:
        try:
            obj = self.ep.load()
            if not isinstance(obj, click.Command):
                raise TypeError(f"{self.ep.value} is {type(obj).__name__!r}, not a click command")
        except (Exception, SystemExit) as exc:  # a plugin may even call sys.exit()
            import traceback

            self.trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.cause = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, Exception):
                raise
            raise RuntimeError(self.cause) from exc  # click-plugins catches Exception only
        return obj


def load_command(ep: plugins.PluginEntryPoint) -> click.Command:
    """The command of entry point ``ep``, or a :class:`BrokenPlugin`."""
    from click_plugins import with_plugins  # (it imports traceback: not on the --help path)

    watched = _Watched(ep)
    scratch = with_plugins([watched])(click.Group(ep.name))
    if watched.trace is not None or len(scratch.commands) != 1:
        return BrokenPlugin(ep.name, ep.value, watched.trace or "", watched.cause or "?")
    (command,) = scratch.commands.values()
    return cast(click.Command, command)


def _help_info(command: click.Command) -> dict[str, Any]:
    if isinstance(command, BrokenPlugin):
        return {"broken": True}
    text = command.help or ""
    first = text.split("\n\n", 1)[0]  # click's short help reads the first paragraph only
    return {
        "short_help": command.short_help,
        "help": first,
        "hidden": bool(command.hidden),
        "deprecated": command.deprecated,
    }


def _placeholder(name: str, info: dict[str, Any]) -> click.Command:
    """A stand-in that gives the same short help as the real command."""
    if info.get("broken"):
        return click.Command(name, short_help=broken_short_help(name))
    return click.Command(
        name,
        short_help=info.get("short_help"),
        help=info.get("help"),
        hidden=bool(info.get("hidden")),
        deprecated=info.get("deprecated") or False,
    )


def terminal_width() -> int:
    """What ``shutil.get_terminal_size`` says, without importing shutil (and
    with it zlib, bz2 and lzma) just to draw ``--help``."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(1).columns
        except (OSError, ValueError):
            columns = 0
    return columns or 80


class LazyCommandGroup(click.Group):
    """A group whose commands are the ``vrgtask.commands`` entry points, loaded on use."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        from click import formatting

        if parent is None and "terminal_width" not in extra and formatting.FORCED_WIDTH is None:
            max_width = (self.context_settings or {}).get("max_content_width") or 80
            extra["terminal_width"] = max(min(terminal_width(), max_width) - 2, 50)
        return super().make_context(info_name, args, parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(self.commands) | set(plugins.resolve(plugins.COMMANDS_GROUP).chosen)
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        ep = plugins.resolve(plugins.COMMANDS_GROUP).chosen.get(cmd_name)
        if ep is None:
            return None
        command = load_command(ep)
        self.commands[cmd_name] = command
        return command

    def _listing(self, ctx: click.Context, name: str) -> tuple[click.Command | None, bool]:
        """``name`` for the command list: loaded, or a stand-in from the cache;
        and whether its short help was newly remembered."""
        if name in self.commands:
            return self.commands[name], False
        ep = plugins.resolve(plugins.COMMANDS_GROUP).chosen.get(name)
        if ep is None:
            return None, False
        info = plugins.cached_help(ep)
        if info is not None:
            return _placeholder(name, info), False
        command = self.get_command(ctx, name)
        if command is None:
            return None, False
        return command, plugins.remember_help(ep, _help_info(command))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        learned = False
        for name in self.list_commands(ctx):
            command, new = self._listing(ctx, name)
            learned = learned or new
            if command is not None and not command.hidden:
                rows.append((name, command))
        if learned:
            plugins.save_help()
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        found = plugins.notes()
        if found:
            with formatter.section("Plugin notes"):
                for note in found:
                    formatter.write_text(note)
