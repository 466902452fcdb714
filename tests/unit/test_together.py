"""vrgtask.together: independent reads sent at once, answered in order."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from vrgtask.client import CliSession
from vrgtask.together import read_together


def test_the_calls_run_at_once_and_answer_in_the_order_given() -> None:
    # Each call waits for all three to have started: run one after the
    # other, the barrier would break (BrokenBarrierError) instead.
    barrier = threading.Barrier(3, timeout=20)

    def call(value: str, delay: float) -> Any:
        def read() -> str:
            barrier.wait()
            time.sleep(delay)  # the last one asked answers first
            return value

        return read

    assert read_together([call("a", 0.2), call("b", 0.1), call("c", 0.0)]) == ["a", "b", "c"]


def test_the_first_failure_in_the_order_given_is_raised_after_all_ended() -> None:
    ended: list[str] = []

    def fail(message: str, delay: float) -> Any:
        def read() -> None:
            time.sleep(delay)
            ended.append(message)
            raise ValueError(message)

        return read

    def slow_success() -> str:
        time.sleep(0.2)
        ended.append("ok")
        return "ok"

    with pytest.raises(ValueError, match="first"):
        read_together([slow_success, fail("first", 0.1), fail("second", 0.0)])
    assert sorted(ended) == ["first", "ok", "second"]


def test_one_call_runs_in_this_thread_and_none_is_nothing() -> None:
    assert read_together([]) == []
    assert read_together([lambda: threading.current_thread().name]) == [
        threading.current_thread().name
    ]


def test_a_keyboard_interrupt_in_a_read_reaches_the_caller() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        read_together([lambda: 1, interrupted])


def test_a_session_knows_per_thread_whether_it_is_sending() -> None:
    """A redirect's follow-up skips the bound and the checks of ``send``; one
    thread's request must never make another thread's look like one."""
    session = CliSession()
    seen: dict[str, bool] = {}
    inside = threading.Event()
    release = threading.Event()

    class Adapter(requests.adapters.BaseAdapter):
        def send(self, request: Any, *_args: Any, **_kwargs: Any) -> requests.Response:
            inside.set()
            release.wait(20)
            response = requests.Response()
            response.status_code = 200
            response._content = b"{}"
            response.request = request
            response.url = request.url
            return response

        def close(self) -> None:
            pass

    session.mount("https://", Adapter())
    worker = threading.Thread(target=lambda: session.get("https://127.0.0.1/api/v4/system"))
    worker.start()
    assert inside.wait(20)
    seen["other thread"] = session._sending
    release.set()
    worker.join(20)
    seen["after"] = session._sending
    assert seen == {"other thread": False, "after": False}
