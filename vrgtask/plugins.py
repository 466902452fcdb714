"""The entry points of vrgtask's plugin groups, found without a slow start-up.

``importlib.metadata`` is the source of truth: it reads every installed
distribution's ``entry_points.txt``. Importing it and scanning costs about
25 ms, a third of ``vrgtask --help``, so its answer for vrgtask's two groups
is remembered (see :func:`cache_path`) together with a fingerprint of the installed
distributions: the name and modification time of every ``*.dist-info`` and
``*.egg-info`` directory on ``sys.path``. Installing, upgrading or removing
a package changes that, so the next run scans again; a cache that cannot be
read or written is ignored.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import sys
from typing import Any

from vrgtask import __version__

__all__ = ["COMMANDS_GROUP", "FORMATTERS_GROUP", "PluginEntryPoint", "cache_path", "entry_points"]

COMMANDS_GROUP = "vrgtask.commands"
FORMATTERS_GROUP = "vrgtask.formatters"
GROUPS = (COMMANDS_GROUP, FORMATTERS_GROUP)
_CACHE_VERSION = 1


class PluginEntryPoint:
    """What click-plugins and the formatter registry need of an entry point."""

    __slots__ = ("group", "name", "value")

    def __init__(self, name: str, value: str, group: str) -> None:
        self.name = name
        self.value = value
        self.group = group

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
        return f"PluginEntryPoint({self.name!r}, {self.value!r}, {self.group!r})"


def cache_path() -> str:
    """Where the entry points found last time are remembered.

    Next to vrgtask's own bytecode (``vrgtask/__pycache__``), like the
    bytecode itself, when that is writable: each installation then keeps its
    own answer whatever HOME is, and uninstalling removes it. Otherwise the
    user's cache directory, one file per installation. ``VRGTASK_PLUGIN_CACHE``
    names the file outright.
    """
    override = os.environ.get("VRGTASK_PLUGIN_CACHE")
    if override:
        return override
    package_cache = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    if os.access(package_cache, os.W_OK) or (
        not os.path.exists(package_cache) and os.access(os.path.dirname(package_cache), os.W_OK)
    ):
        return os.path.join(package_cache, "vrgtask-entry-points.json")
    import hashlib

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    install = hashlib.sha1(sys.prefix.encode(), usedforsecurity=False).hexdigest()[:12]
    return os.path.join(base, "vrgtask", f"entry-points-{install}.json")


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


def _scan() -> dict[str, list[list[str]]]:
    from importlib import metadata

    found: dict[str, list[list[str]]] = {group: [] for group in GROUPS}
    for group in GROUPS:
        seen: set[str] = set()
        for ep in metadata.entry_points(group=group):
            if ep.name not in seen:  # the first distribution on sys.path wins
                seen.add(ep.name)
                found[group].append([ep.name, ep.value])
    return found


def _read_cache(path: str, fingerprint: list[Any]) -> dict[str, list[list[str]]] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return None
    if data.get("fingerprint") != fingerprint:
        return None
    groups = data.get("groups")
    if not isinstance(groups, dict) or any(not isinstance(groups.get(g), list) for g in GROUPS):
        return None
    return groups


def _write_cache(path: str, fingerprint: list[Any], groups: dict[str, list[list[str]]]) -> None:
    payload = {"version": _CACHE_VERSION, "fingerprint": fingerprint, "groups": groups}
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        pass  # a read-only home just means scanning every time


@functools.lru_cache(maxsize=1)
def _groups() -> dict[str, list[list[str]]]:
    path = cache_path()
    fingerprint = _fingerprint()
    groups = _read_cache(path, fingerprint)
    if groups is None:
        groups = _scan()
        _write_cache(path, fingerprint, groups)
    return groups


def entry_points(group: str) -> list[PluginEntryPoint]:
    """The entry points registered in ``group``, sorted by name."""
    pairs = sorted(_groups().get(group, []))
    return [PluginEntryPoint(str(name), str(value), group) for name, value in pairs]
