"""The built-in formatters and the registry."""

from __future__ import annotations

import csv
import io
import json

import pytest

from vrgtask.errors import VrgtaskError
from vrgtask.formatters import Column, RenderOptions, escape_control, load_formatter
from vrgtask.formatters.csvfmt import CsvFormatter
from vrgtask.formatters.jsonfmt import JsonFormatter
from vrgtask.formatters.table import TableFormatter, WideFormatter

COLUMNS = [
    Column("$key", "Key"),
    Column("name"),
    Column("enabled", format=lambda v: "Y" if v else "N"),
    Column("note", wide=True),
]
ROWS = [
    {"$key": 1, "name": "alpha", "enabled": True, "note": "first", "extra": {"a": 1}},
    {"$key": 2, "name": "beta", "enabled": False, "note": None, "extra": None},
]
PLAIN = RenderOptions()


def test_table_hides_wide_columns_and_formats_values() -> None:
    text = TableFormatter().format_list(ROWS, COLUMNS, PLAIN)
    lines = text.splitlines()
    assert lines[0].split() == ["Key", "Name", "Enabled"]
    assert lines[2].split() == ["1", "alpha", "Y"]
    assert lines[3].split() == ["2", "beta", "N"]
    assert "first" not in text


def test_wide_adds_wide_columns() -> None:
    text = WideFormatter().format_list(ROWS, COLUMNS, PLAIN)
    assert text.splitlines()[0].split() == ["Key", "Name", "Enabled", "Note"]
    assert "first" in text


def test_single_object_is_a_field_value_table_with_every_column() -> None:
    text = TableFormatter().format_one(ROWS[0], COLUMNS, PLAIN)
    lines = text.splitlines()
    assert lines[0].split() == ["Field", "Value"]
    assert [line.split()[0] for line in lines[2:]] == ["Key", "Name", "Enabled", "Note"]


def test_json_keeps_raw_values_and_row_order() -> None:
    data = json.loads(JsonFormatter().format_list(ROWS, COLUMNS, PLAIN))
    assert data == ROWS
    assert list(data[0]) == ["$key", "name", "enabled", "note", "extra"]
    one = json.loads(JsonFormatter().format_one(ROWS[1], COLUMNS, PLAIN))
    assert one == ROWS[1]


def test_json_keeps_exact_strings() -> None:
    row = {"name": "evil\x1b[31mred\nline ünï"}
    assert json.loads(JsonFormatter().format_one(row, [], PLAIN))["name"] == row["name"]


def test_csv_has_header_of_keys_and_raw_values() -> None:
    text = CsvFormatter().format_list(ROWS, COLUMNS, PLAIN)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["$key", "name", "enabled", "note"]
    assert parsed[1] == ["1", "alpha", "true", "first"]
    assert parsed[2] == ["2", "beta", "false", ""]


def test_control_characters_are_escaped_in_table_wide_and_csv() -> None:
    row = {"$key": 1, "name": "bad\x1b[2J\nname\t\u202eevil", "enabled": True, "note": "x\r"}
    for formatter in (TableFormatter(), WideFormatter(), CsvFormatter()):
        text = formatter.format_list([row], COLUMNS, PLAIN)
        assert "\x1b" not in text
        assert "\u202e" not in text
        assert "\\x1b[2J\\nname\\t\\u202eevil" in text
    single = TableFormatter().format_one(row, COLUMNS, PLAIN)
    assert "\x1b" not in single


def test_escape_control_leaves_printable_text_alone() -> None:
    assert escape_control("héllo wörld 日本 \\ {x}") == "héllo wörld 日本 \\ {x}"
    assert escape_control("a\x00b\x7fc\x9bd") == "a\\x00b\\x7fc\\x9bd"


def test_color_is_applied_only_when_asked() -> None:
    columns = [Column("status", styles={"error": "red"})]
    rows = [{"status": "error"}]
    assert "\x1b[" not in TableFormatter().format_list(rows, columns, PLAIN)
    assert "\x1b[31merror" in TableFormatter().format_list(rows, columns, RenderOptions(True))


def test_registry_loads_builtins() -> None:
    assert isinstance(load_formatter("table"), TableFormatter)
    assert isinstance(load_formatter("wide"), WideFormatter)
    assert isinstance(load_formatter("json"), JsonFormatter)
    assert isinstance(load_formatter("csv"), CsvFormatter)
    with pytest.raises(VrgtaskError, match="unknown output format"):
        load_formatter("nope")


def test_default_titles() -> None:
    assert Column("delete_after_run").title == "Delete After Run"
    assert Column("$key").title == "Key"
    assert Column("x", header="Custom").title == "Custom"
