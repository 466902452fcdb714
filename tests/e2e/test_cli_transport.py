"""TLS, retries and the request log, through the real CLI over HTTPS."""

from __future__ import annotations

import base64

import pytest
from support import run_cli, run_process

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture
def untrusted(sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The CA-bundle variables point at a bundle that does not trust the sandbox."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", SYSTEM_BUNDLE)
    monkeypatch.setenv("CURL_CA_BUNDLE", SYSTEM_BUNDLE)
    return sandbox_env


def test_certificate_failure_exits_10_and_says_how_to_trust(untrusted: SandboxServer) -> None:
    out = run_cli("task", "list")
    assert out.exit_code == 10
    lines = out.stderr.splitlines()
    assert len(lines) == 1
    assert "REQUESTS_CA_BUNDLE" in lines[0]
    assert "--insecure" in lines[0]


def test_insecure_works_even_with_ca_bundle_variables(untrusted: SandboxServer) -> None:
    out = run_process("--insecure", "task", "list", "-q")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.split() == ["1", "2", "3", "4", "5", "6"]
    assert "InsecureRequestWarning" not in out.stderr


def test_verify_ssl_false_in_environment_works_too(
    untrusted: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERGE_VERIFY_SSL", "false")
    assert run_cli("task", "list", "-q").exit_code == 0


def test_request_log_redacts_authorization(sandbox_env: SandboxServer) -> None:
    out = run_cli("-vvv", "task", "get", "nightly-snapshot")
    assert out.exit_code == 0, out.stderr
    assert "> GET https://" in out.stderr
    assert "< 200" in out.stderr
    assert "Authorization: Basic [redacted]" in out.stderr
    secret = base64.b64encode(b"admin:sandbox").decode()
    assert secret not in out.stderr
    assert secret not in out.stdout


def test_failed_request_log_and_error_leak_no_secret(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERGE_PASSWORD", "wrong-Pa55word")
    out = run_cli("-vvv", "task", "list")
    assert out.exit_code == 4
    encoded = base64.b64encode(b"admin:wrong-Pa55word").decode()
    for text in (out.stdout, out.stderr):
        assert "wrong-Pa55word" not in text
        assert encoded not in text
    assert "< 401" in out.stderr


def test_get_retried_on_503_then_exit_1(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERGE_RETRY_BACKOFF", "0.01")
    sandbox_env.faults.add({"method": "GET", "path": "^/api/v4/tasks$", "status": 503})
    out = run_cli("task", "list")
    assert out.exit_code == 1
    tries = [e for e in sandbox_env.log.entries() if e["path"] == "/api/v4/tasks"]
    assert len(tries) == 4  # the first attempt and 3 retries
    assert out.stderr.startswith("Error: the server failed: HTTP 503")


def test_write_is_not_retried_on_500(
    sandbox_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERGE_RETRY_BACKOFF", "0.01")
    sandbox_env.faults.add({"method": "POST", "path": "^/api/v4/task_actions", "status": 500})
    out = run_cli("task", "run", "nightly-snapshot")
    assert out.exit_code == 1
    writes = [e for e in sandbox_env.log.entries() if e["method"] in ("POST", "PUT")]
    assert len(writes) == 1
