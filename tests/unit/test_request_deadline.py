"""``--timeout`` bounds a whole request in any thread, not only on the main
thread (where a timer signal does it): the worker threads of a fleet keep
the deadline in every socket operation and back-off sleep of the request.

Every request here runs in a worker thread against a local HTTPS server
(127.0.0.1) that answers one byte at a time, each byte well within the
per-operation socket timeout, for far longer than the test waits: only a
bound on the whole request can end it. The tests never measure durations;
they wait (bounded) for the worker and look at how it ended.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from vrgtask.client import (
    CliSession,
    RequestTimeoutError,
    _bind,
    _BoundedSSLSocket,
    _deadline,
    _pause,
    make_session,
)
from vrgtask.config import Settings

#: How long a test waits for its worker: far below what the servers would
#: take to finish answering, far above the deadlines the requests are given.
JOIN = 30.0
#: The per-operation timeout and the whole-request bound of the requests.
TIMEOUT = 1.0
#: The servers send a byte this often: each socket read succeeds in time.
INTERVAL = 0.1

Answer = Callable[["Trickler", ssl.SSLSocket], None]


@dataclass
class Trickler:
    """An HTTPS server on 127.0.0.1 that answers every request with
    ``answer`` (in a thread per connection), until stopped."""

    directory: Path
    answer: Answer
    stopping: threading.Event = field(default_factory=threading.Event)
    connections: int = 0

    def __post_init__(self) -> None:
        ca = trustme.CA()
        self.ca_path = self.directory / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.context)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.listener.getsockname()[1]}/api/v4/tasks"

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                raw, _addr = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._handle, args=(raw,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _handle(self, raw: socket.socket) -> None:
        with contextlib.suppress(OSError), raw:
            raw.settimeout(5)
            with self.context.wrap_socket(raw, server_side=True) as conn:
                if read_request(conn):
                    self.answer(self, conn)

    def trickle(self, conn: ssl.SSLSocket, data: bytes) -> None:
        """One byte per INTERVAL until the client goes away (or we stop)."""
        for index in range(len(data)):
            if self.stopping.wait(INTERVAL):
                return
            conn.sendall(data[index : index + 1])

    @contextlib.contextmanager
    def running(self) -> Iterator[Trickler]:
        server = threading.Thread(target=self.serve, daemon=True)
        server.start()
        try:
            yield self
        finally:
            self.stopping.set()
            server.join(timeout=10)
            self.listener.close()
            for thread in self.threads:
                thread.join(timeout=10)


def read_request(conn: ssl.SSLSocket) -> bool:
    """Read one request, body included (unread bytes would make closing the
    connection a reset); False when the client went away first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > 65536:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < min(length, 65536):
        chunk = conn.recv(4096)
        if not chunk:
            return False
        body += chunk
    return True


def trickled_body(server: Trickler, conn: ssl.SSLSocket) -> None:
    body = b"[" + b" " * 100_000 + b"]"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body))
    server.trickle(conn, body)


def trickled_headers(server: Trickler, conn: ssl.SSLSocket) -> None:
    server.trickle(conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 60_000)


def retry_after_an_hour(server: Trickler, conn: ssl.SSLSocket) -> None:
    body = b'{"err": "busy"}'
    conn.sendall(
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


def prompt(server: Trickler, conn: ssl.SSLSocket) -> None:
    """Two answers at once on one kept-alive connection."""
    for _answer in range(2):
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"
        )
        if not read_request(conn):
            return


def session_for(*, retries: int = 3) -> CliSession:
    """The session vrgtask gives the SDK for a real server."""
    settings = Settings(host="127.0.0.1", timeout=TIMEOUT, retry_total=retries)
    settings.retry_backoff = 0.05
    return make_session(settings)


