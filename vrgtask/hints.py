"""Hints that name a command carry the connection options in use.

``check it with: vrgtask task get 12`` is useless pasted into a shell when the
command that printed it ran with ``-p lab`` or ``--sandbox``: the hint would
ask another system. :func:`command_hint` writes the options back in front
(never a secret: no token, no password).
"""

from __future__ import annotations

import shlex
from typing import Any

__all__ = ["command_hint", "connection_args"]


def connection_args(settings: Any) -> list[str]:
    """The global options that point a pasted command at the same system."""
    args: list[str] = []
    sources = getattr(settings, "sources", {}) or {}
    profile = getattr(settings, "profile", None)
    if profile and profile != "default":
        args += ["-p", str(profile)]
    if getattr(settings, "sandbox", False):
        args.append("--sandbox")
    elif settings.host and sources.get("host") == "option":
        args += ["--host", str(settings.host)]
    if sources.get("username") == "option" and settings.username:
        args += ["-u", str(settings.username)]
    if sources.get("verify_ssl") == "option" and not settings.verify_ssl:
        args.append("--insecure")
    return args


def command_hint(app: Any, *args: Any) -> str:
    """``vrgtask <connection options> <args>``, quoted for a POSIX shell."""
    words = ["vrgtask", *connection_args(app.settings), *(str(a) for a in args)]
    return shlex.join(words)
