"""Completion: the scripts, the cost of completing, and silence without credentials."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import click
import pytest
from pytest_mock import MockerFixture
from support import Invoke

from vrgtask.commands import completion

HEAVY = ("pyvergeos", "requests", "urllib3", "tabulate")


def run_fresh(env: dict[str, str], argv: tuple[str, ...] = ()) -> tuple[str, str, list[str]]:
    """``vrgtask ARGV`` in a fresh interpreter: stdout, stderr, heavy modules it loaded."""
    probe = (
        "import atexit, sys\n"
        "def report():\n"
        f"    loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "    print('LOADED=' + ','.join(loaded), file=sys.stderr)\n"
        "atexit.register(report)\n"
        f"sys.argv = ['vrgtask', *{list(argv)!r}]\n"
        "from vrgtask.cli import run\n"
        "run()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    lines = out.stderr.splitlines()
    marker = [line for line in lines if line.startswith("LOADED=")]
    assert marker, out.stderr
    loaded = [m for m in marker[-1].removeprefix("LOADED=").split(",") if m]
    rest = "\n".join(line for line in lines if not line.startswith("LOADED="))
    return out.stdout, rest, loaded


def protocol(line: str) -> dict[str, str]:
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    return {"_VRGTASK_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(cword)}


@pytest.mark.parametrize(
    "line",
    ["vrgtask ", "vrgtask task ", "vrgtask task run --", "vrgtask config set ", "vrgtask -o "],
)
def test_commands_and_options_complete_without_heavy_imports(line: str) -> None:
    stdout, stderr, loaded = run_fresh(protocol(line))
    assert stdout.strip(), stderr
    assert loaded == []


def test_a_name_without_credentials_imports_nothing_and_says_nothing(tmp_path: Path) -> None:
    env = {
        **protocol("vrgtask task get ni"),
        "VERGE_HOST": "127.0.0.1:9",
        "VERGE_USERNAME": "admin",  # no password: completion must not ask for one
        "VRGTASK_CONFIG": str(tmp_path / "none.toml"),
    }
    stdout, stderr, loaded = run_fresh(env)
    assert (stdout.strip(), stderr) == ("", "")
    assert loaded == []


def test_the_completion_command_is_light_too() -> None:
    stdout, _, loaded = run_fresh({}, ("completion", "bash"))
    assert "_VRGTASK_COMPLETE=bash_complete" in stdout
    assert loaded == []


@pytest.mark.parametrize(
    ("shell", "needle"),
    [
        ("bash", "complete -o nosort -F _vrgtask_completion vrgtask"),
        ("zsh", "#compdef vrgtask"),
        ("fish", "complete --no-files --command vrgtask"),
    ],
)
def test_scripts(invoke: Invoke, shell: str, needle: str) -> None:
    out = invoke("completion", shell)
    assert out.exit_code == 0, out.stderr
    assert needle in out.stdout
    assert "_VRGTASK_COMPLETE" in out.stdout


def test_the_shell_defaults_to_dollar_shell(invoke: Invoke) -> None:
    out = invoke("completion", env={"SHELL": "/usr/bin/zsh"})
    assert out.exit_code == 0
    assert "#compdef vrgtask" in out.stdout
    unknown = invoke("completion", env={"SHELL": "/bin/tcsh"})
    assert unknown.exit_code == 2
    assert "bash, zsh, fish" in unknown.stderr
    assert invoke("completion", "pwsh").exit_code == 2


def test_help_says_how_to_install(invoke: Invoke) -> None:
    text = invoke("completion", "--help").stdout
    assert "Examples:" in text
    assert 'eval "$(vrgtask completion bash)"' in text
    assert "~/.config/fish/completions/vrgtask.fish" in text


@pytest.mark.parametrize("text", ["plain", "it's", "a\\b", "{x}", "}", "\\'{", "näme ✓", ""])
def test_filter_literal_quotes_as_pyvergeos_does(text: str) -> None:
    from pyvergeos.filters import quote_value

    assert completion.filter_literal(text) == quote_value(text)


def _ctx(**params: object) -> click.Context:
    ctx = click.Context(click.Command("vrgtask"))
    ctx.params = {"profile": None, "sandbox": False, "insecure": False, **params}
    return ctx


def test_no_host_means_no_request(mocker: MockerFixture, tmp_path: Path) -> None:
    mocker.patch.dict(os.environ, {"VRGTASK_CONFIG": str(tmp_path / "none.toml")})
    fetch = mocker.patch("vrgtask.commands.completion._fetch")
    assert completion.live_names(_ctx(), "tasks", "") == []
    fetch.assert_not_called()


def test_a_broken_config_means_no_request(mocker: MockerFixture, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[default\n")
    mocker.patch.dict(os.environ, {"VRGTASK_CONFIG": str(bad)})
    fetch = mocker.patch("vrgtask.commands.completion._fetch")
    assert completion.live_names(_ctx(host="h", token="t"), "tasks", "") == []
    fetch.assert_not_called()


def test_never_prompts_for_a_password(mocker: MockerFixture, tmp_path: Path) -> None:
    mocker.patch.dict(os.environ, {"VRGTASK_CONFIG": str(tmp_path / "none.toml")})
    mocker.patch("vrgtask.context.stdin_is_terminal", return_value=True)
    prompt = mocker.patch("click.prompt", side_effect=AssertionError("prompted"))
    fetch = mocker.patch("vrgtask.commands.completion._fetch")
    assert completion.live_names(_ctx(host="h", username="admin"), "tasks", "") == []
    prompt.assert_not_called()
    fetch.assert_not_called()


def test_gives_up_at_the_time_limit(mocker: MockerFixture, tmp_path: Path) -> None:
    mocker.patch.dict(os.environ, {"VRGTASK_CONFIG": str(tmp_path / "none.toml")})
    release = threading.Event()

    def stuck(*_args: object) -> list[str]:
        release.wait(30)
        return ["too-late"]

    mocker.patch("vrgtask.commands.completion._fetch", side_effect=stuck)
    mocker.patch("vrgtask.commands.completion.TIME_LIMIT", 0.05)
    try:
        assert completion.live_names(_ctx(host="h", token="t"), "tasks", "") == []
    finally:
        release.set()


def test_settings_for_completion_are_bounded(mocker: MockerFixture, tmp_path: Path) -> None:
    mocker.patch.dict(os.environ, {"VRGTASK_CONFIG": str(tmp_path / "none.toml")})
    fetch = mocker.patch("vrgtask.commands.completion._fetch", return_value=["a"])
    assert completion.live_names(_ctx(host="h", api_key="k", timeout=60.0), "tasks", "a") == ["a"]
    settings, auth, table, incomplete = fetch.call_args.args
    assert settings.timeout == completion.TIME_LIMIT
    assert settings.retry_total == 0
    assert auth == "Bearer k"
    assert (table, incomplete) == ("tasks", "a")


def test_other_name_parameters_make_no_request(mocker: MockerFixture) -> None:
    from vrgtask.commands._common import NAME_OR_KEY

    live = mocker.patch("vrgtask.commands.completion.live_names")
    param = click.Argument(["script_ref"], metavar="ID|NAME", type=NAME_OR_KEY)
    assert NAME_OR_KEY.shell_complete(_ctx(), param, "x") == []
    live.assert_not_called()
