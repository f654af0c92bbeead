"""Loopback servers for the HTTP benchmarks, each in a child process of its own.

A server in the client's process would share its event loop and its core, so every figure would
be half server. In a child pinned to CPU 0 (the client takes CPU 1) the client's CPU per call is
its own. Two kinds: a trivial aiohttp.web app that answers every path with bytes encoded once at
start-up, so the server does as little as aiohttp allows and the client is what is measured; and
the embedded simulator, whose own cost ``bench_simulator`` reports.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Final

from ._cpu import pin

__all__ = [
    "CONTAINERS_PATH",
    "EVENTS_PATH",
    "STOCK_PATH",
    "ServerHandle",
    "simulator_server",
    "static_server",
]

STOCK_PATH: Final = "/api/v1/dev/machine/region/gpu_stock"
CONTAINERS_PATH: Final = "/api/v1/dev/deployment/container/list"
EVENTS_PATH: Final = "/api/v1/dev/deployment/container/event/list"
_START_TIMEOUT: Final = 60.0


@dataclass(frozen=True)
class ServerHandle:
    """Where a child server listens, its token, and its pid (for its CPU time)."""

    url: str
    token: str
    pid: int


def _static_bodies(containers: int) -> dict[str, bytes]:
    from ._payloads import container_list, events_page, gpu_stock

    return {
        STOCK_PATH: gpu_stock(),
        CONTAINERS_PATH: container_list(containers),
        EVENTS_PATH: events_page(3),
    }


def _run_static(conn: Connection, cpu: int | None, containers: int) -> None:
    """Child: answer each known path with its pre-encoded body, anything else with 404."""
    pin(cpu)
    from aiohttp import web

    bodies = _static_bodies(containers)

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        body = bodies.get(request.path)
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        conn.send((f"http://{host}:{port}", "bench-token"))
        await asyncio.get_running_loop().create_future()

    asyncio.run(main())


def _run_simulator(conn: Connection, cpu: int | None, machines: int, speed: float) -> None:
    """Child: the embedded simulator on a wall clock running ``speed`` times real time."""
    pin(cpu)
    from autodl_async.simulator import Simulator, SimulatorConfig, WallClock

    async def main() -> None:
        config = SimulatorConfig(
            token="bench-token",
            seed=7,
            clock=WallClock(speed=speed),
            machines_per_region=machines,
            max_replicas=100_000,
        )
        async with Simulator(config) as sim:
            conn.send((sim.url, sim.token))
            await sim.serve_forever()

    asyncio.run(main())


@contextmanager
def _child(target: Any, args: tuple[Any, ...]) -> Iterator[ServerHandle]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    try:
        if not parent.poll(_START_TIMEOUT):
            raise RuntimeError(f"benchmark server did not start within {_START_TIMEOUT:.0f}s")
        url, token = parent.recv()
        yield ServerHandle(url=url, token=token, pid=process.pid or 0)
    finally:
        process.terminate()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)


@contextmanager
def static_server(cpu: int | None, *, containers: int = 1000) -> Iterator[ServerHandle]:
    """The trivial pre-encoded server: gpu stock, a ``containers``-row list, 3 events."""
    with _child(_run_static, (cpu, containers)) as handle:
        yield handle


@contextmanager
def simulator_server(
    cpu: int | None, *, machines: int = 3, speed: float = 1000.0
) -> Iterator[ServerHandle]:
    """The embedded simulator with ``machines`` hosts per region, its clock ``speed``× real."""
    with _child(_run_simulator, (cpu, machines, speed)) as handle:
        yield handle
