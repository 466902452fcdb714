"""Hostile names: task and schedule names that break naive quoting, wildcard
matching, trimming, Unicode handling or the terminal.

For each name, through the real CLI over HTTPS against the sandbox:

* the object is created (exit 0) next to decoys whose names a lookup that
  forgot to escape, trim, fold case or normalise would wrongly match;
* ``get NAME -o json`` finds it and returns the exact name and the right key;
* ``list`` and ``get`` in table, wide and csv show no raw control character
  (no ESC, no newline inside a cell, no bidi override) but its escaped form
  (``\\x1b``, ``\\n``), and csv parses back into exactly one record per object;
  json round-trips the exact string;
* ``delete NAME --yes`` removes exactly that object: every other row of the
  table, the decoys included, is unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from support import run_cli

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Hostile:
    id: str
    name: str
    #: Names a careless lookup of ``name`` would also (or instead) match.
    decoys: tuple[str, ...]
    #: How table/wide/csv must show the name (control characters escaped).
    shown: str


# fmt: off
HOSTILE: list[Hostile] = [
    Hostile("single-quote", "it's", ("its", "it", "it''s"), "it's"),
    Hostile("double-quote-comma", 'say "hi", ok', ("say hi ok", "say"), 'say "hi", ok'),
    Hostile("braces", "x{y}z", ("xz", "x{}z", "xyz"), "x{y}z"),
    Hostile("open-brace", "open{brace", ("open", "openbrace"), "open{brace"),
    Hostile("close-brace", "close}brace", ("closebrace", "close"), "close}brace"),
    Hostile("backslash", "back\\slash", ("backslash", "back\\\\slash", "back/slash"),
            "back\\slash"),
    Hostile("star", "star*", ("star", "starfish", "star*x"), "star*"),
    Hostile("question-mark", "what?", ("whatX", "what", "what!"), "what?"),
    Hostile("percent-underscore", "100%_done", ("100X_done", "100%Xdone", "100"), "100%_done"),
    Hostile("leading-space", " lead", ("lead", "  lead"), " lead"),
    Hostile("trailing-space", "trail ", ("trail", "trail  "), "trail "),
    Hostile("non-ascii", "café-Ω-日本", ("CAFÉ-Ω-日本", "cafe\u0301-Ω-日本", "cafe-Ω-日本"),
            "café-Ω-日本"),
    Hostile("newline", "line1\nline2", ("line1", "line2", "line1 line2", "line1\\nline2"),
            "line1\\nline2"),
    Hostile("ansi-escape", "\x1b[31mred\x1b[0m", ("red", "[31mred[0m"),
            "\\x1b[31mred\\x1b[0m"),
    Hostile("tab-cr", "tab\there\rcr", ("tab here cr", "tabherecr", "cr"), "tab\\there\\rcr"),
    Hostile("bidi-override", "\u202eevil.exe", ("evil.exe", "exe.live"), "\\u202eevil.exe"),
    Hostile("digits-of-a-seeded-key", "3", (), "3"),
]
# fmt: on

RESOURCES = ("task", "schedule")
TABLE_OF = {"task": "tasks", "schedule": "task_schedules"}

CASES: list[tuple[str, Hostile]] = [(r, h) for r in RESOURCES for h in HOSTILE]
CASE_IDS: list[str] = [f"{r}:{h.id}" for r, h in CASES]

#: Characters that must never reach a terminal raw (a newline is only ever
#: the line separator, checked separately by counting lines and records).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def create(resource: str, name: str) -> int:
    argv = ["-o", "json", resource, "create", "--name", name]
    if resource == "task":
        argv += ["--owner", "vms/1", "--action", "poweron"]
    out = run_cli(*argv)
    assert out.exit_code == 0, (name, out.stderr)
    made = json.loads(out.stdout)
    assert made["name"] == name
    key: int = made["$key"]
    return key


def rows_of(server: SandboxServer, resource: str) -> dict[str, dict[str, Any]]:
    tables = json.loads(server.emulator.export_state())["tables"]
    rows: dict[str, dict[str, Any]] = tables[TABLE_OF[resource]]
    return rows


def assert_terminal_safe(text: str) -> None:
    found = RAW_CONTROL.search(text)
    assert found is None, f"raw control character {found.group(0)!r} in output: {text!r}"


def csv_records(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(("resource", "hostile"), CASES, ids=CASE_IDS)
def test_hostile_name(sandbox_env: SandboxServer, resource: str, hostile: Hostile) -> None:
    for decoy in hostile.decoys:
        create(resource, decoy)
    key = create(resource, hostile.name)
    for decoy in hostile.decoys[::-1]:  # decoys made after the name, too
        create(resource, decoy + "~")
    count = len(rows_of(sandbox_env, resource))

    # Found by name, exactly.
    got = run_cli("-o", "json", resource, "get", hostile.name)
    assert got.exit_code == 0, got.stderr
    found = json.loads(got.stdout)
    assert (found["$key"], found["name"]) == (key, hostile.name)

    # json lists keep the exact string.
    listed = run_cli("-o", "json", resource, "list")
    assert listed.exit_code == 0, listed.stderr
    names = {row["$key"]: row["name"] for row in json.loads(listed.stdout)}
    assert names[key] == hostile.name
    assert len(names) == count

    # Human and csv formats: escaped, one line / one record per object.
    for fmt in ("table", "wide"):
        table = run_cli("-o", fmt, resource, "list")
        assert table.exit_code == 0, table.stderr
        assert_terminal_safe(table.stdout)
        assert len(table.stdout.splitlines()) == 2 + count  # header, rule, rows
        assert hostile.shown.strip() in table.stdout
        one = run_cli("-o", fmt, resource, "get", hostile.name)
        assert one.exit_code == 0, one.stderr
        assert_terminal_safe(one.stdout)
        name_lines = [line for line in one.stdout.splitlines() if line.startswith("Name ")]
        assert len(name_lines) == 1, one.stdout
        assert name_lines[0].endswith(hostile.shown.strip())
    as_csv = run_cli("-o", "csv", resource, "list")
    assert as_csv.exit_code == 0, as_csv.stderr
    assert_terminal_safe(as_csv.stdout)
    records = csv_records(as_csv.stdout)
    assert len(records) == count
    assert {r["$key"]: r["name"] for r in records}[str(key)] == hostile.shown
    one_csv = run_cli("-o", "csv", resource, "get", hostile.name)
    assert one_csv.exit_code == 0, one_csv.stderr
    assert_terminal_safe(one_csv.stdout)
    (record,) = csv_records(one_csv.stdout)
    assert (record["$key"], record["name"]) == (str(key), hostile.shown)

    # Deleted exactly: that row goes, every other row stays as it was.
    before = rows_of(sandbox_env, resource)
    gone = run_cli(resource, "delete", hostile.name, "--yes")
    assert gone.exit_code == 0, gone.stderr
    assert_terminal_safe(gone.stdout + gone.stderr)
    after = rows_of(sandbox_env, resource)
    expected = {k: row for k, row in before.items() if k != str(key)}
    assert after == expected
    again = run_cli("-o", "json", resource, "get", hostile.name)
    if hostile.name.isdigit():  # once no name matches, digits are a key (README)
        assert again.exit_code == 0, again.stderr
        assert json.loads(again.stdout)["$key"] == int(hostile.name) != key
    else:
        assert again.exit_code == 6, again.stdout


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_name_that_is_only_similar_is_not_found(
    sandbox_env: SandboxServer, resource: str
) -> None:
    """No wildcard, case folding or trimming: these name nothing and change nothing."""
    for hostile in HOSTILE[:-1]:
        create(resource, hostile.name)
    before = sandbox_env.emulator.digest()
    for lookalike in ("it", "x*", "star", "what", "lead", "trail", "CAFÉ-Ω-日本", "line1", "red"):
        out = run_cli(resource, "delete", lookalike, "--yes")
        assert out.exit_code == 6, (lookalike, out.stdout, out.stderr)
        assert_terminal_safe(out.stderr)
        assert len(out.stderr.splitlines()) == 1
    assert sandbox_env.emulator.digest() == before


def test_the_matrix_covers_every_feature() -> None:
    joined = "".join(h.name for h in HOSTILE)
    for char in ("'", "{", "}", "\\", "*", "?", "\n", "\x1b"):
        assert char in joined, char
    assert any(h.name != h.name.strip() for h in HOSTILE)
    assert any(not h.name.isascii() and h.name.isprintable() for h in HOSTILE)
    assert len(set(CASE_IDS)) == len(CASE_IDS) == 2 * len(HOSTILE)
