"""The sandbox's filter grammar (vrgtask.sandbox.filters)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pyvergeos.filters import build_filter, quote_value, wildcard_condition

from vrgtask.sandbox.filters import FilterError, compile_filter, posix_ere_to_python

ROWS: list[dict[str, Any]] = [
    {"$key": 1, "name": "web-01", "enabled": True, "owner": "vms/1", "last_run": 0, "x": None},
    {"$key": 2, "name": "Web-02", "enabled": False, "owner": "vms/2", "last_run": 50, "x": 1.5},
    {"$key": 3, "name": "db-01", "enabled": True, "owner": "tenants/2", "last_run": 100, "x": 2},
    {"$key": 4, "name": "a'b{c}\\d", "enabled": False, "owner": None, "last_run": 7, "x": "7"},
]


def keys(text: str, rows: list[dict[str, Any]] | None = None) -> list[int]:
    predicate = compile_filter(text)
    return [row["$key"] for row in (ROWS if rows is None else rows) if predicate(row)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name eq 'web-01'", [1]),
        ("name ne 'web-01'", [2, 3, 4]),
        ("$key gt 2", [3, 4]),
        ("$key ge 2", [2, 3, 4]),
        ("$key lt 2", [1]),
        ("$key le 2", [1, 2]),
        ("last_run gt -1", [1, 2, 3, 4]),
        ("x eq 1.5", [2]),
        ("x eq 7", [4]),  # a numeric string compared with a number
        ("x eq null", [1]),
        ("x ne null", [2, 3, 4]),
        ("owner eq null", [4]),
        ("enabled eq true", [1, 3]),
        ("enabled eq false", [2, 4]),
        ("name bw 'web'", [1]),
        ("name bw 'Web'", [2]),
        ("name ew '01'", [1, 3]),
        ("name cs 'eb'", [1, 2]),
        ("name cs 'EB'", []),
        ("name ct 'WEB'", [1, 2]),
        ("name gt 'd'", [1, 3]),
        ("$key eq '3'", [3]),
    ],
)
def test_operators(text: str, expected: list[int]) -> None:
    assert keys(text) == expected


def test_reference_compared_with_a_number_uses_the_key_part() -> None:
    assert keys("owner eq 2") == [2, 3]
    assert keys("owner eq 'vms/2'") == [2]
    assert keys("owner eq 'vms'") == []
    assert keys("owner gt 1") == [2, 3]


def test_typed_comparisons_do_not_mix() -> None:
    assert keys("enabled eq 1") == []
    assert keys("name gt 5") == []
    assert keys("enabled gt 'a'") == []
    assert keys("x gt true") == []


def test_and_or_are_evaluated_left_to_right_without_precedence() -> None:
    # With SQL precedence this would be: $key eq 1 or ($key eq 3 and enabled eq false) -> [1].
    assert keys("$key eq 1 or $key eq 3 and enabled eq false") == []
    assert keys("$key eq 1 or ($key eq 3 and enabled eq false)") == [1]
    assert keys("enabled eq false and $key eq 2 or $key eq 3") == [2, 3]
    assert keys("((($key eq 2)))") == [2]


@pytest.mark.parametrize(
    "text",
    ["name like 'web%'", "name in ('a', 'b')", "name LIKE 'x'", "name in ,", "a eq 1 and b in [1]"],
)
def test_like_and_in_are_invalid_arguments(text: str) -> None:
    with pytest.raises(FilterError, match=r"^Invalid argument$"):
        compile_filter(text)


@pytest.mark.parametrize(
    "text",
    [
        "name",
        "name eq",
        "name eq web",
        'name eq "web-01"',
        "name == 'web-01'",
        "name eq 'web-01' and",
        "(name eq 'web-01'",
        "name eq 'web-01')",
        "name eq 'unterminated",
        "name eq 'ends with backslash\\",
        "and eq 'x'",
        "name eq 'a' xor name eq 'b'",
        "name eq 'a' name eq 'b'",
        "owner#name eq 'x'",
        "name eq 'a' ; drop",
        "()",
        "name rx '[unclosed'",
        "name rx '(group'",
        "name rx '[[:nope:]]'",
    ],
)
def test_unparsable_filters_are_rejected(text: str) -> None:
    with pytest.raises(FilterError):
        compile_filter(text)


def test_blank_filter_matches_everything() -> None:
    assert keys("") == [1, 2, 3, 4]
    assert keys("   ") == [1, 2, 3, 4]


def test_fields_are_checked_when_given() -> None:
    allowed = frozenset({"name", "$key", "_secret"})
    compile_filter("name eq 'x' and $key gt 1", allowed)
    with pytest.raises(FilterError, match="nope"):
        compile_filter("nope eq 1", allowed)
    with pytest.raises(FilterError, match="_secret"):
        compile_filter("_secret eq 'x'", allowed)  # hidden columns never filter


def test_string_escapes() -> None:
    rows = [
        {"$key": 1, "name": "it's"},
        {"$key": 2, "name": "back\\slash"},
        {"$key": 3, "name": "{x}"},
    ]
    assert keys("name eq 'it\\'s'", rows) == [1]
    assert keys("name eq 'back\\\\slash'", rows) == [2]
    assert keys("name eq '\\{x}'", rows) == [3]


def test_unescaped_balanced_braces_are_silently_removed() -> None:
    rows = [{"$key": 1, "name": "prod-db"}, {"$key": 2, "name": "prod-{x}db"}]
    # The platform quirk: {x} vanishes, so the literal names the *other* row.
    assert keys("name eq 'prod-{x}db'", rows) == [1]
    assert keys("name eq 'prod-{a{b}c}db'", rows) == [1]  # nesting-aware
    assert keys("name eq 'prod-{it\\'s}db'", rows) == [1]  # escapes inside are dropped too
    assert keys("name eq 'prod-\\{x}db'", rows) == [2]


def test_a_lone_closing_brace_is_ordinary() -> None:
    assert keys("name eq 'a}'", [{"$key": 1, "name": "a}"}]) == [1]


@pytest.mark.parametrize("text", ["name eq 'a{b'", "name eq '{'", "name eq 'a{{b}'"])
def test_unbalanced_unescaped_brace_is_rejected(text: str) -> None:
    with pytest.raises(FilterError, match="unbalanced"):
        compile_filter(text)


@pytest.mark.parametrize(
    "name",
    ["it's {weird} \\ name", "{", "}", "\\", "'", "{{}}", "a\\{b", "trailing\\", "emoji ✓ {ok}"],
)
def test_sdk_quote_value_round_trips(name: str) -> None:
    rows = [{"$key": 1, "name": name}, {"$key": 3, "name": "other"}]
    decoy = name.replace("{", "").replace("}", "")
    if decoy != name:
        rows.append({"$key": 2, "name": decoy})
    assert keys(f"name eq {quote_value(name)}", rows) == [1]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("web*", [1]),
        ("*01", [1, 3]),
        ("*eb*", [1, 2]),
        ("?eb-0?", [1, 2]),
        ("*", [1, 2, 3, 4]),
        ("d*1", [3]),
        ("web-01", [1]),
    ],
)
def test_sdk_wildcard_conditions(pattern: str, expected: list[int]) -> None:
    assert keys(wildcard_condition("name", pattern)) == expected


def test_sdk_build_filter_output() -> None:
    text = build_filter(name=["web-01", "db-*"], enabled=True)
    assert keys(text) == [1, 3]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", [1, 2, 3, 4]),
        ("01", [1, 3]),
        ("^db", [3]),
        ("01$", [1, 3]),
        ("[[:digit:]]{2}$", [1, 2, 3]),
        ("^[[:upper:]]", [2]),
        ("[^[:alnum:]-]", [4]),
        ("we|db", [1, 3]),
        ("\\d", []),  # PCRE shorthand: silently matches nothing
        ("(?i)web", []),
        ("a'b", [4]),
        ("a\\'b", []),  # an escaped ordinary character matches nothing
        ("\\{c\\}", [4]),
        ("[\\]", [4]),  # a backslash is literal inside POSIX brackets
        ("[]a]", [4]),
        ("b\\.", []),
    ],
)
def test_rx(pattern: str, expected: list[int]) -> None:
    assert keys(f"name rx {quote_value(pattern)}") == expected


def test_rx_dollar_anchors_at_the_very_end() -> None:
    rows = [{"$key": 1, "name": "abc\n"}, {"$key": 2, "name": "abc"}]
    assert keys("name rx 'c$'", rows) == [2]


def test_posix_translation() -> None:
    assert posix_ere_to_python("[[:digit:]]+") == "[0-9]+"
    assert posix_ere_to_python("a\\.b") == "a\\.b"
    assert posix_ere_to_python("\\w") == "(?!)"


def test_name_lookup_over_ten_thousand_rows_is_fast() -> None:
    rows = [{"$key": i, "name": f"bulk-task-{i:05d}"} for i in range(1, 10_001)]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        predicate = compile_filter(f"name eq {quote_value('bulk-task-09999')}")
        found = [row["$key"] for row in rows if predicate(row)]
        best = min(best, time.perf_counter() - started)
    assert found == [9999]
    assert best < 0.05, f"{best * 1000:.1f} ms"


def _reference(atoms: list[bool], ops: list[str]) -> bool:
    """Left to right, no precedence: ((a op b) op c) ..."""
    result = atoms[0]
    for op, atom in zip(ops, atoms[1:], strict=True):
        result = (result and atom) if op == "and" else (result or atom)
    return result


def test_long_chains_evaluate_left_to_right_like_the_reference() -> None:
    import random

    rng = random.Random(14)
    row = {"$key": 1}
    for _ in range(300):
        length = rng.randint(2, 12)
        atoms = [rng.random() < 0.5 for _ in range(length)]
        ops = [rng.choice(["and", "or"]) for _ in range(length - 1)]
        parts = ["$key eq 1" if atom else "$key eq 2" for atom in atoms]
        text = parts[0] + "".join(f" {op} {part}" for op, part in zip(ops, parts[1:], strict=True))
        assert compile_filter(text)(row) is _reference(atoms, ops), text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(" * 33 + "$key eq 1" + ")" * 33, "nested too deeply"),
        ("(" * 5000 + "$key eq 1" + ")" * 5000, "nested too deeply"),
        (" or ".join(["$key eq 1"] * 1001), "too long"),
    ],
    ids=["33-levels", "5000-levels", "1001-terms"],
)
def test_too_complex_filters_are_400(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message) as caught:
        compile_filter(text)
    assert caught.value.status == 400


def test_the_longest_allowed_chain_runs_without_recursion() -> None:
    import sys

    text = " and ".join(["$key ge 1"] * 1000)
    predicate = compile_filter("(" * 32 + text + ")" * 32)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # evaluation must not need a frame per term
    try:
        assert predicate({"$key": 3}) is True
    finally:
        sys.setrecursionlimit(limit)
