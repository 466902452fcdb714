"""``vrgtask schedule ...`` and ``vrgtask trigger ...`` end to end over HTTPS.

Both spellings (``vrgtask schedule`` and ``vrgtask task schedule``) run the
same command objects; each test uses the sandbox server, reseeded.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from support import run_cli, run_process

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e


def js(*args: str) -> Any:
    out = run_cli("-o", "json", *args)
    assert out.exit_code == 0, out.stderr
    return json.loads(out.stdout)


def state(server: SandboxServer) -> dict[str, Any]:
    return json.loads(server.emulator.export_state())["tables"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("prefix", [["schedule"], ["task", "schedule"]])
def test_list_both_spellings(sandbox_env: SandboxServer, prefix: list[str]) -> None:
    out = run_cli(*prefix, "list")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines()[0].split() == [
        "Key", "Name", "Repeat", "Every", "N", "Enabled", "Days",
    ]  # fmt: skip
    assert "weekday-mornings" in out.stdout
    assert [s["name"] for s in js(*prefix, "list", "--repeat-every", "hour")] == ["hourly"]


def test_get_by_name_and_key(sandbox_env: SandboxServer) -> None:
    by_name = js("schedule", "get", "weekday-mornings")
    assert by_name == js("task", "schedule", "get", "2")
    assert by_name["start_time_of_day"] == 27000
    assert by_name["start_time_display"] == "07:30"
    assert by_name["active_days"] == "Monday, Tuesday, Wednesday, Thursday, Friday"


def test_create_with_hh_mm_and_days(sandbox_env: SandboxServer) -> None:
    made = js(
        "schedule", "create", "--name", "backup-window", "--repeat-every", "hour",
        "--repeat-iteration", "2", "--start-time", "22:15", "--end-time", "23:59:30",
        "--days", "weekend", "--start-date", "2030-01-05", "--end-date", "2030-12-31",
        "--description", "weekend nights",
    )  # fmt: skip
    assert made["start_time_of_day"] == 22 * 3600 + 15 * 60
    assert made["end_time_of_day"] == 23 * 3600 + 59 * 60 + 30
    assert made["active_days"] == "Saturday, Sunday"
    row = state(sandbox_env)["task_schedules"][str(made["$key"])]
    assert (row["saturday"], row["sunday"], row["monday"]) == (True, True, False)
    assert row["repeat_iteration"] == 2
    assert row["end_date"] == "2030-12-31"


def test_create_with_seconds_like_the_plan(sandbox_env: SandboxServer) -> None:
    made = js("task", "schedule", "create", "--name", "plan-form", "--repeat-every", "day",
              "--start-time", "7200", "--end-time", "14400",
              "--no-saturday", "--no-sunday")  # fmt: skip
    assert (made["start_time_of_day"], made["end_time_of_day"]) == (7200, 14400)
    assert made["active_days"] == "Monday, Tuesday, Wednesday, Thursday, Friday"


def test_update_sends_only_what_was_given(sandbox_env: SandboxServer) -> None:
    before = state(sandbox_env)["task_schedules"]["1"]
    out = run_cli("schedule", "update", "nightly", "--start-time", "03:00", "--no-sunday")
    assert out.exit_code == 0, out.stderr
    assert out.stdout == "Updated schedule 'nightly' (key 1)\n"
    after = state(sandbox_env)["task_schedules"]["1"]
    assert after["start_time_of_day"] == 10800
    assert after["sunday"] is False
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"start_time_of_day", "sunday"}
    puts = [e for e in sandbox_env.log.entries() if e["method"] == "PUT"]
    assert len(puts) == 1


def test_update_end_before_current_start_is_refused(sandbox_env: SandboxServer) -> None:
    sandbox_env.log.clear()
    out = run_cli("schedule", "update", "weekday-mornings", "--end-time", "07:00")
    assert out.exit_code == 2
    assert "--end-time" in out.stderr
    assert [e["method"] for e in sandbox_env.log.entries()] == ["GET", "GET"]  # no write


def test_usage_errors_send_no_request(sandbox_env: SandboxServer) -> None:
    cases = [
        ["schedule", "create", "--name", "x", "--start-time", "25:00"],
        ["schedule", "create", "--name", "x", "--start-time", "86401"],
        ["schedule", "create", "--name", "x", "--start-time", "10:00", "--end-time", "9:00"],
        ["schedule", "create", "--name", "x", "--start-date", "2026-02-29"],
        ["schedule", "create", "--name", "x", "--start-date", "2026-03-02",
         "--end-date", "2026-03-01"],
        ["schedule", "create", "--name", "x", "--repeat-iteration", "0"],
        ["schedule", "create", "--name", "x", "--days", "weekdays", "--monday"],
        ["schedule", "update", "nightly"],
        ["task", "schedule", "show", "nightly", "--max-results", "0"],
    ]  # fmt: skip
    for argv in cases:
        out = run_cli(*argv)
        assert out.exit_code == 2, (argv, out.stderr)
    assert sandbox_env.log.entries() == []


def test_enable_disable(sandbox_env: SandboxServer) -> None:
    assert js("schedule", "disable", "hourly")["enabled"] is False
    assert state(sandbox_env)["task_schedules"]["3"]["enabled"] is False
    out = run_cli("task", "schedule", "enable", "hourly")
    assert out.stdout == "Enabled schedule 'hourly' (key 3)\n"
    assert state(sandbox_env)["task_schedules"]["3"]["enabled"] is True


def test_delete_with_triggers_is_refused_with_a_count(sandbox_env: SandboxServer) -> None:
    before = sandbox_env.emulator.digest()
    out = run_cli("schedule", "delete", "nightly", "--yes")
    assert out.exit_code == 7
    assert "1 trigger" in out.stderr
    assert "vrgtask trigger delete 1" in out.stderr
    assert sandbox_env.emulator.digest() == before


def test_delete_without_yes_in_a_pipe_deletes_nothing(sandbox_env: SandboxServer) -> None:
    before = sandbox_env.emulator.digest()
    out = run_process("schedule", "delete", "hourly")
    assert out.exit_code == 2
    assert "--yes" in out.stderr
    assert sandbox_env.emulator.digest() == before


def test_delete(sandbox_env: SandboxServer) -> None:
    out = run_cli("schedule", "delete", "hourly", "--yes")
    assert out.exit_code == 0, out.stderr
    assert out.stdout == "Deleted schedule 'hourly' (key 3)\n"
    assert "3" not in state(sandbox_env)["task_schedules"]


def _next_weekday_runs(after: datetime, at: tuple[int, int], count: int) -> list[int]:
    """Hand-rolled expectation: the next ``count`` Mon-Fri runs at ``at`` local time."""
    runs: list[int] = []
    day = after.date()
    while len(runs) < count:
        moment = datetime(day.year, day.month, day.day, *at).astimezone()
        if day.weekday() < 5 and moment >= after:
            runs.append(int(moment.timestamp()))
        day += timedelta(days=1)
    return runs


def test_show_weekday_daily_schedule_next_five(sandbox_env: SandboxServer) -> None:
    today = date.today().isoformat()
    made = run_cli("schedule", "create", "--name", "wd-0630", "--repeat-every", "day",
                   "--start-time", "06:30", "--days", "weekdays",
                   "--start-date", today)  # fmt: skip
    assert made.exit_code == 0, made.stderr
    start = (datetime.now() + timedelta(minutes=1)).replace(second=0, microsecond=0)
    shown = js("schedule", "show", "wd-0630", "--max-results", "5",
               "--start-time", start.strftime("%Y-%m-%dT%H:%M"))  # fmt: skip
    assert len(shown) == 5
    expected = _next_weekday_runs(start.astimezone(), (6, 30), 5)
    assert [row["epoch"] for row in shown] == expected
    assert all(row["weekday"] not in ("Saturday", "Sunday") for row in shown)
    table = run_cli("task", "schedule", "show", "wd-0630", "--max-results", "5")
    first = datetime.fromtimestamp(expected[0]).astimezone()
    assert first.strftime("%Y-%m-%d 06:30:00") in table.stdout
    assert first.strftime("%A") in table.stdout


def test_show_window(sandbox_env: SandboxServer) -> None:
    shown = js("schedule", "show", "hourly", "--start-time", "2031-03-04",
               "--end-time", "2031-03-04T05:00")  # fmt: skip
    hours = [datetime.fromtimestamp(r["epoch"]).hour for r in shown]
    assert hours == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("prefix", [["trigger"], ["task", "trigger"]])
def test_trigger_list_both_spellings(sandbox_env: SandboxServer, prefix: list[str]) -> None:
    out = run_cli(*prefix, "list")
    assert out.exit_code == 0, out.stderr
    assert "nightly-snapshot" in out.stdout
    assert "weekday-mornings" in out.stdout
    only = js(*prefix, "list", "power-on-dev")
    assert [t["$key"] for t in only] == [2]
    assert only[0]["schedule_display"] == "weekday-mornings"
    assert [t["$key"] for t in js(*prefix, "list", "--schedule", "nightly")] == [1]


def test_trigger_create_prints_the_new_key(sandbox_env: SandboxServer) -> None:
    out = run_cli("trigger", "create", "tenant-poweroff", "--schedule", "hourly")
    assert out.exit_code == 0, out.stderr
    new_key = max(int(k) for k in state(sandbox_env)["task_schedule_triggers"])
    assert out.stdout == (
        f"Created trigger {new_key} linking task 'tenant-poweroff' (key 3) "
        "to schedule 'hourly' (key 3)\n"
    )
    key_only = run_cli("--query", "$key", "task", "trigger", "create", "reset-dmz",
                       "--schedule", "3")  # fmt: skip
    assert key_only.stdout.strip() == str(new_key + 1)


def test_trigger_create_unknown_and_ambiguous(sandbox_env: SandboxServer) -> None:
    assert run_cli("trigger", "create", "nope", "--schedule", "hourly").exit_code == 6
    assert run_cli("trigger", "create", "reset-dmz", "--schedule", "nope").exit_code == 6
    for _ in range(2):
        assert run_cli("schedule", "create", "--name", "dup").exit_code == 0
    before = sandbox_env.emulator.digest()
    out = run_cli("trigger", "create", "reset-dmz", "--schedule", "dup")
    assert out.exit_code == 7
    assert sandbox_env.emulator.digest() == before


def test_trigger_run_reports_the_run_queued_then_waits(sandbox_env: SandboxServer) -> None:
    out = run_cli("trigger", "run", "2")
    assert out.exit_code == 0, out.stderr
    assert "power-on-dev" in out.stdout
    assert "has not started yet (queued)" in out.stdout
    assert js("task", "get", "power-on-dev")["status"] == "idle"  # queued
    waited = run_cli("-o", "json", "task", "wait", "power-on-dev")
    assert waited.exit_code == 0, waited.stderr
    row = json.loads(waited.stdout)
    assert (row["run"], row["result"], row["message"]) == (
        "finished",
        "ok",
        "Task 'power-on-dev' completed",
    )


def test_trigger_delete(sandbox_env: SandboxServer) -> None:
    refused = run_process("trigger", "delete", "1")
    assert refused.exit_code == 2
    assert "1" in state(sandbox_env)["task_schedule_triggers"]
    out = run_cli("task", "trigger", "delete", "1", "--yes")
    assert out.exit_code == 0, out.stderr
    assert "1" not in state(sandbox_env)["task_schedule_triggers"]
    assert run_cli("trigger", "delete", "1", "--yes").exit_code == 6
    # the schedule has no trigger left, so it can go now
    assert run_cli("schedule", "delete", "nightly", "--yes").exit_code == 0


def test_global_json_for_schedule_and_trigger(sandbox_env: SandboxServer) -> None:
    """As the outside behaviour check does: global -o json, environment only."""
    schedules = json.loads(run_process("-o", "json", "schedule", "list").stdout)
    triggers = json.loads(run_process("-o", "json", "trigger", "list").stdout)
    assert len(schedules) == 4  # the seed has a system-created schedule
    assert len(triggers) == 2
    made = json.loads(run_process("-o", "json", "schedule", "create", "--name", "j").stdout)
    assert isinstance(made["$key"], int)
