"""``vrgtask doctor``: read-only checks of the configured system.

One row per check, each with a verdict (``pass``, ``warn``, ``fail`` or
``skip``), what was found, and what to do about it. Nothing here writes:
every request is a GET (the action form is found with a schema probe,
``GET /task_actions/$table``, never by sending an action). The output is
meant to be pasted into a bug report, so it never shows a secret: no token,
no password, and every text is passed through the same redaction as errors.

Exit 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from vrgtask.commands._common import examples
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.errors import ExitCode, VrgtaskError, classify
from vrgtask.fanout import fans_out
from vrgtask.formatters import Column
from vrgtask.hints import command_hint

if TYPE_CHECKING:
    from pyvergeos import VergeClient

__all__ = ["DOCTOR_COLUMNS", "READ_TABLES", "doctor"]

VERDICT_STYLES = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "bright_black"}

DOCTOR_COLUMNS = [
    Column("check", "Check"),
    Column("verdict", "Verdict", styles=VERDICT_STYLES),
    Column("detail", "Found"),
    Column("hint", "What to do"),
]

#: Tables vrgtask reads, and what the user loses without each.
READ_TABLES: list[tuple[str, str]] = [
    ("tasks", "task commands"),
    ("task_schedules", "schedule commands"),
    ("task_schedule_triggers", "trigger commands"),
    ("task_events", "event commands"),
    ("task_scripts", "script commands"),
    ("logs", "the result of a run (without the task log, --wait cannot tell failure from success)"),
]

#: Clock differences up to this many seconds pass.
CLOCK_TOLERANCE = 60.0


@dataclass
class Check:
    check: str
    verdict: str
    detail: str
    hint: str = ""

    def row(self) -> dict[str, str]:
        return {
            "check": self.check,
            "verdict": self.verdict,
            "detail": self.detail,
            "hint": self.hint,
        }


def _clock_check(date_header: str | None, local: float) -> Check:
    if not date_header:
        return Check(
            "clock",
            "warn",
            "the server sent no Date header; the difference is unknown",
            "nothing to do for vrgtask (it compares task-log times on the server's clock)",
        )
    from email.utils import parsedate_to_datetime

    try:
        server = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError, IndexError):
        return Check("clock", "warn", f"unreadable Date header {date_header!r}", "")
    diff = server - local
    ahead = "ahead of" if diff > 0 else "behind"
    text = f"server clock {abs(diff):.0f}s {ahead} this machine (HTTP Date: {date_header})"
    if abs(diff) < 2:  # the Date header counts whole seconds
        text = f"server clock agrees with this machine to the second (HTTP Date: {date_header})"
    if abs(diff) <= CLOCK_TOLERANCE:
        return Check("clock", "pass", text)
    return Check(
        "clock",
        "warn",
        text,
        "synchronise the clocks (NTP): times vrgtask shows in local time are off by this much "
        "(runs are still followed on the server's clock)",
    )


class Doctor:
    """Runs the checks in order; a failure that makes later checks pointless skips them."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        self.settings = app.settings
        self.checks: list[Check] = []

    def add(self, check: Check) -> None:
        self.checks.append(check)

    def skip(self, *names: str, why: str) -> None:
        for name in names:
            self.add(Check(name, "skip", f"not checked: {why}"))

    def hint(self, *args: Any) -> str:
        return command_hint(self.app, *args)

    # -- the checks -------------------------------------------------------------
    def run(self) -> list[Check]:
        later = ["credentials", "versions", "clock", *(f"read {t}" for t, _ in READ_TABLES)]
        later.append("action form")
        host = self.settings.host
        if host is None:
            self.add(
                Check(
                    "host",
                    "fail",
                    "no host configured",
                    "pass --host, set VERGE_HOST, use -p PROFILE, or try --sandbox",
                )
            )
            self.skip("tls", *later, why="no host")
            return self.checks
        date_header, local = self.reach(host)
        if date_header is False:
            self.skip(*later, why="the host cannot be reached")
            return self.checks
        client = self.credentials()
        if client is None:
            self.skip(*later[1:], why="not logged in")
            return self.checks
        self.versions(client)
        self.add(_clock_check(date_header if isinstance(date_header, str) else None, local))
        for table, why in READ_TABLES:
            self.read(client, table, why)
        self.action_form(client)
        return self.checks

    def reach(self, host: str) -> tuple[str | bool | None, float]:
        """Host and TLS, with one unauthenticated GET; (Date header or False, local time)."""
        import requests

        from vrgtask.client import make_session
        from vrgtask.errors import TLS_HINT

        session = make_session(self.settings, verbosity=self.app.verbosity, write=self.app.note)
        url = f"https://{host}/api/v4/system"
        try:
            response = session.get(url, params={"fields": "$key"}, timeout=self.settings.timeout)
        except requests.exceptions.SSLError as exc:
            self.add(Check("host", "pass", f"{host} answers (TCP)"))
            self.add(Check("tls", "fail", f"TLS verification failed: {_short(exc)}", TLS_HINT))
            return False, time.time()
        except requests.exceptions.RequestException as exc:
            _code, message = classify(exc)
            self.add(Check("host", "fail", f"{host}: {message}",
                           "check the host name and port, and that HTTPS (443) is open "
                           "from this machine"))  # fmt: skip
            self.skip("tls", why="the host cannot be reached")
            return False, time.time()
        finally:
            session.close()
        local = time.time()
        how = "in-process" if self.settings.sandbox else "over HTTPS"
        self.add(Check("host", "pass", f"{host} answers {how} (HTTP {response.status_code})"))
        if self.settings.sandbox:
            self.add(Check("tls", "pass", "the embedded sandbox answers in-process (no TLS)"))
        elif self.settings.verify_ssl:
            self.add(Check("tls", "pass", "certificate verified"))
        else:
            origin = self.settings.sources.get("verify_ssl", "settings")
            self.add(Check("tls", "warn", f"certificate verification is OFF (from {origin})",
                           "trust the server's CA with REQUESTS_CA_BUNDLE and drop --insecure / "
                           "VERGE_VERIFY_SSL=false"))  # fmt: skip
        return response.headers.get("Date"), local

    def credentials(self) -> Any:
        try:
            client = self.app.client
        except Exception as exc:
            _code, message = classify(exc)
            what = "check the token (VERGE_TOKEN) or the user name and password"
            self.add(Check("credentials", "fail", message, what))
            return None
        settings = self.settings
        if settings.token:
            who = "API token accepted"
        else:
            who = f"user {settings.username or '(sandbox default)'} logged in"
        self.add(Check("credentials", "pass", who))
        return client

    def versions(self, client: VergeClient) -> None:
        version = getattr(client, "version", None)
        os_version = getattr(client, "os_version", None)
        cloud = getattr(client, "cloud_name", None)
        found = ["API v4 at /api/v4"]
        if version:
            found.append(f"VergeOS {version}")
        if os_version:
            found.append(f"OS {os_version}")
        if cloud:
            found.append(f"cloud {cloud!r}")
        if version or os_version:
            self.add(Check("versions", "pass", ", ".join(found)))
        else:
            self.add(Check("versions", "warn", ", ".join(found) + "; no version in GET /system",
                           "include the VergeOS version from the UI in a bug report"))  # fmt: skip

    def read(self, client: VergeClient, table: str, why: str) -> None:
        params: dict[str, Any] = {"limit": 1, "fields": "$key"}
        if table == "logs":
            params = {"limit": 1, "fields": "$key,timestamp", "sort": "-timestamp",
                      "filter": "object_type eq 'task'"}  # fmt: skip
        try:
            answer = client._request("GET", table, params=params)
        except Exception as exc:
            code, message = classify(exc)
            if code == ExitCode.NOT_FOUND:
                what = f"this server does not serve {table}: vrgtask loses {why}"
            else:
                what = f"the user needs read access to {table} (for {why})"
            self.add(Check(f"read {table}", "fail", message, what))
            return
        rows = answer if isinstance(answer, list) else ([answer] if answer else [])
        detail = "readable" if rows else "readable (empty)"
        if table == "logs" and rows and isinstance(rows[0], dict):
            stamp = rows[0].get("timestamp")
            if isinstance(stamp, int | float) and stamp > 0:
                from datetime import datetime, timezone

                when = datetime.fromtimestamp(stamp / 1_000_000, tz=timezone.utc)
                detail = f"readable; newest task entry {when:%Y-%m-%d %H:%M:%S} UTC"
        self.add(Check(f"read {table}", "pass", detail))

    def action_form(self, client: VergeClient) -> None:
        from pyvergeos.exceptions import APIError

        try:
            schema = client._request("GET", "task_actions/$table")
        except APIError as exc:
            if exc.status_code in (404, 405):
                self.add(Check("action form", "pass",
                               f"no task_actions table (HTTP {exc.status_code}): vrgtask sends "
                               "actions as PUT /tasks/KEY?action=NAME (the SDK's form) and "
                               "confirms every run from the task itself"))  # fmt: skip
                return
            _code, message = classify(exc)
            self.add(Check("action form", "fail", f"schema probe failed: {message}",
                           "report it, with: " + self.hint("-vv", "doctor")))  # fmt: skip
            return
        except Exception as exc:
            _code, message = classify(exc)
            self.add(Check("action form", "fail", f"schema probe failed: {message}", ""))
            return
        fields = []
        if isinstance(schema, dict):
            fields = [f.get("name") for f in schema.get("fields", []) if isinstance(f, dict)]
        listed = f" (fields: {', '.join(str(f) for f in fields)})" if fields else ""
        self.add(Check("action form", "pass",
                       f"POST /task_actions is served{listed}: vrgtask sends actions in this "
                       "documented form"))  # fmt: skip


