"""One owner-reference type for every --owner (vrgtask.owners.OwnerParam)."""

from __future__ import annotations

from unittest.mock import MagicMock

import click
import pytest
from support import Invoke, untouched

from vrgtask.owners import OwnerParam, OwnerRef, owner_with_table


@pytest.mark.parametrize(
    ("value", "table", "expected"),
    [
        ("users/3", None, "users/3"),
        (" users/3 ", "alarms", "users/3"),
        ("users/007", None, "users/7"),
        ("vm_recipes/winbind-v1", None, "vm_recipes/winbind-v1"),
        ("3", "users", "users/3"),
        ("0042", "vms", "vms/42"),
    ],
)
def test_owner_reference_with_a_key(value: str, table: str | None, expected: str) -> None:
    owner = owner_with_table(OwnerParam().convert(value, None, None), table, same_table=False)
    assert owner.ref == expected


def test_owner_by_name_is_left_for_the_lookup() -> None:
    assert OwnerParam().convert("vms/web 01", None, None) == OwnerRef("vms", name="web 01")


@pytest.mark.parametrize(
    "value",
    ["vms/1 2", "vms/ 1", "users/", "/3", "users/0", "abc", "0", "-1", "users/3/4", "a b/3"],
)
def test_bad_owner_text_is_refused(value: str) -> None:
    with pytest.raises(click.BadParameter):
        OwnerParam().convert(value, None, None)


def test_a_bare_key_needs_a_table() -> None:
    with pytest.raises(click.UsageError, match="--table"):
        owner_with_table(OwnerRef("", key="3"), None, same_table=True)


@pytest.mark.parametrize(
    "command",
    [
        ("task", "create", "--name", "n", "--action", "poweron"),
        ("event", "create", "n", "--event", "login"),
        ("event", "list"),
    ],
)
@pytest.mark.parametrize("owner", ["vms/1 2", "vms/", "vms/1/2", "0"])
def test_every_owner_option_refuses_the_same_text(
    invoke: Invoke, mock_client: MagicMock, command: tuple[str, ...], owner: str
) -> None:
    result = invoke(*command, "--owner", owner, "--table", "vms")
    assert result.exit_code == 2, result.stderr
    assert "'--owner'" in result.stderr
    untouched(mock_client)
