"""What the sandbox accepts: body size and depth, JSON depth, brackets, years."""

from __future__ import annotations

import json

import pytest

from vrgtask.sandbox.limits import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_YEAR,
    MIN_YEAR,
    BodyError,
    bracket_depth,
    json_depth_exceeds,
    parse_body,
    year_in_range,
)


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        (1, 0, False),
        ([], 0, True),
        ([], 1, False),
        ({"a": [{"b": []}]}, 4, False),
        ({"a": [{"b": []}]}, 3, True),
        ([1, "x", None, [2]], 2, False),
    ],
)
def test_json_depth_exceeds(value: object, limit: int, expected: bool) -> None:
    assert json_depth_exceeds(value, limit) is expected


def test_json_depth_is_iterative() -> None:
    value: list[object] = []
    for _ in range(100_000):  # far beyond the recursion limit
        value = [value]
    assert json_depth_exceeds(value, MAX_JSON_DEPTH)


def test_parse_body_accepts_the_limit_and_refuses_one_more() -> None:
    assert parse_body(deep(MAX_JSON_DEPTH).encode()) is not None
    with pytest.raises(BodyError, match="nested too deeply") as caught:
        parse_body(deep(MAX_JSON_DEPTH + 1).encode())
    assert caught.value.status == 400


@pytest.mark.parametrize("levels", [1000, 100_000])
def test_parse_body_survives_python_recursion_limits(levels: int) -> None:
    with pytest.raises(BodyError) as caught:
        parse_body(deep(levels).encode())
    assert caught.value.status == 400


@pytest.mark.parametrize("body", [b"{oops", b'{"x": NaN}', b'{"x": -Infinity}', b"\xff\xfe"])
def test_parse_body_refuses_what_is_not_json(body: bytes) -> None:
    with pytest.raises(BodyError, match="Invalid JSON") as caught:
        parse_body(body)
    assert caught.value.status == 400


def test_parse_body_size_limit_is_413() -> None:
    at_limit = json.dumps("x" * (MAX_BODY_BYTES - 2)).encode()
    assert len(at_limit) == MAX_BODY_BYTES
    assert parse_body(at_limit) == "x" * (MAX_BODY_BYTES - 2)
    with pytest.raises(BodyError, match="too large") as caught:
        parse_body(at_limit + b" ")
    assert caught.value.status == 413


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("name", 0), ("a[b]", 1), ("count(x[y(z)])", 3), ("((", 2), (")(", 0)],
)
def test_bracket_depth(text: str, expected: int) -> None:
    assert bracket_depth(text) == expected


def test_year_range() -> None:
    assert year_in_range(MIN_YEAR)
    assert year_in_range(MAX_YEAR)
    assert not year_in_range(MIN_YEAR - 1)
    assert not year_in_range(MAX_YEAR + 1)
    assert not year_in_range(1)
    assert not year_in_range(9999)
