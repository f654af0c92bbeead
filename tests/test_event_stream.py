"""``client.events.stream``: every event once and in order, however the server pages.

Each test drives the embedded simulator on virtual time and compares what the consumer got
with the simulator's own log (``sim.events(uuid)``, append order), whatever the server's sort
order, with and without ``result_total`` on the page.
"""

from __future__ import annotations

import random

import anyio
import anyio.lowlevel
import pytest

from autodl_async._event_stream import EventStream
from tests.event_support import World, collect, open_world

pytestmark = pytest.mark.anyio

SERVERS = [
    pytest.param("newest_first", True, id="newest-first+total"),
    pytest.param("newest_first", False, id="newest-first-no-total"),
    pytest.param("oldest_first", True, id="oldest-first+total"),
    pytest.param("oldest_first", False, id="oldest-first-no-total"),
]


def bursts_between_polls(world: World, uuid: str, sizes: list[int]) -> None:
    """One burst per clock move (that is, between two polls), sizes in turn."""
    pending = list(sizes)

    def burst() -> None:
        if pending:
            world.sim.event_feed.burst(uuid, pending.pop(0))

    world.time.on_sleep.append(burst)


async def drain(
    world: World, stream: EventStream, uuid: str, expected: int
) -> list[tuple[str, str]]:
    """Consume until ``expected`` events (or the stream's own timeout ends it)."""
    got = await collect(stream, limit=expected)
    assert len(got) == expected, (len(got), expected, stream.end_reason, stream.stats)
    return got


@pytest.mark.parametrize(("order", "totals"), SERVERS)
async def test_bursts_bigger_than_a_page_arrive_once_and_in_order(order: str, totals: bool) -> None:
    async with open_world(event_order=order, events_result_total=totals) as world:
        uuid = await world.deployment(replicas=2)
        sizes = [0, 75, 3, 160, 0, 41, 240, 1, 99]
        bursts_between_polls(world, uuid, sizes)
        stream = world.client.events.stream(
            uuid, page_size=40, min_interval=1, max_interval=4, timeout=600
        )
        expected = len(world.log(uuid)) + sum(sizes)
        got = await drain(world, stream, uuid, expected)
        assert got == world.log(uuid)
        assert stream.order == order
        assert stream.stats.events == expected
        assert stream.stats.retries == 0
        assert stream.stats.restarts == 0  # a well-behaved server never sends it back


@pytest.mark.parametrize(("order", "totals"), SERVERS)
async def test_rows_shifting_while_the_client_pages(order: str, totals: bool) -> None:
    """Events land between the page requests of one poll: rows move down under the walk."""
    async with open_world(event_order=order, events_result_total=totals) as world:
        uuid = await world.deployment()
        world.sim.event_feed.burst(uuid, 330)  # a backlog of many pages
        arrivals = world.sim.event_feed.during_paging(uuid, per_request=7, requests=60)
        stream = world.client.events.stream(uuid, page_size=50, timeout=600)
        expected = len(world.log(uuid)) + 7 * 60
        got = await drain(world, stream, uuid, expected)
        assert arrivals.applied == 60
        assert got == world.log(uuid)
        assert len(set(got)) == len(got)
        # Fewer than a page moved between two requests: every join held, nothing was re-read.
        assert stream.stats.restarts == 0


async def test_more_than_a_page_arriving_mid_walk_without_totals_restarts_the_walk() -> None:
    """Without result_total the joins need fewer than a page of arrivals per walk: the walk
    notices when more came (the old top is gone from page 1) and reads again."""
    async with open_world(events_result_total=False) as world:
        uuid = await world.deployment()
        world.sim.event_feed.burst(uuid, 200)
        world.sim.event_feed.during_paging(uuid, per_request=30, requests=12)
        stream = world.client.events.stream(uuid, page_size=25, timeout=600)
        expected = len(world.log(uuid)) + 30 * 12
        got = await drain(world, stream, uuid, expected)
        assert got == world.log(uuid)
        assert stream.stats.restarts > 0