def _short(exc: BaseException) -> str:
    import re

    return re.sub(r" with url: \S+", "", str(exc))


@fans_out(sections=True)
@click.command(
    epilog=examples(
        "vrgtask doctor",
        "vrgtask -p lab doctor -o json",
        "vrgtask --sandbox doctor",
        "vrgtask doctor -o json | jq -r '.[] | select(.verdict != \"pass\") | .check'",
        "vrgtask -A doctor          (every profile: a section each, a summary line)",
    ),
)
@output_options
def doctor() -> None:
    """Check the configured VergeOS system, read-only, and say what to fix.

    \b
    Checks: host reachable, TLS (and whether verification is off),
    credentials, API and VergeOS versions, the clock difference between
    this machine and the server, read access to tasks, schedules,
    triggers, events, scripts and the task log, and which form the server
    takes actions in (a schema probe: doctor never writes).

    Exit 0 when every check passes, 1 otherwise. The output never shows a
    secret: paste it into a bug report as it is.
    """
    from vrgtask.text import redact

    app = get_app()
    checks = Doctor(app).run()
    secrets = app.settings.secrets()
    rows = [
        {k: redact(v, secrets) if isinstance(v, str) else v for k, v in c.row().items()}
        for c in checks
    ]
    app.render_list(rows, DOCTOR_COLUMNS, key="check")
    failed = [c.check for c in checks if c.verdict != "pass"]
    if failed:
        raise VrgtaskError(
            f"{len(failed)} of {len(checks)} checks did not pass: {', '.join(failed)}"
        )
