"""The core command group: global options, plugin loading, error handling.

Every command, the built-in ``task``, ``schedule`` and ``trigger`` included,
arrives through the ``vrgtask.commands`` entry-point group via click-plugins,
loaded only when it is used (:mod:`vrgtask.loader`); a plugin that fails to
load becomes a command marked as broken that explains itself, and everything
else keeps working.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click
from click.core import ParameterSource

from vrgtask import __version__
from vrgtask.loader import LazyCommandGroup
from vrgtask.params import (
    MAX_TIMEOUT,
    OUTPUT_HELP,
    QUERY_HELP,
    QUIET_HELP,
    FiniteFloat,
    LazyChoice,
    complete_profile,
)
from vrgtask.plugins import formatter_names

# Only what `vrgtask --help` needs is imported here: settings, the app
# context, errors and text helpers are imported where they are used.

__all__ = ["VrgtaskGroup", "cli", "main", "run"]


class VrgtaskGroup(LazyCommandGroup):
    """The root group. Its ``main`` turns every failure into an exit code.

    ``CliRunner.invoke(cli, ...)`` and the console script go through the same
    path, so tests see exactly the exit codes and messages users see.

    A reader of stdout that goes away (``| head -1``) ends the command with
    exit 0 and no message, whatever the format; closed standard streams and
    text the output encoding cannot carry never make it fail.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        with _safe_streams():
            code = self._run(args, prog_name or "vrgtask", complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str,
        complete_var: str | None,
        **extra: Any,
    ) -> int:
        verbosity = _peek_verbosity(sys.argv[1:] if args is None else list(args))
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:  # --help, --version, ctx.exit()
            return exc.exit_code
        except _ReaderGone:
            return 0
        except (KeyboardInterrupt, Exception) as exc:
            return _failed(exc, verbosity)
        finally:
            _APP.clear()
        return int(result) if isinstance(result, int) else 0

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        found = super().resolve_command(ctx, args)
        ctx.meta["vrgtask.subcommand"] = found  # a fleet checks the command (vrgtask/fleet.py)
        return found

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            _silence_stdout()
            raise _ReaderGone from None


class _ReaderGone(Exception):  # a condition, not an error
    """stdout's reader went away (``| head -1``): not an error, exit 0."""


def _silence_stdout() -> None:
    """Send what is left for stdout to the null device, so that the
    interpreter's last flush cannot fail on the broken pipe again."""
    stdout = sys.stdout
    try:
        fd = stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _escape_unencodable(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: what the output encoding cannot carry, as ``\\uXXXX``.

    The form is JSON's, so ``-o json`` stays valid JSON (astral characters
    become surrogate pairs) and tables stay readable.
    """
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    parts = []
    for char in exc.object[exc.start : exc.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            parts.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            parts.append(f"\\u{code:04x}")
    return "".join(parts), exc.end


@contextlib.contextmanager
def _safe_streams() -> Iterator[None]:
    """Standard streams that cannot crash a command.

    * A stream closed at start-up (``>&-``) is None in Python: it becomes the
      null device for this run (like a reader that went away).
    * Text the stream's encoding cannot carry (``PYTHONIOENCODING=latin-1``,
      lone surrogates from a server's JSON) is escaped, not an error.
    """
    import codecs

    codecs.register_error("vrgtask.escape", _escape_unencodable)
    opened = []
    saved = (sys.stdin, sys.stdout, sys.stderr)
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            handle = open(os.devnull, mode, encoding="utf-8")  # noqa: SIM115
            opened.append(handle)
            setattr(sys, name, handle)
    restore = []
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors and hasattr(stream, "reconfigure"):
            with contextlib.suppress(Exception):
                stream.reconfigure(errors="vrgtask.escape")
                restore.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in restore:
            with contextlib.suppress(Exception):
                stream.reconfigure(errors=errors)
        sys.stdin, sys.stdout, sys.stderr = saved
        for handle in opened:
            handle.close()


_APP: list[Any] = []


def _secrets() -> list[str]:
    return [s for app in _APP for s in app.settings.secrets()]


def _failed(exc: BaseException, verbosity: int) -> int:
    """The exit code of a run that did not succeed, its one line said on stderr.

    Only this path loads the error classifier: ``--help`` never needs it.
    """
    from vrgtask.errors import ExitCode

    if isinstance(exc, click.exceptions.Abort):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, KeyboardInterrupt):
            click.echo("Error: interrupted", err=True)
            return ExitCode.INTERRUPTED
        click.echo("Error: aborted", err=True)
        return ExitCode.ERROR
    if isinstance(exc, click.exceptions.ClickException):
        exc.show()
        return ExitCode.USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        click.echo("Error: interrupted", err=True)
        return ExitCode.INTERRUPTED
    return _report(exc, verbosity)


def _report(exc: BaseException, verbosity: int) -> int:
    from vrgtask.errors import classify
    from vrgtask.text import escape_control, one_line, redact

    code, message = classify(exc)
    secrets = _secrets()
    if verbosity >= 1:
        import traceback  # only on this path: start-up stays light

        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        # A server's message ends up in the traceback too: escaped like every
        # other output, so it cannot drive the terminal.
        lines = redact(trace, secrets).splitlines()
        click.echo("".join(f"{escape_control(line)}\n" for line in lines), err=True, nl=False)
    click.echo(f"Error: {one_line(redact(message, secrets))}", err=True)
    return int(code)


def _peek_verbosity(args: Sequence[str]) -> int:
    """Count -v before parsing, so failures during parsing honour it too."""
    count = 0
    for arg in args:
        if arg == "--":
            break
        if arg == "--verbose":
            count += 1
        elif arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) == {"v"}:
            count += len(arg) - 1
    return count


def _version_message() -> str:
    from importlib import metadata

    try:
        sdk = metadata.version("pyvergeos")
    except metadata.PackageNotFoundError:
        sdk = "not installed"
    py = ".".join(str(p) for p in sys.version_info[:3])
    return f"vrgtask {__version__} (pyvergeos {sdk}, Python {py})"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_message())
        ctx.exit()


HELP = """vrgtask: automate the VergeOS task engine from the command line.

