"""The reliability matrices at a glance: a Markdown table of cases and results.

Run it from the repository root::

    python tests/e2e/matrix_summary.py [EXTRA PYTEST ARGS...]

It runs pytest on the matrix modules with ``--junitxml``, prints a Markdown
table (matrix, cases, passed, failed, skipped) and, when the environment
variable ``VRGTASK_MATRIX_SUMMARY`` names a file, writes the table there too
(for the README's reliability section). The exit status is pytest's.

From Python, ``summary_markdown()`` gives the table of the planned cases (what
pytest collects, nothing run), and ``summary_markdown(results)`` the table of
the results of a run (``run_matrices()`` or ``results_from_junit(path)``).

A case is one test item of a matrix module (each parametrized case counts
once), so the numbers are exactly what pytest reports for those modules.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ENV_SUMMARY",
    "MATRICES",
    "Result",
    "collected_cases",
    "main",
    "results_from_junit",
    "run_matrices",
    "summary_markdown",
]

ENV_SUMMARY = "VRGTASK_MATRIX_SUMMARY"
ROOT = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent

#: Module name -> what the matrix proves (the README's wording, in short).
MATRICES: dict[str, str] = {
    "test_matrix_faults": "Fault injection: exit codes, one-line errors, retries, state",
    "test_matrix_bad_input": "Bad input: exit 2, names the option, sends nothing",
    "test_hostile_names": "Hostile names: exact lookup and delete, escaped output",
    "test_secrets": "Secrets: never printed, redacted log, TLS failure",
    "test_interrupts": "Ctrl-C, delete without --yes, broken plugins",
    "test_sandbox_durability": "Sandbox durability: concurrency, kills, corrupt file",
    "test_matrix_sandbox_hostile": "Sandbox hostile input: dates, failed writes, deep and "
    "large bodies, hostile HTTP, special state files, symlinks",
    "test_matrix_hostile_server": "Hostile servers, files and settings: bounded, one line",
}


@dataclass
class Result:
    """Counts of one matrix module."""

    cases: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0


def _module_paths() -> list[str]:
    return [str(E2E / f"{name}.py") for name in MATRICES]


def _module_of(text: str) -> str | None:
    """The matrix module named in a junit classname or a pytest node id."""
    parts = text.replace("/", ".").replace("::", ".").split(".")
    return next((part for part in parts if part in MATRICES), None)


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *_module_paths(), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def collected_cases() -> dict[str, Result]:
    """The cases pytest collects per matrix module (nothing is run)."""
    proc = _pytest("--collect-only", "-q")
    if proc.returncode != 0:
        raise RuntimeError(f"pytest could not collect the matrices:\n{proc.stdout}{proc.stderr}")
    counts = {name: Result() for name in MATRICES}
    for line in proc.stdout.splitlines():
        module = _module_of(line.split("::", 1)[0]) if "::" in line else None
        if module is not None:
            counts[module].cases += 1
    return counts


def results_from_junit(path: str | os.PathLike[str]) -> dict[str, Result]:
    """Counts per matrix module from a junit XML file written by pytest."""
    tree = ET.parse(path)  # noqa: S314  # pytest's own report, not untrusted input
    results = {name: Result() for name in MATRICES}
    for case in tree.iter("testcase"):
        module = _module_of(case.get("classname", ""))
        if module is None:
            continue
        result = results[module]
        result.cases += 1
        if case.find("failure") is not None or case.find("error") is not None:
            result.failed += 1
        elif case.find("skipped") is not None:
            result.skipped += 1
        else:
            result.passed += 1
    return results


def run_matrices(pytest_args: Sequence[str] = ()) -> tuple[int, dict[str, Result]]:
    """Run the matrix modules; pytest's exit status and the counts per module."""
    with tempfile.TemporaryDirectory(prefix="vrgtask-matrices-") as directory:
        junit = Path(directory) / "junit.xml"
        proc = _pytest("-q", f"--junitxml={junit}", *pytest_args)
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        if not junit.exists():
            raise RuntimeError("pytest wrote no junit report")
        return proc.returncode, results_from_junit(junit)


def summary_markdown(results: Mapping[str, Result] | None = None) -> str:
    """The Markdown table: planned cases (no ``results``), or a run's results."""
    ran = results is not None
    counts = dict(results) if results is not None else collected_cases()
    if ran:
        lines = [
            "| Matrix | Module | Cases | Passed | Failed | Skipped |",
            "|---|---|---:|---:|---:|---:|",
        ]
    else:
        lines = ["| Matrix | Module | Cases |", "|---|---|---:|"]
    total = Result()
    for name, title in MATRICES.items():
        r = counts.get(name, Result())
        total.cases += r.cases
        total.passed += r.passed
        total.failed += r.failed
        total.skipped += r.skipped
        row = f"| {title} | `{name}.py` | {r.cases} |"
        lines.append(row + (f" {r.passed} | {r.failed} | {r.skipped} |" if ran else ""))
    row = f"| **Total** | | **{total.cases}** |"
    if ran:
        row += f" **{total.passed}** | **{total.failed}** | **{total.skipped}** |"
    lines.append(row)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the matrices, print the table, write it to $VRGTASK_MATRIX_SUMMARY if set."""
    args = list(sys.argv[1:] if argv is None else argv)
    status, results = run_matrices(args)
    table = summary_markdown(results)
    sys.stdout.write(table)
    target = os.environ.get(ENV_SUMMARY)
    if target:
        Path(target).write_text(table, encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
