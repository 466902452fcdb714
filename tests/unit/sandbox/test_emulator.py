"""Emulator.handle driven directly, on a hand-moved clock."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from typing import Any

import pytest

import vrgtask.sandbox.schedule as schedule_module
from vrgtask.sandbox import Emulator, MemoryStore, seed_state, state_digest
from vrgtask.sandbox.emulator import DEFAULT_DURATION, DEFAULT_START_DELAY
from vrgtask.sandbox.errors import SandboxStateError

from .sandbox_api import AUDITOR, Api, FakeClock, err

NEW_TASK = {"name": "new", "owner": "vms/2", "action": "poweroff"}


def status_of(api: Api, key: int) -> tuple[str, int]:
    row = api.row(f"tasks/{key}", fields="status,last_run")
    return row["status"], row["last_run"]


def log_texts(api: Api, name: str) -> list[tuple[str, str]]:
    """(level, text) of a task's log entries, oldest first."""
    rows = api.rows(
        "logs", filter=f"object_type eq 'task' and object_name eq '{name}'", sort="timestamp"
    )
    return [(r["level"], r["text"]) for r in rows if r["level"] != "audit"]


# ---------------------------------------------------------------------------
# Authentication and routing


def test_outside_the_api_is_404_without_authentication(api: Api) -> None:
    for path in ("/", "/api/v3/tasks", "/api/v4", "/other"):
        reply = api.as_user(None).get(path)
        assert (reply.status, err(reply)) == (404, "Not found")


def test_missing_credentials_are_401(api: Api) -> None:
    reply = api.as_user(None).get("tasks")
    assert (reply.status, err(reply)) == (401, "Authentication required")
    assert api.as_user("Digest abc").get("tasks").status == 401
    assert err(api.as_user("Basic !!notbase64").get("tasks")) == "Authentication required"


@pytest.mark.parametrize("user_password", [b"admin:wrong", b"nobody:sandbox", b"ops:", b"admin"])
def test_wrong_credentials_are_401(api: Api, user_password: bytes) -> None:
    reply = api.as_user("Basic " + base64.b64encode(user_password).decode()).get("tasks")
    assert (reply.status, err(reply)) == (401, "Invalid credentials")


def test_bearer_token(api: Api) -> None:
    assert api.as_user("Bearer sandbox-token").get("tasks").status == 200
    assert api.as_user("bearer sandbox-token").get("tasks").status == 200
    assert api.as_user("Bearer wrong").get("tasks").status == 401


def test_auditor_reads_but_may_not_write(api: Api) -> None:
    auditor = api.as_user(AUDITOR)
    assert len(auditor.rows("tasks")) == 6
    for reply in (
        auditor.post("tasks", NEW_TASK),
        auditor.put("tasks/1", {"description": "x"}),
        auditor.delete("tasks/1"),
        auditor.action("tasks/1", "execute"),
        auditor.action("task_scripts/1", "run"),
    ):
        assert (reply.status, err(reply)) == (403, "Permission denied")
    reply = auditor.action("task_schedules/1", "get_schedule", {"max": 2})
    assert reply.status == 200
    reply = auditor.post(
        "task_schedule_actions",
        {"task_schedule": 1, "action": "get_schedule", "params": {"max": 2}},
    )
    assert reply.status == 200
    reply = auditor.post("task_actions", {"task": 1, "action": "execute"})
    assert (reply.status, err(reply)) == (403, "Permission denied")
    assert len(api.rows("tasks")) == 6


def test_unknown_table_and_row(api: Api) -> None:
    assert (api.get("nope").status, err(api.get("nope"))) == (404, "Invalid table")
    assert api.get("tasks/99").status == 404
    assert api.get("tasks/abc").status == 404
    assert api.get("tasks/1/extra").status == 404
    assert api.put("tasks/99", {"name": "x"}).status == 404
    assert api.delete("tasks/99").status == 404


def test_methods_a_table_does_not_take(api: Api) -> None:
    assert api.post("vms", {"name": "x"}).status == 405
    assert api.put("vms/1", {"name": "x"}).status == 405
    assert api.delete("system/1").status == 405
    assert api.call("PATCH", "tasks/1", {}).status == 405
    assert api.put("tasks", {}).status == 405
    assert api.post("tasks/1", {}).status == 405


def test_system_row_validates_connections(api: Api) -> None:
    rows = api.rows("system", fields="$key,yb_version,os_version,cloud_name")
    assert rows == [
        {
            "$key": 1,
            "yb_version": "26.1.2",
            "os_version": "26.1.2-sandbox",
            "cloud_name": "vrgtask-sandbox",
        }
    ]


# ---------------------------------------------------------------------------
# Reading: fields, sort, limit, offset


def test_get_without_fields_returns_every_own_column(api: Api) -> None:
    row = api.row("tasks/1")
    assert list(row) == [
        "$key",
        "name",
        "description",
        "enabled",
        "status",
        "action",
        "action_display",
        "table",
        "owner",
        "creator",
        "last_run",
        "delete_after_run",
        "system_created",
        "id",
        "settings_args",
    ]
    assert row["owner"] == "vms/1"
    assert row["action_display"] == "Take Snapshot"
    assert len(row["id"]) == 40
    assert int(row["id"], 16) >= 0


def test_hidden_columns_are_never_returned(api: Api) -> None:
    user = api.row("users/1")
    assert "_password" not in user
    assert "_readonly" not in user
    assert api.row("users/1", fields="_password,name") == {"name": "admin"}
    assert api.rows("users", fields="all")[0] == {
        "$key": 1,
        "name": "admin",
        "description": "Sandbox administrator",
        "enabled": True,
        "displayname": "Administrator",
    }
    assert api.row("tasks/1", fields="creator#_password as p,creator#name as c") == {"c": "admin"}
    assert api.get("users", filter="_password eq 'sandbox'").status == 422
    assert api.get("users", sort="_password").status == 422


def test_sort_limit_offset(api: Api) -> None:
    names = [r["name"] for r in api.rows("tasks", fields="name", sort="name")]
    assert names == sorted(names)
    assert [r["name"] for r in api.rows("tasks", fields="name", sort="-name")] == names[::-1]
    assert [r["name"] for r in api.rows("tasks", fields="name", sort="+name")] == names
    # Multi-key and stable: disabled first, then by name; equal keys keep $key order.
    rows = api.rows("tasks", fields="$key,enabled,name", sort="enabled,name")
    assert [r["$key"] for r in rows] == [4, 6, 1, 2, 3, 5]
    rows = api.rows("tasks", fields="$key", sort="-enabled")
    assert [r["$key"] for r in rows] == [1, 2, 3, 5, 6, 4]
    assert [r["$key"] for r in api.rows("tasks", fields="$key", limit=2)] == [1, 2]
    assert [r["$key"] for r in api.rows("tasks", fields="$key", limit=2, offset=3)] == [4, 5]
    assert api.rows("tasks", fields="$key", offset=10) == []
    # limit=0 is unlimited (API guide).
    assert len(api.rows("tasks", fields="$key", limit=0)) == 6
    assert len(api.rows("tasks", fields="$key", limit=0, offset=4)) == 2


