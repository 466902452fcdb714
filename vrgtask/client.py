"""Build the pyvergeos client: our own requests session, then VergeClient.

Imported only when a command first needs the server, so ``vrgtask --help``
never loads pyvergeos or requests.

Why vrgtask hands the SDK a session of its own (``VergeClient(session=...)``):

* TLS: requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override a
  session's ``verify=False`` for every request that does not pass ``verify``
  itself, which is every request the SDK makes. With either variable set,
  ``--insecure`` would silently stop working. :class:`CliSession` keeps the
  session's ``verify=False`` when the user asked for it.
* Retries: the SDK's own adapter retries 429/500/502/503/504 for GET, PUT,
  POST and DELETE alike, so a write that failed on the server could be sent
  again (and a task run twice). vrgtask retries those statuses for GET only;
  writes are sent once. Connection attempts that never reached the server are
  retried for every method (nothing was sent). ``VERGE_RETRY_TOTAL`` and
  ``VERGE_RETRY_BACKOFF`` tune it.
* Whole-request timeout: requests' ``timeout`` bounds each socket operation,
  so a server trickling a byte a second would keep vrgtask waiting forever.
  :class:`CliSession` bounds each request as a whole -- connecting, sending,
  the answer's headers and body, retries and their back-off -- by
  ``--timeout`` (exit 9), in any thread: a timer signal on the main thread,
  and in the worker threads of a fleet a deadline that every socket
  operation and back-off sleep of the request is held to (:func:`_deadline`).
* Broken reads: a connection that breaks while the answer's body is read is
  retried for GET, like a failure before the answer (urllib3 does not see the
  body being read).
* Redirects to another origin (scheme, host or port) are refused, never
  followed: a redirect must not move the request (and a POST turned into a
  GET) to another server.
* Answers that cannot be an API's (a non-object in a list, a ``$key`` that is
  not a number) are refused as "the server's response is not valid" (exit 1).
* The ``-vv`` request log, with the Authorization header redacted.
* The embedded sandbox: an adapter that answers in-process.
"""

from __future__ import annotations

import contextlib
import re
import signal
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager
from urllib3.util.retry import Retry

from vrgtask import sdk
from vrgtask.config import Settings
from vrgtask.errors import ConfigError, ExitCode, InvalidResponseError, VrgtaskError
from vrgtask.text import redact_headers

if TYPE_CHECKING:
    from pyvergeos import VergeClient
    from requests.models import PreparedRequest
    from requests.sessions import _Settings

__all__ = [
    "RETRY_STATUSES",
    "BoundedAdapter",
    "CliSession",
    "RequestTimeoutError",
    "check_answer",
    "connect",
    "make_session",
]

RETRY_STATUSES = (429, 500, 502, 503, 504)
#: Back-off of the broken-read retries never exceeds this (seconds).
_BACKOFF_MAX = 60.0
#: ``/api/v4/<table>`` (a collection) or ``/api/v4/<table>/<key>`` (one row).
_API_PATH = re.compile(r"/api/v4/[A-Za-z0-9_]+(/[0-9]+)?/?")


class RequestTimeoutError(VrgtaskError, exit_code=ExitCode.TIMEOUT):
    """A request as a whole took longer than ``--timeout``.

    Deliberately not an ``OSError``: raised from the timer while urllib3 or
    requests is blocked, it must pass through their handlers (which would
    retry an ``OSError``) and end the request.
    """


