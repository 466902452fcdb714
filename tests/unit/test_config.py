"""Configuration precedence: option > environment > profile > default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture
from support import Invoke

from vrgtask.config import Settings, normalize_host, resolve
from vrgtask.errors import ConfigError

VRG_CONFIG = """
[default]
host = "default.example.com"
token = "default-token"
output = "wide"
timeout = 12

[profile.lab]
host = "https://lab.example.com:8443/"
username = "labadmin"
password = "lab-pass"
verify_ssl = false
output = "json"

[profile.keyed]
host = "keyed.example.com"
api_key = "api-key-value"
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(VRG_CONFIG)
    path.chmod(0o600)
    monkeypatch.setenv("VRGTASK_CONFIG", str(path))
    return path


@pytest.fixture
def captured(mocker: MockerFixture) -> list[Settings]:
    """Settings each invocation connected with (the client itself is a mock)."""
    seen: list[Settings] = []

    def factory(app: Any) -> MagicMock:
        seen.append(app.settings)
        client = MagicMock()
        client.tasks.list.return_value = []
        return client

    mocker.patch("vrgtask.context.build_client", side_effect=factory)
    return seen


def test_default_profile_from_vrg_file(
    invoke: Invoke, config_file: Path, captured: list[Settings]
) -> None:
    out = invoke("task", "list")
    assert out.exit_code == 0, out.stderr
    (settings,) = captured
    assert settings.host == "default.example.com"
    assert settings.token == "default-token"
    assert settings.output == "wide"
    assert settings.timeout == 12
    assert settings.verify_ssl is True
    assert settings.sources["host"] == "profile default"


def test_named_profile_is_used_alone(
    invoke: Invoke, config_file: Path, captured: list[Settings]
) -> None:
    assert invoke("--profile", "lab", "task", "list").exit_code == 0
    (settings,) = captured
    assert settings.host == "lab.example.com:8443"
    assert settings.username == "labadmin"
    assert settings.password == "lab-pass"
    assert settings.token is None  # not borrowed from [default]
    assert settings.verify_ssl is False
    assert settings.output == "json"
    assert settings.timeout == 30.0


def test_profile_from_environment(
    invoke: Invoke, config_file: Path, captured: list[Settings]
) -> None:
    assert invoke("task", "list", env={"VERGE_PROFILE": "keyed"}).exit_code == 0
    assert captured[0].host == "keyed.example.com"
    assert captured[0].token == "api-key-value"  # api_key is the token


def test_environment_beats_profile(
    invoke: Invoke, config_file: Path, captured: list[Settings]
) -> None:
    env = {
        "VERGE_HOST": "env.example.com",
        "VERGE_TOKEN": "env-token",
        "VERGE_OUTPUT": "csv",
        "VERGE_TIMEOUT": "7",
        "VERGE_VERIFY_SSL": "false",
    }
    assert invoke("task", "list", env=env).exit_code == 0
    (settings,) = captured
    assert settings.host == "env.example.com"
    assert settings.token == "env-token"
    assert settings.output == "csv"
    assert settings.timeout == 7
    assert settings.verify_ssl is False
    assert settings.sources["host"] == "env"


def test_option_beats_environment(
    invoke: Invoke, config_file: Path, captured: list[Settings]
) -> None:
    env = {"VERGE_HOST": "env.example.com", "VERGE_TOKEN": "env-token", "VERGE_OUTPUT": "csv"}
    out = invoke(
        "-H", "flag.example.com", "--token", "flag-token", "-o", "json", "--timeout", "3",
        "--insecure", "task", "list", env=env,
    )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    (settings,) = captured
    assert settings.host == "flag.example.com"
    assert settings.token == "flag-token"
    assert settings.output == "json"
    assert settings.timeout == 3
    assert settings.verify_ssl is False
    assert settings.sources["host"] == "option"


def test_defaults_without_any_configuration(invoke: Invoke, captured: list[Settings]) -> None:
    assert invoke("--sandbox", "task", "list").exit_code == 0
    (settings,) = captured
    assert settings.host == "sandbox"
    assert settings.sandbox is True
    assert settings.output == "table"
    assert settings.timeout == 30.0
    assert settings.verify_ssl is True
    assert settings.retry_total == 3


