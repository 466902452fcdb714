"""vrgtask.actions (which form an action is sent in), vrgtask.verify (is a write
applied?), vrgtask.hints (pasteable commands) and the error messages of issue 12."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest

from vrgtask.actions import FORM_POST, FORM_PUT, action_form, send_action
from vrgtask.config import Settings
from vrgtask.errors import ExitCode, WriteNotAppliedError, classify
from vrgtask.hints import command_hint, connection_args
from vrgtask.verify import mismatches, same_value, verify_write


def sdk_error(status: int, message: str = "nope") -> Exception:
    from pyvergeos import exceptions as sdk

    kind = {404: sdk.NotFoundError, 409: sdk.ConflictError, 422: sdk.ValidationError}
    return kind.get(status, sdk.APIError)(message, status_code=status)


# ----------------------------------------------------------------------------- actions


def test_documented_form_first() -> None:
    client = MagicMock()
    client._request.return_value = {"task": 5}
    answer = send_action(client, "tasks", 5, "execute", {"self": 1, "key": 2})
    assert answer == {"task": 5}
    client._request.assert_called_once_with(
        "POST",
        "task_actions",
        json_data={"task": 5, "action": "execute", "params": {"self": 1, "key": 2}},
    )
    assert action_form(client) == FORM_POST


@pytest.mark.parametrize("status", [404, 405])
def test_falls_back_to_put_and_remembers_it(status: int) -> None:
    client = MagicMock()
    client._request.side_effect = [sdk_error(status), {"ok": 1}, {"ok": 2}]
    first = send_action(client, "tasks", 5, "execute", {"a": 1}, put_body={"params": {"a": 1}})
    assert first == {"ok": 1}
    assert action_form(client) == FORM_PUT
    second = send_action(client, "task_events", 4, "trigger", {"context": {"x": 1}})
    assert second == {"ok": 2}
    calls = [(c.args, c.kwargs) for c in client._request.call_args_list]
    assert calls == [
        (("POST", "task_actions"),
         {"json_data": {"task": 5, "action": "execute", "params": {"a": 1}}}),
        (("PUT", "tasks/5?action=execute"), {"json_data": {"params": {"a": 1}}}),
        (("PUT", "task_events/4?action=trigger"), {"json_data": {"context": {"x": 1}}}),
    ]  # fmt: skip


def test_an_action_the_actions_table_does_not_know_is_tried_in_the_sdk_form() -> None:
    """400 on POST (the API guide: an unknown action name): the SDK's form, not remembered."""
    client = MagicMock()
    client._request.side_effect = [{}, sdk_error(400, "Invalid action"), {"task": 1}, {}]
    send_action(client, "tasks", 1, "execute")
    assert send_action(client, "tasks", 1, "cancel") == {"task": 1}
    send_action(client, "tasks", 1, "execute")
    assert [c.args for c in client._request.call_args_list] == [
        ("POST", "task_actions"),
        ("POST", "task_actions"),
        ("PUT", "tasks/1?action=cancel"),
        ("POST", "task_actions"),
    ]
    assert action_form(client) == FORM_POST


def test_a_400_in_both_forms_is_the_servers_answer() -> None:
    client = MagicMock()
    client._request.side_effect = sdk_error(400, "bad parameter")
    from pyvergeos.exceptions import APIError

    with pytest.raises(APIError) as failed:
        send_action(client, "task_scripts", 2, "run", {"x": 1})
    assert classify(failed.value)[0] == 8
    assert client._request.call_count == 2
    assert action_form(client) is None


@pytest.mark.parametrize(("status", "code"), [(409, 7), (422, 8), (500, 1)])
def test_other_failures_are_not_a_reason_to_fall_back(status: int, code: int) -> None:
    client = MagicMock()
    client._request.side_effect = sdk_error(status)
    from pyvergeos.exceptions import APIError

    with pytest.raises(APIError) as failed:
        send_action(client, "task_scripts", 2, "run", {})
    assert classify(failed.value)[0] == code
    client._request.assert_called_once()
    assert action_form(client) is None


def test_once_post_worked_a_404_is_a_404() -> None:
    """The documented form worked earlier: a later 404 is about the row, not the form."""
    client = MagicMock()
    client._request.side_effect = [{}, sdk_error(404, "Task 9 not found")]
    send_action(client, "tasks", 1, "cancel")
    with pytest.raises(Exception, match="Task 9 not found"):
        send_action(client, "tasks", 9, "cancel")
    assert client._request.call_count == 2


