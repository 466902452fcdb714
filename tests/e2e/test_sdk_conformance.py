"""pyvergeos 1.7 managers against the sandbox over real HTTPS (TLS verified).

One test (or a few) per SDK call the CLI makes, checking both that the call
works and that what comes back is what the platform would answer -- as the
sources listed in docs/platform-behaviour.md describe it: two task statuses,
run outcomes in the logs table, queued starts, the two action forms under the
three platform profiles, writes that drop what the platform does not take.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from pyvergeos import VergeClient
from pyvergeos.exceptions import (
    APIError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    TaskTimeoutError,
    ValidationError,
)

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

QUICK = {"sandbox_duration": 0.3, "sandbox_start_delay": 0.2}
SEEDED = [
    "nightly-snapshot",
    "power-on-dev",
    "tenant-poweroff",
    "reset-dmz",
    "weekly-cleanup",
    "check-for-updates",
]


@pytest.fixture
def quick_start(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs start at once (the sandbox-wide start delay 0) for tests about something else."""
    monkeypatch.setattr(sandbox.emulator, "start_delay", 0.0)


@pytest.fixture(params=["both", "post", "put"])
def profile(request: pytest.FixtureRequest, sandbox: SandboxServer) -> Any:
    """Each platform profile in turn (restored by monkeypatch after the test)."""
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setattr(sandbox.emulator, "actions", request.param)
    return request.param


def task_log(client: VergeClient, name: str) -> list[tuple[str, str]]:
    """(level, text) of a task's run entries, oldest first, as pyvergeos reads them."""
    entries = client.logs.list(object_type="Task", object_name=name, limit=100)
    return [(e.level, e.text) for e in reversed(entries) if e.level != "audit"]


