"""The status line, dumb terminals and confirmation prompts (AppContext)."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import click
import pytest
from pytest_mock import MockerFixture
from support import Invoke

from vrgtask.config import Settings
from vrgtask.context import AppContext, fit_width


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("eleven chars", 10, "eleven ch\u2026"),
        ("日本語のタスク", 7, "日本語\u2026"),  # wide characters take two columns
        ("e\u0301te\u0301", 3, "e\u0301te\u0301"),  # combining accents take none
        ("anything", 0, ""),
    ],
)
def test_fit_width(text: str, width: int, expected: str) -> None:
    assert fit_width(text, width) == expected


@pytest.fixture
def terminal(mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    mocker.patch("vrgtask.context.stderr_is_terminal", return_value=True)
    monkeypatch.setenv("TERM", "xterm")


def test_progress_is_cut_to_the_width(
    terminal: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "20")
    app = AppContext(Settings())
    app.progress("task 'a-rather-long-name' (key 12): 40% (3s elapsed)")
    err = capsys.readouterr().err
    assert err.startswith("\r\x1b[2K")
    line = err.removeprefix("\r\x1b[2K")
    assert len(line) == 19
    assert line.endswith("\u2026")


def test_progress_escapes_control_characters_before_cutting(
    terminal: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    AppContext(Settings()).progress("evil\x1b[2Jname")
    assert capsys.readouterr().err == "\r\x1b[2Kevil\\x1b[2Jname"


def test_dumb_terminal_prints_plain_lines_now_and_then(
    terminal: None,
    monkeypatch: pytest.MonkeyPatch,
    mocker: MockerFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TERM", "dumb")
    clock = mocker.patch("time.monotonic", return_value=100.0)
    app = AppContext(Settings())
    app.progress("one")
    clock.return_value = 105.0
    app.progress("two")  # too soon: skipped
    clock.return_value = 111.0
    app.progress("three")
    app.progress_end()
    assert capsys.readouterr().err == "one\nthree\n"


def test_nothing_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    app = AppContext(Settings())
    app.progress("x")
    app.progress_end()
    assert capsys.readouterr().err == ""


def test_dumb_terminal_has_no_colour(
    mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    mocker.patch("sys.stdout.isatty", return_value=True)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert AppContext(Settings()).color is True
    monkeypatch.setenv("TERM", "dumb")
    assert AppContext(Settings()).color is False


def test_ctrl_d_at_the_prompt_ends_its_line(
    invoke: Invoke, mock_client: MagicMock, mock_task: Any, mocker: MockerFixture
) -> None:
    mocker.patch("vrgtask.context.stdin_is_terminal", return_value=True)
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("task", "delete", "nightly-backup", input="")  # end of input at the prompt
    assert out.exit_code == 1
    lines = out.stderr.splitlines()
    assert lines[0].endswith("[y/N]: ")
    assert lines[1] == "Error: cancelled (end of input); nothing was changed"
    assert len(lines) == 2
    mock_client.tasks.delete.assert_not_called()


def test_ctrl_c_at_the_prompt_ends_its_line(
    invoke: Invoke, mock_client: MagicMock, mock_task: Any, mocker: MockerFixture
) -> None:
    def interrupted(text: str, **_kwargs: Any) -> bool:
        click.echo(f"{text} [y/N]: ", nl=False, err=True)
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise click.Abort() from None  # what click.confirm does on Ctrl-C

    mocker.patch("vrgtask.context.stdin_is_terminal", return_value=True)
    mocker.patch("vrgtask.context.click.confirm", side_effect=interrupted)
    mock_client.tasks.list.return_value = [mock_task]
    out = invoke("task", "delete", "nightly-backup")
    assert out.exit_code == 130
    lines = out.stderr.splitlines()
    assert lines[0].endswith("[y/N]: ")
    assert lines[1] == "Error: interrupted"
    assert len(lines) == 2
    mock_client.tasks.delete.assert_not_called()


def test_a_note_while_the_status_is_shown_starts_on_a_clean_line(
    terminal: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    app = AppContext(Settings())
    app.progress("working: 40%")
    app.note("> GET https://h/api/v4/tasks/1")
    app.note("< 200 OK")
    app.progress("working: 60%")
    assert capsys.readouterr().err == (
        "\r\x1b[2Kworking: 40%"
        "\r\x1b[2K> GET https://h/api/v4/tasks/1\n"
        "< 200 OK\n"
        "\r\x1b[2Kworking: 60%"
    )
