"""The run-waiting logic (vrgtask.runs) state by state, on a fake clock.

queued, started, finished ok, finished with error, not started in time,
timeout, Ctrl-C; plus the details a real server adds: ``last_run`` as a
formatted string, a task that deletes itself after its run, 429 with
Retry-After, and the poll intervals.
"""

from __future__ import annotations

from typing import Any, cast
from unittest.mock import MagicMock

import pytest
from fake_runs import EPOCH, FakeRun

from vrgtask.errors import (
    ExitCode,
    InterruptedWait,
    RunNotStartedError,
    TaskFailedError,
    WaitTimeoutError,
)
from vrgtask.runs import (
    Backoff,
    LogMark,
    RunWatch,
    epoch_seconds,
    last_run_moved,
    log_mark,
    parse_retry_after,
)


def watch_for(fake: FakeRun, **kwargs: Any) -> RunWatch:
    """A RunWatch on ``fake`` as a command builds it: task read and log mark before sending."""
    client = fake.attach(MagicMock(name="VergeClient"))
    before = fake.tasks_get(fake.key)
    return RunWatch(
        client,
        fake.key,
        name=fake.name,
        label=f"task {fake.name!r} (key {fake.key})",
        status=before.get("status"),
        last_run=before.get("last_run"),
        mark=log_mark(client),
        hint=f"vrgtask --sandbox task wait {fake.key}",
        clock=fake.clock,
        sleep=fake.sleep,
        **kwargs,
    )


def send(fake: FakeRun) -> None:
    fake.request("POST", "task_actions", json_data={"task": fake.key, "action": "execute"})


def wait(watch: RunWatch, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"timeout": 300.0, "start_timeout": 30.0, "interval": None}
    options.update(kwargs)
    return watch.wait(**options)


# ----------------------------------------------------------------------------- states


def test_queued_right_after_the_request() -> None:
    """Idle, last_run unchanged, nothing new in the log: not started (yet)."""
    fake = FakeRun(start_delay=5)
    watch = watch_for(fake)
    send(fake)
    signal, seen = watch.confirm_once()
    assert signal is None
    assert seen.status == "idle"
    assert fake.log_reads == 2  # the mark, then one look for new entries


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(1.5, "running"), (10.0, "last_run")],
    ids=["while-running", "after-it-ended"],
)
def test_started(moment: float, expected: str) -> None:
    fake = FakeRun(start_delay=1, duration=3)
    watch = watch_for(fake)
    send(fake)
    fake.now = moment
    signal, _seen = watch.confirm_once()
    assert signal == expected


def test_started_seen_in_the_log_only() -> None:
    """A server that shows neither running nor a new last_run: the log entry is enough."""
    fake = FakeRun(start_delay=1, duration=3, last_run=None)
    fake.last_run = lambda: None  # type: ignore[method-assign]
    watch = watch_for(fake)
    send(fake)
    fake.now = 10.0
    signal, seen = watch.confirm_once()
    assert signal == "log"
    assert seen.entries[0]["text"] == "Task 'nightly-backup' completed"


def test_a_task_not_read_before_the_request_needs_a_new_last_run() -> None:
    """A script's run task or a fired trigger's task was not read first: its old
    last_run is not a start; one after the request is."""
    fake = FakeRun(start_delay=2.0)
    client = fake.attach(MagicMock(name="VergeClient"))
    watch = RunWatch(
        client, fake.key, name=None, label=f"task {fake.key}", status=None, last_run=None,
        mark=log_mark(client), hint="h", clock=fake.clock, sleep=fake.sleep,
    )  # fmt: skip
    send(fake)
    assert watch.start_signal(watch.look(logs=False)) is None  # yesterday's last_run
    fake.now = 2.5
    assert watch.start_signal(watch.look(logs=False)) == "running"
    fake.now = 10.0
    assert watch.start_signal(watch.look(logs=False)) == "last_run"


