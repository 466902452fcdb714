"""Where each setting comes from: option > environment > profile > default.

The configuration file is the one ``vrg`` users already have
(``~/.vrg/config.toml``; ``VRGTASK_CONFIG`` names another)::

    [default]
    host = "verge.example.com"
    token = "..."

    [profile.lab]
    host = "10.0.0.5:8443"
    username = "admin"
    verify_ssl = false

Keys: host, token, api_key, username, password, verify_ssl, output, timeout.
A named profile is used on its own: its missing keys are not taken from
``[default]``, so one system's credentials never reach another.

The file must be a regular file of at most :data:`CONFIG_MAX_BYTES` (a device
or a FIFO is refused without being read), numbers must be finite and within
bounds, and a host URL must not carry credentials: each refusal is a
ConfigError (exit 3) naming the setting, never echoing a secret.

An API key is sent as a bearer token, as ``vrg`` does. ``token`` and
``api_key`` follow the same precedence as every other setting (``--api-key``
beats ``VERGE_TOKEN``, ``VERGE_API_KEY`` beats a profile's ``token``); given at
the same level, ``token`` wins.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vrgtask.errors import ConfigError

if TYPE_CHECKING:  # pathlib and urllib.parse load on use: every start-up reads this module
    from pathlib import Path

__all__ = [
    "CONFIG_MAX_BYTES",
    "DEFAULT_OUTPUT",
    "DEFAULT_TIMEOUT",
    "ENV_VARS",
    "MAX_RETRY_BACKOFF",
    "MAX_RETRY_TOTAL",
    "OPTION_KEYS",
    "PROFILE_KEYS",
    "SANDBOX_HOST",
    "SECRET_KEYS",
    "Settings",
    "config_path",
    "load_profile",
    "normalize_host",
    "parse_bool",
    "profile_names",
    "read_config_file",
    "read_regular_file",
    "resolve",
]

DEFAULT_TIMEOUT = 30.0
DEFAULT_OUTPUT = "table"
DEFAULT_RETRY_TOTAL = 3
DEFAULT_RETRY_BACKOFF = 1.0
#: Upper bounds of the numeric settings: a value above them is a typo (or
#: hostile), refused with exit 3 (exit 2 for an option) naming the setting.
MAX_RETRY_TOTAL = 10
MAX_RETRY_BACKOFF = 60.0
#: The configuration file is read only if it is a regular file of at most this size.
CONFIG_MAX_BYTES = 1024 * 1024
#: The reserved host name that selects the embedded sandbox.
SANDBOX_HOST = "sandbox"

#: The keys a profile may hold, in the order ``config list`` shows them.
PROFILE_KEYS = (
    "host",
    "token",
    "api_key",
    "username",
    "password",
    "verify_ssl",
    "timeout",
    "output",
)
#: Keys a profile may hold beyond those: ``sandbox_state`` (with ``host = "sandbox"``,
#: the embedded sandbox's state file for this profile; relative to the config file).
EXTRA_PROFILE_KEYS = ("sandbox_state",)
_PROFILE_KEYS = frozenset(PROFILE_KEYS) | frozenset(EXTRA_PROFILE_KEYS)
#: Keys whose values are never printed.
SECRET_KEYS = ("token", "api_key", "password")
_SECRET_KEYS = SECRET_KEYS
#: The environment variable of each setting (the names pyvergeos and vrg use).
ENV_VARS = {
    "profile": "VERGE_PROFILE",
    "host": "VERGE_HOST",
    "token": "VERGE_TOKEN",
    "api_key": "VERGE_API_KEY",
    "username": "VERGE_USERNAME",
    "password": "VERGE_PASSWORD",
    "verify_ssl": "VERGE_VERIFY_SSL",
    "timeout": "VERGE_TIMEOUT",
    "output": "VERGE_OUTPUT",
}
#: The settings the core group's options (and their variables) give.
OPTION_KEYS = ("profile", "host", "token", "api_key", "username", "password", "timeout", "output")
#: How strongly each kind of source holds: lower wins.
_RANK = {"option": 0, "env": 1}


@dataclass
class Settings:
    """Resolved settings of one invocation, plus where each came from."""

    host: str | None = None
    #: The bearer credential sent: the ``token`` or the ``api_key`` setting,
    #: whichever has the higher precedence (see :attr:`token_key`).
    token: str | None = None
    #: The ``api_key`` setting as configured (sent only when it wins).
    api_key: str | None = None
    #: Which setting supplied :attr:`token`: ``"token"``, ``"api_key"`` or None.
    token_key: str | None = None
    #: The ``token`` setting as configured, even when an api_key won.
    token_setting: str | None = None
    username: str | None = None
    password: str | None = None
    verify_ssl: bool = True
    timeout: float = DEFAULT_TIMEOUT
    output: str = DEFAULT_OUTPUT
    profile: str | None = None
    retry_total: int = DEFAULT_RETRY_TOTAL
    retry_backoff: float = DEFAULT_RETRY_BACKOFF
    #: The embedded sandbox's state file of this profile (``sandbox_state``), if any.
    sandbox_state: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def sandbox(self) -> bool:
        """True when the embedded sandbox answers instead of a server."""
        return self.host is not None and self.host.lower() == SANDBOX_HOST

    def secrets(self) -> list[str]:
        """Values that must never be printed.

        The token, the password, and the Basic credentials as they travel
        (base64 of ``user:password``), which decode straight back to the
        password if a server or proxy echoes the Authorization header.
        """
        found = [s for s in (self.token, self.token_setting, self.api_key, self.password) if s]
        if self.username and self.password:
            import base64

            pair = f"{self.username}:{self.password}"
            for encoding in ("utf-8", "latin-1"):
                try:
                    found.append(base64.b64encode(pair.encode(encoding)).decode("ascii"))
                except UnicodeEncodeError:
                    continue
        return found


def parse_bool(value: Any, what: str) -> bool:
    """``true/false/1/0/yes/no/on/off`` (any case), or a ConfigError naming ``what``."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{what}: expected true or false, got {value!r}")


