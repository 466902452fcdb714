"""The ``fields`` parameter: parsing (vrgtask.sandbox.projection) and projection."""

from __future__ import annotations

from typing import Any

import pytest
from pyvergeos.resources.base import expand_projection, normalize_fields
from pyvergeos.resources.task_events import TaskEventManager
from pyvergeos.resources.task_schedule_triggers import TaskScheduleTriggerManager
from pyvergeos.resources.task_schedules import (
    DAY_OF_MONTH_OPTIONS,
    REPEAT_INTERVALS,
    TaskScheduleManager,
)
from pyvergeos.resources.task_scripts import TaskScriptManager
from pyvergeos.resources.tasks import TaskManager

from vrgtask.sandbox import MemoryStore
from vrgtask.sandbox.projection import (
    AllColumns,
    Column,
    Count,
    Display,
    Flatten,
    ProjectionError,
    Traverse,
    parse_fields,
    split_top_level,
)
from vrgtask.sandbox.tables import (
    DAY_OF_MONTH_OPTIONS as SANDBOX_DAY_OF_MONTH,
)
from vrgtask.sandbox.tables import (
    REPEAT_INTERVALS as SANDBOX_REPEAT_INTERVALS,
)

from .sandbox_api import Api


def wire(fields: list[str] | None) -> str:
    """The ``fields`` value the SDK would send for a manager's default list."""
    value = normalize_fields(fields)
    assert value is not None
    return value


def test_split_top_level() -> None:
    assert split_top_level("a,count(b) as c,flatten(x[y as z,display(w) as v]),d") == [
        "a",
        "count(b) as c",
        "flatten(x[y as z,display(w) as v])",
        "d",
    ]
    with pytest.raises(ProjectionError):
        split_top_level("count(a")
    with pytest.raises(ProjectionError):
        split_top_level("a]")


def test_parse_every_form() -> None:
    assert parse_fields(
        "$key, name ,all,owner#$display as owner_display,owner#name,task#owner#$display as o,"
        "count(triggers) as n,display(repeat_every) as r,display(task),"
        "flatten(schedule[$key as sch_$key,enabled,display(day_of_month) as d])"
    ) == [
        Column("$key", "$key"),
        Column("name", "name"),
        AllColumns(),
        Traverse("owner", ("$display",), "owner_display"),
        Traverse("owner", ("name",), "owner#name"),
        Traverse("task", ("owner", "$display"), "o"),
        Count("triggers", "n"),
        Display("repeat_every", "r"),
        Display("task", "display(task)"),
        Flatten(
            "schedule",
            (
                Column("$key", "sch_$key"),
                Column("enabled", "enabled"),
                Display("day_of_month", "d"),
            ),
        ),
    ]
    assert parse_fields("") == []
    assert parse_fields(" , ,") == []
    assert parse_fields("name  as   label") == [Column("name", "label")]


@pytest.mark.parametrize(
    "text",
    [
        "name as",
        "as x",
        "name as a b",
        "count(a b)",
        "count()",
        "display(a)(b)",
        "flatten(x)",
        "flatten(x[a]) as y",
        "owner#",
        "owner##name",
        "#name",
        "name-with-dash",
        "max(a)",
        "a.b",
    ],
)
def test_malformed_entries(text: str) -> None:
    with pytest.raises(ProjectionError):
        parse_fields(text)


def test_display_texts_are_the_sdks() -> None:
    assert dict(SANDBOX_REPEAT_INTERVALS) == REPEAT_INTERVALS
    assert dict(SANDBOX_DAY_OF_MONTH) == DAY_OF_MONTH_OPTIONS


# ---------------------------------------------------------------------------
# Through the emulator, with the SDK managers' own projections


def test_task_default_fields(api: Api) -> None:
    row = api.row("tasks/1", fields=wire(TaskManager._default_fields))
    assert {k: row[k] for k in ("owner_display", "creator_display")} == {
        "owner_display": "web-01",
        "creator_display": "admin",
    }
    assert (row["triggers_count"], row["events_count"]) == (1, 0)
    assert api.row("tasks/2", fields="count(triggers) as t,count(events) as e") == {"t": 1, "e": 1}
    assert "progress" not in row
    assert "settings_args" not in row


def test_all_expanded_by_the_sdk(api: Api) -> None:
    fields = expand_projection("all", TaskManager._default_fields)
    row = api.row("tasks/5", fields=wire(fields if isinstance(fields, list) else [str(fields)]))
    assert row["owner_display"] == "cleanup-logs"
    assert row["settings_args"] == {"retention_days": 14}
    assert "progress" not in row  # not columns of the platform
    assert "error" not in row


