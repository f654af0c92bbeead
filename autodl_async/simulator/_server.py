"""The public `Simulator`: an aiohttp server on loopback around one simulated account."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from ._app import build_app
from ._clock import VirtualClock, WallClock
from ._config import SimulatorConfig
from ._engine import Engine
from ._event_feed import EventFeed
from ._faults import FaultSet
from ._persistence import StateStore
from ._recorder import RequestLog, RequestRecord
from ._snapshots import (
    BlacklistSnapshot,
    ContainerSnapshot,
    DeploymentSnapshot,
    EventSnapshot,
    MachineSnapshot,
    snapshot_blacklist,
    snapshot_container,
    snapshot_deployment,
    snapshot_event,
    snapshot_machines,
)
from ._state import Deployment
from ._world import PrivateImage

__all__ = ["Simulator", "run_standalone"]

# Long enough for an in-flight answer, short enough that a test using a slow-body fault
# does not wait aiohttp's default 60 s on shutdown.
_SHUTDOWN_TIMEOUT = 1.0


class Simulator:
    """A fake AutoDL ESD API. Use `async with`, or `start()` / `stop()`."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self._config = config if config is not None else SimulatorConfig()
        self._engine = Engine(self._config)
        self._faults = FaultSet(self._config.seed, self._config.faults)
        self._event_feed = EventFeed(self._engine)
        self._log = RequestLog()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # -- server -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        runner = web.AppRunner(
            build_app(self._engine, self._faults, self._log),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._config.host, self._config.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        self._url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self._runner = runner

    async def stop(self) -> None:
        """Idempotent, so `serve_forever()` inside `async with` can stop first."""
        runner, self._runner, self._url = self._runner, None, None
        if runner is not None:
            await runner.cleanup()
            self._engine.catch_up()
            self._engine.persist(force=True)

    async def serve_forever(self) -> None:
        """Serve until cancelled, then stop; starts the server if needed."""
        if self._runner is None:
            await self.start()
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            await self.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- handles ----------------------------------------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        return self._config

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, no trailing slash."""
        if self._url is None:
            raise RuntimeError("simulator is not running")
        return self._url

    @property
    def token(self) -> str:
        return self._config.token

    @property
    def clock(self) -> VirtualClock | WallClock:
        return self._config.clock

    @property
    def faults(self) -> FaultSet:
        return self._faults

    @property
    def requests(self) -> tuple[RequestRecord, ...]:
        return self._log.records()

    @property
    def event_feed(self) -> EventFeed:
        """Extra events on demand: bursts, arrivals while a client pages (`_event_feed`)."""
        return self._event_feed

    # -- snapshots (each first brings the world up to the clock) ----------------------------

    def deployments(self, *, include_deleted: bool = False) -> tuple[DeploymentSnapshot, ...]:
        """Creation order."""
        self._engine.catch_up()
        return tuple(
            snapshot_deployment(d)
            for d in self._engine.world.deployments.values()
            if include_deleted or not d.deleted
        )

    def containers(self, deployment_uuid: str | None = None) -> tuple[ContainerSnapshot, ...]:
        """Creation order; `KeyError` for a deployment uuid never created."""
        self._engine.catch_up()
        world = self._engine.world
        if deployment_uuid is None:
            items = list(world.containers.values())
        else:
            items = self._deployment(deployment_uuid).containers
        return tuple(snapshot_container(c) for c in items)

    def events(self, deployment_uuid: str) -> tuple[EventSnapshot, ...]:
        """Chronological (append) order, whatever `event_order` the API uses."""
        self._engine.catch_up()
        dep = self._deployment(deployment_uuid)
        return tuple(snapshot_event(e) for e in dep.events)

    def machines(self) -> tuple[MachineSnapshot, ...]:
        self._engine.catch_up()
        return snapshot_machines(self._engine.world)

    def blacklist(self) -> tuple[BlacklistSnapshot, ...]:
        """Unexpired entries only."""
        self._engine.catch_up()
        return tuple(snapshot_blacklist(e) for e in self._engine.world.active_blacklist())

    def images(self) -> tuple[PrivateImage, ...]:
        return self._engine.world.images

    def reuse_pool(self) -> tuple[ContainerSnapshot, ...]:
        """Shut-down containers a `reuse_container` deployment may take over, oldest first."""
        self._engine.catch_up()
        return tuple(snapshot_container(c) for c in self._engine.world.pool)

    def crash_container(self, container_uuid: str) -> bool:
        """Make a container's process die now, as a crash would: it fails (`failed_num`) and
        is replaced as its deployment type says. False if it was not alive."""
        self._engine.catch_up()
        container = self._engine.world.containers.get(container_uuid)
        if container is None:
            raise KeyError(f"no container {container_uuid!r} in this simulator")
        crashed = self._engine.lifecycle.crash(container)
        self._engine.persist(force=True)
        return crashed

    def save_state(self, path: str | os.PathLike[str]) -> None:
        """Write the account to `path` (the `state_file` format); restore it by starting a
        simulator with `SimulatorConfig(state_file=path, seed=<same seed>)`."""
        self._engine.catch_up()
        StateStore(path).save(self._engine.world)

    def _deployment(self, uuid: str) -> Deployment:
        dep = self._engine.world.deployments.get(uuid)
        if dep is None:
            raise KeyError(f"no deployment {uuid!r} in this simulator")
        return dep

    def reset(self) -> None:
        """A fresh account at the clock's current time: no deployments, blacklist, reuse pool,
        fault rules or request log; ids restart from the seed. Fleet, clock and port stay."""
        self._engine.reset()
        self._faults.reset()
        self._event_feed.stop_arrivals()
        self._log.clear()


def run_standalone(
    config: SimulatorConfig | None = None, *, on_ready: Callable[[str, str], None]
) -> None:
    """Run a simulator until Ctrl-C or cancellation; `on_ready(url, token)` once listening."""

    async def main() -> None:
        async with Simulator(config) as sim:
            on_ready(sim.url, sim.token)
            await sim.serve_forever()

    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(main())
