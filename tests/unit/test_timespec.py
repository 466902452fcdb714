"""WHEN values, durations and --watch intervals (vrgtask.timespec)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click
import pytest

from vrgtask.timespec import (
    Interval,
    When,
    format_local,
    iso_local,
    parse_duration,
    parse_when,
)

#: Monday 2026-11-30 10:15:00 in Berlin (09:15 UTC).
NOW = datetime(2026, 11, 30, 9, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("24h", 86400),
        ("7d", 604800),
        ("2w", 1209600),
        ("90s", 90),
        ("1h30m", 5400),
        ("1d12h", 129600),
        (" 5M ", 300),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["30", "m", "1.5h", "30 m", "-5m", "2026-01-01", "yesterday"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0m", "empty duration"),
        ("0h0m", "empty duration"),
        ("30m1h", "largest first"),
        ("1h1h", "largest first"),
        ("3661d", "too long"),
        ("9999999999999d", "too long"),
    ],
)
def test_bad_durations(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_duration(text)


def test_durations_count_back_or_forward() -> None:
    assert parse_when("24h", now=NOW) == NOW - timedelta(hours=24)
    assert parse_when("2h", now=NOW, future=True) == NOW + timedelta(hours=2)


@pytest.mark.usefixtures("berlin")
def test_dates_and_words_are_local_midnight() -> None:
    now = NOW.astimezone()
    berlin = timezone(timedelta(hours=1))
    assert parse_when("2026-11-01", now=now) == datetime(2026, 11, 1, tzinfo=berlin)
    assert parse_when("today", now=now) == datetime(2026, 11, 30, tzinfo=berlin)
    assert parse_when("yesterday", now=now) == datetime(2026, 11, 29, tzinfo=berlin)
    assert parse_when("Tomorrow", now=now) == datetime(2026, 12, 1, tzinfo=berlin)
    assert parse_when("now", now=now) == now


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-29T22:30", datetime(2026, 11, 29, 21, 30)),
        ("2026-11-29 22:30:15", datetime(2026, 11, 29, 21, 30, 15)),
        ("2026-07-01T12:00", datetime(2026, 7, 1, 10, 0)),  # summer time: +02:00
        ("2026-11-29T22:30Z", datetime(2026, 11, 29, 22, 30)),
        ("2026-11-29T22:30:00+05:30", datetime(2026, 11, 29, 17, 0)),
        ("2026-11-29T22:30:00-0500", datetime(2026, 11, 30, 3, 30)),
        ("2026-11-29T22:30:00.25Z", datetime(2026, 11, 29, 22, 30, 0, 250000)),
    ],
)
def test_date_times(text: str, utc: datetime) -> None:
    moment = parse_when(text, now=NOW)
    assert moment.tzinfo is not None
    assert moment.astimezone(timezone.utc).replace(tzinfo=None) == utc


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("soon", "not a time"),
        ("2026-13-01", "not a valid date-time"),
        ("2026-02-30", "not a valid date-time"),
        ("2026-11-29T25:00", "not a valid date-time"),
        ("2026-11-29T22:30+24:00", "not a valid date-time"),
        ("29/11/2026", "not a time"),
        ("0m", "empty duration"),
    ],
)
def test_bad_when(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_when(text, now=NOW)


def _convert(kind: When, text: str) -> datetime:
    command = click.Command("x", params=[click.Option(["--when"], type=kind)])
    with click.Context(command) as ctx:
        value: datetime = kind.convert(text, command.params[0], ctx)
    return value


def test_when_refuses_the_future_for_a_start() -> None:
    assert _convert(When(), "1h") < datetime.now(timezone.utc)
    with pytest.raises(click.BadParameter, match="in the future"):
        _convert(When(), "2999-01-01")


def test_when_wants_the_future_for_an_end() -> None:
    assert _convert(When(future=True), "1h") > datetime.now(timezone.utc)
    with pytest.raises(click.BadParameter, match="not in the future"):
        _convert(When(future=True), "2020-01-01")
    with pytest.raises(click.BadParameter, match="more than 366 days ahead"):
        _convert(When(future=True, max_ahead=timedelta(days=366)), "367d")


def test_when_names_the_option_in_its_error() -> None:
    from click.testing import CliRunner

    @click.command()
    @click.option("--since", type=When())
    def show(since: datetime | None) -> None:
        click.echo(str(since))

    result = CliRunner().invoke(show, ["--since", "soon"])
    assert result.exit_code == 2
    assert "Invalid value for '--since': 'soon' is not a time" in result.stderr


@pytest.mark.parametrize(("text", "seconds"), [("2", 2.0), ("5", 5.0), ("2.5", 2.5), ("1m", 60.0)])
def test_intervals(text: str, seconds: float) -> None:
    assert Interval(2, 86400).convert(text, None, None) == seconds


@pytest.mark.parametrize("text", ["1", "1.99", "0", "-5", "abc", "nan", "inf", "", "0s", "2d"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(click.BadParameter):
        Interval(2, 86400).convert(text, None, None)


@pytest.mark.usefixtures("berlin")
def test_local_display() -> None:
    epoch = int(datetime(2026, 11, 30, 1, 0, 3, tzinfo=timezone.utc).timestamp())
    assert iso_local(epoch) == "2026-11-30T02:00:03+01:00"
    assert format_local(epoch) == "Mon 2026-11-30 02:00:03"
    assert format_local("2026-11-30T02:00:03+01:00") == "Mon 2026-11-30 02:00:03"
    assert format_local(None) == ""
    assert format_local("garbage") == "garbage"


@pytest.mark.parametrize(
    "argv", [["agenda", "--help"], ["status", "--help"], ["task", "history", "--help"]]
)
def test_help_of_the_daily_commands_imports_nothing_heavy(argv: list[str]) -> None:
    import os
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from vrgtask.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "finally:\n"
        "    heavy = ('pyvergeos', 'requests', 'urllib3', 'tabulate')\n"
        "    print('LOADED=' + ','.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ),
    )
    assert out.stdout.startswith("Usage:"), out.stderr
    assert "Examples:" in out.stdout
    assert "LOADED=\n" in out.stderr
