"""The core group: start-up cost, plugins, global options, error handling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from typing import Any
from unittest.mock import MagicMock

import pytest
from pytest_mock import MockerFixture
from support import CHILD_KWARGS, Invoke

HEAVY = ("pyvergeos", "requests", "urllib3", "tabulate", "yaml")


def _modules_after(
    code: str, env: dict[str, str] | None = None, *, prefixes: tuple[str, ...] = ()
) -> tuple[list[str], str]:
    """Run ``code`` in a fresh interpreter; the modules it loaded, and stdout.

    The modules reported are the heavy ones, or with ``prefixes`` every module
    whose name starts with one of them.
    """
    watched = (
        f"sorted(m for m in sys.modules if m.startswith({prefixes!r}))"
        if prefixes
        else f"[m for m in {HEAVY!r} if m in sys.modules]"
    )
    probe = (
        "import atexit, sys\n"
        "def report():\n"
        f"    loaded = {watched}\n"
        "    print('LOADED=' + ','.join(loaded), file=sys.stderr)\n"
        "atexit.register(report)\n"
        f"{code}\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )
    marker = [line for line in out.stderr.splitlines() if line.startswith("LOADED=")]
    assert marker, out.stderr
    return [m for m in marker[-1].removeprefix("LOADED=").split(",") if m], out.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["task", "--help"],
        ["task", "list", "--help"],
        ["--version"],
    ],
)
def test_help_imports_no_sdk_requests_or_tabulate(argv: list[str]) -> None:
    loaded, stdout = _modules_after(f"from vrgtask.cli import main\nmain({argv!r})")
    assert stdout.startswith(("Usage:", "vrgtask "))
    assert loaded == []


def test_shell_completion_imports_nothing_heavy() -> None:
    loaded, stdout = _modules_after(
        "from vrgtask.cli import run\nsys.argv = ['vrgtask']\nrun()",
        env={"_VRGTASK_COMPLETE": "bash_complete", "COMP_WORDS": "vrgtask ta", "COMP_CWORD": "1"},
    )
    assert "task" in stdout
    assert loaded == []


def test_a_command_imports_only_its_own_command_module() -> None:
    command_modules = {
        ep.value.partition(":")[0] for ep in metadata.entry_points(group="vrgtask.commands")
    }
    assert "vrgtask.commands.schedule" in command_modules
    probe = (
        "import sys\n"
        "from vrgtask.cli import main\n"
        "main(['task', 'list', '--help'])\n"
        f"print('IMPORTED=' + ','.join(sorted(m for m in {sorted(command_modules)!r} "
        "if m in sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.startswith("Usage: vrgtask task list")
    assert out.stderr.strip().splitlines()[-1] == "IMPORTED=vrgtask.commands.task"


def test_the_fleet_machinery_loads_only_for_several_profiles() -> None:
    """Commands declare fans_out through vrgtask.fanout; vrgtask.fleet waits for a fleet."""
    probe = (
        "import sys\n"
        "from vrgtask.cli import main\n"
        "for argv in (['task', 'list', '--help'], ['status', '--help'], ['export', '--help']):\n"
        "    main(argv)\n"
        "print('FLEET=' + str('vrgtask.fleet' in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stderr.strip().splitlines()[-1] == "FLEET=False"


def test_yaml_is_imported_only_to_write_yaml() -> None:
    loaded, _ = _modules_after(
        "from vrgtask.formatters import load_formatter\n"
        "fmt = load_formatter('yaml')\n"
        "print(fmt.structured)"
    )
    assert loaded == []
    loaded, stdout = _modules_after(
        "from vrgtask.formatters import load_formatter\n"
        "print(load_formatter('yaml').format_one({'a': 1}, [], None))"
    )
    assert (loaded, stdout) == (["yaml"], "a: 1\n")


def test_built_in_formatters_are_entry_points() -> None:
    names = {ep.name for ep in metadata.entry_points(group="vrgtask.formatters")}
    assert {"table", "wide", "json", "csv"} <= names


def test_built_in_commands_are_entry_points() -> None:
    eps = {ep.name: ep.value for ep in metadata.entry_points(group="vrgtask.commands")}
    assert eps["task"] == "vrgtask.commands.task:task"


def test_version(invoke: Invoke) -> None:
    out = invoke("--version")
    assert out.exit_code == 0
    assert out.stdout.startswith("vrgtask 0.")
    assert "pyvergeos" in out.stdout


def test_python_dash_m_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "vrgtask", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0
    assert out.stdout.startswith("vrgtask ")


# --- third-party plugins (tests/plugins, installed by tox) -------------------------


def _installed(dist: str) -> bool:
    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_plugins = pytest.mark.skipif(
    not (_installed("vrgtask-hello") and _installed("vrgtask-broken")),
    reason="example plugins from tests/plugins are not installed (tox installs them)",
)


@needs_plugins
def test_plugin_command_and_format_appear_and_work(invoke: Invoke) -> None:
    top = invoke("--help")
    assert "hello" in top.stdout
    assert "tsv" in top.stdout  # an -o choice
    out = invoke("-o", "tsv", "hello", "--name", "ops")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == [
        "Key\tGreeting\tLanguage",
        "1\thello, ops\ten",
        "2\tbonjour, ops\tfr",
    ]
    as_json = invoke("hello", "-o", "json")
    assert json.loads(as_json.stdout)[0]["greeting"] == "hello, world"


@needs_plugins
def test_broken_plugins_are_marked_and_the_rest_works(
    invoke: Invoke, mock_client: MagicMock, mocker: MockerFixture
) -> None:
    top = invoke("--help")
    assert top.exit_code == 0
    assert "broken-import" in top.stdout
    assert "broken-load" in top.stdout
    assert "broken plugin" in top.stdout
    explained = invoke("broken-import")
    assert explained.exit_code == 1
    assert "vrgtask_no_such_dependency" in explained.stdout + explained.stderr
    mock_client.tasks.list.return_value = []
    assert invoke("task", "list").exit_code == 0
    assert invoke("hello").exit_code == 0
    bad_format = invoke("-o", "broken", "hello")
    assert bad_format.exit_code == 1
    assert bad_format.stderr.startswith("Error: output format 'broken' could not be loaded")


needs_shadow_plugin = pytest.mark.skipif(
    not (_installed("vrgtask-shadow") and _installed("vrgtask-hello")),
    reason="tests/plugins/vrgtask-shadow and vrgtask-hello are not installed (tox installs them)",
)
SHADOW = "SHADOW PLUGIN WAS USED"


@needs_shadow_plugin
def test_plugins_cannot_shadow_built_ins_or_each_other(
    invoke: Invoke, mock_client: MagicMock, make_task: Any
) -> None:
    mock_client.tasks.list.return_value = [make_task()]
    listed = invoke("task", "list", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["name"] == "nightly-backup"
    assert invoke("schedule", "--help").exit_code == 0  # shadowed by a broken plugin: unharmed
    hello = invoke("-o", "tsv", "hello")  # both vrgtask-hello and vrgtask-shadow declare these
    assert hello.stdout.splitlines()[0] == "Key\tGreeting\tLanguage"
    own = invoke("shadow")  # a name nobody else has: the plugin's own command works
    assert (own.exit_code, own.stdout) == (0, "the shadow plugin's own command ran\n")
    for out in (listed, hello, own):
        assert SHADOW not in out.stdout
        assert out.stderr == ""  # reported only in --help and with -v


@needs_shadow_plugin
def test_ignored_plugins_are_reported_once_in_help_and_with_verbose(
    invoke: Invoke, mock_client: MagicMock
) -> None:
    mock_client.tasks.list.return_value = []
    expected = [
        ("'hello' is declared more than once", "vrgtask-shadow (vrgtask_shadow:hello) ignored"),
        ("plugin command 'schedule' of vrgtask-shadow", "is a built-in command"),
        ("plugin command 'task' of vrgtask-shadow", "is a built-in command"),
        ("plugin output format 'json' of vrgtask-shadow", "is a built-in output format"),
        ("plugin output format 'tsv' is declared more than once", "vrgtask-hello"),
    ]
    top = invoke("--help")
    section = " ".join(top.stdout.split("Plugin notes:", 1)[1].split())  # unwrapped
    notes = ["plugin " + note for note in section.split("plugin ") if note]
    verbose = invoke("-v", "task", "list", "-o", "json").stderr.splitlines()
    for start, end in expected:
        assert len([n for n in notes if start in n and end in n]) == 1, (start, top.stdout)
        lines = [n for n in verbose if start in n and end in n]
        assert len(lines) == 1, (start, verbose)
        assert lines[0].startswith("Note: plugin ")


# --- global options ------------------------------------------------------------------


def test_output_option_works_before_and_after_the_command(
    invoke: Invoke, mock_client: MagicMock
) -> None:
    mock_client.tasks.list.return_value = []
    assert invoke("-o", "json", "task", "list").stdout.strip() == "[]"
    assert invoke("task", "list", "-o", "json").stdout.strip() == "[]"
    assert invoke("task", "list", "--output", "csv").stdout.startswith("$key,name,")


def test_bad_output_choice_is_usage_error(invoke: Invoke, mock_client: MagicMock) -> None:
    out = invoke("-o", "xml", "task", "list")
    assert out.exit_code == 2
    assert "--output" in out.stderr
    env = invoke("task", "list", env={"VERGE_OUTPUT": "nope"})
    assert env.exit_code == 2
    assert "VERGE_OUTPUT" in env.stderr


def test_empty_table_list_says_so_on_stderr(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.tasks.list.return_value = []
    out = invoke("task", "list")
    assert out.stdout == ""
    assert out.stderr.strip() == "No tasks found."


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("table", "Task 'x' enabled.\n"),
        ("wide", "Task 'x' enabled.\n"),
        ("json", '{\n  "$key": 1,\n  "name": "x"\n}\n'),
        ("csv", "$key,name\n1,x\n"),
        ("yaml", "$key: 1\nname: x\n"),
    ],
)
def test_a_change_prints_the_row_when_the_format_is_structured(
    fmt: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from vrgtask.context import AppContext
    from vrgtask.formatters import Column

    app = AppContext(MagicMock(output=fmt), color=False)
    app.done("Task 'x' enabled.", {"$key": 1, "name": "x"}, [Column("$key"), Column("name")])
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_an_empty_structured_list_is_a_document_not_a_note(
    fmt: str, invoke: Invoke, mock_client: MagicMock
) -> None:
    mock_client.tasks.list.return_value = []
    out = invoke("task", "list", "-o", fmt)
    assert out.stderr == ""
    expected = {"csv": "$key,name,", "yaml": "[]"}[fmt]  # a header only / an empty sequence
    assert out.stdout.startswith(expected)
    assert len(out.stdout.splitlines()) == 1


def test_query_prints_one_field_with_dot_paths(
    invoke: Invoke, mock_client: MagicMock, make_task: Any
) -> None:
    task = make_task(settings_args={"retention": {"days": 7}})
    mock_client.tasks.list.return_value = [task]
    deep = invoke("--query", "settings_args.retention.days", "task", "get", "nightly-backup")
    assert deep.stdout == "7\n"
    assert invoke("--query", "name", "task", "list").stdout == "nightly-backup\n"
    missing = invoke("--query", "nope", "task", "get", "nightly-backup")
    assert missing.exit_code == 1
    assert "--query" in missing.stderr


def test_color_only_on_a_terminal_and_never_with_no_color(
    invoke: Invoke, mock_client: MagicMock, make_task: Any, mocker: MockerFixture
) -> None:
    mock_client.tasks.list.return_value = [make_task(status="running")]
    piped = invoke("task", "list")
    assert "\x1b[" not in piped.stdout
    mocker.patch.object(sys.stdout, "isatty", return_value=True)
    from vrgtask.context import AppContext

    app = AppContext(MagicMock(output="table"), color=None)
    assert app.color is True
    mocker.patch.dict("os.environ", {"NO_COLOR": "1"})
    assert AppContext(MagicMock(output="table"), color=None).color is False


def test_colored_status_when_color_is_on() -> None:
    from vrgtask.commands.task import TASK_COLUMNS
    from vrgtask.formatters import RenderOptions
    from vrgtask.formatters.table import TableFormatter

    row = {"$key": 1, "name": "n", "status": "running", "enabled": True}
    text = TableFormatter().format_list([row], TASK_COLUMNS, RenderOptions(color=True))
    assert "\x1b[32mrunning\x1b[0m" in text


def test_password_on_command_line_warns(
    invoke: Invoke, mock_client: MagicMock, mocker: MockerFixture
) -> None:
    mock_client.tasks.list.return_value = []
    out = invoke("-H", "h", "-u", "admin", "--password", "s3cret-pw", "task", "list")
    assert out.exit_code == 0
    assert "can be seen by other users" in out.stderr
    assert "s3cret-pw" not in out.stderr + out.stdout
    quiet = invoke("-H", "h", "-u", "admin", "task", "list", env={"VERGE_PASSWORD": "s3cret-pw"})
    assert "can be seen" not in quiet.stderr


# --- errors ---------------------------------------------------------------------------


def _sdk_exceptions() -> list[tuple[str, BaseException, int, str]]:
    from pyvergeos import exceptions as sdk

    return [
        ("VergeError", sdk.VergeError("boom"), 1, "boom"),
        ("VergeConnectionError", sdk.VergeConnectionError("refused"), 10, "refused"),
        ("NotConnectedError", sdk.NotConnectedError("not connected"), 10, "not connected"),
        ("VergeTimeoutError", sdk.VergeTimeoutError("timed out"), 9, "timed out"),
        ("APIError", sdk.APIError("kaput", 500), 1, "HTTP 500: kaput"),
        ("AuthenticationError401", sdk.AuthenticationError("bad creds", 401), 4, "bad creds"),
        ("AuthenticationError403", sdk.AuthenticationError("Permission denied", 403), 5, "denied"),
        ("NotFoundError", sdk.NotFoundError("no such row", 404), 6, "no such row"),
        ("ConflictError", sdk.ConflictError("in use", 409), 7, "in use"),
        ("ValidationError", sdk.ValidationError("bad name", 422), 8, "bad name"),
        ("FieldNotProjectedError", sdk.FieldNotProjectedError("status", "Task"), 1, "status"),
        ("TaskError", sdk.TaskError("task blew up", 5), 1, "task blew up"),
        ("TaskTimeoutError", sdk.TaskTimeoutError("waited too long", 5), 9, "waited too long"),
    ]


@pytest.mark.parametrize(
    ("label", "exc", "code", "needle"),
    _sdk_exceptions(),
    ids=[case[0] for case in _sdk_exceptions()],
)
def test_every_sdk_exception_maps_to_its_exit_code(
    invoke: Invoke,
    mock_client: MagicMock,
    label: str,
    exc: BaseException,
    code: int,
    needle: str,
) -> None:
    mock_client.tasks.list.side_effect = exc
    out = invoke("task", "list")
    assert out.exit_code == code, (label, out.stderr)
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("Error: ")
    assert needle in lines[0]
    assert "Traceback" not in out.stderr


def test_traceback_only_with_verbose(invoke: Invoke, mock_client: MagicMock) -> None:
    from pyvergeos.exceptions import ConflictError

    mock_client.tasks.list.side_effect = ConflictError("in use", 409)
    assert "Traceback" not in invoke("task", "list").stderr
    verbose = invoke("-v", "task", "list")
    assert "Traceback" in verbose.stderr
    assert verbose.stderr.splitlines()[-1] == "Error: conflict: in use"
    assert verbose.exit_code == 7


def test_invalid_json_response_is_exit_1(invoke: Invoke, mock_client: MagicMock) -> None:
    import requests

    mock_client.tasks.list.side_effect = requests.exceptions.JSONDecodeError("Expecting", "x", 0)
    out = invoke("task", "list")
    assert out.exit_code == 1
    assert out.stderr.strip() == "Error: the server's response is not valid JSON"


def test_connection_error_wrapping_a_timeout_is_exit_9(
    invoke: Invoke, mock_client: MagicMock
) -> None:
    import requests
    from pyvergeos.exceptions import VergeConnectionError

    def fail(**_: Any) -> None:
        try:
            raise requests.exceptions.ReadTimeout("read timed out")
        except requests.exceptions.ReadTimeout as inner:
            raise VergeConnectionError("Failed to connect to h: read timed out") from inner

    mock_client.tasks.list.side_effect = fail
    assert invoke("task", "list").exit_code == 9


def test_tls_failure_says_how_to_trust(invoke: Invoke, mock_client: MagicMock) -> None:
    import ssl

    from pyvergeos.exceptions import VergeConnectionError

    def fail(**_: Any) -> None:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed")
        except ssl.SSLError as inner:
            raise VergeConnectionError("Failed to connect to h: SSLError") from inner

    mock_client.tasks.list.side_effect = fail
    out = invoke("task", "list")
    assert out.exit_code == 10
    assert "REQUESTS_CA_BUNDLE" in out.stderr
    assert "--insecure" in out.stderr


def test_keyboard_interrupt_is_130(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.tasks.list.side_effect = KeyboardInterrupt
    out = invoke("task", "list")
    assert out.exit_code == 130
    assert out.stderr.strip() == "Error: interrupted"


def test_unexpected_error_is_one_line_exit_1(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.tasks.list.side_effect = RuntimeError("weird\nsecond line")
    out = invoke("task", "list")
    assert out.exit_code == 1
    assert out.stderr == "Error: unexpected error: RuntimeError: weird\\nsecond line\n"


def test_secrets_are_redacted_from_errors(invoke: Invoke, mock_client: MagicMock) -> None:
    mock_client.tasks.list.side_effect = RuntimeError("token tok-abcdef123 rejected")
    out = invoke("-H", "h", "--token", "tok-abcdef123", "-vv", "task", "list")
    assert "tok-abcdef123" not in out.stderr
    assert "***" in out.stderr


def test_missing_host_is_config_error(invoke: Invoke) -> None:
    out = invoke("task", "list")
    assert out.exit_code == 3
    assert "--sandbox" in out.stderr
    assert "VERGE_HOST" in out.stderr


def test_missing_password_without_terminal_is_config_error(invoke: Invoke) -> None:
    out = invoke("-H", "verge.example.com", "-u", "admin", "task", "list")
    assert out.exit_code == 3
    assert "VERGE_PASSWORD" in out.stderr


def test_password_is_prompted_hidden_on_a_terminal(mocker: MockerFixture) -> None:
    from vrgtask import context
    from vrgtask.config import Settings

    mocker.patch.object(sys.stdin, "isatty", return_value=True)
    mocker.patch.object(sys.stderr, "isatty", return_value=True)
    prompt = mocker.patch("vrgtask.context.click.prompt", return_value="typed-secret")
    client = MagicMock(name="client")
    connect = mocker.patch("vrgtask.client.connect", return_value=client)
    app = context.AppContext(Settings(host="h", username="admin"))
    assert context.build_client(app) is client
    asker = connect.call_args.kwargs["prompt_password"]
    assert asker("Password for admin@h") == "typed-secret"
    assert prompt.call_args.kwargs["hide_input"] is True


@pytest.mark.parametrize(
    "argv",
    [
        ["task", "list", "-q"],
        ["--query", "name", "task", "list"],
        ["-o", "json", "task", "list"],
        ["-o", "csv", "task", "list"],
        ["task", "list"],
    ],
    ids=["quiet", "query", "json", "csv", "table"],
)
def test_broken_pipe_is_quiet_and_not_an_error(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from unittest.mock import MagicMock\n"
        "import vrgtask.context as c\n"
        "client = MagicMock()\n"
        "from pyvergeos.resources.tasks import Task\n"
        "manager = MagicMock(_requested_aliases=None)\n"
        "rows = [Task({'$key': i, 'name': f't{i}', 'status': 'idle', 'enabled': True,\n"
        "  'action_display': 'A', 'owner_display': 'o', 'creator_display': 'c',\n"
        "  'triggers_count': 0, 'events_count': 0}, manager)\n"
        "  for i in range(1, 20000)]\n"
        "client.tasks.list.return_value = rows\n"
        "c.build_client = lambda app: client\n"
        "from vrgtask.cli import run\n"
        f"sys.argv = ['vrgtask', '-H', 'h', '--token', 't', *{argv!r}]\n"
        "run()\n"
    )
    producer = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **CHILD_KWARGS,
    )
    assert producer.stdout is not None
    first = producer.stdout.readline()
    producer.stdout.close()  # the reader goes away, as with `| head -1`
    _, err = producer.communicate(timeout=120)
    assert first.strip()
    assert err == b""  # no traceback, no BrokenPipeError, no message at all
    assert producer.returncode == 0  # a reader that went away is not an error


def test_sandbox_errors_are_reported_plainly(invoke: Invoke, mock_client: MagicMock) -> None:
    from vrgtask.sandbox import SandboxError, SandboxStateError

    mock_client.tasks.list.side_effect = SandboxError("the HTTPS sandbox needs trustme")
    out = invoke("task", "list")
    assert (out.exit_code, out.stderr) == (1, "Error: the HTTPS sandbox needs trustme\n")
    mock_client.tasks.list.side_effect = SandboxStateError("state file /x is corrupt")
    out = invoke("task", "list")
    assert (out.exit_code, out.stderr) == (3, "Error: state file /x is corrupt\n")


def test_connection_errors_leave_out_the_request_url(
    invoke: Invoke, mock_client: MagicMock
) -> None:
    from pyvergeos.exceptions import VergeConnectionError

    mock_client.tasks.list.side_effect = VergeConnectionError(
        "Failed to connect to h: HTTPSConnectionPool(host='h', port=443): Max retries exceeded "
        "with url: /api/v4/tasks?fields=%24key%2Cname (Caused by X)"
    )
    out = invoke("task", "list")
    assert out.exit_code == 10
    assert "fields=" not in out.stderr
    assert "Max retries exceeded (Caused by X)" in out.stderr


def _vrgtask_modules_after(argv: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The vrgtask and pyvergeos modules a fresh ``main(argv)`` imported (exit 0)."""
    code = (
        "import contextlib, io\n"
        "from vrgtask.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({argv!r})\n"
        "print('CODE=' + str(code))\n"
    )
    loaded, stdout = _modules_after(code, env, prefixes=("vrgtask", "pyvergeos"))
    assert stdout.strip() == "CODE=0", stdout
    return set(loaded)


def test_help_loads_neither_settings_nor_app_context_nor_error_classifier() -> None:
    _vrgtask_modules_after(["--help"])  # the first run after an install fills the plugin cache
    loaded = _vrgtask_modules_after(["--help"])
    assert loaded <= {"vrgtask", "vrgtask.cli", "vrgtask.loader", "vrgtask.params"} | {
        "vrgtask.plugins"
    }, loaded


def test_task_get_loads_no_run_machinery_no_history_and_no_unused_sdk_module(
    tmp_path: Any,
) -> None:
    loaded = _vrgtask_modules_after(
        ["--sandbox", "task", "get", "nightly-snapshot", "-o", "json"],
        env={"VRGTASK_SANDBOX_STATE": str(tmp_path / "state.json")},
    )
    assert "vrgtask.commands.task" in loaded
    assert "pyvergeos.resources.tasks" in loaded
    for unused in (
        "vrgtask.runs",
        "vrgtask.verify",
        "vrgtask.commands.history",
        "vrgtask.fleet",
        "pyvergeos.resources.api_keys",  # one of the modules pyvergeos' __init__ imports
    ):
        assert unused not in loaded
