"""Polling policy: quick while events flow, backing off to ``max_interval`` when idle."""

from __future__ import annotations

import random

import pytest

from autodl_async import RateLimitError, ServerError
from autodl_async._event_policy import RETRY_CAP, PollPolicy
from tests.event_support import collect, open_world

pytestmark = pytest.mark.anyio


def test_intervals_double_when_idle_and_reset_when_events_flow() -> None:
    policy = PollPolicy(min_interval=1, max_interval=10, jitter=0.1)
    waits = [1.0]
    for _ in range(6):
        waits.append(policy.next_interval(waits[-1], flowing=False))
    assert waits == [1, 2, 4, 8, 10, 10, 10]
    assert policy.next_interval(10, flowing=True) == 1
    assert policy.window(100.0, 10) == (109.0, 110.0)


def test_retry_waits_grow_are_capped_and_honour_retry_after() -> None:
    policy = PollPolicy(min_interval=1, max_interval=10)
    rng = random.Random(0)
    error = ServerError("boom", code="InternalError", http_status=500)
    first = [policy.retry_delay(1, error, rng) for _ in range(50)]
    assert all(0.5 <= d <= 1.0 for d in first)
    late = [policy.retry_delay(40, error, rng) for _ in range(50)]
    assert all(RETRY_CAP / 2 <= d <= RETRY_CAP for d in late)
    limited = RateLimitError("slow down", code="HTTP429", http_status=429, retry_after=30)
    assert policy.retry_delay(1, limited, rng) >= 30


async def test_an_idle_stream_backs_off_and_a_busy_one_keeps_up() -> None:
    async with open_world() as world:
        idle_uuid = await world.deployment(name="idle")
        busy_uuid = await world.deployment(name="busy")
        world.time.on_sleep.append(lambda: world.sim.event_feed.burst(busy_uuid, 1))
        idle = world.client.events.stream(idle_uuid, max_interval=10, timeout=300)
        await collect(idle)
        # ~300 s at up to 10 s per idle poll (after 1, 2, 4, 8): about 33 polls, not 300.
        assert 25 <= idle.stats.polls <= 40
        busy = world.client.events.stream(busy_uuid, max_interval=10, timeout=60)
        got = await collect(busy)
        # Events in every gap: it polls at about min_interval (0.9-1 s), so ~60 polls.
        assert busy.stats.polls >= 50
        assert len(got) >= 50