def normalize_host(value: str, what: str = "host") -> str:
    """``host``, ``host:port`` or ``https://host[:port]/`` -> ``host[:port]``.

    A URL carrying credentials (``https://user:password@host/``) is refused
    without repeating any of it: the message must not show the password.
    """
    text = value.strip()
    if not text:
        raise ConfigError(f"{what} is empty")
    if "@" in text:
        raise ConfigError(
            f"{what}: credentials in the host URL (user:password@) are not accepted and are "
            "not shown here; give the host alone and pass them with --username and "
            "VERGE_PASSWORD (or --token / VERGE_TOKEN)"
        )
    if "://" in text:
        from urllib.parse import urlsplit

        parts = urlsplit(text)
        if parts.scheme.lower() != "https":
            raise ConfigError(
                f"{what} {value!r}: only https:// is supported (the VergeOS API is HTTPS only)"
            )
        if parts.path.strip("/") not in {"", "api/v4", "api"}:
            raise ConfigError(f"{what} {value!r}: give the host, not a path")
        text = parts.netloc
    text = text.rstrip("/")
    if not text or "/" in text or any(ch.isspace() for ch in text):
        raise ConfigError(f"{what} {value!r} is not a host name, host:port or https:// URL")
    if text.startswith("["):  # [ipv6]:port
        return text
    host, sep, port = text.rpartition(":")
    bad_port = not port.isdigit() or not 0 < int(port) < 65536
    if sep and host and ":" not in host and bad_port:
        raise ConfigError(f"{what} {value!r}: port must be a number from 1 to 65535")
    return text


