"""The ``fields`` parameter: parsing and row projection.

Entries are comma-separated; commas inside ``(...)`` or ``[...]`` do not
split. Each entry may end with ``as ALIAS`` (at the top level of the entry);
without one it lands in the row under its own text. The forms:

``col`` / ``$key``
    An own column. Unknown (and hidden ``_``) columns are left out.
``all`` / ``most``
    Every own visible column (``most`` is a projection keyword of the API
    guide; the sandbox treats it as ``all``).
``summary``
    The table's short summary set (the API guide's keyword; the columns are
    the sandbox's choice).
``ref#$display`` / ``ref#col`` / ``ref#ref2#col``
    Follow a reference column (an integer key into a known table, or a
    ``"table/key"`` string) and read the referenced row's display name or
    column. When the reference is null or the row does not exist the entry is
    *omitted* from the row, as the platform does (pyvergeos'
    ``require_projected`` relies on that).
``count(relation)``
    The number of related rows (``count(triggers)`` on a task).
``display(col)``
    A reference's display name, or an enumerated column's display text
    (``repeat_every`` ``"day"`` -> ``"Day(s)"``).
``flatten(ref[entry, ...])``
    Follow ``ref`` and add each inner entry, evaluated on the referenced row.

The table-specific knowledge (what references what, display texts,
relations) comes from a :class:`Resolver` the emulator supplies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "AllColumns",
    "Column",
    "Count",
    "Display",
    "Entry",
    "Flatten",
    "ProjectionError",
    "Resolver",
    "Summary",
    "Traverse",
    "parse_fields",
    "project",
    "split_top_level",
]

_IDENT = r"[A-Za-z_$][A-Za-z0-9_$]*"
_IDENT_RE = re.compile(_IDENT)
_COUNT_RE = re.compile(rf"count\(\s*({_IDENT})\s*\)")
_DISPLAY_RE = re.compile(rf"display\(\s*({_IDENT})\s*\)")
_FLATTEN_RE = re.compile(rf"flatten\(\s*({_IDENT})\s*\[(.*)\]\s*\)", re.DOTALL)
_PATH_PART_RE = re.compile(rf"\$display|{_IDENT}")


class ProjectionError(ValueError):
    """The ``fields`` parameter cannot be parsed; the API answers 422."""


@dataclass(frozen=True)
class Column:
    name: str
    alias: str


@dataclass(frozen=True)
class AllColumns:
    pass


@dataclass(frozen=True)
class Summary:
    pass


@dataclass(frozen=True)
class Traverse:
    column: str
    path: tuple[str, ...]
    alias: str


@dataclass(frozen=True)
class Count:
    relation: str
    alias: str


@dataclass(frozen=True)
class Display:
    column: str
    alias: str


@dataclass(frozen=True)
class Flatten:
    column: str
    entries: tuple[Entry, ...]


Entry = Column | AllColumns | Summary | Traverse | Count | Display | Flatten


class Resolver(Protocol):
    """What projection needs to know about the tables."""

    def columns(self, table: str) -> Sequence[str]:
        """The visible own columns of ``table``, in order."""
        ...

    def summary_columns(self, table: str) -> Sequence[str]:
        """The columns ``fields=summary`` returns."""
        ...

    def follow(
        self, table: str, column: str, row: Mapping[str, Any]
    ) -> tuple[str, Mapping[str, Any]] | None:
        """The row ``row[column]`` references, with its table; None if none."""
        ...

    def display_name(self, table: str, row: Mapping[str, Any]) -> Any:
        """A row's ``$display``."""
        ...

    def is_reference(self, table: str, column: str) -> bool:
        """Does ``column`` of ``table`` reference rows (of a fixed or named table)?"""
        ...

    def display_text(self, table: str, column: str, row: Mapping[str, Any]) -> tuple[bool, Any]:
        """``(True, text)`` for an enumerated column's display text, else ``(False, None)``."""
        ...

    def count(self, table: str, relation: str, row: Mapping[str, Any]) -> int | None:
        """Number of rows related to ``row`` through ``relation``; None if unknown."""
        ...


