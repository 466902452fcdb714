"""Reading the run times of a ``get_schedule`` answer (vrgtask.upcoming)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from vrgtask.upcoming import raw_text, run_entries, run_entry_epoch

FRI_0200_UTC = int(datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc).timestamp())


def test_run_entry_epoch_ignores_booleans_and_ambiguous_dicts() -> None:
    assert run_entry_epoch(False) is None
    assert run_entry_epoch({"a": 1, "b": 2}) is None
    assert run_entry_epoch({"time": "garbage", "at": FRI_0200_UTC}) == FRI_0200_UTC


@pytest.mark.parametrize(
    "entry",
    [
        FRI_0200_UTC,
        FRI_0200_UTC * 1000,
        str(FRI_0200_UTC),
        "2026-11-27T02:00:00Z",
        {"time": FRI_0200_UTC},
        {"only": str(FRI_0200_UTC)},
    ],
)
def test_run_entry_epoch_forms(entry: Any) -> None:
    assert run_entry_epoch(entry) == FRI_0200_UTC


@pytest.mark.parametrize(
    ("answer", "entries"),
    [
        (None, []),
        ([1, 2], [1, 2]),
        ([{"times": [1, 2]}], [1, 2]),
        ([{"schedule": 3}], [3]),
        ({"x": 1}, [{"x": 1}]),
    ],
)
def test_run_entries_unwraps(answer: Any, entries: list[Any]) -> None:
    assert run_entries(answer) == entries


def test_raw_text() -> None:
    assert raw_text("x") == "x"
    assert raw_text({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_a_key_is_never_read_as_a_run_time() -> None:
    """A receipt-like answer ({"$key": "5"}) is not a run in 1970."""
    assert run_entry_epoch({"$key": "5"}) is None
    assert run_entry_epoch({"$row": 5, "at": 1796083200}) == 1796083200
