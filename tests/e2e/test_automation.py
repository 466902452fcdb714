"""export / diff / apply end to end: the real CLI and pyvergeos over HTTPS
against the sandbox, judged by its state and its request log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import Outcome, run_cli

from vrgtask.automation.sample import SAMPLE_DOCUMENT
from vrgtask.sandbox.server import SandboxServer

WRITES = ("POST", "PUT", "DELETE")
ENGINE = ("tasks", "task_schedules", "task_schedule_triggers", "task_events", "task_scripts")


def writes(server: SandboxServer) -> list[dict[str, Any]]:
    return [e for e in server.log.entries() if e["method"] in WRITES]


def rows(server: SandboxServer, table: str) -> list[dict[str, Any]]:
    with server.emulator.store.transaction() as state:
        return [dict(r) for r in state["tables"][table].values()]


def names(server: SandboxServer, table: str) -> set[str]:
    return {str(r.get("name")) for r in rows(server, table)}


def empty_engine(server: SandboxServer) -> None:
    """Remove every task-engine object a user made (system-created ones stay)."""
    with server.emulator.store.transaction() as state:
        for table in ENGINE:
            kept = {k: r for k, r in state["tables"][table].items() if r.get("system_created")}
            state["tables"][table] = kept
    server.emulator.store.mark_changed()


def apply(path: Path | str, *extra: str, input: str | None = None) -> Outcome:
    return run_cli("apply", "-f", str(path), *extra, input=input)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "automation.yaml"
    path.write_text(SAMPLE_DOCUMENT, encoding="utf-8")
    return path


def test_sandbox_sample_applies_cleanly(sandbox_env: SandboxServer) -> None:
    printed = run_cli("sandbox", "sample")
    assert printed.exit_code == 0
    assert printed.stdout == SAMPLE_DOCUMENT
    result = run_cli("apply", "-f", "-", "--yes", input=printed.stdout)
    assert result.exit_code == 0, result.stderr
    assert "Applied 7 changes" in result.stdout
    assert {"wake-build-runner", "nightly-hello"} <= names(sandbox_env, "tasks")
    wake = next(r for r in rows(sandbox_env, "tasks") if r["name"] == "wake-build-runner")
    assert wake["owner"] == "vms/3"  # vms/build-runner, resolved by name


def test_round_trip_export_apply_to_empty_export(
    sandbox_env: SandboxServer, tmp_path: Path
) -> None:
    assert apply_ok(tmp_path, SAMPLE_DOCUMENT)
    first = run_cli("export")
    assert first.exit_code == 0, first.stderr
    assert "owner: vms/web-01" in first.stdout
    assert "owner: task_scripts/cleanup-logs" in first.stdout
    empty_engine(sandbox_env)
    assert not names(sandbox_env, "task_scripts")
    doc = tmp_path / "exported.yaml"
    doc.write_text(first.stdout, encoding="utf-8")
    result = apply(doc, "--yes")
    assert result.exit_code == 0, result.stderr
    second = run_cli("export")
    assert second.exit_code == 0, second.stderr
    assert second.stdout == first.stdout


def apply_ok(tmp_path: Path, text: str) -> bool:
    path = tmp_path / "first.yaml"
    path.write_text(text, encoding="utf-8")
    return apply(path, "--yes").exit_code == 0


def test_json_export_round_trips_too(sandbox_env: SandboxServer, tmp_path: Path) -> None:
    first = run_cli("export", "-o", "json")
    assert first.exit_code == 0
    assert first.stdout.startswith("{")
    empty_engine(sandbox_env)
    result = run_cli("apply", "-f", "-", "--yes", input=first.stdout)
    assert result.exit_code == 0, result.stderr
    assert run_cli("export", "-o", "json").stdout == first.stdout


def test_second_apply_sends_no_write(sandbox_env: SandboxServer, sample: Path) -> None:
    assert apply(sample, "--yes").exit_code == 0
    sandbox_env.log.clear()
    again = apply(sample, "--yes")
    assert again.exit_code == 0, again.stderr
    assert "No changes." in again.stdout
    assert writes(sandbox_env) == []
    lists = [e for e in sandbox_env.log.entries() if e["method"] == "GET"]
    assert len(lists) <= 10  # the connection check, one list per kind, the owner names


def test_drift_is_detected_with_exit_code(sandbox_env: SandboxServer, sample: Path) -> None:
    assert apply(sample, "--yes").exit_code == 0
    clean = run_cli("diff", "-f", str(sample), "--exit-code")
    assert clean.exit_code == 0
    assert "No changes." in clean.stdout
    changed = run_cli("task", "update", "wake-build-runner", "--description", "changed by hand")
    assert changed.exit_code == 0, changed.stderr
    drift = run_cli("diff", "-f", str(sample), "--exit-code")
    assert drift.exit_code == 1, drift.stderr
    assert "changed by hand" in drift.stdout
    assert "description" in drift.stdout
    assert run_cli("diff", "-f", str(sample)).exit_code == 0  # without --exit-code
    assert apply(sample, "--yes").exit_code == 0
    assert run_cli("diff", "-f", str(sample), "--exit-code").exit_code == 0


def test_diff_json_lists_field_changes(sandbox_env: SandboxServer, sample: Path) -> None:
    import json

    result = run_cli("-o", "json", "diff", "-f", str(sample))
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)
    assert {"change": "create", "kind": "schedule", "name": "weekdays-0630"}.items() <= changes[
        0
    ].items()


def test_prune_only_with_prune_never_system_and_never_unconfirmed(
    sandbox_env: SandboxServer, sample: Path
) -> None:
    with sandbox_env.emulator.store.transaction() as state:
        state["tables"]["tasks"]["3"]["system_created"] = True  # tenant-poweroff
        state["tables"]["task_schedules"]["3"]["system_created"] = True  # hourly
    sandbox_env.emulator.store.mark_changed()
    seeded = names(sandbox_env, "tasks")
    assert apply(sample, "--yes").exit_code == 0
    assert seeded <= names(sandbox_env, "tasks")  # no --prune: nothing deleted

    plan = run_cli("diff", "-f", str(sample), "--prune")
    assert plan.exit_code == 0
    assert "delete" in plan.stdout
    assert "tenant-poweroff" not in plan.stdout
    assert "hourly" not in plan.stdout

    sandbox_env.log.clear()
    refused = apply(sample, "--prune")  # no terminal, no --yes
    assert refused.exit_code == 2, refused.stderr
    assert "--yes" in refused.stderr
    assert writes(sandbox_env) == []

    pruned = apply(sample, "--prune", "--yes")
    assert pruned.exit_code == 0, pruned.stderr
    system_tasks = {str(r["name"]) for r in rows(sandbox_env, "tasks") if r.get("system_created")}
    system_schedules = {
        str(r["name"]) for r in rows(sandbox_env, "task_schedules") if r.get("system_created")
    }
    assert {"tenant-poweroff", "hourly"} <= system_tasks | system_schedules
    assert names(sandbox_env, "tasks") == {"wake-build-runner", "nightly-hello"} | system_tasks
    # nightly stays: the document uses it (a trigger names it) without declaring it.
    assert names(sandbox_env, "task_schedules") == {"weekdays-0630", "nightly"} | system_schedules
    assert names(sandbox_env, "task_scripts") == {"say-hello"}


def test_failed_write_stops_with_summary_and_rerun_converges(
    sandbox_env: SandboxServer, sample: Path
) -> None:
    # The 5th write (the first trigger) fails.
    sandbox_env.faults.add(
        {"method": "POST", "path": "^/api/v4/task_schedule_triggers", "status": 500, "times": 1}
    )
    failed = apply(sample, "--yes")
    assert failed.exit_code != 0
    assert "Applied (4):" in failed.stderr
    assert "Failed: create trigger 'wake-build-runner -> weekdays-0630'" in failed.stderr
    assert "Not applied (2):" in failed.stderr
    assert "4 of 7 changes applied" in failed.stderr
    assert "wake-build-runner" in names(sandbox_env, "tasks")
    again = apply(sample, "--yes")
    assert again.exit_code == 0, again.stderr
    assert "Applied 3 changes" in again.stdout
    assert run_cli("diff", "-f", str(sample), "--exit-code").exit_code == 0


def test_a_write_accepted_but_not_applied_stops_the_apply(
    sandbox_env: SandboxServer, sample: Path
) -> None:
    assert apply(sample, "--yes").exit_code == 0
    assert run_cli("task", "update", "nightly-hello", "--description", "drift").exit_code == 0
    # The server answers the update 200 and changes nothing.
    sandbox_env.faults.add({"method": "PUT", "path": "^/api/v4/tasks/", "status": 200, "body": {}})
    result = apply(sample, "--yes")
    assert result.exit_code == 1, result.stderr
    assert "field 'description'" in result.stderr
    assert "did not apply it" in result.stderr


def test_owner_names_on_create_and_in_documents(sandbox_env: SandboxServer, tmp_path: Path) -> None:
    created = run_cli(
        "task", "create", "--name", "by-name", "--owner", "vms/db-01", "--action", "poweron"
    )
    assert created.exit_code == 0, created.stderr
    assert next(r for r in rows(sandbox_env, "tasks") if r["name"] == "by-name")["owner"] == "vms/2"
    unknown = run_cli("task", "create", "--name", "x", "--owner", "vms/nope", "--action", "poweron")
    assert unknown.exit_code == 6, unknown.stderr

    with sandbox_env.emulator.store.transaction() as state:
        vms = state["tables"]["vms"]
        vms["4"] = {**vms["2"], "$key": 4}  # a second VM named db-01
        state["next_key"]["vms"] = 5
    sandbox_env.emulator.store.mark_changed()
    sandbox_env.log.clear()
    ambiguous = run_cli(
        "task", "create", "--name", "x", "--owner", "vms/db-01", "--action", "poweron"
    )
    assert ambiguous.exit_code == 7, ambiguous.stderr
    assert "keys 2, 4" in ambiguous.stderr
    doc = tmp_path / "d.yaml"
    doc.write_text("version: 1\ntasks:\n  - {name: t, owner: vms/db-01, action: poweron}\n")
    refused = apply(doc, "--yes")
    assert refused.exit_code == 7
    assert f"{doc}:3:" in refused.stderr
    assert writes(sandbox_env) == []
    # Export writes the key form for the now ambiguous name.
    assert "owner: vms/2" in run_cli("export", "--task", "by-name").stdout


def test_ambiguous_task_name_refused_before_any_write(
    sandbox_env: SandboxServer, sample: Path
) -> None:
    with sandbox_env.emulator.store.transaction() as state:
        tasks = state["tables"]["tasks"]
        tasks["99"] = {**tasks["1"], "$key": 99, "name": "wake-build-runner"}
        tasks["98"] = {**tasks["1"], "$key": 98, "name": "wake-build-runner"}
    sandbox_env.emulator.store.mark_changed()
    sandbox_env.log.clear()
    result = apply(sample, "--yes")
    assert result.exit_code == 7, result.stderr
    assert writes(sandbox_env) == []


def test_unknown_schedule_refused_with_line_before_any_write(
    sandbox_env: SandboxServer, tmp_path: Path
) -> None:
    doc = tmp_path / "d.yaml"
    doc.write_text(
        "version: 1\ntasks:\n  - name: t\n    owner: vms/1\n    action: poweron\n"
        "    triggers: [nightly, no-such-schedule]\n"
    )
    result = apply(doc, "--yes")
    assert result.exit_code == 2
    assert f"{doc}:6: " in result.stderr
    assert "no-such-schedule" in result.stderr
    assert writes(sandbox_env) == []


def test_export_only_named_tasks_and_schema(sandbox_env: SandboxServer, tmp_path: Path) -> None:
    import json

    out = tmp_path / "one.yaml"
    result = run_cli("export", "--task", "power-on-dev", "-f", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "power-on-dev" in text
    assert "nightly-snapshot" not in text
    assert "weekday-mornings" in text
    assert "name: hourly" not in text
    missing = run_cli("export", "--task", "no-such-task")
    assert missing.exit_code == 6
    sandbox_env.log.clear()
    schema = run_cli("export", "--schema")
    assert schema.exit_code == 0
    assert json.loads(schema.stdout)["properties"]["version"] == {"const": 1}
    assert sandbox_env.log.entries() == []


README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_walkthrough_runs_as_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The automation walkthrough (a ```shell block) against the in-process sandbox."""
    import re
    import shlex

    monkeypatch.setenv("VRGTASK_SANDBOX_STATE", str(tmp_path / "sandbox.json"))
    monkeypatch.chdir(tmp_path)
    section = README.read_text().split("## Automation as code", 1)[1]
    block = re.findall(r"```shell\n(.*?)```", section, re.S)[0]
    lines = [re.split(r"\s{2,}#", raw)[0].strip() for raw in block.splitlines()]
    comments = [raw.partition("#")[2] for raw in block.splitlines()]
    assert len(lines) >= 8
    for line, comment in zip(lines, comments, strict=True):
        command, _, target = line.partition(" > ")
        out = run_cli(*shlex.split(command)[1:])
        expected = 1 if "exit 1" in comment else 0
        assert out.exit_code == expected, (line, out.stderr)
        if target:
            (tmp_path / target.strip()).write_text(out.stdout, encoding="utf-8")
        if "No changes." in comment:
            assert "No changes." in out.stdout


