"""Choosing profiles, and declaring that a command runs across several.

Every invocation and every command module imports this small module; the
fleet machinery (:mod:`vrgtask.fleet`) is imported only when several profiles
were selected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from vrgtask.context import AppContext
from vrgtask.errors import ConfigError

__all__ = ["FleetSpec", "all_profile_names", "fans_out", "select_profiles", "split_profiles"]

C = TypeVar("C", bound=click.Command)


@dataclass(frozen=True)
class FleetSpec:
    """How a command runs across a fleet (see :func:`fans_out`)."""

    sections: bool = False
    single_only: tuple[str, ...] = ()
    runner: Callable[..., int] | str | None = None


def fans_out(
    *,
    sections: bool = False,
    single_only: Sequence[str] = (),
    runner: Callable[..., int] | str | None = None,
) -> Callable[[C], C]:
    """Declare that a command runs across several profiles.

    Args:
        sections: Tables show each profile's output under a heading of its
            own, then a summary line (status, doctor); otherwise the rows of
            every profile make one table with a leading Profile column.
        single_only: Parameters that make sense for one system only (e.g.
            ``watch``): given with several profiles, they are refused (exit 2).
        runner: ``runner(fleet, app, callback, kwargs) -> exit code`` replaces
            the generic "run everywhere and merge" (export, diff, apply);
            ``"module:function"`` imports it only when a fleet runs.
    """
    spec = FleetSpec(sections=sections, single_only=tuple(single_only), runner=runner)

    def mark(command: C) -> C:
        original = command.callback
        assert original is not None, "fans_out needs a command with a callback"

        @functools.wraps(original)
        def callback(*args: Any, **kwargs: Any) -> Any:
            ctx = click.get_current_context()
            app = ctx.find_object(AppContext)
            if getattr(app, "fleet", None) is None:  # one system (or one profile of a fleet)
                return original(*args, **kwargs)
            from vrgtask.fleet import run_declared

            run_declared(spec, ctx, app, original, kwargs)
            return None

        command.callback = callback
        command.fleet_spec = spec  # type: ignore[attr-defined]
        return command

    return mark


# -- choosing the profiles ----------------------------------------------------


def split_profiles(values: Iterable[str]) -> list[str]:
    """``("a,b", "c")`` -> ``["a", "b", "c"]``: commas split, blanks dropped,
    the first of repeated names kept."""
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if name and name not in names:
                names.append(name)
    return names


def all_profile_names(env: Mapping[str, str]) -> list[str]:
    """Every profile of the config file: ``default`` when ``[default]`` has a
    host, then each ``[profile.NAME]`` in file order."""
    from vrgtask.config import config_path, read_config_file

    path = config_path(env)
    data = read_config_file(path)
    names = []
    default = data.get("default")
    if isinstance(default, dict) and default.get("host"):
        names.append("default")
    profiles = data.get("profile", {})
    if isinstance(profiles, dict):
        names.extend(str(name) for name in profiles)
    if not names:
        where = f"{path}" if path.exists() else f"{path} (it does not exist)"
        raise ConfigError(f"--all-profiles: no profiles in {where}")
    return names


def select_profiles(
    values: Sequence[str], all_profiles: bool, env: Mapping[str, str]
) -> tuple[list[str], bool]:
    """The profiles asked for, and whether they make a fleet.

    ``-A`` always makes a fleet (its output has the Profile column even when
    the file has one profile); ``-p`` makes one only with two names or more.
    """
    names = split_profiles(values)
    if all_profiles:
        if names:
            raise click.UsageError(
                "--all-profiles selects every profile: give it or -p/--profile, not both"
            )
        return all_profile_names(env), True
    if any(not value.strip().strip(",") for value in values):
        raise click.BadParameter("a profile name is empty", param_hint="'-p' / '--profile'")
    return names, len(names) > 1
