"""Fixtures for the sandbox unit tests: an emulator on a hand-moved clock."""

from __future__ import annotations

from datetime import timezone

import pytest

from vrgtask.sandbox import Emulator, MemoryStore, seed_state

from .sandbox_api import Api, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(seed_state())


@pytest.fixture
def emulator(store: MemoryStore, clock: FakeClock) -> Emulator:
    return Emulator(store, clock=clock, tz=timezone.utc)


@pytest.fixture
def api(emulator: Emulator) -> Api:
    """Admin requests against ``emulator``."""
    return Api(emulator)
