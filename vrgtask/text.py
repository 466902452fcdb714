"""Text every output path shares: control characters escaped, values as plain
text, secrets redacted.

A leaf module (standard library only): the error path (:mod:`vrgtask.errors`),
the formatters, the client's request log and the commands all import it, and
it imports none of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "MASK",
    "escape_control",
    "one_line",
    "redact",
    "redact_headers",
    "value_text",
]

#: What a secret setting shows instead of its value.
MASK = "********"

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """Show control characters as escapes so a value cannot drive the terminal.

    Newlines, tabs, ANSI escape sequences (ESC), other C0/C1 controls and the
    bidirectional overrides become ``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``.
    Printable text, including non-ASCII letters, is left alone.
    """
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def value_text(value: Any, *, sort_keys: bool = False) -> str:
    """Raw text of a value for machine-readable output (``--query``, csv).

    None is empty, booleans are ``true``/``false``, lists and objects are
    one line of JSON (``sort_keys`` for a text that compares stably).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys)
    return str(value)


def one_line(text: str) -> str:
    """Make ``text`` safe for one line of a terminal: control characters escaped."""
    return escape_control(text.strip())


def redact(text: str, secrets: Sequence[str]) -> str:
    """Replace every secret (three characters or more) in ``text`` by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


#: Request headers that carry credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def redact_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Headers safe to print: credentials replaced by their scheme only."""
    safe: dict[str, str] = {}
    for name, value in headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if name.lower() in SECRET_HEADERS:
            scheme = text.split(" ", 1)[0] if " " in text else ""
            text = f"{scheme} [redacted]".strip()
        safe[name] = text
    return safe
