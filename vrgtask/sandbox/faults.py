"""Fault injection for the HTTPS sandbox server.

A rule (JSON object) selects requests and says what goes wrong::

    {"method": "GET",            # or null: any method
     "path": "^/api/v4/tasks",   # regex searched in the URL path; null: any
     "query": "action=execute",  # substring of the raw query string; null: any
     "status": 503,              # answer with this status instead of the API
     "body": {"err": "..."},     # with this JSON value (a string is sent as raw text);
                                 #   default {"err": "injected HTTP <status>"}
     "delay": 2.5,               # seconds to wait before answering
     "drop": false,              # close the connection without any response
     "invalid_json": false,      # answer (200, or "status") with a body that is not JSON
     "times": 1}                 # how many matching requests it applies to; null: forever

The first rule that matches a request (in the order they were added) applies
to it. ``status``, ``drop`` and ``invalid_json`` short-circuit: the emulator is
not called, so the state does not change. A rule with only a ``delay`` waits,
then lets the emulator answer.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["INVALID_JSON_BODY", "FaultRule", "FaultSet"]

INVALID_JSON_BODY = b'{"this is": not JSON'

#: The longest a rule may hold a request (an hour), and how many rules may be active.
MAX_DELAY = 3600
MAX_RULES = 1000

_KEYS = frozenset(
    {"method", "path", "query", "status", "body", "delay", "drop", "invalid_json", "times"}
)


@dataclass
class FaultRule:
    method: str | None = None
    path: str | None = None
    query: str | None = None
    status: int | None = None
    body: Any = None
    has_body: bool = False
    delay: float = 0.0
    drop: bool = False
    invalid_json: bool = False
    times: int | None = None

    @property
    def short_circuits(self) -> bool:
        """Does the rule answer instead of the emulator?"""
        return self.drop or self.invalid_json or self.status is not None

    def response(self) -> tuple[int, bytes]:
        """Status and body of a short-circuiting (not dropping) rule."""
        if self.invalid_json:
            return self.status or 200, INVALID_JSON_BODY
        status = self.status or 200
        if not self.has_body:
            return status, json.dumps({"err": f"injected HTTP {status}"}).encode()
        if isinstance(self.body, str):
            return status, self.body.encode()
        return status, json.dumps(self.body).encode()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "delay": self.delay,
            "drop": self.drop,
            "invalid_json": self.invalid_json,
            "times": self.times,
        }
        if self.has_body:
            out["body"] = self.body
        return out


def _optional_str(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"fault rule: '{name}' must be a string or null")
    return value


def _flag(raw: Mapping[str, Any], name: str) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        raise ValueError(f"fault rule: '{name}' must be true or false")
    return value


def parse_rule(raw: Any) -> FaultRule:
    """Validate a rule given as JSON. Raises ValueError with a readable message."""
    if not isinstance(raw, Mapping):
        raise ValueError("a fault rule must be a JSON object")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ValueError(f"fault rule: unknown key(s) {', '.join(unknown)}")
    method = _optional_str(raw, "method")
    path = _optional_str(raw, "path")
    if path is not None:
        try:
            re.compile(path)
        except re.error as exc:
            raise ValueError(f"fault rule: invalid 'path' regex: {exc}") from None
    status = raw.get("status")
    if status is not None and (
        not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
    ):
        raise ValueError("fault rule: 'status' must be an HTTP status (100-599) or null")
    delay = raw.get("delay", 0) or 0
    if (
        not isinstance(delay, int | float)
        or isinstance(delay, bool)
        or not math.isfinite(delay)
        or not 0 <= delay <= MAX_DELAY
    ):
        raise ValueError(f"fault rule: 'delay' must be a number of seconds 0..{MAX_DELAY}")
    times = raw.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ValueError("fault rule: 'times' must be an integer >= 1 or null")
    rule = FaultRule(
        method=method.upper() if method else None,
        path=path,
        query=_optional_str(raw, "query"),
        status=status,
        body=raw.get("body"),
        has_body="body" in raw,
        delay=float(delay),
        drop=_flag(raw, "drop"),
        invalid_json=_flag(raw, "invalid_json"),
        times=times,
    )
    if not (rule.short_circuits or rule.delay):
        raise ValueError("fault rule: give at least one of status, drop, invalid_json, delay")
    return rule


class FaultSet:
    """The active fault rules of a server (thread-safe)."""

    def __init__(self) -> None:
        self._rules: list[tuple[FaultRule, re.Pattern[str] | None]] = []
        self._lock = threading.Lock()

    def add(self, rule: Mapping[str, Any] | FaultRule) -> FaultRule:
        """Validate and append a rule (a JSON-like mapping or a :class:`FaultRule`)."""
        parsed = parse_rule(rule.as_dict()) if isinstance(rule, FaultRule) else parse_rule(rule)
        pattern = re.compile(parsed.path) if parsed.path is not None else None
        with self._lock:
            if len(self._rules) >= MAX_RULES:
                raise ValueError(f"fault rules: at most {MAX_RULES} at a time")
            self._rules.append((parsed, pattern))
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.as_dict() for rule, _pattern in self._rules]

    def match(self, method: str, path: str, query: str) -> FaultRule | None:
        """The rule applying to this request, counting it against ``times``."""
        method = method.upper()
        with self._lock:
            for index, (rule, pattern) in enumerate(self._rules):
                if rule.method is not None and rule.method != method:
                    continue
                if pattern is not None and pattern.search(path) is None:
                    continue
                if rule.query is not None and rule.query not in query:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        del self._rules[index]
                return rule
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)
