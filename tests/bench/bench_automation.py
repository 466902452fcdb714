"""Plan time and request count of ``vrgtask diff``/``apply`` for 10, 100 and 1,000 tasks.

Not part of the pytest run. For each N: the sandbox's HTTPS server holds the
seed plus N bulk tasks; the document is that system's own export (so the
plan is empty), and a second document changes every bulk task's description
(so the plan holds N updates). Planning is timed in-process with a real
pyvergeos client (connected beforehand), median of ``--runs`` runs; the
requests are counted from the server's request log. A document of 1,000
tasks should plan with the same number of requests as one of 10::

    .venv/bin/python tests/bench/bench_automation.py [--runs 5] [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any


def _plan_once(client: Any, text: str, server: Any) -> tuple[float, int, int]:
    from vrgtask.automation.document import parse_document
    from vrgtask.automation.plan import build_plan
    from vrgtask.automation.system import read_system

    server.log.clear()
    began = time.perf_counter()
    doc = parse_document(text, "bench.yaml")
    plan = build_plan(client, doc, read_system(client), prune=False)
    elapsed = time.perf_counter() - began
    return elapsed, len(server.log.entries()), len(plan.ops)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from pyvergeos import VergeClient

    from vrgtask.automation.document import dump_document
    from vrgtask.automation.system import export_document, read_system
    from vrgtask.sandbox import SANDBOX_PASSWORD, SANDBOX_USERNAME, Emulator, MemoryStore
    from vrgtask.sandbox.seed import seed_state
    from vrgtask.sandbox.server import SandboxServer

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; median of {args.runs} runs")
    print(f"{'tasks':>6} {'document':>9} {'changes':>8} {'requests':>9} {'plan s':>8}")
    for n in sizes:
        server = SandboxServer(Emulator(MemoryStore(seed_state(extra_tasks=n))))
        server.start()
        try:
            assert server.ca_pem_path is not None
            os.environ["REQUESTS_CA_BUNDLE"] = str(server.ca_pem_path)
            os.environ["CURL_CA_BUNDLE"] = str(server.ca_pem_path)
            client = VergeClient(
                host=server.host, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD
            )
            same = dump_document(export_document(client, read_system(client)), "yaml")
            changed = same.replace("description: bulk\n", "description: bulk, edited\n")
            for label, text in (("same", same), ("edited", changed)):
                results = [_plan_once(client, text, server) for _ in range(args.runs)]
                seconds = statistics.median(r[0] for r in results)
                requests = {r[1] for r in results}
                ops = results[0][2]
                shown = "/".join(str(r) for r in sorted(requests))
                print(f"{n + 5:>6} {label:>9} {ops:>8} {shown:>9} {seconds:>8.3f}")
            client.disconnect()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
