"""API keys: ``--api-key`` / ``VERGE_API_KEY`` / ``api_key`` in a profile.

An API key is sent as a bearer token, as vrg does; it follows the same
precedence as every other setting (option > environment > profile), and a
token given at the same level wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture
from support import Invoke

from vrgtask.config import Settings, resolve

CONFIG = """
[default]
host = "default.example.com"
token = "profile-token"

[profile.keyed]
host = "keyed.example.com"
api_key = "profile-key"

[profile.both]
host = "both.example.com"
token = "both-token"
api_key = "both-key"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    path.chmod(0o600)
    return path


def settings_for(config_file: Path, options: dict[str, Any], **given_by: str) -> Settings:
    env = {"VRGTASK_CONFIG": str(config_file)}
    return resolve(options, env, warn=print, given_by=given_by)


@pytest.mark.parametrize(
    ("options", "given_by", "sent", "key", "source"),
    [
        # a profile's api_key alone is sent
        ({"profile": "keyed"}, {}, "profile-key", "api_key", "profile keyed"),
        # the same level: token wins
        ({"profile": "both"}, {}, "both-token", "token", "profile both"),
        ({"token": "opt-token", "api_key": "opt-key"}, {}, "opt-token", "token", "option"),
        # the environment beats a profile's token
        ({"api_key": "env-key"}, {"api_key": "env"}, "env-key", "api_key", "env"),
        # an option beats the environment, whichever the name
        (
            {"api_key": "opt-key", "token": "env-token"},
            {"token": "env"},
            "opt-key",
            "api_key",
            "option",
        ),
    ],
)
def test_precedence(
    config_file: Path,
    options: dict[str, Any],
    given_by: dict[str, str],
    sent: str,
    key: str,
    source: str,
) -> None:
    settings = settings_for(config_file, options, **given_by)
    assert settings.token == sent
    assert settings.token_key == key
    assert settings.sources[key] == source


def test_environment_api_key_beats_profile_token(
    invoke: Invoke, config_file: Path, mocker: MockerFixture
) -> None:
    seen: list[Settings] = []

    def factory(app: Any) -> MagicMock:
        seen.append(app.settings)
        client = MagicMock()
        client.tasks.list.return_value = []
        return client

    mocker.patch("vrgtask.context.build_client", side_effect=factory)
    env = {"VRGTASK_CONFIG": str(config_file), "VERGE_API_KEY": "env-key"}
    assert invoke("task", "list", env=env).exit_code == 0
    assert seen[-1].token == "env-key"
    assert seen[-1].sources["api_key"] == "env"
    assert seen[-1].token_setting == "profile-token"
    # ... and --token on the command line beats VERGE_API_KEY
    assert invoke("--token", "opt-token", "task", "list", env=env).exit_code == 0
    assert seen[-1].token == "opt-token"
    # ... and --api-key beats VERGE_TOKEN
    env2 = {"VRGTASK_CONFIG": str(config_file), "VERGE_TOKEN": "env-token"}
    assert invoke("--api-key", "opt-key", "task", "list", env=env2).exit_code == 0
    assert seen[-1].token == "opt-key"
    assert seen[-1].token_key == "api_key"


def test_every_credential_is_a_secret(config_file: Path) -> None:
    settings = settings_for(config_file, {"profile": "both", "api_key": "opt-key"})
    assert settings.token == "opt-key"
    assert {"opt-key", "both-token"} <= set(settings.secrets())


def test_api_key_is_redacted_from_errors(invoke: Invoke, mocker: MockerFixture) -> None:
    client = MagicMock()
    client.tasks.list.side_effect = RuntimeError("server said: bad key key-0123456789")
    mocker.patch("vrgtask.context.build_client", return_value=client)
    out = invoke("-H", "h", "--api-key", "key-0123456789", "-v", "task", "list")
    assert out.exit_code == 1
    assert "key-0123456789" not in out.stderr + out.stdout
    assert "***" in out.stderr


def test_help_names_the_option_and_variable(invoke: Invoke) -> None:
    text = invoke("--help").stdout
    assert "--api-key" in text
    assert "VERGE_API_KEY" in text
