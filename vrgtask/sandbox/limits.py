"""How large and how deep the things the sandbox accepts may be.

The sandbox is a test double, but it must survive hostile input: a request
body, a filter or a state file that is too large or nested too deeply is
refused with a clear message instead of exhausting memory or the Python
stack (and, worse, being stored so that every later request fails).

* A request body: at most :data:`MAX_BODY_BYTES` bytes and :data:`MAX_JSON_DEPTH`
  levels of nesting (the body object itself is level 1). Too large is HTTP 413,
  too deep or not JSON is 400.
* A state file: a regular file of at most :data:`MAX_STATE_BYTES` bytes, nested
  at most :data:`MAX_STATE_DEPTH` levels (the rows sit at level 4).
* A filter: at most :data:`MAX_FILTER_DEPTH` levels of parentheses and
  :data:`MAX_FILTER_TERMS` comparisons (see :mod:`vrgtask.sandbox.filters`);
  a ``fields`` list: as many levels of brackets. Deeper is 400.
* Dates: years :data:`MIN_YEAR` to :data:`MAX_YEAR`, so that every epoch
  computed from them (in any time zone) stays representable.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_TERMS",
    "MAX_JSON_DEPTH",
    "MAX_STATE_BYTES",
    "MAX_STATE_DEPTH",
    "MAX_YEAR",
    "MIN_YEAR",
    "ApiError",
    "BodyError",
    "bracket_depth",
    "json_depth_exceeds",
    "parse_body",
    "year_in_range",
]

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 64
#: state (1) > tables (2) > table (3) > row (4) > a column's JSON value (5...).
MAX_STATE_DEPTH = MAX_JSON_DEPTH + 4
MAX_STATE_BYTES = 256 * 1024 * 1024
MAX_FILTER_DEPTH = 32
MAX_FILTER_TERMS = 1000
MIN_YEAR = 1971
MAX_YEAR = 2999


class ApiError(Exception):
    """Answer the request with ``status`` and ``{"err": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyError(ApiError, ValueError):
    """A request body the sandbox refuses; ``status`` is the HTTP answer."""


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Is ``value`` (decoded JSON) nested more than ``limit`` levels deep?

    A scalar has depth 0, ``[]`` and ``{}`` depth 1. Iterative, so it never
    recurses however deep the value; containers only are visited.
    """
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not valid JSON")


def parse_body(body: bytes) -> Any:
    """Decode a request body within the limits. Raises :class:`BodyError`.

    NaN and Infinity are refused (they are not JSON).
    """
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(
            413, f"The request body is too large ({len(body)} bytes; at most {MAX_BODY_BYTES})"
        )
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        value = None
        too_deep = True
    except ValueError:  # includes UnicodeDecodeError
        raise BodyError(400, "Invalid JSON in the request body") from None
    else:
        too_deep = json_depth_exceeds(value, MAX_JSON_DEPTH)
    if too_deep:
        raise BodyError(
            400, f"The request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)"
        )
    return value


def bracket_depth(text: str) -> int:
    """How deeply ``(`` and ``[`` nest in ``text`` (a ``fields`` list, say)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]":
            depth -= 1
    return deepest


def year_in_range(year: int) -> bool:
    """Can a date in ``year`` be stored (its epochs representable everywhere)?"""
    return MIN_YEAR <= year <= MAX_YEAR