@pytest.mark.parametrize(
    ("table", "endpoint", "row"),
    [
        ("tasks", "task_actions", "task"),
        ("task_schedules", "task_schedule_actions", "task_schedule"),
        ("task_schedule_triggers", "task_schedule_trigger_actions", "task_schedule_trigger"),
        ("task_events", "task_event_actions", "task_event"),
        ("task_scripts", "task_script_actions", "task_script"),
    ],
)
def test_every_actions_table(table: str, endpoint: str, row: str) -> None:
    client = MagicMock()
    send_action(client, table, "7", "x")
    client._request.assert_called_once_with(
        "POST", endpoint, json_data={row: 7, "action": "x", "params": {}}
    )


# ----------------------------------------------------------------------------- verify


@pytest.mark.parametrize(
    ("sent", "got", "same"),
    [
        (True, True, True),
        (True, "true", True),
        (True, 1, True),
        (False, None, False),
        (5, "5", True),
        (5, 5.0, True),
        (5, 6, False),
        ("5", 5, True),
        ("a", "a", True),
        ("a", "b", False),
        ({"force": True}, {"force": True, "extra": 1}, True),
        ({"force": True}, {}, False),
        ({"force": True}, '{"force": true}', True),
        ({}, None, True),
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        (None, "", True),
        ("2026-01-01", "2026-01-01 00:00:00", True),
        ("2026-01-01", "2026-01-02", False),
        ("ab", "ab c", False),
    ],
)
def test_same_value(sent: Any, got: Any, same: bool) -> None:
    assert same_value(sent, got) is same


def test_a_missing_field_is_not_applied() -> None:
    assert mismatches({"name": "x", "bogus": 1}, {"name": "x"}) == [("bogus", 1, None)]


def test_verify_write_names_every_field() -> None:
    with pytest.raises(WriteNotAppliedError) as dropped:
        verify_write(
            {"name": "n", "enabled": False, "settings_args": {"a": 1}},
            {"name": "n", "enabled": True},
            what="the update of task 'n' (key 3)",
            hint="vrgtask -p lab task get 3",
        )
    message = dropped.value.message
    assert dropped.value.exit_code == ExitCode.ERROR
    assert "did not apply the fields enabled, settings_args" in message
    assert "enabled: sent false, read back true" in message
    assert "nothing was retried (check it with: vrgtask -p lab task get 3)" in message


def test_verify_write_passes_quietly() -> None:
    verify_write({"enabled": True}, {"enabled": True}, what="x", hint="y")


# ----------------------------------------------------------------------------- hints


def settings(**kwargs: Any) -> Settings:
    sources = kwargs.pop("sources", {})
    made = Settings(**kwargs)
    made.sources.update(sources)
    return made


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (settings(host="sandbox", sources={"host": "option"}), ["--sandbox"]),
        (settings(host="h.example", profile="lab", sources={"host": "profile lab"}), ["-p", "lab"]),
        (settings(host="h.example", profile="default", sources={"host": "profile default"}), []),
        (settings(host="h.example", sources={"host": "env"}), []),
        (settings(host="h.example:8443", sources={"host": "option"}), ["--host", "h.example:8443"]),
        (
            settings(
                host="h",
                username="ops",
                verify_ssl=False,
                token=None,
                sources={"host": "option", "username": "option", "verify_ssl": "option"},
            ),
            ["--host", "h", "-u", "ops", "--insecure"],
        ),
    ],
)
def test_connection_args(made: Settings, expected: list[str]) -> None:
    assert connection_args(made) == expected


def test_command_hint_never_carries_a_secret() -> None:
    app = MagicMock()
    app.settings = settings(
        host="h", token="s3cr3t-token", password="pw-123", username="u",
        sources={"host": "option", "token": "option", "password": "option"},
    )  # fmt: skip
    hint = command_hint(app, "task", "get", 12)
    assert hint == "vrgtask --host h task get 12"
    assert "s3cr3t" not in hint
    assert "pw-123" not in hint


def test_command_hint_quotes_for_the_shell() -> None:
    app = MagicMock()
    app.settings = settings(host="sandbox", sources={"host": "option"})
    assert command_hint(app, "task", "wait", "it's") == "vrgtask --sandbox task wait 'it'\"'\"'s'"


# ----------------------------------------------------------------------------- messages


def test_http_400_is_a_validation_error() -> None:
    code, message = classify(sdk_error(400, "Invalid action 'bogus'"))
    assert code == ExitCode.VALIDATION
    assert message == "the server rejected the request: Invalid action 'bogus'"


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (404, "Not found: tasks/9", "not found: tasks/9"),
        (404, "Task 9 not found", "not found: Task 9 not found"),
        (409, "Conflict: row exists", "conflict: row exists"),
        (422, "The server rejected the request: x", "the server rejected the request: x"),
    ],
)
def test_messages_do_not_repeat_themselves(status: int, text: str, expected: str) -> None:
    assert classify(sdk_error(status, text))[1] == expected
