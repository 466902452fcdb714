"""What `status`, `agenda` and `task history` cost as the task engine grows.

Serves the sandbox over HTTPS on 127.0.0.1 holding N bulk tasks, a trigger
for every other bulk task (all on the seeded 'hourly' schedule, so the
number of schedules stays the same) and a failed run, then runs each
command as a separate process (`python -m vrgtask`, what users start) and
prints, per N: the median wall time, the requests the sandbox logged and the
bytes it answered. The request counts must not grow with N.

    python tests/bench/bench_daily.py                 # N = 100, 1,000, 10,000; 5 runs
    python tests/bench/bench_daily.py --sizes 100 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

COMMANDS = [
    ["task", "get", "nightly-snapshot", "-o", "json"],  # the baseline: one lookup
    ["status", "-o", "json", "--fail-on", "never"],
    ["agenda", "-o", "json"],
    ["task", "history", "tenant-poweroff", "-o", "json"],
    ["task", "history", "--errors", "--since", "7d", "-o", "json"],
]


def build_state(n_tasks: int) -> dict[str, Any]:
    from vrgtask.sandbox import seed_state

    state = seed_state(extra_tasks=n_tasks)
    triggers = state["tables"]["task_schedule_triggers"]
    key = state["next_key"]["task_schedule_triggers"]
    bulk = [int(k) for k, row in state["tables"]["tasks"].items() if row["name"].startswith("bulk")]
    for task_key in bulk[::2]:
        triggers[str(key)] = {"$key": key, "task": task_key, "schedule": 3}
        key += 1
    state["next_key"]["task_schedule_triggers"] = key
    return state


def run_once(argv: Sequence[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vrgtask", *argv],
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def main(args: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args(args)
    from pyvergeos import VergeClient

    from vrgtask.sandbox import SANDBOX_PASSWORD, SANDBOX_USERNAME, Emulator, MemoryStore
    from vrgtask.sandbox.server import SandboxServer

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {options.runs} runs, medians")
    print(f"{'N tasks':>8}  {'command':<52} {'seconds':>8} {'requests':>9} {'bytes':>11}")
    for n_tasks in [int(s) for s in options.sizes.split(",")]:
        server = SandboxServer(Emulator(MemoryStore(build_state(n_tasks))))
        server.start()
        try:
            assert server.ca_pem_path is not None
            env = {
                **os.environ,
                "HOME": tempfile.mkdtemp(prefix="bench-daily-"),
                "VERGE_HOST": server.host,
                "VERGE_USERNAME": SANDBOX_USERNAME,
                "VERGE_PASSWORD": SANDBOX_PASSWORD,
                "REQUESTS_CA_BUNDLE": str(server.ca_pem_path),
                "CURL_CA_BUNDLE": str(server.ca_pem_path),
            }
            os.environ.update({k: env[k] for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")})
            client = VergeClient(
                host=server.host, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD
            )
            client.tasks.execute(3, sandbox_fail="bench", sandbox_start_delay=0, sandbox_duration=0)
            client.disconnect()
            time.sleep(0.5)
            for argv in COMMANDS:
                times = []
                for _ in range(options.runs):
                    server.log.clear()
                    times.append(run_once(argv, env))
                entries = server.log.entries()
                size = sum(int(e["bytes"]) for e in entries)
                label = " ".join(argv)
                print(
                    f"{n_tasks:>8,}  {label:<52} {statistics.median(times):>8.3f} "
                    f"{len(entries):>9} {size:>11,}"
                )
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
