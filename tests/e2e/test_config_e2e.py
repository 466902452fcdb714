"""``vrgtask config`` and API keys end to end: real processes, the HTTPS sandbox."""

from __future__ import annotations

import json
import re
import shlex
import stat
from pathlib import Path

import pytest
from support import run_cli, run_process

from vrgtask.sandbox import SANDBOX_TOKEN
from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_config_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Settings: `vrgtask config`", 1)[1].split("\n#", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [re.split(r"\s{2,}#", raw)[0].strip() for raw in block.splitlines() if raw.strip()]


def test_the_readme_config_commands_work_as_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("VRGTASK_CONFIG", str(path))
    commands = readme_config_commands()
    assert len(commands) >= 6
    for command in commands:
        out = run_cli(*shlex.split(command)[1:], input="key-from-stdin\n")
        assert out.exit_code == 0, (command, out.stderr)
    text = path.read_text()
    assert 'api_key = "key-from-stdin"' in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_set_then_list_in_real_processes_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# written by hand\n[default]\nhost = "sandbox" # the emulator\n')
    env = {"VRGTASK_CONFIG": str(path)}
    out = run_process("config", "set", "timeout", "12", env=env)
    assert out.exit_code == 0, out.stderr
    listed = run_process("config", "list", env=env)
    row = next(line for line in listed.stdout.splitlines() if line.startswith("timeout"))
    assert row.split() == ["timeout", "12", "profile", "default"]
    assert path.read_text() == (
        '# written by hand\n[default]\nhost = "sandbox" # the emulator\ntimeout = 12\n'
    )
    refused = run_process("config", "set", "output", "yamlish", env=env)
    assert refused.exit_code == 2
    assert path.read_text().endswith("timeout = 12\n")


def test_an_api_key_in_a_profile_authenticates(
    trust_sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VRGTASK_CONFIG", str(tmp_path / "config.toml"))
    assert run_cli("config", "set", "-p", "sb", "host", trust_sandbox.host).exit_code == 0
    out = run_cli("config", "set", "-p", "sb", "api_key", input=f"{SANDBOX_TOKEN}\n")
    assert out.exit_code == 0, out.stderr
    listed = run_cli("-p", "sb", "-vvv", "task", "list", "-q")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.split() == ["1", "2", "3", "4", "5", "6"]
    assert "Authorization: Bearer [redacted]" in listed.stderr
    assert SANDBOX_TOKEN not in listed.stderr
    shown = run_cli("-p", "sb", "config", "list", "-o", "json")
    rows = {row["key"]: row for row in json.loads(shown.stdout)}
    assert rows["api_key"] == {"key": "api_key", "value": "********", "source": "profile sb"}
    assert SANDBOX_TOKEN not in shown.stdout


def test_verge_api_key_authenticates_and_a_wrong_one_is_refused(
    trust_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERGE_HOST", trust_sandbox.host)
    monkeypatch.setenv("VERGE_API_KEY", SANDBOX_TOKEN)
    out = run_cli("task", "get", "nightly-snapshot", "--query", "name")
    assert (out.exit_code, out.stdout) == (0, "nightly-snapshot\n")
    monkeypatch.setenv("VERGE_API_KEY", "not-the-key")
    refused = run_cli("task", "list")
    assert refused.exit_code == 4
    assert "not-the-key" not in refused.stderr
    # --api-key on the command line beats the variable
    again = run_cli("--api-key", SANDBOX_TOKEN, "task", "list", "-q")
    assert again.exit_code == 0, again.stderr


@pytest.mark.parametrize(
    "needle",
    [
        "python3 -m pip install --user pipx",
        "python3 -m pipx ensurepath",
        "tox -e py",
        "echo 'eval \"$(vrgtask completion bash)\"' >> ~/.bashrc",
        "echo 'eval \"$(vrgtask completion zsh)\"' >> ~/.zshrc",
        "vrgtask completion fish > ~/.config/fish/completions/vrgtask.fish",
        "VERGE_API_KEY",
    ],
)
def test_the_readme_covers_getting_started_and_completion(needle: str) -> None:
    assert needle in README.read_text(encoding="utf-8")
