"""Upcoming run times of a VergeOS task schedule (the sandbox's ``get_schedule``).

This module is a pure computation: it takes one row of the ``task_schedules``
table and returns the epoch seconds at which the schedule fires inside a time
range.  It imports nothing but the standard library and keeps no state.

Documented behaviour of the sandbox
===================================

Notation: every calendar computation happens in the time zone ``tz`` (the
process's local zone when ``tz`` is ``None``).  ``D(t)`` is the local date of
the instant ``t``; an *active day* is a day whose weekday flag (``monday`` ..
``sunday``) is true; ``sod``/``eod`` are ``start_time_of_day`` and
``end_time_of_day`` (seconds after local midnight); ``N`` is
``repeat_iteration``.  The *anchor* is ``start_date`` or, when the row has no
start date, ``D(start_time)``.

``minute`` / ``hour``
    On every active day, runs at midnight + ``sod`` + k*N*60 (minute) or
    k*N*3600 (hour), k = 0, 1, 2, ..., while the offset is < ``eod`` and
    < 86400 (the end of the window is exclusive).  Counting restarts at ``sod``
    every day.  ``sod >= eod`` means no runs at all.
``day``
    One run at midnight + ``sod`` on each active day ``d`` with
    ``(d - anchor).days % N == 0``.
``week``
    A run at midnight + ``sod`` on each active day of the weeks whose Monday is
    a multiple of N whole weeks away from the Monday of the anchor's week.
``month``
    One run per month at midnight + ``sod`` on the day chosen by
    ``day_of_month``: ``first`` = 1, ``last`` = last day of the month, ``15th``
    = 15, ``start_date`` = the anchor's day of month clamped to the month's
    length (31 -> 30 in April, -> 28/29 in February).  Only months a multiple
    of N months after the anchor's month.  Weekday flags are ignored.
``year``
    One run per year on the anchor's month and day (February 29 becomes
    February 28 in non-leap years) at midnight + ``sod``, every N years from
    the anchor's year.  Weekday flags are ignored.
``never``
    Exactly one run, at the anchor date + ``sod``; it is reported only when it
    lies inside the requested range.

Bounds (all inclusive): a run is reported only if it is ``>= start_time``,
``<= end_time`` (when given), not before the midnight of ``start_date`` (and
not on a date before ``start_date``), and not after ``end_date``.  A date-only
``end_date`` (``YYYY-MM-DD``) lets the schedule run during that whole local
day; ``YYYY-MM-DD HH:MM:SS`` bounds it at that local instant.  ``eod`` only
limits the intra-day repetition of ``minute``/``hour``; the other units only
use ``sod`` (``sod == 86400`` therefore means the following midnight for
them).  ``enabled`` is ignored: the caller decides what a disabled schedule
reports.

Local wall-clock times are converted to instants through ``tz`` with
``fold=0``: a time that does not exist (skipped by a DST switch) maps with the
offset in force before the switch (02:30 on a spring-forward day is reported as
the instant of 03:30), an ambiguous time maps to its first occurrence, and
duplicate instants are reported once.  Results are ascending unique integers.

Missing columns (or ``None``) take the VergeOS defaults: ``repeat_every``
"hour", ``repeat_iteration`` 1, ``sod`` 0, ``eod`` 86400, ``day_of_month``
"start_date", every weekday flag true.  Anything else that cannot be
interpreted raises :class:`ScheduleError` (``day_of_month`` is only read, and
so only validated, for ``month`` schedules).

Every loop is bounded: the computation stops at ``max_results`` (capped at
1440; a value below 1 yields ``[]``), at ``end_time``/``end_date``, or at a
horizon of 366 * 30 days (minute, hour, day, week) or 400 years (month,
year) after the start of the range, and at the end of the representable
calendar (year 9999).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Final

__all__ = [
    "DAY_OF_MONTH",
    "MAX_RESULTS_LIMIT",
    "REPEAT_EVERY",
    "WEEKDAYS",
    "ScheduleError",
    "upcoming_runs",
]

REPEAT_EVERY: Final[tuple[str, ...]] = (
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
    "never",
)
DAY_OF_MONTH: Final[tuple[str, ...]] = ("first", "last", "15th", "start_date")
WEEKDAYS: Final[tuple[str, ...]] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
MAX_RESULTS_LIMIT: Final = 1440

_SECONDS_PER_DAY: Final = 86400
_DAY_HORIZON: Final = 366 * 30
_YEAR_HORIZON: Final = 400
# Wall-clock offsets and elapsed seconds since local midnight differ by at most
# the DST shifts of that day; skipping intra-day runs keeps this much slack.
_SKIP_SLACK: Final = 6 * 3600

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_SECOND: Final = timedelta(seconds=1)
_ONE_DAY: Final = timedelta(days=1)

_DATE_RE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME_RE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?")
_INT_RE: Final = re.compile(r"\s*[+-]?\d+\s*")
_TRUE_STRINGS: Final = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE_STRINGS: Final = frozenset({"0", "false", "no", "off", "n", "f", ""})


class ScheduleError(ValueError):
    """A ``task_schedules`` row that cannot be interpreted."""


@dataclass(frozen=True)
class _Row:
    unit: str
    every: int
    start_date: date | None
    end_date: date | None
    end_instant: datetime | None  # naive local wall time, when end_date has a time
    sod: int
    eod: int
    day_of_month: str
    weekdays: tuple[bool, bool, bool, bool, bool, bool, bool]


# --------------------------------------------------------------------------- parsing


def _parse_int(row: Mapping[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    value = row.get(name)
    if value is None:
        return default
    integral = (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer())
        or (isinstance(value, str) and _INT_RE.fullmatch(value) is not None)
    )
    if not integral:
        raise ScheduleError(f"{name} must be an integer, not {value!r}")
    result = int(value)
    if not lo <= result <= hi:
        raise ScheduleError(f"{name} must be between {lo} and {hi}, not {result}")
    return result


def _parse_bool(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_STRINGS:
            return True
        if text in _FALSE_STRINGS:
            return False
    raise ScheduleError(f"{name} must be a boolean, not {value!r}")


def _parse_choice(row: Mapping[str, Any], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = row.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        text = value.strip().lower()
        if text in choices:
            return text
    raise ScheduleError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _parse_start_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _DATE_RE.fullmatch(text)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError as exc:
                raise ScheduleError(f"start_date {value!r} is not a valid date") from exc
    raise ScheduleError(f"start_date must be 'YYYY-MM-DD' or empty, not {value!r}")


def _parse_end_date(value: Any) -> tuple[date | None, datetime | None]:
    """Return ``(end_date, end_instant)``; ``end_instant`` is set when a time was given."""
    if value is None:
        return None, None
    if isinstance(value, datetime):
        return value.date(), value.replace(tzinfo=None)
    if isinstance(value, date):
        return value, None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None, None
        match = _DATETIME_RE.fullmatch(text)
        if match:
            try:
                day = date(int(match[1]), int(match[2]), int(match[3]))
                if match[4] is None:
                    return day, None
                instant = datetime(
                    day.year,
                    day.month,
                    day.day,
                    int(match[4]),
                    int(match[5]),
                    int(match[6] or 0),
                )
            except ValueError as exc:
                raise ScheduleError(f"end_date {value!r} is not a valid date/time") from exc
            return day, instant
    raise ScheduleError(
        f"end_date must be 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS' or empty, not {value!r}"
    )


def _parse_row(row: Mapping[str, Any]) -> _Row:
    if not isinstance(row, Mapping):
        raise ScheduleError(f"schedule must be a mapping, not {type(row).__name__}")
    unit = _parse_choice(row, "repeat_every", "hour", REPEAT_EVERY)
    every = _parse_int(row, "repeat_iteration", 1, 1, 2**31 - 1)
    start_date = _parse_start_date(row.get("start_date"))
    end_date, end_instant = _parse_end_date(row.get("end_date"))
    sod = _parse_int(row, "start_time_of_day", 0, 0, _SECONDS_PER_DAY)
    eod = _parse_int(row, "end_time_of_day", _SECONDS_PER_DAY, 0, _SECONDS_PER_DAY)
    day_of_month = "start_date"
    if unit == "month":
        day_of_month = _parse_choice(row, "day_of_month", "start_date", DAY_OF_MONTH)
    mon, tue, wed, thu, fri, sat, sun = (_parse_bool(row, name) for name in WEEKDAYS)
    return _Row(
        unit=unit,
        every=every,
        start_date=start_date,
        end_date=end_date,
        end_instant=end_instant,
        sod=sod,
        eod=eod,
        day_of_month=day_of_month,
        weekdays=(mon, tue, wed, thu, fri, sat, sun),
    )


# ------------------------------------------------------------------------ time zone


class _Zone:
    """Local wall time <-> epoch seconds in one time zone (``None`` = process local)."""

    def __init__(self, tz: tzinfo | None) -> None:
        self._tz = tz

    def epoch_of(self, naive: datetime) -> int:
        """Epoch seconds of a naive local wall time (``fold=0``)."""
        if self._tz is None:
            return math.floor(naive.timestamp())
        return (naive.replace(tzinfo=self._tz) - _EPOCH) // _ONE_SECOND

    def epoch(self, day: date, seconds: int) -> int:
        """Epoch seconds of local midnight of ``day`` plus ``seconds`` of wall time."""
        return self.epoch_of(datetime(day.year, day.month, day.day) + timedelta(seconds=seconds))

    def local_date(self, epoch: float) -> date:
        return datetime.fromtimestamp(epoch, self._tz).date()


# ----------------------------------------------------------------------- generators


@dataclass(frozen=True)
class _Range:
    lower: float  # earliest instant to report (inclusive)
    upper: float | None  # latest instant to report (inclusive)
    first_day: date  # earliest local date that can hold a reported run
    last_day: date | None  # latest local date that can hold a reported run
    anchor: date


def _days(rng: _Range) -> Iterator[date]:
    day = rng.first_day
    for _ in range(_DAY_HORIZON):
        if rng.last_day is not None and day > rng.last_day:
            return
        yield day
        if day == date.max:
            return
        day += _ONE_DAY


def _intraday(row: _Row, rng: _Range, zone: _Zone) -> Iterator[list[int]]:
    step = row.every * (60 if row.unit == "minute" else 3600)
    stop = min(row.eod, _SECONDS_PER_DAY)
    if row.sod >= stop:
        return
    for day in _days(rng):
        if not row.weekdays[day.weekday()]:
            continue
        first = row.sod
        behind = rng.lower - zone.epoch(day, 0) - row.sod - _SKIP_SLACK
        if behind > 0:
            first += int(behind // step) * step
        yield [zone.epoch(day, offset) for offset in range(first, stop, step)]


def _daily(row: _Row, rng: _Range, zone: _Zone) -> Iterator[list[int]]:
    for day in _days(rng):
        if row.weekdays[day.weekday()] and (day - rng.anchor).days % row.every == 0:
            yield [zone.epoch(day, row.sod)]


def _weekly(row: _Row, rng: _Range, zone: _Zone) -> Iterator[list[int]]:
    anchor_monday = rng.anchor - timedelta(days=rng.anchor.weekday())
    for day in _days(rng):
        weekday = day.weekday()
        if not row.weekdays[weekday]:
            continue
        weeks = (day - timedelta(days=weekday) - anchor_monday).days // 7
        if weeks % row.every == 0:
            yield [zone.epoch(day, row.sod)]


def _month_day(year: int, month: int, day_of_month: str, anchor_day: int) -> int:
    length = calendar.monthrange(year, month)[1]
    if day_of_month == "first":
        return 1
    if day_of_month == "last":
        return length
    if day_of_month == "15th":
        return 15
    return min(anchor_day, length)


def _dated(row: _Row, rng: _Range, zone: _Zone, dates: Iterator[date]) -> Iterator[list[int]]:
    """One run, at the start time, on each of ``dates`` (ascending) in the range."""
    for run_date in dates:
        if run_date < rng.first_day:
            continue
        if rng.last_day is not None and run_date > rng.last_day:
            return
        yield [zone.epoch(run_date, row.sod)]


def _monthly(row: _Row, rng: _Range, zone: _Zone) -> Iterator[list[int]]:
    return _dated(row, rng, zone, _month_dates(row, rng))


def _month_dates(row: _Row, rng: _Range) -> Iterator[date]:
    first = rng.first_day.year * 12 + rng.first_day.month - 1
    anchor = rng.anchor.year * 12 + rng.anchor.month - 1
    last = min(first + _YEAR_HORIZON * 12, date.max.year * 12 + 11)
    for index in range(first, last + 1):
        if (index - anchor) % row.every:
            continue
        year, month0 = divmod(index, 12)
        month = month0 + 1
        yield date(year, month, _month_day(year, month, row.day_of_month, rng.anchor.day))


def _yearly(row: _Row, rng: _Range, zone: _Zone) -> Iterator[list[int]]:
    return _dated(row, rng, zone, _year_dates(row, rng))


def _year_dates(row: _Row, rng: _Range) -> Iterator[date]:
    month, anchor_day = rng.anchor.month, rng.anchor.day
    first = rng.first_day.year
    last = min(first + _YEAR_HORIZON, date.max.year)
    for year in range(first, last + 1):
        if (year - rng.anchor.year) % row.every:
            continue
        day = anchor_day
        if month == 2 and day == 29 and not calendar.isleap(year):
            day = 28
        yield date(year, month, day)


def _once(row: _Row, rng: _Range, zone: _Zone) -> Iterator[list[int]]:
    if rng.last_day is None or rng.anchor <= rng.last_day:
        yield [zone.epoch(rng.anchor, row.sod)]


# ------------------------------------------------------------------------------ API


def _finite(value: float, name: str) -> float:
    result = float(value)
    if math.isnan(result):
        raise ValueError(f"{name} must be a number, not NaN")
    return result


def _build_range(
    row: _Row, zone: _Zone, start_time: float, end_time: float | None
) -> _Range | None:
    """Combine the row's dates and the caller's instants; ``None`` when nothing can match."""
    try:
        start_day = zone.local_date(start_time)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"start_time {start_time!r} is out of range") from exc
    lower = start_time
    upper = end_time
    if row.start_date is not None:
        lower = max(lower, zone.epoch(row.start_date, 0))
    if row.end_instant is not None:
        end_epoch = zone.epoch_of(row.end_instant)
        upper = end_epoch if upper is None else min(upper, end_epoch)
    elif row.end_date is not None and row.end_date < date.max:
        end_epoch = zone.epoch(row.end_date + _ONE_DAY, 0) - 1
        upper = end_epoch if upper is None else min(upper, end_epoch)
    if upper is not None and upper < lower:
        return None

    first_day = zone.local_date(lower)
    if first_day > date.min:
        first_day -= _ONE_DAY  # a run at sod == 86400 lands on the next midnight
    if row.start_date is not None:
        first_day = max(first_day, row.start_date)

    last_day: date | None = None
    if upper is not None:
        try:
            last_day = zone.local_date(upper)
        except (OverflowError, OSError, ValueError):
            last_day = None
        else:
            last_day = min(last_day, date.max - _ONE_DAY) + _ONE_DAY
    if row.end_date is not None:
        last_day = row.end_date if last_day is None else min(last_day, row.end_date)
    if last_day is not None and last_day < first_day:
        return None
    anchor = row.start_date if row.start_date is not None else start_day
    return _Range(lower=lower, upper=upper, first_day=first_day, last_day=last_day, anchor=anchor)


def upcoming_runs(
    schedule: Mapping[str, Any],
    *,
    start_time: float,
    end_time: float | None = None,
    max_results: int = 100,
    tz: tzinfo | None = None,
) -> list[int]:
    """Return the run times of ``schedule`` in ``[start_time, end_time]``.

    ``schedule`` is a ``task_schedules`` row; see the module docstring for the
    exact semantics.  ``start_time``/``end_time`` are epoch seconds (both
    inclusive, ``end_time=None`` leaves the range open); ``tz`` is the zone the
    schedule is interpreted in (``None`` = the process's local zone).  At most
    ``max_results`` (capped at 1440) ascending epoch seconds are returned.

    Raises :class:`ScheduleError` when the row cannot be interpreted, and
    :class:`ValueError` for a NaN or unrepresentable ``start_time``.
    """
    row = _parse_row(schedule)
    limit = min(int(max_results), MAX_RESULTS_LIMIT)
    start = _finite(start_time, "start_time")
    end = None if end_time is None else _finite(end_time, "end_time")
    if end is not None and math.isinf(end) and end > 0:
        end = None
    if limit < 1 or (end is not None and end < start):
        return []

    if row.unit in ("minute", "hour", "day", "week") and not any(row.weekdays):
        return []
    zone = _Zone(tz)
    try:
        rng = _build_range(row, zone, start, end)
    except ScheduleError:
        raise
    except (ValueError, OverflowError, OSError) as exc:  # a stored date no epoch can hold
        raise ScheduleError(f"a date of the schedule is out of range ({exc})") from None
    if rng is None:
        return []

    if row.unit in ("minute", "hour"):
        batches = _intraday(row, rng, zone)
    elif row.unit == "day":
        batches = _daily(row, rng, zone)
    elif row.unit == "week":
        batches = _weekly(row, rng, zone)
    elif row.unit == "month":
        batches = _monthly(row, rng, zone)
    elif row.unit == "year":
        batches = _yearly(row, rng, zone)
    else:
        batches = _once(row, rng, zone)

    results: list[int] = []
    last: int | None = None
    try:
        for batch in batches:
            for run in sorted(set(batch)):
                if run < rng.lower or (last is not None and run <= last):
                    continue
                if rng.upper is not None and run > rng.upper:
                    continue
                results.append(run)
                last = run
                if len(results) >= limit:
                    return results
    except (OverflowError, OSError):
        # The calendar ran past what datetime / the platform can represent.
        pass
    return results
