"""Raises at import, like a plugin whose dependency is not installed."""

import vrgtask_no_such_dependency  # type: ignore[import-not-found]  # noqa: F401
