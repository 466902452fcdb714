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
import json
from collections.abc import Mapping, Sequence
from typing import Any

from vrgtask.formatters import Column, Formatter, RenderOptions, escape_control

__all__ = ["CsvFormatter"]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``'`` before text a spreadsheet would take for a formula."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _raw(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        return neutralise(json.dumps(value, ensure_ascii=False))
    return neutralise(escape_control(str(value)))


class CsvFormatter(Formatter):
    """Machine-readable rows: every column (wide ones too), raw values."""

    def _render(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        for row in rows:
            writer.writerow([_raw(row.get(c.key)) for c in columns])
        return buffer.getvalue().rstrip("\n")

    def format_list(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        return self._render(rows, columns)

    def format_one(
        self,
        row: Mapping[str, Any],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        return self._render([row], columns)
