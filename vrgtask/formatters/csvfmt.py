"""``csv``: a header of column keys, then one line per row, raw values."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from vrgtask.formatters import Column, Formatter, RenderOptions, escape_control, value_text

__all__ = ["CsvFormatter"]


def _raw(value: Any) -> str:
    if isinstance(value, dict | list):
        return value_text(value)  # JSON text: its control characters are escaped already
    return escape_control(value_text(value))


class CsvFormatter(Formatter):
    """Machine-readable rows: every column (wide ones too), raw values."""

    structured = True

    def format_list(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        for row in rows:
            writer.writerow([_raw(row.get(c.key)) for c in columns])
        return buffer.getvalue().rstrip("\n")
