"""Entry points are read with importlib.metadata once, then remembered."""

from __future__ import annotations

import marshal
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from pytest_mock import MockerFixture

from vrgtask import plugins


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("VRGTASK_PLUGIN_CACHE", str(tmp_path / "cache" / "entry-points.cache"))
    plugins.clear()
    yield Path(plugins.cache_path())
    plugins.clear()


def test_first_run_scans_and_writes_the_cache(fresh: Path) -> None:
    names = [ep.name for ep in plugins.entry_points(plugins.COMMANDS_GROUP)]
    assert "task" in names
    data = marshal.loads(fresh.read_bytes())  # noqa: S302 - the file the test made
    assert ["task", "vrgtask.commands.task:task", "vrgtask"] in data["groups"]["vrgtask.commands"]
    assert any(name == "table" for name, _, _ in data["groups"]["vrgtask.formatters"])


def test_cached_answer_is_used_without_importing_metadata(fresh: Path) -> None:
    probe = (
        "import sys\n"
        "from vrgtask import plugins\n"
        "names = [ep.name for ep in plugins.entry_points(plugins.COMMANDS_GROUP)]\n"
        "print('task' in names, 'importlib.metadata' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env={**os.environ},
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0] == ["True", "True"]  # the first run scans and fills the cache
    assert runs[1] == ["True", "False"]  # the second one never imports importlib.metadata


def test_a_new_distribution_invalidates_the_cache(
    fresh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    assert "extra-cmd" not in [ep.name for ep in plugins.entry_points(plugins.COMMANDS_GROUP)]
    dist = site / "extra_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[vrgtask.commands]\nextra-cmd = extra_mod:cli\n")
    plugins.clear()
    found = {ep.name: ep.value for ep in plugins.entry_points(plugins.COMMANDS_GROUP)}
    assert found["extra-cmd"] == "extra_mod:cli"


