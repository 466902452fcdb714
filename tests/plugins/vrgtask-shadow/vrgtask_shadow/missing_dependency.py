"""Raises at import: a broken plugin that also claims a built-in name."""

import vrgtask_no_such_dependency  # type: ignore[import-not-found]  # noqa: F401
