"""The VergeOS ``filter`` grammar: a parser and a compiled evaluator.

Grammar (what the platform accepts and pyvergeos sends)::

    expr    := term (("and" | "or") term)*        evaluated strictly left to right
    term    := "(" expr ")" | FIELD OP literal
    OP      := eq | ne | gt | ge | lt | le | bw | ew | cs | ct | rx
    literal := 'single-quoted string' | number | true | false | null
    FIELD   := identifier, "$" allowed ("$key")

``and`` and ``or`` have *no* precedence: ``a or b and c`` means
``(a or b) and c``. ``like`` and ``in`` do not exist; the platform answers
them with HTTP 422 ``Invalid argument``, and so does this module (through
:class:`FilterError`).

String literals use backslash escapes: a backslash makes the next character
literal (``\\\\``, ``\\'``, ``\\{``). An *unescaped* ``{`` opens a
nesting-aware ``{...}`` construct which the platform silently removes from
the literal; an unbalanced unescaped ``{`` is an error. ``}`` on its own is an
ordinary character. This is the quirk ``pyvergeos.filters.quote_value``
documents, and the reason an unquoted name can select the wrong row.

Comparisons are typed: strings with strings, numbers with numbers, booleans
with booleans, ``eq null`` tests for null. A reference column (``"vms/5"``)
compared with a number compares its key part, compared with a string the
whole reference. ``bw``/``ew``/``cs`` are case-sensitive, ``ct`` is not,
``rx`` is a POSIX extended regular expression searched anywhere in the value
(``[[:digit:]]`` classes work; PCRE shorthands such as ``\\d`` and inline
flags such as ``(?i)`` silently match nothing, as on the platform; an empty
pattern matches every row).

A filter is parsed and compiled once (:func:`compile_filter`), then the
returned predicate is applied to each row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from vrgtask.sandbox.limits import MAX_FILTER_DEPTH, MAX_FILTER_TERMS

__all__ = [
    "OPERATORS",
    "FilterError",
    "FilterTooComplexError",
    "Predicate",
    "compile_filter",
    "parse_filter",
    "posix_ere_to_python",
]

Predicate = Callable[[Mapping[str, Any]], bool]

OPERATORS = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "bw", "ew", "cs", "ct", "rx"})
_REJECTED = frozenset({"like", "in"})
_CONNECTIVES = frozenset({"and", "or"})
_KEYWORDS = {"true": True, "false": False, "null": None}

_WORD_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


class FilterError(ValueError):
    """The filter cannot be parsed or compiled; the API answers ``status`` (422)."""

    status = 422


class FilterTooComplexError(FilterError):
    """The filter is nested too deeply or has too many terms; the API answers 400.

    The limits (:data:`~vrgtask.sandbox.limits.MAX_FILTER_DEPTH` parentheses,
    :data:`~vrgtask.sandbox.limits.MAX_FILTER_TERMS` comparisons) keep the
    parser and the compiled predicate off the Python stack's limit.
    """

    status = 400


# --------------------------------------------------------------------------
# Tokens and syntax tree


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "word", "string", "number", "end"
    text: str
    value: Any
    pos: int


@dataclass(frozen=True)
class Literal:
    """A literal: its value and the text string operators compare with."""

    value: str | int | float | bool | None
    text: str


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    literal: Literal


@dataclass(frozen=True)
class Connective:
    op: str  # "and" | "or"
    left: Node
    right: Node


Node = Comparison | Connective


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Decode the literal opening at ``text[start] == "'"``; return it and the end index."""
    out: list[str] = []
    depth = 0  # nesting of unescaped {...}, whose content is dropped
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= n:
                break
            if depth == 0:
                out.append(text[i + 1])
            i += 2
            continue
        if ch == "'":
            if depth:
                raise FilterError(f"unbalanced '{{' in the string literal at position {start}")
            return "".join(out), i + 1
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
        i += 1
    raise FilterError(f"unterminated string literal at position {start}")


