"""The fleet machinery (vrgtask/fleet.py): choosing profiles, running them in
parallel with a bound, failures and exit codes, merging output, refusing
commands that do not fan out, and the declaration a command opts in with."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from support import run_cli

from vrgtask import fanout, fleet
from vrgtask.cli import cli
from vrgtask.config import Settings
from vrgtask.context import AppContext, Section, get_app, output_options
from vrgtask.errors import ConfigError, VrgtaskError
from vrgtask.formatters import Column


def write_config(path: Path, *names: str, default_host: str | None = None) -> Path:
    lines = []
    if default_host is not None:
        lines += ["[default]", f'host = "{default_host}"', ""]
    for name in names:
        lines += [
            f'[profile."{name}"]',
            'host = "sandbox"',
            f'sandbox_state = "state-{name}.json"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_config(tmp_path / "config.toml", "site-a", "site-b", "site-c")
    monkeypatch.setenv("VRGTASK_CONFIG", str(path))
    return path


# -- choosing ---------------------------------------------------------------


def test_split_profiles_commas_repeats_and_blanks() -> None:
    assert fanout.split_profiles(["a,b", "c", "a", " d , "]) == ["a", "b", "c", "d"]


def test_one_profile_is_not_a_fleet_two_are() -> None:
    assert fanout.select_profiles(["a"], False, {}) == (["a"], False)
    assert fanout.select_profiles(["a,a"], False, {}) == (["a"], False)
    assert fanout.select_profiles(["a", "b"], False, {}) == (["a", "b"], True)
    assert fanout.select_profiles([], False, {}) == ([], False)


def test_all_profiles_reads_the_file_in_order_default_only_with_a_host(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", "zz", "aa")
    env = {"VRGTASK_CONFIG": str(path)}
    assert fanout.select_profiles([], True, env) == (["zz", "aa"], True)
    write_config(path, "zz", default_host="sandbox")
    assert fanout.all_profile_names(env) == ["default", "zz"]


def test_all_profiles_without_profiles_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no profiles"):
        fanout.all_profile_names({"VRGTASK_CONFIG": str(tmp_path / "missing.toml")})


def test_all_profiles_and_profile_together_is_a_usage_error() -> None:
    with pytest.raises(click.UsageError, match="not both"):
        fanout.select_profiles(["a"], True, {})


def test_file_name_is_safe() -> None:
    assert fleet.file_name("site/a b") == "site_a_b"
    assert fleet.file_name("..") == "_"
    assert fleet.file_name("dc-1.eu") == "dc-1.eu"


# -- running ----------------------------------------------------------------


def make_fleet(names: list[str], parallel: int = 8, fail_fast: bool = False) -> fleet.Fleet:
    return fleet.Fleet(names, {}, parallel=parallel, fail_fast=fail_fast)


@pytest.fixture
def parent() -> AppContext:
    return AppContext(Settings(output="json"))


@pytest.fixture
def no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Profiles resolve to empty settings (no file needed)."""
    monkeypatch.setattr(fleet.Fleet, "settings_for", lambda self, name: Settings(profile=name))


@pytest.mark.usefixtures("no_config")
def test_profiles_run_at_the_same_time(parent: AppContext) -> None:
    # Each job waits for all three to be running: run one after the other, it would break.
    barrier = threading.Barrier(3, timeout=20)

    def work(app: fleet.ProfileApp) -> str:
        barrier.wait()
        return app.profile

    results = fleet.run_profiles(make_fleet(["a", "b", "c"]), parent, work)
    assert [r.value for r in results] == ["a", "b", "c"]
    assert all(r.finished and not r.failed for r in results)


@pytest.mark.usefixtures("no_config")
def test_parallel_bounds_how_many_run_at_once(parent: AppContext) -> None:
    lock = threading.Lock()
    running = [0]
    peak = [0]
    pair = threading.Barrier(2, timeout=20)  # two at once do happen

    def work(app: fleet.ProfileApp) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        pair.wait()
        with lock:
            running[0] -= 1

    results = fleet.run_profiles(make_fleet(list("abcdef"), parallel=2), parent, work)
    assert all(r.finished and not r.failed for r in results)
    assert peak[0] == 2