def test_last_run_as_a_formatted_string_counts() -> None:
    fake = FakeRun(last_run="2026-11-29 10:00:00", last_run_format="string")
    watch = watch_for(fake)
    send(fake)
    fake.now = 10.0
    assert watch.look(logs=False).last_run != "2026-11-29 10:00:00"
    assert watch.confirm_once()[0] == "last_run"


def test_finished_ok_waits_for_the_start_then_the_end() -> None:
    fake = FakeRun(start_delay=2, duration=5)
    watch = watch_for(fake)
    send(fake)
    outcome = wait(watch)
    assert outcome.started_by in ("running", "last_run")
    assert outcome.final is not None
    assert outcome.final["text"] == "Task 'nightly-backup' completed"
    assert [e["text"] for e in outcome.entries] == [
        "Task 'nightly-backup' completed",
        "Task 'nightly-backup' started",
    ]
    assert fake.now >= 7  # not reported before the run could have ended
    assert fake.status() == "idle"


def test_finished_with_error_raises_with_the_log_text() -> None:
    fake = FakeRun(start_delay=1, duration=2, fail="disk full")
    watch = watch_for(fake)
    send(fake)
    with pytest.raises(TaskFailedError) as failed:
        wait(watch)
    assert failed.value.exit_code == ExitCode.ERROR
    assert "Task 'nightly-backup' failed: disk full" in failed.value.message


def test_not_started_in_time() -> None:
    fake = FakeRun(start_delay=None)
    watch = watch_for(fake)
    send(fake)
    with pytest.raises(RunNotStartedError) as late:
        wait(watch, start_timeout=5)
    assert late.value.exit_code == ExitCode.ERROR
    assert "accepted the request" in late.value.message
    assert "did not start within 5s" in late.value.message
    assert "vrgtask --sandbox task wait 100" in late.value.message
    assert 5 <= fake.now < 7  # gave up at the grace period, not later


def test_not_started_when_attaching_to_an_idle_task() -> None:
    fake = FakeRun(start_delay=None)
    watch = watch_for(fake)
    with pytest.raises(RunNotStartedError) as late:
        wait(watch, start_timeout=3, requested=False)
    assert "is not running, and no run of it started within 3s" in late.value.message


def test_timeout_while_running() -> None:
    fake = FakeRun(start_delay=1, duration=None)
    watch = watch_for(fake)
    send(fake)
    with pytest.raises(WaitTimeoutError) as slow:
        wait(watch, timeout=20)
    assert slow.value.exit_code == ExitCode.TIMEOUT
    assert "is still running after 20s" in slow.value.message
    assert "vrgtask --sandbox task wait 100" in slow.value.message
    assert 20 <= fake.now < 22


def test_timeout_before_the_start() -> None:
    fake = FakeRun(start_delay=None)
    watch = watch_for(fake)
    send(fake)
    with pytest.raises(WaitTimeoutError) as slow:
        wait(watch, timeout=4, start_timeout=30)
    assert "has not started after 4s" in slow.value.message


@pytest.mark.parametrize("phase", ["queued", "running"])
def test_ctrl_c_leaves_the_task_alone(phase: str) -> None:
    fake = FakeRun(start_delay=None if phase == "queued" else 0.5, duration=None)
    watch = watch_for(fake)
    send(fake)
    fake.interrupt_after = 3
    with pytest.raises(InterruptedWait) as stopped:
        wait(watch)
    assert stopped.value.exit_code == ExitCode.INTERRUPTED
    expected = "may still start" if phase == "queued" else "keeps running"
    assert expected in stopped.value.message
    assert "vrgtask --sandbox task wait 100" in stopped.value.message
    assert [r for r in fake.requests if "cancel" in str(r)] == []


def test_task_deleted_after_its_run_is_finished() -> None:
    fake = FakeRun(start_delay=1, duration=1)
    watch = watch_for(fake)
    send(fake)
    real_get = fake.tasks_get

    def gone_after_end(key: int, fields: Any = None) -> Any:
        from pyvergeos.exceptions import NotFoundError

        if fake.now >= 2:
            raise NotFoundError("Task 100 not found", status_code=404)
        return real_get(key, fields)

    cast(MagicMock, watch.client.tasks.get).side_effect = gone_after_end
    outcome = wait(watch)
    assert outcome.look.gone
    assert outcome.final is not None
    assert outcome.final["text"] == "Task 'nightly-backup' completed"


