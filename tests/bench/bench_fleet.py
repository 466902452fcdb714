#!/usr/bin/env python
"""Fleet benchmark: one command across 20 VergeOS systems against one system.

Not part of the pytest run. Usage::

    python tests/bench/bench_fleet.py [--sites 20] [--latency 0.2] [--runs 5]
                                      [--no-vrg] [--vrg-venv DIR] [--json OUT.json]

What it does:

* starts ``--sites`` servers, each ``vrgtask sandbox serve --port 0`` in a
  process of its own (the seed: 6 tasks), and gives each one a fault rule
  that delays every answer by ``--latency`` seconds (a WAN-like round trip);
* writes one config file, read by both CLIs (``VRGTASK_CONFIG`` for vrgtask,
  ``$HOME/.vrg/config.toml`` for vrg): ``[default]`` is site 1 and
  ``[profile.site-NN]`` the others, so ``-A`` means the 20 sites for both;
* times, as fresh processes (the launcher of bench_vs_vrg.py: spawn to reap),
  ``--runs`` runs each after one discarded warm-up, the medians reported:

  ====================  =====================================================
  one site              ``vrgtask task list -o json`` (the default profile)
  fleet                 ``vrgtask -A task list -o json`` (default --parallel 8)
  fleet, --parallel N   ``vrgtask -A --parallel N task list -o json`` (N = sites)
  status one / fleet    ``vrgtask status -o json`` / ``vrgtask -A status ...``
  vrg one / fleet       ``vrg -o json task list`` / ``vrg -o json -A task list``
  ====================  =====================================================

  and checks each output (JSON rows with the right profiles; exit 0).

Target: fleet time at most 1.5 x one site's. vrg visits sites one after the
other, so its time grows with the number of sites. vrg 1.1.3 is installed as
bench_vs_vrg.py does (its own venv, reused); if that fails, vrg is skipped
with a printed note.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_vs_vrg import (
    DEFAULT_RESULTS,
    BenchError,
    Control,
    RunResult,
    SandboxProcess,
    default_vrg_venv,
    ensure_vrg,
    run_measured,
    vrgtask_executable,
)

TARGET = 1.5
SEED_TASKS = 6


def site_name(i: int) -> str:
    return f"site-{i:02d}"


@contextlib.contextmanager
def servers(
    vrgtask: Path, count: int, workdir: Path, env: dict[str, str]
) -> Iterator[list[SandboxProcess]]:
    started: list[SandboxProcess] = []
    try:
        for i in range(1, count + 1):
            home = workdir / site_name(i)
            home.mkdir()
            started.append(SandboxProcess(vrgtask, 0, home).start(env))
        yield started
    finally:
        for server in started:
            server.stop()


def write_config(path: Path, sites: list[SandboxProcess]) -> None:
    lines = []
    for i, server in enumerate(sites, start=1):
        header = "[default]" if i == 1 else f'[profile."{site_name(i)}"]'
        lines += [
            header,
            f'host = "{server.address}"',
            'username = "admin"',
            'password = "sandbox"',
            "verify_ssl = true",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o600)


def expect_rows(profiles: int | None) -> Callable[[RunResult], None]:
    def check(result: RunResult) -> None:
        if result.returncode != 0:
            raise BenchError(f"exit {result.returncode}: {result.stderr.decode()[-1000:]}")
        rows = json.loads(result.stdout)
        if profiles is None:
            if len(rows) != SEED_TASKS:
                raise BenchError(f"{len(rows)} rows, expected {SEED_TASKS}")
            return
        seen = {r.get("profile") or r.get("_profile") for r in rows}
        if len(seen) != profiles or len(rows) != profiles * SEED_TASKS:
            raise BenchError(f"{len(rows)} rows from {len(seen)} profiles, expected {profiles}")

    return check


def expect_status(profiles: int | None) -> Callable[[RunResult], None]:
    def check(result: RunResult) -> None:
        if result.returncode != 0:
            raise BenchError(f"exit {result.returncode}: {result.stderr.decode()[-1000:]}")
        data = json.loads(result.stdout)
        if profiles is not None and len(data) != profiles:
            raise BenchError(f"{len(data)} status objects, expected {profiles}")

    return check


def measure(
    label: str,
    argv: list[str],
    env: dict[str, str],
    workdir: Path,
    runs: int,
    check: Callable[[RunResult], None],
) -> dict[str, Any]:
    run_measured(argv, env, workdir)  # warm-up (page cache, byte-code)
    walls, cpus = [], []
    for _ in range(runs):
        result = run_measured(argv, env, workdir)
        check(result)
        walls.append(result.wall_s)
        cpus.append(result.cpu_s)
    entry = {
        "label": label,
        "argv": argv,
        "wall_median_s": statistics.median(walls),
        "wall_min_s": min(walls),
        "wall_max_s": max(walls),
        "cpu_median_s": statistics.median(cpus),
    }
    print(
        f"  {label:<34} {entry['wall_median_s']:7.3f} s  (min {entry['wall_min_s']:.3f}, "
        f"max {entry['wall_max_s']:.3f}; cpu {entry['cpu_median_s']:.3f} s)",
        flush=True,
    )
    return entry


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-vrg", action="store_true", help="do not run vrg")
    parser.add_argument("--vrg-venv", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.sites < 2 or args.runs < 1 or args.latency < 0:
        parser.error("--sites >= 2, --runs >= 1, --latency >= 0")

    vrgtask = vrgtask_executable()
    vrg: Path | None = None
    if not args.no_vrg:
        try:
            vrg = ensure_vrg(args.vrg_venv or default_vrg_venv())
        except (BenchError, OSError) as exc:
            print(f"note: vrg is skipped: it could not be installed ({exc})", file=sys.stderr)
    results: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "sites": args.sites,
        "latency_s": args.latency,
        "runs": args.runs,
        "measures": {},
    }
    with tempfile.TemporaryDirectory(prefix="vrgtask-bench-fleet-") as tmp:
        workdir = Path(tmp)
        base_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        print(f"starting {args.sites} sandbox servers ...", file=sys.stderr, flush=True)
        with servers(vrgtask, args.sites, workdir, base_env) as sites:
            for server in sites:
                control = Control(server.host, server.port, server.ca_file)
                control._request("POST", "faults", {"delay": args.latency, "times": None})
                control.close()
            bundle = workdir / "fleet-ca.pem"
            bundle.write_text("".join(s.ca_file.read_text() for s in sites))
            home = workdir / "home"
            config = home / ".vrg" / "config.toml"
            write_config(config, sites)
            env = {
                **base_env,
                "HOME": str(home),
                "XDG_DATA_HOME": str(home / ".local" / "share"),
                "VRGTASK_CONFIG": str(config),
                "REQUESTS_CA_BUNDLE": str(bundle),
                "CURL_CA_BUNDLE": str(bundle),
                "NO_COLOR": "1",
                "COLUMNS": "100",
            }
            n = args.sites
            m = results["measures"]
            v = str(vrgtask)
            print(
                f"{n} sites, {args.latency * 1000:.0f} ms per answer, median of {args.runs} runs:"
            )
            m["one"] = measure(
                "vrgtask task list (one site)",
                [v, "task", "list", "-o", "json"],
                env,
                workdir,
                args.runs,
                expect_rows(None),
            )
            m["fleet"] = measure(
                "vrgtask -A task list",
                [v, "-A", "task", "list", "-o", "json"],
                env,
                workdir,
                args.runs,
                expect_rows(n),
            )
            m["fleet_all_parallel"] = measure(
                f"vrgtask -A --parallel {n} task list",
                [v, "-A", "--parallel", str(n), "task", "list", "-o", "json"],
                env,
                workdir,
                args.runs,
                expect_rows(n),
            )
            m["status_one"] = measure(
                "vrgtask status (one site)",
                [v, "status", "-o", "json"],
                env,
                workdir,
                args.runs,
                expect_status(None),
            )
            m["status_fleet"] = measure(
                "vrgtask -A status",
                [v, "-A", "status", "-o", "json"],
                env,
                workdir,
                args.runs,
                expect_status(n),
            )
            m["status_fleet_all_parallel"] = measure(
                f"vrgtask -A --parallel {n} status",
                [v, "-A", "--parallel", str(n), "status", "-o", "json"],
                env,
                workdir,
                args.runs,
                expect_status(n),
            )
            if vrg is not None:
                m["vrg_one"] = measure(
                    "vrg task list (one site)",
                    [str(vrg), "-o", "json", "task", "list"],
                    env,
                    workdir,
                    args.runs,
                    expect_rows(None),
                )
                m["vrg_fleet"] = measure(
                    "vrg -A task list",
                    [str(vrg), "-o", "json", "-A", "task", "list"],
                    env,
                    workdir,
                    args.runs,
                    expect_rows(n),
                )

    def ratio(a: str, b: str) -> float | None:
        if a not in m or b not in m:
            return None
        return float(m[a]["wall_median_s"] / m[b]["wall_median_s"])

    checks = {
        "task list, -A (default --parallel 8) / one": ratio("fleet", "one"),
        f"task list, -A --parallel {n} / one": ratio("fleet_all_parallel", "one"),
        "status, -A (default --parallel 8) / one": ratio("status_fleet", "status_one"),
        f"status, -A --parallel {n} / one": ratio("status_fleet_all_parallel", "status_one"),
        "vrg task list, -A / one": ratio("vrg_fleet", "vrg_one"),
    }
    results["ratios"] = checks
    print(f"\nratios (target: vrgtask fleet <= {TARGET} x one site):")
    for label, value in checks.items():
        if value is None:
            continue
        mark = "" if label.startswith("vrg ") else ("  ok" if value <= TARGET else "  ABOVE TARGET")
        print(f"  {label:<44} {value:5.2f} x{mark}")
    out = args.json or DEFAULT_RESULTS / f"bench-fleet-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
