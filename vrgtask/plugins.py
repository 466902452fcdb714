"""The entry points of vrgtask's plugin groups: found fast, resolved safely.

**Finding them.** ``importlib.metadata`` is the source of truth: it reads
every installed distribution's ``entry_points.txt``. Importing it and
scanning costs about 25 ms, a third of ``vrgtask --help``, so its answer for
vrgtask's two groups is remembered (see :func:`cache_path`) together with a
fingerprint of the installed distributions: the name and modification time
of every ``*.dist-info`` and ``*.egg-info`` directory on ``sys.path``.
Installing, upgrading or removing a package changes that, so the next run
scans again; a cache that cannot be read or written is ignored.

**Resolving them** (:func:`resolve`). A name belongs to whoever declares it
in a stable order, never to whoever the file system lists first:

* vrgtask's own entry points (the built-in commands and formats) always win;
  a plugin entry point with a built-in's name is ignored, and never imported;
* among plugins, the distribution whose name sorts first wins;
* every entry point ignored that way is reported once: :func:`notes` gives
  the lines ``vrgtask --help`` prints at its end and ``-v`` prints on stderr.

**Short help without imports** (:func:`cached_help`). ``vrgtask --help``
lists every command with its one-line help, which lives in the command's
module. Importing every module for that is most of the cost of ``--help``,
so the short help of each command is remembered in the same cache, stamped
with the size and modification time of the module file its entry point
names: editing that file (an editable install) or reinstalling refreshes it.
A plugin that could not be loaded is remembered as broken the same way.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import marshal
import os
import sys
from typing import Any

from vrgtask import __version__

__all__ = [
    "BUILTIN_DISTRIBUTION",
    "COMMANDS_GROUP",
    "FORMATTERS_GROUP",
    "PluginEntryPoint",
    "Resolution",
    "cache_path",
    "cached_help",
    "clear",
    "entry_points",
    "notes",
    "remember_help",
    "resolve",
    "save_help",
]

COMMANDS_GROUP = "vrgtask.commands"
FORMATTERS_GROUP = "vrgtask.formatters"
GROUPS = (COMMANDS_GROUP, FORMATTERS_GROUP)
BUILTIN_DISTRIBUTION = "vrgtask"
_KIND = {COMMANDS_GROUP: "command", FORMATTERS_GROUP: "output format"}
#: The cache is written with :mod:`marshal` (built in, no import; read ten
#: times faster than JSON) and, like bytecode, only read back by the same
#: Python version (the fingerprint holds ``sys.version``).
_CACHE_VERSION = 3


class PluginEntryPoint:
    """What click-plugins and the formatter registry need of an entry point."""

    __slots__ = ("dist", "group", "name", "value")

    def __init__(self, name: str, value: str, group: str, dist: str = "") -> None:
        self.name = name
        self.value = value
        self.group = group
        self.dist = dist  # the distribution that declares it (normalized name)

    @property
    def builtin(self) -> bool:
        return self.dist == BUILTIN_DISTRIBUTION

    @property
    def module(self) -> str:
        return self.value.split("[", 1)[0].partition(":")[0].strip()

    def load(self) -> Any:
        """Import ``module:attr.path`` (an ``[extras]`` suffix is ignored)."""
        target = self.value.split("[", 1)[0].strip()
        module_name, _, attribute = target.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for part in attribute.strip().split("."):
            if part:
                obj = getattr(obj, part)
        return obj

    def __repr__(self) -> str:
        return f"PluginEntryPoint({self.name!r}, {self.value!r}, {self.group!r}, {self.dist!r})"


def cache_path() -> str:
    """Where the entry points found last time are remembered.

    Next to vrgtask's own bytecode (``vrgtask/__pycache__``), like the
    bytecode itself, when that is writable: each installation then keeps its
    own answer whatever HOME is, and uninstalling removes it. Otherwise the
    user's cache directory, one file per installation. ``VRGTASK_PLUGIN_CACHE``
    names the file outright. It is in :mod:`marshal` format, trusted as the
    bytecode beside it is: only its owner can write either.
    """
    override = os.environ.get("VRGTASK_PLUGIN_CACHE")
    if override:
        return override
    package_cache = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    if os.access(package_cache, os.W_OK) or (
        not os.path.exists(package_cache) and os.access(os.path.dirname(package_cache), os.W_OK)
    ):
        return os.path.join(package_cache, "vrgtask-entry-points.cache")
    import hashlib

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    install = hashlib.sha1(sys.prefix.encode(), usedforsecurity=False).hexdigest()[:12]
    return os.path.join(base, "vrgtask", f"entry-points-{install}.cache")


def _fingerprint() -> list[Any]:
    """Every distribution's metadata directory on sys.path, with its mtime.

    Installing, upgrading or removing a package adds, replaces or removes one
    of these directories, so any such change gives a new fingerprint. Listing
    a directory costs far less than importing importlib.metadata.
    """
    stamps: list[Any] = []
    for entry in sys.path:
        found: list[Any] = []
        try:
            with os.scandir(entry or ".") as listing:
                for item in listing:
                    if item.name.endswith((".dist-info", ".egg-info")):
                        found.append([item.name, item.stat().st_mtime_ns])
        except OSError:
            continue
        if found:  # a directory without metadata (the script's, the cwd) adds nothing
            stamps.append([os.path.abspath(entry or "."), sorted(found)])
    return [sys.version, __version__, stamps]


def _normalize(dist_name: str) -> str:
    return "-".join(dist_name.lower().replace("_", "-").replace(".", "-").split("-"))


def _scan() -> dict[str, list[list[str]]]:
    from importlib import metadata

    found: dict[str, list[list[str]]] = {group: [] for group in GROUPS}
    for group in GROUPS:
        for ep in metadata.entry_points(group=group):
            dist = getattr(ep, "dist", None)
            dist_name = _normalize(str(getattr(dist, "name", "") or "")) if dist else ""
            entry = [ep.name, ep.value, dist_name]
            if entry not in found[group]:
                found[group].append(entry)
    return found


def _read_cache(path: str, fingerprint: list[Any]) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as handle:
            data = marshal.load(handle)  # noqa: S302 - trusted as bytecode is: see above
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return None
    if data.get("fingerprint") != fingerprint:
        return None
    groups = data.get("groups")
    if not isinstance(groups, dict) or any(not isinstance(groups.get(g), list) for g in GROUPS):
        return None
    if not isinstance(data.get("help"), dict):
        data["help"] = {}
    return data


def _write_cache(path: str, payload: dict[str, Any]) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "wb") as handle:
            marshal.dump(payload, handle)
        os.replace(temporary, path)
    except OSError:  # a read-only installation just means scanning every time
        with contextlib.suppress(OSError):
            os.unlink(temporary)


@functools.lru_cache(maxsize=1)
def _state() -> dict[str, Any]:
    path = cache_path()
    fingerprint = _fingerprint()
    data = _read_cache(path, fingerprint)
    if data is None:
        data = {
            "version": _CACHE_VERSION,
            "fingerprint": fingerprint,
            "groups": _scan(),
            "help": {},
        }
        _write_cache(path, data)
    return data


def _all_entry_points(group: str) -> list[PluginEntryPoint]:
    entries = _state()["groups"].get(group, [])
    found = []
    for entry in entries:
        if isinstance(entry, list) and len(entry) == 3:
            found.append(PluginEntryPoint(str(entry[0]), str(entry[1]), group, str(entry[2])))
    return found


class Resolution:
    """Who owns each name of a group, and what was ignored."""

    def __init__(self, chosen: dict[str, PluginEntryPoint], notes: list[str]) -> None:
        self.chosen = chosen  # name -> entry point, sorted by name
        self.notes = notes


@functools.cache
def resolve(group: str) -> Resolution:
    """The entry point that owns each name of ``group`` (see the module docstring)."""
    kind = _KIND.get(group, "entry point")
    claims: dict[str, list[PluginEntryPoint]] = {}
    ordered = sorted(
        _all_entry_points(group), key=lambda ep: (not ep.builtin, ep.dist, ep.name, ep.value)
    )
    for ep in ordered:
        claims.setdefault(ep.name, []).append(ep)
    chosen: dict[str, PluginEntryPoint] = {}
    found_notes: list[str] = []
    for name in sorted(claims):
        winner, *losers = claims[name]
        chosen[name] = winner
        if not losers:
            continue
        ignored = ", ".join(f"{ep.dist or '?'} ({ep.value})" for ep in losers)
        if winner.builtin:
            found_notes.append(
                f"plugin {kind} {name!r} of {ignored} is ignored: {name!r} is a built-in {kind}"
            )
        else:
            found_notes.append(
                f"plugin {kind} {name!r} is declared more than once: {winner.dist or '?'} "
                f"({winner.value}) is used, {ignored} ignored"
            )
    return Resolution(chosen, found_notes)


def entry_points(group: str) -> list[PluginEntryPoint]:
    """The entry points that own the names of ``group``, sorted by name."""
    return list(resolve(group).chosen.values())


def formatter_names() -> list[str]:
    """Registered output format names, without importing any formatter."""
    return [ep.name for ep in entry_points(FORMATTERS_GROUP)]


def notes() -> list[str]:
    """One line per plugin entry point ignored because its name was taken."""
    return [note for group in GROUPS for note in resolve(group).notes]


# -- short help of commands, without importing them ------------------------------------------


def _stamp(ep: PluginEntryPoint) -> list[Any] | None:
    """Size and mtime of the module file ``ep`` names (None: not found)."""
    module = sys.modules.get(ep.module)
    origin = getattr(module, "__file__", None) if module is not None else None
    if origin is None:
        try:
            import importlib.util

            spec = importlib.util.find_spec(ep.module)
        except (ImportError, ValueError):
            return None
        origin = spec.origin if spec is not None else None
    if not origin:
        return None
    try:
        info = os.stat(origin)
    except OSError:
        return None
    return [origin, info.st_mtime_ns, info.st_size]


def _fresh(stamp: Any) -> bool:
    if not isinstance(stamp, list) or len(stamp) != 3:
        return False
    try:
        info = os.stat(stamp[0])
    except (OSError, TypeError):
        return False
    return [info.st_mtime_ns, info.st_size] == stamp[1:]


def cached_help(ep: PluginEntryPoint) -> dict[str, Any] | None:
    """What :func:`remember_help` stored for ``ep``, if its module is unchanged."""
    entry = _state()["help"].get(f"{ep.group}:{ep.name}")
    if not isinstance(entry, dict) or entry.get("value") != ep.value:
        return None
    if not _fresh(entry.get("stamp")):
        return None
    info = entry.get("info")
    return info if isinstance(info, dict) else None


def remember_help(ep: PluginEntryPoint, info: dict[str, Any]) -> bool:
    """Keep ``info`` (JSON data) for ``ep``; False when its module file is unknown."""
    stamp = _stamp(ep)
    if stamp is None:
        return False
    _state()["help"][f"{ep.group}:{ep.name}"] = {"value": ep.value, "stamp": stamp, "info": info}
    return True


def save_help() -> None:
    """Write what :func:`remember_help` kept (best effort)."""
    _write_cache(cache_path(), _state())


def clear() -> None:
    """Forget everything read in this process (tests)."""
    _state.cache_clear()
    resolve.cache_clear()
