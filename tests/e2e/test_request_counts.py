"""Every command makes only: the connection check, the name lookup, the
operation, and the read-back the SDK itself does. The README lists these.
"""

from __future__ import annotations

import shlex

import pytest
from support import run_cli

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

# command (run in this order on a fresh seed), then the requests it may make
COUNTS: list[tuple[str, list[str]]] = [
    ("task list", ["GET system", "GET tasks"]),
    ("task get nightly-snapshot", ["GET system", "GET tasks"]),
    ("task create --name x --owner vms/1 --action poweron",
     ["GET system", "POST tasks", "GET tasks/7"]),
    ("task update x --description d", ["GET system", "GET tasks", "PUT tasks/7", "GET tasks/7"]),
    ("task enable x", ["GET system", "GET tasks", "PUT tasks/7", "GET tasks/7"]),
    ("task disable x", ["GET system", "GET tasks", "PUT tasks/7", "GET tasks/7"]),
    ("task run x",
     ["GET system", "GET tasks", "GET logs", "POST task_actions", "GET tasks/7", "GET logs"]),
    ("task cancel x", ["GET system", "GET tasks", "POST task_actions", "GET tasks/7"]),
    ("task delete x --yes", ["GET system", "GET tasks", "DELETE tasks/7"]),
    ("schedule list", ["GET system", "GET task_schedules"]),
    ("schedule get nightly", ["GET system", "GET task_schedules"]),
    ("schedule create --name s", ["GET system", "POST task_schedules", "GET task_schedules/5"]),
    ("schedule update s --start-time 01:00",
     ["GET system", "GET task_schedules", "PUT task_schedules/5", "GET task_schedules/5"]),
    ("schedule enable s",
     ["GET system", "GET task_schedules", "PUT task_schedules/5", "GET task_schedules/5"]),
    ("schedule disable s",
     ["GET system", "GET task_schedules", "PUT task_schedules/5", "GET task_schedules/5"]),
    ("schedule show nightly",
     ["GET system", "GET task_schedules", "POST task_schedule_actions"]),
    ("schedule delete s --yes", ["GET system", "GET task_schedules", "DELETE task_schedules/5"]),
    ("trigger list", ["GET system", "GET task_schedule_triggers"]),
    ("trigger list power-on-dev", ["GET system", "GET tasks", "GET task_schedule_triggers"]),
    ("trigger create tenant-poweroff --schedule hourly",
     ["GET system", "GET tasks", "GET task_schedules", "POST task_schedule_triggers",
      "GET task_schedule_triggers/3"]),
    ("trigger run 1",
     ["GET system", "GET task_schedule_triggers/1", "GET tasks/1", "GET logs",
      "POST task_schedule_trigger_actions", "GET tasks/1", "GET logs"]),
    ("trigger delete 3 --yes",
     ["GET system", "GET task_schedule_triggers/3", "DELETE task_schedule_triggers/3"]),
    ("event list", ["GET system", "GET task_events"]),
    ("event get 1", ["GET system", "GET task_events/1"]),
    ("event create reset-dmz --owner users/3 --event login",
     ["GET system", "GET tasks", "POST task_events", "GET task_events/2"]),
    ("event update 2 --context-json {}", ["GET system", "PUT task_events/2", "GET task_events/2"]),
    ("event trigger 2",
     ["GET system", "GET task_events/2", "GET tasks/4", "GET logs", "POST task_event_actions",
      "GET tasks/4", "GET logs"]),
    ("event delete 2 --yes", ["GET system", "GET task_events/2", "DELETE task_events/2"]),
    ("script list", ["GET system", "GET task_scripts"]),
    ("script get cleanup-logs", ["GET system", "GET task_scripts"]),
    ("script create --name sc --code x",
     ["GET system", "POST task_scripts", "GET task_scripts/2"]),
    ("script update sc --description d",
     ["GET system", "GET task_scripts", "PUT task_scripts/2", "GET task_scripts/2"]),
    ("script run sc",
     ["GET system", "GET task_scripts", "GET logs", "POST task_script_actions", "GET tasks/8",
      "GET logs"]),
    ("script delete sc --yes", ["GET system", "GET task_scripts", "DELETE task_scripts/2"]),
]  # fmt: skip


def test_doctor_reads_only(sandbox_env: SandboxServer) -> None:
    out = run_cli("doctor")
    assert out.exit_code == 0, (out.stdout, out.stderr)
    seen = [
        f"{e['method']} {e['path'].removeprefix('/api/v4/')}" for e in sandbox_env.log.entries()
    ]
    assert seen == [
        "GET system", "GET system", "GET tasks", "GET task_schedules",
        "GET task_schedule_triggers", "GET task_events", "GET task_scripts", "GET logs",
        "GET task_actions/$table",
    ]  # fmt: skip


def test_an_action_costs_one_more_request_once_without_actions_tables(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_env.emulator, "actions", "put")
    out = run_cli("task", "run", "nightly-snapshot")
    assert out.exit_code == 0, out.stderr
    seen = [
        f"{e['method']} {e['path'].removeprefix('/api/v4/')} {e['status']}"
        for e in sandbox_env.log.entries()
    ]
    assert seen == [
        "GET system 200", "GET tasks 200", "GET logs 200", "POST task_actions 404",
        "PUT tasks/1 200", "GET tasks/1 200", "GET logs 200",
    ]  # fmt: skip


def test_every_command_makes_only_the_requests_it_needs(sandbox_env: SandboxServer) -> None:
    for command, expected in COUNTS:
        sandbox_env.log.clear()
        out = run_cli(*shlex.split(command))
        assert out.exit_code == 0, (command, out.stderr)
        seen = [
            f"{e['method']} {e['path'].removeprefix('/api/v4/')}" for e in sandbox_env.log.entries()
        ]
        assert seen == expected, (command, seen)
