"""Click parameter types the core group needs before any command is loaded.

Kept apart from :mod:`vrgtask.commands._common` so that ``vrgtask --help``
imports no command module (click and the standard library only).
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["FiniteFloat", "complete_profile"]


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
