"""Shared fixtures: the asyncio backend, a scripted loopback server, the simulator and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio.lowlevel
import pytest

from autodl_async import AutoDL, RetryPolicy
from tests.scripted import ScriptedServer


@pytest.fixture
def anyio_backend() -> str:
    # aiohttp runs on asyncio only.
    return "asyncio"


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as server:
        yield server


class VirtualTime:
    """A clock that moves only when the client sleeps, so waits cost no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()


@pytest.fixture
async def scripted_client(scripted: ScriptedServer) -> AsyncIterator[AutoDL]:
    """A client against the scripted server on virtual time: backoff and 429 pauses are free.

    The sleeps it asked for are in ``client.sleeps``. Sleep and clock must move together: a
    fake sleep on the real clock would make the client-wide 429 pause spin until it passed.
    """
    time = VirtualTime()
    async with AutoDL(
        "test-token-abc123",
        base_url=scripted.url,
        retry=RetryPolicy(max_attempts=3),
        sleep=time.sleep,
        clock=time.clock,
        timeout=5.0,
    ) as client:
        client.sleeps = time.sleeps  # type: ignore[attr-defined]
        yield client
