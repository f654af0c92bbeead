"""Pytest fixtures for testing your own app against the embedded simulator.

Installed as a pytest plugin (entry point ``autodl_async``), so after ``pip install
autodl-async`` a test just asks for them::

    import pytest

    pytestmark = pytest.mark.anyio

    async def test_scale(autodl_client, autodl_clock):
        uuid = await autodl_client.deployments.create(...)
        autodl_clock.advance(10)                  # ten simulated seconds, instantly
        ...

Fixtures: ``autodl_simulator`` (a running :class:`~autodl_async.simulator.Simulator`),
``autodl_client`` (an :class:`~autodl_async.AutoDL` connected to it), ``autodl_clock`` (its
:class:`~autodl_async.simulator.VirtualClock`), ``autodl_faults`` (its fault rules), and two to
override: ``autodl_simulator_config`` and ``autodl_client_options``. The marker
``@pytest.mark.autodl_simulator(**fields)`` changes :class:`SimulatorConfig` fields for one
test (or a module, through ``pytestmark``); ``faults=`` there may hold spec strings.

On a virtual clock the client's own waits (retry backoff, waiter and stream polling) advance
the simulator's clock instead of sleeping, so a test that waits for a container to run, or
retries through a 429, takes no wall time. The fixtures are async: use anyio's pytest plugin
(``pytest.mark.anyio``, shipped with anyio) or another async runner, on asyncio.

Imports of the SDK and the simulator happen inside the fixtures, so merely having the plugin
installed costs an unrelated test run nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import pytest

if TYPE_CHECKING:
    from ._client import AutoDL
    from .simulator import FaultSet, Simulator, SimulatorConfig, VirtualClock

__all__ = [
    "MARKER",
    "autodl_client",
    "autodl_client_options",
    "autodl_clock",
    "autodl_faults",
    "autodl_simulator",
    "autodl_simulator_config",
    "virtual_sleep",
]

MARKER: Final = "autodl_simulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**fields): SimulatorConfig fields for this test's simulator "
        "(autodl_async.testing); faults= may hold spec strings",
    )


def virtual_sleep(clock: VirtualClock) -> Callable[[float], Awaitable[None]]:
    """A ``sleep`` for the client that moves ``clock`` instead of waiting: ``clock.sleep``.

    Kept as a function for code written before :meth:`VirtualClock.sleep` existed.
    """
    return clock.sleep


def _marked_config(request: pytest.FixtureRequest, base: SimulatorConfig) -> SimulatorConfig:
    from .simulator import FaultSpecError, SimulatorConfig, parse_fault_spec

    if not isinstance(base, SimulatorConfig):
        pytest.fail(
            f"autodl_simulator_config must return a SimulatorConfig, got {type(base).__name__}",
            pytrace=False,
        )
    config = base
    # Farthest marker first (module, class), so the one on the test itself wins.
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        if marker.args:
            pytest.fail(f"@pytest.mark.{MARKER} takes keyword arguments only", pytrace=False)
        fields = dict(marker.kwargs)
        try:
            if "faults" in fields:
                fields["faults"] = tuple(
                    parse_fault_spec(f) if isinstance(f, str) else f for f in fields["faults"]
                )
            config = dataclasses.replace(config, **fields)
        except (TypeError, ValueError, FaultSpecError) as exc:
            pytest.fail(f"@pytest.mark.{MARKER}: {exc}", pytrace=False)
    return config


@pytest.fixture
def autodl_simulator_config() -> SimulatorConfig:
    """Override to configure the simulator of every test in scope.

    The default has a fresh virtual clock, so lifecycles move only when the test advances it.
    """
    from .simulator import SimulatorConfig, VirtualClock

    return SimulatorConfig(clock=VirtualClock())


@pytest.fixture
async def autodl_simulator(
    request: pytest.FixtureRequest, autodl_simulator_config: SimulatorConfig
) -> AsyncIterator[Simulator]:
    """A running simulator on a free loopback port, stopped after the test."""
    from .simulator import Simulator

    async with Simulator(_marked_config(request, autodl_simulator_config)) as sim:
        yield sim


@pytest.fixture
def autodl_clock(autodl_simulator: Simulator) -> VirtualClock:
    """The simulator's virtual clock: ``autodl_clock.advance(30)`` is thirty seconds later."""
    from .simulator import VirtualClock

    clock = autodl_simulator.clock
    if not isinstance(clock, VirtualClock):
        pytest.fail(
            "autodl_clock needs a simulator on a VirtualClock; this one runs on "
            f"{type(clock).__name__}",
            pytrace=False,
        )
    return clock


@pytest.fixture
def autodl_faults(autodl_simulator: Simulator) -> FaultSet:
    """The simulator's fault rules: ``autodl_faults.add("status:*/deployment/list:times=1")``."""
    return autodl_simulator.faults


@pytest.fixture
def autodl_client_options() -> dict[str, Any]:
    """Override to pass keyword arguments to the client (``retry=``, ``timeout=``, ...)."""
    return {}


@pytest.fixture
async def autodl_client(
    autodl_simulator: Simulator, autodl_client_options: dict[str, Any]
) -> AsyncIterator[AutoDL]:
    """A client connected to :func:`autodl_simulator`, waiting in virtual time if it can."""
    from ._client import AutoDL
    from .simulator import VirtualClock

    options: dict[str, Any] = {}
    clock = autodl_simulator.clock
    if isinstance(clock, VirtualClock):
        options.update(sleep=virtual_sleep(clock), clock=clock.now)
    options.update(autodl_client_options)
    async with AutoDL(autodl_simulator.token, base_url=autodl_simulator.url, **options) as client:
        yield client