@pytest.mark.usefixtures("no_config")
def test_a_failure_is_one_line_and_the_worst_code_wins(parent: AppContext) -> None:
    def work(app: fleet.ProfileApp) -> None:
        if app.profile == "auth":
            raise VrgtaskError("bad credentials", exit_code=4)  # type: ignore[arg-type]
        if app.profile == "down":
            raise ConnectionRefusedError("refused\nsecond line")
        if app.profile == "flagged":
            raise click.exceptions.Exit(1)

    results = fleet.run_profiles(make_fleet(["ok", "auth", "down", "flagged"]), parent, work)
    by_name = {r.name: r for r in results}
    assert by_name["ok"].code == 0
    assert not by_name["ok"].failed
    assert by_name["auth"].code == 4
    assert by_name["auth"].error == "bad credentials"
    assert by_name["down"].failed
    assert "\n" not in str(by_name["down"].error)
    assert by_name["flagged"].code == 1
    assert not by_name["flagged"].failed
    assert fleet.worst(results) == 4
    assert fleet.summary_line(results) == (
        "Fleet: 4 profiles: 1 ok, 1 exit 1 (flagged), 2 failed (auth, down)."
    )


@pytest.mark.usefixtures("no_config")
def test_fail_fast_skips_what_has_not_started(parent: AppContext) -> None:
    seen: list[str] = []

    def work(app: fleet.ProfileApp) -> None:
        seen.append(app.profile)
        if app.profile == "b":
            raise ConfigError("no host")

    results = fleet.run_profiles(
        make_fleet(list("abcde"), parallel=1, fail_fast=True), parent, work
    )
    assert seen == ["a", "b"]
    assert [r.finished for r in results] == [True, True, False, False, False]
    assert fleet.worst(results) == 3
    assert "2 failed" not in fleet.summary_line(results)
    assert "3 not finished (c, d, e)" in fleet.summary_line(results)


@pytest.mark.usefixtures("no_config")
def test_without_fail_fast_every_profile_runs(parent: AppContext) -> None:
    def work(app: fleet.ProfileApp) -> None:
        if app.profile == "b":
            raise ConfigError("no host")

    results = fleet.run_profiles(make_fleet(list("abcde"), parallel=1), parent, work)
    assert all(r.finished for r in results)


def test_secrets_of_a_profile_never_reach_its_error_line(parent: AppContext) -> None:
    f = make_fleet(["a"])
    f.apps["a"] = fleet.ProfileApp("a", Settings(token="s3cr3t-token"), parent)

    def work(app: fleet.ProfileApp) -> None:
        raise VrgtaskError("server said s3cr3t-token is wrong")

    (result,) = fleet.run_profiles(f, parent, work)
    assert result.error == "server said *** is wrong"


# -- the declaration, with a toy command ------------------------------------

SECTIONED: dict[str, Any] = {}


@fanout.fans_out(sections=True, single_only=("watch",))
@click.command("toy-status")
@click.option("--watch", is_flag=True)
@output_options
def toy_status(watch: bool) -> None:
    """A status-like command: sections, a note, exit 1 when unhealthy."""
    app = get_app()
    name = app.settings.profile or "?"
    rows = [{"finding": f"{name}-finding"}] if name.endswith("b") else []
    app.render_sections([Section("findings", "Findings", rows, [Column("finding", "Finding")])])
    app.note(f"Status: {'unhealthy' if rows else 'healthy'}")
    if rows:
        click.get_current_context().exit(1)


@fanout.fans_out()
@click.command("toy-list")
@output_options
def toy_list() -> None:
    app = get_app()
    app.render_list(
        [{"$key": 1, "name": f"x-{app.settings.profile}"}],
        [Column("$key", "Key"), Column("name", "Name")],
    )
    app.done(f"listed {app.settings.profile}")


@click.command("toy-write")
def toy_write() -> None:
    get_app().done("wrote")


@pytest.fixture
def toys() -> Iterator[None]:
    for command in (toy_status, toy_list, toy_write):
        cli.add_command(command)
    yield
    for command in (toy_status, toy_list, toy_write):
        cli.commands.pop(str(command.name), None)


@pytest.mark.usefixtures("config", "toys")
def test_a_declared_list_command_gets_a_profile_column() -> None:
    result = run_cli("-p", "site-a,site-b", "toy-list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Profile", "Key", "Name"]
    assert lines[2].split() == ["site-a", "1", "x-site-a"]
    assert lines[3].split() == ["site-b", "1", "x-site-b"]
    assert "site-a: listed site-a" in lines


@pytest.mark.usefixtures("config", "toys")
def test_structured_rows_carry_a_profile_field() -> None:
    result = run_cli("-A", "-o", "json", "toy-list")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout.split("\nsite-a:")[0])
    assert [(r["profile"], r["name"]) for r in data] == [
        ("site-a", "x-site-a"),
        ("site-b", "x-site-b"),
        ("site-c", "x-site-c"),
    ]
    csv = run_cli("-A", "-o", "csv", "toy-list")
    assert csv.stdout.splitlines()[0].split(",")[0] == "profile"


