"""``yaml``: the same data as ``json`` (raw values, rows as the command built
them), as a YAML document. PyYAML is imported only when this format is used.
"""

from __future__ import annotations

import json
from typing import Any

from vrgtask.formatters import Columns, Formatter, RenderOptions, Row, Rows

__all__ = ["YamlFormatter"]


def _plain(value: Any) -> Any:
    """What ``-o json`` carries: values JSON cannot hold become text, as there."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _dump(value: Any) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    # A safe dump: plain data only. Strings that would read back as another
    # type ("true", "2026-01-01", "1e3") are quoted; control characters are
    # written as escapes in double-quoted strings.
    text: str = yaml.dump(
        _plain(value),
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )
    return text.rstrip("\n")


class YamlFormatter(Formatter):
    """A list as a sequence of mappings, one object as a mapping."""

    structured = True

    def format_list(self, rows: Rows, columns: Columns, options: RenderOptions) -> str:
        return _dump([dict(row) for row in rows])

    def format_one(self, row: Row, columns: Columns, options: RenderOptions) -> str:
        return _dump(dict(row))
