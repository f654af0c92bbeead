"""Simulator capacity: calls per second the embedded simulator serves, per endpoint.

Run from the repository root::

    python -m benchmarks.bench_simulator            # about thirty seconds
    python -m benchmarks.bench_simulator --quick

The other benchmarks drive the simulator; their figures mean something only if it was not the
limit. The simulator runs in a child process pinned to CPU 0 with 1,000 running containers (plus
a second deployment of 3,000 whose containers the stop endpoint consumes, one stop each: about
the fleet ``bench_bulk`` builds, since the simulator's cost grows with its fleet); raw aiohttp at
concurrency 16 on CPU 1 drives one endpoint at a time, round-robin, and the server's CPU share
is read from ``/proc`` (near 100% means the simulator was the limit). ``gpu_stock`` is also
served by the trivial pre-encoded server in the same run, so the ratio is the simulator's cost
per request against aiohttp's own floor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import anyio
import msgspec

from ._cpu import CLIENT_CPU, SERVER_CPU, can_pin, pinned
from ._drive import Window, drive
from ._fleet import machines_for, running_deployment
from ._result import Result, Row, main_for, make_row, versions
from ._servers import STOCK_PATH, ServerHandle, simulator_server, static_server
from ._stats import median, paired_ratios, spread

__all__ = ["main", "run"]

NAME: Final = "simulator"
CONCURRENCY: Final = 16
FLEET: Final = 1000
# What the other benchmarks ask of the simulator at most, in calls per second: bulk stops 1,000
# containers with 50 ms latency at concurrency 64 (ideal 0.78 s, so 1,280 stops/s); streams
# poll 100 times a second.
NEEDS: Final = {"containers.stop": 1280.0, "events.list_page(100)": 100.0}
_PACKAGES: Final = ("autodl-async", "aiohttp", "msgspec")
_DECODE: Final = msgspec.json.Decoder()


@dataclass(frozen=True)
class Plan:
    """``stop_window`` is shorter than ``window`` because every stop uses up a container, and
    the pool of them has to be created (and makes every endpoint a little slower) first; a
    stop window also closes early once its share of the pool is used."""

    rounds: int
    window: float
    stop_window: float
    stop_pool: int


FULL: Final = Plan(rounds=3, window=1.0, stop_window=0.25, stop_pool=3000)
QUICK: Final = Plan(rounds=1, window=0.25, stop_window=0.1, stop_pool=600)
STOP: Final = "containers.stop"


@dataclass(frozen=True)
class _Endpoint:
    label: str
    method: str
    path: str
    body: Callable[[], dict[str, Any]]


def _next_stop(stoppable: Iterator[str]) -> str:
    uuid = next(stoppable, None)
    if uuid is None:
        raise RuntimeError("the pool of containers to stop ran out; raise Plan.stop_pool")
    return uuid


def _endpoints(deployment: str, stoppable: Iterator[str]) -> list[_Endpoint]:
    return [
        _Endpoint("gpu_stock.get", "POST", STOCK_PATH, lambda: {"region_sign": "westDC2"}),
        _Endpoint("account.balance", "POST", "/api/v1/dev/wallet/balance", dict),
        _Endpoint(
            "deployments.list_page(10)",
            "POST",
            "/api/v1/dev/deployment/list",
            lambda: {"page_index": 1, "page_size": 10},
        ),
        _Endpoint(
            "containers.list_page(10)",
            "POST",
            "/api/v1/dev/deployment/container/list",
            lambda: {"deployment_uuid": deployment, "page_index": 1, "page_size": 10},
        ),
        _Endpoint(
            "containers.list_page(1000)",
            "POST",
            "/api/v1/dev/deployment/container/list",
            lambda: {"deployment_uuid": deployment, "page_index": 1, "page_size": 1000},
        ),
        _Endpoint(
            "events.list_page(100)",
            "POST",
            "/api/v1/dev/deployment/container/event/list",
            lambda: {"deployment_uuid": deployment, "page_index": 1, "page_size": 100},
        ),
        _Endpoint(
            STOP,
            "PUT",
            "/api/v1/dev/deployment/container/stop",
            lambda: {
                "deployment_container_uuid": _next_stop(stoppable),
                "decrease_one_replica_num": True,
            },
        ),
    ]


def _caller(
    session: aiohttp.ClientSession, server: ServerHandle, endpoint: _Endpoint
) -> Callable[[], Awaitable[object]]:
    url = server.url + endpoint.path
    headers = {"Authorization": server.token, "Content-Type": "application/json"}

    async def call() -> object:
        payload = msgspec.json.encode(endpoint.body())
        async with session.request(endpoint.method, url, data=payload, headers=headers) as r:
            body = await r.read()
        answer = _DECODE.decode(body)
        if answer.get("code") != "Success":
            raise RuntimeError(f"{endpoint.label}: {answer.get('code')} {answer.get('msg')}")
        return answer

    return call


async def _stop_pool(server: ServerHandle, size: int) -> list[str]:
    """Running containers the stop endpoint may consume."""
    from autodl_async import AutoDL

    deployment = await running_deployment(server.url, server.token, size)
    async with AutoDL(server.token, base_url=server.url) as client:
        return [c.uuid for c in await client.containers.list(deployment, page_size=1000).to_list()]


async def _measure(plan: Plan, cpu: int | None) -> tuple[dict[str, list[Window]], list[Window]]:
    found: dict[str, list[Window]] = {}
    static_windows: list[Window] = []
    with simulator_server(cpu, machines=machines_for(FLEET + plan.stop_pool)) as sim:
        deployment = await running_deployment(sim.url, sim.token, FLEET)
        stoppable = iter(await _stop_pool(sim, plan.stop_pool))
        endpoints = _endpoints(deployment, stoppable)
        with static_server(cpu, containers=10) as static:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
                calls = {e.label: _caller(session, sim, e) for e in endpoints}
                stock = next(e for e in endpoints if e.path == STOCK_PATH)
                floor = _caller(session, static, stock)
                for label, call in calls.items():
                    if label != STOP:
                        await drive(call, CONCURRENCY, 0.1, sim.pid)
                await drive(floor, CONCURRENCY, 0.1, static.pid)
                for index in range(plan.rounds):
                    labels = list(calls)
                    shift = index % len(labels)
                    for label in labels[shift:] + labels[:shift]:
                        seconds = plan.stop_window if label == STOP else plan.window
                        limit = plan.stop_pool // plan.rounds if label == STOP else None
                        window = await drive(
                            calls[label], CONCURRENCY, seconds, sim.pid, max_calls=limit
                        )
                        found.setdefault(label, []).append(window)
                    static_windows.append(await drive(floor, CONCURRENCY, plan.window, static.pid))
    return found, static_windows


def _rows(found: dict[str, list[Window]], static: list[Window]) -> list[Row]:
    rows: list[Row] = []
    floor = [w.rate for w in static]
    rows.append(
        make_row(
            f"gpu_stock.get c={CONCURRENCY} · static server",
            "throughput",
            median(floor),
            "calls/s",
            spread=spread(floor),
        )
    )
    for label, windows in found.items():
        rates = [w.rate for w in windows]
        ratios = paired_ratios(rates, floor) if label == "gpu_stock.get" else []
        need = NEEDS.get(label)
        rows.append(
            make_row(
                f"{label} c={CONCURRENCY} · simulator",
                "throughput",
                median(rates),
                "calls/s",
                ratio=median(ratios) if ratios else None,
                ratio_to="static server" if ratios else None,
                aim=f"≥ {need:,.0f}/s (needed)" if need else None,
                met=median(rates) >= need if need else None,
                spread=spread(rates),
                ratio_spread=spread(ratios) if ratios else None,
            )
        )
        shares = [w.server_share * 100 for w in windows]
        rows.append(
            make_row(
                f"{label} c={CONCURRENCY} · simulator",
                "server CPU",
                median(shares),
                "% of a core",
                spread=spread(shares),
            )
        )
    return rows


def _notes(found: dict[str, list[Window]]) -> list[str]:
    """Latency and both sides' CPU, to see which side (if either) was the limit."""
    notes = []
    for label, windows in found.items():
        client = median([w.client_cpu / w.seconds * 100 for w in windows if w.seconds > 0])
        server = median([w.server_share * 100 for w in windows])
        p50 = median([w.latency_ms(0.5) for w in windows])
        p99 = median([w.latency_ms(0.99) for w in windows])
        notes.append(
            f"{label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, client CPU {client:.0f}%, "
            f"simulator CPU {server:.0f}% of a core"
        )
    return notes


