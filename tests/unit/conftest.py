"""Unit-test fixtures: the real CLI with a mock pyvergeos client (no network).

``mock_client`` replaces the client factory (``vrgtask.context.build_client``),
so commands run exactly as in production up to the SDK call. SDK objects are
real pyvergeos model classes built from dicts (``support.sdk_object``), so
accessors behave as they do against a server, FieldNotProjectedError included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import MagicMock

import pytest
from click.testing import CliRunner
from pytest_mock import MockerFixture
from support import (
    EVENT_DATA,
    SCHEDULE_DATA,
    SCRIPT_DATA,
    TASK_DATA,
    TRIGGER_DATA,
    Invoke,
    Outcome,
    sdk_object,
)

from vrgtask.cli import cli


@pytest.fixture
def invoke() -> Invoke:
    """Run ``vrgtask ARGS`` in-process; ``input`` feeds stdin."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Outcome:
        runner = CliRunner()
        result = runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=True)
        return Outcome(result.exit_code, result.stdout, result.stderr, result.exception)

    return run


@pytest.fixture
def mock_client(mocker: MockerFixture) -> MagicMock:
    """The client every command gets; no connection is made."""
    client = MagicMock(name="VergeClient")
    for name in ("task_schedules", "task_scripts", "task_events"):
        manager = getattr(client, name)
        applies_what_is_sent(manager.create)
        applies_what_is_sent(manager.update)
        applies_what_is_sent(manager.enable, enabled=True)
        applies_what_is_sent(manager.disable, enabled=False)
    mocker.patch("vrgtask.context.build_client", return_value=client)
    return client


def applies_what_is_sent(method: MagicMock, **fixed: Any) -> None:
    """Make a mock write answer like a server that applied it.

    Writes are verified by reading back (vrgtask.verify): the object the mock
    returns (its ``return_value``, set by each test) comes back with the
    fields sent merged in. A test that wants a dropped field sets
    ``side_effect = None`` (or its own).
    """
    from unittest.mock import DEFAULT

    from pyvergeos.resources.base import ResourceObject

    def answer(*args: Any, **kwargs: Any) -> Any:
        base = method.return_value
        if not isinstance(base, ResourceObject):
            return DEFAULT
        sent = {k: v for k, v in kwargs.items() if v is not None}
        data = {**base, **sent, **fixed}
        requested = set(getattr(base._manager, "_requested_aliases", ()) or ()) | set(data)
        return sdk_object(type(base), data, requested=sorted(requested))

    method.side_effect = answer


@pytest.fixture
def make_task() -> Callable[..., Any]:
    """``make_task(**changes)``: a pyvergeos Task built from TASK_DATA."""
    from pyvergeos.resources.tasks import Task

    def build(**changes: Any) -> Any:
        return sdk_object(Task, {**TASK_DATA, **changes})

    return build


@pytest.fixture
def mock_task(make_task: Callable[..., Any]) -> Any:
    """The standard task: key 100, 'nightly-backup', idle, enabled."""
    return make_task()


@pytest.fixture
def make_schedule() -> Callable[..., Any]:
    """``make_schedule(**changes)``: a pyvergeos TaskSchedule built from SCHEDULE_DATA."""
    from pyvergeos.resources.task_schedules import TaskSchedule

    def build(**changes: Any) -> Any:
        return sdk_object(TaskSchedule, {**SCHEDULE_DATA, **changes})

    return build


@pytest.fixture
def mock_task_schedule(make_schedule: Callable[..., Any]) -> Any:
    """The standard schedule: key 200, 'nightly-window', daily 02:00-04:00, Mon-Fri."""
    return make_schedule()


@pytest.fixture
def make_trigger() -> Callable[..., Any]:
    """``make_trigger(**changes)``: a pyvergeos TaskScheduleTrigger built from TRIGGER_DATA."""
    from pyvergeos.resources.task_schedule_triggers import TaskScheduleTrigger

    def build(**changes: Any) -> Any:
        return sdk_object(TaskScheduleTrigger, {**TRIGGER_DATA, **changes})

    return build


@pytest.fixture
def mock_task_trigger(make_trigger: Callable[..., Any]) -> Any:
    """The standard trigger: key 300, task 100 -> schedule 200."""
    return make_trigger()


def _local_zone(monkeypatch: pytest.MonkeyPatch, zone: str) -> Iterator[None]:
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset() is not available on this platform")
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is UTC for the test."""
    yield from _local_zone(monkeypatch, "UTC")


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local zone is Central European Time (+01:00, +02:00 in summer).

    Written as a POSIX rule, so no time-zone database is needed.
    """
    yield from _local_zone(monkeypatch, "CET-1CEST,M3.5.0,M10.5.0/3")


@pytest.fixture
def make_event() -> Callable[..., Any]:
    """``make_event(**changes)``: a pyvergeos TaskEvent built from EVENT_DATA."""
    from pyvergeos.resources.task_events import TaskEvent

    def build(**changes: Any) -> Any:
        return sdk_object(TaskEvent, {**EVENT_DATA, **changes})

    return build


@pytest.fixture
def make_script() -> Callable[..., Any]:
    """``make_script(**changes)``: a pyvergeos TaskScript built from SCRIPT_DATA."""
    from pyvergeos.resources.task_scripts import TaskScript

    def build(**changes: Any) -> Any:
        return sdk_object(TaskScript, {**SCRIPT_DATA, **changes})

    return build


@pytest.fixture
def get_schedule_action(mock_client: MagicMock) -> None:
    """The ``get_schedule`` action as the server receives it, answered by a mock.

    ``schedule show``, ``agenda`` and ``status`` send ``POST /task_schedule_actions``
    (vrgtask.actions);
    this hands the action's row and params to ``task_schedules.get_schedule``
    (a plain mock here) so a test sets the server's answer there and checks
    the parameters sent with ``assert_called_once_with``.
    """

    def request(method: str, endpoint: str, **kwargs: Any) -> Any:
        body = kwargs.get("json_data") or {}
        assert (method, endpoint) == ("POST", "task_schedule_actions"), (method, endpoint)
        assert body.get("action") == "get_schedule"
        params = body["params"]
        assert set(params) <= {"max", "start_time", "end_time"}
        return mock_client.task_schedules.get_schedule(
            body["task_schedule"],
            max_results=params["max"],
            start_time=params.get("start_time"),
            end_time=params.get("end_time"),
        )

    mock_client._request.side_effect = request
