"""Volume: 10,000 events in bursts under 5xx, 429 and slow answers; 100 streams at once.

Both run on virtual time, so the hours of polling they represent take a few seconds; the
checks are exact (every event once, in the simulator's order), never timings.
"""

from __future__ import annotations

import random
from collections import Counter

import anyio
import pytest

from autodl_async import RetryPolicy
from autodl_async._event_stream import EventStream
from autodl_async.simulator import FaultRule
from tests.event_support import Key, collect, open_world

pytestmark = pytest.mark.anyio

EVENTS = "/api/v1/dev/deployment/container/event/list"
REGIONS = ["westDC2", "westDC3", "beijingDC1", "beijingDC2", "neimengDC1", "foshanDC1"]


def burst_plan(rng: random.Random, total: int) -> list[int]:
    """Burst sizes, one per clock move, adding up to at least ``total``."""
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(rng.choice([0, 0, 1, 3, 20, 60, 150, 330]))
    return sizes


@pytest.mark.parametrize(
    ("order", "totals"),
    [
        pytest.param("newest_first", True, id="newest-first+total"),
        pytest.param("newest_first", False, id="newest-first-no-total"),
        pytest.param("oldest_first", False, id="oldest-first"),
    ],
)
async def test_ten_thousand_events_in_bursts_through_faults(order: str, totals: bool) -> None:
    rng = random.Random(f"load:{order}:{totals}")
    async with open_world(
        event_order=order,
        events_result_total=totals,
        seed=11,
        client_kwargs={"retry": RetryPolicy(max_attempts=2, backoff_base=0.05)},
    ) as world:
        uuid = await world.deployment(replicas=3)
        faults = world.sim.faults
        rules = [
            faults.add(FaultRule(kind="status", path=EVENTS, status=503, probability=0.06)),
            faults.add(FaultRule(kind="status", path=EVENTS, status=502, probability=0.03)),
            faults.add(FaultRule(kind="rate_limit", path=EVENTS, retry_after=2, probability=0.04)),
            faults.add(FaultRule(kind="latency", path=EVENTS, latency=0.003, probability=0.05)),
            faults.add(FaultRule(kind="slow_body", path=EVENTS, latency=0.01, probability=0.01)),
        ]
        plan = burst_plan(rng, 10_000)
        pending = list(plan)

        def burst() -> None:
            if pending:
                world.sim.event_feed.burst(uuid, pending.pop(0))

        world.time.on_sleep.append(burst)
        arrivals = world.sim.event_feed.during_paging(uuid, per_request=2, requests=400)
        expected = len(world.log(uuid)) + sum(plan) + 2 * 400
        stream = world.client.events.stream(
            uuid, page_size=100, min_interval=1, max_interval=8, timeout=48 * 3600
        )
        with anyio.fail_after(120):  # a safety net for a broken build, not a timing check
            got = await collect(stream, limit=expected)
        assert not pending
        assert arrivals.exhausted
        assert len(got) == expected >= 10_000
        assert got == world.log(uuid)
        assert all(rule.applied > 0 for rule in rules), [r.applied for r in rules]
        assert stream.stats.retries > 0
        assert world.client.stats.retries > 0


async def test_a_hundred_concurrent_streams_each_get_their_events_once() -> None:
    rng = random.Random("hundred")
    async with open_world(machines_per_region=4) as world:
        uuids = [await world.deployment(name=f"d{i}", boot=False) for i in range(100)]
        world.clock.advance(10)
        plan = [(rng.randrange(100), rng.choice([1, 5, 30, 120])) for _ in range(400)]
        pending = list(plan)

        def burst() -> None:
            for _ in range(4):
                if pending:
                    index, size = pending.pop(0)
                    world.sim.event_feed.burst(uuids[index], size)

        world.time.on_sleep.append(burst)
        extra = Counter[int]()
        for index, size in plan:
            extra[index] += size
        expected = {u: len(world.log(u)) + extra[i] for i, u in enumerate(uuids)}
        results: dict[str, list[Key]] = {}
        streams: list[EventStream] = []

        async def consume(uuid: str) -> None:
            stream = world.client.events.stream(
                uuid, page_size=50, min_interval=1, max_interval=4, timeout=4 * 3600
            )
            streams.append(stream)
            results[uuid] = await collect(stream, limit=expected[uuid])

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for uuid in uuids:
                    tg.start_soon(consume, uuid)
        assert not pending
        for uuid in uuids:
            assert results[uuid] == world.log(uuid), uuid
        # Every stream kept polling after its history: bursts reached all of them.
        assert all(s.stats.polls >= 2 for s in streams)
        assert len(streams) == 100
