"""``csv``: a header of column keys, then one line per row, raw values.

A cell that a spreadsheet would run as a formula (text beginning with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``, the
usual neutralisation: values come from the server, and a name such as
``=HYPERLINK(...)`` must stay text. Numbers (``-5``) are left alone;
``-o json`` always keeps the exact strings.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from vrgtask.formatters import Columns, Formatter, RenderOptions, Rows, escape_control, value_text

__all__ = ["CsvFormatter"]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``'`` before text a spreadsheet would take for a formula."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _raw(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float):
        return value_text(value)  # numbers (-5) are never formulas
    if isinstance(value, dict | list):
        return neutralise(value_text(value))  # JSON text: control characters escaped already
    return neutralise(escape_control(value_text(value)))


class CsvFormatter(Formatter):
    """Machine-readable rows: every column (wide ones too), raw values."""

    structured = True

    def format_list(self, rows: Rows, columns: Columns, options: RenderOptions) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        for row in rows:
            writer.writerow([_raw(row.get(c.key)) for c in columns])
        return buffer.getvalue().rstrip("\n")
