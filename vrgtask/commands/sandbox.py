"""``vrgtask sandbox``: the embedded VergeOS emulator (status, reset, config, serve).

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

CONFIG_COLUMNS = [
    Column("setting", "Setting"),
    Column("value", "Stored"),
    Column("effective", "In force"),
    Column("env", "Environment", wide=True),
]

#: Setting -> (environment variable that overrides it, help text).
SETTINGS = {
    "actions": ("VRGTASK_SANDBOX_ACTIONS", "platform profile for actions: both, post or put"),
    "strict": ("VRGTASK_SANDBOX_STRICT", "refuse unknown/read-only fields with 422: on or off"),
    "start_delay": (
        "VRGTASK_SANDBOX_START_DELAY",
        "seconds a queued run waits before it starts (default 1)",
    ),
}


def _store() -> Any:
    from vrgtask.sandbox import FileStore, default_state_path

    return FileStore(default_state_path())


@click.group(
    epilog=examples(
        "vrgtask --sandbox task list",
        "vrgtask sandbox status",
        "vrgtask sandbox reset",
        "vrgtask sandbox config actions post",
        "vrgtask sandbox serve --port 9443 --actions put",
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
    A task run is queued: it starts after 1 second and takes 3; make one
    fail with --params-json '{"sandbox_fail": "disk full"}' (or the same key
    in its settings), set its length with "sandbox_duration" and its start
    delay with "sandbox_start_delay" (seconds). Failures are written to the
    logs table, as on VergeOS. `vrgtask sandbox config` chooses how the
    sandbox takes actions (both forms, POST only, PUT only), strict writes,
    and the sandbox-wide start delay. See docs/platform-behaviour.md.
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


def _setting_value(key: str, text: str) -> Any:
    """Parse VALUE of ``sandbox config KEY VALUE``; ``default`` restores the default."""
    from vrgtask.sandbox.seed import ACTION_PROFILES, DEFAULT_SETTINGS

    if text == "default":
        return DEFAULT_SETTINGS[key]
    if key == "actions":
        if text not in ACTION_PROFILES:
            raise click.BadParameter(
                f"{text!r} is not a profile: use one of {', '.join(ACTION_PROFILES)}",
                param_hint="VALUE",
            )
        return text
    if key == "strict":
        from vrgtask.sandbox.emulator import parse_bool

        flag = parse_bool(text)
        if flag is None or not text.strip():
            raise click.BadParameter(f"{text!r} is not on/off (or 1/0)", param_hint="VALUE")
        return flag
    try:
        delay = float(text)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 3600:
        raise click.BadParameter(
            f"{text!r} is not a number of seconds between 0 and 3600", param_hint="VALUE"
        )
    return delay


@sandbox.command(
    "config",
    epilog=examples(
        "vrgtask sandbox config",
        "vrgtask sandbox config actions post",
        "vrgtask sandbox config strict on",
        "vrgtask sandbox config start_delay 0",
        "vrgtask sandbox config actions default",
    ),
)
@click.argument("key", metavar="[KEY]", required=False, type=click.Choice(sorted(SETTINGS)))
@click.argument("value", metavar="[VALUE]", required=False)
@output_options
def config(key: str | None, value: str | None) -> None:
    """Show or change the sandbox's settings (kept in its state file).

    \b
    actions      how actions are taken, as on the platforms the sources
                 describe: both (default), post (POST /task_actions works,
                 PUT ?action= answers 200 and does nothing), put (only
                 PUT ?action=; POST /task_actions is 404)
    strict       on: unknown and read-only fields in a write are a 422
                 (default off: dropped with 200, as VergeOS does)
    start_delay  seconds a queued run waits before it starts (default 1)

    The environment variables VRGTASK_SANDBOX_ACTIONS, VRGTASK_SANDBOX_STRICT
    and VRGTASK_SANDBOX_START_DELAY override the stored values. `vrgtask
    sandbox reset` restores the defaults.
    """
    import os

    from vrgtask.sandbox import Emulator

    store = _store()
    parsed = _setting_value(key, value) if key is not None and value is not None else None
    with store.transaction() as state:
        emulator = Emulator(store)
        emulator.settings(state)  # a bad environment variable stops here, nothing changed
        if key is not None and value is not None:
            state["settings"][key] = parsed
            store.mark_changed()
        stored = dict(state["settings"])
        effective = emulator.settings(state)
    app = get_app()
    if key is not None and value is not None:
        app.done(f"Sandbox setting {key} = {_show(parsed)}", {"setting": key, "value": parsed})
        return
    rows = [
        {
            "setting": name,
            "value": _show(stored.get(name)),
            "effective": _show(getattr(effective, name)),
            "env": os.environ.get(env) or "",
        }
        for name, (env, _help) in SETTINGS.items()
        if key is None or name == key
    ]
    if key is not None:
        app.render_one(rows[0], CONFIG_COLUMNS)
    else:
        app.render_list(rows, CONFIG_COLUMNS, key="setting")


def _show(value: Any) -> str:
    if value is None:
        return "default"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


@sandbox.command(
    "serve",
    epilog=examples(
        "vrgtask sandbox serve",
        "vrgtask sandbox serve --port 9443 --tasks 10000",
        "vrgtask sandbox serve --state ~/.local/share/vrgtask/sandbox.json",
        "vrgtask sandbox serve --actions post --strict --start-delay 0",
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
@click.option(
    "--actions",
    type=click.Choice(["both", "post", "put"]),
    help="Platform profile for actions (default: $VRGTASK_SANDBOX_ACTIONS, the state's "
    "setting, else both): post makes PUT ?action= a silent no-op, put makes "
    "POST /task_actions a 404.",
)
@click.option(
    "--strict",
    is_flag=True,
    default=None,
    help="Refuse unknown and read-only fields in writes with 422 (VergeOS drops them).",
)
@click.option(
    "--start-delay",
    type=click.FloatRange(min=0, max=3600),
    help="Seconds a queued run waits before it starts (default 1).",
)
def serve(
    port: int,
    tasks: int,
    state: str | None,
    cert: str | None,
    key: str | None,
    ca_dir: str | None,
    actions: str | None,
    strict: bool | None,
    start_delay: float | None,
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
    emulator = Emulator(store, actions=actions, strict=strict or None, start_delay=start_delay)
    with store.transaction() as current:
        settings = emulator.settings(current)  # a bad environment stops here (exit 3)
    server = SandboxServer(emulator, port=port, certfile=cert, keyfile=key, ca_dir=ca_dir)
    server.start()
    ca = server.ca_pem_path
    lines = [
        f"vrgtask sandbox listening on https://{server.host}/ (Ctrl-C to stop)",
        f"  VERGE_HOST={server.host}",
        "  credentials: admin / sandbox, or token sandbox-token (auditor / auditor: read-only)",
        f"  actions profile: {settings.actions}; strict writes: "
        f"{'on' if settings.strict else 'off'}; start delay: {settings.start_delay:g} s",
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
