"""Kill a consumer mid-stream, resume from its saved cursor in a new client: no repeat, no loss.

"Killing" cancels the consumer wherever it is: between two events of a batch, while the stream
sleeps before a poll, or with a page request in flight. The only thing carried over is the
cursor text the consumer saved after its last event, as a process would keep it in a file.
"""

from __future__ import annotations

import random

import anyio
import pytest

from autodl_async import AutoDL, RetryPolicy
from tests.event_support import Key, ListServer, World, collect, open_world, serve_list

pytestmark = pytest.mark.anyio

SERVERS = [
    pytest.param("newest_first", True, id="newest-first+total"),
    pytest.param("newest_first", False, id="newest-first-no-total"),
    pytest.param("oldest_first", True, id="oldest-first+total"),
    pytest.param("oldest_first", False, id="oldest-first-no-total"),
]


async def consume_until_killed(
    client: AutoDL, uuid: str, saved: str | None, kill_after: int, got: list[Key]
) -> str | None:
    """Consume, saving the cursor after each event, until cancelled after ``kill_after``."""
    stream = client.events.stream(uuid, cursor=saved, page_size=25, timeout=3600)
    with anyio.CancelScope() as scope:
        async for event in stream:
            got.append((event.deployment_container_uuid, event.status))
            saved = stream.cursor.encode()
            if len(got) >= kill_after:
                scope.cancel()  # the next await inside the stream is where it dies
                await anyio.lowlevel.checkpoint()
    return saved


def fresh_client(world: World) -> AutoDL:
    return AutoDL(
        world.sim.token,
        base_url=world.sim.url,
        sleep=world.time.sleep,
        clock=world.time.clock,
        retry=RetryPolicy(max_attempts=2, backoff_base=0.01),
    )


@pytest.mark.parametrize(("order", "totals"), SERVERS)
async def test_killed_between_events_resumes_with_no_repeat_and_no_loss(
    order: str, totals: bool
) -> None:
    rng = random.Random(order + str(totals))
    async with open_world(event_order=order, events_result_total=totals) as world:
        uuid = await world.deployment(replicas=2)
        feed = world.sim.event_feed
        world.time.on_sleep.append(lambda: feed.burst(uuid, rng.choice([0, 3, 40, 90])))
        feed.burst(uuid, 70)  # a same-second group bigger than a page to die inside
        got: list[Key] = []
        saved: str | None = None
        for _ in range(8):
            async with fresh_client(world) as client:
                saved = await consume_until_killed(
                    client, uuid, saved, len(got) + rng.randint(1, 120), got
                )
        world.time.on_sleep.clear()
        async with fresh_client(world) as client:
            rest = client.events.stream(uuid, cursor=saved, until_caught_up=True)
            got += await collect(rest)
        assert got == world.log(uuid)


async def test_killed_while_sleeping_between_polls() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        got: list[Key] = []
        scope = anyio.CancelScope()
        stream = world.client.events.stream(uuid, max_interval=5)

        def kill() -> None:
            world.sim.event_feed.burst(uuid, 10)  # arrives, but the consumer is dying
            scope.cancel()

        world.time.on_sleep.append(kill)
        with scope:
            async for event in stream:
                got.append((event.deployment_container_uuid, event.status))
        saved = stream.cursor.encode()
        world.time.on_sleep.clear()
        async with fresh_client(world) as client:
            rest = client.events.stream(uuid, cursor=saved, until_caught_up=True)
            got += await collect(rest)
        assert got == world.log(uuid)
        assert len(got) == len(set(got))


@pytest.mark.parametrize("totals", [True, False])
async def test_killed_with_a_page_request_in_flight(totals: bool) -> None:
    """The list server cancels the consumer while answering: the half-done poll is lost,
    the cursor is not, and a new client picks up exactly there."""
    server = ListServer(totals=totals)
    for second in range(8):
        server.add(30, 1_788_000_000 + second)
    scope = anyio.CancelScope()
    got: list[Key] = []
    saved = None

    def kill_on_third_page(page_index: int) -> None:
        if page_index == 3:
            server.add(5, 1_788_000_100)
            scope.cancel()

    async with serve_list(server) as client:
        stream = client.events.stream("dep", page_size=20, timeout=3600)
        with scope:
            async for event in stream:
                got.append((event.deployment_container_uuid, event.status))
                saved = stream.cursor.encode()
                if len(got) == 100:
                    server.add(90, 1_788_000_050)  # the next poll needs several pages
                    server.before_answer = kill_on_third_page
    server.before_answer = None
    assert scope.cancelled_caught
    assert 100 <= len(got) < len(server.events)
    async with serve_list(server) as client:
        rest = client.events.stream("dep", cursor=saved, until_caught_up=True)
        got += await collect(rest)
    assert got == [(c, s) for c, s, _ in server.events]
