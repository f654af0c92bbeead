"""Fixtures for the simulator's own tests: a virtual clock, a running simulator, a raw client.

`pytestmark` in a conftest does not reach test modules, so each module marks itself with
`pytestmark = pytest.mark.anyio`; this file provides the backend they run on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock

from ._support import Api, running

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiohttp runs on asyncio only


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def sim_config(clock: VirtualClock) -> SimulatorConfig:
    return SimulatorConfig(clock=clock)


@pytest.fixture
async def sim_api(sim_config: SimulatorConfig) -> AsyncIterator[tuple[Simulator, Api]]:
    async with running(sim_config) as pair:
        yield pair


@pytest.fixture
def sim(sim_api: tuple[Simulator, Api]) -> Simulator:
    return sim_api[0]


@pytest.fixture
def api(sim_api: tuple[Simulator, Api]) -> Api:
    return sim_api[1]
