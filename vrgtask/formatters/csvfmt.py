"""``csv``: a header of column keys, then one line per row, raw values."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from vrgtask.formatters import Column, Formatter, RenderOptions, escape_control

__all__ = ["CsvFormatter"]


def _raw(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return escape_control(str(value))


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
