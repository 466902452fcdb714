"""``vrgtask sandbox config`` and the platform profiles, from the command line.

Separate processes where the environment matters (as a user's shell runs
them), the in-process runner elsewhere. Bad input to the sandbox itself -- an
unknown profile, a corrupt or foreign state -- is one clear error line and
changes nothing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import run_cli, run_process

pytestmark = pytest.mark.e2e


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "sandbox.json"
    monkeypatch.setenv("VRGTASK_SANDBOX_STATE", str(path))
    assert run_cli("sandbox", "reset").exit_code == 0
    return path


def settings(path: Path) -> dict[str, object]:
    value = json.loads(path.read_bytes())["settings"]
    assert isinstance(value, dict)
    return value


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_config_shows_sets_and_restores(state: Path) -> None:
    shown = json.loads(run_cli("sandbox", "config", "-o", "json").stdout)
    assert [(r["setting"], r["value"], r["effective"]) for r in shown] == [
        ("actions", "both", "both"),
        ("strict", "off", "off"),
        ("start_delay", "default", "1.0"),
    ]
    assert run_cli("sandbox", "config", "actions", "post").stdout == (
        "Sandbox setting actions = post\n"
    )
    assert run_cli("sandbox", "config", "strict", "on").exit_code == 0
    assert run_cli("sandbox", "config", "start_delay", "0").exit_code == 0
    assert settings(state) == {"actions": "post", "strict": True, "start_delay": 0.0}
    one = json.loads(run_cli("sandbox", "config", "actions", "-o", "json").stdout)
    assert (one["setting"], one["value"]) == ("actions", "post")
    assert run_cli("sandbox", "config", "actions", "default").exit_code == 0
    assert settings(state)["actions"] == "both"
    assert run_cli("sandbox", "reset").exit_code == 0
    assert settings(state) == {"actions": "both", "strict": False, "start_delay": None}


def test_the_profile_setting_governs_the_cli(state: Path) -> None:
    assert run_cli("sandbox", "config", "start_delay", "0").exit_code == 0
    assert run_cli("sandbox", "config", "actions", "put").exit_code == 0
    # No actions tables in profile put: doctor's schema probe says so.
    rows = json.loads(run_cli("--sandbox", "-o", "json", "doctor").stdout)
    form = next(r for r in rows if r["check"] == "action form")
    assert "no task_actions table (HTTP 404)" in form["detail"]
    assert run_cli("sandbox", "config", "actions", "both").exit_code == 0
    rows = json.loads(run_cli("--sandbox", "-o", "json", "doctor").stdout)
    form = next(r for r in rows if r["check"] == "action form")
    assert "POST /task_actions is served" in form["detail"]
    assert run_cli("--sandbox", "task", "run", "power-on-dev").exit_code == 0
    task = json.loads(run_cli("--sandbox", "-o", "json", "task", "get", "power-on-dev").stdout)
    assert task["status"] == "running"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("actions", "patch"), "VALUE"),
        (("strict", "maybe"), "VALUE"),
        (("start_delay", "-1"), "VALUE"),
        (("start_delay", "soon"), "VALUE"),
        (("colour", "red"), "KEY"),
    ],
)
def test_config_bad_values_are_usage_errors(
    state: Path, argv: tuple[str, ...], needle: str
) -> None:
    before = state.read_bytes()
    out = run_cli("sandbox", "config", *argv)
    assert out.exit_code == 2
    assert needle in out.stderr
    assert state.read_bytes() == before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VRGTASK_SANDBOX_ACTIONS", "patch"),
        ("VRGTASK_SANDBOX_STRICT", "maybe"),
        ("VRGTASK_SANDBOX_START_DELAY", "-2"),
    ],
)
def test_a_bad_environment_is_one_error_line_and_changes_nothing(
    state: Path, name: str, value: str
) -> None:
    before = state.read_bytes()
    env = {name: value}
    for argv in (
        ("--sandbox", "task", "list"),
        ("--sandbox", "task", "run", "power-on-dev"),
        ("sandbox", "config", "actions", "put"),
    ):
        out = run_process(*argv, env=env)
        assert out.exit_code == 3, (argv, out.stderr)
        assert name in one_error_line(out.stderr)
    assert state.read_bytes() == before


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda s: s["settings"].update(actions="patch"), "setting 'actions'"),
        (lambda s: s["settings"].update(strict="yes"), "setting 'strict'"),
        (lambda s: s["settings"].update(start_delay=-1), "setting 'start_delay'"),
        (lambda s: s["settings"].update(colour=1), "unknown setting 'colour'"),
        (lambda s: s.pop("settings"), "'settings' must be an object"),
        (lambda s: s.update(version=1), "state version 1 is not 2"),
        (lambda s: s["tables"].pop("logs"), "table 'logs'"),
    ],
)
def test_a_bad_state_is_one_error_line_and_stays_untouched(
    state: Path, mutate: object, needle: str
) -> None:
    data = json.loads(state.read_bytes())
    mutate(data)  # type: ignore[operator]
    state.write_text(json.dumps(data))
    before = state.read_bytes()
    for argv in (
        ("--sandbox", "task", "list"),
        ("sandbox", "config"),
        ("sandbox", "config", "actions", "put"),
        ("sandbox", "status"),
    ):
        out = run_cli(*argv)
        assert out.exit_code == 3, (argv, out.stderr)
        line = one_error_line(out.stderr)
        assert needle in line
        assert "vrgtask sandbox reset" in line
    assert state.read_bytes() == before
    assert run_cli("sandbox", "reset").exit_code == 0
    assert run_cli("--sandbox", "task", "list", "-q").exit_code == 0


def test_serve_refuses_an_unknown_profile() -> None:
    out = run_process("sandbox", "serve", "--actions", "patch")
    assert out.exit_code == 2
    assert "--actions" in out.stderr
    out = run_process("sandbox", "serve", "--start-delay", "-1")
    assert out.exit_code == 2
    assert "--start-delay" in out.stderr


def test_serve_with_a_bad_environment_exits_3_before_listening() -> None:
    out = run_process("sandbox", "serve", env={"VRGTASK_SANDBOX_ACTIONS": "patch"})
    assert out.exit_code == 3
    assert "VRGTASK_SANDBOX_ACTIONS" in one_error_line(out.stderr)
    assert "listening" not in out.stdout


def test_serve_with_a_profile_over_https(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrgtask", "sandbox", "serve", "--actions", "put",
         "--strict", "--start-delay", "0", "--ca-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(4)]
        assert "actions profile: put; strict writes: on; start delay: 0 s" in banner[3], banner
        host = banner[1].strip().removeprefix("VERGE_HOST=")
        import requests

        ca = str(tmp_path / "sandbox-ca.pem")
        auth = ("admin", "sandbox")
        base = f"https://{host}/api/v4"
        body = {"task": 2, "action": "execute"}
        posted = requests.post(f"{base}/task_actions", json=body, auth=auth, verify=ca, timeout=10)
        assert posted.status_code == 404
        assert "Date" in posted.headers
        put = requests.put(
            f"{base}/tasks/2?action=execute", json={}, auth=auth, verify=ca, timeout=10
        )
        assert (put.status_code, put.json()) == (200, {"task": 2})
        got = requests.get(f"{base}/tasks/2", auth=auth, verify=ca, timeout=10).json()
        assert got["status"] == "running"
        strict = requests.put(f"{base}/tasks/2", json={"x": 1}, auth=auth, verify=ca, timeout=10)
        assert strict.status_code == 422
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0


def test_platform_behaviour_is_documented_and_linked() -> None:
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "platform-behaviour.md").read_text()
    assert "docs/platform-behaviour.md" in (root / "README.md").read_text()
    for needle in ("`both`", "`post`", "`put`", "VRGTASK_SANDBOX_ACTIONS", "logs", "$table"):
        assert needle in doc, needle
    assert doc.count("settle it with") >= 4  # every table says how to check it
