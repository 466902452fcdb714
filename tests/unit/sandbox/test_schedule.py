"""Tests for vrgtask.sandbox.schedule (the sandbox's ``get_schedule`` computation).

Every expected value below was worked out by hand from the calendar (2026-01-01
is a Thursday, 2026-01-02 a Friday, 2024 and 2028 are leap years, Europe/Berlin
switches to summer time on 2026-03-29 and back on 2026-10-25) and is written as
a literal datetime; nothing is derived by calling the code under test.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from vrgtask.sandbox.schedule import (
    DAY_OF_MONTH,
    REPEAT_EVERY,
    WEEKDAYS,
    ScheduleError,
    upcoming_runs,
)

UTC = timezone.utc
EST = timezone(timedelta(hours=-5))


def at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    tz: tzinfo = UTC,
) -> int:
    """Epoch seconds of a wall-clock time written out by hand."""
    return int(datetime(year, month, day, hour, minute, second, tzinfo=tz).timestamp())


def row(repeat_every: str, **overrides: Any) -> dict[str, Any]:
    """A task_schedules row with the VergeOS defaults plus ``overrides``."""
    base: dict[str, Any] = {
        "repeat_every": repeat_every,
        "repeat_iteration": 1,
        "start_date": "",
        "end_date": "",
        "start_time_of_day": 0,
        "end_time_of_day": 86400,
        "day_of_month": "start_date",
        "enabled": True,
    }
    base.update(dict.fromkeys(WEEKDAYS, True))
    base.update(overrides)
    return base


def only(*days: str) -> dict[str, bool]:
    """Weekday flags with only ``days`` active."""
    return {name: name in days for name in WEEKDAYS}


def runs(schedule: dict[str, Any], start: float, **kwargs: Any) -> list[int]:
    kwargs.setdefault("tz", UTC)
    return upcoming_runs(schedule, start_time=start, **kwargs)


# ----------------------------------------------------------------------------- constants


def test_exported_constants() -> None:
    assert REPEAT_EVERY == ("minute", "hour", "day", "week", "month", "year", "never")
    assert DAY_OF_MONTH == ("first", "last", "15th", "start_date")
    assert WEEKDAYS == (
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    )
    assert issubclass(ScheduleError, ValueError)


# -------------------------------------------------------------------------------- minute


def test_minute_window_end_is_exclusive_and_restarts_next_day() -> None:
    sched = row("minute", repeat_iteration=15, start_time_of_day=9 * 3600, end_time_of_day=36000)
    assert runs(sched, at(2026, 3, 2), max_results=6) == [
        at(2026, 3, 2, 9, 0),
        at(2026, 3, 2, 9, 15),
        at(2026, 3, 2, 9, 30),
        at(2026, 3, 2, 9, 45),
        at(2026, 3, 3, 9, 0),
        at(2026, 3, 3, 9, 15),
    ]


def test_minute_first_run_computed_from_start_time_mid_window() -> None:
    sched = row("minute", repeat_iteration=15, start_time_of_day=9 * 3600, end_time_of_day=36000)
    assert runs(sched, at(2026, 3, 2, 9, 20), max_results=3) == [
        at(2026, 3, 2, 9, 30),
        at(2026, 3, 2, 9, 45),
        at(2026, 3, 3, 9, 0),
    ]


def test_minute_counting_restarts_at_start_of_window_each_day() -> None:
    # every 7 minutes in [00:00, 00:30): 0, 7, 14, 21, 28 - then 00:00 again, not 00:35
    sched = row("minute", repeat_iteration=7, end_time_of_day=1800)
    assert runs(sched, at(2026, 1, 1), max_results=7) == [
        at(2026, 1, 1, 0, 0),
        at(2026, 1, 1, 0, 7),
        at(2026, 1, 1, 0, 14),
        at(2026, 1, 1, 0, 21),
        at(2026, 1, 1, 0, 28),
        at(2026, 1, 2, 0, 0),
        at(2026, 1, 2, 0, 7),
    ]


def test_minute_runs_up_to_end_of_full_day_then_next_day() -> None:
    sched = row("minute", repeat_iteration=20)
    assert runs(sched, at(2026, 1, 1, 23, 1), max_results=3) == [
        at(2026, 1, 1, 23, 20),
        at(2026, 1, 1, 23, 40),
        at(2026, 1, 2, 0, 0),
    ]


def test_minute_max_results_1440_is_honoured_and_fast() -> None:
    sched = row("minute", **only("sunday"))  # start on a Monday: six idle days first
    began = time.perf_counter()
    result = runs(sched, at(2026, 1, 5, 12, 0), max_results=1440)
    elapsed = time.perf_counter() - began
    assert len(result) == 1440
    assert result[0] == at(2026, 1, 11, 0, 0)
    assert result[-1] == at(2026, 1, 11, 23, 59)
    assert elapsed < 0.25


# ---------------------------------------------------------------------------------- hour


def test_hourly_first_run_is_next_full_hour() -> None:
    assert runs(row("hour"), at(2026, 1, 1, 10, 30), max_results=3) == [
        at(2026, 1, 1, 11),
        at(2026, 1, 1, 12),
        at(2026, 1, 1, 13),
    ]


def test_hour_iteration_restarts_each_day_at_start_time_of_day() -> None:
    sched = row("hour", repeat_iteration=5, start_time_of_day=3600)
    assert runs(sched, at(2026, 1, 1), max_results=7) == [
        at(2026, 1, 1, 1),
        at(2026, 1, 1, 6),
        at(2026, 1, 1, 11),
        at(2026, 1, 1, 16),
        at(2026, 1, 1, 21),
        at(2026, 1, 2, 1),
        at(2026, 1, 2, 6),
    ]


def test_hour_window_excludes_end_of_window() -> None:
    sched = row("hour", repeat_iteration=2, start_time_of_day=8 * 3600, end_time_of_day=12 * 3600)
    assert runs(sched, at(2026, 1, 1), max_results=5) == [
        at(2026, 1, 1, 8),
        at(2026, 1, 1, 10),
        at(2026, 1, 2, 8),
        at(2026, 1, 2, 10),
        at(2026, 1, 3, 8),
    ]


@pytest.mark.parametrize(
    ("unit", "sod", "eod"),
    [
        ("hour", 12 * 3600, 12 * 3600),
        ("hour", 13 * 3600, 12 * 3600),
        ("minute", 86400, 86400),
    ],
)
def test_empty_intraday_window_gives_no_runs(unit: str, sod: int, eod: int) -> None:
    sched = row(unit, start_time_of_day=sod, end_time_of_day=eod)
    assert runs(sched, at(2026, 1, 1)) == []


def test_start_time_exactly_on_a_run_is_included() -> None:
    assert runs(row("hour"), at(2026, 1, 1, 10), max_results=2) == [
        at(2026, 1, 1, 10),
        at(2026, 1, 1, 11),
    ]


def test_start_time_a_fraction_after_a_run_excludes_it() -> None:
    assert runs(row("hour"), at(2026, 1, 1, 10) + 0.5, max_results=1) == [at(2026, 1, 1, 11)]


def test_start_date_in_future_delays_first_run() -> None:
    sched = row("hour", repeat_iteration=6, start_date="2026-02-01")
    assert runs(sched, at(2026, 1, 1), max_results=2) == [
        at(2026, 2, 1, 0),
        at(2026, 2, 1, 6),
    ]


# ----------------------------------------------------------------------------------- day


def test_daily_at_two_am_skips_todays_past_run() -> None:
    sched = row("day", start_date="2026-01-01", start_time_of_day=7200)
    assert runs(sched, at(2026, 1, 1, 3), max_results=3) == [
        at(2026, 1, 2, 2),
        at(2026, 1, 3, 2),
        at(2026, 1, 4, 2),
    ]


def test_every_third_day_counts_from_start_date() -> None:
    sched = row("day", repeat_iteration=3, start_date="2026-01-01")
    assert runs(sched, at(2026, 1, 5), max_results=3) == [
        at(2026, 1, 7),
        at(2026, 1, 10),
        at(2026, 1, 13),
    ]


def test_every_second_day_without_start_date_anchors_on_start_time_date() -> None:
    sched = row("day", repeat_iteration=2, start_time_of_day=6 * 3600)
    # Jan 5 06:00 is an anchor run but lies before start_time
    assert runs(sched, at(2026, 1, 5, 12), max_results=3) == [
        at(2026, 1, 7, 6),
        at(2026, 1, 9, 6),
        at(2026, 1, 11, 6),
    ]


def test_weekday_only_daily_schedule_starting_friday_skips_weekend() -> None:
    sched = row(
        "day",
        start_date="2026-01-02",
        start_time_of_day=8 * 3600,
        **only("monday", "tuesday", "wednesday", "thursday", "friday"),
    )
    assert runs(sched, at(2026, 1, 2), max_results=5) == [
        at(2026, 1, 2, 8),  # Friday
        at(2026, 1, 5, 8),  # Monday
        at(2026, 1, 6, 8),
        at(2026, 1, 7, 8),
        at(2026, 1, 8, 8),
    ]


def test_every_second_day_with_weekday_filter_needs_both_conditions() -> None:
    # anchor Thu Jan 1: candidate days 1(Thu) 3(Sat) 5(Mon) 7(Wed) 9(Fri) 11(Sun) 13(Tue)
    sched = row("day", repeat_iteration=2, start_date="2026-01-01", **only("monday", "friday"))
    assert runs(sched, at(2026, 1, 1), max_results=3) == [
        at(2026, 1, 5),
        at(2026, 1, 9),
        at(2026, 1, 19),
    ]


# ---------------------------------------------------------------------------------- week


def test_weekly_on_monday_and_thursday() -> None:
    sched = row("week", start_time_of_day=3 * 3600, **only("monday", "thursday"))
    assert runs(sched, at(2026, 1, 1), max_results=4) == [
        at(2026, 1, 1, 3),  # Thursday
        at(2026, 1, 5, 3),  # Monday
        at(2026, 1, 8, 3),
        at(2026, 1, 12, 3),
    ]


def test_every_second_week_counts_from_monday_of_start_date_week() -> None:
    # start Wed Jan 7 (week of Mon Jan 5): weeks of Jan 5, Jan 19, Feb 2 are active
    sched = row("week", repeat_iteration=2, start_date="2026-01-07", **only("monday", "friday"))
    assert runs(sched, at(2026, 1, 1), max_results=5) == [
        at(2026, 1, 9),  # Mon Jan 5 is before start_date
        at(2026, 1, 19),
        at(2026, 1, 23),
        at(2026, 2, 2),
        at(2026, 2, 6),
    ]


def test_every_third_week_counts_from_start_date_not_from_start_time() -> None:
    # start Thu Jan 1 2026 (week of Mon Dec 29): active weeks Dec 29, Jan 19, Feb 9, Mar 2
    sched = row("week", repeat_iteration=3, start_date="2026-01-01", **only("monday"))
    assert runs(sched, at(2026, 1, 12), max_results=3) == [
        at(2026, 1, 19),
        at(2026, 2, 9),
        at(2026, 3, 2),
    ]


@pytest.mark.parametrize("unit", ["minute", "hour", "day", "week"])
def test_all_weekdays_false_gives_no_runs(unit: str) -> None:
    assert runs(row(unit, **only()), at(2026, 1, 1)) == []


# --------------------------------------------------------------------------------- month


def test_monthly_first_skips_month_before_start_date() -> None:
    sched = row("month", day_of_month="first", start_date="2026-01-15", start_time_of_day=7200)
    assert runs(sched, at(2026, 1, 1), max_results=3) == [
        at(2026, 2, 1, 2),
        at(2026, 3, 1, 2),
        at(2026, 4, 1, 2),
    ]


def test_monthly_last_day_of_month() -> None:
    sched = row("month", day_of_month="last", start_date="2026-01-01")
    assert runs(sched, at(2026, 1, 1), max_results=4) == [
        at(2026, 1, 31),
        at(2026, 2, 28),
        at(2026, 3, 31),
        at(2026, 4, 30),
    ]


def test_monthly_last_day_in_leap_february() -> None:
    sched = row("month", day_of_month="last", start_date="2028-01-01")
    assert runs(sched, at(2028, 2, 1), max_results=2) == [at(2028, 2, 29), at(2028, 3, 31)]


def test_monthly_15th_every_second_month() -> None:
    sched = row("month", day_of_month="15th", repeat_iteration=2, start_date="2026-01-20")
    assert runs(sched, at(2026, 1, 1), max_results=3) == [
        at(2026, 3, 15),  # Jan 15 precedes start_date, Feb is off
        at(2026, 5, 15),
        at(2026, 7, 15),
    ]


def test_monthly_start_date_31_is_clamped_to_month_length() -> None:
    sched = row("month", day_of_month="start_date", start_date="2026-01-31", start_time_of_day=60)
    assert runs(sched, at(2026, 1, 1), max_results=5) == [
        at(2026, 1, 31, 0, 1),
        at(2026, 2, 28, 0, 1),
        at(2026, 3, 31, 0, 1),
        at(2026, 4, 30, 0, 1),
        at(2026, 5, 31, 0, 1),
    ]


def test_monthly_start_date_30_in_leap_february() -> None:
    sched = row("month", day_of_month="start_date", start_date="2028-01-30")
    assert runs(sched, at(2028, 1, 1), max_results=3) == [
        at(2028, 1, 30),
        at(2028, 2, 29),
        at(2028, 3, 30),
    ]


def test_every_third_month_counts_from_start_date_month() -> None:
    # anchor January: active months Jan, Apr, Jul, Oct; the range starts mid-March
    sched = row("month", repeat_iteration=3, start_date="2026-01-10")
    assert runs(sched, at(2026, 3, 15), max_results=3) == [
        at(2026, 4, 10),
        at(2026, 7, 10),
        at(2026, 10, 10),
    ]


def test_monthly_every_third_month_without_start_date_and_ignoring_weekdays() -> None:
    # anchor = May 10 (date of start_time); May 10 00:00 is before start_time
    sched = row("month", repeat_iteration=3, **only())
    assert runs(sched, at(2026, 5, 10, 12), max_results=3) == [
        at(2026, 8, 10),
        at(2026, 11, 10),
        at(2027, 2, 10),
    ]


# ---------------------------------------------------------------------------------- year


def test_yearly_on_start_date() -> None:
    sched = row("year", start_date="2026-03-10", start_time_of_day=3600, **only())
    assert runs(sched, at(2026, 1, 1), max_results=3) == [
        at(2026, 3, 10, 1),
        at(2027, 3, 10, 1),
        at(2028, 3, 10, 1),
    ]


def test_every_second_year_counts_from_anchor_year() -> None:
    sched = row("year", repeat_iteration=2, start_date="2021-06-01")
    assert runs(sched, at(2025, 1, 1), max_results=3) == [
        at(2025, 6, 1),
        at(2027, 6, 1),
        at(2029, 6, 1),
    ]


def test_yearly_leap_day_anchor_falls_back_to_feb_28() -> None:
    sched = row("year", start_date="2024-02-29")
    assert runs(sched, at(2024, 1, 1), max_results=5) == [
        at(2024, 2, 29),
        at(2025, 2, 28),
        at(2026, 2, 28),
        at(2027, 2, 28),
        at(2028, 2, 29),
    ]


# --------------------------------------------------------------------------------- never


def test_never_in_future_runs_once() -> None:
    sched = row("never", start_date="2026-07-04", start_time_of_day=12 * 3600)
    assert runs(sched, at(2026, 1, 1)) == [at(2026, 7, 4, 12)]


def test_never_in_past_gives_nothing() -> None:
    sched = row("never", start_date="2025-07-04", start_time_of_day=12 * 3600)
    assert runs(sched, at(2026, 1, 1)) == []


def test_never_after_end_time_gives_nothing() -> None:
    sched = row("never", start_date="2026-07-04", start_time_of_day=12 * 3600)
    assert runs(sched, at(2026, 1, 1), end_time=at(2026, 7, 4, 11, 59, 59)) == []


def test_never_without_start_date_runs_on_start_time_date() -> None:
    sched = row("never", start_time_of_day=18 * 3600)
    assert runs(sched, at(2026, 4, 2, 9)) == [at(2026, 4, 2, 18)]


# ----------------------------------------------------------------------------- bounds


def test_end_date_only_is_inclusive_of_whole_day() -> None:
    sched = row("hour", repeat_iteration=6, end_date="2026-01-02")
    assert runs(sched, at(2026, 1, 2)) == [
        at(2026, 1, 2, 0),
        at(2026, 1, 2, 6),
        at(2026, 1, 2, 12),
        at(2026, 1, 2, 18),
    ]


@pytest.mark.parametrize(
    ("end_date", "expected_hours"),
    [("2026-01-02 12:00:00", [0, 6, 12]), ("2026-01-02 11:59:59", [0, 6])],
)
def test_end_date_with_time_is_inclusive_up_to_that_instant(
    end_date: str, expected_hours: list[int]
) -> None:
    sched = row("hour", repeat_iteration=6, end_date=end_date)
    assert runs(sched, at(2026, 1, 2)) == [at(2026, 1, 2, h) for h in expected_hours]


def test_end_time_is_inclusive() -> None:
    sched = row("day", start_time_of_day=7200)
    assert runs(sched, at(2026, 1, 1), end_time=at(2026, 1, 3, 2)) == [
        at(2026, 1, 1, 2),
        at(2026, 1, 2, 2),
        at(2026, 1, 3, 2),
    ]


@pytest.mark.parametrize(
    ("start_date", "expected"),
    [
        # the run of Jan 4 at 24:00 is the instant Jan 5 00:00 (no start bound)
        ("", [at(2026, 1, 5), at(2026, 1, 6)]),
        # with start_date Jan 5, Jan 4's run does not exist; Jan 5's is at Jan 6 00:00
        ("2026-01-05", [at(2026, 1, 6), at(2026, 1, 7)]),
    ],
)
def test_daily_start_time_of_day_86400_is_next_midnight(
    start_date: str, expected: list[int]
) -> None:
    sched = row("day", start_time_of_day=86400, start_date=start_date)
    assert runs(sched, at(2026, 1, 5), max_results=2) == expected


def test_end_time_before_start_time_gives_nothing() -> None:
    assert runs(row("hour"), at(2026, 1, 2), end_time=at(2026, 1, 1)) == []


@pytest.mark.parametrize(("requested", "expected_len"), [(1, 1), (5, 5), (5000, 1440)])
def test_max_results_is_honoured_and_capped(requested: int, expected_len: int) -> None:
    result = runs(row("minute"), at(2026, 1, 1), max_results=requested)
    assert len(result) == expected_len
    assert result[0] == at(2026, 1, 1)


def test_missing_columns_take_vergeos_defaults() -> None:
    assert runs({"repeat_every": "day"}, at(2026, 1, 1, 0, 0, 1), max_results=2) == [
        at(2026, 1, 2),
        at(2026, 1, 3),
    ]


# ------------------------------------------------------------------------------ zones


def test_fixed_offset_zone_uses_local_date_and_time() -> None:
    # 2026-01-02 03:00 UTC is 2026-01-01 22:00 at UTC-5: the anchor is Jan 1 (local)
    sched = row("day", repeat_iteration=2, start_time_of_day=23 * 3600)
    assert upcoming_runs(sched, start_time=at(2026, 1, 2, 3), max_results=2, tz=EST) == [
        at(2026, 1, 2, 4),  # Jan 1 23:00 local
        at(2026, 1, 4, 4),  # Jan 3 23:00 local
    ]


@pytest.fixture
def berlin() -> ZoneInfo:
    try:
        return ZoneInfo("Europe/Berlin")
    except (ZoneInfoNotFoundError, OSError, ValueError):  # no tz database on this machine
        pytest.skip("zoneinfo data for Europe/Berlin is not available")


def test_berlin_hourly_across_spring_forward_reports_instant_once(berlin: ZoneInfo) -> None:
    # 2026-03-29 02:00 CET -> 03:00 CEST: the nonexistent 02:00 maps with +01:00
    # and is the same instant as 03:00 CEST, which is reported only once
    hourly = upcoming_runs(row("hour"), start_time=at(2026, 3, 28, 23), max_results=4, tz=berlin)
    assert hourly == [
        at(2026, 3, 28, 23),  # 00:00 CET
        at(2026, 3, 29, 0),  # 01:00 CET
        at(2026, 3, 29, 1),  # 02:00 (nonexistent) == 03:00 CEST
        at(2026, 3, 29, 2),  # 04:00 CEST
    ]


def test_berlin_spring_forward_runs_are_sorted_by_instant(berlin: ZoneInfo) -> None:
    # every 25 minutes from 00:00 local; from 01:30 CET (00:30 UTC) on:
    # 01:40 CET, 02:05/02:30/02:55 (nonexistent, +01:00), 03:20/03:45/04:10 CEST
    sched = row("minute", repeat_iteration=25)
    assert upcoming_runs(sched, start_time=at(2026, 3, 29, 0, 30), max_results=7, tz=berlin) == [
        at(2026, 3, 29, 0, 40),  # 01:40 CET
        at(2026, 3, 29, 1, 5),  # 02:05 nonexistent
        at(2026, 3, 29, 1, 20),  # 03:20 CEST
        at(2026, 3, 29, 1, 30),  # 02:30 nonexistent
        at(2026, 3, 29, 1, 45),  # 03:45 CEST
        at(2026, 3, 29, 1, 55),  # 02:55 nonexistent
        at(2026, 3, 29, 2, 10),  # 04:10 CEST
    ]


def test_berlin_fall_back_day_late_start_keeps_wall_clock_runs(berlin: ZoneInfo) -> None:
    # 2026-10-25 has 25 hours; from 20:00 CET (19:00 UTC) the hourly runs are
    # 20:00 and 21:00 CET, although 21 hours have elapsed since local midnight
    hourly = upcoming_runs(row("hour"), start_time=at(2026, 10, 25, 19), max_results=2, tz=berlin)
    assert hourly == [at(2026, 10, 25, 19), at(2026, 10, 25, 20)]


def test_berlin_daily_keeps_wall_clock_time_across_fall_back(berlin: ZoneInfo) -> None:
    daily = upcoming_runs(
        row("day", start_time_of_day=12 * 3600),
        start_time=at(2026, 10, 24),
        max_results=3,
        tz=berlin,
    )
    assert daily == [at(2026, 10, 24, 10), at(2026, 10, 25, 11), at(2026, 10, 26, 11)]


@pytest.fixture
def process_zone_utc_plus_2() -> Iterator[None]:
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset() is not available on this platform")
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "XYZ-2"  # POSIX: a fixed zone two hours east of UTC
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.mark.usefixtures("process_zone_utc_plus_2")
def test_tz_none_uses_process_local_zone() -> None:
    sched = row("day", start_time_of_day=2 * 3600)
    assert upcoming_runs(sched, start_time=at(2026, 1, 1, 0, 30), max_results=2) == [
        at(2026, 1, 2, 0),  # Jan 2 02:00 at UTC+2 (Jan 1 02:00 local is 00:00 UTC, past)
        at(2026, 1, 3, 0),
    ]


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "overrides",
    [
        {"repeat_every": "fortnight"},
        {"repeat_every": 3},
        {"repeat_iteration": 0},
        {"repeat_iteration": "two"},
        {"start_date": "2026-13-01"},
        {"start_date": "01/02/2026"},
        {"end_date": "2026-01-02 25:00:00"},
        {"start_time_of_day": 90000},
        {"end_time_of_day": -1},
        {"monday": "maybe"},
    ],
)
def test_uninterpretable_row_raises_schedule_error(overrides: dict[str, Any]) -> None:
    sched = row("day")
    sched.update(overrides)
    with pytest.raises(ScheduleError):
        runs(sched, at(2026, 1, 1))


def test_bad_day_of_month_raises_for_monthly_schedule() -> None:
    with pytest.raises(ScheduleError, match="day_of_month"):
        runs(row("month", day_of_month="second"), at(2026, 1, 1))