def test_filter_applies_before_sort_offset_and_limit(api: Api) -> None:
    rows = api.rows("tasks", fields="$key", filter="enabled eq true", sort="-name", limit=2)
    assert [r["$key"] for r in rows] == [5, 3]  # weekly-cleanup, tenant-poweroff
    rows = api.rows("tasks", fields="name", filter="enabled eq true", sort="-name", offset=1)
    assert [r["name"] for r in rows] == [
        "tenant-poweroff",
        "power-on-dev",
        "nightly-snapshot",
        "check-for-updates",
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "-1"},
        {"limit": "x"},
        {"offset": "1.5"},
        {"offset": "-3"},
        {"sort": "nope"},
        {"filter": "name like 'x%'"},
        {"filter": "nope eq 1"},
        {"filter": "name eq"},
        {"fields": "count(triggers"},
        {"fields": "name as"},
    ],
)
def test_bad_query_parameters_are_422(api: Api, query: dict[str, str]) -> None:
    assert api.get("tasks", **query).status == 422


def test_like_and_in_answer_invalid_argument(api: Api) -> None:
    for text in ("name like 'web%'", "name in ('a','b')"):
        reply = api.get("tasks", filter=text)
        assert (reply.status, err(reply)) == (422, "Invalid argument")


def test_empty_projection_answers_with_a_count(api: Api) -> None:
    assert api.rows("tasks", fields=",", filter="enabled eq true") == [{"$count": 5}]


def test_most_and_summary_are_projection_keywords(api: Api) -> None:
    assert api.row("tasks/1", fields="most") == api.row("tasks/1")
    assert api.row("tasks/1", fields="summary") == {
        "$key": 1,
        "name": "nightly-snapshot",
        "status": "idle",
        "enabled": True,
    }
    assert api.rows("vms", fields="summary")[0] == {"$key": 1, "name": "web-01"}
    row = api.row("tasks/1", fields="summary,owner#$display as owner_display")
    assert row["owner_display"] == "web-01"


def test_unknown_projected_fields_are_left_out(api: Api) -> None:
    # progress and error are not columns: a projection naming them gets nothing for them.
    assert api.row("tasks/1", fields="$key,progress,error") == {"$key": 1}


# ---------------------------------------------------------------------------
# Writing tasks


def test_create_task_receipt_and_row(api: Api, clock: FakeClock) -> None:
    reply = api.post("tasks", {**NEW_TASK, "description": "d", "settings_args": {"a": 1}})
    assert reply.status == 201
    assert reply.json() == {"location": "/v4/tasks/7", "dbpath": "tasks/7", "$row": 7, "$key": "7"}
    row = api.row("tasks/7")
    assert row["name"] == "new"
    assert row["description"] == "d"
    assert row["owner"] == "vms/2"
    assert row["table"] == "vms"
    assert row["action"] == "poweroff"
    assert row["action_display"] == "Power Off"
    assert row["creator"] == "users/1"
    assert row["status"] == "idle"
    assert row["enabled"] is True
    assert row["delete_after_run"] is False
    assert row["last_run"] == 0
    assert row["system_created"] is False
    assert "progress" not in row
    assert "error" not in row
    assert row["settings_args"] == {"a": 1}
    assert len(row["id"]) == 40
    # Keys are never reused.
    assert api.delete("tasks/7").status == 200
    assert api.create("tasks", NEW_TASK) == 8


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner": "vms/1", "action": "poweron"}, "name"),
        ({**NEW_TASK, "name": ""}, "name"),
        ({**NEW_TASK, "name": "   "}, "name"),
        ({**NEW_TASK, "name": 5}, "name"),
        ({**NEW_TASK, "name": "x" * 65}, "name"),
        ({"name": "x", "action": "poweron"}, "owner"),
        ({**NEW_TASK, "owner": "vms/99"}, "owner"),
        ({**NEW_TASK, "owner": "vms"}, "owner"),
        ({**NEW_TASK, "owner": "system/1"}, "owner"),
        ({**NEW_TASK, "owner": "nope/1"}, "owner"),
        ({**NEW_TASK, "owner": "vm_recipes/nope"}, "owner"),
        ({**NEW_TASK, "owner": 1}, "owner"),
        ({"name": "x", "owner": "vms/1"}, "action"),
        ({**NEW_TASK, "table": "tenants"}, "table"),
        ({**NEW_TASK, "enabled": "yes"}, "enabled"),
        ({**NEW_TASK, "enabled": 1}, "enabled"),
        ({**NEW_TASK, "delete_after_run": None}, "delete_after_run"),
        ({**NEW_TASK, "description": 3}, "description"),
        ({**NEW_TASK, "settings_args": [1]}, "settings_args"),
        ({**NEW_TASK, "settings_args": {"sandbox_duration": "long"}}, "sandbox_duration"),
        ({**NEW_TASK, "settings_args": {"sandbox_start_delay": -1}}, "sandbox_start_delay"),
    ],
)
def test_create_task_validation(api: Api, body: dict[str, Any], field: str) -> None:
    reply = api.post("tasks", body)
    assert reply.status == 422, reply.body
    assert err(reply).startswith(f"Validation error on field: '{field}' - '")
    assert len(api.rows("tasks")) == 6


def test_task_names_are_1_to_64_characters(api: Api) -> None:
    key = api.create("tasks", {**NEW_TASK, "name": "n" * 64})
    assert api.row(f"tasks/{key}", fields="name")["name"] == "n" * 64
    reply = api.put(f"tasks/{key}", {"name": "n" * 65})
    assert err(reply) == "Validation error on field: 'name' - 'must be 1-64 characters'"


@pytest.mark.parametrize(
    "body",
    [
        {**NEW_TASK, "action": "enable"},
        {**NEW_TASK, "action": "shutdown"},  # VMs have no 'shutdown' action
        {**NEW_TASK, "owner": "users/1", "action": "poweron"},
    ],
)
def test_an_action_the_owner_table_lacks_is_400(api: Api, body: dict[str, Any]) -> None:
    reply = api.post("tasks", body)
    assert reply.status == 400, reply.body
    assert "Invalid action" in err(reply)
    assert len(api.rows("tasks")) == 6


