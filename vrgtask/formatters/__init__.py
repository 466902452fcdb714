"""The output formatter registry and the API formatters implement.

A command never prints a table or JSON itself: it turns SDK objects into rows
(plain dicts) and hands them, with a column spec, to the formatter the user
picked with ``-o``. Formatters are entry points in the ``vrgtask.formatters``
group, so a third-party package adds one by declaring::

    [options.entry_points]
    vrgtask.formatters =
        xml = my_package.formatters:XmlFormatter

The entry point may name a :class:`Formatter` subclass or an instance. Only the
selected formatter is imported: listing the names (for ``--output`` choices)
reads entry-point metadata (:mod:`vrgtask.plugins`) and imports nothing. A
plugin cannot replace a built-in format: an entry point named like one is
ignored (and reported, see :mod:`vrgtask.plugins`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vrgtask.errors import VrgtaskError
from vrgtask.plugins import formatter_names
from vrgtask.text import escape_control, value_text

__all__ = [
    "Column",
    "Columns",
    "Formatter",
    "RenderOptions",
    "Row",
    "Rows",
    "Write",
    "cell_text",
    "escape_control",
    "formatter_names",
    "load_formatter",
    "value_text",
]


class Column:
    """One column of a resource's output (immutable).

    Attributes:
        key: The row key the value is read from.
        header: Column heading in tables; defaults to the key, title-cased.
        wide: Shown only by ``-o wide`` (and in single-object views).
        format: Turns a raw value into display text (tables only; json and
            csv always carry the raw value).
        styles: Display colour per raw value, for status-like columns
            (``{"running": "green"}``); used only on a colour terminal.

    A plain class rather than a dataclass: building dataclasses costs about
    2 ms at import, a sixth of what vrgtask adds to ``--help``.
    """

    __slots__ = ("format", "header", "key", "styles", "wide")

    key: str
    header: str | None
    wide: bool
    format: Callable[[Any], str] | None
    styles: Mapping[Any, str]

    def __init__(
        self,
        key: str,
        header: str | None = None,
        wide: bool = False,
        format: Callable[[Any], str] | None = None,
        styles: Mapping[Any, str] | None = None,
    ) -> None:
        for name, value in (
            ("key", key),
            ("header", header),
            ("wide", wide),
            ("format", format),
            ("styles", {} if styles is None else styles),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Column is immutable: cannot set {name!r}")

    def _fields(self) -> tuple[Any, ...]:
        return (self.key, self.header, self.wide, self.format, self.styles)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Column):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((self.key, self.header, self.wide, self.format))

    def __repr__(self) -> str:
        return (
            f"Column(key={self.key!r}, header={self.header!r}, wide={self.wide!r}, "
            f"format={self.format!r}, styles={self.styles!r})"
        )

    @property
    def title(self) -> str:
        if self.header is not None:
            return self.header
        return self.key.lstrip("$").replace("_", " ").title()


#: The shapes formatters (and the app) take: one row, several rows, a column
#: spec, and where a list is written piece by piece.
Row = Mapping[str, Any]
Rows = Sequence[Row]
Columns = Sequence[Column]
Write = Callable[[str], None]


class RenderOptions:
    """How to render: whether colour is allowed."""

    __slots__ = ("color",)

    color: bool

    def __init__(self, color: bool = False) -> None:
        object.__setattr__(self, "color", color)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"RenderOptions is immutable: cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RenderOptions):
            return NotImplemented
        return self.color == other.color

    def __hash__(self) -> int:
        return hash(self.color)

    def __repr__(self) -> str:
        return f"RenderOptions(color={self.color!r})"


class Formatter(abc.ABC):
    """Base class of every output format.

    ``format_list`` renders a list of rows, ``format_one`` a single object
    (by default: a list of that one row). Both return the complete text to
    print (without a trailing newline); return ``""`` to print nothing.

    ``structured`` says what the format is for, and the app asks it instead
    of comparing format names: a structured format (json, csv, yaml) is for
    programs, so a change (``task enable``) prints the changed object's row
    and an empty list prints an empty document; a human format (table, wide)
    gets a confirmation sentence and a "nothing found" note on stderr.
    Plugin formats are structured unless they say otherwise.

    A formatter that writes values as text must not let them drive the
    terminal: pass each value through :func:`cell_text` (or
    :func:`escape_control`), as the built-in ones do.
    """

    structured: bool = True

    @abc.abstractmethod
    def format_list(self, rows: Rows, columns: Columns, options: RenderOptions) -> str:
        """Render several rows."""

    def format_one(self, row: Row, columns: Columns, options: RenderOptions) -> str:
        """Render one object: by default, as a list of one row."""
        return self.format_list([row], columns, options)

    def write_list(
        self, rows: Rows, columns: Columns, options: RenderOptions, write: Write
    ) -> None:
        """Write a list through ``write`` (text, newline included).

        By default the text of :meth:`format_list` and a newline, nothing when
        it is empty. A format that can write a long list piece by piece (json)
        overrides this, so thousands of rows never sit in memory as one text.
        """
        text = self.format_list(rows, columns, options)
        if text:
            write(text + "\n")

    def format_value(self, value: Any) -> str:
        """One field for ``--query``: its text, control characters escaped."""
        return escape_control(value_text(value))


def cell_text(value: Any, column: Column) -> str:
    """Display text of one value in a table: formatted, then escaped."""
    if column.format is not None:
        text = column.format(value)
    elif value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value)
    return escape_control(text)


def load_formatter(name: str) -> Formatter:
    """Import and return the formatter registered as ``name``."""
    from vrgtask.plugins import FORMATTERS_GROUP, entry_points

    for ep in entry_points(FORMATTERS_GROUP):
        if ep.name == name:
            try:
                obj = ep.load()
                instance = obj() if isinstance(obj, type) else obj
            except Exception as exc:
                raise VrgtaskError(
                    f"output format {name!r} could not be loaded ({ep.value}): "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(instance, Formatter):
                raise VrgtaskError(
                    f"output format {name!r} ({ep.value}) is not a vrgtask Formatter"
                )
            return instance
    raise VrgtaskError(f"unknown output format {name!r}")
