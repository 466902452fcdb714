"""``json``: raw values, a list as an array, one object as an object."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from vrgtask.formatters import Column, Formatter, RenderOptions

__all__ = ["JsonFormatter"]


def dumps(value: Any) -> str:
    """Stable, readable JSON: keys in row order, non-ASCII kept, 2-space indent."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


class JsonFormatter(Formatter):
    """Every key of every row, exactly as the command built it."""

    def format_list(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        return dumps([dict(row) for row in rows])

    def format_one(
        self,
        row: Mapping[str, Any],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        return dumps(dict(row))
