"""vrgtask.sdk: the SDK's packages without their __init__, and nothing lost.

Every check runs in a fresh interpreter: what is imported is the point.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(value, dict)
    return value


def test_client_and_task_managers_load_without_every_resource_manager() -> None:
    out = fresh(
        """
        import json, sys
        from vrgtask import sdk
        sdk.load()
        import pyvergeos.client, pyvergeos.resources.tasks, pyvergeos.resources.logs
        loaded = sorted(m for m in sys.modules if m.startswith("pyvergeos.resources."))
        print(json.dumps({"loaded": loaded}))
        """
    )
    loaded = out["loaded"]
    assert isinstance(loaded, list)
    assert "pyvergeos.resources.tasks" in loaded
    assert "pyvergeos.resources.api_keys" not in loaded  # what the package __init__ loads
    assert len(loaded) < 10


def test_a_name_of_the_package_runs_its_init_in_place() -> None:
    out = fresh(
        """
        import json, sys
        from vrgtask import sdk
        sdk.load()
        import pyvergeos
        import pyvergeos.client
        before = "pyvergeos.resources.api_keys" in sys.modules
        from pyvergeos import VergeClient, NotFoundError, __version__
        from pyvergeos.resources import APIKeyManager, ResourceManager
        import importlib.metadata as md
        print(json.dumps({
            "before": before,
            "after": "pyvergeos.resources.api_keys" in sys.modules,
            "same_client": VergeClient is pyvergeos.client.VergeClient,
            "same_package": pyvergeos is sys.modules["pyvergeos"],
            "version": __version__ == md.version("pyvergeos"),
            "plain": type(pyvergeos).__name__,
            "all": sorted(pyvergeos.__all__) == sorted(set(pyvergeos.__all__)),
            "managers": [APIKeyManager.__name__, ResourceManager.__name__],
        }))
        """
    )
    assert out == {
        "before": False,
        "after": True,
        "same_client": True,
        "same_package": True,
        "version": True,
        "plain": "module",
        "all": True,
        "managers": ["APIKeyManager", "ResourceManager"],
    }


def test_a_submodule_asked_for_by_name_is_imported_not_the_whole_package() -> None:
    out = fresh(
        """
        import json, sys
        from vrgtask import sdk
        sdk.load()
        from pyvergeos import filters, exceptions
        print(json.dumps({
            "filters": filters.__name__,
            "exceptions": exceptions.__name__,
            "whole": "pyvergeos.resources.api_keys" in sys.modules,
        }))
        """
    )
    assert out == {
        "filters": "pyvergeos.filters",
        "exceptions": "pyvergeos.exceptions",
        "whole": False,
    }


def test_a_name_the_package_does_not_have_is_an_attribute_error() -> None:
    out = fresh(
        """
        import json
        from vrgtask import sdk
        sdk.load()
        import pyvergeos
        try:
            pyvergeos.no_such_name
        except AttributeError as exc:
            print(json.dumps({"error": str(exc)}))
        """
    )
    assert out == {"error": "module 'pyvergeos' has no attribute 'no_such_name'"}


def test_load_leaves_an_sdk_imported_before_it_alone() -> None:
    out = fresh(
        """
        import json, sys
        import pyvergeos
        before = sys.modules["pyvergeos"]
        from vrgtask import sdk
        sdk.load()
        sdk.load()
        print(json.dumps({"same": sys.modules["pyvergeos"] is before,
                          "plain": type(before).__name__}))
        """
    )
    assert out == {"same": True, "plain": "module"}


@pytest.mark.parametrize("missing", ["pyvergeos", "pyvergeos.resources"])
def test_an_unexpected_layout_leaves_imports_plain(missing: str) -> None:
    out = fresh(
        f"""
        import importlib.util, json, sys
        real = importlib.util.find_spec
        def find_spec(name, package=None):
            return None if name == {missing!r} else real(name, package)
        importlib.util.find_spec = find_spec
        from vrgtask import sdk
        sdk.load()
        importlib.util.find_spec = real
        registered = [n for n in sdk.PACKAGES if n in sys.modules]
        import pyvergeos
        print(json.dumps({{"registered": registered, "plain": type(pyvergeos).__name__,
                          "has_client": hasattr(pyvergeos, "VergeClient")}}))
        """
    )
    assert out == {"registered": [], "plain": "module", "has_client": True}


def test_the_cli_talks_to_the_sandbox_through_the_lean_import() -> None:
    out = fresh(
        """
        import contextlib, io, json, os, sys, tempfile
        os.environ["VRGTASK_SANDBOX_STATE"] = os.path.join(tempfile.mkdtemp(), "s.json")
        from vrgtask.cli import main
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(["--sandbox", "task", "get", "nightly-snapshot", "-o", "json"])
        print(json.dumps({
            "code": code,
            "name": json.loads(buffer.getvalue())["name"],
            "whole": "pyvergeos.resources.api_keys" in sys.modules,
        }))
        """
    )
    assert out == {"code": 0, "name": "nightly-snapshot", "whole": False}
