"""Fleets end to end: the real CLI and pyvergeos over HTTPS against several
independent sandbox servers (one slowed, one stopped, one refusing the
credentials), and against a fleet of in-process sandboxes with their own
state files. Judged by rows, stderr lines, exit codes and the servers'
request logs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import Outcome, run_cli

from vrgtask.automation.sample import SAMPLE_DOCUMENT
from vrgtask.sandbox import Emulator, MemoryStore, seed_state
from vrgtask.sandbox.server import SandboxServer

WRITES = ("POST", "PUT", "DELETE")
HEALTHY = ("site-1", "site-2", "slow")


class Fleet:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: dict[str, SandboxServer] = {}
        self.down_port = 0

    def start(self) -> None:
        for name in (*HEALTHY, "badauth"):
            server = SandboxServer(
                Emulator(MemoryStore(seed_state())), ca_dir=self.root / f"ca-{name}"
            )
            self.servers[name] = server.start()
        # A server started then stopped: its port refuses connections.
        gone = SandboxServer(Emulator(MemoryStore(seed_state())), ca_dir=self.root / "ca-down")
        gone.start()
        self.down_port = gone.port
        gone.stop()
        bundle = self.root / "fleet-ca.pem"
        bundle.write_text(
            "".join(str(s.ca_pem_path.read_text()) for s in self.servers.values() if s.ca_pem_path)
        )
        self.bundle = bundle

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def reset(self) -> None:
        for server in self.servers.values():
            server.faults.clear()
            assert server.wait_idle(timeout=30)
            server.emulator.reset()
            server.log.clear()

    def config(self, path: Path) -> Path:
        lines = []
        for name, server in self.servers.items():
            password = "wrong-password" if name == "badauth" else "sandbox"
            lines += [
                f"[profile.{name}]",
                f'host = "{server.host}"',
                'username = "admin"',
                f'password = "{password}"',
                "",
            ]
        lines += ["[profile.down]", f'host = "127.0.0.1:{self.down_port}"', 'token = "t0"', ""]
        path.write_text("\n".join(lines), encoding="utf-8")
        path.chmod(0o600)
        return path

    def writes(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.servers[name].log.entries() if e["method"] in WRITES]


@pytest.fixture(scope="module")
def fleet_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    fleet = Fleet(tmp_path_factory.mktemp("fleet"))
    fleet.start()
    try:
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture
def fleet(fleet_servers: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    fleet_servers.reset()
    monkeypatch.setenv("VRGTASK_CONFIG", str(fleet_servers.config(tmp_path / "config.toml")))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fleet_servers.bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(fleet_servers.bundle))
    # Slow: every answer of this site waits (a fault rule with only a delay).
    fleet_servers.servers["slow"].faults.add({"delay": 0.3, "times": None})
    return fleet_servers


def error_lines(result: Outcome) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def json_rows(result: Outcome) -> list[dict[str, Any]]:
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


# -- reads ------------------------------------------------------------------


def test_all_profiles_task_list_rows_failures_and_exit_code(fleet: Fleet) -> None:
    fleet.servers["site-2"].emulator.reset()
    run_cli("-p", "site-2", "task", "disable", "nightly-snapshot")  # make site-2 differ
    result = run_cli("-A", "-o", "json", "task", "list")
    rows = json_rows(result)
    by_profile: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_profile.setdefault(row["profile"], []).append(row)
    assert list(by_profile) == list(HEALTHY)  # in config order, failures left out
    assert all(len(found) == 6 for found in by_profile.values())
    nightly = {
        p: next(r for r in found if r["name"] == "nightly-snapshot")["enabled"]
        for p, found in by_profile.items()
    }
    assert nightly == {"site-1": True, "site-2": False, "slow": True}
    errors = error_lines(result)
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith("Error: profile badauth: authentication failed")
    assert errors[1].startswith("Error: profile down: ")
    assert result.exit_code == 10  # the worst: connection (10) above authentication (4)


def test_table_has_a_leading_profile_column(fleet: Fleet) -> None:
    result = run_cli("-p", "site-1,slow", "schedule", "list")
    assert result.exit_code == 0, result.stderr
    header, _rule, *body = result.stdout.splitlines()
    assert header.split()[:2] == ["Profile", "Key"]
    assert {line.split()[0] for line in body} == {"site-1", "slow"}


@pytest.mark.parametrize(
    "argv", [["trigger", "list"], ["event", "list"], ["script", "list"], ["schedule", "list"]]
)
def test_every_list_command_fans_out(fleet: Fleet, argv: list[str]) -> None:
    one = run_cli("-p", "site-1", "-o", "json", *argv)
    many = run_cli("-p", "site-1", "-p", "site-2", "-o", "json", *argv)
    assert one.exit_code == many.exit_code == 0, many.stderr
    expected = [
        {"profile": p, **row} for p in ("site-1", "site-2") for row in json.loads(one.stdout)
    ]
    assert json_rows(many) == expected


def test_one_profile_keeps_todays_output_exactly(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_profile = run_cli("-p", "site-1", "task", "list")
    server = fleet.servers["site-1"]
    monkeypatch.delenv("VRGTASK_CONFIG")
    direct = run_cli("--host", server.host, "-u", "admin", "--password", "sandbox", "task", "list")
    assert with_profile.exit_code == direct.exit_code == 0
    assert with_profile.stdout == direct.stdout
    assert "Profile" not in with_profile.stdout


def test_fail_fast_stops_at_the_first_failure(fleet: Fleet) -> None:
    result = run_cli(
        "-p", "down,site-1,site-2", "--parallel", "1", "--fail-fast", "-o", "json", "task", "list"
    )
    assert result.exit_code == 10
    assert json_rows(result) == []
    assert len(error_lines(result)) == 1
    assert "--fail-fast: not run or not finished: site-1, site-2" in result.stderr
    assert fleet.servers["site-1"].log.entries() == []


# -- export, diff, apply ----------------------------------------------------


def test_apply_all_converges_every_site_and_a_second_run_writes_nothing(
    fleet: Fleet, tmp_path: Path
) -> None:
    doc = tmp_path / "automation.yaml"
    doc.write_text(SAMPLE_DOCUMENT, encoding="utf-8")
    healthy = ",".join(HEALTHY)

    dry = run_cli("-p", healthy, "apply", "-f", str(doc), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert all(f"{p}: Plan: 7 to create" in dry.stderr for p in HEALTHY)
    assert {line.split()[0] for line in dry.stdout.splitlines()[2:]} == set(HEALTHY)
    assert all(fleet.writes(p) == [] for p in HEALTHY)

    first = run_cli("-p", healthy, "apply", "-f", str(doc), "--yes")
    assert first.exit_code == 0, first.stderr
    for name in HEALTHY:
        assert f"{name}: Applied 7 changes: 7 created, 0 updated, 0 deleted." in first.stdout
        assert fleet.writes(name) != []
        fleet.servers[name].log.clear()
    assert "Fleet: 3 profiles: 3 ok." in first.stderr

    second = run_cli("-p", healthy, "apply", "-f", str(doc), "--yes")
    assert second.exit_code == 0, second.stderr
    assert all(f"{p}: No changes." in second.stdout for p in HEALTHY)
    assert all(fleet.writes(p) == [] for p in HEALTHY)


def test_apply_all_with_a_dead_site_applies_the_others_and_exits_with_its_code(
    fleet: Fleet, tmp_path: Path
) -> None:
    doc = tmp_path / "automation.yaml"
    doc.write_text(SAMPLE_DOCUMENT, encoding="utf-8")
    result = run_cli("-A", "apply", "-f", str(doc), "--yes")
    assert result.exit_code == 10
    assert all(fleet.writes(p) != [] for p in HEALTHY)
    assert fleet.writes("badauth") == []
    assert [e.split(":")[0:2] for e in error_lines(result)] == [
        ["Error", " profile badauth"],
        ["Error", " profile down"],
    ]
    assert "Fleet: 5 profiles: 3 ok, 2 failed (badauth, down)." in result.stderr


def test_apply_fail_fast_applies_nothing_when_a_plan_failed(fleet: Fleet, tmp_path: Path) -> None:
    doc = tmp_path / "automation.yaml"
    doc.write_text(SAMPLE_DOCUMENT, encoding="utf-8")
    result = run_cli("-A", "--fail-fast", "apply", "-f", str(doc), "--yes")
    assert result.exit_code in (4, 10)
    assert all(fleet.writes(p) == [] for p in fleet.servers)


def test_apply_from_stdin_reads_the_document_once(fleet: Fleet) -> None:
    result = run_cli("-p", "site-1,site-2", "apply", "-f", "-", "--yes", input=SAMPLE_DOCUMENT)
    assert result.exit_code == 0, result.stderr
    assert "site-1: Applied 7 changes" in result.stdout
    assert "site-2: Applied 7 changes" in result.stdout


def test_a_bad_document_is_refused_before_any_request(fleet: Fleet, tmp_path: Path) -> None:
    doc = tmp_path / "bad.yaml"
    doc.write_text("tasks: 3\n", encoding="utf-8")
    result = run_cli("-A", "apply", "-f", str(doc), "--yes")
    assert result.exit_code == 2
    assert all(s.log.entries() == [] for s in fleet.servers.values())


def test_diff_exit_code_across_the_fleet(fleet: Fleet, tmp_path: Path) -> None:
    exported = run_cli("-p", "site-1", "export")
    assert exported.exit_code == 0, exported.stderr
    doc = tmp_path / "site-1.yaml"
    doc.write_text(exported.stdout, encoding="utf-8")
    same = run_cli("-p", "site-1,site-2", "diff", "-f", str(doc), "--exit-code")
    assert same.exit_code == 0, same.stderr
    assert same.stdout.splitlines() == ["site-1: No changes.", "site-2: No changes."]
    run_cli("-p", "site-2", "task", "disable", "nightly-snapshot")
    drift = run_cli("-p", "site-1,site-2", "-o", "json", "diff", "-f", str(doc), "--exit-code")
    assert drift.exit_code == 1
    changes = json_rows(drift)
    assert {c["profile"] for c in changes} == {"site-2"}
    assert any(c["name"] == "nightly-snapshot" and c["field"] == "enabled" for c in changes)


def test_export_writes_one_document_per_profile(fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "sites"
    result = run_cli("-A", "export", "-f", str(out))
    assert result.exit_code == 10
    assert sorted(p.name for p in out.iterdir()) == ["site-1.yaml", "site-2.yaml", "slow.yaml"]
    single = run_cli("-p", "slow", "export")
    assert (out / "slow.yaml").read_text(encoding="utf-8") == single.stdout
    assert f"Wrote {out / 'site-1.yaml'}" in result.stderr


def test_export_to_stdout_needs_a_directory_with_several_profiles(fleet: Fleet) -> None:
    result = run_cli("-A", "export")
    assert result.exit_code == 2
    assert "give -f DIR" in result.stderr
    assert all(s.log.entries() == [] for s in fleet.servers.values())


# -- a fleet of in-process sandboxes ----------------------------------------


def test_profiles_with_their_own_embedded_sandbox_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "".join(
            f'[profile.lab{i}]\nhost = "sandbox"\nsandbox_state = "lab{i}.json"\n'
            for i in range(1, 4)
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("VRGTASK_CONFIG", str(config))
    created = run_cli("-p", "lab2", "schedule", "create", "--name", "only-on-lab2")
    assert created.exit_code == 0, created.stderr
    result = run_cli("-A", "-o", "json", "schedule", "list")
    assert result.exit_code == 0, result.stderr
    names = {(r["profile"], r["name"]) for r in json_rows(result)}
    assert ("lab2", "only-on-lab2") in names
    assert ("lab1", "only-on-lab2") not in names
    assert ("lab3", "only-on-lab2") not in names
    assert sorted(p.name for p in tmp_path.glob("lab*.json")) == [
        "lab1.json",
        "lab2.json",
        "lab3.json",
    ]


# -- status, agenda, task history -------------------------------------------


def fail_a_run(profile: str) -> None:
    params = '{"sandbox_fail": "disk full", "sandbox_start_delay": 0, "sandbox_duration": 0}'
    ran = run_cli("-p", profile, "task", "run", "nightly-snapshot", "--params-json", params)
    assert ran.exit_code == 0, ran.stderr


def test_status_one_section_per_profile_and_a_summary_line(fleet: Fleet) -> None:
    result = run_cli("-A", "status")
    out = result.stdout
    positions = [out.index(f"== {name} ==") for name in HEALTHY]
    assert positions == sorted(positions)
    assert "== badauth == (failed)" in out
    assert "== down == (failed)" in out
    assert out.count("Running now (0)") == 3
    assert result.stderr.strip().splitlines()[-1] == (
        "Fleet: 5 profiles: 3 ok, 2 failed (badauth, down)."
    )
    assert len(error_lines(result)) == 2
    assert result.exit_code == 10


def test_status_fail_on_applies_to_the_whole_fleet(fleet: Fleet) -> None:
    fail_a_run("site-2")
    sites = ("-p", "site-1,site-2")
    unhealthy = run_cli(*sites, "status")
    assert unhealthy.exit_code == 1, unhealthy.stderr
    assert "Fleet: 2 profiles: 1 ok, 1 exit 1 (site-2)." in unhealthy.stderr
    section = unhealthy.stdout.split("== site-2 ==")[1]
    assert "disk full" in section
    assert "disk full" not in unhealthy.stdout.split("== site-2 ==")[0]
    never = run_cli(*sites, "status", "--fail-on", "never")
    assert never.exit_code == 0, never.stderr
    data = json.loads(run_cli(*sites, "-o", "json", "status").stdout)
    assert [(d["profile"], len(d["failed"])) for d in data] == [("site-1", 0), ("site-2", 1)]


def test_agenda_and_task_history_fan_out(fleet: Fleet) -> None:
    agenda = run_cli("-p", "site-1,slow", "-o", "json", "agenda")
    assert agenda.exit_code == 0, agenda.stderr
    rows = json_rows(agenda)
    assert {r["profile"] for r in rows} == {"site-1", "slow"}
    per_site = [[r["task"] for r in rows if r["profile"] == p] for p in ("site-1", "slow")]
    assert per_site[0] == per_site[1]
    assert per_site[0]
    fail_a_run("slow")
    history = run_cli("-A", "-o", "json", "task", "history", "nightly-snapshot", "--errors")
    assert history.exit_code == 10
    failures = [r for r in json_rows(history) if "disk full" in str(r.get("text"))]
    assert [r["profile"] for r in failures] == ["slow"]


def test_watch_is_for_one_system(fleet: Fleet) -> None:
    result = run_cli("-A", "status", "--watch")
    assert result.exit_code == 2
    assert "--watch works on one system" in result.stderr
    assert all(s.log.entries() == [] for s in fleet.servers.values())


def test_doctor_checks_every_profile_in_a_section_of_its_own(fleet: Fleet) -> None:
    result = run_cli("-p", "site-1,badauth", "doctor")
    assert result.exit_code == 1
    healthy = result.stdout.split("== site-1 ==")[1].split("== badauth ==")[0]
    assert "fail" not in healthy
    assert "credentials" in healthy
    assert "== badauth == (failed)" in result.stdout
    assert len(error_lines(result)) == 1
    assert error_lines(result)[0].startswith("Error: profile badauth: ")
    assert "Fleet: 2 profiles: 1 ok, 1 failed (badauth)." in result.stderr
    data = json.loads(run_cli("-p", "site-1,slow", "-o", "json", "doctor").stdout)
    assert {row["profile"] for row in data} == {"site-1", "slow"}
    assert all(row["verdict"] == "pass" for row in data if row["check"] == "credentials")
    assert all(fleet.writes(p) == [] for p in fleet.servers)


def test_fail_fast_abandons_reads_still_in_flight(fleet: Fleet) -> None:
    # slow answers each request after 5 s; down fails within about a second.
    fleet.servers["slow"].faults.clear()
    fleet.servers["slow"].faults.add({"delay": 5, "times": None})
    result = run_cli("-p", "slow,down", "--fail-fast", "-o", "json", "task", "list")
    assert result.exit_code == 10
    assert json_rows(result) == []
    assert "--fail-fast: not run or not finished: slow" in result.stderr
    assert [line.split(":")[1] for line in error_lines(result)] == [" profile down"]


def test_each_profile_has_its_own_timeout(fleet: Fleet, tmp_path: Path) -> None:
    config = Path(str(fleet.config(tmp_path / "timeouts.toml")))
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[profile.slow]\n", "[profile.slow]\ntimeout = 1\n"))
    fleet.servers["slow"].faults.clear()
    fleet.servers["slow"].faults.add({"delay": 3, "times": None})
    env = {"VRGTASK_CONFIG": str(config), "VERGE_RETRY_TOTAL": "0"}  # one attempt: quicker
    result = run_cli("-p", "site-1,slow", "-o", "json", "script", "list", env=env)
    assert result.exit_code == 9
    assert {r["profile"] for r in json_rows(result)} == {"site-1"}
    (line,) = error_lines(result)
    assert line.startswith("Error: profile slow: ")
    assert "timed out" in line