def test_unknown_and_read_only_fields_are_dropped(api: Api) -> None:
    extra = {"colour": "red", "status": "running", "$key": 50, "_run": {}, "last_run": 9}
    key = api.create("tasks", {**NEW_TASK, **extra})
    assert key == 7
    row = api.row("tasks/7")
    assert (row["status"], row["last_run"], "colour" in row) == ("idle", 0, False)
    assert "_run" not in api.emulator.store.state["tables"]["tasks"]["7"]  # type: ignore[attr-defined]
    assert api.put("tasks/7", {"colour": "blue", "id": "x", "description": "kept"}).status == 200
    row = api.row("tasks/7")
    assert (row["description"], row["id"] != "x") == ("kept", True)
    audits = [r["text"] for r in api.rows("logs", filter="level eq 'audit'", sort="-$key")]
    assert audits[0] == "Updated task 'new' (fields: description)"


def test_numeric_strings_are_coerced(api: Api) -> None:
    reply = api.post("task_schedule_triggers", {"task": "3", "schedule": "3"})
    assert reply.status == 201
    row = api.row(f"task_schedule_triggers/{reply.json()['$key']}", fields="task,schedule")
    assert row == {"task": 3, "schedule": 3}
    key = api.create("task_schedules", {"name": "s", "repeat_iteration": "2"})
    assert api.row(f"task_schedules/{key}", fields="repeat_iteration") == {"repeat_iteration": 2}
    reply = api.post("task_schedules", {"name": "s", "repeat_iteration": "two"})
    assert reply.status == 422


def test_strict_mode_refuses_unknown_and_read_only_fields(api: Api) -> None:
    api.emulator.strict = True
    reply = api.post("tasks", {**NEW_TASK, "colour": "red"})
    assert (reply.status, err(reply)) == (
        422,
        "Validation error on field: 'colour' - 'no such field'",
    )
    reply = api.put("tasks/1", {"status": "running"})
    assert (reply.status, err(reply)) == (
        422,
        "Validation error on field: 'status' - 'field is read-only'",
    )
    assert len(api.rows("tasks")) == 6