def test_corrupt_or_unwritable_cache_falls_back_to_scanning(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fresh.parent.mkdir(parents=True)
    fresh.write_bytes(b"{not marshal data\xff")
    assert "task" in [ep.name for ep in plugins.entry_points(plugins.COMMANDS_GROUP)]
    plugins.clear()
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a directory should be")
    monkeypatch.setenv("VRGTASK_PLUGIN_CACHE", str(blocker / "entry-points.cache"))
    assert "task" in [ep.name for ep in plugins.entry_points(plugins.COMMANDS_GROUP)]


def test_entry_point_load_resolves_attribute_paths() -> None:
    ep = plugins.PluginEntryPoint("x", "vrgtask.formatters.table:TableFormatter [extra]", "g")
    from vrgtask.formatters.table import TableFormatter

    assert ep.load() is TableFormatter
    with pytest.raises(ModuleNotFoundError):
        plugins.PluginEntryPoint("y", "no_such_module_xyz:thing", "g").load()


def test_default_location_is_per_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VRGTASK_PLUGIN_CACHE", raising=False)
    path = plugins.cache_path()
    package_dir = str(Path(plugins.__file__).resolve().parent)
    if os.access(package_dir, os.W_OK):
        assert path.startswith(package_dir)
    else:  # a read-only installation: the user's cache, one file per installation
        assert Path(path).name.startswith("entry-points-")


# --- who owns a name --------------------------------------------------------------------------


def _fake_distribution(site: Path, name: str, entry_points: str) -> None:
    dist = site / f"{name.replace('-', '_')}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(entry_points)


CLAIMS = {
    "zeta-plugin": (
        "[vrgtask.commands]\ntask = zeta_mod:task\ndup = zeta_mod:dup\nzeta = zeta_mod:own\n"
        "[vrgtask.formatters]\njson = zeta_mod:Json\n"
    ),
    "alpha-plugin": "[vrgtask.commands]\ndup = alpha_mod:dup\n[vrgtask.formatters]\nx = a:X\n",
}


@pytest.mark.parametrize(
    "order", [["zeta-plugin", "alpha-plugin"], ["alpha-plugin", "zeta-plugin"]]
)
def test_builtins_win_and_the_first_plugin_by_name_wins_whatever_the_path_order(
    fresh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: list[str]
) -> None:
    for i, name in enumerate(order):  # each in its own directory, first on sys.path first
        site = tmp_path / f"site{i}"
        site.mkdir()
        _fake_distribution(site, name, CLAIMS[name])
    for i in reversed(range(len(order))):
        monkeypatch.syspath_prepend(str(tmp_path / f"site{i}"))
    plugins.clear()
    commands = plugins.resolve(plugins.COMMANDS_GROUP).chosen
    formats = plugins.resolve(plugins.FORMATTERS_GROUP).chosen
    assert commands["task"].value == "vrgtask.commands.task:task"
    assert commands["dup"].value == "alpha_mod:dup"
    assert commands["zeta"].value == "zeta_mod:own"
    assert formats["json"].value == "vrgtask.formatters.jsonfmt:JsonFormatter"
    assert formats["x"].dist == "alpha-plugin"
    notes = {n.split("'")[1]: n for n in plugins.notes() if "zeta-plugin" in n}
    assert sorted(notes) == ["dup", "json", "task"]  # one line per name
    assert notes["dup"] == (
        "plugin command 'dup' is declared more than once: alpha-plugin (alpha_mod:dup) is used, "
        "zeta-plugin (zeta_mod:dup) ignored"
    )
    # (an installed tests/plugins/vrgtask-shadow claims 'task' and 'json' as well)
    assert notes["task"].startswith("plugin command 'task' of ")
    assert notes["task"].endswith(" is ignored: 'task' is a built-in command")
    assert "zeta-plugin (zeta_mod:task)" in notes["task"]
    assert notes["json"].endswith(" is ignored: 'json' is a built-in output format")
    assert [ep.name for ep in plugins.entry_points(plugins.COMMANDS_GROUP)] == sorted(commands)


# --- loading one command ------------------------------------------------------------------------


def test_a_command_loads_through_click_plugins() -> None:
    from vrgtask.loader import BrokenPlugin, load_command

    command = load_command(
        plugins.PluginEntryPoint("task", "vrgtask.commands.task:task", "g", "vrgtask")
    )
    assert isinstance(command, click.Group)
    assert not isinstance(command, BrokenPlugin)


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: str) -> str:
    (tmp_path / f"{name}.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


@pytest.mark.parametrize(
    ("code", "target", "cause"),
    [
        ("import no_such_dependency_xyz\n", "cli", "ModuleNotFoundError: No module named"),
        ("cli = 'a string'\n", "cli", "TypeError: {module}:cli is 'str', not a click command"),
        ("import sys\nsys.exit(3)\n", "cli", "SystemExit: 3"),
        ("raise RuntimeError('boom')\n", "cli", "RuntimeError: boom"),
        ("x = 1\n", "missing", "AttributeError"),
    ],
)
def test_broken_entry_points_are_detected_by_vrgtask_itself(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mocker: MockerFixture,
    code: str,
    target: str,
    cause: str,
) -> None:
    from vrgtask.loader import BrokenPlugin, load_command

    # Whatever click-plugins calls or words its own marker, vrgtask does not look at it.
    mocker.patch("click_plugins.core.BrokenCommand", click.Command)
    module = _module(tmp_path, monkeypatch, "plugin_mod_" + re.sub(r"\W", "_", tmp_path.name), code)
    ep = plugins.PluginEntryPoint("thing", f"{module}:{target}", "vrgtask.commands", "some-dist")
    command = load_command(ep)
    assert isinstance(command, BrokenPlugin)
    assert command.cause.startswith(cause.format(module=module))
    assert command.source == ep.value
    assert "Traceback" in command.trace
    assert "broken plugin" in (command.short_help or "")


# --- short help without imports --------------------------------------------------------------

HELP_PROBE = (
    "import sys\n"
    "from vrgtask.cli import main\n"
    "main(['--help'])\n"
    "loaded = sorted(m for m in sys.modules if m.startswith(('vrgtask.commands', 'lazy_probe')))\n"
    "print('LOADED=' + ','.join(loaded), file=sys.stderr)\n"
)


def _help_run(env: dict[str, str]) -> tuple[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", HELP_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, **env},
    )
    marker = [line for line in out.stderr.splitlines() if line.startswith("LOADED=")][-1]
    return out.stdout, [m for m in marker.removeprefix("LOADED=").split(",") if m]


def test_help_lists_every_command_from_the_cache_and_notices_an_edited_module(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _fake_distribution(site, "lazy-probe", "[vrgtask.commands]\nprobe = lazy_probe:probe\n")
    module = site / "lazy_probe.py"
    source = "import click\n@click.command()\ndef probe() -> None:\n    '''{}'''\n"
    module.write_text(source.format("First help of the probe."))
    env = {
        "VRGTASK_PLUGIN_CACHE": str(tmp_path / "cache.json"),
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "100",
    }
    cold, cold_loaded = _help_run(env)
    assert "lazy_probe" in cold_loaded  # nothing remembered yet: every command is imported
    assert "vrgtask.commands.task" in cold_loaded
    warm, warm_loaded = _help_run(env)
    assert warm == cold  # the same listing...
    assert warm_loaded == []  # ...without importing a single command module
    for name in ("task", "schedule", "trigger", "probe"):
        assert f"\n  {name} " in warm
    assert "First help of the probe." in warm
    module.write_text(source.format("Second help, after an edit."))
    edited, edited_loaded = _help_run(env)
    assert "Second help, after an edit." in edited
    assert edited_loaded == ["lazy_probe"]  # only the edited module is read again
