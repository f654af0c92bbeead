"""Request overhead: SDK calls against raw aiohttp + msgspec on the same loopback endpoint.

Run from the repository root::

    python -m benchmarks.bench_overhead            # about two minutes
    python -m benchmarks.bench_overhead --quick    # about fifteen seconds

Two servers, each in a child process pinned to CPU 0 (the client runs on CPU 1):

1. a trivial aiohttp.web app answering with bytes encoded once at start-up, so the server does
   as little as aiohttp allows and the gap between clients is the clients' own;
2. the embedded simulator, with a 1,000-container deployment, to show where it, not the
   client, is the limit.

Two calls: ``client.gpu_stock.get`` (a 360 B answer) and a 1,000-container
``client.containers.list_page`` (0.8 MB). For each call and concurrency (1, 16, 64) the SDK and
raw aiohttp run in alternating windows of equal length, each about ten call latencies long, and
each ratio compares the two windows of one pair; the median over pairs is reported. Short,
many, alternating windows because the machine is shared: a neighbour's burst lands on both
halves of a pair about equally. httpx.AsyncClient and requests (sequential only) are there for
reference, on the trivial server, compared with the median of the SDK's windows.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

import anyio

from ._clients import (
    ENDPOINTS,
    AsyncBench,
    SyncBench,
    aiohttp_raw,
    httpx_client,
    requests_client,
    sdk_client,
)
from ._cpu import CLIENT_CPU, SERVER_CPU, can_pin, pinned
from ._drive import Window, drive, drive_sync
from ._fleet import machines_for, running_deployment
from ._result import Result, Row, main_for, make_row, versions
from ._servers import ServerHandle, simulator_server, static_server
from ._stats import median, paired_ratios, spread

__all__ = ["main", "run"]

NAME: Final = "overhead"
CONCURRENCY: Final = (1, 16, 64)
AIM: Final = ("≥ 0.85×", 0.85)
SDK: Final = "autodl-async"
RAW: Final = "aiohttp + msgspec"
_PACKAGES: Final = ("autodl-async", "aiohttp", "msgspec", "anyio", "httpx", "httpcore", "requests")


@dataclass(frozen=True)
class Plan:
    """How long to measure. Paired windows are sized to the call's latency (``latencies``
    calls per worker) within ``[min_window, max_window]``, and as many pairs as ``budget``
    seconds allow within ``[min_pairs, max_pairs]``."""

    max_pairs: int
    min_pairs: int
    budget: float
    latencies: float
    min_window: float
    max_window: float
    references: int
    warmup: float
    fleet: int
    inmemory_calls: int

    def window_for(self, p50: float) -> float:
        return min(self.max_window, max(self.min_window, self.latencies * p50))

    def pairs_for(self, window: float) -> int:
        return max(self.min_pairs, min(self.max_pairs, int(self.budget / (2 * window))))


FULL: Final = Plan(
    max_pairs=8,
    min_pairs=3,
    budget=5.0,
    latencies=10,
    min_window=0.3,
    max_window=3.0,
    references=3,
    warmup=0.3,
    fleet=1000,
    inmemory_calls=20_000,
)
QUICK: Final = Plan(
    max_pairs=2,
    min_pairs=1,
    budget=0.6,
    latencies=5,
    min_window=0.15,
    max_window=0.5,
    references=1,
    warmup=0.1,
    fleet=1000,
    inmemory_calls=2_000,
)

Key = tuple[str, int, str]  # endpoint, concurrency, client
Windows = dict[Key, list[Window]]


async def _measure(
    server: ServerHandle,
    pair: tuple[AsyncBench, AsyncBench],
    references: list[AsyncBench],
    sequential: list[SyncBench],
    plan: Plan,
) -> Windows:
    """For each call and concurrency: SDK and raw in alternating windows, then references.

    Short alternating windows, many of them, because the machine is shared: a neighbour's burst
    then lands on both sides of a pair about equally, and the median over pairs drops the rest.
    """
    found: Windows = defaultdict(list)
    for endpoint in ENDPOINTS:
        for client in (*pair, *references):
            await drive(client.call(endpoint), max(CONCURRENCY), plan.warmup, server.pid)
    for endpoint in ENDPOINTS:
        for concurrency in CONCURRENCY:
            calls = [(c.name, c.call(endpoint)) for c in pair]
            probe = await drive(calls[1][1], concurrency, plan.warmup, server.pid)
            window = plan.window_for(probe.latency_ms(0.5) / 1000)
            for index in range(plan.pairs_for(window)):
                for name, call in calls if index % 2 == 0 else calls[::-1]:
                    measured = await drive(call, concurrency, window, server.pid)
                    found[(endpoint, concurrency, name)].append(measured)
            for client in references:
                call = client.call(endpoint)
                for _ in range(plan.references):
                    measured = await drive(call, concurrency, window, server.pid)
                    found[(endpoint, concurrency, client.name)].append(measured)
            if concurrency == 1:
                for blocking in sequential:
                    sync_call = blocking.call(endpoint)
                    for _ in range(plan.references):
                        measured = drive_sync(sync_call, window, server.pid)
                        found[(endpoint, concurrency, blocking.name)].append(measured)
    return found


async def _static(plan: Plan, cpu: int | None) -> Windows:
    with static_server(cpu, containers=1000) as server:
        pair = (sdk_client(server.url, server.token), aiohttp_raw(server.url, server.token))
        extra = httpx_client(server.url, server.token)
        references = [extra] if extra is not None else []
        blocking = requests_client(server.url, server.token)
        sequential = [blocking] if blocking is not None else []
        try:
            return await _measure(server, pair, references, sequential, plan)
        finally:
            for client in (*pair, *references):
                await client.aclose()
            for each in sequential:
                each.close()


async def _simulated(plan: Plan, cpu: int | None) -> Windows:
    with simulator_server(cpu, machines=machines_for(plan.fleet)) as server:
        deployment = await running_deployment(server.url, server.token, plan.fleet)
        pair = (
            sdk_client(server.url, server.token, deployment),
            aiohttp_raw(server.url, server.token, deployment),
        )
        try:
            return await _measure(server, pair, [], [], plan)
        finally:
            for client in pair:
                await client.aclose()


def _rows(found: Windows, server: str) -> list[Row]:
    rows: list[Row] = []
    for endpoint in ENDPOINTS:
        for concurrency in CONCURRENCY:
            raw = found[(endpoint, concurrency, RAW)]
            sdk = found[(endpoint, concurrency, SDK)]
            names = [k[2] for k in found if k[:2] == (endpoint, concurrency)]
            for name in names:
                windows = found[(endpoint, concurrency, name)]
                rates = [w.rate for w in windows]
                if name == SDK:
                    ratios, ratio_to = paired_ratios(rates, [w.rate for w in raw]), RAW
                elif name == RAW:
                    ratios, ratio_to = [], None
                else:  # a reference, measured apart from the pairs: against their median
                    sdk_rate = median([w.rate for w in sdk])
                    ratios, ratio_to = [rate / sdk_rate for rate in rates], SDK
                ratio = median(ratios) if ratios else None
                is_sdk = name == SDK
                rows.append(
                    make_row(
                        f"{server} · {endpoint} c={concurrency} · {name}",
                        "throughput",
                        median(rates),
                        "calls/s",
                        ratio=ratio,
                        ratio_to=ratio_to,
                        aim=AIM[0] if is_sdk else None,
                        met=ratio is not None and ratio >= AIM[1] if is_sdk else None,
                        spread=spread(rates),
                        ratio_spread=spread(ratios) if ratios else None,
                    )
                )
            for name, ratio_to in ((SDK, RAW), (RAW, None)):
                cpu = [w.cpu_us_per_call for w in found[(endpoint, concurrency, name)]]
                ratios = paired_ratios(cpu, [w.cpu_us_per_call for w in raw]) if ratio_to else []
                rows.append(
                    make_row(
                        f"{server} · {endpoint} c={concurrency} · {name}",
                        "client CPU per call",
                        median(cpu),
                        "µs",
                        ratio=median(ratios) if ratios else None,
                        ratio_to=ratio_to,
                        spread=spread(cpu),
                        ratio_spread=spread(ratios) if ratios else None,
                    )
                )
    return rows


def _notes(found: Windows, server: str) -> list[str]:
    """Latency, server CPU and the other clients' CPU, which the rows leave out."""
    notes = []
    for (endpoint, concurrency, name), windows in found.items():
        p50 = median([w.latency_ms(0.5) for w in windows])
        p99 = median([w.latency_ms(0.99) for w in windows])
        share = median([w.server_share for w in windows]) * 100
        cpu = median([w.cpu_us_per_call for w in windows])
        notes.append(
            f"{server} {endpoint} c={concurrency} {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
            f"client CPU {cpu:,.0f} µs/call, server CPU {share:.0f}% of a core"
        )
    return notes