def run(quick: bool = False) -> Result:
    """Every endpoint in turn against the simulator; see the module docstring."""
    plan = QUICK if quick else FULL
    pin = can_pin()
    server_cpu, client_cpu = (SERVER_CPU, CLIENT_CPU) if pin else (None, None)
    with pinned(client_cpu):
        found, static = anyio.run(_measure, plan, server_cpu)
    return {
        "benchmark": NAME,
        "workload": (
            f"raw aiohttp at concurrency {CONCURRENCY} against the simulator (1,000 running "
            "containers, events of their boot), one endpoint at a time"
        ),
        "repeats": plan.rounds,
        "versions": versions(_PACKAGES),
        "rows": _rows(found, static),
        "notes": [
            f"{plan.rounds} rounds of {plan.window:.2f} s windows ({plan.stop_window:.2f} s for "
            "stops), endpoints round-robin",
            "simulator pinned to CPU 0, client to CPU 1" if pin else "not pinned",
            "aims are what the other benchmarks ask of the simulator: bulk 1,000 stops at 50 ms "
            "and concurrency 64 (1,280/s ideal), streams 100 polls/s",
            "server CPU near 100% of a core means the simulator, not the client, was the limit; "
            "neither side near 100% means other processes were taking the CPUs",
            *_notes(found),
        ],
    }


def main() -> None:
    main_for(run, NAME, (__doc__ or "").split("\n\n")[0])


if __name__ == "__main__":
    main()
