"""docs/plugins.md: its example is the package in tests/plugins/vrgtask-hello,
and that package installs and runs as the guide shows.

The install goes into a new virtual environment that sees vrgtask and its
dependencies from this one (a ``.pth`` line, not ``--system-site-packages``),
with ``pip install`` as ``pipx inject`` runs it; ``--no-build-isolation`` so the
build needs no network (setuptools and wheel come from the test extra).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

import vrgtask

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "tests" / "plugins" / "vrgtask-hello"


def _blocks(language: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_the_guide_shows_the_example_package_file_for_file() -> None:
    assert _blocks("toml") == [(EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")]
    code = [b for b in _blocks("python") if "class TsvFormatter" in b]
    assert code == [(EXAMPLE / "vrgtask_hello" / "__init__.py").read_text(encoding="utf-8")]
    shell = "\n".join(_blocks("sh"))
    assert "pipx inject vrgtask ./vrgtask-hello" in shell
    assert "pipx inject --editable vrgtask ./vrgtask-hello" in shell


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=300, check=False, env=env, cwd=cwd
    )


def test_the_example_installs_and_runs_as_the_guide_shows(tmp_path: Path) -> None:
    for needed in ("setuptools", "wheel"):  # the test extra installs both
        pytest.importorskip(needed, reason="building the example offline needs it")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            dict(os.environ),
            tmp_path,
        ).stdout.strip()
    )
    # vrgtask (editable or not) and its dependencies, after the new environment's own
    # packages: a view of this environment without its own copy of the example
    view = tmp_path / "outer-view"
    view.mkdir()
    for item in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not item.name.startswith(("vrgtask_hello", "vrgtask-hello")):
            (view / item.name).symlink_to(item)
    outer = [str(view)]
    checkout = Path(vrgtask.__file__).resolve().parents[1]
    if checkout != Path(sysconfig.get_paths()["purelib"]).resolve():
        # vrgtask from a source checkout (an editable install, or pytest's
        # rootdir); an installed vrgtask is in the view already, and adding its
        # whole site-packages would bring this environment's example back
        outer.insert(0, str(checkout))
    (site / "zz-outer-environment.pth").write_text("\n".join(outer) + "\n")
    env = {
        **os.environ,
        "VRGTASK_PLUGIN_CACHE": str(tmp_path / "entry-points.json"),
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    work = tmp_path / "work"
    shutil.copytree(EXAMPLE, work / "vrgtask-hello", ignore=shutil.ignore_patterns("*.egg-info"))
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    if _run([*pip, "--version"], env, work).returncode != 0:  # pip < 22.3: no --python
        pip = [str(python), "-m", "pip"]
    install = [*pip, "install", "--quiet", "--no-deps", "--no-build-isolation"]

    def vrgtask_run(*args: str) -> subprocess.CompletedProcess[str]:
        return _run([str(python), "-m", "vrgtask", *args], env, work)

    # pipx inject vrgtask ./vrgtask-hello
    done = _run([*install, "./vrgtask-hello"], env, work)
    assert done.returncode == 0, done.stderr
    top = vrgtask_run("--help")
    assert re.search(r"^  hello +Say hello \(an example plugin command\)\.$", top.stdout, re.M)
    assert "tsv" in top.stdout
    out = vrgtask_run("-o", "tsv", "hello", "--name", "ops")
    assert (out.returncode, out.stdout) == (0, "Key\tGreeting\tLanguage\n1\thello, ops\ten\n"
                                                "2\tbonjour, ops\tfr\n"), out.stderr  # fmt: skip
    assert vrgtask_run("hello", "--language", "de").returncode == 6
    assert vrgtask_run("hello", "--name", " ").returncode == 2

    # pipx inject --editable vrgtask ./vrgtask-hello, then edit
    assert _run([*pip, "uninstall", "--yes", "--quiet", "vrgtask-hello"], env, work).returncode == 0
    done = _run([*install, "--editable", "./vrgtask-hello"], env, work)
    assert done.returncode == 0, done.stderr
    assert "Say hello (an example plugin command)." in vrgtask_run("--help").stdout
    source = work / "vrgtask-hello" / "vrgtask_hello" / "__init__.py"
    source.write_text(
        source.read_text()
        .replace("Say hello (an example plugin command).", "Say hello, edited in place.")
        .replace('"hello"', '"hi"')
    )
    edited = vrgtask_run("--help")
    assert re.search(r"^  hello +Say hello, edited in place\.$", edited.stdout, re.M), (
        edited.stdout,
        edited.stderr,
    )
    assert vrgtask_run("-o", "tsv", "hello").stdout.splitlines()[1] == "1\thi, world\ten"
