"""``vrgtask config``: list, get, set, unset, profiles, path."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture
from support import Invoke

ORIGINAL = """\
# vrg and vrgtask settings
[default]
host = "default.example.com"  # the production cluster
output = "wide"

# the lab, reached over the VPN
[profile.lab]
host = "10.0.0.5:8443"
username = "labadmin"
verify_ssl = false
extra = "kept"   # a key vrgtask does not know
"""


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(ORIGINAL)
    path.chmod(0o644)
    monkeypatch.setenv("VRGTASK_CONFIG", str(path))
    return path


def parse_toml(text: str) -> dict[str, Any]:
    import tomlkit

    return tomlkit.parse(text).unwrap()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_set_then_list_shows_the_value_its_source_and_keeps_comments(
    invoke: Invoke, cfg: Path
) -> None:
    out = invoke("config", "set", "timeout", "12")
    assert out.exit_code == 0, out.stderr
    assert "timeout" in out.stdout
    assert "[default]" in out.stdout
    text = cfg.read_text()
    # every original line is still there, in order, the new key inside [default]
    assert [line for line in text.splitlines() if line != "timeout = 12"] == ORIGINAL.splitlines()
    lines = text.splitlines()
    assert lines.index("timeout = 12") < lines.index("# the lab, reached over the VPN")

    listed = invoke("config", "list", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    rows = {row["key"]: row for row in json.loads(listed.stdout)}
    assert rows["timeout"] == {"key": "timeout", "value": 12.0, "source": "profile default"}
    assert rows["host"]["source"] == "profile default"
    assert rows["verify_ssl"] == {"key": "verify_ssl", "value": True, "source": "default"}
    table = invoke("config", "list").stdout
    assert any(line.split()[:3] == ["timeout", "12", "profile"] for line in table.splitlines())


def test_list_names_every_kind_of_source(invoke: Invoke, cfg: Path) -> None:
    out = invoke(
        "-p", "lab", "--timeout", "5", "config", "list", "-o", "json",
        env={"VERGE_TOKEN": "tok-secret-1234", "VERGE_OUTPUT": "csv"},
    )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    rows = {row["key"]: row for row in json.loads(out.stdout)}
    assert rows["profile"]["value"] == "lab"
    assert rows["profile"]["source"] == "option --profile"
    assert rows["host"] == {"key": "host", "value": "10.0.0.5:8443", "source": "profile lab"}
    assert rows["timeout"]["source"] == "option --timeout"
    assert rows["token"] == {
        "key": "token",
        "value": "********",
        "source": "environment VERGE_TOKEN",
    }
    assert rows["output"]["value"] == "json"  # -o json after the command wins
    assert rows["password"] == {"key": "password", "value": None, "source": "default"}
    assert "tok-secret-1234" not in out.stdout + out.stderr


def test_secrets_are_masked_in_every_output(invoke: Invoke, cfg: Path) -> None:
    env = {"VERGE_PASSWORD": "pw-secret-5678", "VERGE_API_KEY": "key-secret-9012"}
    for argv in (
        ["config", "list"],
        ["config", "list", "-o", "csv"],
        ["config", "list", "-o", "json"],
        ["config", "get", "password"],
        ["config", "get", "api_key", "-o", "json"],
    ):
        out = invoke(*argv, env=env)
        assert out.exit_code == 0, out.stderr
        for secret in env.values():
            assert secret not in out.stdout + out.stderr, argv
        assert "********" in out.stdout, argv


def test_unused_credential_is_marked(invoke: Invoke, cfg: Path) -> None:
    out = invoke(
        "--api-key", "k-123456", "config", "list", "-o", "json", env={"VERGE_TOKEN": "t-123456"}
    )
    rows = {row["key"]: row for row in json.loads(out.stdout)}
    assert rows["api_key"]["source"] == "option --api-key"
    assert rows["token"]["source"] == "environment VERGE_TOKEN (not used: api_key wins)"


def test_get_prints_the_bare_value(invoke: Invoke, cfg: Path) -> None:
    assert invoke("config", "get", "host").stdout == "default.example.com\n"
    assert invoke("-p", "lab", "config", "get", "verify_ssl").stdout == "false\n"
    assert invoke("config", "get", "timeout").stdout == "30\n"
    assert invoke("config", "get", "profile").stdout == "default\n"
    row = json.loads(invoke("config", "get", "host", "-o", "json").stdout)
    assert row == {"key": "host", "value": "default.example.com", "source": "profile default"}


def test_set_into_a_profile_and_create_one(
    invoke: Invoke, cfg: Path, mocker: MockerFixture
) -> None:
    assert invoke("config", "set", "--profile", "lab", "timeout", "2.5").exit_code == 0
    assert invoke("config", "set", "-p", "new", "host", "https://new.example.com/").exit_code == 0
    assert invoke("-p", "lab", "config", "set", "output", "json").exit_code == 0  # profile in use
    text = cfg.read_text()
    assert 'extra = "kept"   # a key vrgtask does not know' in text
    assert "[profile.new]" in text
    data = parse_toml(text)
    assert data["profile"]["lab"]["timeout"] == 2.5
    assert data["profile"]["lab"]["output"] == "json"
    assert data["profile"]["new"] == {"host": "https://new.example.com/"}
    assert data["default"]["output"] == "wide"
    # the new profile is usable at once
    seen: list[Any] = []

    def factory(app: Any) -> MagicMock:
        seen.append(app.settings)
        client = MagicMock()
        client.tasks.list.return_value = []
        return client

    mocker.patch("vrgtask.context.build_client", side_effect=factory)
    out = invoke("-p", "new", "--token", "t", "task", "list")
    assert out.exit_code == 0, out.stderr
    assert seen[0].host == "new.example.com"
    assert seen[0].sources["host"] == "profile new"


def test_values_are_stored_typed(invoke: Invoke, cfg: Path) -> None:
    for key, value in (("verify_ssl", "no"), ("timeout", "7"), ("output", "csv")):
        assert invoke("config", "set", "-p", "lab", key, value).exit_code == 0
    lab = parse_toml(cfg.read_text())["profile"]["lab"]
    assert lab["verify_ssl"] is False
    assert lab["timeout"] == 7
    assert isinstance(lab["timeout"], int)
    assert lab["output"] == "csv"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["bogus", "1"], "bogus"),
        (["host", "http://plain.example.com"], "https"),
        (["host", "a b"], "host"),
        (["host", "h:99999"], "port"),
        (["verify_ssl", "perhaps"], "true or false"),
        (["timeout", "0"], "above 0"),
        (["timeout", "-1"], "above 0"),
        (["timeout", "nan"], "above 0"),
        (["timeout", "inf"], "above 0"),
        (["timeout", "soon"], "number"),
        (["output", "xml"], "not one of"),
        (["token", ""], "empty"),
        (["token", "  "], "empty"),
        (["token", "abc\ndef"], "control"),
        (["username", "a\x1b[2Jb"], "control"),
        (["--profile", "", "host", "h"], "--profile"),
        (["--profile", "a\nb", "host", "h"], "--profile"),
    ],
)
def test_bad_keys_and_values_exit_2_and_leave_the_file_alone(
    invoke: Invoke, cfg: Path, argv: list[str], needle: str
) -> None:
    before = (cfg.read_bytes(), cfg.stat().st_mtime_ns, mode(cfg))
    out = invoke("config", "set", *argv)
    assert out.exit_code == 2, out.stderr
    assert needle in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert (cfg.read_bytes(), cfg.stat().st_mtime_ns, mode(cfg)) == before
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml"]


def test_unknown_key_for_unset_and_get_is_exit_2(invoke: Invoke, cfg: Path) -> None:
    before = cfg.read_bytes()
    assert invoke("config", "unset", "nope").exit_code == 2
    assert invoke("config", "get", "nope").exit_code == 2
    assert cfg.read_bytes() == before


def test_invalid_toml_is_exit_3_and_untouched(invoke: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[default\nhost = ")
    out = invoke("config", "profiles", env={"VRGTASK_CONFIG": str(bad)})
    assert out.exit_code == 3
    # set does not even get that far: the group reads the file first
    out = invoke("config", "set", "host", "h", env={"VRGTASK_CONFIG": str(bad)})
    assert out.exit_code == 3
    assert bad.read_text() == "[default\nhost = "


def test_a_secret_makes_the_file_owner_only(invoke: Invoke, cfg: Path) -> None:
    assert invoke("config", "set", "host", "other.example.com").exit_code == 0
    assert mode(cfg) == 0o644  # no secret: the user's mode is kept
    out = invoke("config", "set", "-p", "lab", "password", "pw-1234")
    assert out.exit_code == 0, out.stderr
    assert "pw-1234" not in out.stdout + out.stderr
    assert mode(cfg) == 0o600
    # taking the secret out again does not loosen the mode
    assert invoke("config", "unset", "-p", "lab", "password").exit_code == 0
    assert mode(cfg) == 0o600


def test_a_new_file_and_directory_are_private(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "dir" / "config.toml"
    out = invoke("config", "set", "api_key", "k-1", env={"VRGTASK_CONFIG": str(path)})
    assert out.exit_code == 0, out.stderr
    assert path.read_text() == '[default]\napi_key = "k-1"\n'
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_default_location_is_under_home(invoke: Invoke) -> None:
    home = Path(os.environ["HOME"])
    assert invoke("config", "path").stdout == f"{home / '.vrg' / 'config.toml'}\n"
    assert invoke("config", "set", "host", "h.example.com").exit_code == 0
    assert (home / ".vrg" / "config.toml").read_text() == '[default]\nhost = "h.example.com"\n'
    row = json.loads(invoke("config", "path", "-o", "json").stdout)
    assert row == {"path": str(home / ".vrg" / "config.toml"), "exists": True}


def test_a_failed_write_leaves_the_old_file(
    invoke: Invoke, cfg: Path, mocker: MockerFixture
) -> None:
    mocker.patch("vrgtask.commands.config.os.replace", side_effect=OSError(28, "No space left"))
    out = invoke("config", "set", "host", "new.example.com")
    assert out.exit_code == 1
    assert "No space left" in out.stderr
    assert cfg.read_text() == ORIGINAL
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml"]  # no temp file left


def test_a_symlinked_file_is_edited_where_it_points(invoke: Invoke, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "vrg.toml"
    real.parent.mkdir()
    real.write_text(ORIGINAL)
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    out = invoke("config", "set", "timeout", "9", env={"VRGTASK_CONFIG": str(link)})
    assert out.exit_code == 0, out.stderr
    assert link.is_symlink()
    assert "timeout = 9" in real.read_text()


def test_unset(invoke: Invoke, cfg: Path) -> None:
    out = invoke("config", "unset", "-p", "lab", "verify_ssl")
    assert out.exit_code == 0, out.stderr
    assert "verify_ssl" not in cfg.read_text()
    assert "# the lab, reached over the VPN" in cfg.read_text()
    before = (cfg.read_bytes(), cfg.stat().st_mtime_ns)
    again = invoke("config", "unset", "-p", "lab", "verify_ssl")
    assert again.exit_code == 0
    assert "nothing changed" in again.stdout
    assert (cfg.read_bytes(), cfg.stat().st_mtime_ns) == before
    missing = invoke("config", "unset", "-p", "nosuch", "host")
    assert missing.exit_code == 3
    assert "nosuch" in missing.stderr


def test_value_from_standard_input(invoke: Invoke, cfg: Path) -> None:
    out = invoke("config", "set", "token", input="tok-from-stdin\n")
    assert out.exit_code == 0, out.stderr
    assert 'token = "tok-from-stdin"' in cfg.read_text()
    assert "tok-from-stdin" not in out.stdout + out.stderr
    empty = invoke("config", "set", "token", input="")
    assert empty.exit_code == 2


def test_value_asked_hidden_on_a_terminal(invoke: Invoke, cfg: Path, mocker: MockerFixture) -> None:
    mocker.patch("vrgtask.context.stdin_is_terminal", return_value=True)
    prompt = mocker.patch("vrgtask.commands.config.click.prompt", return_value="k-typed")
    out = invoke("config", "set", "api_key")
    assert out.exit_code == 0, out.stderr
    assert prompt.call_args.kwargs["hide_input"] is True
    assert 'api_key = "k-typed"' in cfg.read_text()


def test_profiles(invoke: Invoke, cfg: Path) -> None:
    out = invoke("-p", "lab", "config", "profiles", "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout) == [
        {"name": "default", "host": "default.example.com", "auth": "", "in_use": False},
        {"name": "lab", "host": "10.0.0.5:8443", "auth": "user labadmin", "in_use": True},
    ]
    assert invoke("config", "profiles", "-q").stdout.split() == ["default", "lab"]


def test_profiles_without_a_file(invoke: Invoke, tmp_path: Path) -> None:
    out = invoke("config", "profiles", env={"VRGTASK_CONFIG": str(tmp_path / "none.toml")})
    assert out.exit_code == 0
    assert out.stdout == ""
    assert "No profiles" in out.stderr


def test_every_help_has_examples(invoke: Invoke) -> None:
    for sub in ("list", "get", "set", "unset", "profiles", "path"):
        out = invoke("config", sub, "--help")
        assert out.exit_code == 0
        assert "Examples:" in out.stdout, sub


def test_a_secret_on_the_command_line_warns_without_repeating_it(invoke: Invoke, cfg: Path) -> None:
    out = invoke("config", "set", "token", "tok-visible-1234")
    assert out.exit_code == 0
    (warning,) = out.stderr.splitlines()
    assert warning.startswith("Warning: ")
    assert "shell history" in warning
    assert "tok-visible-1234" not in out.stderr
    quiet = invoke("config", "set", "host", "h.example.com")
    assert quiet.stderr == ""


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("timeout", "0.5"),
        ("timeout", "600"),
        ("timeout", "86400"),
        ("timeout", "1e6"),
        ("timeout", "1e300"),
        ("host", "h.example.com:8443"),
        ("host", "https://h.example.com/api/v4/"),
        ("host", "https://user:pw@h.example.com/"),
        ("host", "[::1]:9443"),
        ("verify_ssl", "off"),
        ("output", "wide"),
        ("username", "ädmin"),
    ],
)
def test_what_config_set_writes_every_command_can_read(
    invoke: Invoke, cfg: Path, key: str, value: str
) -> None:
    """config set refuses (exit 2) exactly what reading the file would refuse later."""
    written = invoke("config", "set", key, value)
    assert written.exit_code in (0, 2), written.stderr
    read = invoke("config", "get", key)
    if written.exit_code == 0:
        assert read.exit_code == 0, (value, read.stderr)
    else:
        assert read.exit_code == 0  # refused and untouched: the file still reads
        assert cfg.read_text() == ORIGINAL


@pytest.mark.parametrize(
    ("env", "edit", "says"),
    [
        ({"VERGE_PROFILE": "nope"}, ("", ""), "unknown profile 'nope'"),
        ({}, ('output = "wide"', 'output = "xml"'), "'xml'"),
    ],
    ids=["unknown-profile", "bad-output-in-the-file"],
)
def test_config_and_completion_work_while_the_settings_are_broken(
    invoke: Invoke,
    cfg: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    edit: tuple[str, str],
    says: str,
) -> None:
    """The commands that repair settings run although resolving them fails."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg.write_text(ORIGINAL.replace(*edit))
    assert invoke("task", "list").exit_code in (2, 3)  # every other command refuses
    written = invoke("config", "set", "--profile", "lab", "timeout", "12")
    assert written.exit_code == 0, written.stderr
    assert "timeout = 12" in cfg.read_text()
    assert invoke("config", "path").stdout.strip() == str(cfg)
    assert invoke("config", "profiles").exit_code == 0
    assert invoke("completion", "bash").exit_code == 0
    listed = invoke("config", "list")  # what is in effect cannot be shown: say why
    assert listed.exit_code in (2, 3)
    assert says in listed.stderr


def test_config_set_reads_the_file_with_the_same_limits(invoke: Invoke, cfg: Path) -> None:
    """A config file over the size limit is refused (exit 3) by config set too, untouched."""
    from vrgtask.config import CONFIG_MAX_BYTES

    big = ORIGINAL + "#" * CONFIG_MAX_BYTES + "\n"
    cfg.write_text(big)
    out = invoke("config", "set", "--profile", "lab", "timeout", "12")
    assert out.exit_code == 3
    assert "larger than" in out.stderr
    assert cfg.read_text() == big