def test_strict_mode_from_the_state_and_the_environment(
    api: Api, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.state["settings"]["strict"] = True
    assert api.post("tasks", {**NEW_TASK, "colour": "red"}).status == 422
    monkeypatch.setenv("VRGTASK_SANDBOX_STRICT", "0")  # the environment wins
    assert api.post("tasks", {**NEW_TASK, "colour": "red"}).status == 201


def test_every_owner_table_and_its_actions(api: Api) -> None:
    for owner, action, display in [
        ("vms/1", "kill", "Kill Power"),
        ("vms/2", "snapshot", "Take Snapshot"),
        ("tenants/2", "reset", "Reset"),
        ("users/3", "disable", "Disable"),
        ("vnets/1", "poweron", "Power On"),
        ("nodes/1", "maintenance", "Enable Maintenance Mode"),
        ("nodes/1", "leavemaintenance", "Leave Maintenance"),
        ("clusters/1", "shutdown", "Shut Down"),
        ("clusters/1", "cancel_shutdown", "Cancel Shutdown"),
        ("smtp_settings/1", "send", "Send Email"),
        ("webhook_urls/1", "send", "Send Webhook"),
        ("update_settings/1", "install", "Install"),
        ("vm_recipes/nas-winbind", "deploy", "Deploy Recipe"),
        ("task_scripts/1", "run", "Run Script"),
    ]:
        key = api.create("tasks", {"name": owner, "owner": owner, "action": action})
        row = api.row(f"tasks/{key}", fields="table,action_display,owner#$display as o")
        assert row["table"] == owner.split("/")[0]
        assert row["action_display"] == display
    assert api.post("tasks", {"name": "c", "owner": "clusters/1", "action": "reset"}).status == 400
    assert api.row("vm_recipes/nas-winbind", fields="$key,name") == {
        "$key": "nas-winbind",
        "name": "nas-winbind",
    }
    assert api.get("vm_recipes/nope").status == 404


def test_malformed_bodies(api: Api) -> None:
    reply = api.call("POST", "tasks", raw=b"{not json")
    assert (reply.status, "JSON" in err(reply)) == (400, True)
    assert api.call("POST", "tasks", raw=b"[1, 2]").status == 400
    assert api.call("POST", "tasks", raw=b'{"name": NaN}').status == 400
    assert api.call("PUT", "tasks/1", raw=b'{"name": ').status == 400


def test_update_task(api: Api) -> None:
    reply = api.put("tasks/2", {"name": "renamed", "enabled": False, "settings_args": None})
    assert (reply.status, reply.json()) == (200, {})
    row = api.row("tasks/2", fields="name,enabled,settings_args,description")
    assert row == {
        "name": "renamed",
        "enabled": False,
        "settings_args": None,
        "description": "Power on the build runner on weekday mornings",
    }
    assert api.put("tasks/2", {}).status == 200


def test_update_task_validation(api: Api) -> None:
    before = api.row("tasks/1")
    for body, status in (
        ({"name": ""}, 422),
        ({"enabled": "no"}, 422),
        ({"owner": "users/1"}, 400),  # 'snapshot' is not a users action
        ({"action": "disable"}, 400),
        ({"status": "running"}, 200),  # read-only: dropped
        ({"table": "users"}, 200),  # create-only: dropped
        ({"unknown": 1}, 200),  # unknown: dropped
    ):
        reply = api.put("tasks/1", body)
        assert reply.status == status, body
    assert api.row("tasks/1") == before
    assert api.put("tasks/1", {"owner": "users/1", "action": "disable"}).status == 200
    row = api.row("tasks/1", fields="owner,table,action_display")
    assert row == {"owner": "users/1", "table": "users", "action_display": "Disable"}


def test_delete_task_cascades_to_triggers_and_events(api: Api) -> None:
    # Task 2 has trigger 2 and event 1; make schedule 3 point at it too.
    assert api.put("task_schedules/3", {"task": 2}).status == 200
    reply = api.delete("tasks/2")
    assert (reply.status, reply.body) == (200, b"")
    assert api.get("tasks/2").status == 404
    assert [t["$key"] for t in api.rows("task_schedule_triggers")] == [1]
    assert api.rows("task_events") == []
    assert api.row("task_schedules/3", fields="task")["task"] is None


# ---------------------------------------------------------------------------
# The execution model


def test_a_run_is_queued_then_running_then_idle(api: Api, clock: FakeClock) -> None:
    reply = api.action("tasks/2", "execute", {"params": {"sandbox_duration": 10}})
    assert (reply.status, reply.json()) == (200, {"task": 2})
    assert status_of(api, 2) == ("idle", 0)  # queued: the start delay (default 1 s)
    clock.advance(DEFAULT_START_DELAY - 0.01)
    assert status_of(api, 2) == ("idle", 0)
    reply = api.action("tasks/2", "execute", {"params": {}})
    assert reply.status == 409  # a queued run counts
    clock.advance(0.01)
    started = int(clock.now)
    assert status_of(api, 2) == ("running", started)  # last_run is set when it starts
    assert [r["$key"] for r in api.rows("tasks", filter="status eq 'running'")] == [2]
    assert log_texts(api, "power-on-dev") == [("message", "Task 'power-on-dev' started")]
    clock.advance(9.99)
    assert status_of(api, 2) == ("running", started)
    reply = api.action("tasks/2", "execute", {"params": {}})
    assert (reply.status, err(reply)) == (409, "Task 'power-on-dev' is already running or queued")
    clock.advance(0.01)
    assert status_of(api, 2) == ("idle", started)
    assert api.rows("tasks", filter="status eq 'running'") == []
    assert log_texts(api, "power-on-dev") == [
        ("message", "Task 'power-on-dev' started"),
        ("message", "Task 'power-on-dev' completed"),
    ]


def test_log_entries_carry_the_times_of_the_run(api: Api, clock: FakeClock) -> None:
    queued = clock.now
    api.action("tasks/2", "execute", {"params": {"sandbox_duration": 4}})
    clock.advance(60)  # nobody looked in between: the entries still carry the real times
    rows = api.rows("logs", filter="object_name eq 'power-on-dev'", sort="timestamp")
    stamps = [(r["level"], r["timestamp"]) for r in rows if r["level"] != "audit"]
    start_us = int((queued + DEFAULT_START_DELAY) * 1_000_000)
    assert stamps == [("message", start_us), ("message", start_us + 4_000_000)]
    assert {r["user"] for r in rows} == {"admin"}


def test_start_delay_per_run_settings_sandbox_and_environment(
    api: Api, clock: FakeClock, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.action("tasks/1", "execute", {"params": {"sandbox_start_delay": 0}})
    assert status_of(api, 1)[0] == "running"  # a zero delay starts the run at once
    assert api.put("tasks/3", {"settings_args": {"sandbox_start_delay": 5}}).status == 200
    api.action("tasks/3", "execute")
    clock.advance(4.9)
    assert status_of(api, 3)[0] == "idle"
    clock.advance(0.1)
    assert status_of(api, 3)[0] == "running"
    store.state["settings"]["start_delay"] = 2
    api.action("tasks/2", "execute")
    clock.advance(1.5)
    assert status_of(api, 2)[0] == "idle"
    clock.advance(0.5)
    assert status_of(api, 2)[0] == "running"
    monkeypatch.setenv("VRGTASK_SANDBOX_START_DELAY", "0")  # the environment wins
    key = api.create("tasks", NEW_TASK)
    api.action(f"tasks/{key}", "execute")
    assert status_of(api, key)[0] == "running"
    api.emulator.start_delay = 7.0  # the constructor's (serve --start-delay) wins over all
    key = api.create("tasks", NEW_TASK)
    api.action(f"tasks/{key}", "execute")
    clock.advance(6)
    assert status_of(api, key)[0] == "idle"


def test_default_duration(api: Api, clock: FakeClock) -> None:
    api.action("tasks/3", "execute", {"params": {"sandbox_start_delay": 0}})
    clock.advance(DEFAULT_DURATION - 0.01)
    assert status_of(api, 3)[0] == "running"
    clock.advance(0.01)
    assert status_of(api, 3)[0] == "idle"


def test_zero_duration_and_parameters_win_over_settings(api: Api, clock: FakeClock) -> None:
    settings = {"sandbox_duration": 0, "sandbox_start_delay": 0}
    assert api.put("tasks/2", {"settings_args": settings}).status == 200
    api.action("tasks/2", "execute")
    assert status_of(api, 2) == ("idle", int(clock.now))
    assert [t for _, t in log_texts(api, "power-on-dev")] == [
        "Task 'power-on-dev' started",
        "Task 'power-on-dev' completed",
    ]
    api.action("tasks/2", "execute", {"params": {"sandbox_duration": 5}})
    clock.advance(1)
    assert status_of(api, 2)[0] == "running"


def test_a_failed_run_ends_idle_and_writes_error_entries(api: Api, clock: FakeClock) -> None:
    params = {"sandbox_duration": 1, "sandbox_fail": "disk full", "sandbox_start_delay": 0}
    api.action("tasks/2", "execute", {"params": params})
    clock.advance(0.5)
    assert status_of(api, 2)[0] == "running"
    clock.advance(0.5)
    assert status_of(api, 2) == ("idle", int(clock.now - 1))
    assert log_texts(api, "power-on-dev") == [
        ("message", "Task 'power-on-dev' started"),
        ("error", "Task 'power-on-dev' failed: disk full"),
        ("message", "Task 'power-on-dev' ended with errors"),
    ]
    # What pyvergeos' client.logs.list(object_type="task", level=[...]) sends.
    rows = api.rows(
        "logs",
        filter="object_type eq 'task' and (level eq 'error' or level eq 'critical') "
        "and object_name eq 'power-on-dev'",
        sort="-timestamp",
        limit=100,
    )
    assert [r["text"] for r in rows] == ["Task 'power-on-dev' failed: disk full"]


def test_failure_through_settings(api: Api, clock: FakeClock) -> None:
    settings = {"sandbox_fail": "boom", "sandbox_duration": 0, "sandbox_start_delay": 0}
    key = api.create("tasks", {**NEW_TASK, "settings_args": settings})
    api.action(f"tasks/{key}", "execute")
    assert status_of(api, key) == ("idle", int(clock.now))
    assert ("error", "Task 'new' failed: boom") in log_texts(api, "new")
    assert api.rows("tasks", filter="status eq 'error'") == []


@pytest.mark.parametrize(
    "params",
    [
        {"sandbox_duration": -1},
        {"sandbox_duration": "2"},
        {"sandbox_duration": True},
        {"sandbox_fail": 3},
        {"sandbox_start_delay": -0.5},
        {"sandbox_start_delay": "soon"},
    ],
)
def test_bad_run_parameters_are_422(api: Api, clock: FakeClock, params: dict[str, Any]) -> None:
    reply = api.action("tasks/1", "execute", {"params": params})
    assert reply.status == 422
    assert err(reply).startswith("Validation error on field: 'sandbox_")
    clock.advance(2)
    assert status_of(api, 1)[0] == "idle"
    assert log_texts(api, "nightly-snapshot")[-1][1] == "Task 'nightly-snapshot' completed"


def test_execute_body_shape(api: Api) -> None:
    assert api.action("tasks/1", "execute", {"params": [1]}).status == 422
    assert api.action("tasks/1", "execute", {"other": 1}).status == 422
    reply = api.action("tasks/1", "nope")
    assert (reply.status, err(reply)) == (
        400,
        "Invalid action 'nope' for tasks (allowed: cancel, execute)",
    )
    assert api.action("task_schedules/1", "execute").status == 400


def test_cancel_a_running_and_a_queued_run(api: Api, clock: FakeClock) -> None:
    api.action("tasks/2", "execute", {"params": {"sandbox_duration": 10, "sandbox_start_delay": 0}})
    started = int(clock.now)
    clock.advance(5)
    reply = api.action("tasks/2", "cancel")
    assert (reply.status, reply.json()) == (200, {"task": 2})
    assert status_of(api, 2) == ("idle", started)
    clock.advance(10)
    assert status_of(api, 2) == ("idle", started)
    assert log_texts(api, "power-on-dev")[-1] == ("warning", "Task 'power-on-dev' cancelled")
    # A queued run is cancelled before it starts: it never runs.
    api.action("tasks/2", "execute")
    assert api.action("tasks/2", "cancel").status == 200
    clock.advance(10)
    assert status_of(api, 2) == ("idle", started)
    levels = [level for level, _ in log_texts(api, "power-on-dev")]
    assert levels == ["message", "warning", "warning"]
    assert api.action("tasks/2", "cancel").status == 200  # nothing to cancel: a no-op
    assert len(log_texts(api, "power-on-dev")) == 3


def test_delete_after_run_only_after_success(api: Api, clock: FakeClock) -> None:
    ok = api.create("tasks", {**NEW_TASK, "delete_after_run": True})
    bad = api.create("tasks", {**NEW_TASK, "name": "bad", "delete_after_run": True})
    api.create("task_schedule_triggers", {"task": ok, "schedule": 3})
    run = {"sandbox_duration": 1, "sandbox_start_delay": 0}
    api.action(f"tasks/{ok}", "execute", {"params": run})
    api.action(f"tasks/{bad}", "execute", {"params": {**run, "sandbox_fail": "x"}})
    clock.advance(0.5)
    assert api.get(f"tasks/{ok}").status == 200
    clock.advance(0.5)
    assert api.get(f"tasks/{ok}").status == 404
    assert [t["task"] for t in api.rows("task_schedule_triggers")] == [1, 2]
    assert status_of(api, bad)[0] == "idle"
    audits = [r["text"] for r in api.rows("logs", filter="level eq 'audit'")]
    assert "Deleted task 'new'" in audits
    assert "Deleted task 'bad'" not in audits


def test_running_tasks_finish_even_if_only_another_table_is_read(
    api: Api, clock: FakeClock, store: MemoryStore
) -> None:
    api.action("tasks/1", "execute", {"params": {"sandbox_duration": 1}})
    clock.advance(3)
    api.get("vms")
    row = store.state["tables"]["tasks"]["1"]
    assert row["status"] == "idle"
    assert "_run" not in row


def test_reads_do_not_change_the_state_while_nothing_happens(
    api: Api, clock: FakeClock, emulator: Emulator
) -> None:
    api.action("tasks/1", "execute", {"params": {"sandbox_duration": 10}})
    clock.advance(3)
    api.get("tasks/1")
    digest = emulator.digest()
    clock.advance(3)
    assert status_of(api, 1)[0] == "running"
    assert emulator.digest() == digest  # reads do not change the state


# ---------------------------------------------------------------------------
# The logs table


def test_logs_table_columns_and_seeded_history(api: Api) -> None:
    rows = api.rows("logs", sort="-timestamp", limit=100)
    assert list(rows[0]) == [
        "$key",
        "level",
        "text",
        "timestamp",
        "user",
        "object_type",
        "object_name",
    ]
    failures = api.rows("logs", filter="object_type eq 'task' and level eq 'error'")
    assert [r["text"] for r in failures] == ["Task 'tenant-poweroff' failed: tenant acme is busy"]
    assert all(r["timestamp"] > 10**15 for r in rows)  # microseconds
    assert api.post("logs", {"text": "x"}).status == 405


def test_logs_filters_as_pyvergeos_sends_them(api: Api, clock: FakeClock) -> None:
    since_us = int(clock.now * 1_000_000)
    api.action("tasks/2", "execute", {"params": {"sandbox_start_delay": 0, "sandbox_duration": 0}})
    recent = api.rows("logs", filter=f"timestamp ge {since_us}", sort="-timestamp")
    assert [r["text"] for r in recent] == [
        "Task 'power-on-dev' completed",
        "Task 'power-on-dev' started",
    ]
    assert api.rows("logs", filter=f"timestamp lt {since_us} and text ct 'POWER-ON'") == []
    assert len(api.rows("logs", filter="user ct 'adm' and text ct 'started'", limit=2)) == 2
    assert len(api.rows("logs", filter="level eq 'message'", limit=0)) == 6


def test_audit_entries_for_every_task_engine_table(api: Api) -> None:
    key = api.create("task_schedules", {"name": "sched"})
    api.put(f"task_schedules/{key}", {"description": "d", "enabled": False})
    trigger = api.create("task_schedule_triggers", {"task": 3, "schedule": key})
    api.delete(f"task_schedule_triggers/{trigger}")
    event = api.create("task_events", {"task": 3, "table": "vms", "event": "poweron"})
    api.delete(f"task_events/{event}")
    api.delete(f"task_schedules/{key}")
    rows = api.rows("logs", filter="level eq 'audit' and object_type ne 'task'", sort="$key")
    assert [(r["object_type"], r["text"]) for r in rows] == [
        ("task_schedule", "Created schedule 'sched'"),
        ("task_schedule", "Updated schedule 'sched' (fields: description, enabled)"),
        ("task_schedule_trigger", "Created schedule trigger 'tenant-poweroff @ sched'"),
        ("task_schedule_trigger", "Deleted schedule trigger 'tenant-poweroff @ sched'"),
        ("task_event", "Created event trigger 'Poweron'"),
        ("task_event", "Deleted event trigger 'Poweron'"),
        ("task_schedule", "Deleted schedule 'sched'"),
    ]


# ---------------------------------------------------------------------------
# The two action forms and the platform profiles


def test_post_task_actions_executes_like_the_put_form(api: Api, clock: FakeClock) -> None:
    body = {"task": 2, "action": "execute", "params": {"sandbox_start_delay": 0}}
    reply = api.post("task_actions", body)
    assert (reply.status, reply.json()) == (200, {"task": 2})
    assert status_of(api, 2)[0] == "running"
    assert api.post("task_actions", {"task": "2", "action": "cancel"}).status == 200
    assert status_of(api, 2)[0] == "idle"


@pytest.mark.parametrize(
    ("table", "body"),
    [
        (
            "task_schedule_actions",
            {"task_schedule": 1, "action": "get_schedule", "params": {"max": 2}},
        ),
        ("task_schedule_trigger_actions", {"task_schedule_trigger": 1, "action": "trigger"}),
        ("task_event_actions", {"task_event": 1, "action": "trigger", "params": {"context": {}}}),
        ("task_script_actions", {"task_script": 1, "action": "run"}),
    ],
)
def test_every_actions_table_takes_the_post_form(
    api: Api, table: str, body: dict[str, Any]
) -> None:
    reply = api.post(table, body)
    assert reply.status == 200, reply.body


def test_actions_table_errors(api: Api) -> None:
    reply = api.post("task_actions", {"task": 1, "action": "explode"})
    assert reply.status == 400
    assert api.post("task_actions", {"task": 99, "action": "execute"}).status == 404
    assert api.post("task_actions", {"action": "execute"}).status == 422
    assert api.post("task_actions", {"task": 1}).status == 422
    assert api.post("task_actions", {"task": 1, "action": "execute", "params": [1]}).status == 422
    assert api.get("task_actions").status == 405


def test_profile_post_makes_the_put_form_a_silent_no_op(api: Api, clock: FakeClock) -> None:
    api.emulator.actions = "post"
    reply = api.action("tasks/2", "execute", {"params": {"sandbox_start_delay": 0}})
    assert (reply.status, reply.json()) == (200, {})
    clock.advance(5)
    assert status_of(api, 2) == ("idle", 0)
    assert log_texts(api, "power-on-dev") == []
    assert api.action("tasks/2", "explode").status == 200  # nothing is looked at
    assert api.post("task_actions", {"task": 2, "action": "execute"}).status == 200


def test_profile_put_has_no_actions_tables(api: Api) -> None:
    api.emulator.actions = "put"
    assert api.post("task_actions", {"task": 2, "action": "execute"}).status == 404
    assert api.get("task_actions/$table").status == 404
    assert api.action("tasks/2", "execute").status == 200


def test_profile_from_state_and_environment(
    api: Api, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.state["settings"]["actions"] = "put"
    assert api.post("task_actions", {"task": 2, "action": "execute"}).status == 404
    monkeypatch.setenv("VRGTASK_SANDBOX_ACTIONS", "both")
    assert api.post("task_actions", {"task": 2, "action": "execute"}).status == 200


def test_a_bad_profile_is_one_clear_error_and_changes_nothing(
    api: Api, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = emulator.digest()
    monkeypatch.setenv("VRGTASK_SANDBOX_ACTIONS", "patch")
    with pytest.raises(SandboxStateError, match="VRGTASK_SANDBOX_ACTIONS='patch'"):
        api.post("tasks", NEW_TASK)
    monkeypatch.delenv("VRGTASK_SANDBOX_ACTIONS")
    for name, value in (("VRGTASK_SANDBOX_STRICT", "maybe"), ("VRGTASK_SANDBOX_START_DELAY", "-1")):
        monkeypatch.setenv(name, value)
        with pytest.raises(SandboxStateError, match=name):
            api.post("tasks", NEW_TASK)
        monkeypatch.delenv(name)
    assert emulator.digest() == digest
    with pytest.raises(SandboxStateError, match="unknown actions profile"):
        Emulator(MemoryStore(), actions="patch")


def test_schema_probe(api: Api) -> None:
    schema = api.row("tasks/$table")
    assert schema["table"] == "tasks"
    names = [f["name"] for f in schema["fields"]]
    assert "status" in names
    assert "progress" not in names
    assert {"name": "owner", "type": "row"} in schema["fields"]
    assert api.row("logs/$table")["table"] == "logs"
    actions = api.row("task_actions/$table")
    assert [f["name"] for f in actions["fields"]] == ["$key", "task", "action", "params"]
    assert api.put("tasks/$table", {}).status == 405


def test_every_reply_carries_a_date_header(api: Api) -> None:
    for reply in (api.get("tasks"), api.get("nope"), api.as_user(None).get("tasks"), api.get("/")):
        assert reply.headers["Date"] == "Thu, 28 May 2026 20:26:40 GMT"


# ---------------------------------------------------------------------------
# Schedules


def test_schedule_create_defaults(api: Api, clock: FakeClock) -> None:
    key = api.create("task_schedules", {"name": "s"})
    row = api.row(f"task_schedules/{key}")
    today = datetime.fromtimestamp(clock.now, timezone.utc).date()
    assert row == {
        "$key": key,
        "name": "s",
        "description": "",
        "enabled": True,
        "repeat_every": "hour",
        "repeat_iteration": 1,
        "start_date": today.isoformat(),
        "start_date_epoch": int(
            datetime(today.year, today.month, today.day, tzinfo=timezone.utc).timestamp()
        ),
        "end_date": "",
        "start_time_of_day": 0,
        "end_time_of_day": 86400,
        "all_day": True,
        "day_of_month": "start_date",
        "monday": True,
        "tuesday": True,
        "wednesday": True,
        "thursday": True,
        "friday": True,
        "saturday": True,
        "sunday": True,
        "task": None,
        "system_created": False,
        "creator": "users/1",
    }


def test_schedule_create_with_everything(api: Api) -> None:
    body = {
        "name": "weekly",
        "description": "d",
        "enabled": False,
        "repeat_every": "week",
        "repeat_iteration": 2,
        "start_date": "2026-03-01",
        "end_date": "2026-12-31 23:59:59",
        "start_time_of_day": 3600,
        "end_time_of_day": 7200,
        "day_of_month": "last",
        "saturday": False,
        "sunday": False,
        "task": 1,
    }
    key = api.create("task_schedules", body)
    row = api.row(f"task_schedules/{key}")
    assert {k: row[k] for k in body} == body
    assert row["all_day"] is False
    assert row["start_date_epoch"] == 1772323200
    fields = "display(repeat_every) as r,display(day_of_month) as d,task#$display as t"
    assert api.row(f"task_schedules/{key}", fields=fields) == {
        "r": "Week(s)",
        "d": "Last",
        "t": "nightly-snapshot",
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "s", "repeat_every": "fortnight"},
        {"name": "s", "repeat_iteration": 0},
        {"name": "s", "repeat_iteration": 1.5},
        {"name": "s", "repeat_iteration": "2x"},
        {"name": "s", "start_time_of_day": -1},
        {"name": "s", "end_time_of_day": 86401},
        {"name": "s", "start_time_of_day": 3600.5},
        {"name": "s", "day_of_month": "2nd"},
        {"name": "s", "start_date": "2026-02-30"},
        {"name": "s", "start_date": "2026/01/01"},
        {"name": "s", "start_date": "2026-1-1"},
        {"name": "s", "start_date": None},
        {"name": "s", "end_date": "tomorrow"},
        {"name": "s", "end_date": "2026-01-01 25:00:00"},
        {"name": "s", "end_date": "2026-01-01T10:00:00"},
        {"name": "s", "task": 99},
        {"name": "s", "task": "99"},
        {"name": "s", "monday": "yes"},
    ],
)
def test_schedule_validation(api: Api, body: dict[str, Any]) -> None:
    reply = api.post("task_schedules", body)
    assert reply.status == 422
    assert err(reply).startswith("Validation error on field: '")
    assert len(api.rows("task_schedules")) == 4


def test_schedule_create_drops_derived_fields(api: Api) -> None:
    body = {"name": "s", "all_day": False, "start_date_epoch": 1, "task": "1"}
    key = api.create("task_schedules", body)
    row = api.row(f"task_schedules/{key}", fields="all_day,start_date_epoch,task")
    assert (row["all_day"], row["start_date_epoch"] != 1, row["task"]) == (True, True, 1)


def test_schedule_update(api: Api) -> None:
    assert (
        api.put("task_schedules/3", {"end_date": "2027-01-01", "repeat_every": "minute"}).status
        == 200
    )
    row = api.row("task_schedules/3", fields="end_date,repeat_every,name")
    assert row == {"end_date": "2027-01-01", "repeat_every": "minute", "name": "hourly"}
    assert api.put("task_schedules/3", {"end_date": None}).status == 200
    assert api.row("task_schedules/3", fields="end_date") == {"end_date": ""}
    assert api.put("task_schedules/3", {"start_time_of_day": 90000}).status == 422
    assert api.put("task_schedules/3", {"name": ""}).status == 422
    assert api.put("task_schedules/3", {"creator": "users/2"}).status == 200  # dropped
    assert api.row("task_schedules/3", fields="creator") == {"creator": "users/1"}


def test_schedule_delete_refused_while_triggers_exist(api: Api) -> None:
    reply = api.delete("task_schedules/1")
    assert (reply.status, err(reply)) == (
        409,
        "Schedule 'nightly' has 1 trigger(s); delete them first",
    )
    assert api.get("task_schedules/1").status == 200
    assert api.delete("task_schedule_triggers/1").status == 200
    assert api.delete("task_schedules/1").status == 200
    assert api.get("task_schedules/1").status == 404


def test_get_schedule(api: Api, clock: FakeClock) -> None:
    reply = api.action("task_schedules/1", "get_schedule", {"max": 3, "start_time": 1767225600})
    assert reply.status == 200
    # nightly: every day at 02:00 (UTC here) from 2026-01-01
    assert reply.json() == {
        "schedule": [{"time": 1767232800}, {"time": 1767319200}, {"time": 1767405600}]
    }
    reply = api.action(
        "task_schedules/3",
        "get_schedule",
        {"max": 100, "start_time": 1767225600, "end_time": 1767225600 + 3 * 3600},
    )
    assert [t["time"] for t in reply.json()["schedule"]] == [
        1767225600 + h * 3600 for h in range(4)
    ]
    # start_time defaults to now
    times = [
        t["time"]
        for t in api.action("task_schedules/3", "get_schedule", {"max": 2}).json()["schedule"]
    ]
    assert len(times) == 2
    assert clock.now <= times[0] < times[1] <= clock.now + 7200


@pytest.mark.parametrize(
    "body",
    [{"max": 0}, {"max": 1441}, {"max": "5"}, {"max": True}, {"start_time": "now"}, {"limit": 5}],
)
def test_get_schedule_validation(api: Api, body: dict[str, Any]) -> None:
    assert api.action("task_schedules/1", "get_schedule", body).status == 422


def test_get_schedule_contract(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake(row: dict[str, Any], **kwargs: Any) -> list[int]:
        calls.append({"row": row, **kwargs})
        return [10, 20]

    monkeypatch.setattr(schedule_module, "upcoming_runs", fake)
    reply = api.action(
        "task_schedules/2", "get_schedule", {"max": 1440, "start_time": 5, "end_time": 9}
    )
    assert reply.json() == {"schedule": [{"time": 10}, {"time": 20}]}
    (call,) = calls
    assert call["start_time"] == 5
    assert call["end_time"] == 9
    assert call["max_results"] == 1440
    assert call["tz"] is timezone.utc
    assert call["row"]["name"] == "weekday-mornings"
    assert call["row"]["saturday"] is False
    assert "start_date_epoch" in call["row"]

    def broken(row: dict[str, Any], **kwargs: Any) -> list[int]:
        raise schedule_module.ScheduleError("cannot interpret this schedule")

    monkeypatch.setattr(schedule_module, "upcoming_runs", broken)
    reply = api.action("task_schedules/2", "get_schedule", {"max": 1})
    assert (reply.status, err(reply)) == (422, "cannot interpret this schedule")


# ---------------------------------------------------------------------------
# Triggers


def test_trigger_create_and_duplicates(api: Api) -> None:
    key = api.create("task_schedule_triggers", {"task": 3, "schedule": 3})
    assert api.row(f"task_schedule_triggers/{key}", fields="task,schedule") == {
        "task": 3,
        "schedule": 3,
    }
    reply = api.post("task_schedule_triggers", {"task": 3, "schedule": 3})
    assert (reply.status, err(reply)) == (
        409,
        "Task 'tenant-poweroff' is already linked to schedule 'hourly'",
    )
    for body in (
        {"task": 99, "schedule": 1},
        {"task": 1, "schedule": 99},
        {"task": 1},
        {"schedule": 1},
        {"task": "x", "schedule": 1},
    ):
        assert api.post("task_schedule_triggers", body).status == 422, body
    assert api.put(f"task_schedule_triggers/{key}", {"task": 1}).status == 200  # dropped
    assert api.row(f"task_schedule_triggers/{key}", fields="task") == {"task": 3}


def test_trigger_timer_column(api: Api, clock: FakeClock) -> None:
    timer = api.row("task_schedule_triggers/1", fields="trigger")["trigger"]
    assert clock.now <= timer <= clock.now + 86400
    assert datetime.fromtimestamp(timer, timezone.utc).strftime("%H:%M:%S") == "02:00:00"
    api.put("task_schedules/1", {"enabled": False})
    assert api.row("task_schedule_triggers/1", fields="trigger")["trigger"] == 0
    assert [r["$key"] for r in api.rows("task_schedule_triggers", filter="trigger eq 0")] == [1]


def test_firing_a_trigger_runs_its_task(api: Api, clock: FakeClock) -> None:
    reply = api.action("task_schedule_triggers/2", "trigger")
    assert (reply.status, reply.json()) == (200, {"task": 2})
    assert status_of(api, 2)[0] == "idle"  # queued
    clock.advance(DEFAULT_START_DELAY)
    assert status_of(api, 2)[0] == "running"
    assert api.action("task_schedule_triggers/2", "trigger").status == 409


def test_sdk_trigger_projection(api: Api) -> None:
    from pyvergeos.resources.task_schedule_triggers import TaskScheduleTriggerManager

    fields = ",".join(TaskScheduleTriggerManager._default_fields or [])
    rows = api.rows("task_schedule_triggers", fields=fields, filter="task eq 2")
    assert len(rows) == 1
    row = rows[0]
    row.pop("trigger")
    assert row == {
        "$key": 2,
        "task": 2,
        "schedule": 2,
        "sch_$key": 2,
        "sch_enabled": True,
        "sch_start_time_of_day": 27000,
        "sch_repeat_iteration": 1,
        "sch_end_date": "",
        "sch_day_of_month": "Start Date",
        "sch_repeat_every": "Day(s)",
        "task_display": "power-on-dev",
        "schedule_display": "weekday-mornings",
    }


# ---------------------------------------------------------------------------
# Events


def test_event_create_defaults(api: Api) -> None:
    key = api.create("task_events", {"task": 3, "table": "vms", "event": "power_off"})
    assert api.row(f"task_events/{key}") == {
        "$key": key,
        "owner": "tenants/1",  # the task's owner
        "table": "vms",
        "event": "power_off",
        "event_name": "Power Off",
        "task": 3,
        "table_event_filters": None,
        "trigger": 0,
        "context": None,
    }
    key = api.create(
        "task_events",
        {
            "task": 3,
            "table": "users",
            "event": "login",
            "owner": "users/2",
            "event_name": "Auditor logs in",
            "table_event_filters": {"a": 1},
            "context": {"b": 2},
        },
    )
    row = api.row(f"task_events/{key}", fields="owner,event_name,table_event_filters,context")
    assert row == {
        "owner": "users/2",
        "event_name": "Auditor logs in",
        "table_event_filters": {"a": 1},
        "context": {"b": 2},
    }


@pytest.mark.parametrize(
    "body",
    [
        {"table": "vms", "event": "x"},
        {"task": 99, "table": "vms", "event": "x"},
        {"task": 1, "event": "x"},
        {"task": 1, "table": "vms"},
        {"task": 1, "table": "vms", "event": ""},
        {"task": 1, "table": "vms", "event": "x", "owner": "vms/9"},
        {"task": 1, "table": "vms", "event": "x", "context": "text"},
        {"task": "one", "table": "vms", "event": "x"},
    ],
)
def test_event_validation(api: Api, body: dict[str, Any]) -> None:
    assert api.post("task_events", body).status == 422


def test_event_update_and_trigger(api: Api, clock: FakeClock) -> None:
    assert (
        api.put(
            "task_events/1", {"context": {"sandbox_fail": "nope"}, "table_event_filters": {"x": 1}}
        ).status
        == 200
    )
    assert api.put("task_events/1", {"event": "logout"}).status == 200  # create-only: dropped
    assert api.row("task_events/1", fields="event") == {"event": "login"}
    reply = api.action("task_events/1", "trigger")
    assert (reply.status, reply.json()) == (200, {"task": 2})
    clock.advance(DEFAULT_START_DELAY + DEFAULT_DURATION)
    assert status_of(api, 2)[0] == "idle"
    assert log_texts(api, "power-on-dev")[-2] == ("error", "Task 'power-on-dev' failed: nope")
    # A context given with the trigger wins over the stored one.
    context = {"sandbox_duration": 0, "sandbox_start_delay": 0}
    api.action("task_events/1", "trigger", {"context": context})
    assert log_texts(api, "power-on-dev")[-1] == ("message", "Task 'power-on-dev' completed")
    assert api.action("task_events/1", "trigger", {"context": 5}).status == 422
    assert api.action("task_events/1", "trigger", {"other": 5}).status == 422


# ---------------------------------------------------------------------------
# Scripts


def test_script_create_and_uniqueness(api: Api) -> None:
    key = api.create("task_scripts", {"name": "s2", "script": "log('x')"})
    assert api.row(f"task_scripts/{key}") == {
        "$key": key,
        "name": "s2",
        "description": "",
        "script": "log('x')",
        "task_settings": {"questions": []},
    }
    reply = api.post("task_scripts", {"name": "s2", "script": ""})
    assert (reply.status, err(reply)) == (409, "A task script named 's2' already exists")
    assert api.put(f"task_scripts/{key}", {"name": "cleanup-logs"}).status == 409
    assert api.put(f"task_scripts/{key}", {"name": "s2", "script": "y"}).status == 200
    assert api.post("task_scripts", {"name": "s3"}).status == 422
    assert (
        api.post("task_scripts", {"name": "s3", "script": "x", "task_settings": None}).status == 422
    )


def test_script_run_creates_and_executes_a_task(api: Api, clock: FakeClock) -> None:
    reply = api.action("task_scripts/1", "run", {"sandbox_duration": 2, "target": "x"})
    assert reply.status == 200
    key = reply.json()["task"]
    row = api.row(f"tasks/{key}")
    assert row["name"] == "run: cleanup-logs"
    assert row["owner"] == "task_scripts/1"
    assert row["action"] == "run"
    assert row["delete_after_run"] is True
    assert row["status"] == "idle"  # queued
    assert api.row("task_scripts/1", fields="count(tasks) as n") == {"n": 2}
    clock.advance(DEFAULT_START_DELAY)
    assert api.row(f"tasks/{key}", fields="status") == {"status": "running"}
    clock.advance(2)
    assert api.get(f"tasks/{key}").status == 404
    assert api.action("task_scripts/1", "run", {"sandbox_duration": -5}).status == 422
    assert len(api.rows("tasks")) == 6


def test_script_delete_cascades_to_its_tasks(api: Api) -> None:
    api.create("task_schedule_triggers", {"task": 5, "schedule": 3})
    assert api.delete("task_scripts/1").status == 200
    assert api.get("tasks/5").status == 404
    assert [t["task"] for t in api.rows("task_schedule_triggers")] == [1, 2]


# ---------------------------------------------------------------------------
# Seed and scale


def test_seed_is_fast_and_stable() -> None:
    started = time.perf_counter()
    big = seed_state(10_000)
    assert time.perf_counter() - started < 1.0
    assert len(big["tables"]["tasks"]) == 10_006
    assert big["tables"]["tasks"]["10006"]["name"] == "bulk-task-10000"
    assert state_digest(seed_state()) == state_digest(seed_state())
    small = Api(Emulator(MemoryStore(seed_state(100)), clock=FakeClock()))
    large = Api(Emulator(MemoryStore(big), clock=FakeClock()))
    for path in ("tasks/1", "tasks/5", "task_scripts/1"):
        assert small.get(path).body == large.get(path).body
    query = {"filter": "name eq 'nightly-snapshot'", "fields": "all,count(triggers) as n"}
    assert small.get("tasks", **query).body == large.get("tasks", **query).body


def test_name_lookup_on_ten_thousand_tasks(record_property: Any) -> None:
    from pyvergeos.resources.tasks import TaskManager

    api = Api(Emulator(MemoryStore(seed_state(10_000)), clock=FakeClock()))
    fields = ",".join(TaskManager._default_fields or [])
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        rows = api.rows("tasks", filter="(name eq 'bulk-task-09999')", fields=fields, limit=1)
        best = min(best, time.perf_counter() - started)
    assert [r["$key"] for r in rows] == [10_005]
    record_property("name_lookup_ms", round(best * 1000, 2))
    assert best < 0.05, f"{best * 1000:.1f} ms"


def test_export_state_contains_hidden_columns(emulator: Emulator) -> None:
    state = json.loads(emulator.export_state())
    assert state["tables"]["users"]["1"]["_password"] == "sandbox"
    assert state_digest(state) == emulator.digest()
