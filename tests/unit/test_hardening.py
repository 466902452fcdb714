"""Unit tests of the defences against hostile servers, files and inputs
(the end-to-end proof is tests/e2e/test_matrix_hostile_server.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import click
import pytest
import requests
from requests.adapters import BaseAdapter
from support import TASK_DATA, Invoke, sdk_object

from vrgtask.client import (
    CliSession,
    RedirectRefusedError,
    RequestTimeoutError,
    check_answer,
)
from vrgtask.commands._common import JSON_MAX_DEPTH, FiniteFloat, JsonObject, json_depth
from vrgtask.config import FileRefused, normalize_host, read_regular_file, resolve
from vrgtask.errors import ConfigError, ExitCode, InvalidResponseError, classify
from vrgtask.formatters import Column
from vrgtask.formatters.csvfmt import CsvFormatter, neutralise
from vrgtask.formatters.jsonfmt import JsonFormatter
from vrgtask.upcoming import run_entry_epoch

# -- JSON options -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": -Infinity}', "Infinity"),
        ('{"a": 1e400}', "NaN and Infinity"),
        ('{"a": ' + "[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH + "}", "nested deeper"),
        ('{"a": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested deeper"),
        ('{"a": "' + "x" * (1024 * 1024) + '"}', "longer than"),
    ],
    ids=["nan", "infinity", "minus-infinity", "1e400", "65-deep", "50000-deep", "too-large"],
)
def test_json_option_refuses_hostile_values(text: str, reason: str) -> None:
    with pytest.raises(click.BadParameter, match=reason):
        JsonObject().convert(text, None, None)


def test_json_option_accepts_the_deepest_allowed_value() -> None:
    deepest = '{"a": ' + "[" * (JSON_MAX_DEPTH - 1) + "]" * (JSON_MAX_DEPTH - 1) + "}"
    assert json_depth(JsonObject().convert(deepest, None, None), 1000) == JSON_MAX_DEPTH


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_seconds_must_be_finite(value: str) -> None:
    with pytest.raises(click.BadParameter):
        FiniteFloat(min=0).convert(value, None, None)
    assert FiniteFloat(min=0, max=10).convert("2.5", None, None) == 2.5


# -- settings and files --------------------------------------------------------------


def _resolve(env: dict[str, str], **options: Any) -> Any:
    return resolve(options, env, warn=lambda _m: None)


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "1e9", "0", "-1"])
def test_profile_timeout_must_be_finite_and_bounded(tmp_path: Path, value: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[default]\nhost = 'h'\ntimeout = {value}\n")
    with pytest.raises(ConfigError, match="timeout"):
        _resolve({"VRGTASK_CONFIG": str(config)})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VERGE_RETRY_BACKOFF", "nan"),
        ("VERGE_RETRY_BACKOFF", "inf"),
        ("VERGE_RETRY_BACKOFF", "1e400"),
        ("VERGE_RETRY_BACKOFF", "61"),
        ("VERGE_RETRY_TOTAL", "11"),
        ("VERGE_RETRY_TOTAL", "99999999999999999999999"),
        ("VERGE_RETRY_TOTAL", "-1"),
    ],
)
def test_retry_settings_are_bounded(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        _resolve({name: value, "VRGTASK_CONFIG": os.devnull + "-missing"})


def test_retry_settings_within_bounds_are_used() -> None:
    settings = _resolve(
        {"VERGE_RETRY_TOTAL": "10", "VERGE_RETRY_BACKOFF": "60", "VRGTASK_CONFIG": "/missing"}
    )
    assert (settings.retry_total, settings.retry_backoff) == (10, 60.0)


def test_read_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    assert read_regular_file(path, 5) == b"12345"
    with pytest.raises(FileRefused, match="larger than 4"):
        read_regular_file(path, 4)
    with pytest.raises(FileRefused, match="not a regular file"):
        read_regular_file(tmp_path, 5)
    with pytest.raises(FileRefused, match="not a regular file"):
        read_regular_file("/dev/zero", 5)
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "missing", 5)


@pytest.mark.parametrize(
    "url",
    [
        "https://admin:secretPW@host/",
        "https://admin:secretPW@host/a/path",
        "admin:secretPW@host:8443",
        "ftp://admin:secretPW@host/",
    ],
)
def test_credentials_in_a_host_url_are_not_echoed(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalize_host(url)
    assert "secretPW" not in caught.value.message
    assert "--username" in caught.value.message


# -- csv -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_neutralises_formulas(text: str, shown: str) -> None:
    assert neutralise(text) == shown


def test_csv_leaves_numbers_and_json_leaves_strings() -> None:
    columns = [Column("$key"), Column("name"), Column("progress")]
    row = {"$key": 1, "name": "=HYPERLINK()", "progress": -5}
    assert CsvFormatter().format_one(row, columns, MagicMock()).splitlines()[1] == (
        "1,'=HYPERLINK(),-5"
    )
    assert json.loads(JsonFormatter().format_one(row, columns, MagicMock()))["name"] == (
        "=HYPERLINK()"
    )


# -- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "answer", "needle"),
    [
        ("GET", "/api/v4/tasks", [1], "not an object"),
        ("GET", "/api/v4/tasks", [{"$key": "abc"}], "not a number"),
        ("GET", "/api/v4/tasks", [{"$key": True}], "not a number"),
        ("GET", "/api/v4/tasks", [{"$key": -1}], "not a number"),
        ("GET", "/api/v4/tasks", [{"name": "x"}], "no $key"),
        ("GET", "/api/v4/tasks/1", {"$key": "x"}, "not a number"),
        ("POST", "/api/v4/tasks", {"$key": None}, "not a number"),
    ],
)
def test_malformed_answers_are_refused(method: str, path: str, answer: Any, needle: str) -> None:
    with pytest.raises(InvalidResponseError, match="response is not valid") as caught:
        check_answer(method, path, answer)
    assert needle in caught.value.message


@pytest.mark.parametrize(
    ("method", "path", "answer"),
    [
        ("GET", "/api/v4/tasks", [{"$key": 1}, {"$key": "2"}]),
        ("GET", "/api/v4/tasks", {"$key": 1}),  # the SDK takes a lone object too
        ("PUT", "/api/v4/task_schedules/1", [1700000000, "2026-01-01"]),  # get_schedule
        ("PUT", "/api/v4/tasks/1", {}),
        ("GET", "/api/v4/system", [{"$key": 1, "yb_version": "x"}]),
    ],
)
def test_well_formed_answers_pass(method: str, path: str, answer: Any) -> None:
    check_answer(method, path, answer)


def test_a_value_error_while_building_rows_is_an_invalid_answer() -> None:
    from pyvergeos.resources.tasks import Task

    from vrgtask.commands.task import task_to_row

    task = sdk_object(Task, {**TASK_DATA, "triggers_count": "abc"})
    try:
        task_to_row(task, projection_checked=True)
    except ValueError as exc:
        code, message = classify(exc)
    else:  # pragma: no cover - the row builder must refuse
        pytest.fail("task_to_row accepted a triggers_count of 'abc'")
    assert code == ExitCode.ERROR
    assert message.startswith("the server's response is not valid: ")


def test_a_value_error_elsewhere_is_still_unexpected() -> None:
    try:
        int("abc")
    except ValueError as exc:
        code, message = classify(exc)
    assert (code, message.split(":")[0]) == (ExitCode.ERROR, "unexpected error")


def test_recursion_error_is_an_invalid_answer() -> None:
    code, message = classify(RecursionError("maximum recursion depth exceeded"))
    assert (code, message) == (
        ExitCode.ERROR,
        "the server's response is not valid: a value is nested too deeply",
    )


def test_null_flags_stay_null(invoke: Invoke, mock_client: MagicMock) -> None:
    from pyvergeos.resources.tasks import Task

    data = {**TASK_DATA, "enabled": None, "delete_after_run": None}
    mock_client.tasks.list.return_value = [sdk_object(Task, data)]
    out = invoke("-o", "json", "task", "list")
    assert out.exit_code == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert (row["enabled"], row["delete_after_run"]) == (None, None)


# -- the session: whole-request timeout, broken reads, redirects --------------------------


class _Adapter(BaseAdapter):
    """Answers from a script: an exception to raise, a delay, or a response."""

    def __init__(self, *steps: Any) -> None:
        super().__init__()
        self.steps = list(steps)
        self.calls = 0

    def send(  # type: ignore[override]  # a test double takes what it is given
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.calls += 1
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, float):
            time.sleep(step)
            step = (200, b"[]", {})
        status, body, headers = step
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers.update(headers)
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        pass


def _session(adapter: _Adapter, *, timeout: float = 5.0, retries: int = 3) -> CliSession:
    session = CliSession()
    session.total_timeout = timeout
    session.read_retries = retries
    session.backoff = 0.0
    session.mount("https://", adapter)
    return session


def test_the_whole_request_is_bounded_by_the_timeout() -> None:
    session = _session(_Adapter(30.0), timeout=0.3)
    with pytest.raises(RequestTimeoutError, match="--timeout"):
        session.get("https://h/api/v4/tasks")


def test_broken_reads_of_a_get_are_retried() -> None:
    adapter = _Adapter(requests.exceptions.ChunkedEncodingError("reset"), (200, b"[]", {}))
    assert _session(adapter).get("https://h/api/v4/tasks").json() == []
    assert adapter.calls == 2


def test_broken_reads_end_as_a_connection_error() -> None:
    adapter = _Adapter(requests.exceptions.ChunkedEncodingError("reset"))
    with pytest.raises(requests.exceptions.ConnectionError, match="broke"):
        _session(adapter).get("https://h/api/v4/tasks")
    assert adapter.calls == 4


def test_a_broken_read_of_a_write_is_not_sent_again() -> None:
    adapter = _Adapter(requests.exceptions.ChunkedEncodingError("reset"))
    with pytest.raises(requests.exceptions.ConnectionError):
        _session(adapter).post("https://h/api/v4/tasks", json={})
    assert adapter.calls == 1


@pytest.mark.parametrize(
    "location",
    ["https://other/api/v4/tasks", "http://h/api/v4/tasks", "https://h:444/x", "//other/x"],
)
def test_redirects_to_another_origin_are_refused(location: str) -> None:
    adapter = _Adapter((302, b"", {"Location": location}), (200, b"[]", {}))
    with pytest.raises(RedirectRefusedError, match="another origin"):
        _session(adapter).post("https://h/api/v4/tasks", json={})
    assert adapter.calls == 1


def test_redirects_within_the_origin_are_followed() -> None:
    adapter = _Adapter((302, b"", {"Location": "https://h:443/api/v4/tasks?x=1"}), (200, b"[]", {}))
    assert _session(adapter).get("https://h/api/v4/tasks").json() == []
    assert adapter.calls == 2


def test_a_malformed_answer_is_refused_by_the_session() -> None:
    adapter = _Adapter((200, b'[{"$key": "x"}]', {}))
    with pytest.raises(InvalidResponseError):
        _session(adapter).get("https://h/api/v4/tasks")


# -- output -----------------------------------------------------------------------------------


def test_epochs_of_year_9999_are_seconds_and_larger_numbers_milliseconds() -> None:
    assert run_entry_epoch(253402214400) == 253402214400  # 9999-12-31
    assert run_entry_epoch(1_767_225_600_000) == 1_767_225_600  # milliseconds


def test_unencodable_text_is_escaped_as_json_escapes() -> None:
    import codecs

    from vrgtask.cli import _escape_unencodable

    codecs.register_error("vrgtask.test", _escape_unencodable)
    encoded = '名-😀-\ud800"'.encode("latin-1", errors="vrgtask.test").decode("latin-1")
    assert encoded == '\\u540d-\\ud83d\\ude00-\\ud800"'
    assert json.loads(f'"{encoded[:-1]}"') == "名-😀-\ud800"
