"""Plugins cannot shadow built-ins, through real ``python -m vrgtask`` processes
against the HTTPS sandbox, with tests/plugins/vrgtask-shadow installed: it
declares the commands ``task`` and ``schedule`` (the latter broken), the
format ``json``, and ``hello``/``tsv``, which vrgtask-hello declares too.
"""

from __future__ import annotations

import json
from importlib import metadata

import pytest
from support import run_process

from vrgtask.sandbox.server import SandboxServer


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not all(_installed(d) for d in ("vrgtask-shadow", "vrgtask-hello", "vrgtask-broken")),
        reason="the example plugins of tests/plugins are not installed (tox installs them)",
    ),
]
SHADOW = "SHADOW PLUGIN WAS USED"


def test_every_built_in_works_beside_plugins_that_claim_their_names(
    sandbox_env: SandboxServer,
) -> None:
    got = run_process("task", "get", "nightly-snapshot", "-o", "json")
    assert got.exit_code == 0, got.stderr
    assert json.loads(got.stdout)["$key"] == 1
    listed = run_process("-o", "json", "task", "list")
    assert [row["$key"] for row in json.loads(listed.stdout)][:1] == [1]
    schedules = run_process("schedule", "list", "-q")  # claimed by a plugin that cannot load
    assert (schedules.exit_code, schedules.stdout.split()) == (0, ["1", "2", "3", "4"])
    enabled = run_process("-o", "yaml", "task", "enable", "nightly-snapshot")
    assert enabled.exit_code == 0, enabled.stderr
    assert "name: nightly-snapshot" in enabled.stdout.splitlines()
    hello = run_process("-o", "tsv", "hello", "--name", "ops")
    assert hello.stdout.splitlines()[1] == "1\thello, ops\ten"
    for out in (got, listed, schedules, enabled, hello):
        assert SHADOW not in out.stdout
        assert out.stderr == ""


def test_the_ignored_names_are_reported_in_help_and_with_verbose(
    sandbox_env: SandboxServer,
) -> None:
    top = run_process("--help")
    assert top.exit_code == 0
    notes = " ".join(top.stdout.split("Plugin notes:", 1)[1].split())
    for name in ("task", "schedule", "json"):
        assert notes.count(f"is ignored: '{name}' is a built-in") == 1, (name, notes)
    for name in ("hello", "tsv"):
        assert notes.count(f"'{name}' is declared more than once: vrgtask-hello") == 1, notes
    verbose = run_process("-v", "task", "get", "nightly-snapshot", "-o", "json")
    assert verbose.exit_code == 0
    lines = verbose.stderr.splitlines()
    assert len([line for line in lines if line.startswith("Note: plugin ")]) == 5, lines
    assert json.loads(verbose.stdout)["name"] == "nightly-snapshot"
