"""Import the parts of pyvergeos a command uses, not the whole SDK.

``import pyvergeos`` runs the package's ``__init__``, which imports every one
of its resource managers (about a hundred modules: VMs, networks, tenants,
billing, ...) to re-export their names. A vrgtask command needs the client
and three or four task-engine managers. :func:`load` registers the packages
``pyvergeos`` and ``pyvergeos.resources`` without running their
``__init__``, so ``import pyvergeos.client`` and
``import pyvergeos.resources.tasks`` load just those modules (and what they
import themselves).

Nothing is lost: the first time anything asks either package for a name it
does not have yet (``from pyvergeos import VergeClient``,
``pyvergeos.__version__``), the package's own ``__init__`` runs in place and
the name is there, exactly as after a plain ``import pyvergeos``. A package
imported before :func:`load` is left as it is. If pyvergeos is laid out in a
way this does not expect, :func:`load` does nothing and imports stay plain.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

__all__ = ["PACKAGES", "load"]

#: The packages registered without their ``__init__`` (parents first).
PACKAGES = ("pyvergeos", "pyvergeos.resources")

_LOCK = threading.RLock()


class _DeferredPackage(types.ModuleType):
    """A package whose ``__init__`` runs the first time a name is missing."""

    def __getattr__(self, name: str) -> Any:
        with _LOCK:
            if type(self) is _DeferredPackage:
                # A submodule not imported yet (``from pyvergeos import filters``)
                # is imported, as the import system would; anything else needs
                # the package's own __init__.
                sub = f"{self.__name__}.{name}"
                if not name.startswith("__") and importlib.util.find_spec(sub) is not None:
                    return importlib.import_module(sub)
                _complete(self)
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def _complete(package: types.ModuleType) -> None:
    """Run ``package``'s own ``__init__`` in its namespace (once)."""
    package.__class__ = types.ModuleType  # from now on a plain module: no recursion
    spec = package.__spec__
    loader = getattr(spec, "loader", None)
    get_code = getattr(loader, "get_code", None)
    if spec is None or get_code is None:
        return
    code = get_code(spec.name)
    if code is not None:
        exec(code, package.__dict__)  # noqa: S102 - the package's own __init__


def load() -> None:
    """Register pyvergeos' packages without their ``__init__`` (idempotent).

    Call it before the first ``import pyvergeos...`` of the process; once the
    SDK is imported (either way) it does nothing.
    """
    with _LOCK:
        if PACKAGES[0] in sys.modules:
            return
        made: list[tuple[str, types.ModuleType]] = []
        for name in PACKAGES:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):  # a parent we just made cannot find it
                spec = None
            if spec is None or spec.submodule_search_locations is None or spec.origin is None:
                for made_name, _ in made:  # unexpected layout: leave imports plain
                    sys.modules.pop(made_name, None)
                return
            package = _DeferredPackage(name)
            package.__spec__ = spec
            package.__path__ = list(spec.submodule_search_locations)
            package.__file__ = spec.origin
            package.__package__ = name
            package.__loader__ = spec.loader
            sys.modules[name] = package
            made.append((name, package))
        parent, child = made[0][1], made[1][1]
        parent.__dict__["resources"] = child