def _in_memory(plan: Plan) -> tuple[list[Row], list[str]]:
    """The SDK's own Python per call, network taken out (``benchmarks/_inmemory.py``)."""
    from ._inmemory import layer_cost

    try:
        found = anyio.run(functools.partial(layer_cost, calls=plan.inmemory_calls, rounds=5))
    except Exception as error:  # a stand-in that no longer fits the transport
        return [], [f"in-memory probe failed ({type(error).__name__}: {error}); rows left out"]
    sdk, raw = found[SDK], found[RAW]
    own = [a - b for a, b in zip(sdk, raw, strict=True)]
    rows = [
        make_row(
            f"in-memory · gpu_stock.get · {SDK}",
            "client CPU per call",
            median(sdk),
            "µs",
            ratio=median(paired_ratios(sdk, raw)),
            ratio_to=RAW,
            spread=spread(sdk),
            ratio_spread=spread(paired_ratios(sdk, raw)),
        ),
        make_row(
            f"in-memory · gpu_stock.get · {RAW}",
            "client CPU per call",
            median(raw),
            "µs",
            spread=spread(raw),
        ),
    ]
    note = (
        f"in-memory: the SDK's own Python (checks, limits, retry loop, throttle, envelope) "
        f"costs {median(own):.1f} µs per call ({min(own):.1f}–{max(own):.1f}) over a bare call, "
        f"{plan.inmemory_calls:,} calls x 5 alternating rounds against a stand-in session"
    )
    return rows, [note]


