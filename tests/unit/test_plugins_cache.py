"""Entry points are read with importlib.metadata once, then remembered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vrgtask import plugins


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("VRGTASK_PLUGIN_CACHE", str(tmp_path / "cache" / "entry-points.json"))
    plugins.clear()
    yield Path(plugins.cache_path())
    plugins.clear()


def test_first_run_scans_and_writes_the_cache(fresh: Path) -> None:
    names = [ep.name for ep in plugins.entry_points(plugins.COMMANDS_GROUP)]
    assert "task" in names
    data = json.loads(fresh.read_text())
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
    fresh.write_text("{not json")
    assert "task" in [ep.name for ep in plugins.entry_points(plugins.COMMANDS_GROUP)]
    plugins.clear()
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a directory should be")
    monkeypatch.setenv("VRGTASK_PLUGIN_CACHE", str(blocker / "entry-points.json"))
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
