"""What every command module shares: name-or-key resolution, option types,
value formatters for columns, help epilogs, and the group that lets a
command be reached under another group too (``vrgtask task schedule``).

Importing this module must stay cheap: click and the standard library only.
pyvergeos is imported inside functions that run after a client exists.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vrgtask.errors import ConflictError, NotFoundError
from vrgtask.params import FiniteFloat

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem
    from pyvergeos.resources.base import ResourceManager, ResourceObject

    from vrgtask.context import AppContext
    from vrgtask.formatters import Columns

    R = TypeVar("R", bound=ResourceObject)

__all__ = [
    "BOOL_STYLES",
    "CONFIRM_NOTE",
    "JSON_MAX_BYTES",
    "JSON_MAX_DEPTH",
    "KEY",
    "NAME_OR_KEY",
    "FiniteFloat",
    "JsonObject",
    "LinkedGroup",
    "add_toggles",
    "confirm_delete",
    "deleted_row",
    "enabled_filter",
    "examples",
    "format_epoch",
    "format_json",
    "format_yes_no",
    "is_key",
    "json_depth",
    "nonempty",
    "optional_bool",
    "require_changes",
    "resolve",
    "update_options",
    "yes_option",
]

F = TypeVar("F", bound=Callable[..., Any])

_DIGITS = re.compile(r"[0-9]+")

#: Cell styles of a yes/no column: enabled green, disabled yellow.
BOOL_STYLES = {True: "green", False: "yellow"}


def is_key(text: str) -> bool:
    """True when ``text`` could be a ``$key``: ASCII digits only."""
    return bool(_DIGITS.fullmatch(text))


def examples(*lines: str) -> str:
    """An epilog of example command lines, kept verbatim by click."""
    body = "\n".join(f"  {line}" for line in lines)
    return f"\b\nExamples:\n{body}"


#: Limits of a JSON option: deeper or larger values are refused (exit 2)
#: before any request; no task setting needs more.
JSON_MAX_DEPTH = 64
JSON_MAX_BYTES = 1024 * 1024


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0); stops past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth) for child in children)
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class JsonObject(click.ParamType):  # type: ignore[type-arg]
    """A JSON object given on the command line; anything else is a usage error.

    Strict JSON: NaN and Infinity are refused (no server accepts them), as are
    values nested deeper than :data:`JSON_MAX_DEPTH` or longer than
    :data:`JSON_MAX_BYTES`.
    """

    name = "JSON"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import json

        if isinstance(value, dict):
            parsed: Any = value
        else:
            text = str(value)
            if len(text.encode("utf-8", "surrogatepass")) > JSON_MAX_BYTES:
                self.fail(f"longer than {JSON_MAX_BYTES} bytes", param, ctx)
            try:
                parsed = json.loads(text, parse_constant=_refuse_constant)
            except RecursionError:
                self.fail(f"nested deeper than {JSON_MAX_DEPTH} levels", param, ctx)
            except (TypeError, ValueError) as exc:
                self.fail(f"not valid JSON ({exc})", param, ctx)
        if not isinstance(parsed, dict):
            self.fail(
                f'must be a JSON object like \'{{"key": "value"}}\', not {type(parsed).__name__}',
                param,
                ctx,
            )
        if json_depth(parsed, JSON_MAX_DEPTH) > JSON_MAX_DEPTH:
            self.fail(f"nested deeper than {JSON_MAX_DEPTH} levels", param, ctx)
        try:
            json.dumps(parsed, allow_nan=False)
        except ValueError:
            self.fail("NaN and Infinity are not JSON numbers", param, ctx)
        return parsed


class _Key(click.ParamType):  # type: ignore[type-arg]
    """A ``$key``: a positive integer."""

    name = "KEY"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        text = str(value).strip()
        if not is_key(text) or int(text) < 1:
            self.fail(f"{value!r} is not a key (a positive whole number)", param, ctx)
        return int(text)


KEY = _Key()


#: Which collection a NAME-or-KEY parameter completes from, by its metavar.
_COMPLETED_FROM = {"TASK": "tasks", "SCHEDULE": "task_schedules"}


class _NameOrKey(click.ParamType):  # type: ignore[type-arg]
    """A name or a key; empty or blank text is refused before any request."""

    name = "NAME|KEY"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """Live names for TASK and SCHEDULE parameters (see commands/completion.py)."""
        table = _COMPLETED_FROM.get((param.metavar or "").strip("[]."))
        if table is None:
            return []
        from click.shell_completion import CompletionItem

        from vrgtask.commands.completion import live_names

        return [CompletionItem(name) for name in live_names(ctx, table, incomplete)]

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if not text.strip():
            self.fail("the name or key must not be empty", param, ctx)
        return text


NAME_OR_KEY = _NameOrKey()


def optional_bool(value: Any) -> bool | None:
    """A server's flag as True/False, or None when the server sent none (null)."""
    return None if value is None else bool(value)