@pytest.mark.usefixtures("config", "toys")
def test_quiet_prints_profile_and_key() -> None:
    result = run_cli("-A", "-q", "toy-list")
    assert result.stdout.splitlines() == ["site-a\t1", "site-b\t1", "site-c\t1"]


@pytest.mark.usefixtures("config", "toys")
def test_sections_per_profile_summary_line_and_fleet_wide_exit_code() -> None:
    result = run_cli("-A", "toy-status")
    assert result.exit_code == 1
    out = result.stdout
    assert out.index("== site-a ==") < out.index("== site-b ==") < out.index("== site-c ==")
    assert "site-b-finding" in out
    assert "Status: unhealthy" in out.split("== site-b ==")[1].split("== site-c ==")[0]
    assert result.stderr.strip().splitlines()[-1] == ("Fleet: 3 profiles: 2 ok, 1 exit 1 (site-b).")


@pytest.mark.usefixtures("config", "toys")
def test_sections_in_json_are_one_object_per_profile() -> None:
    result = run_cli("-A", "-o", "json", "toy-status")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [d["profile"] for d in data] == ["site-a", "site-b", "site-c"]
    assert data[1]["findings"] == [{"finding": "site-b-finding"}]


@pytest.mark.usefixtures("config", "toys")
def test_single_only_options_are_refused_with_several_profiles() -> None:
    result = run_cli("-A", "toy-status", "--watch")
    assert result.exit_code == 2
    assert "--watch works on one system" in result.stderr


@pytest.mark.usefixtures("config", "toys")
def test_one_profile_runs_the_command_as_it_is() -> None:
    result = run_cli("-p", "site-b", "toy-status")
    assert result.exit_code == 1
    assert "==" not in result.stdout
    assert "Profile" not in result.stdout


@pytest.mark.usefixtures("config", "toys")
@pytest.mark.parametrize(
    "argv",
    [
        ["toy-write"],
        ["task", "delete", "nightly-snapshot", "--yes"],
        ["schedule", "enable", "nightly"],
        ["task", "run", "nightly-snapshot"],
    ],
)
def test_commands_that_do_not_fan_out_refuse_several_profiles(argv: list[str]) -> None:
    result = run_cli("-p", "site-a", "-p", "site-b", *argv)
    assert result.exit_code == 2
    path = " ".join(argv[:2] if argv[0] != "toy-write" else argv[:1])
    assert f" {path}' works on one system at a time" in result.stderr
    assert "works on one system at a time" in result.stderr
    assert result.stdout == ""


@pytest.mark.usefixtures("config")
@pytest.mark.parametrize(
    "option", [["--host", "h.example"], ["--token", "t"], ["--sandbox"], ["-u", "admin"]]
)
def test_connection_options_are_refused_with_several_profiles(option: list[str]) -> None:
    result = run_cli(*option, "-A", "task", "list")
    assert result.exit_code == 2
    assert "cannot be used with several profiles" in result.stderr


@pytest.mark.usefixtures("config")
def test_help_of_a_command_is_not_refused() -> None:
    result = run_cli("-A", "task", "delete", "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


@pytest.mark.usefixtures("config")
def test_an_unknown_profile_is_that_profiles_failure_only() -> None:
    result = run_cli("-p", "site-a,nope", "-o", "json", "script", "list")
    assert result.exit_code == 3
    assert [r["profile"] for r in json.loads(result.stdout)] == ["site-a"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert errors[0].startswith("Error: profile nope: unknown profile 'nope'")


def test_the_environment_does_not_point_every_profile_at_one_host(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERGE_HOST", "127.0.0.1:9")
    result = run_cli("-A", "-o", "json", "script", "list")
    assert result.exit_code == 0, result.stderr
    assert "ignoring VERGE_HOST for several profiles" in result.stderr
    assert len(json.loads(result.stdout)) == 3


@pytest.mark.usefixtures("config", "toys")
def test_yaml_rows_carry_a_profile_field_too() -> None:
    import yaml

    result = run_cli("-p", "site-c,site-a", "-o", "yaml", "toy-list")
    assert result.exit_code == 0, result.stderr
    body = result.stdout.split("\nsite-c: listed")[0]
    assert [(r["profile"], r["name"]) for r in yaml.safe_load(body)] == [
        ("site-c", "x-site-c"),
        ("site-a", "x-site-a"),
    ]


@pytest.mark.usefixtures("config")
def test_all_profiles_overrides_verge_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERGE_PROFILE", "site-b")
    result = run_cli("-A", "-q", "script", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["site-a\t1", "site-b\t1", "site-c\t1"]
    clash = run_cli("-A", "-p", "site-b", "script", "list")
    assert clash.exit_code == 2
    assert "not both" in clash.stderr
