"""An in-process ``requests`` transport: requests go to an emulator, not a socket.

Mount :class:`SandboxAdapter` on ``"https://"`` of a ``requests.Session`` and
hand the session to pyvergeos::

    session = requests.Session()
    session.mount("https://", SandboxAdapter(Emulator(FileStore(path))))
    client = VergeClient(host="sandbox", username="admin", password="sandbox",
                         session=session)

Every URL, whatever its host, is answered by the emulator.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from vrgtask.sandbox.emulator import Emulator, error_reply
from vrgtask.sandbox.errors import SandboxError
from vrgtask.sandbox.log import RequestLog

__all__ = ["SandboxAdapter", "sandbox_session"]


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    # An iterable of chunks (a generator body).
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


class SandboxAdapter(BaseAdapter):
    """A transport adapter answering every request from ``emulator``.

    Requests sent at once (from several threads) are answered one after the
    other, as the HTTPS server does: the emulator and its state file are not
    shared between concurrent requests.
    """

    def __init__(self, emulator: Emulator, log: RequestLog | None = None) -> None:
        super().__init__()
        self.emulator = emulator
        self.log = log
        self._lock = threading.Lock()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        started = time.perf_counter()
        method = (request.method or "GET").upper()
        url = request.url or ""
        parts = urlsplit(url)
        headers = dict(request.headers.items())
        try:
            with self._lock:
                reply = self.emulator.handle(
                    method, parts.path, parts.query, headers, _body_bytes(request.body)
                )
        except SandboxError:
            raise  # the state file or a setting: the CLI reports it as such (exit 3)
        except Exception as exc:  # a bug: an HTTP 500 as over HTTPS, not a "connection" error
            reply = error_reply(500, f"sandbox failure: {type(exc).__name__}: {exc}")
        response = requests.Response()
        response.status_code = reply.status
        response.headers = CaseInsensitiveDict(reply.headers)
        response.headers.setdefault("Content-Type", "application/json")
        response.headers["Content-Length"] = str(len(reply.body))
        response._content = reply.body
        response.raw = io.BytesIO(reply.body)
        response.encoding = "utf-8"
        response.url = url
        response.request = request
        try:
            response.reason = HTTPStatus(reply.status).phrase
        except ValueError:
            response.reason = ""
        if self.log is not None:
            elapsed = (time.perf_counter() - started) * 1000
            self.log.record(method, parts.path, parts.query, reply.status, len(reply.body), elapsed)
        return response

    def close(self) -> None:
        """Nothing to release: there is no connection."""


def sandbox_session(emulator: Emulator, log: RequestLog | None = None) -> requests.Session:
    """A ``requests.Session`` whose https:// requests all go to ``emulator``."""
    session = requests.Session()
    session.mount("https://", SandboxAdapter(emulator, log))
    return session
