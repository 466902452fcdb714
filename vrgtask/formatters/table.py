"""``table`` and ``wide``: human-readable tables drawn by tabulate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vrgtask.formatters import Column, Columns, Formatter, RenderOptions, Row, Rows, cell_text

__all__ = ["TableFormatter", "WideFormatter"]


def _tabulate(body: list[list[str]], headers: list[str]) -> str:
    # Imported here: the app loads this class just to ask whether it is
    # structured (a confirmation sentence needs no tabulate).
    import tabulate

    # Leading and trailing spaces are part of a name (" lead" is not "lead"):
    # tabulate would strip them.
    tabulate.PRESERVE_WHITESPACE = True
    return tabulate.tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True)


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

    structured = False
    wide = False

    def _columns(self, columns: Sequence[Column]) -> list[Column]:
        return [c for c in columns if self.wide or not c.wide]

    def format_list(self, rows: Rows, columns: Columns, options: RenderOptions) -> str:
        shown = self._columns(columns)
        body = [[_styled(row.get(c.key), c, options) for c in shown] for row in rows]
        return _tabulate(body, [c.title for c in shown])

    def format_one(self, row: Row, columns: Columns, options: RenderOptions) -> str:
        body = [[c.title, _styled(row.get(c.key), c, options)] for c in columns]
        return _tabulate(body, ["Field", "Value"])


class WideFormatter(TableFormatter):
    """``table`` plus the wide-only columns."""

    wide = True