\b
Tasks are actions bound to an object (power on a VM, take a snapshot);
schedules are recurring time windows; triggers link a task to a schedule.

\b
Try it without a server, against the embedded sandbox:
  vrgtask --sandbox task list
  vrgtask --sandbox task run nightly-snapshot --wait
\b
Against a real system:
  export VERGE_HOST=verge.example.com VERGE_TOKEN=...
  vrgtask task list -o json
\b
Across many systems (profiles of the config file), in parallel:
  vrgtask -A status
  vrgtask -p site-a,site-b task list
"""


@click.group(
    cls=VrgtaskGroup,
    help=HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--profile",
    "-p",
    multiple=True,
    envvar="VERGE_PROFILE",
    show_envvar=True,
    metavar="NAME",
    shell_complete=complete_profile,
    help="Profile of the config file (~/.vrg/config.toml, or $VRGTASK_CONFIG). "
    "Several (-p a,b or -p a -p b) run lists, task history, agenda, status, doctor, "
    "export, diff and apply on each.",
)
@click.option(
    "--all-profiles",
    "-A",
    is_flag=True,
    help="Every profile of the config file at once (see -p).",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    metavar="N",
    help="With several profiles: how many systems are asked at once.",
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="With several profiles: stop at the first profile that fails.",
)
@click.option(
    "--host",
    "-H",
    envvar="VERGE_HOST",
    show_envvar=True,
    metavar="HOST",
    help="VergeOS host: name, host:port or https://host[:port]/. 'sandbox' = embedded sandbox.",
)
@click.option(
    "--sandbox",
    is_flag=True,
    default=False,
    help="Use the embedded sandbox (no server needed); same as --host sandbox.",
)
@click.option("--token", envvar="VERGE_TOKEN", show_envvar=True, metavar="TOKEN", help="API token.")
@click.option(
    "--api-key",
    envvar="VERGE_API_KEY",
    show_envvar=True,
    metavar="KEY",
    help="API key (sent as a bearer token, as vrg does).",
)
@click.option(
    "--username",
    "-u",
    envvar="VERGE_USERNAME",
    show_envvar=True,
    metavar="USER",
    help="User name (the password is asked for on a terminal when not given).",
)
@click.option(
    "--password",
    envvar="VERGE_PASSWORD",
    show_envvar=True,
    metavar="PASSWORD",
    help="Password. Prefer the prompt or VERGE_PASSWORD: other users can see arguments.",
)
@click.option(
    "--insecure",
    is_flag=True,
    default=False,
    help="Do not verify the server's TLS certificate (VERGE_VERIFY_SSL=false does the same).",
)
@click.option(
    "--timeout",
    type=FiniteFloat(min=0, min_open=True, max=MAX_TIMEOUT),
    envvar="VERGE_TIMEOUT",
    show_envvar=True,
    metavar="SECONDS",
    help="Timeout of each HTTP request [default: 30].",
)
@click.option(
    "--output",
    "-o",
    type=LazyChoice(),
    envvar="VERGE_OUTPUT",
    show_envvar=True,
    help=OUTPUT_HELP + " [default: table]",
)
@click.option(
    "--query",
    metavar="FIELD",
    help=QUERY_HELP,
)
@click.option("--quiet", "-q", is_flag=True, help=QUIET_HELP)
@click.option("--no-color", is_flag=True, help="Never colour the output (NO_COLOR does the same).")
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="-v: tracebacks on errors; -vv: HTTP request log; -vvv: request headers (redacted).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    profile: tuple[str, ...],
    all_profiles: bool,
    parallel: int,
    fail_fast: bool,
    host: str | None,
    sandbox: bool,
    token: str | None,
    api_key: str | None,
    username: str | None,
    password: str | None,
    insecure: bool,
    timeout: float | None,
    output: str | None,
    query: str | None,
    quiet: bool,
    no_color: bool,
    verbose: int,
) -> None:
    from vrgtask import config
    from vrgtask.context import AppContext
    from vrgtask.errors import ConfigError
    from vrgtask.text import one_line

    def warn(message: str) -> None:
        click.echo(f"Warning: {one_line(message)}", err=True)

    from vrgtask import fanout

    if all_profiles and ctx.get_parameter_source("profile") is ParameterSource.ENVIRONMENT:
        profile = ()  # -A overrides VERGE_PROFILE
    names, several = fanout.select_profiles(profile, all_profiles, os.environ)
    ctx.params["profile"] = names[0] if len(names) == 1 else None  # what one profile saw
    given_by = {}
    for name in config.OPTION_KEYS:
        source = ctx.get_parameter_source(name)
        given_by[name] = "env" if source is ParameterSource.ENVIRONMENT else "option"
    if password and ctx.get_parameter_source("password") is ParameterSource.COMMANDLINE:
        warn(
            "a password given with --password can be seen by other users of this machine; "
            "let vrgtask prompt for it, or set VERGE_PASSWORD"
        )
    options = {
        "profile": ctx.params["profile"],
        "host": host,
        "sandbox": sandbox,
        "token": token,
        "api_key": api_key,
        "username": username,
        "password": password,
        "insecure": insecure,
        "timeout": timeout,
        "output": output,
    }
    color = False if (no_color or os.environ.get("NO_COLOR")) else None
    if several:  # a fleet: each profile is resolved on its own (vrgtask/fleet.py)
        from vrgtask import fleet

        app: AppContext = fleet.start_fleet(
            ctx,
            names,
            options,
            parallel=parallel,
            fail_fast=fail_fast,
            warn=warn,
            verbosity=verbose,
            quiet=quiet,
            query=query,
            color=color,
        )
    else:
        try:
            settings = config.resolve(options, os.environ, warn=warn, given_by=given_by)
            _check_output(settings)
        except (ConfigError, click.BadParameter) as exc:
            _, command, _ = ctx.meta.get("vrgtask.subcommand") or (None, None, None)
            if not getattr(command, REPAIRS_SETTINGS, False):
                raise
            # A command that repairs settings (config, completion) must work while
            # they are broken (an unknown VERGE_PROFILE, a bad value in the file):
            # they start from the defaults, and `config list/get` report `exc`.
            settings = config.Settings()
            app = AppContext(settings, verbosity=verbose, quiet=quiet, query=query, color=color)
            app.settings_error = exc
        else:
            app = AppContext(settings, verbosity=verbose, quiet=quiet, query=query, color=color)
    _check_output(app.settings)
    if verbose:
        from vrgtask.plugins import notes

        for note in notes():  # plugin entry points ignored because their name was taken
            click.echo(f"Note: {one_line(note)}", err=True)
    _APP[:] = [app]
    ctx.obj = app
    ctx.call_on_close(app.close)


#: A command with this attribute set runs even when the settings cannot be
#: resolved (on the defaults; ``app.settings_error`` says why): it repairs them.
REPAIRS_SETTINGS = "repairs_settings"


def _check_output(settings: Any) -> None:
    if settings.output not in formatter_names():
        raise click.BadParameter(
            f"{settings.output!r} (from {settings.sources.get('output')}) is not one of: "
            f"{', '.join(formatter_names())}",
            param_hint="'--output'",
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run vrgtask with ``argv`` and return the exit code (no ``sys.exit``)."""
    return int(cli.main(args=argv, prog_name="vrgtask", standalone_mode=False))


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
