"""A hostile HTTPS server for the end-to-end tests: the sandbox emulator
behind a socket-level front end that can misbehave in ways the sandbox's own
fault injection cannot (it answers whole, well-formed HTTP messages).

Each :class:`Behaviour` selects requests (method, path regex, query
substring, how many times) and says what the server does instead of, or
around, the emulator's answer:

* ``trickle_body`` / ``trickle_headers``: send a byte every ``interval``
  seconds (a slow-loris server), bounded by ``max_bytes``;
* ``reset_mid_body``: headers with the full ``Content-Length``, half the
  body, then a TCP reset;
* ``short_body``: a ``Content-Length`` larger than the body, then close;
* ``redirect``: answer ``status`` with ``Location: location``;
* ``answer``: a status, raw body bytes and extra headers of our own.

Every request is logged (method, Host header, path, query) before it is
answered, so a test can prove what was (or was not) sent. Test-only code:
it lives under tests/ on purpose and never in ``vrgtask/sandbox``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import trustme

from vrgtask.sandbox import Emulator, MemoryStore, seed_state

__all__ = ["Behaviour", "HostileServer", "closed_port"]


@dataclass
class Behaviour:
    """What the server does to the requests it selects."""

    kind: str
    method: str | None = None
    path: str | None = None
    query: str | None = None
    #: How many matching requests it applies to; None: all of them.
    times: int | None = None
    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    location: str = ""
    interval: float = 0.2
    max_bytes: int = 400

    def matches(self, method: str, path: str, query: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.path is not None and not re.search(self.path, path):
            return False
        return self.query is None or self.query in query


@dataclass
class Seen:
    method: str
    host: str
    path: str
    query: str


def closed_port() -> int:
    """A 127.0.0.1 port that was just free: nothing listens there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients going away are the point of this server: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    @property
    def owner(self) -> HostileServer:
        return cast(_Server, self.server).owner

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        method = self.command.upper()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.owner.record(Seen(method, self.headers.get("Host", ""), split.path, split.query))
        behaviour = self.owner.pick(method, split.path, split.query)
        if behaviour is None or behaviour.kind in ("trickle_body", "reset_mid_body", "short_body"):
            reply = self.owner.emulate(method, split.path, split.query, dict(self.headers), body)
            status, payload, headers = reply.status, reply.body, dict(reply.headers)
        else:
            status, payload, headers = behaviour.status, behaviour.body or b"", {}
        if behaviour is None:
            self._send(status, payload, headers)
            return
        kind = behaviour.kind
        if kind == "answer":
            headers = {"Content-Type": "application/json", **behaviour.headers}
            self._send(behaviour.status, payload, headers)
        elif kind == "redirect":
            self._send(behaviour.status, b"", {"Location": behaviour.location})
        elif kind == "trickle_headers":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: "
            self._trickle(head + b"a" * behaviour.max_bytes, behaviour)
        elif kind == "trickle_body":
            self._head(status, len(payload), headers)
            self._trickle(payload, behaviour)
        elif kind == "reset_mid_body":
            self._head(status, len(payload), headers)
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self._reset()
        elif kind == "short_body":
            self._head(status, len(payload) + 1000, headers)
            self.wfile.write(payload)
            self.wfile.flush()
            self.close_connection = True
        else:  # pragma: no cover - a typo in a test
            raise ValueError(f"unknown behaviour {kind!r}")

    def _head(self, status: int, length: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self._head(status, len(payload), headers)
        self.wfile.write(payload)
        self.wfile.flush()

    def _trickle(self, data: bytes, behaviour: Behaviour) -> None:
        """One byte per interval, until the client gives up (or max_bytes)."""
        self.close_connection = True
        for index in range(min(len(data), behaviour.max_bytes)):
            if self.owner.stopping.is_set():
                return
            try:
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
            except OSError:
                return
            time.sleep(behaviour.interval)

    def _reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), not an orderly shutdown."""
        self.close_connection = True
        raw = self.connection
        with contextlib.suppress(OSError):
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.rfile.close()  # the last reference besides the socket itself
            raw.close()


class HostileServer:
    """The emulator behind HTTPS on 127.0.0.1, with hostile behaviours."""

    def __init__(self, directory: Path, extra_tasks: int = 0) -> None:
        self.emulator = Emulator(MemoryStore(seed_state(extra_tasks)))
        self.behaviours: list[Behaviour] = []
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._dir = directory
        ca = trustme.CA()
        self.ca_path = self._dir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._httpd = _Server(("127.0.0.1", 0), _Handler, bind_and_activate=True)
        self._httpd.owner = self
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add(self, behaviour: Behaviour) -> None:
        with self._lock:
            self.behaviours.append(behaviour)

    def pick(self, method: str, path: str, query: str) -> Behaviour | None:
        with self._lock:
            for behaviour in self.behaviours:
                if behaviour.matches(method, path, query):
                    if behaviour.times is not None:
                        behaviour.times -= 1
                    return behaviour
        return None

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                s
                for s in self.seen
                if (method is None or s.method == method)
                and (path is None or re.search(path, s.path))
            ]

    def emulate(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Any:
        with self._lock:
            return self.emulator.handle(method, path, query, headers, body)

    @contextlib.contextmanager
    def running(self) -> Iterator[HostileServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=10)
