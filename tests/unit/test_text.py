"""vrgtask.text: the one home of value-to-text, escaping and redaction."""

from __future__ import annotations

import ast
from pathlib import Path

import vrgtask.text
from vrgtask.text import escape_control, one_line, redact, redact_headers, value_text

PACKAGE = Path(vrgtask.text.__file__).parent


def _vrgtask_imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vrgtask")
    }


def test_text_is_a_leaf_and_errors_does_not_import_formatters() -> None:
    assert _vrgtask_imports(PACKAGE / "text.py") == set()
    assert not any(
        m.startswith("vrgtask.formatters") for m in _vrgtask_imports(PACKAGE / "errors.py")
    )


def test_value_text() -> None:
    assert value_text(None) == ""
    assert value_text(True) == "true"
    assert value_text({"b": 1, "a": "é"}) == '{"b": 1, "a": "é"}'
    assert value_text({"b": 1, "a": 2}, sort_keys=True) == '{"a": 2, "b": 1}'
    assert value_text(1.5) == "1.5"


def test_escape_and_one_line() -> None:
    assert escape_control("a\nb\x1b[31m\u202e") == "a\\nb\\x1b[31m\\u202e"
    assert one_line("  x\ty ") == "x\\ty"


def test_redaction() -> None:
    assert redact("token abcdef and abc and ab", ["abcdef", "abc", "ab"]) == (
        "token *** and *** and ab"
    )
    assert redact_headers({"Authorization": "Bearer s3cret", "Accept": "x"}) == {
        "Authorization": "Bearer [redacted]",
        "Accept": "x",
    }
