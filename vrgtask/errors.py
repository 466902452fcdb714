"""Exit codes and the translation of every failure into one line on stderr.

The numbers are the ones the ``vrg`` CLI uses, so scripts written for it keep
working. Nothing here imports pyvergeos or requests at module level: the
classifier only imports them when it is handed an exception that came from
them, which means they are already loaded.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator
from typing import Any

from vrgtask.text import one_line

__all__ = [
    "ConfigError",
    "ConflictError",
    "ExitCode",
    "InterruptedWait",
    "InvalidResponseError",
    "NotFoundError",
    "RunNotStartedError",
    "TaskFailedError",
    "VrgtaskError",
    "WaitTimeoutError",
    "WriteNotAppliedError",
    "classify",
    "one_line",
]


class ExitCode(enum.IntEnum):
    """Documented exit codes (README, docs/architecture.md)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    AUTH = 4
    PERMISSION = 5
    NOT_FOUND = 6
    CONFLICT = 7
    VALIDATION = 8
    TIMEOUT = 9
    CONNECTION = 10
    INTERRUPTED = 130


class VrgtaskError(Exception):
    """An error vrgtask reports itself, with the exit code it implies.

    A subclass names its exit code in its header
    (``class NotFoundError(VrgtaskError, exit_code=ExitCode.NOT_FOUND)``);
    one that names none keeps its parent's.
    """

    exit_code: ExitCode = ExitCode.ERROR

    def __init_subclass__(cls, *, exit_code: ExitCode | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(VrgtaskError, exit_code=ExitCode.CONFIG):
    """No host, unknown profile, unreadable configuration or sandbox state."""


class NotFoundError(VrgtaskError, exit_code=ExitCode.NOT_FOUND):
    """No object with that name or key."""


class ConflictError(VrgtaskError, exit_code=ExitCode.CONFLICT):
    """A name matches several objects, or the server refused with 409."""


class InvalidResponseError(VrgtaskError):
    """The server answered something no VergeOS API answers."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the server's response is not valid: {detail}")


class TaskFailedError(VrgtaskError):
    """A task that was waited for ended in error."""


class RunNotStartedError(VrgtaskError):
    """The server accepted a run, but the task did not start in time."""


class WriteNotAppliedError(VrgtaskError):
    """The server accepted a write but the read-back shows a field unchanged."""


class WaitTimeoutError(VrgtaskError, exit_code=ExitCode.TIMEOUT):
    """``--wait`` ran out of time."""


class InterruptedWait(VrgtaskError, exit_code=ExitCode.INTERRUPTED):
    """Ctrl-C while waiting: the work goes on on the server."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it was raised from, bounded against cycles."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 20:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _from(exc: BaseException, prefixes: tuple[str, ...]) -> bool:
    return any(type(e).__module__.split(".")[0] in prefixes for e in _chain(exc))


def _is_tls_failure(exc: BaseException) -> bool:
    import ssl

    for e in _chain(exc):
        if isinstance(e, ssl.SSLError):
            return True
        name = type(e).__name__
        if name in {"SSLError", "SSLCertVerificationError"}:
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(e):
            return True
    return False


TLS_HINT = (
    "Trust the server's certificate by pointing REQUESTS_CA_BUNDLE at its CA file, "
    "or, knowingly, skip verification with --insecure"
)


def _classify_requests(exc: BaseException) -> tuple[ExitCode, str] | None:
    """Failures raised by requests/urllib3 that the SDK lets through.

    The whole chain is searched for the most telling cause first: requests
    reports a read timeout that exhausted its retries as a ConnectionError
    raised from urllib3's ReadTimeoutError.
    """
    import socket

    import requests
    import urllib3

    chain = list(_chain(exc))

    def find(*kinds: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, kinds)), None)

    if find(requests.exceptions.JSONDecodeError, json.JSONDecodeError):
        return ExitCode.ERROR, "the server's response is not valid JSON"
    # urllib3 2 derives "could not connect" (refused, unknown host) from its
    # timeout class; it is a connection failure, not a timeout.
    refused = find(urllib3.exceptions.NewConnectionError)
    if refused is not None:
        return ExitCode.CONNECTION, f"cannot connect: {_short(refused)}"
    timeout = find(requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, socket.timeout)
    if timeout is not None:
        return ExitCode.TIMEOUT, f"the request timed out ({type(timeout).__name__}); see --timeout"
    tls = find(requests.exceptions.SSLError)
    if tls is not None:
        return ExitCode.CONNECTION, f"TLS verification failed: {tls}. {TLS_HINT}"
    retry = find(requests.exceptions.RetryError)
    if retry is not None:
        return ExitCode.ERROR, f"the server kept failing after retries: {retry}"
    broken = find(requests.exceptions.ConnectionError)
    if broken is not None:
        return ExitCode.CONNECTION, f"connection failed: {_short(broken)}"
    return None


def _short(exc: BaseException) -> str:
    """An urllib3/requests message without the request's (long) URL."""
    return re.sub(r" with url: \S+", "", str(exc))


