"""The automation document: parsing, validation (FILE:LINE, all problems,
no request), owners, planning and the read-back check, with a mock client."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from support import Invoke

from vrgtask.automation.document import DocumentError, dump_document, parse_document
from vrgtask.automation.plan import Executor, WriteNotApplied, build_plan, same
from vrgtask.automation.system import SystemState
from vrgtask.errors import ConflictError, NotFoundError
from vrgtask.owners import OwnerRef, OwnerSyntaxError, format_owner, lookup_owner_key, parse_owner

GOOD = """\
version: 1
schedules:
  - name: office
    repeat_every: hour
    start_time: 08:00
    end_time: 18:30
    days: weekdays
scripts:
  - name: hello
    code: |
      log('hi')
tasks:
  - name: wake
    owner: vms/web-01
    action: poweron
    triggers: [office]
    events:
      - {event: login, table: users, owner: users/3}
"""

#: (document, line the problem is reported on, words the message contains)
MALFORMED: list[tuple[str, int, str]] = [
    ("version: 1\ntasks: [\n", 3, "not valid YAML"),
    ("", 1, "empty"),
    ("- a\n- b\n", 1, "must be a mapping"),
    ("schedules: []\n", 1, "'version: 1' is missing"),
    ("version: 2\n", 1, "not supported"),
    ("version: 1\nbogus: 1\n", 2, "unknown key 'bogus'"),
    ("version: 1\ntasks: {}\n", 2, "'tasks' must be a list, not a mapping"),
    (
        "version: 1\ntasks:\n  - {name: t, owner: vms/1, action: x, triggers: office}\n",
        3,
        "task 't': 'triggers' must be a list of schedule names",
    ),
    (
        "version: 1\ntasks:\n  - {name: t, owner: vms/1, action: x, events: {a: 1}}\n",
        3,
        "task 't': 'events' must be a list, not a mapping",
    ),
    ("version: 1\ntasks:\n  - owner: vms/1\n    action: poweron\n", 3, "'name' is required"),
    ("version: 1\ntasks:\n  - name: t\n    action: poweron\n", 3, "'owner' is required"),
    ("version: 1\ntasks:\n  - name: t\n    owner: vms/1\n", 3, "'action' is required"),
    ("version: 1\ntasks:\n  - name: t\n    owner: web-01\n    action: x\n", 4, "not an owner"),
    ("version: 1\ntasks:\n  - name: t\n    owner: vms/\n    action: x\n", 4, "not an owner"),
    ("version: 1\ntasks:\n  - name: t\n    owner: vms/0\n    action: x\n", 4, "keys start at 1"),
    (
        "version: 1\ntasks:\n  - name: t\n    owner: vms/1\n    action: x\n    enabled: maybe\n",
        6,
        "true or false",
    ),
    (
        "version: 1\ntasks:\n  - name: t\n    owner: vms/1\n    action: x\n    colour: red\n",
        6,
        "unknown key 'colour'",
    ),
    ("version: 1\ntasks:\n  - name: " + "x" * 65 + "\n    owner: vms/1\n    action: x\n", 3, "64"),
    (
        "version: 1\ntasks:\n  - {name: t, owner: vms/1, action: x}\n"
        "  - {name: t, owner: vms/2, action: x}\n",
        4,
        "appears twice",
    ),
    (
        "version: 1\ntasks:\n  - name: t\n    owner: vms/1\n    action: x\n    triggers: [a, a]\n",
        6,
        "listed twice",
    ),
    (
        "version: 1\ntasks:\n  - name: t\n    owner: vms/1\n    action: x\n    settings: [1]\n",
        6,
        "must be a mapping",
    ),
    (
        "version: 1\ntasks:\n  - name: t\n    owner: vms/1\n    action: x\n"
        "    events:\n      - event: login\n",
        7,
        "'table' is required",
    ),
    ("version: 1\nschedules:\n  - name: s\n    start_time: '25:00'\n", 4, "outside the day"),
    ("version: 1\nschedules:\n  - name: s\n    start_time: 7 am\n", 4, "not a time of day"),
    ("version: 1\nschedules:\n  - name: s\n    days: mon,funday\n", 4, "not a day"),
    ("version: 1\nschedules:\n  - name: s\n    repeat_every: fortnight\n", 4, "must be one of"),
    ("version: 1\nschedules:\n  - name: s\n    repeat_iteration: 0\n", 4, ">= 1"),
    ("version: 1\nschedules:\n  - name: s\n    start_date: 2026-02-30\n", 4, "not"),
    (
        "version: 1\nschedules:\n  - name: s\n    start_time: 10:00\n    end_time: 09:00\n",
        5,
        "before 'start_time'",
    ),
    ("version: 1\nscripts:\n  - name: s\n", 3, "'code' is required"),
    ("version: 1\nscripts:\n  - name: s\n    code: 12\n", 4, "must be text"),
    ("version: 1\nversion: 1\n", 2, "appears twice"),
    ("version: 1\ntasks:\n  - name: no\n    owner: vms/1\n    action: x\n", 3, "quote it"),
]


@pytest.mark.parametrize(("text", "line", "words"), MALFORMED)
def test_malformed_document_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_document(text, "doc.yaml")
    problems = caught.value.problems
    assert any(p.startswith(f"doc.yaml:{line}: ") and words in p for p in problems), problems
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("text", "line", "words"), MALFORMED)
def test_malformed_document_exits_2_before_any_request(
    invoke: Invoke, mock_client: MagicMock, tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    for command in (["diff", "-f", str(path)], ["apply", "-f", str(path), "--yes"]):
        result = invoke("--host", "verge.example", "--token", "t", *command)
        assert result.exit_code == 2, result.stderr
        assert f"{path}:{line}: " in result.stderr
        assert "nothing was sent" in result.stderr
    assert mock_client.mock_calls == []


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = (
        "version: 1\nschedules:\n  - name: s\n    days: never\n"
        "tasks:\n  - name: t\n    owner: nope\n    action: x\n    enabled: 3\n"
    )
    with pytest.raises(DocumentError) as caught:
        parse_document(text, "f.yaml")
    lines = [p.split(":")[1] for p in caught.value.problems]
    assert lines == ["4", "7", "9"]


def test_good_document_and_readable_forms() -> None:
    doc = parse_document(GOOD, "good.yaml")
    office = doc.schedules[0].fields
    assert office["start_time"] == 8 * 3600
    assert office["end_time"] == 18 * 3600 + 1800  # 18:30, not YAML's base-60 1110
    assert office["days"] == (True,) * 5 + (False,) * 2
    task = doc.tasks[0]
    assert task.owner == OwnerRef("vms", name="web-01")
    assert task.triggers == [("office", 16)]
    assert task.events[0].owner == OwnerRef("users", key="3")
    assert doc.scripts[0].fields["code"] == "log('hi')\n"


def test_json_documents_are_read_too() -> None:
    text = '{"version": 1, "tasks": [{"name": "t", "owner": "vms/1", "action": "poweron"}]}'
    doc = parse_document(text, "d.json")
    assert doc.tasks[0].owner.key == "1"


def test_dump_keeps_times_and_code_readable_and_reparses() -> None:
    document = {
        "version": 1,
        "schedules": [{"name": "s", "start_time": "12:30", "days": "weekdays"}],
        "scripts": [{"name": "x", "code": "a()\nb()\n"}],
    }
    text = dump_document(document, "yaml")
    assert "code: |" in text
    assert parse_document(text, "d").schedules[0].fields["start_time"] == 12 * 3600 + 1800


# -- owners -----------------------------------------------------------------


def test_parse_owner_forms() -> None:
    assert parse_owner("vms/12") == OwnerRef("vms", key="12")
    assert parse_owner("vms/web-01") == OwnerRef("vms", name="web-01")
    assert parse_owner("vm_recipes/nas-winbind") == OwnerRef("vm_recipes", key="nas-winbind")
    for bad in ("web-01", "/x", "vms/", "Vms/1", "vms/0"):
        with pytest.raises(OwnerSyntaxError):
            parse_owner(bad)


def test_format_owner_prefers_unique_names() -> None:
    assert format_owner("vms", "1", "web-01", True) == "vms/web-01"
    assert format_owner("vms", "1", "web-01", False) == "vms/1"
    assert format_owner("vms", "1", "42", True) == "vms/1"  # a digit name would read as a key
    assert format_owner("vms", "1", None, True) == "vms/1"


def test_owner_lookup_one_request_conflict_and_not_found() -> None:
    client = MagicMock()
    client._request.return_value = [{"$key": 4, "name": "web-01"}]
    assert lookup_owner_key(client, "vms", "web-01") == "4"
    assert client._request.call_count == 1
    assert "name eq 'web-01'" in client._request.call_args.kwargs["params"]["filter"]
    client._request.return_value = [{"$key": 4, "name": "web-01"}, {"$key": 9, "name": "web-01"}]
    with pytest.raises(ConflictError, match="keys 4, 9"):
        lookup_owner_key(client, "vms", "web-01")
    client._request.return_value = []
    with pytest.raises(NotFoundError):
        lookup_owner_key(client, "vms", "web-01")


# -- planning ---------------------------------------------------------------


def _state(**tables: list[dict[str, Any]]) -> SystemState:
    return SystemState(
        tasks=tables.get("tasks", []),
        schedules=tables.get("schedules", []),
        triggers=tables.get("triggers", []),
        events=tables.get("events", []),
        scripts=tables.get("scripts", []),
    )


def _client_with_vm() -> MagicMock:
    client = MagicMock()
    client._request.return_value = [{"$key": 1, "name": "web-01"}]
    return client


def test_plan_against_an_empty_system_creates_in_dependency_order() -> None:
    doc = parse_document(GOOD, "good.yaml")
    plan = build_plan(_client_with_vm(), doc, _state(), prune=False)
    kinds = [op.kind for op in plan.ops]
    assert kinds == ["schedule", "script", "task", "trigger", "event"]
    assert all(op.verb == "create" for op in plan.ops)


def test_plan_owner_names_cost_one_lookup_each() -> None:
    tasks = "\n".join(f"  - {{name: t{i}, owner: vms/web-01, action: poweron}}" for i in range(50))
    doc = parse_document(f"version: 1\ntasks:\n{tasks}\n", "d.yaml")
    client = _client_with_vm()
    build_plan(client, doc, _state(), prune=False)
    assert client._request.call_count == 1


def test_plan_refuses_a_name_ambiguous_on_the_system() -> None:
    doc = parse_document("version: 1\ntasks:\n  - {name: t, owner: vms/1, action: x}\n", "d")
    state = _state(tasks=[{"$key": "1", "name": "t"}, {"$key": "2", "name": "t"}])
    with pytest.raises(ConflictError, match="keys 1, 2"):
        build_plan(MagicMock(), doc, state, prune=False)


def test_plan_unknown_schedule_is_a_document_problem() -> None:
    text = "version: 1\ntasks:\n  - name: t\n    owner: vms/1\n    action: x\n    triggers: [zz]\n"
    with pytest.raises(DocumentError) as caught:
        build_plan(MagicMock(), parse_document(text, "d"), _state(), prune=False)
    assert caught.value.problems[0].startswith("d:6: ")


def test_plan_prune_spares_system_created_objects() -> None:
    doc = parse_document("version: 1\n", "d")
    state = _state(
        tasks=[
            {"$key": "1", "name": "mine", "system_created": False},
            {"$key": "2", "name": "platform", "system_created": True},
        ],
        schedules=[{"$key": "1", "name": "sys", "system_created": True}],
    )
    assert build_plan(MagicMock(), doc, state, prune=False).ops == []
    plan = build_plan(MagicMock(), doc, state, prune=True)
    assert [(op.verb, op.name) for op in plan.ops] == [("delete", "mine")]


def test_same_treats_empty_values_and_string_numbers_alike() -> None:
    assert same({}, None)
    assert same("", None)
    assert same(5, "5")
    assert same(True, True)
    assert not same(True, False)
    assert not same("a", "b")
    assert not same({"a": 1}, {"a": 2})


def test_read_back_names_a_field_the_server_dropped() -> None:
    client = MagicMock()
    client._request.side_effect = [None, {"$key": 3, "description": "old"}]
    with pytest.raises(WriteNotApplied, match="'description'"):
        Executor(client).update("tasks", "3", {"description": "new"}, "task 't'")


def test_read_back_takes_objects_as_json_text_and_numbers_as_text() -> None:
    """The read-back comparison of every verified write: not a false "not applied"."""
    client = MagicMock()
    sent = {"settings_args": {"a": [1, 2]}, "repeat_iteration": 2, "description": ""}
    back = {"$key": 3, "settings_args": '{"a": [1, 2]}', "repeat_iteration": "2"}
    client._request.side_effect = [None, back]
    Executor(client).update("tasks", "3", sent, "task 't'")


def test_tab_indented_json_keeps_its_line_numbers() -> None:
    text = (
        '{\n\t"version": 1,\n\t"tasks": [\n'
        '\t\t{"name": "t", "owner": "vms", "action": "x"}\n\t]\n}\n'
    )
    with pytest.raises(DocumentError) as caught:
        parse_document(text, "d.json")
    assert caught.value.problems[0].startswith("d.json:4: ")


def test_create_is_read_back_and_a_missing_key_is_an_error() -> None:
    client = MagicMock()
    client._request.side_effect = [{"$key": "7"}, {"$key": 7, "name": "t", "enabled": True}]
    key = Executor(client).create("tasks", {"name": "t", "enabled": True}, "task 't'")
    assert key == "7"
    assert client._request.call_args_list[1].args[:2] == ("GET", "tasks/7")
    client._request.side_effect = [{}]
    with pytest.raises(WriteNotApplied, match="did not return the key"):
        Executor(client).create("tasks", {"name": "t"}, "task 't'")


def test_plan_updates_field_by_field_and_events_by_identity() -> None:
    text = (
        "version: 1\ntasks:\n  - name: t\n    owner: vms/1\n    action: poweron\n"
        "    description: new\n    events:\n      - {event: login, table: users, owner: users/3,"
        " context: {a: 1}}\n"
    )
    state = _state(
        tasks=[
            {
                "$key": "5",
                "name": "t",
                "owner": "vms/1",
                "action": "poweron",
                "description": "old",
                "enabled": True,
            }
        ],
        events=[
            {"$key": "8", "task": 5, "event": "login", "table": "users", "owner": "users/3"},
            {"$key": "9", "task": 5, "event": "logout", "table": "users", "owner": "users/3"},
        ],
    )
    plan = build_plan(MagicMock(), parse_document(text, "d"), state, prune=False)
    summary = [(op.verb, op.kind, [c.field for c in op.changes]) for op in plan.ops]
    assert summary == [
        ("update", "task", ["description"]),
        ("update", "event", ["context"]),
        ("delete", "event", []),
    ]
    assert plan.ops[0].changes[0].old == "old"


def test_a_file_that_is_not_utf8_names_the_line(
    invoke: Invoke, mock_client: MagicMock, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\ntasks:\n  - name: caf\xe9\n".encode("latin-1"))
    result = invoke("--host", "verge.example", "--token", "t", "diff", "-f", str(path))
    assert result.exit_code == 2
    assert f"{path}:3: not UTF-8 text" in result.stderr
    assert mock_client.mock_calls == []


def test_rows_decode_text_booleans_and_json_columns() -> None:
    from vrgtask.automation.system import _rows

    (row,) = _rows(
        [{"$key": 5, "enabled": "false", "system_created": "0", "settings_args": '{"a": 1}'}]
    )
    assert row == {
        "$key": "5",
        "enabled": False,
        "system_created": False,
        "settings_args": {"a": 1},
    }