def test_unknown_profile_names_the_existing_ones(invoke: Invoke, config_file: Path) -> None:
    out = invoke("--profile", "prod", "task", "list")
    assert out.exit_code == 3
    assert "'prod'" in out.stderr
    assert "default, keyed, lab" in out.stderr


def test_unknown_profile_without_a_file(invoke: Invoke, tmp_path: Path) -> None:
    out = invoke("-p", "x", "task", "list", env={"VRGTASK_CONFIG": str(tmp_path / "none.toml")})
    assert out.exit_code == 3
    assert "does not exist" in out.stderr


def test_default_location_is_the_vrg_file(invoke: Invoke, captured: list[Settings]) -> None:
    home = Path(os.environ["HOME"])
    (home / ".vrg").mkdir()
    (home / ".vrg" / "config.toml").write_text('[default]\nhost = "home.example.com"\n')
    assert invoke("--token", "t", "task", "list").exit_code == 0
    assert captured[0].host == "home.example.com"


def test_unreadable_config_is_exit_3(invoke: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[default\nhost = ")
    out = invoke("task", "list", env={"VRGTASK_CONFIG": str(bad)})
    assert out.exit_code == 3
    assert str(bad) in out.stderr


def test_world_readable_secret_warns(
    invoke: Invoke, config_file: Path, captured: list[Settings]
) -> None:
    config_file.chmod(0o644)
    out = invoke("-o", "json", "--query", "x", "task", "list", env={"VERGE_HOST": "h"})
    assert "chmod 600" in out.stderr
    config_file.chmod(0o600)
    again = invoke("-o", "json", "task", "list", env={"VERGE_HOST": "h"})
    assert "chmod 600" not in again.stderr


def test_bad_verify_ssl_environment_is_config_error(invoke: Invoke) -> None:
    out = invoke("--sandbox", "task", "list", env={"VERGE_VERIFY_SSL": "perhaps"})
    assert out.exit_code == 3
    assert "VERGE_VERIFY_SSL" in out.stderr


def test_bad_timeout_is_usage_error(invoke: Invoke) -> None:
    assert invoke("--timeout", "0", "task", "list").exit_code == 2
    assert invoke("--timeout", "abc", "task", "list").exit_code == 2
    assert invoke("task", "list", env={"VERGE_TIMEOUT": "-3"}).exit_code == 2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("verge.example.com", "verge.example.com"),
        ("verge.example.com:8443", "verge.example.com:8443"),
        ("https://verge.example.com/", "verge.example.com"),
        ("https://10.0.0.5:4443", "10.0.0.5:4443"),
        ("https://verge.example.com/api/v4/", "verge.example.com"),
        ("  127.0.0.1:9443 ", "127.0.0.1:9443"),
    ],
)
def test_host_forms(given: str, expected: str) -> None:
    assert normalize_host(given) == expected


@pytest.mark.parametrize(
    "given", ["http://verge.example.com", "", "host:99999", "host:abc", "a b", "https://h/x/y"]
)
def test_bad_hosts(given: str) -> None:
    with pytest.raises(ConfigError):
        normalize_host(given)


def test_retry_tuning_from_environment(tmp_path: Path) -> None:
    settings = resolve(
        {"host": "h"},
        {"VERGE_RETRY_TOTAL": "0", "VERGE_RETRY_BACKOFF": "0.1",
         "VRGTASK_CONFIG": str(tmp_path / "none")},
        warn=print,
    )  # fmt: skip
    assert settings.retry_total == 0
    assert settings.retry_backoff == 0.1
    with pytest.raises(ConfigError):
        resolve(
            {}, {"VERGE_RETRY_TOTAL": "many", "VRGTASK_CONFIG": str(tmp_path / "n")}, warn=print
        )


def test_settings_without_a_config_file_do_not_import_pathlib(tmp_path: Path) -> None:
    """The common run (settings from the environment) stays off pathlib's import."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from vrgtask import config\n"
        "sys.modules.pop('pathlib', None)  # an editable install's finder loads it first\n"
        "env = {'HOME': sys.argv[1], 'VERGE_TOKEN': 't'}\n"
        "s = config.resolve({'host': 'h.example'}, env, warn=print)\n"
        "print(s.host, 'pathlib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.split() == ["h.example", "False"]
