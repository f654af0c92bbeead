"""Shared fixtures: the asyncio backend, a scripted loopback server, the simulator and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

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


@pytest.fixture
async def scripted_client(scripted: ScriptedServer) -> AsyncIterator[AutoDL]:
    """A client against the scripted server that never really sleeps between retries."""
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with AutoDL(
        "test-token-abc123",
        base_url=scripted.url,
        retry=RetryPolicy(max_attempts=3),
        sleep=fake_sleep,
        timeout=5.0,
    ) as client:
        client.sleeps = sleeps  # type: ignore[attr-defined]
        yield client