def split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside ``(...)`` or ``[...]``.

    Raises:
        ProjectionError: On unbalanced brackets.
    """
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                raise ProjectionError(f"unbalanced {ch!r} in fields")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise ProjectionError("unbalanced brackets in fields")
    parts.append(text[start:])
    return parts


def _split_alias(entry: str) -> tuple[str, str | None]:
    """Separate ``expr as alias`` where ``as`` is at the top level of ``entry``."""
    depth = 0
    found = -1
    for i, ch in enumerate(entry):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif (
            depth == 0
            and ch.isspace()
            and entry[i + 1 : i + 3] == "as"
            and entry[i + 3 : i + 4].isspace()
        ):
            found = i
    if found < 0:
        return entry, None
    expr = entry[:found].strip()
    alias = entry[found + 4 :].strip()
    if not expr or not alias or any(c.isspace() for c in alias):
        raise ProjectionError(f"invalid field entry: {entry!r}")
    return expr, alias


def _parse_entry(entry: str) -> Entry:
    expr, alias = _split_alias(entry)
    name = alias if alias is not None else expr
    if expr in ("all", "most") and alias is None:
        return AllColumns()
    if expr == "summary" and alias is None:
        return Summary()
    if _IDENT_RE.fullmatch(expr):
        return Column(expr, name)
    match = _COUNT_RE.fullmatch(expr)
    if match:
        return Count(match.group(1), name)
    match = _DISPLAY_RE.fullmatch(expr)
    if match:
        return Display(match.group(1), name)
    match = _FLATTEN_RE.fullmatch(expr)
    if match:
        if alias is not None:
            raise ProjectionError(f"flatten(...) takes no alias: {entry!r}")
        return Flatten(match.group(1), tuple(_parse_list(match.group(2))))
    if "#" in expr:
        head, *path = (part.strip() for part in expr.split("#"))
        if _IDENT_RE.fullmatch(head) and path and all(_PATH_PART_RE.fullmatch(p) for p in path):
            return Traverse(head, tuple(path), name)
    raise ProjectionError(f"invalid field entry: {entry!r}")


def _parse_list(text: str) -> list[Entry]:
    return [_parse_entry(part.strip()) for part in split_top_level(text) if part.strip()]


def parse_fields(text: str) -> list[Entry]:
    """Parse a ``fields`` parameter. An empty list means "no columns named".

    Raises:
        ProjectionError: On malformed entries or brackets.
    """
    return _parse_list(text)


def _visible(table: str, column: str, resolver: Resolver) -> bool:
    return not column.startswith("_") and column in resolver.columns(table)


def _traverse(
    table: str, row: Mapping[str, Any], entry: Traverse, resolver: Resolver
) -> tuple[bool, Any]:
    target = resolver.follow(table, entry.column, row)
    *hops, last = entry.path
    for hop in hops:
        if target is None:
            return False, None
        target = resolver.follow(target[0], hop, target[1])
    if target is None:
        return False, None
    target_table, target_row = target
    if last == "$display":
        return True, resolver.display_name(target_table, target_row)
    if _visible(target_table, last, resolver):
        return True, target_row.get(last)
    return False, None


def _display(
    table: str, row: Mapping[str, Any], column: str, resolver: Resolver
) -> tuple[bool, Any]:
    if not _visible(table, column, resolver):
        return False, None
    if resolver.is_reference(table, column):
        # A null or dangling reference is omitted, like a traversal through it.
        target = resolver.follow(table, column, row)
        if target is None:
            return False, None
        return True, resolver.display_name(*target)
    found, text = resolver.display_text(table, column, row)
    if found:
        return True, text
    return True, row.get(column)


def _apply(
    table: str,
    row: Mapping[str, Any],
    entry: Entry,
    resolver: Resolver,
    out: dict[str, Any],
) -> None:
    if isinstance(entry, Column):
        if _visible(table, entry.name, resolver):
            out[entry.alias] = row.get(entry.name)
    elif isinstance(entry, AllColumns):
        for column in resolver.columns(table):
            out[column] = row.get(column)
    elif isinstance(entry, Summary):
        for column in resolver.summary_columns(table):
            out[column] = row.get(column)
    elif isinstance(entry, Traverse):
        found, value = _traverse(table, row, entry, resolver)
        if found:
            out[entry.alias] = value
    elif isinstance(entry, Count):
        count = resolver.count(table, entry.relation, row)
        if count is not None:
            out[entry.alias] = count
    elif isinstance(entry, Display):
        found, value = _display(table, row, entry.column, resolver)
        if found:
            out[entry.alias] = value
    else:
        target = resolver.follow(table, entry.column, row)
        if target is not None:
            for inner in entry.entries:
                _apply(target[0], target[1], inner, resolver, out)


def project(
    table: str,
    row: Mapping[str, Any],
    entries: Sequence[Entry],
    resolver: Resolver,
) -> dict[str, Any]:
    """The response row for ``row`` of ``table`` under the projection ``entries``."""
    out: dict[str, Any] = {}
    for entry in entries:
        _apply(table, row, entry, resolver, out)
    return out
