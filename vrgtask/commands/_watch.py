"""``--watch [SECONDS]``: redraw a command's output in place on a terminal.

The command draws itself once per round exactly as it would without
``--watch`` (through the formatter registry); what it writes is gathered
and replaces the screen in one write, under a header line. Without a
terminal ``--watch`` is a usage error (exit 2) raised before any request.
Ctrl-C ends the watch with exit 0.

Every round costs the command's requests again, and VergeOS limits the
requests of an API key (the API guide: 1,000 an hour). A round the server
refuses with 429 does not end the watch: the last frame stays on screen
under a note, and the next round waits twice as long each time (from
``WATCH_THROTTLED`` seconds, or the server's Retry-After, up to
``WATCH_THROTTLED_MAX``), until a round gets through.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from vrgtask.timespec import Interval, local_now

__all__ = [
    "WATCH_DEFAULT",
    "WATCH_MAX",
    "WATCH_MIN",
    "WatchCommand",
    "check_watch",
    "stdout_is_terminal",
    "watch_loop",
    "watch_option",
]

WATCH_DEFAULT = 5.0
WATCH_MIN = 2.0
WATCH_MAX = 86400.0
#: The first wait after a round refused with 429, and the longest (seconds).
WATCH_THROTTLED = 30.0
WATCH_THROTTLED_MAX = 600.0
#: Cursor home, then clear the screen: the next frame replaces the last.
CLEAR = "\x1b[H\x1b[2J"

F = TypeVar("F", bound=Callable[..., Any])


_NEGATIVE = re.compile(r"-[0-9.]")


class WatchCommand(click.Command):
    """A command with ``--watch [SECONDS]``.

    The value is optional, so click would take ``--watch -5`` for ``--watch``
    and an unknown option ``-5``; a negative number right after ``--watch`` is
    refused as a bad value of ``--watch`` instead.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for index, arg in enumerate(args):
            if arg == "--":
                break
            value = None
            if arg == "--watch" and index + 1 < len(args):
                value = args[index + 1]
            elif arg.startswith("--watch="):
                value = arg.partition("=")[2]
            if value is not None and _NEGATIVE.match(value):
                raise click.BadParameter(
                    f"{value!r}: give {WATCH_MIN:g} to {WATCH_MAX:g} seconds",
                    ctx=ctx,
                    param_hint="'--watch'",
                )
        return super().parse_args(ctx, args)


def watch_option(func: F) -> F:
    """The ``--watch [SECONDS]`` option (None when not given)."""
    return click.option(
        "--watch",
        type=Interval(WATCH_MIN, WATCH_MAX),
        is_flag=False,
        flag_value=WATCH_DEFAULT,
        default=None,
        metavar="[SECONDS]",
        help=f"Redraw every SECONDS on a terminal (default {WATCH_DEFAULT:g}, at least "
        f"{WATCH_MIN:g}) until Ctrl-C.",
    )(func)


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal that can be redrawn (the seam tests replace).

    ``TERM=dumb`` says the terminal has no cursor control.
    """
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def check_watch(watch: float | None) -> None:
    """Refuse ``--watch`` without a terminal (exit 2, before any request)."""
    if watch is not None and not stdout_is_terminal():
        raise click.BadParameter(
            "redraws the screen and needs a terminal on stdout (not TERM=dumb); run it without "
            "--watch from scripts and cron",
            param_hint="'--watch'",
        )


def _throttled(exc: BaseException) -> float | None:
    """The server refused the round with 429: seconds it asked to wait
    (Retry-After, when the answer carried one), else 0; None otherwise."""
    if getattr(exc, "status_code", None) != 429:
        return None
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    from vrgtask.runs import parse_retry_after

    return parse_retry_after(headers.get("Retry-After")) or 0.0


def watch_loop(title: str, interval: float, draw: Callable[[], Any]) -> int:
    """Call ``draw`` every ``interval`` seconds, showing its output in place.

    Returns 0 when the user presses Ctrl-C. A failure inside ``draw`` ends
    the watch through the usual error path, except a round refused with
    429, which makes the watch back off (see the module's docstring).
    """
    last = ""
    backoff = 0.0
    try:
        while True:
            frame = io.StringIO()
            wait, note = interval, ""
            try:
                with contextlib.redirect_stdout(frame), contextlib.redirect_stderr(frame):
                    draw()
            except Exception as exc:
                asked = _throttled(exc)
                if asked is None:
                    raise
                backoff = min(max(backoff * 2, WATCH_THROTTLED, interval), WATCH_THROTTLED_MAX)
                wait = max(backoff, asked)
                note = (
                    f"The server is limiting requests (HTTP 429): next refresh in {wait:g}s. "
                    "A longer --watch interval asks less often.\n\n"
                )
                body = last
            else:
                backoff = 0.0
                body = last = frame.getvalue()
            stamp = local_now().strftime("%a %Y-%m-%d %H:%M:%S")
            header = f"Every {interval:g}s: {title}    {stamp}    (Ctrl-C to stop)"
            click.echo(f"{CLEAR}{header}\n\n{note}{body}", nl=False, color=True)
            time.sleep(wait)
    except KeyboardInterrupt:
        click.echo("")
        return 0
