"""Event streams: client CPU and delivery lag of 100 streams polling every second.

Run from the repository root::

    python -m benchmarks.bench_streams            # 3 rounds of 15 s per variant, ~2 minutes
    python -m benchmarks.bench_streams --quick    # 1 round of 5 s per variant

The simulator runs in a child process (pinned to CPU 0, the client to CPU 1 when there are
two CPUs) on a real-time clock, with 100 deployments. A task in the child adds one event to a
random deployment 50 times a second and notes when; the client runs 100
``client.events.stream`` consumers at a 1 s interval (10 % jitter) and notes when each event
reaches its consumer. Lag is that difference: event time to consumer, exact to the
microsecond because it uses the child's own note, not the API's whole-second ``created_at``.

Two variants, run in alternating windows of equal length (so a neighbour's burst on this
shared machine lands on both about equally): the streams on the client's shared wake-up grid
(what ``client.events.stream`` does), and the same streams each sleeping on its own timer (a
private scheduler with a 1 ms grid, so their wake-ups spread as separate timers would).
Aims: client CPU under 5 % of one core; p99 lag within the poll interval plus one round trip.
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Final

import anyio
import anyio.to_thread

from autodl_async import AutoDL, ContainerTemplate
from autodl_async._event_options import StreamOptions
from autodl_async._event_stream import EventStream
from autodl_async._poll_scheduler import PollScheduler, shared_scheduler
from autodl_async.simulator import Simulator, SimulatorConfig, WallClock
from benchmarks._cpu import CLIENT_CPU, SERVER_CPU, can_pin, pin, process_cpu_seconds
from benchmarks._result import Result, Row, main_for, make_row, versions

STREAMS: Final = 100
INTERVAL: Final = 1.0
EVENTS_PER_SECOND: Final = 50.0
REGIONS: Final = ["westDC2", "westDC3", "beijingDC1", "beijingDC2", "neimengDC1", "foshanDC1"]
_TOKEN: Final = "bench-streams-token"


# -- the child: simulator plus an event injector ------------------------------------------------


def _serve(conn: Connection, cpu: int | None) -> None:
    """Serve, inject events into the deployments the parent names, report when each came."""
    pin(cpu)

    async def main() -> None:
        config = SimulatorConfig(
            token=_TOKEN,
            seed=3,
            clock=WallClock(speed=1.0, start=time.time()),
            machines_per_region=4,
        )
        async with Simulator(config) as sim:
            conn.send(sim.url)
            rng = random.Random(5)
            targets: list[str] = []
            injected: dict[str, float] = {}
            due = 0.0
            while True:
                await anyio.sleep(0.02)
                while conn.poll():
                    command, argument = conn.recv()
                    if command == "targets":
                        targets = list(argument)
                    elif command == "log":
                        conn.send(injected)
                        injected = {}
                    elif command == "stop":
                        return
                if not targets:
                    continue
                due += EVENTS_PER_SECOND * 0.02
                while due >= 1:
                    due -= 1
                    [event] = sim.event_feed.burst(rng.choice(targets), 1)
                    injected[event.deployment_container_uuid] = time.time()

    anyio.run(main)


# -- the client ----------------------------------------------------------------------------------


@dataclass
class Window:
    variant: str
    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float
    polls: int
    requests: int
    wakeups: int
    lags: list[float] = field(default_factory=list)

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.cpu_seconds / self.seconds


def _template() -> ContainerTemplate:
    return ContainerTemplate(
        image_uuid="base-image-l2t43iu6uk",
        cmd="sleep infinity",
        gpu_name_set=["RTX 4090"],
        gpu_num=1,
        cuda_v_from=113,
        cuda_v_to=128,
        dc_list=REGIONS,
    )


async def _deployments(url: str) -> list[str]:
    async with AutoDL(_TOKEN, base_url=url) as client:
        return [
            await client.deployments.create(
                name=f"bench-{i}", deployment_type="ReplicaSet", replica_num=1, template=_template()
            )
            for i in range(STREAMS)
        ]


async def _round_trip(url: str, uuid: str) -> float:
    """Median seconds of one events page request, sequential."""
    async with AutoDL(_TOKEN, base_url=url) as client:
        samples = []
        for _ in range(60):
            started = time.perf_counter()
            await client.events.list_page(uuid)
            samples.append(time.perf_counter() - started)
    return statistics.median(samples[10:])


def _streams(
    client: AutoDL, uuids: list[str], variant: str
) -> tuple[list[EventStream], Callable[[], int]]:
    options = StreamOptions(start="now", min_interval=INTERVAL, max_interval=INTERVAL, jitter=0.1)
    transport = client._transport
    if variant == "shared":
        streams = [
            client.events.stream(
                uuid, start="now", min_interval=INTERVAL, max_interval=INTERVAL, jitter=0.1
            )
            for uuid in uuids
        ]
        shared = shared_scheduler(transport, sleep=transport.sleep, clock=transport.clock)
        return streams, lambda: shared.wakeups
    own = [PollScheduler(sleep=transport.sleep, clock=transport.clock, tick=0.001) for _ in uuids]
    streams = [
        EventStream(client.events._fetcher(uuid, None), uuid, options, scheduler=scheduler)
        for uuid, scheduler in zip(uuids, own, strict=True)
    ]
    return streams, lambda: sum(s.wakeups for s in own)


async def _window(
    url: str, uuids: list[str], variant: str, conn: Connection, seconds: float, server_pid: int
) -> Window:
    received: dict[str, float] = {}
    recording = False

    async def consume(stream: EventStream) -> None:
        async for event in stream:
            if recording:
                received[event.deployment_container_uuid] = time.time()

    async with AutoDL(_TOKEN, base_url=url) as client:
        streams, wakeups = _streams(client, uuids, variant)
        async with anyio.create_task_group() as tg:
            for stream in streams:
                tg.start_soon(consume, stream)
            await anyio.sleep(2.5)  # every stream has found the end of its list and settled
            await anyio.to_thread.run_sync(_log, conn)  # forget what came before
            recording = True
            polls0, requests0, wakeups0 = _counts(streams), _requests(streams), wakeups()
            server0, cpu0, started = (
                process_cpu_seconds(server_pid),
                time.process_time(),
                time.perf_counter(),
            )
            await anyio.sleep(seconds)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu0
            server = process_cpu_seconds(server_pid) - server0
            polls, requests, woke = (
                _counts(streams) - polls0,
                _requests(streams) - requests0,
                wakeups() - wakeups0,
            )
            recording = False
            await anyio.sleep(INTERVAL * 1.5)  # let events injected at the very end arrive
            tg.cancel_scope.cancel()
    injected = await anyio.to_thread.run_sync(_log, conn)
    lags = [received[c] - t for c, t in injected.items() if c in received]
    return Window(variant, elapsed, cpu, server, polls, requests, woke, lags)


def _log(conn: Connection) -> dict[str, float]:
    conn.send(("log", None))
    log: dict[str, float] = conn.recv()
    return log


def _counts(streams: list[EventStream]) -> int:
    return sum(s.stats.polls for s in streams)


def _requests(streams: list[EventStream]) -> int:
    return sum(s.stats.requests for s in streams)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(
    url: str, conn: Connection, rounds: int, seconds: float, server_pid: int
) -> tuple[list[Window], float]:
    uuids = await _deployments(url)
    rtt = await _round_trip(url, uuids[0])
    conn.send(("targets", uuids))
    windows: list[Window] = []
    for index in range(rounds):
        order = ("shared", "own") if index % 2 == 0 else ("own", "shared")
        for variant in order:
            windows.append(await _window(url, uuids, variant, conn, seconds, server_pid))
    return windows, rtt


def run(quick: bool = False) -> Result:
    rounds, seconds = (1, 5.0) if quick else (3, 15.0)
    pinning = can_pin()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=_serve, args=(child, SERVER_CPU if pinning else None), daemon=True
    )
    server.start()
    pin(CLIENT_CPU if pinning else None)
    try:
        url = parent.recv()
        windows, rtt = anyio.run(_measure, url, parent, rounds, seconds, server.pid or 0)
        parent.send(("stop", None))
    finally:
        server.join(5)
        if server.is_alive():
            server.terminate()
    return _result(windows, rtt, rounds, seconds, pinning)


def _result(windows: list[Window], rtt: float, rounds: int, seconds: float, pinned: bool) -> Result:
    shared = [w for w in windows if w.variant == "shared"]
    own = [w for w in windows if w.variant == "own"]
    rows: list[Row] = []

    def spread(values: list[float]) -> tuple[float, float]:
        return (min(values), max(values))

    cpu_shared = [w.cpu_percent for w in shared]
    cpu_own = [w.cpu_percent for w in own]
    ratios = [
        s.cpu_percent / o.cpu_percent for s, o in zip(shared, own, strict=True) if o.cpu_percent
    ]
    rows.append(
        make_row(
            f"{STREAMS} streams, shared wake-ups",
            "client CPU",
            statistics.median(cpu_shared),
            "% of a core",
            ratio=statistics.median(ratios) if ratios else None,
            ratio_to="own timers",
            aim="< 5 % of one core",
            met=statistics.median(cpu_shared) < 5.0,
            spread=spread(cpu_shared),
            ratio_spread=spread(ratios) if ratios else None,
        )
    )
    rows.append(
        make_row(
            f"{STREAMS} streams, own timers",
            "client CPU",
            statistics.median(cpu_own),
            "% of a core",
            spread=spread(cpu_own),
        )
    )
    bound = INTERVAL + rtt
    for variant, group in (("shared wake-ups", shared), ("own timers", own)):
        lags = [lag for w in group for lag in w.lags]
        p99 = _percentile(lags, 0.99)
        rows.append(
            make_row(
                f"{STREAMS} streams, {variant}",
                "delivery lag p50",
                _percentile(lags, 0.50) * 1000,
                "ms",
            )
        )
        rows.append(
            make_row(
                f"{STREAMS} streams, {variant}",
                "delivery lag p99",
                p99 * 1000,
                "ms",
                aim=f"<= interval + round trip ({bound * 1000:.0f} ms)",
                met=p99 <= bound,
            )
        )
        rows.append(
            make_row(f"{STREAMS} streams, {variant}", "delivery lag max", max(lags) * 1000, "ms")
        )
        per_second = [w.polls / w.seconds for w in group]
        rows.append(
            make_row(
                f"{STREAMS} streams, {variant}",
                "wake-ups per poll",
                statistics.median(w.wakeups / max(w.polls, 1) for w in group),
                "",
            )
        )
        rows.append(
            make_row(f"{STREAMS} streams, {variant}", "polls", statistics.median(per_second), "/s")
        )
    events = sum(len(w.lags) for w in windows)
    server_cpu = statistics.median(100 * w.server_cpu_seconds / w.seconds for w in windows)
    notes = [
        f"{rounds} round(s) of {seconds:g} s per variant, alternating; {events} events timed",
        f"poll interval {INTERVAL:g} s, jitter 10 %; {EVENTS_PER_SECOND:g} events/s over "
        f"{STREAMS} deployments; round trip (median events page) {rtt * 1000:.2f} ms",
        f"simulator CPU {server_cpu:.1f} % of a core (median over windows)",
        "client pinned to CPU 1, simulator to CPU 0" if pinned else "not pinned (one CPU)",
        "lag is event injection to the consumer's hands; the API's created_at has whole "
        "seconds, so stats.lag in the SDK reads up to 1 s more",
    ]
    return {
        "benchmark": "streams",
        "workload": f"{STREAMS} event streams at a {INTERVAL:g} s interval against the simulator "
        "in a child process",
        "repeats": rounds,
        "versions": versions(["autodl-async", "aiohttp", "anyio", "msgspec"]),
        "rows": rows,
        "notes": notes,
    }


def main() -> None:
    main_for(run, "streams", (__doc__ or "").split("\n\n")[0])


if __name__ == "__main__":
    main()
