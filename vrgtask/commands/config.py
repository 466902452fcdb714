"""``vrgtask config``: see and change the settings, as ``gh config`` does.

``config list`` shows every setting in effect and where it came from (an
option, the environment, a profile of the config file, or the default), with
secrets masked. ``config set`` and ``config unset`` edit the config file
(``~/.vrg/config.toml``, or ``$VRGTASK_CONFIG``) with tomlkit, so the user's
comments, layout and other keys survive; the new file replaces the old one
atomically, and it is made readable by its owner only (0600) whenever it holds
a secret. A key or value that is not valid is refused (exit 2) before the file
is read, so it is never touched.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from vrgtask.commands._common import examples
from vrgtask.config import (
    ENV_VARS,
    PROFILE_KEYS,
    SECRET_KEYS,
    config_path,
    normalize_host,
    parse_bool,
)
from vrgtask.context import AppContext, get_app, output_options
from vrgtask.errors import ConfigError
from vrgtask.formatters import Column, formatter_names
from vrgtask.params import MAX_TIMEOUT, complete_profile
from vrgtask.text import MASK, value_text

__all__ = ["config", "validate_value"]

_OPTIONS = {
    "profile": "--profile",
    "host": "--host",
    "token": "--token",
    "api_key": "--api-key",
    "username": "--username",
    "password": "--password",
    "verify_ssl": "--insecure",
    "timeout": "--timeout",
    "output": "--output",
}
_CONTROL = frozenset(chr(c) for c in [*range(0x20), 0x7F])


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return value_text(value)


SETTING_COLUMNS = [
    Column("key", "Key"),
    Column("value", "Value", format=_show),
    Column("source", "Source"),
]
PROFILE_COLUMNS = [
    Column("name", "Profile"),
    Column("host", "Host"),
    Column("auth", "Authentication"),
    Column("in_use", "In use", format=lambda v: "*" if v else ""),
]
CHANGE_COLUMNS = [
    Column("profile", "Profile"),
    Column("key", "Key"),
    Column("value", "Value", format=_show),
    Column("path", "File"),
]
PATH_COLUMNS = [Column("path", "Path"), Column("exists", "Exists")]


# -- values -------------------------------------------------------------------
def validate_value(key: str, text: str) -> Any:
    """``text`` as the value stored for ``key``; ValueError says what is wrong."""
    if key not in PROFILE_KEYS:
        raise ValueError(f"unknown key {key!r}; keys: {', '.join(PROFILE_KEYS)}")
    if any(ch in _CONTROL for ch in text):
        raise ValueError("must not contain control characters (newlines, tabs, escapes)")
    if not text.strip():
        raise ValueError("must not be empty")
    if key == "host":
        try:
            normalize_host(text)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return text.strip()
    if key == "verify_ssl":
        try:
            return parse_bool(text, "verify_ssl")
        except ConfigError:
            raise ValueError(f"expected true or false, got {text!r}") from None
    if key == "timeout":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected a number of seconds, got {text!r}") from None
        if not math.isfinite(number) or not 0 < number <= MAX_TIMEOUT:
            raise ValueError(
                f"must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, got {text!r}"
            )
        return int(number) if number.is_integer() else number
    if key == "output":
        names = formatter_names()
        if text not in names:
            raise ValueError(f"{text!r} is not one of: {', '.join(names)}")
        return text
    return text  # token, api_key, username, password: taken as given


def _masked(key: str, value: Any) -> Any:
    return MASK if key in SECRET_KEYS and value not in (None, "") else value


def _section_label(profile: str) -> str:
    return "[default]" if profile == "default" else f"[profile.{profile}]"


# -- the file -------------------------------------------------------------------
def _target(path: Path) -> Path:
    """The file to write: a symlinked config file is written where it points."""
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        raise ConfigError(f"config file {path} is not a regular file")
    return target


def _load_document(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import ParseError

    if not path.exists():
        return tomlkit.document()
    from vrgtask.config import CONFIG_MAX_BYTES, FileRefused, read_regular_file

    try:  # the same limits as reading it: a regular file of bounded size
        text = read_regular_file(path, CONFIG_MAX_BYTES).decode("utf-8")
    except FileRefused as exc:
        raise ConfigError(f"config file {path} is {exc}; point VRGTASK_CONFIG at a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _section(document: Any, path: Path, profile: str, *, create: bool) -> Any:
    """The table of ``profile`` in ``document`` (made when ``create``), or None."""
    import tomlkit

    if profile == "default":
        parent, name = document, "default"
    else:
        parent = document.get("profile")
        if parent is None:
            if not create:
                return None
            parent = tomlkit.table(is_super_table=True)
            document["profile"] = parent
        if not isinstance(parent, Mapping):
            raise ConfigError(f"config file {path}: [profile] must be a table of profiles")
        name = profile
    section = parent.get(name)
    if section is None:
        if not create:
            return None
        parent[name] = tomlkit.table()
        section = parent[name]
    if not isinstance(section, Mapping):
        raise ConfigError(f"config file {path}: {_section_label(profile)} must be a table")
    return section


def put(table: Any, key: str, value: Any) -> None:
    """Set ``key`` in a tomlkit table, in place when it exists.

    A new key goes right after the table's last key, so comments that end the
    table (which describe the next one, as people write them) stay with it.
    """
    if key in table:
        table[key] = value  # keeps the key's place and its end-of-line comment
        return
    try:
        container = table.value
        keys = [k for k, item in container.body if k is not None and not isinstance(item, Mapping)]
        if keys:
            container._insert_after(keys[-1], key, value)
            return
    except Exception:  # noqa: S110  # another tomlkit layout: appending is still right
        pass
    table[key] = value


def holds_secret(data: Mapping[str, Any]) -> bool:
    """Whether any profile of a parsed config file holds a token, key or password."""
    sections: list[Any] = [data.get("default")]
    profiles = data.get("profile")
    if isinstance(profiles, Mapping):
        sections.extend(profiles.values())
    return any(
        isinstance(section, Mapping) and any(section.get(k) for k in SECRET_KEYS)
        for section in sections
    )


def write_atomically(path: Path, text: str, *, secret: bool) -> None:
    """Replace ``path`` by ``text`` in one step (a reader sees old or new, whole).

    The new content goes to a temporary file in the same directory, is synced
    to disk, then renamed over the old file. Mode: 0600 when the file holds a
    secret, else the old file's mode (0600 for a new file).
    """
    import tempfile

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = 0o600
    if not secret and path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if os.name == "posix":  # make the rename itself durable
        try:
            directory = os.open(path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(directory)
        except OSError:
            pass
        finally:
            os.close(directory)


def _edit(path: Path, profile: str, change: Any) -> bool:
    """Apply ``change(section)`` to the file; write it only when it returns True."""
    target = _target(path)
    document = _load_document(target)
    section = _section(document, path, profile, create=True)
    if not change(section):
        return False
    write_atomically(target, document.as_string(), secret=holds_secret(document.unwrap()))
    return True


# -- commands -------------------------------------------------------------------
def _root(ctx: click.Context) -> click.Context:
    return ctx.find_root()


def _profile_in_effect(ctx: click.Context) -> str:
    value = _root(ctx).params.get("profile")
    return str(value) if value else "default"


def _source_label(app: AppContext, key: str, source: str) -> str:
    if source == "option":
        option = "--sandbox" if key == "host" and app.settings.sandbox else _OPTIONS[key]
        return f"option {option}"
    if source == "env":
        return f"environment {ENV_VARS[key]}"
    return source


def setting_rows(ctx: click.Context, app: AppContext) -> list[dict[str, Any]]:
    """Every setting in effect, its source, secrets masked."""
    settings = app.settings
    sources = settings.sources
    root = _root(ctx)
    profile_source = root.get_parameter_source("profile")
    from click.core import ParameterSource

    if profile_source is ParameterSource.COMMANDLINE:
        profile_from = "option --profile"
    elif profile_source is ParameterSource.ENVIRONMENT:
        profile_from = "environment VERGE_PROFILE"
    else:
        profile_from = "default"
    values: dict[str, Any] = {
        "host": settings.host,
        "token": settings.token_setting,
        "api_key": settings.api_key,
        "username": settings.username,
        "password": settings.password,
        "verify_ssl": settings.verify_ssl,
        "timeout": settings.timeout,
        "output": settings.output,
    }
    rows = [{"key": "profile", "value": settings.profile or "default", "source": profile_from}]
    for key in PROFILE_KEYS:
        source = _source_label(app, key, sources.get(key, "default"))
        if key in ("token", "api_key") and values[key] is not None and settings.token_key != key:
            source += f" (not used: {settings.token_key} wins)"
        rows.append({"key": key, "value": _masked(key, values[key]), "source": source})
    return rows


def _print_value(app: AppContext, text: str, row: Mapping[str, Any], columns: list[Column]) -> None:
    """A bare value for people and ``$(...)``; the whole row for json, csv."""
    if app.output in ("table", "wide") and app.query is None:
        app.verbatim(f"{text}\n")
    else:
        app.render_one(row, columns)


@click.group(
    short_help="See and change settings and the config file's profiles.",
    epilog=examples(
        "vrgtask config list",
        "vrgtask config set host verge.example.com",
        "vrgtask config set --profile lab api_key        (asks for it, hidden)",
        "vrgtask config unset --profile lab verify_ssl",
        "vrgtask config profiles",
    ),
)
def config() -> None:
    """See and change settings (the config file, ~/.vrg/config.toml).

    \b
    Keys: host, token, api_key, username, password, verify_ssl, timeout, output.
    The file is the one vrg uses ($VRGTASK_CONFIG names another one):
    [default] and [profile.NAME] sections. Edits keep your comments and
    other keys. Settings come from: option > environment > profile > default.
    """


@config.command(
    "list",
    epilog=examples(
        "vrgtask config list",
        "vrgtask -p lab config list",
        "vrgtask config list -o json",
    ),
)
@output_options
@click.pass_context
def list_settings(ctx: click.Context) -> None:
    """Show every setting in effect and where it comes from (secrets masked).

    The source is an option, the environment (with the variable), the profile
    of the config file, or the default.
    """
    app = get_app(ctx)
    if app.settings_error is not None:
        raise app.settings_error
    app.render_list(setting_rows(ctx, app), SETTING_COLUMNS, key="key")


@config.command(
    "get",
    epilog=examples(
        "vrgtask config get host",
        "host=$(vrgtask -p lab config get host)",
        "vrgtask config get timeout -o json",
    ),
)
@click.argument("key", metavar="KEY", type=click.Choice(["profile", *PROFILE_KEYS]))
@output_options
@click.pass_context
def get_setting(ctx: click.Context, key: str) -> None:
    """Print the value of one setting in effect (secrets masked)."""
    app = get_app(ctx)
    if app.settings_error is not None:
        raise app.settings_error
    (row,) = [r for r in setting_rows(ctx, app) if r["key"] == key]
    _print_value(app, _show(row["value"]), row, SETTING_COLUMNS)


def _read_value(key: str) -> str:
    """The value of ``config set KEY`` given without one: asked, or read from stdin."""
    from vrgtask.context import stdin_is_terminal

    if stdin_is_terminal():
        hidden = key in SECRET_KEYS
        return str(click.prompt(f"Value of {key}", hide_input=hidden, err=True))
    line = sys.stdin.readline()
    if not line:
        raise click.UsageError(f"no VALUE given for {key} and nothing on standard input")
    return line.rstrip("\r\n")


_PROFILE_OPTION = click.option(
    "--profile",
    "-p",
    "section",
    metavar="NAME",
    shell_complete=complete_profile,
    help="Profile to change (made if missing) [default: the profile in use, else default].",
)


def _check_profile_name(name: str) -> None:
    if not name.strip() or any(ch in _CONTROL for ch in name):
        raise click.BadParameter(
            "must be a name without control characters", param_hint="'--profile'"
        )


@config.command(
    "set",
    context_settings={"ignore_unknown_options": True},  # VALUE may start with '-'
    epilog=examples(
        "vrgtask config set host verge.example.com",
        "vrgtask config set --profile lab host 10.0.0.5:8443",
        "vrgtask config set --profile lab verify_ssl false",
        "vrgtask config set token                (asks for it, hidden)",
        "printf '%s\\n' \"$KEY\" | vrgtask config set api_key",
    ),
)
@_PROFILE_OPTION
@click.argument("key", metavar="KEY", type=click.Choice(PROFILE_KEYS))
@click.argument("value", required=False)
@output_options
@click.pass_context
def set_setting(ctx: click.Context, section: str | None, key: str, value: str | None) -> None:
    """Set KEY to VALUE in a profile of the config file.

    Without VALUE, it is asked for on a terminal (hidden for token, api_key
    and password) or read from standard input: secrets then stay out of the
    shell history and the process list. The file becomes readable by you
    only (mode 0600) whenever it holds a secret.
    """
    app = get_app(ctx)
    profile = section if section is not None else _profile_in_effect(ctx)
    _check_profile_name(profile)
    if value is None:
        value = _read_value(key)
    elif key in SECRET_KEYS:
        app.warn(
            f"a {key} given on the command line stays in your shell history and other users "
            f"can see it while it runs; next time run 'vrgtask config set {key}' without a "
            "value to be asked for it (or pipe it in)"
        )
    try:
        stored = validate_value(key, value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"VALUE of {key}") from None
    path = config_path(os.environ)

    def change(table: Any) -> bool:
        put(table, key, stored)
        return True

    _edit(path, profile, change)
    row = {"profile": profile, "key": key, "value": _masked(key, stored), "path": str(path)}
    app.done(
        f"Set {key} = {_show(row['value'])} in {_section_label(profile)} of {path}",
        row,
        CHANGE_COLUMNS,
    )


@config.command(
    "unset",
    epilog=examples(
        "vrgtask config unset output",
        "vrgtask config unset --profile lab password",
    ),
)
@_PROFILE_OPTION
@click.argument("key", metavar="KEY", type=click.Choice(PROFILE_KEYS))
@output_options
@click.pass_context
def unset_setting(ctx: click.Context, section: str | None, key: str) -> None:
    """Remove KEY from a profile of the config file (its default applies again)."""
    app = get_app(ctx)
    profile = section if section is not None else _profile_in_effect(ctx)
    _check_profile_name(profile)
    path = config_path(os.environ)
    target = _target(path)
    document = _load_document(target)
    table = _section(document, path, profile, create=False)
    if table is None:
        raise ConfigError(f"no profile {profile!r} in {path}")
    row = {"profile": profile, "key": key, "value": None, "path": str(path)}
    if key not in table:
        app.done(f"{key} is not set in {_section_label(profile)} of {path}; nothing changed", row)
        return
    del table[key]
    write_atomically(target, document.as_string(), secret=holds_secret(document.unwrap()))
    app.done(f"Removed {key} from {_section_label(profile)} of {path}", row, CHANGE_COLUMNS)


def _auth(section: Mapping[str, Any]) -> str:
    if section.get("token"):
        return "token"
    if section.get("api_key"):
        return "api key"
    if section.get("username"):
        return f"user {section['username']}"
    return ""


@config.command(
    "profiles",
    epilog=examples("vrgtask config profiles", "vrgtask config profiles -q"),
)
@output_options
@click.pass_context
def list_profiles(ctx: click.Context) -> None:
    """List the profiles of the config file and mark the one in use."""
    from vrgtask.config import read_config_file

    app = get_app(ctx)
    path = config_path(os.environ)
    data = read_config_file(path)
    in_use = app.settings.profile or _profile_in_effect(ctx)
    rows: list[dict[str, Any]] = []
    sections: list[tuple[str, Any]] = []
    if isinstance(data.get("default"), Mapping):
        sections.append(("default", data["default"]))
    profiles = data.get("profile")
    if isinstance(profiles, Mapping):
        sections.extend(sorted((str(k), v) for k, v in profiles.items()))
    for name, section in sections:
        if not isinstance(section, Mapping):
            continue
        host = section.get("host")
        rows.append(
            {
                "name": name,
                "host": str(host) if host is not None else None,
                "auth": _auth(section),
                "in_use": name == in_use,
            }
        )
    app.render_list(rows, PROFILE_COLUMNS, key="name", empty=f"No profiles in {path}.")


@config.command("path", epilog=examples("vrgtask config path", '$EDITOR "$(vrgtask config path)"'))
@output_options
@click.pass_context
def show_path(ctx: click.Context) -> None:
    """Print where the config file is (whether or not it exists yet)."""
    app = get_app(ctx)
    path = config_path(os.environ)
    row = {"path": str(path), "exists": path.exists()}
    _print_value(app, str(path), row, PATH_COLUMNS)


config.repairs_settings = True  # type: ignore[attr-defined]  # runs while settings are broken