def _tokenize(text: str) -> Iterator[_Token]:
    """Tokens, produced lazily: a parse error is reported before a later lexing error."""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            yield _Token(ch, ch, None, i)
            i += 1
            continue
        if ch == "'":
            value, end = _read_string(text, i)
            yield _Token("string", text[i:end], value, i)
            i = end
            continue
        number = _NUMBER_RE.match(text, i)
        if number is not None and (ch != "-" or number.end() > i + 1):
            raw = number.group(0)
            is_int = not any(c in raw for c in ".eE")
            yield _Token("number", raw, int(raw) if is_int else float(raw), i)
            i = number.end()
            continue
        word = _WORD_RE.match(text, i)
        if word is not None:
            yield _Token("word", word.group(0), None, i)
            i = word.end()
            continue
        raise FilterError(f"unexpected character {ch!r} at position {i}")
    yield _Token("end", "", None, n)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.current = next(self.tokens)
        self.depth = 0
        self.terms = 0

    def peek(self) -> _Token:
        return self.current

    def take(self) -> _Token:
        token = self.current
        if token.kind != "end":
            self.current = next(self.tokens)
        return token

    def parse(self) -> Node:
        node = self.expr()
        token = self.peek()
        if token.kind != "end":
            raise FilterError(f"unexpected {token.text!r} at position {token.pos}")
        return node

    def expr(self) -> Node:
        node = self.term()
        while True:
            token = self.peek()
            if token.kind != "word" or token.text not in _CONNECTIVES:
                return node
            self.take()
            node = Connective(token.text, node, self.term())

    def term(self) -> Node:
        token = self.take()
        if token.kind == "(":
            self.depth += 1
            if self.depth > MAX_FILTER_DEPTH:
                raise FilterTooComplexError(
                    f"filter nested too deeply: at most {MAX_FILTER_DEPTH} levels of parentheses"
                )
            node = self.expr()
            self.depth -= 1
            closing = self.take()
            if closing.kind != ")":
                raise FilterError(f"expected ')' at position {closing.pos}")
            return node
        if token.kind != "word" or token.text in _CONNECTIVES or token.text in _KEYWORDS:
            where = "end of filter" if token.kind == "end" else repr(token.text)
            raise FilterError(f"expected a field name, got {where} at position {token.pos}")
        op = self.peek()
        if op.kind == "word" and op.text.lower() in _REJECTED:
            # The platform's exact answer to the two operators it does not have.
            raise FilterError("Invalid argument")
        self.take()
        if op.kind != "word" or op.text not in OPERATORS:
            raise FilterError(f"invalid operator {op.text!r} at position {op.pos}")
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise FilterTooComplexError(f"filter too long: at most {MAX_FILTER_TERMS} comparisons")
        return Comparison(token.text, op.text, self.literal())

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "string":
            return Literal(token.value, token.value)
        if token.kind == "number":
            return Literal(token.value, token.text)
        if token.kind == "word" and token.text in _KEYWORDS:
            return Literal(_KEYWORDS[token.text], token.text)
        where = "end of filter" if token.kind == "end" else repr(token.text)
        raise FilterError(
            f"expected a literal ('quoted string', number, true, false or null), "
            f"got {where} at position {token.pos}"
        )


def parse_filter(text: str) -> Node:
    """Parse ``text`` into a syntax tree. Raises :class:`FilterError`."""
    if not text.strip():
        raise FilterError("empty filter")
    return _Parser(text).parse()


# --------------------------------------------------------------------------
# Typed comparison


def _number(value: Any) -> int | float | None:
    """The numeric reading of a column value, or None when it has none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        # A reference ("vms/5") compared with a number compares its key.
        text = value.rpartition("/")[2] if "/" in value else value
        match = _NUMBER_RE.fullmatch(text.strip())
        if match is None:
            return None
        raw = match.group(0)
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    return None


def _text(value: Any) -> str | None:
    """The string reading of a scalar column value (None for null and objects)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _equal(value: Any, lit: Literal) -> bool:
    expected = lit.value
    if expected is None or value is None:
        return value is expected
    if isinstance(expected, bool) or isinstance(value, bool):
        return _text(value) == _text(expected)
    if isinstance(expected, int | float):
        return _number(value) == expected
    if isinstance(value, str):
        return value == expected
    number = _number(expected)
    return number is not None and _number(value) == number


def _order(value: Any, lit: Literal) -> int | None:
    """-1, 0 or 1 comparing ``value`` with the literal; None when incomparable."""
    expected = lit.value
    if expected is None or value is None:
        return None
    if isinstance(expected, bool) or isinstance(value, bool):
        if not (isinstance(expected, bool) and isinstance(value, bool)):
            return None
        return int(value) - int(expected)
    if isinstance(expected, str) and isinstance(value, str):
        return (value > expected) - (value < expected)
    left, right = _number(value), _number(expected)
    if left is None or right is None:
        return None
    return (left > right) - (left < right)


_ORDER_TESTS: dict[str, Callable[[int], bool]] = {
    "gt": lambda c: c > 0,
    "ge": lambda c: c >= 0,
    "lt": lambda c: c < 0,
    "le": lambda c: c <= 0,
}

_TEXT_TESTS: dict[str, Callable[[str, str], bool]] = {
    "bw": lambda value, lit: value.startswith(lit),
    "ew": lambda value, lit: value.endswith(lit),
    "cs": lambda value, lit: lit in value,
    "ct": lambda value, lit: lit.casefold() in value.casefold(),
}


# --------------------------------------------------------------------------
# POSIX ERE -> Python re

_ERE_SPECIALS = frozenset(".[]()*+?{}|^$\\")
_NEVER = "(?!)"  # an atom that matches nothing
_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "xdigit": "0-9A-Fa-f",
    "cntrl": "\\x00-\\x1f\\x7f",
    "print": "\\x20-\\x7e",
    "graph": "\\x21-\\x7e",
}


