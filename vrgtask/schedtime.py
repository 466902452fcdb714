"""Schedule times written on the command line and read back from a server.

Times of day (``02:00``, seconds after midnight), calendar dates
(``YYYY-MM-DD``), weekday sets (``mon,wed``, ``weekdays``) and points in time
(a date or date-time, local unless it carries an offset), as click parameter
types that refuse a bad value with a usage error (exit 2) naming the option,
plus the schedule vocabulary (repeat intervals, weekdays) and the cell text
of times and day sets. Used by ``vrgtask schedule``, the automation document
and ``vrgtask agenda``; :mod:`vrgtask.timespec` holds the ``--since``/``--until``
forms.

This module imports only the standard library and click.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import click

from vrgtask.timespec import wall_clock

__all__ = [
    "DAY_NAMES",
    "DAY_OF_MONTH_CHOICES",
    "DAY_SECONDS",
    "REPEAT_CHOICES",
    "WEEKDAYS",
    "WHEN_PATTERN",
    "DaysType",
    "PointInTime",
    "ScheduleDate",
    "TimeOfDay",
    "date_of",
    "format_days",
    "int_or",
    "seconds_to_time",
    "time_text",
]

DAY_SECONDS = 86400

REPEAT_CHOICES = ["minute", "hour", "day", "week", "month", "year", "never"]
DAY_OF_MONTH_CHOICES = ["first", "last", "15th", "start_date"]
#: The SDK's weekday flags, Monday first (``date.weekday()`` order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NAMES = tuple(day.capitalize() for day in WEEKDAYS)


def int_or(value: Any, default: int) -> int:
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def seconds_to_time(seconds: Any) -> str:
    """Seconds from midnight as ``HH:MM`` (``HH:MM:SS`` when seconds are set).

    86400 is ``24:00``, the end of the day.
    """
    if seconds is None or isinstance(seconds, bool):
        return ""
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return str(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}"
    return f"{text}:{secs:02d}" if secs else text


def time_text(seconds: int) -> str:
    return f"{seconds_to_time(seconds)} ({seconds}s)"


_WEEKDAY_SET = set(DAY_NAMES[:5])
_WEEKEND_SET = set(DAY_NAMES[5:])


def format_days(value: Any) -> str:
    """The ``active_days`` string as a table cell: 'every day', 'weekdays', 'Mon, Wed'."""
    if value is None:
        return ""
    names = [part.strip() for part in str(value).split(",") if part.strip()]
    chosen = set(names)
    if chosen == set(DAY_NAMES):
        return "every day"
    if chosen == _WEEKDAY_SET:
        return "weekdays"
    if chosen == _WEEKEND_SET:
        return "weekend"
    if not chosen:
        return "none"
    return ", ".join(name[:3] if name in DAY_NAMES else name for name in names)


_INT = re.compile(r"[+-]?[0-9]+")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class TimeOfDay(click.ParamType):  # type: ignore[type-arg]
    """A time of day: seconds from midnight (0..86400) or HH:MM[:SS] (24:00 allowed)."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            seconds = value
        else:
            text = str(value).strip()
            clock = _CLOCK.fullmatch(text)
            if _INT.fullmatch(text):
                seconds = int(text)
            elif clock:
                hours, minutes = int(clock.group(1)), int(clock.group(2))
                secs = int(clock.group(3) or 0)
                if minutes > 59 or secs > 59:
                    self.fail(f"{text!r}: minutes and seconds run from 00 to 59", param, ctx)
                seconds = hours * 3600 + minutes * 60 + secs
            else:
                self.fail(
                    f"{text!r} is not a time of day: give HH:MM, HH:MM:SS or seconds "
                    "after midnight (0..86400)",
                    param,
                    ctx,
                )
        if not 0 <= seconds <= DAY_SECONDS:
            self.fail(
                f"{value!r} is outside the day: use 00:00..24:00 or 0..86400 seconds",
                param,
                ctx,
            )
        return seconds


