"""The built-in formatters and the registry."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pytest
import yaml

from vrgtask.errors import VrgtaskError
from vrgtask.formatters import (
    Column,
    Formatter,
    RenderOptions,
    escape_control,
    load_formatter,
)
from vrgtask.formatters.csvfmt import CsvFormatter
from vrgtask.formatters.jsonfmt import JsonFormatter
from vrgtask.formatters.table import TableFormatter, WideFormatter
from vrgtask.formatters.yamlfmt import YamlFormatter

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
    assert isinstance(load_formatter("yaml"), YamlFormatter)
    with pytest.raises(VrgtaskError, match="unknown output format"):
        load_formatter("nope")


def test_default_titles() -> None:
    assert Column("delete_after_run").title == "Delete After Run"
    assert Column("$key").title == "Key"
    assert Column("x", header="Custom").title == "Custom"


# --- what a formatter declares ---------------------------------------------------------


def test_each_builtin_declares_whether_it_is_structured() -> None:
    declared = {name: load_formatter(name).structured for name in ("table", "wide", "json", "csv")}
    assert declared == {"table": False, "wide": False, "json": True, "csv": True}
    assert load_formatter("yaml").structured is True


class _Lines(Formatter):
    """A plugin-style formatter that implements format_list only."""

    def format_list(
        self, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], options: RenderOptions
    ) -> str:
        return "\n".join(str(row.get("name")) for row in rows)


def test_default_format_one_is_a_list_of_one_and_plugins_default_to_structured() -> None:
    assert _Lines().format_one(ROWS[0], COLUMNS, PLAIN) == "alpha"
    assert _Lines.structured is True
    assert CsvFormatter().format_one(ROWS[1], COLUMNS, PLAIN).splitlines() == [
        "$key,name,enabled,note",
        "2,beta,false,",
    ]


def test_query_values_are_escaped_except_under_json() -> None:
    value = "a\x1bb\nc"
    assert TableFormatter().format_value(value) == "a\\x1bb\\nc"
    assert CsvFormatter().format_value(value) == "a\\x1bb\\nc"
    assert JsonFormatter().format_value(value) == value
    assert JsonFormatter().format_value({"a": [1, None]}) == '{"a": [1, null]}'


# --- yaml ----------------------------------------------------------------------------------

TRICKY = [
    {
        "$key": 1,
        "name": "yes",  # a YAML 1.1 boolean word: must stay a string
        "enabled": True,
        "count": 0,
        "ratio": 1.5,
        "when": "2026-01-01",  # must not become a date
        "exp": "1e3",
        "empty": "",
        "none": None,
        "ctrl": "bad\x1b[2J\nname\t\u202eevil",
        "unicode": "héllo 日本",
        "nested": {"a": [1, "2", None], "b.c": {"d": False}},
        "list": [],
    },
    {"$key": 2, "name": "- not a list", "enabled": False, "count": -7, "ratio": 0.1},
]


def test_yaml_parses_back_to_the_same_data_as_json() -> None:
    fmt = YamlFormatter()
    for rows in (TRICKY, [], [TRICKY[1]]):
        as_yaml = yaml.safe_load(fmt.format_list(rows, COLUMNS, PLAIN))
        assert as_yaml == json.loads(JsonFormatter().format_list(rows, COLUMNS, PLAIN))
    one = yaml.safe_load(fmt.format_one(TRICKY[0], COLUMNS, PLAIN))
    assert one == json.loads(JsonFormatter().format_one(TRICKY[0], COLUMNS, PLAIN))
    assert list(one) == list(TRICKY[0])  # row order kept


def test_yaml_escapes_terminal_controls_and_is_a_safe_document() -> None:
    text = YamlFormatter().format_one(TRICKY[0], COLUMNS, PLAIN)
    assert "\x1b" not in text
    assert 'ctrl: "bad\\e[2J\\nname\\t' in text  # escapes, on one line
    assert "!!" not in text  # no Python-specific tags: any YAML reader takes it
    assert "héllo 日本" in text  # letters are kept as they are


def test_json_rows_are_the_standard_encoding_one_per_line() -> None:
    rows = [
        {"$key": 1, "name": 'x\u202e\x1b"\\ ünï', "n": None, "f": 1.5, "b": True, "l": [1, {}]},
        {"$key": 2, "nested": {"a": [None, "b"]}, "when": dt.date(2026, 1, 2)},
    ]
    text = JsonFormatter().format_list(rows, COLUMNS, PLAIN)
    lines = text.splitlines()
    assert (lines[0], lines[-1]) == ("[", "]")
    expected = json.JSONEncoder(ensure_ascii=False, default=str)
    assert [line.strip().rstrip(",") for line in lines[1:-1]] == [expected.encode(r) for r in rows]


@pytest.mark.parametrize("count", [0, 1, 2, 499, 500, 501, 1000, 1234])
@pytest.mark.parametrize("kind", [dict, MappingProxyType])
def test_json_written_in_pieces_is_the_same_text(count: int, kind: Any) -> None:
    rows = [kind({"$key": i, "name": f"task-{i}", "ok": i % 2 == 0}) for i in range(count)]
    pieces: list[str] = []
    JsonFormatter().write_list(rows, COLUMNS, PLAIN, pieces.append)
    assert "".join(pieces) == JsonFormatter().format_list(rows, COLUMNS, PLAIN) + "\n"
    assert len(pieces) <= 2 + count // 500  # a few hundred rows per write
    assert json.loads("".join(pieces)) == [dict(row) for row in rows]


def test_other_formats_write_their_text_once() -> None:
    pieces: list[str] = []
    CsvFormatter().write_list(ROWS, COLUMNS, PLAIN, pieces.append)
    assert pieces == [CsvFormatter().format_list(ROWS, COLUMNS, PLAIN) + "\n"]
    TableFormatter().write_list([], COLUMNS, PLAIN, pieces.append)
    assert len(pieces) == 2  # an empty table still has its header


def test_columns_and_options_are_immutable_values() -> None:
    column = Column("status", "State", wide=True, styles={"error": "red"})
    assert column == Column("status", header="State", wide=True, styles={"error": "red"})
    assert column != Column("status", "State")
    assert Column("x").styles == {}
    assert Column("x").format is None
    assert "key='status'" in repr(column)
    assert hash(Column("a")) == hash(Column("a"))
    with pytest.raises(AttributeError):
        column.key = "other"
    assert RenderOptions(True) == RenderOptions(color=True) != RenderOptions()
    with pytest.raises(AttributeError):
        PLAIN.color = True


def test_quiet_keys_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    """-q prints keys; text keys (recipes, volumes) come from the server: escaped."""
    from vrgtask.config import Settings
    from vrgtask.context import AppContext

    app = AppContext(Settings(), quiet=True, color=False)
    app.render_list([{"$key": "nas\x1b]0;owned\x07"}, {"$key": 7}], [Column("$key")])
    out = capsys.readouterr().out
    assert out == "nas\\x1b]0;owned\\x07\n7\n"
