"""Sending task-engine actions, in whichever form the server takes.

The VergeOS API documentation (and the Go and TypeScript SDKs) send an
action as ``POST /{singular}_actions`` with a body naming the row, the action
and its ``params``; pyvergeos sends ``PUT /{table}/{key}?action=NAME`` with
the parameters as the body, a form that is a silent 200 no-op for some
tables on some releases. vrgtask sends the documented form first and falls
back to the SDK's form only when the server answers 404 or 405 for the
actions table. Whichever form worked is remembered for the rest of the
invocation (on the client object), so a fallback costs one request once.
A 400 ("unknown action", as the API guide answers on an actions table that
does not know it: ``cancel`` and script ``run`` are seen only in the SDK's
form) tries the SDK's form for that one action, without remembering it.

Parameters are a dict passed through as data, never Python keyword
arguments: ``{"self": 1}`` or ``{"key": 1}`` reach the server as they are.

pyvergeos is imported inside functions (``vrgtask --help`` must not load it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = ["ACTION_TABLES", "FORM_POST", "FORM_PUT", "action_form", "send_action"]

#: Table -> the row's name in its actions table (``task_actions`` takes ``task``).
ACTION_TABLES: dict[str, str] = {
    "tasks": "task",
    "task_schedules": "task_schedule",
    "task_schedule_triggers": "task_schedule_trigger",
    "task_events": "task_event",
    "task_scripts": "task_script",
}

FORM_POST = "post"
FORM_PUT = "put"
_FALLBACK_STATUSES = (404, 405)
_MEMORY = "_vrgtask_action_form"


def action_form(client: VergeClient) -> str | None:
    """The form that worked earlier in this invocation (``post``/``put``), if any."""
    value = vars(client).get(_MEMORY)
    return value if value in (FORM_POST, FORM_PUT) else None


def _remember(client: VergeClient, form: str) -> None:
    vars(client)[_MEMORY] = form


def send_action(
    client: VergeClient,
    table: str,
    key: int | str,
    action: str,
    params: Mapping[str, Any] | None = None,
    *,
    put_body: Mapping[str, Any] | None = None,
) -> Any:
    """Send ``action`` to row ``key`` of ``table``; the server's answer (parsed JSON).

    ``params`` is the action's ``params`` object in the documented form.
    ``put_body`` is the body of the SDK's form when it is not ``params``
    itself (``execute`` wraps them: ``{"params": {...}}``).
    """
    from pyvergeos.exceptions import APIError

    singular = ACTION_TABLES[table]
    row_key: int | str = int(key) if str(key).isdigit() else key
    remembered = action_form(client)
    if remembered != FORM_PUT:
        body = {singular: row_key, "action": action, "params": dict(params or {})}
        try:
            answer = client._request("POST", f"{singular}_actions", json_data=body)
        except APIError as exc:
            unknown_action = exc.status_code == 400
            if not unknown_action and (
                remembered == FORM_POST or exc.status_code not in _FALLBACK_STATUSES
            ):
                raise
        else:
            _remember(client, FORM_POST)
            return answer
    else:
        unknown_action = False
    legacy = dict(put_body if put_body is not None else (params or {}))
    answer = client._request("PUT", f"{table}/{row_key}?action={action}", json_data=legacy)
    if not unknown_action:
        _remember(client, FORM_PUT)
    return answer
