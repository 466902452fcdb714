"""``table`` and ``wide``: human-readable tables drawn by tabulate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tabulate as _tabulate_module
from tabulate import tabulate

from vrgtask.formatters import Column, Formatter, RenderOptions, cell_text

__all__ = ["TableFormatter", "WideFormatter"]

# Leading and trailing spaces are part of a name (" lead" is not "lead"):
# tabulate would strip them.
_tabulate_module.PRESERVE_WHITESPACE = True


def _styled(value: Any, column: Column, options: RenderOptions) -> str:
    text = cell_text(value, column)
    if options.color and column.styles:
        try:
            style = column.styles.get(value)
        except TypeError:  # unhashable value
            style = None
        if style:
            import click

            return click.style(text, fg=style)
    return text


class TableFormatter(Formatter):
    """Columns for everyday use; a single object as a field/value table."""

    wide = False

    def _columns(self, columns: Sequence[Column]) -> list[Column]:
        return [c for c in columns if self.wide or not c.wide]

    def format_list(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        shown = self._columns(columns)
        body = [[_styled(row.get(c.key), c, options) for c in shown] for row in rows]
        return tabulate(
            body, headers=[c.title for c in shown], tablefmt="simple", disable_numparse=True
        )

    def format_one(
        self,
        row: Mapping[str, Any],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        body = [[c.title, _styled(row.get(c.key), c, options)] for c in columns]
        return tabulate(body, headers=["Field", "Value"], tablefmt="simple", disable_numparse=True)


class WideFormatter(TableFormatter):
    """``table`` plus the wide-only columns."""

    wide = True
