"""``vrgtask completion``: shell completion, with live task and schedule names.

``vrgtask completion bash|zsh|fish`` prints the script that hooks vrgtask
into the shell (click's shell completion). Commands, options and choices
complete from the command tree alone, as cheaply as ``--help``. Arguments that
take a TASK or a SCHEDULE (and ``--schedule``) complete live names from the
configured system: one filtered request for names beginning with what was
typed (``name bw '...'``, at most :data:`LIMIT` of them), within
:data:`TIME_LIMIT` seconds, silently nothing on any failure, and never a
password prompt (no usable credentials, no names). Profile names complete
from the config file.

Nothing here imports pyvergeos: the one request goes through the same
requests session vrgtask gives the SDK (TLS settings, the sandbox adapter),
imported only when a name is actually needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from vrgtask.commands._common import examples

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from vrgtask.config import Settings

__all__ = [
    "LIMIT",
    "SHELLS",
    "TIME_LIMIT",
    "complete_profile",
    "completion",
    "filter_literal",
    "live_names",
]

#: At most this many names are offered (and asked for).
LIMIT = 50
#: Seconds a name completion may take, all in; after that it offers nothing.
TIME_LIMIT = 2.0
SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_VRGTASK_COMPLETE"
_CONTROL = frozenset(chr(c) for c in [*range(0x20), 0x7F])


def filter_literal(text: str) -> str:
    """``text`` as a quoted literal of the VergeOS filter language.

    The same escaping as pyvergeos' ``quote_value`` (backslash before ``\\``,
    ``'`` and ``{``), without importing pyvergeos.
    """
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("{", "\\{")
    return f"'{escaped}'"


def _settings(ctx: click.Context) -> Settings | None:
    """The settings the command line being completed would use, or None."""
    from vrgtask import config

    params = ctx.find_root().params
    options = {
        key: params.get(key)
        for key in (
            "profile",
            "host",
            "sandbox",
            "token",
            "api_key",
            "username",
            "password",
            "insecure",
            "timeout",
        )
    }
    if isinstance(options["profile"], tuple | list):  # -p is repeatable (fleets)
        from vrgtask.fanout import split_profiles

        names = split_profiles(options["profile"])
        options["profile"] = names[0] if len(names) == 1 else None
    try:
        settings = config.resolve(options, os.environ, warn=lambda _message: None)
    except Exception:  # any configuration problem: no names, no noise
        return None
    if settings.host is None:
        return None
    settings.retry_total = 0
    settings.retry_backoff = 0.0
    settings.timeout = min(settings.timeout, TIME_LIMIT)
    return settings


def _authorization(settings: Settings) -> str | None:
    """The Authorization header, or None when a password would have to be asked."""
    if settings.token:
        return f"Bearer {settings.token}"
    username, password = settings.username, settings.password
    if settings.sandbox and not username:
        from vrgtask.sandbox import SANDBOX_PASSWORD, SANDBOX_USERNAME

        username, password = SANDBOX_USERNAME, SANDBOX_PASSWORD
    if not username or not password:
        return None
    import base64

    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _fetch(settings: Settings, auth: str, table: str, incomplete: str) -> list[str]:
    from vrgtask.client import make_session

    params = {"fields": "name", "limit": str(LIMIT), "sort": "name"}
    if incomplete:
        params["filter"] = f"name bw {filter_literal(incomplete)}"
    session = make_session(settings)
    try:
        response = session.get(
            f"https://{settings.host}/api/v4/{table}",
            params=params,
            headers={"Authorization": auth, "Accept": "application/json"},
            timeout=settings.timeout,
            allow_redirects=False,
        )
        if response.status_code != 200:
            return []
        rows = response.json()
    finally:
        session.close()
    if not isinstance(rows, list):
        return []
    names: list[str] = []
    for row in rows:
        name = row.get("name") if isinstance(row, Mapping) else None
        if (
            isinstance(name, str)
            and name.startswith(incomplete)
            and name not in names
            and not any(ch in _CONTROL for ch in name)
        ):
            names.append(name)
    return names[:LIMIT]


def live_names(ctx: click.Context, table: str, incomplete: str) -> list[str]:
    """Names in ``table`` beginning with ``incomplete``; [] on any failure.

    Runs the request on a daemon thread and waits at most :data:`TIME_LIMIT`
    seconds for it, so a slow or silent server cannot hang the shell.
    """
    settings = _settings(ctx)
    if settings is None:
        return []
    auth = _authorization(settings)
    if auth is None:
        return []
    import threading

    found: list[list[str]] = []

    def work() -> None:
        try:
            found.append(_fetch(settings, auth, table, incomplete))
        except BaseException:  # completion is silent on any failure
            return

    worker = threading.Thread(target=work, name="vrgtask-complete", daemon=True)
    worker.start()
    worker.join(TIME_LIMIT)
    return found[0] if found else []


def complete_profile(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Profile names of the config file beginning with ``incomplete``."""
    from click.shell_completion import CompletionItem

    from vrgtask.config import config_path, profile_names

    names = profile_names(config_path(os.environ))
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def _default_shell() -> str | None:
    shell = os.path.basename(os.environ.get("SHELL", ""))
    return shell if shell in SHELLS else None


INSTALL = """\b
Install (then open a new shell):
  bash: echo 'eval "$(vrgtask completion bash)"' >> ~/.bashrc
  zsh:  echo 'eval "$(vrgtask completion zsh)"' >> ~/.zshrc   (after compinit)
  fish: vrgtask completion fish > ~/.config/fish/completions/vrgtask.fish
"""


@click.command(
    "completion",
    short_help="Print the shell completion script (bash, zsh, fish).",
    epilog=INSTALL
    + "\n"
    + examples(
        "vrgtask completion bash > ~/.local/share/bash-completion/completions/vrgtask",
        "source <(vrgtask completion bash)          (this shell only)",
    ),
)
@click.argument("shell", required=False, type=click.Choice(SHELLS))
def completion(shell: str | None) -> None:
    """Print the shell completion script for SHELL (default: your $SHELL).

    Completes commands, options and choices, profile names from the config
    file, and live task and schedule names from the configured system (one
    request of at most 50 names, given up after 2 seconds; nothing is asked:
    without stored credentials no names are offered).
    """
    from click.shell_completion import get_completion_class

    from vrgtask.context import get_app

    chosen = shell or _default_shell()
    if chosen is None:
        raise click.UsageError(
            f"cannot tell your shell from $SHELL; name it: {', '.join(SHELLS)}",
        )
    ctx = click.get_current_context()
    root = ctx.find_root().command
    shell_class = get_completion_class(chosen)
    assert shell_class is not None
    script = shell_class(root, {}, "vrgtask", COMPLETE_VAR).source()
    get_app(ctx).verbatim(script if script.endswith("\n") else script + "\n")


completion.repairs_settings = True  # type: ignore[attr-defined]  # runs while settings are broken