def test_the_first_error_is_reported_when_several() -> None:
    fake = FakeRun(start_delay=0.5, duration=1, fail="first")
    watch = watch_for(fake)
    send(fake)
    original = fake.entries

    def more_errors() -> list[dict[str, Any]]:
        rows = original()
        if fake.now >= 1.5:
            rows.append({**rows[-1], "$key": 99, "level": "critical", "text": "then worse",
                         "timestamp": rows[-1]["timestamp"] + 5})  # fmt: skip
        return rows

    fake.entries = more_errors  # type: ignore[method-assign]
    with pytest.raises(TaskFailedError) as failed:
        wait(watch)
    assert "failed: first" in failed.value.message


def test_an_error_behind_a_full_page_of_audit_entries_is_found() -> None:
    """The page of the run's entries is full of audit entries (left out): the
    error behind them is read with one more, errors-only request."""
    from vrgtask.runs import RESULT_LIMIT

    fake = FakeRun(start_delay=0.5, duration=1, fail="disk full")
    watch = watch_for(fake)
    send(fake)
    original = fake.entries

    def noisy() -> list[dict[str, Any]]:
        rows = original()
        if fake.now >= 1.5:
            last = rows[-1]
            for i in range(RESULT_LIMIT):
                stamp = last["timestamp"] + 10 + i
                rows.append({**last, "$key": 1000 + i, "level": "audit", "timestamp": stamp})
        return rows

    fake.entries = noisy  # type: ignore[method-assign]
    with pytest.raises(TaskFailedError) as failed:
        wait(watch)
    assert "failed: disk full" in failed.value.message


def test_unreadable_log_means_unknown_result() -> None:
    from pyvergeos.exceptions import APIError

    fake = FakeRun(start_delay=0.5, duration=1)
    client = fake.attach(MagicMock())
    client.logs.list.side_effect = APIError("Permission denied", status_code=403)
    mark = log_mark(client)
    assert not mark.readable
    watch = RunWatch(client, 100, name=fake.name, label="task x", status="idle",
                     last_run=fake.initial_last_run, mark=mark, hint="vrgtask task wait 100",
                     clock=fake.clock, sleep=fake.sleep)  # fmt: skip
    send(fake)
    with pytest.raises(Exception, match="result is unknown") as unknown:
        wait(watch)
    assert getattr(unknown.value, "exit_code", None) == ExitCode.ERROR


def test_old_entries_and_audit_entries_are_not_a_start() -> None:
    fake = FakeRun(start_delay=None)
    watch = watch_for(fake)
    fake.old_entries.append(
        {"$key": 2, "level": "audit", "text": "Updated task 'nightly-backup' (fields: name)",
         "timestamp": (EPOCH + 1) * 1_000_000, "object_type": "task",
         "object_name": fake.name}
    )  # fmt: skip
    send(fake)
    fake.now = 2
    assert watch.confirm_once()[0] is None


# ----------------------------------------------------------------------------- polling


def test_polls_every_second_then_backs_off_to_ten() -> None:
    fake = FakeRun(start_delay=0.5, duration=120)
    watch = watch_for(fake)
    send(fake)
    wait(watch)
    assert fake.sleeps[:9] == [1.0] * 9
    assert max(fake.sleeps) == 10.0
    assert fake.sleeps == sorted(fake.sleeps)
    assert fake.task_reads < 40  # about 25 looks for two minutes, not 120


def test_fixed_interval() -> None:
    fake = FakeRun(start_delay=0.5, duration=30)
    watch = watch_for(fake)
    send(fake)
    wait(watch, interval=5.0)
    assert set(fake.sleeps) == {5.0}


def test_backoff_sequence() -> None:
    backoff = Backoff()
    assert [backoff.next(t) for t in (0, 5, 9.9)] == [1.0, 1.0, 1.0]
    later = [backoff.next(t) for t in (10, 11, 13, 16, 20, 30, 40)]
    assert later == [1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0, 10.0]
    assert Backoff(3.0).next(100) == 3.0


