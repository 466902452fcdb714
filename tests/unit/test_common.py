"""The blocks every command module shares (vrgtask.commands._common)."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner
from support import TASK_DATA, sdk_object

from vrgtask.commands._common import (
    confirm_delete,
    deleted_row,
    require_changes,
    update_options,
    yes_option,
)
from vrgtask.formatters import Column


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (["task", "update", "x"], "--name, --description, --enabled, --delete-after-run"),
        (["event", "update", "3"], "--filters-json, --context-json"),
        (["schedule", "update", "x"], "--days, --monday, --tuesday"),
        (["script", "update", "x"], "--name, --description"),
    ],
)
def test_nothing_to_change_names_the_commands_own_options(
    invoke: Any, mock_client: Any, args: list[str], options: str
) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert "nothing to change: give at least one of --" in result.stderr
    assert options in result.stderr
    assert "--output" not in result.stderr
    assert mock_client.method_calls == []


def test_require_changes_keeps_what_was_given() -> None:
    @click.command()
    @click.option("--a")
    @click.option("--b")
    def cmd(a: str | None, b: str | None) -> None:
        click.echo(sorted(require_changes({"a": a, "b": b})))

    assert CliRunner().invoke(cmd, ["--b", "x"]).output == "['b']\n"


def test_yes_option_appends_the_sentence_once() -> None:
    @click.command()
    @yes_option()
    def cmd(yes: bool) -> None:
        """Delete it.

        Really.
        """

    assert cmd.help is not None
    assert cmd.help.endswith(
        "Really.\n\nAsks first on a terminal; without a terminal, --yes is required."
    )
    assert [p.name for p in cmd.params] == ["yes"]


def test_deleted_row() -> None:
    from pyvergeos.resources.tasks import Task

    task = sdk_object(Task, TASK_DATA)
    assert deleted_row(task) == {"$key": task.key, "name": task.get("name"), "deleted": True}
    assert deleted_row(task, {"x": 1}, n=2) == {"x": 1, "n": 2, "deleted": True}


def test_confirm_delete_asks_then_deletes_then_reports_the_deleted_row(mocker: Any) -> None:
    from pyvergeos.resources.tasks import Task

    task = sdk_object(Task, TASK_DATA)
    columns = [Column("x", "X")]
    steps = mocker.MagicMock()
    confirm_delete(
        steps.app,
        task,
        steps.delete,
        yes=True,
        ask="Delete it?",
        told="Deleted it",
        row={"$key": task.key, "x": 1},
        columns=columns,
        n=2,
    )
    assert steps.mock_calls == [
        mocker.call.app.confirm("Delete it?", yes=True),
        mocker.call.delete(task.key),
        mocker.call.app.done(
            "Deleted it", {"$key": task.key, "x": 1, "n": 2, "deleted": True}, columns
        ),
    ]


def test_confirm_delete_deletes_nothing_when_refused(mocker: Any) -> None:
    from pyvergeos.resources.tasks import Task

    task = sdk_object(Task, TASK_DATA)
    app = mocker.MagicMock()
    app.confirm.side_effect = click.Abort()
    delete = mocker.MagicMock()
    with pytest.raises(click.Abort):
        confirm_delete(app, task, delete, yes=False, ask="Delete it?", told="Deleted it")
    delete.assert_not_called()
    app.done.assert_not_called()


@pytest.mark.parametrize(
    ("enabled", "names"),
    [(False, ["name", "description"]), (True, ["name", "description", "enabled"])],
)
def test_update_options(enabled: bool, names: list[str]) -> None:
    @click.command()
    @update_options(enabled=enabled)
    def cmd(**given: Any) -> None:
        click.echo(sorted((k, v) for k, v in given.items() if v is not None))

    assert [p.name for p in cmd.params] == names
    runner = CliRunner()
    assert runner.invoke(cmd, ["--description", "d"]).output == "[('description', 'd')]\n"
    refused = runner.invoke(cmd, ["--name", " "])
    assert refused.exit_code == 2
    assert "must not be empty" in refused.output
