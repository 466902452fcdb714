"""Points in time and durations written on the command line.

``WHEN`` is one of:

- a duration: a whole number and a unit, ``90s``, ``30m``, ``24h``, ``7d``,
  ``2w``, or several of them, largest first (``1h30m``); counted back from
  now for a start (``--since 24h``), forward for an end (``--until 2h``);
- ``today``, ``yesterday``, ``tomorrow`` (local midnight) or ``now``;
- a date, ``YYYY-MM-DD`` (local midnight);
- a date-time, ``YYYY-MM-DDTHH:MM[:SS]`` or ``'YYYY-MM-DD HH:MM[:SS]'``, in
  local time unless it carries an offset (``Z``, ``+01:00``, ``-0500``).

Every value comes back as an aware :class:`datetime`. The click parameter
types refuse a bad value with a usage error (exit 2) that names the option,
so a command never sends a request with it.

This module imports only the standard library and click; the schedule
time types (times of day, dates, weekdays) live next to it, in
:mod:`vrgtask.schedtime`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import click

__all__ = [
    "DURATION_UNITS",
    "MAX_DURATION",
    "Interval",
    "When",
    "format_local",
    "iso_local",
    "local_now",
    "parse_duration",
    "parse_when",
    "utc_offset",
    "wall_clock",
]

#: Seconds per unit of a duration.
DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
#: The longest duration accepted (about ten years): keeps dates computable.
MAX_DURATION = timedelta(days=3660)

_DURATION = re.compile(r"(?:[0-9]+[wdhms])+")
_PART = re.compile(r"([0-9]+)([wdhms])")
_WHEN = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"\s*(Z|[+-][0-9]{2}:?[0-9]{2})?)?",
    re.IGNORECASE,
)
_FORMS = (
    "a duration (30m, 24h, 7d, 1h30m), today, yesterday, tomorrow, now, "
    "a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM[:SS], local time unless "
    "it ends with an offset such as Z or +01:00)"
)


def local_now() -> datetime:
    """Now, aware, in the local time zone."""
    return datetime.now().astimezone()


def parse_duration(text: str) -> timedelta | None:
    """``30m`` -> 30 minutes; None when ``text`` is not written as a duration.

    Raises ValueError for a duration that is zero, units out of order or
    repeated, or longer than :data:`MAX_DURATION`.
    """
    compact = text.strip().lower()
    if not _DURATION.fullmatch(compact):
        return None
    seconds = 0
    order = list(DURATION_UNITS)
    last = -1
    for number, unit in _PART.findall(compact):
        position = order.index(unit)
        if position <= last:
            raise ValueError(f"{text!r}: give each unit once, largest first (like 1d12h)")
        last = position
        if len(number) > 12:
            raise ValueError(f"{text!r} is too long a time (at most {MAX_DURATION.days} days)")
        seconds += int(number) * DURATION_UNITS[unit]
    if seconds <= 0:
        raise ValueError(f"{text!r} is an empty duration: give more than zero")
    duration = timedelta(seconds=seconds)
    if duration > MAX_DURATION:
        raise ValueError(f"{text!r} is too long a time (at most {MAX_DURATION.days} days)")
    return duration


def utc_offset(text: str) -> timezone:
    """``Z``, ``+01:00``, ``-0500`` as a time zone; ValueError past 23:59."""
    if text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"bad UTC offset {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def wall_clock(
    year: str,
    month: str,
    day: str,
    hour: str | None,
    minute: str | None,
    second: str | None,
    offset: str | None,
    fraction: str | None = None,
) -> datetime:
    """The parts of a written date-time as an aware datetime.

    Without an offset the wall-clock time is read in the local time zone.
    Raises ValueError (no such date or time, a bad offset) or OverflowError.
    """
    moment = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((fraction or "0").ljust(6, "0")),
    )
    return moment.replace(tzinfo=utc_offset(offset)) if offset else moment.astimezone()


def _midnight(now: datetime, days: int) -> datetime:
    day = now.date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day).astimezone()


_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}


def parse_when(text: str, *, now: datetime | None = None, future: bool = False) -> datetime:
    """The moment ``text`` names (see the module docstring), aware.

    A duration counts back from ``now`` unless ``future`` (then forward).
    Raises ValueError with a message for the user.
    """
    now = now if now is not None else local_now()
    written = text.strip()
    word = written.lower()
    if not written:
        raise ValueError(f"an empty value is not a time: give {_FORMS}")
    if word == "now":
        return now
    if word in _WORDS:
        return _midnight(now, _WORDS[word])
    duration = parse_duration(written)
    if duration is not None:
        return now + duration if future else now - duration
    match = _WHEN.fullmatch(written)
    if not match:
        raise ValueError(f"{text!r} is not a time: give {_FORMS}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = wall_clock(year, month, day, hour, minute, second, offset, fraction)
        moment.timestamp()  # out of the platform's range: OverflowError / OSError
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"{text!r} is not a valid date-time ({exc})") from None
    return moment


class When(click.ParamType):  # type: ignore[type-arg]
    """A ``WHEN`` option: an aware datetime.

    ``future=False`` (a start such as ``--since``): durations count back and
    the moment must not lie ahead. ``future=True`` (an end such as
    ``--until``): durations count forward, the moment must lie ahead, and
    no further than ``max_ahead``.
    """

    name = "WHEN"

    def __init__(self, *, future: bool = False, max_ahead: timedelta | None = None) -> None:
        self.future = future
        self.max_ahead = max_ahead

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        now = local_now()
        try:
            moment = parse_when(str(value), now=now, future=self.future)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if self.future and moment <= now:
            self.fail(f"{value!r} is not in the future", param, ctx)
        if not self.future and moment > now:
            self.fail(f"{value!r} is in the future; give a time in the past", param, ctx)
        if self.max_ahead is not None and moment - now > self.max_ahead:
            self.fail(f"{value!r} is more than {self.max_ahead.days} days ahead", param, ctx)
        return moment


class Interval(click.ParamType):  # type: ignore[type-arg]
    """Seconds between two refreshes (``--watch``): a finite number, bounded."""

    name = "SECONDS"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            text = str(value).strip()
            try:
                duration = parse_duration(text)
                number = duration.total_seconds() if duration is not None else float(text)
            except ValueError:
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(number) or not self.minimum <= number <= self.maximum:
            self.fail(f"{value!r}: give {self.minimum:g} to {self.maximum:g} seconds", param, ctx)
        return number


def iso_local(epoch: float) -> str:
    """Epoch seconds as local ISO-8601 with the offset, to the second."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc).astimezone()
    return moment.isoformat(timespec="seconds")


def format_local(value: Any) -> str:
    """A table cell: epoch seconds or ISO-8601 text as ``Mon 2026-11-30 02:00:03``.

    None is empty; anything unreadable is shown as it is.
    """
    if value is None or value == "":
        return ""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=timezone.utc).astimezone()
        else:
            moment = datetime.fromisoformat(str(value)).astimezone()
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value)
    return moment.strftime("%a %Y-%m-%d %H:%M:%S")