def test_429_waits_for_retry_after() -> None:
    fake = FakeRun(start_delay=0.5, duration=20)
    watch = watch_for(fake)
    watch._retry_after["value"] = "7"  # what the session hook saw on the 429
    send(fake)
    fake.throttle_reads = {fake.task_reads + 2}
    outcome = wait(watch)
    assert outcome.final is not None
    assert 7.0 in fake.sleeps


def test_429_without_retry_after_waits_ten_seconds() -> None:
    fake = FakeRun(start_delay=0.5, duration=5)
    watch = watch_for(fake)
    send(fake)
    fake.throttle_reads = {fake.task_reads + 1}
    wait(watch)
    assert 10.0 in fake.sleeps


def test_retry_after_hook_reads_the_header() -> None:
    import requests

    session = requests.Session()
    client = MagicMock()
    client._connection.session = session
    watch = RunWatch(client, 1, name="x", label="task x", status="idle", last_run=None,
                     mark=LogMark(), hint="h")  # fmt: skip
    watch._hook_retry_after()
    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = "12"
    for hook in session.hooks["response"]:
        hook(response)
    assert watch._retry_after == {"value": "12"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("", None), (None, None), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0)],
)  # fmt: skip
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    from email.utils import parsedate_to_datetime

    now = parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    assert parse_retry_after(value, now=now) == expected


# ----------------------------------------------------------------------------- last_run


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1707200000, 1707200000),
        ("1707200000", 1707200000),
        (1707200000.7, 1707200000),
        ("2024-02-06T06:13:20Z", 1707200000),
        ("2024-02-06 06:13:20", 1707200000),
        ("2024-02-06T07:13:20+01:00", 1707200000),
        (0, None),
        ("", None),
        (None, None),
        ("never", None),
    ],
)
def test_epoch_seconds(value: Any, expected: int | None) -> None:
    assert epoch_seconds(value) == expected


@pytest.mark.parametrize(
    ("before", "after", "moved"),
    [
        (100, 100, False),
        (100, "100", False),
        (100, 101, True),
        (None, 5, True),
        (5, None, False),
        (0, 0, False),
        ("2026-01-01 10:00", "2026-01-01 10:05", True),
        ("2026-01-01 10:00", "2026-01-01 10:00", False),
    ],
)
def test_last_run_moved(before: Any, after: Any, moved: bool) -> None:
    assert last_run_moved(before, after) is moved


def test_live_line_shows_elapsed_time_and_the_newest_log_line() -> None:
    fake = FakeRun(start_delay=1, duration=3)
    watch = watch_for(fake)
    send(fake)
    lines: list[str] = []
    wait(watch, progress=lines.append, live_log=True)
    assert lines[0] == "task 'nightly-backup' (key 100): accepted, waiting for it to start (0s)"
    assert "task 'nightly-backup' (key 100): running (2s); log: Task 'nightly-backup' started" in (
        lines
    )


def test_without_a_terminal_no_log_reads_for_the_live_line() -> None:
    fake = FakeRun(start_delay=0.5, duration=20)
    watch = watch_for(fake)
    send(fake)
    reads_before = fake.log_reads
    wait(watch, live_log=False)
    # While queued: one log read per look; once running: none until the result.
    assert fake.log_reads - reads_before <= 3


def test_wait_options_give_the_command_one_timing() -> None:
    import click
    from click.testing import CliRunner

    from vrgtask.runopts import Timing, wait_options

    seen: list[Any] = []

    @click.command()
    @wait_options
    @click.option("--other")
    def cmd(**kwargs: Any) -> None:
        seen.append(kwargs)

    result = CliRunner().invoke(cmd, ["--timeout", "5", "--interval", "2", "--other", "x"])
    assert result.exit_code == 0, result.output
    assert seen == [{"wait": False, "timing": Timing(5.0, 30.0, 2.0), "other": "x"}]
    assert [p.name for p in cmd.params] == ["wait", "timeout", "start_timeout", "interval", "other"]
