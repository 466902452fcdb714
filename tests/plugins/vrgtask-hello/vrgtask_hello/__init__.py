"""vrgtask-hello: an example vrgtask plugin.

It adds the command ``vrgtask hello`` and the output format ``-o tsv``;
vrgtask finds both through the entry points declared in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from vrgtask.context import get_app, output_options
from vrgtask.errors import NotFoundError
from vrgtask.formatters import Column, Formatter, RenderOptions, cell_text

GREETINGS = {"en": "hello", "fr": "bonjour"}
COLUMNS = [Column("$key", "Key"), Column("greeting"), Column("language", wide=True)]


@click.command(
    epilog="\b\nExamples:\n  vrgtask hello --name ops\n  vrgtask hello --language fr -o json"
)
@click.option("--name", default="world", show_default=True, help="Who to greet.")
@click.option("--language", metavar="CODE", help="Only this language (en, fr).")
@output_options  # accept -o, --query and -q after the command too
def hello(name: str, language: str | None) -> None:
    """Say hello (an example plugin command)."""
    if not name.strip():
        raise click.BadParameter("must not be empty", param_hint="'--name'")  # exit 2
    rows = [
        {"$key": key, "greeting": f"{word}, {name}", "language": code}
        for key, (code, word) in enumerate(GREETINGS.items(), start=1)
        if language in (None, code)
    ]
    if not rows:
        raise NotFoundError(f"no greeting in language {language!r}")  # exit 6
    get_app().render_list(rows, COLUMNS)  # never print: the user's -o decides


class TsvFormatter(Formatter):
    """Tab-separated values: a header of column titles, then one line per row."""

    structured = True  # for programs: a change prints its row, not a sentence

    def format_list(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        # cell_text escapes control characters (tab and newline too), so no
        # value can break a line, shift a column or drive the terminal.
        lines = ["\t".join(c.title for c in columns)]
        lines += ["\t".join(cell_text(row.get(c.key), c) for c in columns) for row in rows]
        return "\n".join(lines)
