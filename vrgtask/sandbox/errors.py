"""Exceptions raised by the sandbox outside of HTTP answers.

Errors a client provokes (a bad filter, an unknown column...) are never
raised: the emulator turns them into a JSON ``{"err": ...}`` reply with the
right status. What is left are problems of the sandbox itself.
"""

from __future__ import annotations

__all__ = ["SandboxError", "SandboxStateError"]


class SandboxError(Exception):
    """The sandbox cannot run: a missing optional dependency, a bad setting."""


class SandboxStateError(SandboxError):
    """The sandbox state or settings cannot be used (corrupt, unreadable, foreign
    state; an unknown profile or a bad value in ``VRGTASK_SANDBOX_*``). The CLI
    answers it with one error line and exit 3.

    The message names the file and tells the user how to start over. The file
    itself is never modified by the code that raises this.
    """
