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
* The ``-vv`` request log, with the Authorization header redacted.
* The embedded sandbox: an adapter that answers in-process.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.util.retry import Retry

from vrgtask.config import Settings
from vrgtask.errors import ConfigError

if TYPE_CHECKING:
    from pyvergeos import VergeClient
    from requests.models import PreparedRequest
    from requests.sessions import _Settings

__all__ = ["RETRY_STATUSES", "CliSession", "connect", "make_session", "redact_headers"]

RETRY_STATUSES = (429, 500, 502, 503, 504)


class CliSession(requests.Session):
    """A session whose ``verify=False`` survives the CA-bundle variables."""

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


class UnverifiedAdapter(HTTPAdapter):
    """For ``--insecure``: connections get a TLS context that verifies nothing.

    Without a context of its own, urllib3 loads the system CA store into a
    new one for every connection even when verification is off (~40 ms).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        import ssl

        from urllib3.util.ssl_ import create_urllib3_context

        kwargs["ssl_context"] = create_urllib3_context(cert_reqs=ssl.CERT_NONE)
        super().init_poolmanager(*args, **kwargs)


def redact_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Headers safe to print: credentials replaced by their scheme only."""
    safe: dict[str, str] = {}
    for name, value in headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if name.lower() in {"authorization", "proxy-authorization", "cookie", "x-api-key"}:
            scheme = text.split(" ", 1)[0] if " " in text else ""
            text = f"{scheme} [redacted]".strip()
        safe[name] = text
    return safe


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
        retry = Retry(
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
        adapter = HTTPAdapter if settings.verify_ssl else UnverifiedAdapter
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

    from pyvergeos import VergeClient

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
