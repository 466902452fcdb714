"""Independent reads of one command, sent at once.

``status`` needs the tasks, the schedules, the triggers and the task log;
none of those reads depends on another, so waiting for each answer before
asking the next costs a round trip per read (on a WAN link, most of the
command's time). :func:`read_together` sends them at once, each in a thread
of its own, and returns the answers in the order asked. The number of
requests does not change.

Each read is one request bounded by ``--timeout`` (in a thread other than
the main one, by the deadline of :mod:`vrgtask.client`), so a thread never
outlives its request by more than that. The threads are daemons: Ctrl-C
ends the command at once, whatever they still wait for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["read_together"]

#: The main thread checks for Ctrl-C this often while it waits (seconds).
_POLL = 0.2


def read_together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Call each of ``calls`` at once; their results, in the order given.

    When some fail, the failure of the first of them (in the order given) is
    raised once every call has ended, so the error is the same whichever
    answer arrives first. One call (or none) runs in this thread.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    results: list[Any] = [None] * len(calls)
    failures: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # handed to the caller's thread
            failures[index] = exc

    threads = [
        threading.Thread(target=run, args=(index,), name=f"vrgtask-read-{index}", daemon=True)
        for index in range(len(calls))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(_POLL)
    for failure in failures:
        if failure is not None:
            raise failure
    return results