def _requests(server: SandboxServer) -> list[str]:
    return [f"{e['method']} {e['path'].removeprefix('/api/v4/')}" for e in server.log.entries()]


@pytest.mark.parametrize("bulk", [10, 300])
def test_planning_cost_does_not_grow_with_the_document(
    sandbox_env: SandboxServer, tmp_path: Path, bulk: int
) -> None:
    sandbox_env.emulator.reset(extra_tasks=bulk)
    doc = tmp_path / "all.yaml"
    assert run_cli("export", "-f", str(doc)).exit_code == 0
    assert doc.read_text().count("- name: bulk-task-") == bulk
    sandbox_env.log.clear()
    result = run_cli("diff", "-f", str(doc), "--exit-code")
    assert result.exit_code == 0, result.stdout
    lists = [
        "GET system",
        "GET tasks",
        "GET task_schedules",
        "GET task_schedule_triggers",
        "GET task_events",
        "GET task_scripts",
    ]
    made = _requests(sandbox_env)
    assert made[:6] == lists
    # One lookup per distinct owner name: vms web-01, db-01, build-runner;
    # tenants acme; vnets dmz; users ops (system-created tasks are not exported).
    lookups = sorted(made[6:])
    assert lookups == sorted(["GET vms"] * 3 + ["GET tenants", "GET vnets", "GET users"]), made