def in_worker(call: Callable[[], Any]) -> tuple[bool, BaseException | None, Any]:
    """Run ``call`` in a thread that is not the main one; wait at most JOIN.

    Returns (finished, the exception it raised, what it returned).
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="vrgtask-test-worker", daemon=True)
    worker.start()
    worker.join(timeout=JOIN)
    return not worker.is_alive(), outcome.get("error"), outcome.get("value")


@pytest.mark.parametrize(
    ("answer", "method"),
    [
        (trickled_body, "GET"),
        (trickled_headers, "GET"),
        (trickled_body, "POST"),
        (retry_after_an_hour, "GET"),
    ],
    ids=["trickled-body", "trickled-headers", "trickled-write-answer", "retry-after-an-hour"],
)
def test_a_request_in_a_worker_thread_ends_at_its_deadline(
    tmp_path: Path, answer: Answer, method: str
) -> None:
    with Trickler(tmp_path, answer).running() as server:
        session = session_for()
        try:
            body: dict[str, Any] | None = {} if method == "POST" else None
            finished, error, _value = in_worker(
                lambda: session.request(method, server.url, verify=str(server.ca_path), json=body)
            )
        finally:
            server.stopping.set()
            session.close()
    assert finished, "the request outlived its --timeout in a worker thread"
    assert isinstance(error, RequestTimeoutError), repr(error)
    assert "timed out" in str(error)
    assert "--timeout (1 s, retries included)" in str(error)
    assert server.connections == 1  # a request that timed out is not sent again


def test_a_finished_request_leaves_no_thread_and_keeps_its_connection(tmp_path: Path) -> None:
    before = {t.ident for t in threading.enumerate()}
    with Trickler(tmp_path, prompt).running() as server:
        session = session_for()

        def twice() -> list[Any]:
            ca = str(server.ca_path)
            return [session.get(server.url, verify=ca).json() for _ in range(2)]

        try:
            finished, error, value = in_worker(twice)
        finally:
            session.close()
    assert finished
    assert error is None, repr(error)
    assert value == [[], []]
    assert server.connections == 1  # the second request reused the connection
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []


def test_a_back_off_sleep_in_a_worker_thread_ends_at_the_deadline() -> None:
    def sleep_an_hour() -> None:
        with _deadline(0.3, "the request timed out: --timeout"):
            _pause(3600)

    finished, error, _value = in_worker(sleep_an_hour)
    assert finished
    assert isinstance(error, RequestTimeoutError)


def test_a_pause_shorter_than_the_deadline_is_kept_whole() -> None:
    def short() -> str:
        with _deadline(30, "the request timed out"):
            _pause(0.05)
        return "slept"

    assert in_worker(short) == (True, None, "slept")


def test_a_transport_error_after_the_deadline_is_the_timeout() -> None:
    """A read that timed out because what was left of the deadline ran out
    is reported as the request's timeout, not as a read timeout."""

    def late() -> None:
        with _deadline(0.05, "the request timed out: --timeout"):
            _pause(0.04)
            threading.Event().wait(0.05)
            raise requests.exceptions.ReadTimeout("read timed out")

    finished, error, _value = in_worker(late)
    assert finished
    assert isinstance(error, RequestTimeoutError)
    assert isinstance(error.__cause__, requests.exceptions.ReadTimeout)


def test_errors_before_the_deadline_pass_through_unchanged() -> None:
    def refused() -> None:
        with _deadline(30, "the request timed out"):
            raise requests.exceptions.ConnectionError("refused")

    finished, error, _value = in_worker(refused)
    assert finished
    assert isinstance(error, requests.exceptions.ConnectionError)


def test_the_deadline_is_cleared_when_the_request_ends() -> None:
    def after() -> None:
        with _deadline(0.05, "the request timed out"):
            pass
        threading.Event().wait(0.1)
        _pause(0.01)  # no deadline any more: sleeps, does not raise

    assert in_worker(after) == (True, None, None)


def test_a_socket_waits_at_most_what_is_left_then_gets_its_own_timeout_back() -> None:
    context = ssl.create_default_context()
    with socket.socket() as raw:
        sock = context.wrap_socket(raw, server_hostname="x", do_handshake_on_connect=False)
        with sock:
            _bind(sock, 5)
            assert isinstance(sock, _BoundedSSLSocket)

            def timeouts() -> list[float | None]:
                seen = []
                for bound in (30.0, 0.5):
                    with _deadline(bound, "the request timed out"):
                        sock._tighten()
                        seen.append(sock.gettimeout())
                sock._tighten()
                seen.append(sock.gettimeout())
                return seen

            finished, error, value = in_worker(timeouts)
    assert finished
    assert error is None
    first, second, after = value
    assert first == 5.0
    assert second is not None
    assert 0 < second <= 0.5
    assert after == 5.0