@pytest.mark.parametrize(("order", "totals"), SERVERS)
async def test_same_second_ties_and_late_rows_of_a_consumed_second(
    order: str, totals: bool
) -> None:
    """250 events in one second (several pages), consumed; then more in that same second:
    only the new ones come, although nothing but (container, status) tells them apart."""
    async with open_world(event_order=order, events_result_total=totals) as world:
        uuid = await world.deployment()
        feed = world.sim.event_feed
        feed.burst(uuid, 250)
        stream = world.client.events.stream(uuid, page_size=40, timeout=600)
        first = len(world.log(uuid))
        got = await drain(world, stream, uuid, first)
        second_of_burst = world.sim.events(uuid)[-1].created_at
        assert got == world.log(uuid)
        feed.burst(uuid, 90)
        # The premise: the new burst shares the second already delivered.
        assert world.sim.events(uuid)[-1].created_at == second_of_burst
        more = await drain(world, stream, uuid, 90)
        assert got + more == world.log(uuid)
        assert len(stream.cursor.seen) == 340  # the cursor holds exactly that one second


async def test_container_filter_keeps_one_containers_events_in_order() -> None:
    async with open_world() as world:
        uuid = await world.deployment(replicas=2)
        mine, other = world.sim.deployments()[0].container_uuids
        world.sim.event_feed.burst(uuid, 10, containers=[mine, other])
        stream = world.client.events.stream(uuid, container_uuid=mine, until_caught_up=True)
        got = await collect(stream)
        expected = [k for k in world.log(uuid) if k[0] == mine]
        assert got == expected
        assert {c for c, _ in got} == {mine}
        assert stream.cursor.container_uuid == mine
        assert stream.end_reason == "caught_up"


@pytest.mark.parametrize(("order", "totals"), SERVERS)
async def test_start_now_skips_what_is_stored(order: str, totals: bool) -> None:
    async with open_world(event_order=order, events_result_total=totals) as world:
        uuid = await world.deployment()
        world.sim.event_feed.burst(uuid, 130)
        before = len(world.log(uuid))
        bursts_between_polls(world, uuid, [5, 0, 60])
        stream = world.client.events.stream(uuid, start="now", page_size=30, timeout=600)
        got = await drain(world, stream, uuid, 65)
        assert got == world.log(uuid)[before:]


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
async def test_auto_order_is_learnt_even_when_page_one_is_a_single_second(order: str) -> None:
    """Page 1 holds one second only: page 1 and the last page tell the order apart."""
    async with open_world(event_order=order) as world:
        uuid = await world.deployment(boot=False)
        world.sim.event_feed.burst(uuid, 60)  # the oldest page is a single second ...
        world.clock.advance(10)
        world.sim.event_feed.burst(uuid, 60)  # ... and so is the newest
        stream = world.client.events.stream(uuid, page_size=20, until_caught_up=True)
        got = await collect(stream)
        assert got == world.log(uuid)
        assert stream.order == order


async def test_lag_and_counters_are_reported() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        stream = world.client.events.stream(uuid, until_caught_up=True, wall_clock=world.clock.now)
        await collect(stream)
        stats = stream.stats
        assert stats.polls >= 1
        assert stats.requests >= stats.polls
        assert stats.events == len(world.log(uuid))
        assert stats.last_success is not None
        assert stats.lag is not None
        assert 0 <= stats.lag < 10  # the last event (running) came ~4 s before this poll
        assert "EventStream(deployment_uuid=" in repr(stream)


async def test_only_one_task_may_iterate_a_stream() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        stream = world.client.events.stream(uuid)
        async with anyio.create_task_group() as tg:
            tg.start_soon(stream.__anext__)
            await anyio.lowlevel.checkpoint()  # the other task is now inside __anext__
            with pytest.raises(RuntimeError, match="already iterating"):
                await stream.__anext__()
            tg.cancel_scope.cancel()


async def test_a_random_mix_of_everything_against_every_server_shape() -> None:
    """Seeded random bursts, arrivals mid-walk and page sizes; all four server shapes."""
    rng = random.Random(20261203)
    for order, totals in [(o, t) for o in ("newest_first", "oldest_first") for t in (True, False)]:
        async with open_world(event_order=order, events_result_total=totals) as world:
            uuid = await world.deployment(replicas=3)
            sizes = [rng.choice([0, 0, 1, 2, 17, 48, 120]) for _ in range(25)]
            bursts_between_polls(world, uuid, sizes)
            per_request = rng.randint(1, 9)
            world.sim.event_feed.during_paging(uuid, per_request=per_request, requests=40)
            page_size = rng.choice([10, 23, 50])
            stream = world.client.events.stream(uuid, page_size=page_size, timeout=3600)
            # Every burst and every arrival happens: the stream keeps sleeping and polling.
            expected = len(world.log(uuid)) + sum(sizes) + per_request * 40
            got = await drain(world, stream, uuid, expected)
            assert got == world.log(uuid), (order, totals, page_size)