def test_each_applied_change_is_one_write_and_one_read_back(
    sandbox_env: SandboxServer, sample: Path
) -> None:
    result = apply(sample, "--yes")
    assert result.exit_code == 0, result.stderr
    made = _requests(sandbox_env)
    planning = made[:8]  # check, 5 lists, vms/build-runner, users/ops
    assert planning[0] == "GET system"
    writes_and_reads = made[8:]
    assert len(writes_and_reads) == 2 * 7
    for write, read in zip(writes_and_reads[::2], writes_and_reads[1::2], strict=True):
        assert write.split()[0] in WRITES
        assert read.startswith("GET ")


def test_include_system_adds_system_created_objects(sandbox_env: SandboxServer) -> None:
    with sandbox_env.emulator.store.transaction() as state:
        state["tables"]["tasks"]["3"]["system_created"] = True  # tenant-poweroff
    sandbox_env.emulator.store.mark_changed()
    plain = run_cli("export")
    assert plain.exit_code == 0
    assert "tenant-poweroff" not in plain.stdout
    everything = run_cli("export", "--include-system")
    assert "name: tenant-poweroff" in everything.stdout


def test_quiet_diff_prints_nothing_and_keeps_the_exit_code(
    sandbox_env: SandboxServer, sample: Path
) -> None:
    result = run_cli("diff", "-f", str(sample), "--exit-code", "-q")
    assert result.exit_code == 1
    assert result.stdout == ""