def format_yes_no(value: Any) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def format_json(value: Any) -> str:
    """A JSON value (settings, filters, context) as one line; nothing for null."""
    if value is None:
        return ""
    import json

    return json.dumps(value, ensure_ascii=False)


def format_epoch(value: Any) -> str:
    """Epoch seconds as a local date-time; 0/None (never) as empty."""
    if value in (None, "", 0):
        return ""
    from datetime import datetime

    try:
        return datetime.fromtimestamp(int(value)).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value)


def _describe(rows: Sequence[Mapping[str, Any]], limit: int = 10) -> str:
    shown = [f"key {row.get('$key')} ({row.get('name')!r})" for row in rows[:limit]]
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return ", ".join(shown) + more


def resolve(
    manager: ResourceManager[R],
    ident: str,
    *,
    noun: str,
    fields: Sequence[str] | None = None,
    **list_kwargs: Any,
) -> R:
    """Find the one object ``ident`` names, with one server-side query.

    An exact name match wins; an identifier of digits only that matches no
    name is taken as a ``$key``. Several objects with that name -> exit 7
    (nothing is changed); none -> exit 6. Never lists the whole collection.
    """
    from pyvergeos.filters import quote_value

    if not ident.strip():
        raise click.BadParameter(f"the {noun} name or key must not be empty")
    by_name = f"name eq {quote_value(ident)}"
    flt = f"({by_name}) or ($key eq {int(ident)})" if is_key(ident) else by_name
    rows = manager.list(filter=flt, fields=list(fields) if fields else None, **list_kwargs)
    named = [row for row in rows if row.get("name") == ident]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ConflictError(
            f"{len(named)} {noun}s are named {ident!r}: {_describe(named)}; use the key to pick one"
        )
    if is_key(ident):
        keyed = [row for row in rows if str(row.get("$key")) == str(int(ident))]
        if keyed:
            return keyed[0]
        raise NotFoundError(f"no {noun} is named {ident!r} or has key {int(ident)}")
    raise NotFoundError(f"no {noun} is named {ident!r}")


class LinkedGroup(click.Group):
    """A group that also offers some top-level commands under itself, and
    sub-commands that live in other modules.

    ``links`` maps a sub-command name to the name of a command of the root
    group, so ``vrgtask task schedule list`` runs the very same command object
    as ``vrgtask schedule list``; nothing is defined twice and the link works
    for whatever plugin provides that root command.

    ``lazy`` maps a sub-command name to ``module:attribute``: the module is
    imported only when that sub-command is used or listed (``task history``
    is not imported by ``task get``).
    """

    def __init__(
        self,
        *args: Any,
        links: Mapping[str, str] | None = None,
        lazy: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.links = dict(links or {})
        self.lazy = dict(lazy or {})

    def _root_command(self, ctx: click.Context, name: str) -> click.Command | None:
        root = ctx.find_root()
        if root.command is self or not isinstance(root.command, click.Group):
            return None
        return root.command.get_command(root, self.links[name])

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx)) | set(self.lazy)
        names.update(n for n in self.links if self._root_command(ctx, n) is not None)
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy:
            import importlib

            module, _, attribute = self.lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command), self.lazy[cmd_name]
            self.add_command(command, cmd_name)
        if command is None and cmd_name in self.links:
            command = self._root_command(ctx, cmd_name)
        return command


