"""Pytest fixtures for testing your own app against the embedded simulator.

Installed as a pytest plugin (entry point ``autodl_async``), so after ``pip install
autodl-async`` a test can simply ask for them::

    async def test_scale(autodl_client, autodl_simulator):
        uuid = await autodl_client.deployments.create(...)
        autodl_simulator.clock.advance(10)          # virtual time: no sleeping
        ...

The fixtures are async and need an async test runner: anyio's pytest plugin (shipped with
anyio, use ``@pytest.mark.anyio``) or pytest-asyncio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._client import AutoDL
    from .simulator import Simulator

__all__ = ["autodl_client", "autodl_simulator", "autodl_simulator_config"]


@pytest.fixture
def autodl_simulator_config() -> object:
    """Override to configure the simulator (return a ``SimulatorConfig``).

    The default uses a virtual clock, so lifecycles move only when the test advances it.
    """
    from .simulator import SimulatorConfig, VirtualClock

    return SimulatorConfig(clock=VirtualClock())


@pytest.fixture
async def autodl_simulator(autodl_simulator_config: object) -> AsyncIterator[Simulator]:
    """A running simulator on a free loopback port, stopped after the test."""
    from .simulator import Simulator, SimulatorConfig

    assert isinstance(autodl_simulator_config, SimulatorConfig)
    async with Simulator(autodl_simulator_config) as sim:
        yield sim


@pytest.fixture
async def autodl_client(autodl_simulator: Simulator) -> AsyncIterator[AutoDL]:
    """A client connected to :func:`autodl_simulator`."""
    from ._client import AutoDL

    async with AutoDL(autodl_simulator.token, base_url=autodl_simulator.url) as client:
        yield client
