"""Helpers for driving ``Emulator.handle`` directly (no transport)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from vrgtask.sandbox import Emulator, Reply

ADMIN = "Basic " + base64.b64encode(b"admin:sandbox").decode()
AUDITOR = "Basic " + base64.b64encode(b"auditor:auditor").decode()
START = 1_780_000_000.0  # 2026-05-28T20:26:40Z


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """Requests against an emulator; paths are relative to /api/v4/."""

    def __init__(self, emulator: Emulator, auth: str | None = ADMIN) -> None:
        self.emulator = emulator
        self.auth = auth

    def as_user(self, auth: str | None) -> Api:
        return Api(self.emulator, auth)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        **query: Any,
    ) -> Reply:
        headers = {"Content-Type": "application/json"}
        if self.auth is not None:
            headers["Authorization"] = self.auth
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        full = path if path.startswith("/") else "/api/v4/" + path
        return self.emulator.handle(method, full, urlencode(query), headers, data)

    def get(self, path: str, **query: Any) -> Reply:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any) -> Reply:
        return self.call("POST", path, body)

    def put(self, path: str, body: Any) -> Reply:
        return self.call("PUT", path, body)

    def delete(self, path: str) -> Reply:
        return self.call("DELETE", path)

    def action(self, path: str, name: str, body: Any = None) -> Reply:
        return self.call("PUT", path, {} if body is None else body, action=name)

    def row(self, path: str, **query: Any) -> dict[str, Any]:
        """GET one object, asserting success."""
        reply = self.get(path, **query)
        assert reply.status == 200, (reply.status, reply.body)
        data = reply.json()
        assert isinstance(data, dict)
        return data

    def rows(self, path: str, **query: Any) -> list[dict[str, Any]]:
        """GET a list, asserting success."""
        reply = self.get(path, **query)
        assert reply.status == 200, (reply.status, reply.body)
        data = reply.json()
        assert isinstance(data, list)
        return data

    def create(self, table: str, body: dict[str, Any]) -> int:
        """POST, asserting 201; the new key."""
        reply = self.post(table, body)
        assert reply.status == 201, (reply.status, reply.body)
        key = reply.json()["$key"]
        assert isinstance(key, str)  # the API guide's receipt: "$key": "36"
        return int(key)


def err(reply: Reply) -> str:
    """The ``err`` message of an error reply."""
    data = reply.json()
    assert isinstance(data, dict), reply.body
    message = data.get("err")
    assert isinstance(message, str), reply.body
    return message
