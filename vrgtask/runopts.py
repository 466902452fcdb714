"""The options of a command that waits for a run, and their values.

``--wait``, ``--timeout``, ``--start-timeout`` and ``--interval`` are
declared when a command module is imported; the waiting itself
(:mod:`vrgtask.runs`) is imported only when a command waits. This module
needs click and :mod:`vrgtask.params` only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

import click

from vrgtask.params import FiniteFloat

__all__ = [
    "DEFAULT_START_TIMEOUT",
    "MAX_WAIT",
    "Timing",
    "timing_options",
    "wait_options",
]

F = TypeVar("F", bound=Callable[..., Any])

#: How long a requested run may stay queued by default (seconds).
DEFAULT_START_TIMEOUT = 30.0
#: The longest ``--timeout`` accepted for a wait: a year, in seconds.
MAX_WAIT = 365 * 86400


class Timing(NamedTuple):
    """How long a wait may take: ``--timeout``, ``--start-timeout``, ``--interval``."""

    timeout: float
    start_timeout: float
    interval: float | None


def timing_options(func: F, *, prefix: str = "") -> F:
    """``--timeout``, ``--start-timeout`` and ``--interval`` of a wait, given
    to the command as one ``timing`` argument (a :class:`Timing`).

    Every value must be a finite number (no nan, inf or 1e400) within bounds.
    """

    @functools.wraps(func)
    def command(
        *args: Any, timeout: float, start_timeout: float, interval: float | None, **kwargs: Any
    ) -> Any:
        return func(*args, timing=Timing(timeout, start_timeout, interval), **kwargs)

    decorated: Callable[..., Any] = click.option(
        "--interval",
        type=FiniteFloat(min=1, max=3600),
        default=None,
        metavar="SECONDS",
        help=f"{prefix}a fixed time between checks (at least 1) [default: 1s, "
        "growing to 10s on long runs].",
    )(command)
    decorated = click.option(
        "--start-timeout",
        type=FiniteFloat(min=0, max=MAX_WAIT),
        default=DEFAULT_START_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help=f"{prefix}how long the run may stay queued before vrgtask gives up "
        "(exit 1; the server accepted the request but the task did not start).",
    )(decorated)
    return cast(
        F,
        click.option(
            "--timeout",
            type=FiniteFloat(min=0, max=MAX_WAIT),
            default=300,
            show_default=True,
            metavar="SECONDS",
            help=f"{prefix}give up waiting after this long (0 = no limit). Exit 9.",
        )(decorated),
    )


def wait_options(func: F) -> F:
    """``--wait`` and the :func:`timing_options`."""
    func = timing_options(func, prefix="With --wait: ")
    return click.option(
        "--wait",
        "-w",
        is_flag=True,
        help="Wait until the run has finished; its result "
        "comes from the task log (exit 1 if it logged an error).",
    )(func)
