"""The README stays true: every sandbox command it shows runs as shown."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from support import run_cli

README = Path(__file__).resolve().parents[2] / "README.md"
SHOWN = ("vrgtask --sandbox", "vrgtask sandbox status", "vrgtask sandbox reset")
SHOWN = ("vrgtask --sandbox", "vrgtask sandbox status", "vrgtask sandbox reset")
EXPECTED_FAILURES = {"sandbox_fail": 1}  # the README says this one exits 1


def readme_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), re.S):
        for raw in block.replace("\\\n", " ").splitlines():
            line = re.split(r"\s{2,}#", raw)[0].strip()
            if line.startswith(SHOWN):
                commands.append(line)
            elif line.startswith("key=$(vrgtask --sandbox"):
                commands.append(line[len("key=$(") : -1])
    return commands


def test_readme_shows_sandbox_commands() -> None:
    assert len(readme_commands()) >= 15


def test_every_readme_sandbox_command_works_in_order() -> None:
    for command in readme_commands():
        argv = shlex.split(command)[1:]
        out = run_cli(*argv)
        expected = next((code for key, code in EXPECTED_FAILURES.items() if key in command), 0)
        assert out.exit_code == expected, (command, out.stderr)
        assert "Traceback" not in out.stderr


@pytest.mark.parametrize("needle", ["pipx install .", "vrgtask --sandbox task list", "tox"])
def test_set_up_commands_are_documented(needle: str) -> None:
    assert needle in README.read_text()