def run(quick: bool = False) -> Result:
    """Both servers, every client, call and concurrency; see the module docstring."""
    plan = QUICK if quick else FULL
    pin = can_pin()
    server_cpu, client_cpu = (SERVER_CPU, CLIENT_CPU) if pin else (None, None)
    with pinned(client_cpu):
        static = anyio.run(_static, plan, server_cpu)
        simulated = anyio.run(_simulated, plan, server_cpu)
    with pinned(client_cpu):
        memory_rows, memory_notes = _in_memory(plan)
    rows = _rows(static, "static") + _rows(simulated, "simulator") + memory_rows
    return {
        "benchmark": NAME,
        "workload": (
            "gpu_stock.get (360 B answer) and containers.list_page of 1,000 (0.8 MB) on loopback, "
            f"at concurrency {', '.join(map(str, CONCURRENCY))}; 'static' = trivial aiohttp.web "
            "server with pre-encoded bodies, 'simulator' = the embedded simulator"
        ),
        "repeats": plan.min_pairs,
        "versions": versions(_PACKAGES),
        "rows": rows,
        "notes": [
            f"per call and concurrency: {plan.min_pairs}–{plan.max_pairs} pairs of alternating "
            f"autodl-async / raw windows, each ~{plan.latencies:.0f} call latencies long "
            f"({plan.min_window}–{plan.max_window} s); ratios taken within a pair; httpx and "
            f"requests: {plan.references} windows each, compared with the pairs' median",
            "server pinned to CPU 0, client to CPU 1" if pin else "not pinned (fewer than 2 CPUs)",
            "every client decodes into typed msgspec Structs and checks code == Success",
            *memory_notes,
            *_notes(static, "static"),
            *_notes(simulated, "simulator"),
        ],
    }


def main() -> None:
    main_for(run, NAME, (__doc__ or "").split("\n\n")[0])


if __name__ == "__main__":
    main()