class RedirectRefusedError(VrgtaskError, exit_code=ExitCode.CONNECTION):
    """The server redirected the request to another origin."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    default = {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port if port is not None else default


#: The deadline of the request this thread is sending where no signal can
#: interrupt it: ``bound`` is (monotonic time, message) or absent.
_LOCAL = threading.local()


def _remaining() -> float | None:
    """Seconds left of the deadline of this thread's request (None: none).

    Raises :class:`RequestTimeoutError` once the deadline has passed.
    """
    bound: tuple[float, str] | None = getattr(_LOCAL, "bound", None)
    if bound is None:
        return None
    deadline, message = bound
    left = deadline - time.monotonic()
    if left <= 0:
        raise RequestTimeoutError(message)
    return left


def _pause(seconds: float) -> None:
    """``time.sleep(seconds)``, but never past this thread's request
    deadline: when that comes first, :class:`RequestTimeoutError`."""
    end = time.monotonic() + seconds
    while True:
        wanted = end - time.monotonic()
        if wanted <= 0:
            return
        left = _remaining()
        time.sleep(wanted if left is None else min(wanted, left))


@contextlib.contextmanager
def _deadline(seconds: float, message: str) -> Iterator[None]:
    """Raise :class:`RequestTimeoutError` in this thread after ``seconds``.

    On the main thread (where there is ``setitimer``) a real-time timer
    interrupts whatever blocks: a socket read that keeps receiving one byte
    at a time, a back-off sleep.

    Signals reach only the main thread, so elsewhere (the worker threads of a
    fleet) the deadline is kept in a thread-local that the request's own
    operations consult: every socket operation of the connections made by
    :class:`BoundedAdapter` waits at most the time left (a trickling server
    cannot stretch the request by answering each read in time), back-off
    sleeps end at the deadline, and a transport error raised after the
    deadline is reported as the timeout it is. No thread is started.
    """
    if seconds <= 0:
        yield
        return
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():

        def expire(_signum: int, _frame: Any) -> None:
            raise RequestTimeoutError(message)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return

    outer = getattr(_LOCAL, "bound", None)
    deadline = time.monotonic() + seconds
    if outer is not None:
        deadline = min(deadline, outer[0])
    _LOCAL.bound = (deadline, message)
    try:
        yield
    except OSError as exc:  # requests' exceptions are OSErrors too
        if time.monotonic() >= deadline:
            raise RequestTimeoutError(message) from exc
        raise
    finally:
        _LOCAL.bound = outer


def _clamp(timeout: Any, left: float) -> float:
    """A socket timeout no longer than ``left`` (``timeout`` may be None or
    urllib3's "default" marker: no bound of its own)."""
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        return min(float(timeout), left)
    return left


class _BoundedSSLSocket(ssl.SSLSocket):
    """A TLS socket whose every send and receive waits at most what is left
    of this thread's request deadline (see :func:`_deadline`); without one,
    the timeout urllib3 set. Sockets become one in :class:`_BoundedConnection`.
    """

    _vrgtask_timeout: float | None

    def settimeout(self, value: float | None) -> None:
        self._vrgtask_timeout = value
        super().settimeout(value)

    def _tighten(self) -> None:
        wanted = self._vrgtask_timeout
        left = _remaining()
        if left is not None:
            wanted = _clamp(wanted, left)
        if self.gettimeout() != wanted:
            super().settimeout(wanted)

    def recv(self, *args: Any, **kwargs: Any) -> bytes:
        self._tighten()
        return super().recv(*args, **kwargs)

    def recv_into(self, *args: Any, **kwargs: Any) -> int:
        self._tighten()
        return super().recv_into(*args, **kwargs)

    def send(self, *args: Any, **kwargs: Any) -> int:
        self._tighten()
        return super().send(*args, **kwargs)

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        self._tighten()
        super().sendall(*args, **kwargs)


def _bind(sock: Any, timeout: Any) -> None:
    """Make a freshly connected TLS socket a :class:`_BoundedSSLSocket`
    (the same layout: only its methods change), whose own timeout is
    ``timeout`` (a number, or none); anything else is left alone."""
    if type(sock) is not ssl.SSLSocket:
        return
    sock.__class__ = _BoundedSSLSocket
    number = isinstance(timeout, int | float) and not isinstance(timeout, bool)
    cast(_BoundedSSLSocket, sock)._vrgtask_timeout = float(timeout) if number else None


class _BoundedConnection(HTTPSConnection):
    """An HTTPS connection held to the deadline of this thread's request:
    the TCP connection and the TLS handshake wait at most the time left, and
    its socket is a :class:`_BoundedSSLSocket`."""

    def _new_conn(self) -> Any:
        left = _remaining()
        if left is None:
            return super()._new_conn()
        requested = self.timeout
        self.timeout = _clamp(requested, left)
        try:
            sock = super()._new_conn()
        finally:
            self.timeout = requested
        try:
            left = _remaining()  # what the TCP connection left to the TLS handshake
            if left is not None:
                sock.settimeout(_clamp(requested, left))
        except BaseException:
            sock.close()
            raise
        return sock

    def connect(self) -> None:
        requested = self.timeout
        super().connect()
        _bind(self.sock, requested)


class _BoundedPool(HTTPSConnectionPool):
    ConnectionCls = _BoundedConnection


def _bound_pools(manager: PoolManager) -> PoolManager:
    manager.pool_classes_by_scheme = {"http": HTTPConnectionPool, "https": _BoundedPool}
    return manager


class _BoundedRetry(Retry):
    """urllib3's retries, whose back-off and ``Retry-After`` waits end at
    the request's deadline (:func:`_pause`)."""

    def sleep(self, response: Any = None) -> None:
        wait = 0.0
        if self.respect_retry_after_header and response:
            wait = self.get_retry_after(response) or 0.0
        if not wait:
            wait = self.get_backoff_time()
        if wait > 0:
            _pause(wait)


#: Tables whose keys are text, not numbers (vergeos-api.md: volumes by SHA-1,
#: recipes by name); every other ``$key`` is a number, possibly sent as text.
TEXT_KEY_TABLES = frozenset({"volumes", "vm_recipes", "tenant_recipes"})


def _valid_key(value: Any, table: str) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    if not isinstance(value, str):
        return False
    if table in TEXT_KEY_TABLES:
        return value.isprintable() and 0 < len(value) <= 256
    return value.isascii() and value.isdigit()


def _projects_key(query: str) -> bool:
    """Whether a read with this query string must answer rows with ``$key``:
    no ``fields`` (the default projection has it), or ``fields`` naming it."""
    from urllib.parse import parse_qs

    fields = parse_qs(query).get("fields")
    if not fields:
        return True
    names = {part.strip().split(" ")[0] for part in fields[-1].split(",")}
    return bool(names & {"$key", "all", "most", "summary"})


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_answer(method: str, path: str, parsed: Any, query: str = "") -> None:
    """Refuse a parsed 2xx answer that no VergeOS API gives.

    A collection read must answer a list of objects, each carrying ``$key``
    when the read asked for it (see :func:`_projects_key`); any ``$key`` must
    be a number (text in :data:`TEXT_KEY_TABLES`). Raises :class:`InvalidResponseError`.
    """
    match = _API_PATH.fullmatch(path) if method == "GET" else None
    collection = match is not None and match.group(1) is None
    keyed = collection and _projects_key(query)
    table = path.removeprefix("/api/v4/").split("/")[0]
    if isinstance(parsed, list):
        for index, item in enumerate(parsed):
            if not isinstance(item, dict):
                if not collection:
                    continue
                raise InvalidResponseError(
                    f"item {index} of the list is {type(item).__name__} "
                    f"{_describe(item)}, not an object"
                )
            if keyed and "$key" not in item:
                raise InvalidResponseError(f"item {index} of the list has no $key")
            if "$key" in item and not _valid_key(item["$key"], table):
                raise InvalidResponseError(
                    f"item {index} of the list has $key {_describe(item['$key'])}, not a number"
                )
    elif isinstance(parsed, dict):
        if "$key" in parsed and not _valid_key(parsed["$key"], table):
            raise InvalidResponseError(f"$key is {_describe(parsed['$key'])}, not a number")
    elif collection:
        raise InvalidResponseError(f"a list was expected, not {type(parsed).__name__}")


_TOO_DEEP = object()


def _install_json(response: requests.Response, value: Any) -> None:
    """Make ``response.json()`` return ``value`` (parsed once, checked)."""

    def parsed(**_kwargs: Any) -> Any:
        return value

    setattr(response, "json", parsed)  # noqa: B010  # an instance attribute over the method


class CliSession(requests.Session):
    """A session whose ``verify=False`` survives the CA-bundle variables,
    that bounds each request as a whole, retries broken reads of GET
    answers, refuses cross-origin redirects and checks the answers.
    """

    #: Seconds one request may take in all (``--timeout``); 0: no bound.
    total_timeout: float = 0.0
    #: Retries of a GET whose answer broke while its body was read.
    read_retries: int = 0
    backoff: float = 0.0

    @property
    def _sending(self) -> bool:
        """Whether this thread is inside :meth:`send` (a redirect's follow-up
        is sent from there). Per thread: a command may send reads at once
        (vrgtask.together), each one bounded and checked on its own."""
        return bool(getattr(self._threads(), "sending", False))

    @_sending.setter
    def _sending(self, value: bool) -> None:
        self._threads().sending = value

    def _threads(self) -> threading.local:
        local: threading.local = self.__dict__.setdefault("_per_thread", threading.local())
        return local

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self._sending:  # the follow-up of a redirect: already bounded
            return super().send(request, **kwargs)
        self._sending = True
        try:
            message = (
                f"the request timed out: no complete answer within --timeout "
                f"({self.total_timeout:g} s, retries included)"
            )
            with _deadline(self.total_timeout, message):
                response = self._send_retrying(request, **kwargs)
                if not kwargs.get("stream"):
                    self._check(request, response)
            return response
        finally:
            self._sending = False

    def _send_retrying(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        attempt = 0
        while True:
            try:
                return super().send(request, **kwargs)
            except requests.exceptions.ChunkedEncodingError as exc:
                if request.method != "GET" or attempt >= self.read_retries:
                    cause = exc.args[0] if exc.args else exc
                    while isinstance(cause, BaseException) and cause.args:
                        if not isinstance(cause.args[-1], BaseException):
                            break
                        cause = cause.args[-1]
                    reason = type(cause).__name__ if isinstance(cause, BaseException) else cause
                    raise requests.exceptions.ConnectionError(
                        f"the connection broke while the answer was read ({reason})",
                        request=request,
                    ) from exc
                attempt += 1
                _pause(min(self.backoff * 2 ** (attempt - 1), _BACKOFF_MAX))

    def _check(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        if not response.content:
            return
        try:
            value = response.json()
        except RecursionError:
            value = _TOO_DEEP
        except ValueError:
            return  # not JSON at all: pyvergeos reports that itself
        if not 200 <= response.status_code < 300:
            # An error answer: pyvergeos takes its message from the JSON.
            if value is _TOO_DEEP:
                _install_json(
                    response, "the server's error answer is not valid (nested too deeply)"
                )
            return
        if value is _TOO_DEEP:
            raise InvalidResponseError("a value is nested too deeply")
        url = urlsplit(str(request.url))
        check_answer(str(request.method), url.path, value, url.query)
        _install_json(response, value)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is not None:
            where = urljoin(str(resp.url), target)
            if _origin(where) != _origin(str(resp.url)):
                scheme, host, port = _origin(where)
                raise RedirectRefusedError(
                    f"the server redirected the request to another origin "
                    f"({scheme}://{host}:{port}); vrgtask does not follow redirects away from "
                    "the host it was given: point --host at the API's own address"
                )
        return target

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: Any,
        stream: Any,
        verify: Any,
        cert: Any,
    ) -> _Settings:
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.verify is False and verify is None:
            merged["verify"] = False
        return merged


class BoundedAdapter(HTTPAdapter):
    """The HTTPS adapter of every real server: its connections keep the
    deadline of the request in any thread (see :func:`_deadline`)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _bound_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        fresh = proxy not in self.proxy_manager
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if fresh:
            _bound_pools(manager)
        return manager


class UnverifiedAdapter(BoundedAdapter):
    """For ``--insecure``: connections get a TLS context that verifies nothing.

    Without a context of its own, urllib3 loads the system CA store into a
    new one for every connection even when verification is off (~40 ms).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        import ssl

        from urllib3.util.ssl_ import create_urllib3_context

        kwargs["ssl_context"] = create_urllib3_context(cert_reqs=ssl.CERT_NONE)
        super().init_poolmanager(*args, **kwargs)


class _LoggingAdapter(BaseAdapter):
    """The ``-vv`` request log: one line when a request leaves, one when its
    answer (or its failure) comes back; ``-vvv`` adds the request headers,
    credentials redacted. Wraps the adapter that really sends.
    """

    def __init__(self, inner: BaseAdapter, write: Callable[[str], None], verbosity: int) -> None:
        super().__init__()
        self.inner = inner
        self.write = write
        self.verbosity = verbosity

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.write(f"> {request.method} {request.url}")
        if self.verbosity >= 3:
            for name, value in redact_headers(request.headers).items():
                self.write(f">   {name}: {value}")
        started = time.monotonic()
        try:
            response = self.inner.send(request, *args, **kwargs)
        except Exception as exc:
            ms = (time.monotonic() - started) * 1000
            self.write(f"< failed: {type(exc).__name__} ({ms:.0f} ms)")
            raise
        ms = (time.monotonic() - started) * 1000
        self.write(
            f"< {response.status_code} {response.reason or ''} "
            f"({len(response.content)} bytes, {ms:.0f} ms)"
        )
        return response

    def close(self) -> None:
        self.inner.close()


def make_session(
    settings: Settings,
    *,
    verbosity: int = 0,
    write: Callable[[str], None] | None = None,
) -> CliSession:
    """The session vrgtask gives the SDK (see the module docstring)."""
    session = CliSession()
    session.verify = settings.verify_ssl
    if not settings.sandbox:
        session.total_timeout = settings.timeout
        session.read_retries = settings.retry_total
        session.backoff = settings.retry_backoff
    if not settings.verify_ssl:
        # The user turned verification off on purpose (--insecure); urllib3
        # would otherwise warn on every request, as the SDK also avoids.
        import warnings

        from urllib3.exceptions import InsecureRequestWarning

        warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    if settings.sandbox:
        from vrgtask.sandbox import Emulator, FileStore, default_state_path
        from vrgtask.sandbox.transport import SandboxAdapter

        state = settings.sandbox_state or default_state_path()
        session.mount("https://", SandboxAdapter(Emulator(FileStore(state))))
    else:
        retry = _BoundedRetry(
            total=settings.retry_total,
            connect=settings.retry_total,
            read=settings.retry_total,
            status=settings.retry_total,
            other=0,
            backoff_factor=settings.retry_backoff,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        adapter = BoundedAdapter if settings.verify_ssl else UnverifiedAdapter
        session.mount("https://", adapter(max_retries=retry, pool_maxsize=4))
    if verbosity >= 2:
        emit = write or (lambda line: print(line, file=sys.stderr))
        session.mount("https://", _LoggingAdapter(session.get_adapter("https://"), emit, verbosity))
    return session


def connect(
    settings: Settings,
    *,
    verbosity: int = 0,
    prompt_password: Callable[[str], str] | None = None,
    write: Callable[[str], None] | None = None,
) -> VergeClient:
    """Connect to the configured server (or the sandbox) and return the client.

    The SDK checks the connection with one ``GET /system`` before returning.
    """
    if settings.host is None:
        raise ConfigError(
            "no VergeOS host configured: pass --host, set VERGE_HOST, add a [default] "
            "section to the config file, or try the embedded sandbox with --sandbox"
        )
    token, username, password = settings.token, settings.username, settings.password
    if settings.sandbox and not token and not username:
        from vrgtask.sandbox import SANDBOX_PASSWORD, SANDBOX_USERNAME

        username, password = SANDBOX_USERNAME, SANDBOX_PASSWORD
    if not token:
        if not username:
            raise ConfigError(
                f"no credentials for {settings.host}: pass --token or --username "
                "(or set VERGE_TOKEN, or VERGE_USERNAME and VERGE_PASSWORD)"
            )
        if not password:
            if prompt_password is None:
                raise ConfigError(
                    f"no password for {username}: set VERGE_PASSWORD, or run in a terminal "
                    "to be asked for it"
                )
            password = prompt_password(f"Password for {username}@{settings.host}")
            settings.password = password

    sdk.load()
    from pyvergeos.client import VergeClient

    session = make_session(settings, verbosity=verbosity, write=write)
    started = time.monotonic()
    client = VergeClient(
        host=settings.host,
        username=None if token else username,
        password=None if token else password,
        token=token or None,
        timeout=settings.timeout,  # type: ignore[arg-type]  # float seconds work
        session=session,
    )
    if verbosity >= 2 and write is not None:
        write(f"connected to {settings.host} in {(time.monotonic() - started) * 1000:.0f} ms")
    return client
