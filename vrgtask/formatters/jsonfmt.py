"""``json``: raw values, a list as an array, one object as an object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice, repeat
from typing import Any

from vrgtask.formatters import Columns, Formatter, RenderOptions, Row, Rows, Write, value_text

__all__ = ["JsonFormatter"]


def dumps(value: Any) -> str:
    """Stable, readable JSON: keys in row order, non-ASCII kept, 2-space indent."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


_ONE_LINE = json.JSONEncoder(ensure_ascii=False, default=str)
_CHUNK_ROWS = 500  # rows per write: few writes, and never the whole list as one text


def _encoded(rows: Rows) -> Iterator[str]:
    """Each row as one line of JSON, as fast as the interpreter allows.

    ``JSONEncoder.encode`` runs two Python-level calls per value before it
    reaches the C encoder; for 10,000 rows that is half the time of the whole
    encoding. CPython's C encoder, mapped over the rows, writes the same text
    (the same separators, ``default=str``, non-ASCII kept) without a Python
    call per row. Elsewhere, or for rows that are not plain dicts, the plain
    encoder.
    """
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    plain = rows if set(map(type, rows)) <= {dict} else [dict(row) for row in rows]
    if make is None:  # not CPython, or its C accelerator is missing
        return map(_ONE_LINE.encode, plain)
    c_encode = make(None, str, encoder.encode_basestring, None, ": ", ", ", False, False, True)
    return map("".join, map(c_encode, plain, repeat(0)))


class JsonFormatter(Formatter):
    """Every key of every row, exactly as the command built it.

    A list is an array with one object per line: as readable as an indented
    dump for a list of flat rows, diff- and grep-friendly, and several times
    faster to produce for thousands of rows (the indenting encoder is pure
    Python; the one-line encoder is C).
    """

    structured = True

    def format_list(self, rows: Rows, columns: Columns, options: RenderOptions) -> str:
        if not rows:
            return "[]"
        return "[\n  " + ",\n  ".join(_encoded(rows)) + "\n]"

    def write_list(
        self, rows: Rows, columns: Columns, options: RenderOptions, write: Write
    ) -> None:
        """The text of :meth:`format_list`, written a few hundred rows at a time."""
        if not rows:
            write("[]\n")
            return
        lines = _encoded(rows)
        for start in range(0, len(rows), _CHUNK_ROWS):
            part = ",\n  ".join(islice(lines, _CHUNK_ROWS))
            head = "[\n  " if start == 0 else "  "
            tail = "\n]\n" if start + _CHUNK_ROWS >= len(rows) else ",\n"
            write(head + part + tail)

    def format_one(self, row: Row, columns: Columns, options: RenderOptions) -> str:
        return dumps(dict(row))

    def format_value(self, value: Any) -> str:
        """``--query`` under json: the exact text, nothing escaped."""
        return value_text(value)
