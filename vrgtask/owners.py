"""Owner references: ``table/key`` or ``table/name``.

A task (or an event trigger) belongs to an owner object, written as its
table and either its key (``vms/12``) or its name (``vms/web-01``). A part of
digits only is a key; so is anything in a table whose keys are strings
(``vm_recipes/nas-winbind``). A name is turned into a key with one filtered
request: several objects with that name -> exit 7 (their keys listed), none
-> exit 6.

:class:`OwnerParam` is the one click parameter type of every ``--owner``
(``task create``, ``event create``, ``event list``); the automation document
reads its ``owner:`` fields with the same :func:`parse_owner`, so the three
accept and refuse the same text.

Importing this module is cheap (standard library, click and vrgtask.errors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from vrgtask.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = [
    "STRING_KEY_TABLES",
    "OwnerParam",
    "OwnerRef",
    "OwnerSyntaxError",
    "format_owner",
    "lookup_owner_key",
    "owner_with_table",
    "parse_owner",
    "resolve_owner",
]

#: Tables whose ``$key`` is a string (the part after the slash is a key there).
STRING_KEY_TABLES = frozenset({"vm_recipes"})

_TABLE = re.compile(r"[a-z_][a-z0-9_]*")
_DIGITS = re.compile(r"[0-9]+")
_KEY_LIKE = re.compile(r"[0-9][0-9\s]*")

OWNER_HELP = "write an owner as table/name (vms/web-01) or table/key (vms/12)"


class OwnerSyntaxError(ValueError):
    """Text that is neither ``table/key`` nor ``table/name``."""


@dataclass(frozen=True)
class OwnerRef:
    """A parsed owner: its table and either its key or its name."""

    table: str
    key: str | None = None
    name: str | None = None

    @property
    def ref(self) -> str:
        """``table/key`` (only for a reference that carries its key)."""
        if self.key is None:
            raise ValueError(f"owner {self} has no key yet")
        return f"{self.table}/{self.key}"

    def __str__(self) -> str:
        return f"{self.table}/{self.key if self.key is not None else self.name}"


def parse_owner(text: str) -> OwnerRef:
    """``vms/12`` -> key 12; ``vms/web-01`` -> name web-01. Raises OwnerSyntaxError."""
    if not isinstance(text, str):
        raise OwnerSyntaxError(f"{text!r} is not text: {OWNER_HELP}")
    table, sep, rest = text.strip().partition("/")
    if not sep or not rest.strip() or not _TABLE.fullmatch(table):
        raise OwnerSyntaxError(f"{text!r} is not an owner: {OWNER_HELP}")
    if "/" in rest:
        raise OwnerSyntaxError(f"{text!r} is not an owner: one slash only; {OWNER_HELP}")
    if rest != rest.strip() or (_KEY_LIKE.fullmatch(rest) and not _DIGITS.fullmatch(rest)):
        raise OwnerSyntaxError(f"{text!r}: a key is digits only; {OWNER_HELP}")
    if _DIGITS.fullmatch(rest):
        if int(rest) < 1:
            raise OwnerSyntaxError(f"{text!r}: keys start at 1")
        return OwnerRef(table, key=str(int(rest)))
    if table in STRING_KEY_TABLES:
        return OwnerRef(table, key=rest)
    return OwnerRef(table, name=rest)


def _keys_text(rows: list[dict[str, Any]]) -> str:
    keys = [str(row.get("$key")) for row in rows[:10]]
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return ", ".join(keys) + more


def lookup_owner_key(client: VergeClient, table: str, name: str) -> str:
    """The key of the one object of ``table`` named ``name`` (one request)."""
    from pyvergeos.filters import quote_value

    rows = client._request(
        "GET", table, params={"filter": f"name eq {quote_value(name)}", "fields": "$key,name"}
    )
    if isinstance(rows, dict):
        rows = [rows]
    named = [row for row in rows or [] if isinstance(row, dict) and row.get("name") == name]
    if len(named) > 1:
        raise ConflictError(
            f"{len(named)} objects in {table} are named {name!r} (keys {_keys_text(named)}); "
            f"write the owner as {table}/KEY"
        )
    if not named:
        raise NotFoundError(f"no object in {table} is named {name!r}")
    return str(named[0].get("$key"))


def resolve_owner(client: VergeClient, owner: OwnerRef) -> OwnerRef:
    """The same owner with its key (one request when it was given by name)."""
    if owner.key is not None:
        return owner
    assert owner.name is not None
    return OwnerRef(owner.table, key=lookup_owner_key(client, owner.table, owner.name))


class OwnerParam(click.ParamType):  # type: ignore[type-arg]
    """``--owner``: ``table/key``, ``table/name`` or (with ``--table``) a bare key.

    Returns an :class:`OwnerRef`; a bare key comes back with an empty table
    (:func:`owner_with_table` fills it). Bad text is a usage error naming the
    option, before any request; a name is looked up later, once a client
    exists (:func:`resolve_owner`).
    """

    name = "OWNER"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, OwnerRef):
            return value
        text = str(value).strip()
        if "/" not in text:
            if _DIGITS.fullmatch(text) and int(text) >= 1:
                return OwnerRef("", key=str(int(text)))
            self.fail(f"{value!r}: {OWNER_HELP}, or a key (12) with --table", param, ctx)
        try:
            return parse_owner(text)
        except OwnerSyntaxError as exc:
            self.fail(str(exc), param, ctx)


def owner_with_table(
    owner: OwnerRef, table: str | None, *, same_table: bool, example: str = "vms"
) -> OwnerRef:
    """``owner`` with its table: a bare key takes ``--table``'s.

    ``example`` is the table the message's example reference uses.

    ``same_table``: a ``--table`` naming another table than the reference is a
    usage error (a task's ``--table`` is its owner's; an event's may differ).
    """
    if not owner.table:
        if table is None:
            raise click.UsageError(
                f"Missing option '--table': --owner {owner.key} is a bare key; give its table "
                f"with --table, or write the reference in full, as in --owner {example}/{owner.key}"
            )
        return OwnerRef(table, key=owner.key)
    if same_table and table is not None and table != owner.table:
        raise click.BadParameter(
            f"the owner reference names table {owner.table!r} but --table is {table!r}",
            param_hint="'--table'",
        )
    return owner


def format_owner(table: str, key: str, name: str | None, unique: bool) -> str:
    """How an owner is written out: ``table/name`` when that is unambiguous."""
    if (
        name
        and unique
        and table not in STRING_KEY_TABLES
        and not _DIGITS.fullmatch(name)
        and name == name.strip()
    ):
        return f"{table}/{name}"
    return f"{table}/{key}"