class ScheduleDate(click.ParamType):  # type: ignore[type-arg]
    """A calendar date written YYYY-MM-DD; returned as that text.

    Years MIN_YEAR..MAX_YEAR only (1971-2999): every epoch computed from such a
    date, in any time zone, is representable -- on the platform, in the
    sandbox and when vrgtask reads run times back.
    """

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from vrgtask.sandbox.limits import MAX_YEAR, MIN_YEAR

        if isinstance(value, date) and not isinstance(value, datetime):
            text = value.isoformat()
        else:
            text = str(value).strip()
        match = _DATE.fullmatch(text)
        if not match:
            self.fail(f"{text!r} is not a date written YYYY-MM-DD", param, ctx)
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError as exc:
            self.fail(f"{text!r} is not a valid date ({exc})", param, ctx)
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            self.fail(
                f"{text!r} is out of range: use a date from {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31",
                param,
                ctx,
            )
        return day.isoformat()


_DAY_WORDS: dict[str, tuple[str, ...]] = {
    "weekdays": WEEKDAYS[:5],
    "weekend": WEEKDAYS[5:],
    "all": WEEKDAYS,
    **{day: (day,) for day in WEEKDAYS},
    **{day[:3]: (day,) for day in WEEKDAYS},
}


class DaysType(click.ParamType):  # type: ignore[type-arg]
    """``mon,tue,...`` (or full names, ``weekdays``, ``weekend``, ``all``) as seven flags."""

    name = "DAYS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        chosen: set[str] = set()
        parts = [part.strip().lower() for part in str(value).split(",")]
        if not any(parts):
            self.fail("name at least one day, e.g. mon,wed,fri or weekdays", param, ctx)
        for part in parts:
            if not part:
                continue
            if part not in _DAY_WORDS:
                self.fail(
                    f"{part!r} is not a day: use mon..sun, monday..sunday, "
                    "weekdays, weekend or all, separated by commas",
                    param,
                    ctx,
                )
            chosen.update(_DAY_WORDS[part])
        return {day: day in chosen for day in WEEKDAYS}


WHEN_PATTERN = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?"
    r"\s*(Z|[+-][0-9]{2}:?[0-9]{2})?)?",
    re.IGNORECASE,
)


class PointInTime(click.ParamType):  # type: ignore[type-arg]
    """A date (local midnight) or date-time, local unless it carries an offset; epoch int.

    ``bounded`` (the command-line options): years MIN_YEAR..MAX_YEAR only, as
    :class:`ScheduleDate`; unbounded it also reads what a server answers.
    """

    name = "WHEN"

    def __init__(self, bounded: bool = False) -> None:
        self.bounded = bounded

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        match = WHEN_PATTERN.fullmatch(text)
        if not match:
            self.fail(
                f"{text!r} is not a date or date-time: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] "
                "or 'YYYY-MM-DD HH:MM[:SS]', optionally with an offset like +01:00 or Z",
                param,
                ctx,
            )
        year, month, day, hour, minute, second, offset = match.groups()
        if self.bounded:
            from vrgtask.sandbox.limits import MAX_YEAR, MIN_YEAR

            if not MIN_YEAR <= int(year) <= MAX_YEAR:
                self.fail(
                    f"{text!r} is out of range: use a time from {MIN_YEAR}-01-01 "
                    f"to {MAX_YEAR}-12-31",
                    param,
                    ctx,
                )
        try:
            moment = wall_clock(year, month, day, hour, minute, second, offset)
            return int(moment.timestamp())
        except (ValueError, OverflowError, OSError) as exc:
            self.fail(f"{text!r} is not a valid date-time ({exc})", param, ctx)


def date_of(text: Any) -> date | None:
    """The date at the start of a stored start_date/end_date value, if any."""
    if not text:
        return None
    match = _DATE.match(str(text).strip())
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
