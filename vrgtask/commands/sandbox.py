"""``vrgtask sandbox``: the embedded VergeOS emulator (status, reset, serve).

``--sandbox`` (or ``--host sandbox``) makes every command talk to the
emulator in-process, with its state in a per-user file. ``sandbox serve``
puts the same emulator behind HTTPS on 127.0.0.1 for tools that need a real
server (pyvergeos scripts, the other VergeOS CLI, benchmarks).
"""

from __future__ import annotations

from typing import Any

import click

from vrgtask.commands._common import examples
from vrgtask.context import get_app, output_options
from vrgtask.formatters import Column

__all__ = ["sandbox"]

STATUS_COLUMNS = [
    Column("path", "State file"),
    Column("exists", "Exists"),
    Column("size", "Size (bytes)"),
    Column("tasks", "Tasks"),
    Column("task_schedules", "Schedules"),
    Column("task_schedule_triggers", "Triggers"),
    Column("task_events", "Events"),
    Column("task_scripts", "Scripts"),
    Column("digest", "Digest", wide=True),
]


TABLES = ("tasks", "task_schedules", "task_schedule_triggers", "task_events", "task_scripts")


def _store() -> Any:
    from vrgtask.sandbox import FileStore, default_state_path

    return FileStore(default_state_path())


@click.group(
    epilog=examples(
        "vrgtask --sandbox task list",
        "vrgtask sandbox status",
        "vrgtask sandbox reset",
        "vrgtask sandbox serve --port 9443",
    )
)
def sandbox() -> None:
    """The embedded VergeOS sandbox: try every command without a server.

    \b
    Use it with --sandbox (or --host sandbox, or VERGE_HOST=sandbox).
    Its state lives in $VRGTASK_SANDBOX_STATE, else
    $XDG_DATA_HOME/vrgtask/sandbox.json (~/.local/share/vrgtask/sandbox.json),
    made with a small seed on first use. Credentials: admin / sandbox,
    token sandbox-token; auditor / auditor is read-only.
    \b
    A task run takes 3 seconds; make one fail with
    --params-json '{"sandbox_fail": "disk full"}' (or the same key in its
    settings), and set its length with "sandbox_duration" (seconds).
    """


@sandbox.command(
    "status", epilog=examples("vrgtask sandbox status", "vrgtask sandbox status -o json")
)
@output_options
def status() -> None:
    """Show where the sandbox state lives and what it holds."""
    info = _store().status()
    row: dict[str, Any] = {"path": info["path"], "exists": info["exists"], "size": info["size"]}
    for table in (
        "tasks",
        "task_schedules",
        "task_schedule_triggers",
        "task_events",
        "task_scripts",
    ):
        row[table] = info["counts"].get(table, 0)
    row["digest"] = info["digest"]
    get_app().render_one(row, STATUS_COLUMNS)


@sandbox.command(
    "reset",
    epilog=examples("vrgtask sandbox reset", "vrgtask sandbox reset --tasks 1000"),
)
@click.option(
    "--tasks",
    type=click.IntRange(min=0, max=100_000),
    default=0,
    show_default=True,
    help="Extra generated tasks (bulk-task-00001, ...) on top of the seed.",
)
@output_options
def reset(tasks: int) -> None:
    """Restore the seed: every change made in the sandbox is discarded.

    Also the way out of a corrupt state file, which is otherwise never
    replaced.
    """
    store = _store()
    store.reset(extra_tasks=tasks)
    extra = f" with {tasks} extra tasks" if tasks else ""
    get_app().done(f"Sandbox reset to the seed{extra}: {store.path}", {"path": str(store.path)})


@sandbox.command(
    "serve",
    epilog=examples(
        "vrgtask sandbox serve",
        "vrgtask sandbox serve --port 9443 --tasks 10000",
        "vrgtask sandbox serve --state ~/.local/share/vrgtask/sandbox.json",
    ),
)
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=0,
    show_default=True,
    help="TCP port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--tasks",
    type=click.IntRange(min=0, max=100_000),
    default=0,
    show_default=True,
    help="Extra generated tasks in the in-memory state.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False),
    help="Serve this state file (shared with --sandbox) instead of in-memory state.",
)
@click.option(
    "--cert",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM certificate to serve (default: one made at start-up with trustme).",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False),
    help="Private key of --cert, when not inside it.",
)
@click.option(
    "--ca-dir",
    type=click.Path(file_okay=False),
    help="Where to write the generated CA certificate (default: a temporary directory).",
)
def serve(
    port: int,
    tasks: int,
    state: str | None,
    cert: str | None,
    key: str | None,
    ca_dir: str | None,
) -> None:
    """Serve the sandbox over HTTPS on 127.0.0.1 until Ctrl-C.

    Prints the host:port and the credentials to use. Without --cert it needs
    trustme (pipx inject vrgtask trustme, or pip install 'vrgtask[sandbox]').
    """
    from vrgtask.sandbox import Emulator, FileStore, MemoryStore, seed_state
    from vrgtask.sandbox.server import SandboxServer

    if key is not None and cert is None:
        raise click.UsageError("--key needs --cert")
    store: Any = FileStore(state) if state is not None else MemoryStore(seed_state(tasks))
    if state is not None and tasks:
        store.reset(extra_tasks=tasks)
    elif state is not None:
        store.status()  # an unusable state file: exit 3 now, not a 500 on every request
    server = SandboxServer(Emulator(store), port=port, certfile=cert, keyfile=key, ca_dir=ca_dir)
    server.start()
    ca = server.ca_pem_path
    lines = [
        f"vrgtask sandbox listening on https://{server.host}/ (Ctrl-C to stop)",
        f"  VERGE_HOST={server.host}",
        "  credentials: admin / sandbox, or token sandbox-token (auditor / auditor: read-only)",
    ]
    if ca is not None:
        lines.append(f"  trust it:   export REQUESTS_CA_BUNDLE={ca}")
    bundle = f"REQUESTS_CA_BUNDLE={ca} " if ca is not None else ""
    lines.append(
        f"  try:        VERGE_HOST={server.host} VERGE_TOKEN=sandbox-token {bundle}"
        "vrgtask task list"
    )
    for line in lines:
        click.echo(line)
    import signal

    signal.signal(signal.SIGTERM, _interrupt)
    server.serve_forever()  # returns after Ctrl-C or SIGTERM, server stopped
    click.echo("sandbox stopped", err=True)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