def prefixed(prefix: str, text: str) -> str:
    """``prefix: text``, unless ``text`` already says it ("not found: Not found: x")."""
    body = text.strip()
    if body.lower().startswith(prefix.lower()):
        return prefix + body[len(prefix) :]
    return f"{prefix}: {body}" if body else prefix


def _classify_sdk(exc: BaseException) -> tuple[ExitCode, str] | None:
    from pyvergeos import exceptions as sdk

    if isinstance(exc, sdk.AuthenticationError):
        if exc.status_code == 403:
            return ExitCode.PERMISSION, prefixed("permission denied", str(exc))
        return ExitCode.AUTH, prefixed("authentication failed", str(exc))
    if isinstance(exc, sdk.NotFoundError):
        return ExitCode.NOT_FOUND, prefixed("not found", str(exc))
    if isinstance(exc, sdk.ConflictError):
        return ExitCode.CONFLICT, prefixed("conflict", str(exc))
    if isinstance(exc, sdk.ValidationError) or (
        isinstance(exc, sdk.APIError) and exc.status_code == 400
    ):
        return ExitCode.VALIDATION, prefixed("the server rejected the request", str(exc))
    if isinstance(exc, sdk.TaskTimeoutError):
        return ExitCode.TIMEOUT, str(exc)
    if isinstance(exc, sdk.TaskError):
        return ExitCode.ERROR, prefixed("task failed", str(exc))
    if isinstance(exc, sdk.VergeTimeoutError):
        return ExitCode.TIMEOUT, f"{_short(exc)} (raise it with --timeout)"
    if isinstance(exc, sdk.VergeConnectionError | sdk.NotConnectedError):
        if _is_tls_failure(exc):
            message = f"TLS certificate verification failed: {_short(exc)}. {TLS_HINT}"
            return ExitCode.CONNECTION, message
        inner = _classify_requests(exc) if _from(exc, ("requests", "urllib3")) else None
        if inner is not None and inner[0] in (ExitCode.TIMEOUT, ExitCode.ERROR):
            return inner
        return ExitCode.CONNECTION, _short(exc)
    if isinstance(exc, sdk.APIError):
        status = f"HTTP {exc.status_code}: " if exc.status_code else ""
        return ExitCode.ERROR, f"the server failed: {status}{exc}"
    if isinstance(exc, sdk.FieldNotProjectedError):
        return ExitCode.ERROR, f"internal error, please report it: {exc}"
    if isinstance(exc, sdk.VergeError):
        return ExitCode.ERROR, str(exc)
    return None


#: Exceptions that reading a malformed answer raises (``int(None)``, a
#: string where an object belongs, a missing ``$key``).
_DATA_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError)
_ROW_BUILDER = re.compile(r"(?:^|_)(?:to_row|rows?)$")


def _reading_an_answer(exc: BaseException) -> bool:
    """True when ``exc`` was raised while an answer was turned into rows.

    That is: inside a method of a pyvergeos model object (the accessors of
    what the server sent), or in a command's row builder (``*_to_row``,
    ``*_rows``). A failure there means the server sent something no VergeOS
    answers; anywhere else it is a bug, reported as unexpected.
    """
    tb = exc.__traceback__
    model: type | None = None
    while tb is not None:
        frame = tb.tb_frame
        module = str(frame.f_globals.get("__name__", ""))
        if module.startswith("vrgtask.commands") and _ROW_BUILDER.search(frame.f_code.co_name):
            return True
        if module.startswith("pyvergeos.resources") and "self" in frame.f_locals:
            if model is None:
                from pyvergeos.resources.base import ResourceObject

                model = ResourceObject
            if isinstance(frame.f_locals["self"], model):
                return True
        tb = tb.tb_next
    return False


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """Exit code and one-line message for any exception a command let escape."""
    for e in _chain(exc):
        if isinstance(e, VrgtaskError):
            return e.exit_code, e.message
        if type(e).__name__ == "SandboxStateError":
            return ExitCode.CONFIG, str(e)
        if type(e).__name__ == "SandboxError":
            return ExitCode.ERROR, str(e)
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, "interrupted"
    if type(exc).__module__.split(".")[0] == "pyvergeos":
        found = _classify_sdk(exc)
        if found is not None:
            return found
    if _from(exc, ("requests", "urllib3")):
        found = _classify_requests(exc)
        if found is not None:
            return found
    if isinstance(exc, json.JSONDecodeError):
        return ExitCode.ERROR, "the server's response is not valid JSON"
    if isinstance(exc, RecursionError):
        return ExitCode.ERROR, "the server's response is not valid: a value is nested too deeply"
    if isinstance(exc, _DATA_ERRORS) and _reading_an_answer(exc):
        detail = str(exc) or type(exc).__name__
        return ExitCode.ERROR, f"the server's response is not valid: {detail}"
    text = str(exc) or type(exc).__name__
    return ExitCode.ERROR, f"unexpected error: {type(exc).__name__}: {text}"
