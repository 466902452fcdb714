"""Verified writes: a 200 is not proof that a change was applied.

A VergeOS server accepts a write with a field it does not take and drops
that field silently (pyvergeos notes it for several tables). After every
create, update, enable and disable vrgtask compares the object as read back
with what it sent; a field that did not come back as sent ends the command
with exit 1, naming the field. Nothing is retried: the user decides.

Values are compared the way the platform stores them: numbers sent as text
equal the number, ``true``/``1`` equal True, and an object (``settings_args``)
is applied when every key sent comes back with the value sent (the server
may add defaults of its own).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from vrgtask.errors import WriteNotAppliedError

__all__ = ["mismatches", "same_value", "verify_write"]

_MISSING = object()
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "false", "1", "0"}:
        return value.strip().lower() in {"true", "1"}
    return None


def same_value(sent: Any, got: Any) -> bool:
    """Is ``got`` (read back) what ``sent`` asked for?"""
    if got is _MISSING:
        return False
    if isinstance(sent, bool):
        return _truth(got) is sent
    if isinstance(sent, Mapping | list) and isinstance(got, str):
        # An object or list field may come back as its JSON text.
        try:
            got = json.loads(got)
        except ValueError:
            return False
    if isinstance(sent, Mapping):
        if not isinstance(got, Mapping):
            return not sent and got in (None, "", [])
        return all(same_value(v, got.get(k, _MISSING)) for k, v in sent.items())
    if isinstance(sent, list):
        if not isinstance(got, list) or len(got) != len(sent):
            return False
        return all(same_value(a, b) for a, b in zip(sent, got, strict=True))
    if sent is None:
        return got in (None, "")
    if isinstance(sent, int | float):
        number = _number(got)
        return number is not None and number == float(sent)
    if isinstance(sent, str):
        if isinstance(got, str):
            # A date may come back with a time of day ("2026-01-01 00:00:00").
            return got == sent or (bool(_DATE.fullmatch(sent)) and got.startswith(sent + " "))
        number, wanted = _number(got), _number(sent)
        return number is not None and number == wanted
    return bool(sent == got)


def _read(back: Any, name: str) -> Any:
    if isinstance(back, Mapping):
        return back.get(name, _MISSING)
    try:
        if name in back:
            return back.get(name)
    except TypeError:
        pass
    return _MISSING


def mismatches(sent: Mapping[str, Any], back: Any) -> list[tuple[str, Any, Any]]:
    """(field, sent, read back) for every field that did not come back as sent."""
    found = []
    for name, value in sent.items():
        got = _read(back, name)
        if not same_value(value, got):
            found.append((name, value, None if got is _MISSING else got))
    return found


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def verify_write(sent: Mapping[str, Any], back: Any, *, what: str, hint: str) -> None:
    """Raise WriteNotAppliedError (exit 1) naming each field not applied.

    ``what`` names the change ("the update of task 'x' (key 3)"); ``hint`` is
    a command that shows the object as it is.
    """
    wrong = mismatches(sent, back)
    if not wrong:
        return
    names = ", ".join(name for name, _, _ in wrong)
    details = "; ".join(f"{name}: sent {_short(s)}, read back {_short(g)}" for name, s, g in wrong)
    plural = "s" if len(wrong) > 1 else ""
    raise WriteNotAppliedError(
        f"the server accepted {what} but did not apply the field{plural} {names} ({details}); "
        f"nothing was retried (check it with: {hint})"
    )
