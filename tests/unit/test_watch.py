"""``--watch``'s loop: redraw in place, back off when the server says 429."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture

from vrgtask.commands import _watch
from vrgtask.commands._watch import WATCH_THROTTLED, WATCH_THROTTLED_MAX, watch_loop


class Refused(Exception):
    def __init__(self, status_code: int, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.response = MagicMock(headers={"Retry-After": retry_after} if retry_after else {})


def rounds(*outcomes: str | BaseException) -> Callable[[], None]:
    """A draw() that prints each text outcome or raises each exception in turn."""
    pending = list(outcomes)

    def draw() -> None:
        outcome = pending.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        print(outcome)

    return draw


@pytest.fixture
def sleeps(mocker: MockerFixture) -> list[float]:
    """The waits between rounds; the watch is stopped (Ctrl-C) after six."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) >= 6:
            raise KeyboardInterrupt

    mocker.patch("vrgtask.commands._watch.time.sleep", side_effect=sleep)
    return waits


def test_refused_rounds_back_off_keep_the_last_frame_and_recover(
    sleeps: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    draw = rounds("frame A", Refused(429), Refused(429), "frame B", Refused(429), "frame C")
    assert watch_loop("vrgtask status", 5, draw) == 0
    assert sleeps == [5, WATCH_THROTTLED, WATCH_THROTTLED * 2, 5, WATCH_THROTTLED, 5]
    frames = capsys.readouterr().out.split(_watch.CLEAR)[1:]
    assert len(frames) == 6
    expected = [
        ("frame A", None),
        ("frame A", "next refresh in 30s"),
        ("frame A", "next refresh in 60s"),
        ("frame B", None),
        ("frame B", "next refresh in 30s"),
        ("frame C", None),
    ]
    for frame, (shown, note) in zip(frames, expected, strict=True):
        assert shown in frame
        assert ("HTTP 429" in frame) is (note is not None)
        assert note is None or note in frame


def test_the_back_off_is_bounded_and_honours_retry_after(sleeps: list[float]) -> None:
    draw = rounds(*[Refused(429)] * 4, Refused(429, retry_after="900"), Refused(429))
    watch_loop("vrgtask agenda", 5, draw)
    assert sleeps[:4] == [30, 60, 120, 240]
    assert sleeps[4] == 900  # the server asked for longer than the back-off
    assert sleeps[5] == WATCH_THROTTLED_MAX


def test_a_long_interval_is_never_shortened_by_the_back_off(sleeps: list[float]) -> None:
    watch_loop("vrgtask status", 120, rounds(*[Refused(429)] * 6))
    assert sleeps == [120, 240, 480, 600, 600, 600]


@pytest.mark.parametrize("error", [Refused(500), Refused(401), ValueError("boom")])
def test_other_failures_end_the_watch_through_the_error_path(
    sleeps: list[float], error: Exception
) -> None:
    with pytest.raises(type(error)):
        watch_loop("vrgtask status", 5, rounds("frame A", error))
    assert sleeps == [5]


def test_an_sdk_api_error_429_is_a_refused_round(sleeps: list[float]) -> None:
    from pyvergeos.exceptions import APIError

    error: Any = APIError("Too many requests", status_code=429, response_body={})
    watch_loop("vrgtask status", 5, rounds("frame A", error, "frame B", *["x"] * 3))
    assert sleeps == [5, WATCH_THROTTLED, 5, 5, 5, 5]