def test_reference_through_null_or_missing_row_is_omitted(api: Api, store: MemoryStore) -> None:
    store.state["tables"]["tasks"]["3"]["creator"] = None
    store.state["tables"]["tasks"]["4"]["creator"] = "users/99"
    fields = "$key,creator#$display as creator_display,display(creator) as c2,creator#name as c3"
    assert api.rows("tasks", fields=fields, filter="$key ge 3 and $key le 4") == [
        {"$key": 3},
        {"$key": 4},
    ]
    # The SDK's accessor answers its default for such a row instead of raising.
    from pyvergeos.resources.tasks import Task

    manager = TaskManager.__new__(TaskManager)
    manager._requested_aliases = frozenset({"creator_display"})
    assert Task({"$key": 3}, manager).creator_display == ""


def test_schedule_default_fields(api: Api) -> None:
    rows = api.rows("task_schedules", fields=wire(TaskScheduleManager._default_fields))
    assert [r["name"] for r in rows] == ["nightly", "weekday-mornings", "hourly", "daily-system"]
    assert [r["system_created"] for r in rows] == [False, False, False, True]
    assert "task_display" not in rows[0]  # task is null
    assert rows[0]["creator_display"] == "admin"
    assert rows[1]["all_day"] is False
    assert rows[2]["all_day"] is True
    api.put("task_schedules/1", {"task": 4})
    assert api.row("task_schedules/1", fields="task#$display as t,task#owner as o") == {
        "t": "reset-dmz",
        "o": "vnets/2",
    }


def test_trigger_default_fields_flatten(api: Api) -> None:
    fields = wire(TaskScheduleTriggerManager._default_fields)
    rows = api.rows("task_schedule_triggers", fields=fields)
    assert [(r["task_display"], r["schedule_display"]) for r in rows] == [
        ("nightly-snapshot", "nightly"),
        ("power-on-dev", "weekday-mornings"),
    ]
    assert rows[1]["sch_repeat_every"] == "Day(s)"
    assert rows[1]["sch_start_time_of_day"] == 27000
    assert rows[1]["sch_$key"] == 2
    assert rows[1]["sch_day_of_month"] == "Start Date"


def test_multi_hop_traversal(api: Api) -> None:
    fields = "task#owner#$display as owner,schedule#creator#name as who,task#nope#name as x"
    assert api.row("task_schedule_triggers/2", fields=fields) == {
        "owner": "build-runner",
        "who": "admin",
    }


def test_event_default_fields(api: Api) -> None:
    row = api.row("task_events/1", fields=wire(TaskEventManager._default_fields))
    assert row == {
        "$key": 1,
        "owner": "users/3",
        "owner_display": "ops",
        "table": "users",
        "event": "login",
        "event_name": "Login",
        "task": 2,
        "task_name": "power-on-dev",
        "table_event_filters": None,
        "trigger": 0,
        "context": None,
        "task_display": "power-on-dev",
    }


def test_script_default_fields(api: Api) -> None:
    rows = api.rows("task_scripts", fields=wire(TaskScriptManager._default_fields))
    assert rows == [
        {
            "$key": 1,
            "name": "cleanup-logs",
            "description": "Delete old log files",
            "script": "log('cleaning up old logs')\n",
            "task_settings": {"questions": []},
            "task_count": 1,
        }
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("name,nope,$key", {"name": "nightly-snapshot", "$key": 1}),
        ("count(nope) as n,name", {"name": "nightly-snapshot"}),
        ("name#$display as x,$key#name as y", {}),
        ("display(status) as s,display(action) as a", {"s": "Idle", "a": "Take Snapshot"}),
        ("display(name) as n", {"n": "nightly-snapshot"}),
        (
            "flatten(owner[name as vm,description]),name",
            {"vm": "web-01", "description": "Front-end web server", "name": "nightly-snapshot"},
        ),
        ("flatten(name[a as b])", {}),
    ],
)
def test_lenient_and_computed_entries(api: Api, fields: str, expected: dict[str, Any]) -> None:
    assert api.row("tasks/1", fields=fields) == expected


def test_display_of_a_dangling_key_is_omitted(api: Api, store: MemoryStore) -> None:
    store.state["tables"]["task_schedule_triggers"]["1"]["task"] = 77
    row = api.row("task_schedule_triggers/1", fields="display(task) as t,task")
    assert row == {"task": 77}