def _bracket(pattern: str, start: int) -> tuple[str, int]:
    """Translate the bracket expression opening at ``pattern[start] == "["``."""
    i = start + 1
    n = len(pattern)
    negate = i < n and pattern[i] == "^"
    if negate:
        i += 1
    items: list[str] = []
    if i < n and pattern[i] == "]":  # a leading ] is literal
        items.append("\\]")
        i += 1
    while i < n and pattern[i] != "]":
        if pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2 : end] if end >= 0 else ""
            if name not in _POSIX_CLASSES:
                raise FilterError(f"invalid character class in regular expression: [:{name}:]")
            items.append(_POSIX_CLASSES[name])
            i = end + 2
            continue
        if pattern.startswith(("[=", "[."), i):
            closer = pattern[i + 1] + "]"
            end = pattern.find(closer, i + 2)
            if end < 0:
                raise FilterError("unbalanced '[' in regular expression")
            items.append(re.escape(pattern[i + 2 : end]))
            i = end + 2
            continue
        ch = pattern[i]
        # In POSIX brackets a backslash is an ordinary character.
        items.append("\\" + ch if ch in "\\[^" else ch)
        i += 1
    if i >= n:
        raise FilterError("unbalanced '[' in regular expression")
    return "[" + ("^" if negate else "") + "".join(items) + "]", i + 1


def posix_ere_to_python(pattern: str) -> str:
    """Translate a POSIX extended regular expression to Python ``re`` syntax.

    Escapes of non-special characters (``\\d``, ``\\w``...) and ``(?`` groups
    become an atom that never matches: the platform does not reject them, it
    silently matches nothing.
    """
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise FilterError("trailing backslash in regular expression")
            nxt = pattern[i + 1]
            out.append(re.escape(nxt) if nxt in _ERE_SPECIALS else _NEVER)
            i += 2
        elif ch == "[":
            translated, i = _bracket(pattern, i)
            out.append(translated)
        elif ch == "(" and pattern.startswith("(?", i):
            return _NEVER
        else:
            out.append("\\Z" if ch == "$" else ch)
            i += 1
    return "".join(out)


def _compile_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(posix_ere_to_python(pattern))
    except re.error as exc:
        raise FilterError(f"invalid regular expression {pattern!r}: {exc}") from None


# --------------------------------------------------------------------------
# Compilation


def _compile_comparison(node: Comparison) -> Predicate:
    field, op, lit = node.field, node.op, node.literal
    if op in ("eq", "ne"):
        negate = op == "ne"
        expected = lit.value
        if isinstance(expected, str):
            # The hot path (name lookups over many rows): avoid the generic call.
            def eq_str(row: Mapping[str, Any]) -> bool:
                value = row.get(field)
                same = value == expected if type(value) is str else _equal(value, lit)
                return same is not negate

            return eq_str

        def eq_any(row: Mapping[str, Any]) -> bool:
            return _equal(row.get(field), lit) is not negate

        return eq_any
    if op in _ORDER_TESTS:
        test = _ORDER_TESTS[op]

        def ordered(row: Mapping[str, Any]) -> bool:
            result = _order(row.get(field), lit)
            return result is not None and test(result)

        return ordered
    if op == "rx":
        regex = _compile_regex(lit.text)

        def matches(row: Mapping[str, Any]) -> bool:
            value = _text(row.get(field))
            return value is not None and regex.search(value) is not None

        return matches
    text_test = _TEXT_TESTS[op]
    expected_text = lit.text

    def text_op(row: Mapping[str, Any]) -> bool:
        value = _text(row.get(field))
        return value is not None and text_test(value, expected_text)

    return text_op


def _compile(node: Node, fields: Container[str] | None) -> Predicate:
    if isinstance(node, Comparison):
        if fields is not None and (node.field.startswith("_") or node.field not in fields):
            raise FilterError(f"invalid field in filter: {node.field!r}")
        return _compile_comparison(node)
    # A chain ``a and b or c ...`` is a left-leaning tree as deep as it is long:
    # walk its left spine and evaluate it in a loop, so neither compiling nor
    # evaluating recurses once per term (only once per level of parentheses).
    steps: list[tuple[bool, Predicate]] = []
    current: Node = node
    while isinstance(current, Connective):
        steps.append((current.op == "and", _compile(current.right, fields)))
        current = current.left
    first = _compile(current, fields)
    steps.reverse()
    if len(steps) == 1:
        is_and, right = steps[0]
        if is_and:
            return lambda row: first(row) and right(row)
        return lambda row: first(row) or right(row)

    def chain(row: Mapping[str, Any]) -> bool:
        result = first(row)
        for is_and, predicate in steps:
            if result if not is_and else not result:
                continue  # "x or ..." with x true, "x and ..." with x false: decided
            result = predicate(row)
        return result

    return chain


def compile_filter(text: str, fields: Container[str] | None = None) -> Predicate:
    """Parse ``text`` once and return a predicate over rows.

    Args:
        text: The filter expression. Blank means "every row".
        fields: The columns a filter may name; others are an error. None
            accepts any name (a missing column reads as null).

    Raises:
        FilterError: For anything the platform would answer with 422.
    """
    if not text.strip():
        return lambda row: True
    return _compile(parse_filter(text), fields)
