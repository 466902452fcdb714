"""The upcoming runs in a ``get_schedule`` answer, whatever its shape.

A schedule's ``get_schedule`` action answers a list of run times; their form
is not documented (epoch seconds or milliseconds, numeric strings, ISO
date-times, or dicts carrying one of those). This module reads them as
epoch seconds for ``vrgtask schedule show``, ``agenda`` and ``status``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from vrgtask.schedtime import WHEN_PATTERN, PointInTime

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = ["ask_upcoming", "raw_text", "run_entries", "run_entry_epoch"]

#: Keys a ``get_schedule`` entry may carry its time under, most specific first.
_TIME_KEYS = (
    "time",
    "timestamp",
    "epoch",
    "start",
    "start_time",
    "run_time",
    "execution_time",
    "next_run",
    "datetime",
    "date",
)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: Epoch seconds end with year 9999 (the last date a schedule can have);
#: larger numbers are milliseconds.
_MILLISECONDS_FROM = 253_402_300_800  # 10000-01-01T00:00:00Z


def _epoch_from_number(number: float) -> int | None:
    if not math.isfinite(number):
        return None
    if abs(number) >= _MILLISECONDS_FROM:
        number /= 1000
    try:
        datetime.fromtimestamp(number, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return int(number)


def _epoch_from_scalar(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _epoch_from_number(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return _epoch_from_number(float(text))
    match = WHEN_PATTERN.fullmatch(text)
    if match is None:
        return None
    try:
        return int(PointInTime().convert(text, None, None))
    except click.BadParameter:
        return None


def run_entry_epoch(entry: Any) -> int | None:
    """The epoch seconds one ``get_schedule`` entry stands for, or None.

    Entries may be epoch numbers (seconds, or milliseconds), numeric
    strings, ISO date-times (local unless they carry an offset), or dicts
    carrying one of those under a time-like key, or as their only number.
    """
    if not isinstance(entry, Mapping):
        return _epoch_from_scalar(entry)
    for key in _TIME_KEYS:
        if key in entry:
            found = _epoch_from_scalar(entry[key])
            if found is not None:
                return found
    numeric = [
        v
        for k, v in entry.items()
        if not str(k).startswith("$")  # a row's $key/$row is not a time
        and not isinstance(v, bool)
        and (isinstance(v, int | float) or (isinstance(v, str) and _NUMBER.fullmatch(v.strip())))
    ]
    if len(numeric) == 1:
        return _epoch_from_scalar(numeric[0])
    return None


def raw_text(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    try:
        return json.dumps(entry, ensure_ascii=False, default=str, sort_keys=True)
    except (TypeError, ValueError):
        return repr(entry)


def run_entries(response: Any) -> list[Any]:
    """The entries of a ``get_schedule`` answer, whatever its shape.

    The SDK returns a list, unwrapping ``{"times": [...]}`` and
    ``{"schedule": [...]}``; a dict whose ``times``/``schedule`` is not a
    list arrives wrapped as ``[dict]``, and is unwrapped here.
    """
    if response is None:
        return []
    items = list(response) if isinstance(response, list | tuple) else [response]
    entries: list[Any] = []
    for item in items:
        inner = None
        if isinstance(item, Mapping):
            inner = next(
                (item[k] for k in ("times", "schedule") if item.get(k) not in (None, "")), None
            )
        if isinstance(inner, list | tuple):
            entries.extend(inner)
        elif inner is not None:
            entries.append(inner)
        else:
            entries.append(item)
    return entries


def ask_upcoming(
    client: VergeClient,
    key: int | str,
    max_results: int,
    start_time: int | None = None,
    end_time: int | None = None,
) -> list[Any]:
    """A schedule's runs from its ``get_schedule`` action (one request), as entries.

    The action goes out in the documented form first (:mod:`vrgtask.actions`).
    """
    from vrgtask.actions import send_action

    params: dict[str, Any] = {"max": max_results}
    if start_time is not None:
        params["start_time"] = start_time
    if end_time is not None:
        params["end_time"] = end_time
    return run_entries(send_action(client, "task_schedules", key, "get_schedule", params))
