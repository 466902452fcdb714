"""An example third-party vrgtask plugin.

It adds the command ``vrgtask hello`` and the output format ``-o tsv``, by
declaring two entry points in its own setup.cfg; vrgtask itself is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from vrgtask.context import get_app, output_options
from vrgtask.formatters import Column, Formatter, RenderOptions, cell_text

GREETING_COLUMNS = [Column("$key", "Key"), Column("greeting"), Column("language", wide=True)]


@click.command()
@click.option("--name", default="world", show_default=True, help="Who to greet.")
@output_options
def hello(name: str) -> None:
    """Say hello (an example plugin command)."""
    rows = [
        {"$key": 1, "greeting": f"hello, {name}", "language": "en"},
        {"$key": 2, "greeting": f"bonjour, {name}", "language": "fr"},
    ]
    get_app().render_list(rows, GREETING_COLUMNS)


class TsvFormatter(Formatter):
    """Tab-separated values: a header of column titles, then one line per row."""

    def format_list(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        lines = ["\t".join(c.title for c in columns)]
        lines += ["\t".join(cell_text(row.get(c.key), c) for c in columns) for row in rows]
        return "\n".join(lines)

    def format_one(
        self,
        row: Mapping[str, Any],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        return self.format_list([row], columns, options)
