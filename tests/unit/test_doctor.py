"""``vrgtask doctor`` against a mock server: verdicts, exit codes, no secrets, no writes."""

from __future__ import annotations

import json
from email.utils import formatdate
from typing import Any
from unittest.mock import MagicMock

import pytest
import requests
from pytest_mock import MockerFixture
from support import Invoke

from vrgtask.commands.doctor import _clock_check

SECRET = "tok-s3cret-value"


class FakeSession:
    """What ``make_session`` returns: answers the unauthenticated host check."""

    def __init__(self, *, raises: Exception | None = None, date: str | None = "now") -> None:
        self.raises = raises
        self.date = formatdate(usegmt=True) if date == "now" else date
        self.calls: list[tuple[str, str]] = []

    def get(self, url: str, **kwargs: Any) -> Any:
        self.calls.append(("GET", url))
        if self.raises is not None:
            raise self.raises
        response = requests.Response()
        response.status_code = 401
        if self.date:
            response.headers["Date"] = self.date
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def server(mock_client: MagicMock, mocker: MockerFixture) -> FakeSession:
    session = FakeSession()
    mocker.patch("vrgtask.client.make_session", return_value=session)
    mock_client.version = "26.1.2"
    mock_client.os_version = "26.1.2-x"
    mock_client.cloud_name = "lab"

    def request(method: str, endpoint: str, **kwargs: Any) -> Any:
        assert method == "GET", (method, endpoint)  # doctor never writes
        if endpoint == "task_actions/$table":
            return {"table": "task_actions", "fields": [{"name": "task"}, {"name": "action"}]}
        if endpoint == "logs":
            return [{"$key": 9, "timestamp": 1_800_000_000_000_000}]
        return [{"$key": 1}]

    mock_client._request.side_effect = request
    return session


def doctor(invoke: Invoke, *args: str) -> Any:
    return invoke("--host", "h.example", "--token", SECRET, "doctor", *args)


def rows(out: Any) -> dict[str, dict[str, str]]:
    return {row["check"]: row for row in json.loads(out.stdout)}


def test_all_pass(invoke: Invoke, server: FakeSession, mock_client: MagicMock) -> None:
    out = doctor(invoke, "-o", "json")
    assert out.exit_code == 0, out.stderr
    found = rows(out)
    assert list(found) == [
        "host", "tls", "credentials", "versions", "clock", "read tasks", "read task_schedules",
        "read task_schedule_triggers", "read task_events", "read task_scripts", "read logs",
        "action form",
    ]  # fmt: skip
    assert {r["verdict"] for r in found.values()} == {"pass"}
    assert "VergeOS 26.1.2" in found["versions"]["detail"]
    assert "POST /task_actions is served (fields: task, action)" in found["action form"]["detail"]
    assert "newest task entry 2027-01-15" in found["read logs"]["detail"]
    assert SECRET not in out.stdout + out.stderr
    assert server.calls == [("GET", "https://h.example/api/v4/system")]


def test_put_only_server_passes_and_says_so(
    invoke: Invoke, server: FakeSession, mock_client: MagicMock
) -> None:
    from pyvergeos.exceptions import NotFoundError

    answer = mock_client._request.side_effect

    def no_actions_table(method: str, endpoint: str, **kwargs: Any) -> Any:
        if endpoint == "task_actions/$table":
            raise NotFoundError("Invalid table", status_code=404)
        return answer(method, endpoint, **kwargs)

    mock_client._request.side_effect = no_actions_table
    out = doctor(invoke, "-o", "json")
    assert out.exit_code == 0, out.stderr
    assert "PUT /tasks/KEY?action=NAME" in rows(out)["action form"]["detail"]


def test_unreadable_logs_fail_with_what_it_costs(
    invoke: Invoke, server: FakeSession, mock_client: MagicMock
) -> None:
    from pyvergeos.exceptions import AuthenticationError

    answer = mock_client._request.side_effect

    def forbidden_logs(method: str, endpoint: str, **kwargs: Any) -> Any:
        if endpoint == "logs":
            raise AuthenticationError("Permission denied", status_code=403)
        return answer(method, endpoint, **kwargs)

    mock_client._request.side_effect = forbidden_logs
    out = doctor(invoke)
    assert out.exit_code == 1
    assert "read logs" in out.stdout
    assert "--wait cannot tell" in out.stdout
    assert out.stderr.strip() == "Error: 1 of 12 checks did not pass: read logs"


def test_unreachable_host_skips_the_rest(
    invoke: Invoke, mock_client: MagicMock, mocker: MockerFixture
) -> None:
    session = FakeSession(raises=requests.exceptions.ConnectionError("Connection refused"))
    mocker.patch("vrgtask.client.make_session", return_value=session)
    out = doctor(invoke, "-o", "json")
    assert out.exit_code == 1
    found = rows(out)
    assert found["host"]["verdict"] == "fail"
    assert {found[c]["verdict"] for c in found if c != "host"} == {"skip"}
    assert mock_client.method_calls == []


def test_tls_failure(invoke: Invoke, mock_client: MagicMock, mocker: MockerFixture) -> None:
    session = FakeSession(raises=requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"))
    mocker.patch("vrgtask.client.make_session", return_value=session)
    out = doctor(invoke, "-o", "json")
    assert out.exit_code == 1
    assert rows(out)["tls"]["verdict"] == "fail"
    assert "REQUESTS_CA_BUNDLE" in rows(out)["tls"]["hint"]


def test_verification_off_is_a_warning(invoke: Invoke, server: FakeSession) -> None:
    out = invoke("--host", "h.example", "--token", SECRET, "--insecure", "doctor", "-o", "json")
    assert out.exit_code == 1
    assert rows(out)["tls"]["verdict"] == "warn"
    assert "verification is OFF (from option)" in rows(out)["tls"]["detail"]


def test_rejected_credentials(invoke: Invoke, server: FakeSession, mocker: MockerFixture) -> None:
    from pyvergeos.exceptions import AuthenticationError

    mocker.patch(
        "vrgtask.context.build_client",
        side_effect=AuthenticationError(f"Invalid token {SECRET}", status_code=401),
    )
    out = doctor(invoke, "-o", "json")
    assert out.exit_code == 1
    assert rows(out)["credentials"]["verdict"] == "fail"
    assert SECRET not in out.stdout + out.stderr  # redacted even when the server echoes it


def test_no_host(invoke: Invoke, mock_client: MagicMock, tmp_path: Any) -> None:
    out = invoke("doctor", env={"VRGTASK_CONFIG": str(tmp_path / "none.toml"), "VERGE_HOST": ""})
    assert out.exit_code == 1
    assert "no host configured" in out.stdout


@pytest.mark.parametrize(
    ("offset", "verdict"), [(0, "pass"), (-45, "pass"), (300, "warn"), (-3600, "warn")]
)
def test_clock(offset: float, verdict: str) -> None:
    now = 1_800_000_000.0
    check = _clock_check(formatdate(now + offset, usegmt=True), now)
    assert check.verdict == verdict
    if offset:
        assert ("ahead of" if offset > 0 else "behind") in check.detail


def test_clock_without_date_header() -> None:
    assert _clock_check(None, 0).verdict == "warn"


def test_help_has_examples(invoke: Invoke) -> None:
    out = invoke("doctor", "--help")
    assert out.exit_code == 0
    assert "Examples:" in out.stdout
    assert "never writes" in out.stdout
