"""Click parameter types the core group needs before any command is loaded.

Kept apart from :mod:`vrgtask.commands._common` so that ``vrgtask --help``
imports no command module (click and the standard library only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

__all__ = [
    "MAX_TIMEOUT",
    "OUTPUT_HELP",
    "QUERY_HELP",
    "QUIET_HELP",
    "FiniteFloat",
    "LazyChoice",
    "complete_profile",
]

#: The longest ``--timeout`` (seconds) accepted anywhere.
MAX_TIMEOUT = 86400.0
OUTPUT_HELP = "Output format."
QUERY_HELP = "Print only this field of the result (dot paths allowed, e.g. settings_args.x)."
QUIET_HELP = "Lists print keys only; confirmations are silent."


class FiniteFloat(click.FloatRange):
    """A number of seconds: finite (no nan, inf or 1e400) and within bounds."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def complete_profile(ctx: click.Context, param: click.Parameter, incomplete: str) -> Any:
    """Profile names for ``-p``/``--profile`` (the completion module loads only then)."""
    from vrgtask.commands.completion import complete_profile as names

    return names(ctx, param, incomplete)


class LazyChoice(click.Choice):  # type: ignore[type-arg]
    """A Choice whose values are the registered formatter names, read when needed."""

    def __init__(self) -> None:
        super().__init__([], case_sensitive=True)

    @property  # type: ignore[override]
    def choices(self) -> Sequence[str]:
        from vrgtask.plugins import formatter_names

        return formatter_names()

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        pass