def eventually(check: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> None:
    """Poll ``check`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


def names(objects: list[Any]) -> list[str]:
    return [str(o.name) for o in objects]


# ---------------------------------------------------------------------------
# Connection and authentication


def test_connection_validation(sdk_client: VergeClient, sandbox: SandboxServer) -> None:
    assert sdk_client.is_connected
    assert (sdk_client.version, sdk_client.os_version) == ("26.1.2", "26.1.2-sandbox")
    assert sdk_client.cloud_name == "vrgtask-sandbox"
    first = sandbox.log.entries()[0]
    assert (first["method"], first["path"], first["status"]) == ("GET", "/api/v4/system", 200)


def test_wrong_password(trust_sandbox: SandboxServer) -> None:
    with pytest.raises(AuthenticationError, match="Invalid credentials"):
        VergeClient(host=trust_sandbox.host, username="admin", password="wrong", retry_total=0)


def test_bearer_token(trust_sandbox: SandboxServer) -> None:
    client = VergeClient(host=trust_sandbox.host, token="sandbox-token", retry_total=0)
    assert names(client.tasks.list()) == SEEDED


def test_auditor_reads_but_gets_403_on_writes(trust_sandbox: SandboxServer) -> None:
    auditor = VergeClient(
        host=trust_sandbox.host, username="auditor", password="auditor", retry_total=0
    )
    assert names(auditor.tasks.list()) == SEEDED
    assert len(auditor.task_schedules.get_schedule(1, max_results=2)) == 2
    writes: list[Callable[[], object]] = [
        lambda: auditor.tasks.create("x", 1, "poweron", table="vms"),
        lambda: auditor.tasks.disable(1),
        lambda: auditor.tasks.execute(1),
        lambda: auditor.tasks.delete(1),
        lambda: auditor.task_schedules.create("s"),
        lambda: auditor.task_schedule_triggers.trigger(1),
    ]
    for write in writes:
        with pytest.raises(AuthenticationError, match="Permission denied") as raised:
            write()
        assert raised.value.status_code == 403
    assert auditor.tasks.get(1).is_enabled


# ---------------------------------------------------------------------------
# tasks


def test_tasks_list(sdk_client: VergeClient) -> None:
    tasks = sdk_client.tasks.list()
    assert names(tasks) == SEEDED
    first = tasks[0]
    assert (first.owner_display, first.creator_display) == ("web-01", "admin")
    assert (first.trigger_count, first.event_count) == (1, 0)
    assert (first.owner_key, first.creator_key, first.owner_table) == (1, 1, "vms")
    assert first.action_display_name == "Take Snapshot"
    assert len(first.task_id) == 40
    assert first.is_complete
    assert not first.is_running
    assert first.is_enabled
    assert tasks[1].event_count == 1
    assert tasks[4].owner_display == "cleanup-logs"


def test_tasks_list_filters(sdk_client: VergeClient) -> None:
    tasks = sdk_client.tasks
    assert tasks.list(running=True) == []
    assert names(tasks.list(running=False)) == SEEDED
    assert names(tasks.list(enabled=False)) == ["reset-dmz"]
    assert names(tasks.list_disabled()) == ["reset-dmz"]
    assert len(tasks.list(enabled=True)) == 5
    assert len(tasks.list_enabled()) == 5
    assert names(tasks.list(status="IDLE")) == SEEDED
    assert names(tasks.list(filter="action eq 'poweron' or action eq 'reset'")) == [
        "power-on-dev",
        "reset-dmz",
    ]
    assert names(tasks.list(filter="owner eq 3")) == ["power-on-dev"]
    assert names(tasks.list_by_owner(1)) == [
        "nightly-snapshot",
        "tenant-poweroff",
        "weekly-cleanup",
        "check-for-updates",
    ]
    assert names(tasks.list_by_action("snapshot")) == ["nightly-snapshot"]
    assert names(tasks.list(name="power*")) == ["power-on-dev"]
    assert names(tasks.list(name="*-dmz")) == ["reset-dmz"]
    assert names(tasks.list(name="*off*")) == ["tenant-poweroff"]
    assert names(tasks.list(name="?ightly-*")) == ["nightly-snapshot"]
    assert names(tasks.list(name="tenant-poweroff")) == ["tenant-poweroff"]
    assert names(tasks.list(name="*", enabled=False)) == ["reset-dmz"]
    assert names(tasks.list(limit=2, offset=1)) == SEEDED[1:3]
    assert names(tasks.list(filter="name ct 'POWER'", action="poweroff")) == ["tenant-poweroff"]


def test_tasks_get(sdk_client: VergeClient) -> None:
    task = sdk_client.tasks.get(2)
    assert task.name == "power-on-dev"
    assert task.owner_display == "build-runner"
    assert (task.trigger_count, task.event_count) == (1, 1)
    by_name = sdk_client.tasks.get(name="weekly-cleanup")
    assert by_name.key == 5
    assert by_name.creator_display == "admin"
    # progress and error are not columns: the projection gets nothing for them.
    narrow = sdk_client.tasks.get(1, fields=["$key", "name", "progress", "error", "settings_args"])
    assert dict(narrow) == {"$key": 1, "name": "nightly-snapshot", "settings_args": None}
    assert sdk_client.tasks.get(6).is_system_created
    assert sdk_client.task_schedules.get(4).is_system_created
    full = sdk_client.tasks.get(5, fields="all")
    assert full.owner_display == "cleanup-logs"
    assert full["settings_args"] == {"retention_days": 14}
    with pytest.raises(NotFoundError):
        sdk_client.tasks.get(999)
    with pytest.raises(NotFoundError):
        sdk_client.tasks.get(name="no-such-task")


def test_tasks_create_update_enable_disable(sdk_client: VergeClient) -> None:
    task = sdk_client.tasks.create(
        name="e2e-task",
        owner=2,
        action="snapshot",
        table="vms",
        description="made by e2e",
        enabled=False,
        settings_args={"retention": 3},
    )
    assert (task.name, task.owner_display, task.action_display) == (
        "e2e-task",
        "db-01",
        "Take Snapshot",
    )
    assert task["owner"] == "vms/2"
    assert not task.is_enabled
    assert task.creator_display == "admin"
    updated = sdk_client.tasks.update(task.key, name="e2e-renamed", delete_after_run=True)
    assert updated.name == "e2e-renamed"
    assert updated.is_delete_after_run
    assert updated["description"] == "made by e2e"
    assert sdk_client.tasks.enable(task.key).is_enabled
    assert not sdk_client.tasks.disable(task.key).is_enabled
    assert sdk_client.tasks.get(task.key).enable().is_enabled
    with pytest.raises(ValidationError, match="Validation error on field: 'owner'"):
        sdk_client.tasks.create("bad", 42, "poweron", table="vms")
    with pytest.raises(APIError, match="Invalid action") as raised:
        sdk_client.tasks.create("bad", 1, "shutdown", table="vms")  # VMs have no 'shutdown'
    assert raised.value.status_code == 400
    with pytest.raises(ValidationError, match="Validation error on field: 'name'"):
        sdk_client.tasks.update(task.key, name="")
    with pytest.raises(ValidationError, match="1-64 characters"):
        sdk_client.tasks.update(task.key, name="n" * 65)
    assert sdk_client.tasks.update(task.key, name="n" * 64).name == "n" * 64


def test_create_receipt_key_is_a_string(sdk_client: VergeClient) -> None:
    body = {"name": "raw", "owner": "vms/1", "action": "kill"}
    receipt = sdk_client._request("POST", "tasks", json_data=body)
    assert isinstance(receipt, dict)
    key = receipt["$key"]
    assert receipt == {
        "location": f"/v4/tasks/{key}",
        "dbpath": f"tasks/{key}",
        "$row": int(key),
        "$key": key,
    }
    assert isinstance(key, str)
    assert sdk_client.tasks.get(int(key)).action_display == "Kill Power"


def test_every_reply_has_a_date_header(
    sdk_client: VergeClient, trust_sandbox: SandboxServer
) -> None:
    from email.utils import parsedate_to_datetime

    import requests

    reply = requests.get(
        f"{trust_sandbox.url}/api/v4/tasks/1", auth=("admin", "sandbox"), timeout=10
    )
    assert abs(parsedate_to_datetime(reply.headers["Date"]).timestamp() - time.time()) < 60
    missing = requests.get(f"{trust_sandbox.url}/api/v4/nope", timeout=10)
    assert missing.status_code == 401
    assert "Date" in missing.headers


def test_tasks_execute_is_queued_then_runs_and_logs(sdk_client: VergeClient) -> None:
    task = sdk_client.tasks.create("runner", 1, "snapshot", table="vms", settings_args=QUICK)
    started = time.time()
    queued = sdk_client.tasks.execute(task.key)
    assert queued.status == "idle"  # fire-and-forget: the run has not started yet
    assert queued["last_run"] == 0
    seen: list[str] = []
    fields = ["$key", "name", "status", "last_run"]

    def finished() -> bool:
        row = sdk_client.tasks.list(filter=f"$key eq {task.key}", fields=fields)[0]
        seen.append(row["status"])
        return bool(row["status"] == "idle" and row["last_run"])

    eventually(finished)
    assert set(seen) <= {"idle", "running"}
    done = sdk_client.tasks.get(task.key, fields=fields)
    assert int(started) <= done["last_run"] <= time.time() + 1
    assert task_log(sdk_client, "runner") == [
        ("message", "Task 'runner' started"),
        ("message", "Task 'runner' completed"),
    ]


def test_sdk_wait_returns_at_once_on_a_queued_run(sdk_client: VergeClient) -> None:
    # TaskManager.wait() treats "idle" as complete: right after an execute it
    # returns before the run has even started. A client must look further.
    sdk_client.tasks.execute(2, sandbox_start_delay=30)
    waited = sdk_client.tasks.wait(2, timeout=5, poll_interval=1)
    assert waited.is_complete
    assert waited["last_run"] == 0
    with pytest.raises(ConflictError, match="already running or queued"):
        sdk_client.tasks.execute(2)
    sdk_client.tasks.cancel(2)
    assert task_log(sdk_client, "power-on-dev") == [("warning", "Task 'power-on-dev' cancelled")]


def test_a_failed_run_ends_idle_and_leaves_an_error_log(sdk_client: VergeClient) -> None:
    since = datetime.now().astimezone()
    sdk_client.tasks.execute(
        2, sandbox_duration=0.2, sandbox_start_delay=0, sandbox_fail="disk full"
    )

    def logged() -> bool:
        return bool(sdk_client.logs.list(errors_only=True, object_type="Task", since=since))

    eventually(logged)
    (entry,) = sdk_client.logs.list(errors_only=True, object_type="Task", since=since)
    assert (entry.level, entry.text, entry.object_name) == (
        "error",
        "Task 'power-on-dev' failed: disk full",
        "power-on-dev",
    )
    assert entry.user == "admin"
    assert entry.created_at is not None
    assert entry.created_at >= since.replace(microsecond=0)
    task = sdk_client.tasks.get(2)
    assert task.status == "idle"  # no 'error' status exists
    assert not task.has_error
    assert sdk_client.tasks.list(status="error") == []
    assert task_log(sdk_client, "power-on-dev")[-1] == (
        "message",
        "Task 'power-on-dev' ended with errors",
    )
    # The seed's past failure is there too.
    errors = sdk_client.logs.list_errors()
    assert "Task 'tenant-poweroff' failed: tenant acme is busy" in [e.text for e in errors]


def test_execute_conflict_cancel_and_wait_timeout(
    sdk_client: VergeClient, quick_start: None
) -> None:
    sdk_client.tasks.execute(1, sandbox_duration=30)
    with pytest.raises(ConflictError, match="already running"):
        sdk_client.tasks.execute(1)
    assert names(sdk_client.tasks.list_running()) == ["nightly-snapshot"]
    with pytest.raises(TaskTimeoutError):
        sdk_client.tasks.wait(1, timeout=1, poll_interval=0.2)  # type: ignore[arg-type]
    cancelled = sdk_client.tasks.cancel(1)
    assert cancelled.is_complete
    row = sdk_client.tasks.get(1, fields="status,last_run")
    assert row["status"] == "idle"
    assert row["last_run"] > 1767232800  # set when the run started
    assert sdk_client.tasks.cancel(1).is_complete  # not running: nothing happens
    assert sdk_client.tasks.list_idle()[0].name == "nightly-snapshot"
    assert task_log(sdk_client, "nightly-snapshot")[-1] == (
        "warning",
        "Task 'nightly-snapshot' cancelled",
    )


def test_tasks_delete_cascades(sdk_client: VergeClient) -> None:
    assert len(sdk_client.tasks.get(2).triggers.list()) == 1
    assert len(sdk_client.tasks.events(2).list()) == 1
    sdk_client.tasks.delete(2)
    with pytest.raises(NotFoundError):
        sdk_client.tasks.get(2)
    assert sdk_client.task_schedule_triggers.list_for_task(2) == []
    assert sdk_client.task_events.list(task=2) == []
    assert [t.task_key for t in sdk_client.task_schedule_triggers.list()] == [1]


# ---------------------------------------------------------------------------
# task_schedules


def test_schedules_list_and_get(sdk_client: VergeClient) -> None:
    schedules = sdk_client.task_schedules
    assert names(schedules.list()) == ["nightly", "weekday-mornings", "hourly", "daily-system"]
    assert names(schedules.list(repeat_every="day")) == [
        "nightly",
        "weekday-mornings",
        "daily-system",
    ]
    assert names(schedules.list(name="week*")) == ["weekday-mornings"]
    assert len(schedules.list_enabled()) == 4
    assert schedules.list_disabled() == []
    mornings = schedules.get(name="weekday-mornings")
    assert mornings.repeat_every_display == "Day(s)"
    assert mornings.repeat_count == 1
    assert mornings.active_days == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert mornings["start_time_of_day"] == 27000
    assert mornings["all_day"] is False
    assert mornings["creator_display"] == "admin"
    assert mornings.creator_key == 1
    assert mornings.task_key is None
    assert "task_display" not in mornings
    hourly = schedules.get(3)
    assert hourly["all_day"] is True
    assert isinstance(hourly["start_date_epoch"], int)
    with pytest.raises(NotFoundError):
        schedules.get(99)


def test_schedules_create_update_enable_disable_delete(sdk_client: VergeClient) -> None:
    schedules = sdk_client.task_schedules
    created = schedules.create(
        "friday-eob",
        description="Fridays at 18:00",
        repeat_every="week",
        start_time_of_day=64800,
        start_date="2026-01-02",
        end_date="2026-12-31",
        monday=False,
        tuesday=False,
        wednesday=False,
        thursday=False,
        saturday=False,
        sunday=False,
        task=1,
    )
    assert created.active_days == ["Friday"]
    assert created.repeat_every_display == "Week(s)"
    assert created["task_display"] == "nightly-snapshot"
    assert created["end_date"] == "2026-12-31"
    updated = schedules.update(created.key, repeat_iteration=2, end_date="2027-01-01 00:00:00")
    assert updated.repeat_count == 2
    assert updated["end_date"] == "2027-01-01 00:00:00"
    assert not schedules.disable(created.key).is_enabled
    assert schedules.enable(created.key).is_enabled
    assert not created.disable().is_enabled
    for bad in (
        {"repeat_every": "fortnight"},
        {"repeat_iteration": 0},
        {"start_time_of_day": 90000},
        {"day_of_month": "2nd"},
        {"start_date": "2026-02-30"},
        {"end_date": "soon"},
    ):
        with pytest.raises(ValidationError):
            schedules.update(created.key, **bad)
    schedules.delete(created.key)
    with pytest.raises(NotFoundError):
        schedules.get(created.key)


def test_schedule_delete_with_trigger_is_a_conflict(sdk_client: VergeClient) -> None:
    with pytest.raises(
        ConflictError, match=r"Schedule 'nightly' has 1 trigger\(s\); delete them first"
    ):
        sdk_client.task_schedules.delete(1)
    assert sdk_client.task_schedules.get(1).name == "nightly"


def test_get_schedule(sdk_client: VergeClient) -> None:
    now = time.time()
    times = sdk_client.task_schedules.get_schedule(1, max_results=5)
    assert len(times) == 5
    epochs = [entry["time"] for entry in times]
    assert epochs == sorted(set(epochs))
    assert epochs[0] >= now - 1
    for epoch in epochs:  # nightly: 02:00 in the server's (local) time zone
        local = datetime.fromtimestamp(epoch)
        assert (local.hour, local.minute, local.second) == (2, 0, 0)
    window = sdk_client.task_schedules.get(3).get_schedule(
        max_results=100, start_time=int(now), end_time=int(now) + 3 * 3600
    )
    assert 3 <= len(window) <= 4
    assert all(int(now) <= e["time"] <= int(now) + 3 * 3600 for e in window)
    with pytest.raises(ValidationError):
        sdk_client.task_schedules.action(1, "get_schedule", max=0)


# ---------------------------------------------------------------------------
# task_schedule_triggers


def test_triggers_list_get_and_flattened_schedule(sdk_client: VergeClient) -> None:
    triggers = sdk_client.task_schedule_triggers
    listed = triggers.list()
    assert [(t.task_display, t.schedule_display) for t in listed] == [
        ("nightly-snapshot", "nightly"),
        ("power-on-dev", "weekday-mornings"),
    ]
    trigger = triggers.get(1)
    assert (trigger.task_key, trigger.schedule_key) == (1, 1)
    assert trigger.is_schedule_enabled
    assert trigger.schedule_repeat_every == "Day(s)"
    assert trigger.schedule_start_time == 7200
    assert trigger["sch_$key"] == 1
    assert trigger["sch_day_of_month"] == "Start Date"
    assert trigger["sch_end_date"] == ""
    assert trigger["sch_repeat_iteration"] == 1
    assert time.time() - 1 <= trigger["trigger"] <= time.time() + 86400
    assert [t.key for t in triggers.list_for_task(2)] == [2]
    assert [t.key for t in triggers.list_for_schedule(1)] == [1]
    assert [t.key for t in triggers.list(task=1, schedule=2)] == []
    assert [t.key for t in sdk_client.task_schedules.get(2).triggers.list()] == [2]
    sdk_client.task_schedules.disable(1)
    assert not triggers.get(1).is_schedule_enabled
    assert triggers.get(1)["trigger"] == 0
    with pytest.raises(NotFoundError):
        triggers.get(99)
    with pytest.raises(NotFoundError):  # the SDK's own scope check, through our projection
        sdk_client.tasks.triggers(1).get(2)


def test_triggers_create_trigger_delete(sdk_client: VergeClient, quick_start: None) -> None:
    triggers = sdk_client.task_schedule_triggers
    created = triggers.create(task=3, schedule=3)
    assert (created.task_display, created.schedule_display) == ("tenant-poweroff", "hourly")
    with pytest.raises(ConflictError, match="already linked"):
        triggers.create(task=3, schedule=3)
    with pytest.raises(ValidationError, match="Validation error on field: 'task'"):
        triggers.create(task=99, schedule=3)
    assert triggers.trigger(created.key) == {"task": 3}
    assert sdk_client.tasks.get(3).is_running
    with pytest.raises(ConflictError):
        created.trigger_now()
    sdk_client.tasks.cancel(3)
    assert created.trigger_now() == {"task": 3}
    sdk_client.tasks.get(3).triggers.delete(created.key)
    with pytest.raises(NotFoundError):
        triggers.get(created.key)
    sdk_client.task_schedules.delete(3)  # no trigger left: allowed


# ---------------------------------------------------------------------------
# task_events


def test_events_list_get(sdk_client: VergeClient) -> None:
    events = sdk_client.task_events
    (login,) = events.list()
    assert login.event_type == "login"
    assert login.event_name_display == "Login"
    assert login.task_display == "power-on-dev"
    assert login["task_name"] == "power-on-dev"
    assert (login.owner_key, login.owner_table, login["owner_display"]) == (3, "users", "ops")
    assert login.event_filters is None
    assert login.event_context is None
    assert [e.key for e in events.list(task=2)] == [1]
    assert [e.key for e in events.list_for_task(2)] == [1]
    assert [e.key for e in events.list_by_table("users")] == [1]
    assert [e.key for e in events.list(event="login", owner=3)] == [1]
    assert events.list(table="vms") == []
    assert events.get(1).task_key == 2
    assert [e.key for e in sdk_client.tasks.get(2).events.list()] == [1]


def test_events_create_update_trigger_delete(sdk_client: VergeClient, quick_start: None) -> None:
    events = sdk_client.task_events
    event = events.create(
        task=3,
        event="poweroff",
        table="tenants",
        table_event_filters={"level": "summary"},
        context={"sandbox_duration": 0.2},
    )
    assert event.event_name_display == "Poweroff"
    assert event.owner_key == 1  # filled in from the task (tenants/1)
    assert event["owner"] == "tenants/1"
    assert event.event_filters == {"level": "summary"}
    assert event.task_display == "tenant-poweroff"
    updated = events.update(
        event.key, context={"sandbox_duration": 0.2, "sandbox_fail": "no power"}
    )
    assert updated.event_context == {"sandbox_duration": 0.2, "sandbox_fail": "no power"}
    assert events.trigger(event.key) == {"task": 3}

    def ended() -> bool:
        return task_log(sdk_client, "tenant-poweroff")[-1][1].endswith("ended with errors")

    eventually(ended)
    assert ("error", "Task 'tenant-poweroff' failed: no power") in task_log(
        sdk_client, "tenant-poweroff"
    )
    assert event.trigger_now(context={"sandbox_duration": 0.2}) == {"task": 3}
    eventually(lambda: task_log(sdk_client, "tenant-poweroff")[-1][1].endswith("completed"))
    with pytest.raises(ValidationError):
        events.create(task=99, event="x", table="vms")
    sdk_client.tasks.events(3).delete(event.key)
    with pytest.raises(NotFoundError):
        events.get(event.key)


# ---------------------------------------------------------------------------
# task_scripts


def test_scripts(sdk_client: VergeClient, quick_start: None) -> None:
    scripts = sdk_client.task_scripts
    assert names(scripts.list()) == ["cleanup-logs"]
    assert names(scripts.list(name="clean*")) == ["cleanup-logs"]
    cleanup = scripts.get(name="cleanup-logs")
    assert cleanup.task_count == 1
    assert cleanup.settings == {"questions": []}
    assert cleanup.script_code == "log('cleaning up old logs')\n"
    created = scripts.create(
        "e2e-script", "log('hi')", description="d", task_settings={"questions": [1]}
    )
    assert created.settings == {"questions": [1]}
    assert created.task_count == 0
    with pytest.raises(ConflictError, match="already exists"):
        scripts.create("e2e-script", "log('again')")
    assert scripts.update(created.key, script="log('bye')").script_code == "log('bye')"
    result = scripts.run(created.key, sandbox_duration=0.2)
    assert result is not None
    run_key = result["task"]
    run_task = sdk_client.tasks.get(run_key)
    assert run_task.name == "run: e2e-script"
    assert run_task.owner_display == "e2e-script"
    assert run_task.is_delete_after_run
    assert run_task.is_running
    assert scripts.get(created.key).task_count == 1

    def gone() -> bool:
        try:
            sdk_client.tasks.get(run_key)
        except NotFoundError:
            return True
        return False

    eventually(gone)
    assert created.run(sandbox_duration=30) is not None
    scripts.delete(created.key)  # cascades to the script's (running) task
    assert [t.name for t in sdk_client.tasks.list(filter="owner bw 'task_scripts/'")] == [
        "weekly-cleanup"
    ]
    with pytest.raises(NotFoundError):
        scripts.get(created.key)
    scripts.delete(1)
    with pytest.raises(NotFoundError):
        sdk_client.tasks.get(5)


# ---------------------------------------------------------------------------
# Filter quoting and platform errors


def test_name_with_quote_braces_and_backslash_is_found_exactly(sdk_client: VergeClient) -> None:
    weird = "it's {weird} \\ name"
    decoy = "it's  \\ name"  # the braces' content stripped, as an unescaped {..} would be
    decoy_key = sdk_client.tasks.create(decoy, 1, "reset", table="vms").key
    weird_key = sdk_client.tasks.create(weird, 1, "reset", table="vms").key
    assert sdk_client.tasks.get(name=weird).key == weird_key
    assert sdk_client.tasks.get(name=decoy).key == decoy_key
    assert [t.key for t in sdk_client.tasks.list(name=weird)] == [weird_key]
    # The platform quirk itself: the same name quoted without escaping the brace.
    unescaped = "name eq 'it\\'s {weird} \\\\ name'"
    assert [t.key for t in sdk_client.tasks.list(filter=unescaped)] == [decoy_key]
    with pytest.raises(ValidationError):
        sdk_client.tasks.list(filter="name eq 'it\\'s {weird \\\\ name'")


@pytest.mark.parametrize("text", ["name like 'night%'", "name in ('a', 'b')"])
def test_like_and_in_are_validation_errors(sdk_client: VergeClient, text: str) -> None:
    with pytest.raises(ValidationError, match="Invalid argument") as raised:
        sdk_client.tasks.list(filter=text)
    assert raised.value.status_code == 422


def test_unknown_and_read_only_fields_are_dropped(sdk_client: VergeClient) -> None:
    task = sdk_client.tasks.get(1)
    task["colour"] = "red"  # save() sends modified fields as a raw PUT
    task["status"] = "running"
    task["description"] = "kept"
    task.save()
    row = sdk_client.tasks.get(1, fields="all")
    assert (row["status"], row["description"], "colour" in row) == ("idle", "kept", False)
    audit = sdk_client.logs.list(level="audit", object_type="Task", limit=1)[0]
    assert audit.text == "Updated task 'nightly-snapshot' (fields: description)"


def test_numbers_sent_as_strings_are_accepted(sdk_client: VergeClient) -> None:
    sdk_client._request("PUT", "task_schedules/3", json_data={"repeat_iteration": "4"})
    assert sdk_client.task_schedules.get(3).repeat_count == 4


def test_strict_mode_answers_422(
    sdk_client: VergeClient, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox.emulator, "strict", True)
    task = sdk_client.tasks.get(1)
    task["colour"] = "red"
    with pytest.raises(ValidationError, match="Validation error on field: 'colour'"):
        task.save()


def test_limit_zero_most_and_summary(sdk_client: VergeClient) -> None:
    assert len(sdk_client.tasks.list(limit=0, fields=["$key"])) == len(SEEDED)
    most = sdk_client._request("GET", "tasks/1", params={"fields": "most"})
    assert isinstance(most, dict)
    assert most["name"] == "nightly-snapshot"
    summary = sdk_client._request("GET", "tasks", params={"fields": "summary", "limit": 1})
    assert summary == [{"$key": 1, "name": "nightly-snapshot", "status": "idle", "enabled": True}]


# ---------------------------------------------------------------------------
# The two action forms under the three platform profiles


def _call(client: VergeClient, method: str, path: str, body: Any = None) -> Any:
    """A raw request through the SDK's session (for what no manager sends)."""
    return client._request(method, path, json_data=body)


def _post_execute(client: VergeClient, key: int) -> Any:
    """The documented form (Go and TypeScript SDKs, API guide)."""
    body = {"task": key, "action": "execute", "params": {"sandbox_start_delay": 0}}
    return client._request("POST", "task_actions", json_data=body)


def test_put_form_in_each_profile(sdk_client: VergeClient, profile: str) -> None:
    sdk_client.tasks.execute(2, sandbox_start_delay=0, sandbox_duration=30)
    task = sdk_client.tasks.get(2)
    if profile == "post":
        # The silent no-op: 200, and nothing happens (pyvergeos drives.py, 26.1.8).
        assert (task.status, task["last_run"]) == ("idle", 0)
        assert task_log(sdk_client, "power-on-dev") == []
    else:
        assert task.is_running
        assert task_log(sdk_client, "power-on-dev") == [("message", "Task 'power-on-dev' started")]


def test_post_form_in_each_profile(sdk_client: VergeClient, profile: str) -> None:
    if profile == "put":
        with pytest.raises(NotFoundError):
            _post_execute(sdk_client, 2)
        with pytest.raises(NotFoundError):
            sdk_client._request("GET", "task_actions/$table")
        assert sdk_client.tasks.get(2).status == "idle"
        return
    assert _post_execute(sdk_client, 2) == {"task": 2}
    assert sdk_client.tasks.get(2).is_running
    with pytest.raises(ConflictError):
        _post_execute(sdk_client, 2)
    cancel = {"task": 2, "action": "cancel"}
    assert sdk_client._request("POST", "task_actions", json_data=cancel) == {"task": 2}
    assert sdk_client.tasks.get(2).status == "idle"
    schema = _call(sdk_client, "GET", "task_actions/$table")
    assert [f["name"] for f in schema["fields"]] == ["$key", "task", "action", "params"]


def test_unknown_action_is_400_in_each_profile(sdk_client: VergeClient, profile: str) -> None:
    if profile != "put":
        with pytest.raises(APIError) as raised:
            sdk_client._request("POST", "task_actions", json_data={"task": 1, "action": "explode"})
        assert raised.value.status_code == 400
    if profile != "post":
        with pytest.raises(APIError) as raised:
            sdk_client.tasks.action(1, "explode")
        assert raised.value.status_code == 400


def test_schedule_actions_in_each_profile(sdk_client: VergeClient, profile: str) -> None:
    body = {"task_schedule": 1, "action": "get_schedule", "params": {"max": 2}}
    if profile == "put":
        assert len(sdk_client.task_schedules.get_schedule(1, max_results=2)) == 2
        with pytest.raises(NotFoundError):
            sdk_client._request("POST", "task_schedule_actions", json_data=body)
    else:
        answer = _call(sdk_client, "POST", "task_schedule_actions", body)
        assert len(answer["schedule"]) == 2


def test_schema_probe_for_every_table(sdk_client: VergeClient) -> None:
    for table in ("tasks", "task_schedules", "task_schedule_triggers", "task_events", "logs"):
        schema = _call(sdk_client, "GET", f"{table}/$table")
        assert schema["table"] == table
        assert {"name": "$key", "type": "int"} in schema["fields"]
    fields = [f["name"] for f in _call(sdk_client, "GET", "tasks/$table")["fields"]]
    assert "status" in fields
    assert "progress" not in fields
    assert "error" not in fields
