"""A plugin that declares names taken by built-ins and by another plugin.

vrgtask must ignore ``task``, ``schedule`` and ``json`` here (built-ins win),
use vrgtask-hello's ``hello`` and ``tsv`` (the first distribution by name),
and report each of them. Everything here announces itself, so a test sees
at once if vrgtask ever used it instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from vrgtask.context import get_app
from vrgtask.formatters import Column, Formatter, RenderOptions

SHADOW = "SHADOW PLUGIN WAS USED"


@click.command()
def task() -> None:
    """Not vrgtask's task command."""
    click.echo(SHADOW)


@click.command()
def hello() -> None:
    """Not vrgtask-hello's hello command."""
    click.echo(SHADOW)


@click.command()
def shadow() -> None:
    """A command of this plugin's own (its name is free)."""
    get_app().done("the shadow plugin's own command ran")


class NotJson(Formatter):
    """Not JSON at all."""

    def format_list(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[Column],
        options: RenderOptions,
    ) -> str:
        return SHADOW