def nonempty(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Option callback: refuse empty or blank text (``--name ""``)."""
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty", param=param)
    return value


def enabled_filter(enabled: bool, disabled: bool) -> bool | None:
    """``--enabled``/``--disabled`` as the SDK's ``enabled=`` argument."""
    if enabled and disabled:
        raise click.UsageError("--enabled and --disabled are mutually exclusive")
    if enabled:
        return True
    return False if disabled else None


#: The sentence the help of every command that asks first ends with.
CONFIRM_NOTE = "Asks first on a terminal; without a terminal, --yes is required."


def yes_option(note: str | None = CONFIRM_NOTE) -> Callable[[F], F]:
    """``--yes/-y``, and ``note`` appended to the command's help (None: the help says it)."""

    def decorate(func: F) -> F:
        if note is not None:
            doc = inspect.cleandoc(func.__doc__ or "")
            func.__doc__ = f"{doc}\n\n{note}" if doc else note
        return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(func)

    return decorate


def update_options(*, enabled: bool = False) -> Callable[[F], F]:
    """``--name`` and ``--description`` of an update, then ``--enabled BOOL``
    when the object has that flag; each is None unless given."""

    def decorate(func: F) -> F:
        if enabled:
            func = click.option(
                "--enabled", type=click.BOOL, metavar="BOOL", help="true or false."
            )(func)
        func = click.option("--description", help="New description.")(func)
        return click.option("--name", callback=nonempty, help="New name.")(func)

    return decorate


def deleted_row(found: Any, row: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """What a delete prints: ``row`` (default: the key and name of ``found``), deleted."""
    base = {"$key": int(found.key), "name": found.get("name")} if row is None else dict(row)
    return {**base, **extra, "deleted": True}


def confirm_delete(
    app: AppContext,
    found: Any,
    delete: Callable[[Any], object],
    *,
    yes: bool,
    ask: str,
    told: str,
    row: Mapping[str, Any] | None = None,
    columns: Columns = (),
    **extra: Any,
) -> None:
    """Ask ``ask``, ``delete(found.key)``, then report ``told`` with the
    :func:`deleted_row` of ``found`` (``row`` and ``extra`` as there)."""
    app.confirm(ask, yes=yes)
    delete(found.key)
    app.done(told, deleted_row(found, row, **extra), columns)


def require_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The values of ``changes`` that were given (not None).

    None given is a usage error (exit 2) that names the running command's
    own options, so the message cannot drift from the options.
    """
    given = {name: value for name, value in changes.items() if value is not None}
    if given:
        return given
    ctx = click.get_current_context()
    names = [
        next((opt for opt in param.opts if opt.startswith("--")), param.opts[0])
        for param in ctx.command.params
        if isinstance(param, click.Option) and param.expose_value
    ]
    raise click.UsageError(f"nothing to change: give at least one of {', '.join(names)}")


def add_toggles(
    group: click.Group,
    toggle: Callable[[str, bool], None],
    *,
    metavar: str,
    example: str,
    enable_help: str,
    disable_help: str,
) -> None:
    """Add ``enable REF`` and ``disable REF`` to ``group``, each calling ``toggle(ref, on)``.

    ``example`` is the command line without the verb, e.g. ``("task", "nightly")``
    written as ``"task {verb} nightly"``.
    """
    from vrgtask.context import output_options

    for verb, on, help_text in (("enable", True, enable_help), ("disable", False, disable_help)):
        command = _toggle_command(toggle, on)
        command.__doc__ = help_text
        command.__name__ = f"{verb}_{group.name}"
        decorated = click.argument("ref", metavar=metavar, type=NAME_OR_KEY)(
            output_options(command)
        )
        group.command(verb, epilog=examples("vrgtask " + example.format(verb=verb)))(decorated)


def _toggle_command(toggle: Callable[[str, bool], None], on: bool) -> Callable[[str], None]:
    def command(ref: str) -> None:
        toggle(ref, on)

    return command
