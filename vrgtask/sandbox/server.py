"""The sandbox over real HTTPS, on 127.0.0.1 only.

::

    server = SandboxServer(Emulator(MemoryStore())).start()
    os.environ["REQUESTS_CA_BUNDLE"] = str(server.ca_pem_path)
    client = VergeClient(host=server.host, username="admin", password="sandbox")
    ...
    server.stop()

Without a certificate of its own, the server makes a throw-away CA and a leaf
certificate for ``127.0.0.1`` and ``localhost`` at start-up (this needs the
optional ``trustme`` package) and writes the CA to ``ca_pem_path``.

HTTP/1.1 with keep-alive; one thread per connection; requests to the emulator
are serialised by a lock. Every ``/api/...`` request (and any other path that
is not a control endpoint) is recorded in :attr:`SandboxServer.log` and may
be disturbed by :attr:`SandboxServer.faults` (see :mod:`vrgtask.sandbox.faults`).

Control endpoints (no authentication, never logged)::

    GET    /_sandbox/log       the request log: a JSON list of entries
    DELETE /_sandbox/log       clear it
    GET    /_sandbox/faults    the active fault rules
    POST   /_sandbox/faults    add a rule (JSON object) or several (JSON list)
    DELETE /_sandbox/faults    remove every rule
    GET    /_sandbox/digest    {"digest": SHA-256 of the canonical JSON of the state}
    GET    /_sandbox/state     the whole state (hidden columns included)
    POST   /_sandbox/reset     reseed; optional body {"tasks": N} adds N bulk tasks
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseServer, TCPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit

from vrgtask.sandbox.emulator import Emulator, Reply, error_reply, json_reply
from vrgtask.sandbox.errors import SandboxError
from vrgtask.sandbox.faults import FaultSet, parse_rule
from vrgtask.sandbox.log import RequestLog

__all__ = ["CONTROL_PREFIX", "LISTEN_ADDRESS", "SandboxServer"]

LISTEN_ADDRESS = "127.0.0.1"
CONTROL_PREFIX = "/_sandbox"
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 60.0
MAX_RESET_TASKS = 1_000_000

_INSTALL_HINT = (
    "the HTTPS sandbox needs the 'trustme' package to make its certificate; "
    "install the sandbox extra: `pipx inject vrgtask trustme` or "
    "`pip install 'vrgtask[sandbox]'` (or pass a certificate and key of your own)"
)


class _HTTPSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: SandboxServer, port: int, context: ssl.SSLContext) -> None:
        self.owner = owner
        self.context = context
        super().__init__((LISTEN_ADDRESS, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn), which can be slow.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # Headers and body go out as separate writes: without this, Nagle's
        # algorithm and the client's delayed ACK add ~40 ms to every answer.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The TLS handshake happens in the connection's own thread (finish_request),
        # so a client that never completes it cannot stall the accept loop.
        tls = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return tls, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(HANDSHAKE_TIMEOUT)
            request.do_handshake()
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients going away (timeouts, dropped connections, TLS refusals) are
        # routine for a test server; anything else is a bug worth printing.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vrgtask-sandbox"
    sys_version = ""
    timeout = IDLE_TIMEOUT

    def __init__(self, request: Any, client_address: Any, server: BaseServer) -> None:
        self.owner = cast(_HTTPSServer, server).owner
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        super().setup()
        self.owner._track(self.connection, add=True)

    def finish(self) -> None:
        self.owner._track(self.connection, add=False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # ------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        # send_response_only: the emulator's Date header (its clock) is the one sent.
        self.log_request(status)
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        headers = headers or {"Content-Type": "application/json"}
        if not any(name.lower() == "date" for name in headers):
            self.send_header("Date", self.date_time_string())
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _dispatch(self) -> None:
        started = time.perf_counter()
        method = self.command.upper()
        split = urlsplit(self.path)
        path, query = split.path, split.query
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(400, json.dumps({"err": "Malformed request body"}).encode())
            return
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            reply = self.owner._control(method, path[len(CONTROL_PREFIX) :].strip("/"), body)
            self._send(reply.status, reply.body, reply.headers)
            return
        with self.owner._in_flight():
            self._answer(method, path, query, body, started)

    def _answer(self, method: str, path: str, query: str, body: bytes, started: float) -> None:
        rule = self.owner.faults.match(method, path, query)
        if rule is not None and rule.delay:
            time.sleep(rule.delay)
        if rule is not None and rule.drop:
            # No answer at all: the client sees the connection close.
            self._log(method, path, query, 0, 0, started)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if rule is not None and rule.short_circuits:
            status, payload = rule.response()
            reply = Reply(status, payload)
        else:
            reply = self.owner._call_emulator(method, path, query, dict(self.headers), body)
        # Logged before answering: a client that has its answer finds it in the log.
        self._log(method, path, query, reply.status, len(reply.body), started)
        self._send(reply.status, reply.body, reply.headers)

    def _log(
        self, method: str, path: str, query: str, status: int, size: int, started: float
    ) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        self.owner.log.record(method, path, query, status, size, elapsed)


class SandboxServer:
    """The emulator behind HTTPS on 127.0.0.1.

    Args:
        emulator: Answers the API requests.
        port: TCP port; 0 picks a free one (see :attr:`port` after start).
        certfile: PEM certificate (chain) to serve; default: make one with trustme.
        keyfile: Its private key, when not in ``certfile``.
        ca_dir: Where to write the generated CA (``sandbox-ca.pem``); default a
            temporary directory removed by :meth:`stop`.
    """

    def __init__(
        self,
        emulator: Emulator,
        *,
        port: int = 0,
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
        ca_dir: str | Path | None = None,
    ) -> None:
        self.emulator = emulator
        self.log = RequestLog()
        self.faults = FaultSet()
        self.ca_pem_path: Path | None = None
        self._requested_port = port
        self._certfile = certfile
        self._keyfile = keyfile
        self._ca_dir = Path(ca_dir) if ca_dir is not None else None
        self._temp_dir: Path | None = None
        self._httpd: _HTTPSServer | None = None
        self._thread: threading.Thread | None = None
        self._emulator_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._idle = threading.Condition()
        self._active = 0

    # ------------------------------------------------------------------
    # Life cycle

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self._certfile is not None:
            context.load_cert_chain(self._certfile, self._keyfile)
            return context
        try:
            import trustme
        except ImportError:
            raise SandboxError(_INSTALL_HINT) from None
        ca = trustme.CA()
        ca.issue_cert(LISTEN_ADDRESS, "localhost").configure_cert(context)
        directory = self._ca_dir
        if directory is None:
            directory = self._temp_dir = Path(tempfile.mkdtemp(prefix="vrgtask-sandbox-"))
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "sandbox-ca.pem"
        ca.cert_pem.write_to_path(str(path))
        self.ca_pem_path = path
        return context

    def start(self) -> SandboxServer:
        """Listen and serve in a background thread; returns once the socket listens."""
        if self._httpd is not None:
            return self
        context = self._context()
        try:
            httpd = _HTTPSServer(self, self._requested_port, context)
        except BaseException:
            self._remove_temp_dir()
            raise
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"vrgtask-sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection, remove the temporary CA."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            with self._connections_lock:
                connections = list(self._connections)
            for connection in connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._remove_temp_dir()

    def _remove_temp_dir(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
            self.ca_pem_path = None

    def serve_forever(self) -> None:
        """Serve in the foreground until Ctrl-C (then stop cleanly and return)."""
        self.start()
        thread = self._thread
        try:
            while thread is not None and thread.is_alive():
                thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise SandboxError("the sandbox server is not running")
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, what pyvergeos takes as ``host``."""
        return f"{LISTEN_ADDRESS}:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    # ------------------------------------------------------------------
    # Used by the request handler

    @contextlib.contextmanager
    def _in_flight(self) -> Iterator[None]:
        with self._idle:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no API request is being answered (a delayed one, say).

        Returns False if requests are still in flight after ``timeout`` seconds.
        """
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _call_emulator(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        with self._emulator_lock:
            try:
                return self.emulator.handle(method, path, query, headers, body)
            except Exception as exc:  # a broken state file, or a bug: answer, do not hang
                return error_reply(500, f"sandbox failure: {exc}")

    def _control(self, method: str, route: str, body: bytes) -> Reply:
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            return error_reply(400, "Invalid JSON in the request body")
        try:
            return self._control_route(method, route, payload)
        except ValueError as exc:
            return error_reply(400, str(exc))

    def _control_route(self, method: str, route: str, payload: Any) -> Reply:
        if route == "log" and method in ("GET", "DELETE"):
            if method == "DELETE":
                self.log.clear()
                return json_reply(200, {})
            return json_reply(200, self.log.entries())
        if route == "faults" and method in ("GET", "POST", "DELETE"):
            if method == "DELETE":
                self.faults.clear()
            elif method == "POST":
                rules = payload if isinstance(payload, list) else [payload]
                for rule in [parse_rule(raw) for raw in rules]:  # all valid, or none added
                    self.faults.add(rule)
            return json_reply(200, self.faults.rules())
        if route == "digest" and method == "GET":
            with self._emulator_lock:
                return json_reply(200, {"digest": self.emulator.digest()})
        if route == "state" and method == "GET":
            with self._emulator_lock:
                return Reply(200, self.emulator.export_state())
        if route == "reset" and method == "POST":
            tasks = (payload or {}).get("tasks", 0) if isinstance(payload, dict | None) else None
            if not isinstance(tasks, int) or isinstance(tasks, bool):
                raise ValueError('reset takes {"tasks": N} with N an integer >= 0')
            if not 0 <= tasks <= MAX_RESET_TASKS:
                raise ValueError(f"tasks must be between 0 and {MAX_RESET_TASKS}")
            with self._emulator_lock:
                self.emulator.reset(tasks)
                return json_reply(200, {"digest": self.emulator.digest()})
        return error_reply(404, f"Unknown control endpoint: {method} {CONTROL_PREFIX}/{route}")
