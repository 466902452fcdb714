"""The schedule time types and cell text (vrgtask.schedtime), without a command."""

from __future__ import annotations

import click
import pytest

from vrgtask.schedtime import (
    DaysType,
    PointInTime,
    ScheduleDate,
    TimeOfDay,
    date_of,
    format_days,
    seconds_to_time,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday", "every day"),
        ("Monday, Tuesday, Wednesday, Thursday, Friday", "weekdays"),
        ("Saturday, Sunday", "weekend"),
        ("Monday, Wednesday", "Mon, Wed"),
        ("", "none"),
        (None, ""),
    ],
)
def test_format_days(value: str | None, text: str) -> None:
    assert format_days(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00"), (7200, "02:00"), (86400, "24:00"), (3661, "01:01:01"), (None, "")],
)
def test_seconds_to_time(seconds: int | None, text: str) -> None:
    assert seconds_to_time(seconds) == text


@pytest.mark.parametrize(
    ("value", "seconds"), [("02:30", 9000), (" 24:00 ", 86400), ("0", 0), (3600, 3600)]
)
def test_time_of_day(value: object, seconds: int) -> None:
    assert TimeOfDay().convert(value, None, None) == seconds


@pytest.mark.parametrize("value", ["24:01", "1:5", "86401", "-1", True])
def test_time_of_day_refuses(value: object) -> None:
    with pytest.raises(click.BadParameter):
        TimeOfDay().convert(value, None, None)


def test_schedule_date_bounds() -> None:
    assert ScheduleDate().convert("2026-02-28", None, None) == "2026-02-28"
    for bad in ("1970-12-31", "3000-01-01", "2026-02-29"):
        with pytest.raises(click.BadParameter):
            ScheduleDate().convert(bad, None, None)


def test_days_type_gives_seven_flags() -> None:
    flags = DaysType().convert("weekend,mon", None, None)
    assert [day for day, on in flags.items() if on] == ["monday", "saturday", "sunday"]
    assert len(flags) == 7


def test_point_in_time_with_offset() -> None:
    assert PointInTime().convert("1970-01-02T00:00Z", None, None) == 86400
    assert PointInTime().convert("1970-01-02T01:00+01:00", None, None) == 86400
    with pytest.raises(click.BadParameter):
        PointInTime(bounded=True).convert("1970-01-02", None, None)


def test_date_of_reads_the_start_of_a_stored_value() -> None:
    assert str(date_of("2026-03-01 00:00:00")) == "2026-03-01"
    assert date_of("2026-02-30") is None
    assert date_of("") is None