class FileRefused(ValueError):
    """A file that is not a regular file, or is larger than allowed."""


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Devices (``/dev/zero``, ``/dev/urandom``), FIFOs and directories are
    refused without reading: they never end, or block. The file is opened
    without blocking and checked on the open descriptor, so what is checked
    is what is read. Raises :class:`FileRefused` (a readable reason) or
    ``OSError``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise FileRefused("not a regular file")
    if info.st_size > limit:
        os.close(fd)
        raise FileRefused(f"larger than {limit} bytes ({info.st_size} bytes)")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(f"larger than {limit} bytes")
    return data


def config_file(env: Mapping[str, str]) -> str:
    """:func:`config_path` as text, without importing pathlib (a run with no
    config file, settings from the environment, never needs it)."""
    override = env.get("VRGTASK_CONFIG")
    if override:
        return os.path.expanduser(override)
    return os.path.join(os.path.expanduser("~"), ".vrg", "config.toml")


def config_path(env: Mapping[str, str]) -> Path:
    """The configuration file: ``VRGTASK_CONFIG`` or ``~/.vrg/config.toml``."""
    from pathlib import Path

    return Path(config_file(env))


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        raw = read_regular_file(path, CONFIG_MAX_BYTES)
    except FileRefused as exc:
        raise ConfigError(f"config file {path} is {exc}; point VRGTASK_CONFIG at a file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text: {exc.reason}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"config file {path} is not valid TOML: nested too deeply") from None
    return dict(data)


def read_config_file(path: Path) -> dict[str, Any]:
    """The parsed config file; empty when it does not exist."""
    if not path.exists():
        return {}
    return _read_toml(path)


def profile_names(path: Path) -> list[str]:
    """``default`` (when present) and the names of ``[profile.NAME]``; never raises."""
    try:
        data = read_config_file(path)
    except (ConfigError, OSError, ValueError):
        return []
    names = ["default"] if isinstance(data.get("default"), dict) else []
    profiles = data.get("profile")
    if isinstance(profiles, dict):
        names.extend(sorted(str(name) for name in profiles))
    return names


def _warn_if_exposed(path: str | os.PathLike[str], section: Mapping[str, Any], warn: Any) -> None:
    if os.name != "posix" or not any(section.get(k) for k in _SECRET_KEYS):
        return
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warn(
            f"{path} holds a secret and other users can read it; restrict it with: chmod 600 {path}"
        )


def load_profile(
    path: str | os.PathLike[str], name: str | None, *, explicit: bool, warn: Any
) -> tuple[str | None, dict[str, Any]]:
    """The selected profile's keys. ``name=None`` selects ``[default]``.

    A missing file is fine unless a profile was asked for by name.
    """
    if not os.path.exists(path):
        if explicit and name not in (None, "default"):
            raise ConfigError(f"unknown profile {name!r}: config file {path} does not exist")
        return None, {}
    data = _read_toml(path)
    profiles = data.get("profile", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"config file {path}: [profile] must be a table of profiles")
    if name in (None, "default"):
        section = data.get("default", {})
        label = "default"
    else:
        if name not in profiles:
            known = (
                ", ".join(["default", *sorted(profiles)])
                if "default" in data
                else ", ".join(sorted(profiles))
            )
            raise ConfigError(
                f"unknown profile {name!r} in {path}; profiles that exist: {known or 'none'}"
            )
        section = profiles[name]
        label = name
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: profile {label!r} must be a table")
    unknown = sorted(set(section) - _PROFILE_KEYS)
    if unknown:
        warn(f"{path} [{label}]: ignoring unknown keys: {', '.join(unknown)}")
    _warn_if_exposed(path, section, warn)
    return label, {k: v for k, v in section.items() if k in _PROFILE_KEYS}


def _rank(source: str) -> int:
    return _RANK.get(source, 2 if source.startswith("profile") else 3)


def resolve(
    options: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    warn: Any,
    given_by: Mapping[str, str] | None = None,
) -> Settings:
    """Combine options, environment, profile and defaults into Settings.

    ``options`` holds what was given on the command line, already merged with
    the environment variables click reads itself (``None`` when neither gave a
    value); ``env`` is consulted for the variables click does not map
    (``VERGE_VERIFY_SSL``, retry tuning). ``given_by`` says, per option,
    whether it came from the command line or the environment (for messages).
    """
    settings = Settings()
    sources = settings.sources
    given_by = given_by or {}
    profile_name = options.get("profile")
    path = config_file(env)
    label, profile = load_profile(path, profile_name, explicit=profile_name is not None, warn=warn)
    settings.profile = label

    def pick(key: str, *profile_keys: str) -> Any:
        value = options.get(key)
        if value is not None:
            sources[key] = given_by.get(key, "option")
            return value
        for pkey in profile_keys or (key,):
            if profile.get(pkey) is not None:
                sources[key] = f"profile {label}"
                return profile[pkey]
        sources[key] = "default"
        return None

    host = pick("host")
    if options.get("sandbox"):
        host = SANDBOX_HOST
        sources["host"] = "option"
    if host is not None:
        settings.host = normalize_host(str(host), f"host (from {sources['host']})")
    token = pick("token")
    api_key = pick("api_key")
    settings.token_setting = str(token) if token is not None else None
    settings.api_key = str(api_key) if api_key is not None else None
    if token is not None and (
        api_key is None or _rank(sources["token"]) <= _rank(sources["api_key"])
    ):
        settings.token, settings.token_key = settings.token_setting, "token"
    elif api_key is not None:
        settings.token, settings.token_key = settings.api_key, "api_key"
    username = pick("username")
    settings.username = str(username) if username is not None else None
    password = pick("password")
    settings.password = str(password) if password is not None else None

    if options.get("insecure"):
        settings.verify_ssl = False
        sources["verify_ssl"] = "option"
    elif env.get("VERGE_VERIFY_SSL", "").strip():
        settings.verify_ssl = parse_bool(env["VERGE_VERIFY_SSL"], "VERGE_VERIFY_SSL")
        sources["verify_ssl"] = "env"
    elif "verify_ssl" in profile:
        settings.verify_ssl = parse_bool(profile["verify_ssl"], f"{path} verify_ssl")
        sources["verify_ssl"] = f"profile {label}"

    timeout = pick("timeout")
    if timeout is not None:
        from vrgtask.params import MAX_TIMEOUT  # the bound --timeout declares

        where = f"timeout (from {sources['timeout']})"
        try:
            settings.timeout = float(timeout)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{where}: not a number") from None
        if not math.isfinite(settings.timeout):
            raise ConfigError(f"{where}: must be a finite number of seconds")
        if not 0 < settings.timeout <= MAX_TIMEOUT:
            raise ConfigError(f"{where}: must be above 0 and at most {MAX_TIMEOUT:g} seconds")

    output = pick("output")
    if output is not None:
        settings.output = str(output)

    if profile.get("sandbox_state") is not None:
        from pathlib import Path

        state = Path(str(profile["sandbox_state"])).expanduser()
        settings.sandbox_state = str(state if state.is_absolute() else Path(path).parent / state)

    for var, attr, kind, highest in (
        ("VERGE_RETRY_TOTAL", "retry_total", int, MAX_RETRY_TOTAL),
        ("VERGE_RETRY_BACKOFF", "retry_backoff", float, MAX_RETRY_BACKOFF),
    ):
        raw = env.get(var, "").strip()
        if raw:
            try:
                value = kind(raw)
            except (ValueError, OverflowError):
                raise ConfigError(f"{var}: expected a number, got {raw!r}") from None
            if not math.isfinite(value):
                raise ConfigError(f"{var}: must be a finite number")
            if not 0 <= value <= highest:
                raise ConfigError(f"{var}: must be from 0 to {highest:g}")
            setattr(settings, attr, value)
    return settings
