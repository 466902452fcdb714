"""Bad-input matrix: every case exits 2, names the offending option or
argument, and sends no request at all (the sandbox's request log stays empty).

Driven through the real CLI against the HTTPS sandbox.
"""

from __future__ import annotations

import pytest
from support import run_cli

from vrgtask.sandbox.server import SandboxServer

pytestmark = pytest.mark.e2e

CREATE_TASK = ["task", "create", "--name", "n", "--owner", "vms/1", "--action", "poweron"]
CREATE_SCHEDULE = ["schedule", "create", "--name", "s"]
DEEP_65 = '{"a": ' + "[" * 64 + "]" * 64 + "}"
DEEP_970 = '{"a": ' + "[" * 969 + "]" * 969 + "}"
DEEP_100K = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
TOO_LARGE = '{"a": "' + "x" * (1024 * 1024) + '"}'

# (id, argv, text that must appear in stderr: the option or argument at fault)
# fmt: off
CASES: list[tuple[str, list[str], str]] = [
    # JSON options
    ("settings-json-invalid", [*CREATE_TASK, "--settings-json", "{oops"], "--settings-json"),
    ("settings-json-array", [*CREATE_TASK, "--settings-json", "[1,2]"], "--settings-json"),
    ("settings-json-string", [*CREATE_TASK, "--settings-json", '"x"'], "--settings-json"),
    ("settings-json-number", [*CREATE_TASK, "--settings-json", "42"], "--settings-json"),
    ("settings-json-null", [*CREATE_TASK, "--settings-json", "null"], "--settings-json"),
    ("settings-json-empty", [*CREATE_TASK, "--settings-json", ""], "--settings-json"),
    ("update-settings-json", ["task", "update", "1", "--settings-json", "{"], "--settings-json"),
    ("params-json-invalid", ["task", "run", "1", "--params-json", "{'a': 1}"], "--params-json"),
    ("params-json-list", ["task", "run", "1", "--params-json", "[]"], "--params-json"),
    # task create / update
    ("task-create-no-name", ["task", "create", "--owner", "vms/1", "--action", "x"], "--name"),
    (
        "task-create-empty-name",
        ["task", "create", "--name", "", "--owner", "vms/1", "--action", "x"],
        "--name",
    ),
    (
        "task-create-blank-name",
        ["task", "create", "--name", "   ", "--owner", "vms/1", "--action", "x"],
        "--name",
    ),
    ("task-create-no-owner", ["task", "create", "--name", "n", "--action", "x"], "--owner"),
    ("task-create-no-action", ["task", "create", "--name", "n", "--owner", "vms/1"], "--action"),
    (
        "task-owner-needs-table",
        ["task", "create", "--name", "n", "--owner", "12", "--action", "x"],
        "--table",
    ),
    (
        "task-owner-negative",
        ["task", "create", "--name", "n", "--owner", "-3", "--table", "vms", "--action", "x"],
        "--owner",
    ),
    (
        "task-owner-text",
        ["task", "create", "--name", "n", "--owner", "web", "--table", "vms", "--action", "x"],
        "--owner",
    ),
    (
        "task-owner-key-with-space",
        ["task", "create", "--name", "n", "--owner", "vms/1 2", "--action", "x"],
        "--owner",
    ),
    (
        "event-owner-key-with-space",
        ["event", "create", "1", "--owner", "vms/1 2", "--event", "login"],
        "--owner",
    ),
    (
        "task-owner-table-clash",
        [
            "task",
            "create",
            "--name",
            "n",
            "--owner",
            "vms/1",
            "--table",
            "tenants",
            "--action",
            "x",
        ],
        "--table",
    ),
    ("task-update-nothing", ["task", "update", "1"], "nothing to change"),
    ("task-update-bad-bool", ["task", "update", "1", "--enabled", "maybe"], "--enabled"),
    (
        "task-update-bad-bool2",
        ["task", "update", "1", "--delete-after-run", "2"],
        "--delete-after-run",
    ),
    ("task-update-empty-name", ["task", "update", "1", "--name", ""], "--name"),
    ("task-get-empty", ["task", "get", ""], "TASK"),
    ("task-get-missing-arg", ["task", "get"], "TASK"),
    ("task-list-enabled-disabled", ["task", "list", "--enabled", "--disabled"], "--disabled"),
    ("task-list-running-status", ["task", "list", "--running", "--status", "idle"], "--status"),
    ("task-list-bad-status", ["task", "list", "--status", "paused"], "--status"),
    ("task-run-negative-timeout", ["task", "run", "1", "--wait", "--timeout", "-1"], "--timeout"),
    ("task-run-fast-interval", ["task", "run", "1", "--wait", "--interval", "0.1"], "--interval"),
    ("task-unknown-option", ["task", "list", "--frobnicate"], "--frobnicate"),
    # schedule times and dates
    ("time-86401", [*CREATE_SCHEDULE, "--start-time", "86401"], "--start-time"),
    ("time-25h", [*CREATE_SCHEDULE, "--start-time", "25:00"], "--start-time"),
    ("time-negative", [*CREATE_SCHEDULE, "--end-time", "-1"], "--end-time"),
    ("time-60-minutes", [*CREATE_SCHEDULE, "--start-time", "12:60"], "--start-time"),
    ("time-text", [*CREATE_SCHEDULE, "--start-time", "noon"], "--start-time"),
    (
        "time-end-before-start",
        [*CREATE_SCHEDULE, "--start-time", "10:00", "--end-time", "09:00"],
        "--end-time",
    ),
    ("date-impossible", [*CREATE_SCHEDULE, "--start-date", "2026-02-30"], "--start-date"),
    ("date-format", [*CREATE_SCHEDULE, "--start-date", "30/01/2026"], "--start-date"),
    ("date-month-13", [*CREATE_SCHEDULE, "--end-date", "2026-13-01"], "--end-date"),
    (
        "date-end-before-start",
        [*CREATE_SCHEDULE, "--start-date", "2026-05-02", "--end-date", "2026-05-01"],
        "--end-date",
    ),
    ("iteration-zero", [*CREATE_SCHEDULE, "--repeat-iteration", "0"], "--repeat-iteration"),
    ("iteration-text", [*CREATE_SCHEDULE, "--repeat-iteration", "two"], "--repeat-iteration"),
    ("repeat-unknown", [*CREATE_SCHEDULE, "--repeat-every", "fortnight"], "--repeat-every"),
    ("day-of-month-unknown", [*CREATE_SCHEDULE, "--day-of-month", "2nd"], "--day-of-month"),
    ("days-unknown", [*CREATE_SCHEDULE, "--days", "mon,funday"], "--days"),
    ("days-conflict", [*CREATE_SCHEDULE, "--days", "weekdays", "--no-monday"], "--days"),
    ("schedule-create-no-name", ["schedule", "create"], "--name"),
    ("schedule-create-empty-name", ["schedule", "create", "--name", ""], "--name"),
    ("schedule-update-nothing", ["schedule", "update", "nightly"], "nothing to change"),
    (
        "schedule-list-bad-repeat",
        ["schedule", "list", "--repeat-every", "daily"],
        "--repeat-every",
    ),
    ("show-max-0", ["schedule", "show", "nightly", "--max-results", "0"], "--max-results"),
    (
        "show-max-1441",
        ["schedule", "show", "nightly", "--max-results", "1441"],
        "--max-results",
    ),
    (
        "show-bad-when",
        ["schedule", "show", "nightly", "--start-time", "tomorrow"],
        "--start-time",
    ),
    (
        "show-end-before-start",
        ["schedule", "show", "nightly", "--start-time", "2026-05-02", "--end-time", "2026-05-01"],
        "--end-time",
    ),
    # triggers: keys
    ("trigger-delete-negative", ["trigger", "delete", "-5", "--yes"], "-5"),
    ("trigger-delete-text", ["trigger", "delete", "abc", "--yes"], "TRIGGER_ID"),
    ("trigger-delete-zero", ["trigger", "delete", "0", "--yes"], "TRIGGER_ID"),
    ("trigger-run-float", ["trigger", "run", "1.5"], "TRIGGER_ID"),
    ("trigger-create-no-schedule", ["trigger", "create", "nightly-snapshot"], "--schedule"),
    # global options
    ("output-unknown", ["-o", "xml", "task", "list"], "--output"),
    ("timeout-zero", ["--timeout", "0", "task", "list"], "--timeout"),
    ("timeout-text", ["--timeout", "soon", "task", "list"], "--timeout"),
    ("unknown-command", ["tsak", "list"], "tsak"),
    ("trigger-create-empty-schedule", ["trigger", "create", "nightly-snapshot", "--schedule", ""],
     "--schedule"),
    ("schedule-get-blank", ["schedule", "get", "  "], "SCHEDULE"),
    # hostile values: JSON that is not strict JSON, or nested/too large
    ("settings-json-nan", [*CREATE_TASK, "--settings-json", '{"a": NaN}'], "--settings-json"),
    ("settings-json-infinity", [*CREATE_TASK, "--settings-json", '{"a": -Infinity}'],
     "--settings-json"),
    ("settings-json-1e400", [*CREATE_TASK, "--settings-json", '{"a": 1e400}'], "--settings-json"),
    ("settings-json-970-deep", [*CREATE_TASK, "--settings-json", DEEP_970], "--settings-json"),
    ("settings-json-65-deep", [*CREATE_TASK, "--settings-json", DEEP_65], "--settings-json"),
    ("settings-json-100k-deep", [*CREATE_TASK, "--settings-json", DEEP_100K], "--settings-json"),
    ("settings-json-too-large", [*CREATE_TASK, "--settings-json", TOO_LARGE], "--settings-json"),
    ("params-json-nan", ["task", "run", "1", "--params-json", '{"a": NaN}'], "--params-json"),
    ("params-json-deep", ["task", "run", "1", "--params-json", DEEP_970], "--params-json"),
    # hostile numbers: not finite, or beyond any sensible bound
    ("timeout-nan", ["--timeout", "nan", "task", "list"], "--timeout"),
    ("timeout-inf", ["--timeout", "inf", "task", "list"], "--timeout"),
    ("timeout-1e400", ["--timeout", "1e400", "task", "list"], "--timeout"),
    ("timeout-a-year", ["--timeout", "31536000", "task", "list"], "--timeout"),
    ("wait-timeout-nan", ["task", "run", "1", "--wait", "--timeout", "nan"], "--timeout"),
    ("wait-timeout-inf", ["task", "run", "1", "--wait", "--timeout", "inf"], "--timeout"),
    ("interval-nan", ["task", "run", "1", "--wait", "--interval", "nan"], "--interval"),
    ("interval-inf", ["task", "run", "1", "--wait", "--interval", "inf"], "--interval"),
    ("interval-1e400", ["task", "run", "1", "--wait", "--interval", "1e400"], "--interval"),
    # hostile files: devices and directories are not code files
    ("code-file-dev-zero", ["script", "create", "--name", "s", "--code-file", "/dev/zero"],
     "--code-file"),
    ("code-file-dev-urandom", ["script", "create", "--name", "s", "--code-file", "/dev/urandom"],
     "--code-file"),
    ("code-file-directory", ["script", "create", "--name", "s", "--code-file", "/"],
     "--code-file"),
    ("code-file-missing", ["script", "create", "--name", "s", "--code-file", "/nonexistent/x"],
     "--code-file"),
]
# fmt: on


@pytest.mark.parametrize(("argv", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_names_the_option_and_sends_nothing(
    sandbox_env: SandboxServer, argv: list[str], needle: str
) -> None:
    out = run_cli(*argv)
    assert out.exit_code == 2, (out.stdout, out.stderr)
    assert needle in out.stderr
    assert "Traceback" not in out.stderr
    assert sandbox_env.log.entries() == []


def test_the_matrix_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)
