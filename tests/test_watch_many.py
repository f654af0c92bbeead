"""``client.events.watch_many``: many deployments in one iterator, bounded, resumable,
and stopped at once when the consumer leaves."""

from __future__ import annotations

import logging
from collections import defaultdict

import anyio
import anyio.lowlevel
import pytest

from autodl_async import AutoDL, InvalidParameterError, NotFoundError
from autodl_async._watch import EventWatch, WatchCursor, WatchItem
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, VirtualClock
from tests.event_support import Key, World, open_world, template

pytestmark = pytest.mark.anyio

EVENTS = "/api/v1/dev/deployment/container/event/list"


async def deployments(world: World, count: int) -> list[str]:
    uuids = [await world.deployment(name=f"w{i}", boot=False) for i in range(count)]
    world.clock.advance(10)
    return uuids


async def drain(watch: EventWatch) -> list[WatchItem]:
    async with watch:
        return [item async for item in watch]


def per_deployment(items: list[tuple[str, Key]]) -> dict[str, list[Key]]:
    out: dict[str, list[Key]] = defaultdict(list)
    for uuid, key in items:
        out[uuid].append(key)
    return out


async def test_merges_deployments_each_event_once_and_says_where_it_came_from() -> None:
    async with open_world() as world:
        uuids = await deployments(world, 4)
        for i, uuid in enumerate(uuids):
            world.sim.event_feed.burst(uuid, 30 * i)
        got: list[tuple[str, Key]] = []
        async with world.client.events.watch_many(uuids, until_caught_up=True) as watch:
            async for item in watch:
                got.append(
                    (
                        item.deployment_uuid,
                        (item.event.deployment_container_uuid, item.event.status),
                    )
                )
                assert item.cursor.deployment_uuid == item.deployment_uuid
        by_uuid = per_deployment(got)
        assert set(by_uuid) == set(uuids)
        for uuid in uuids:
            assert by_uuid[uuid] == world.log(uuid)
        assert {s.end_reason for s in watch.streams.values()} == {"caught_up"}


async def test_a_watch_resumes_from_its_cursor_with_no_repeat_and_no_loss() -> None:
    async with open_world() as world:
        uuids = await deployments(world, 3)
        feed = world.sim.event_feed
        for uuid in uuids:
            feed.burst(uuid, 80)
        got: list[tuple[str, Key]] = []
        async with world.client.events.watch_many(uuids, buffer=10, page_size=30) as watch:
            async for item in watch:
                got.append(
                    (
                        item.deployment_uuid,
                        (item.event.deployment_container_uuid, item.event.status),
                    )
                )
                if len(got) == 150:
                    break
            saved = watch.cursor.encode()
        # Events that sat in the buffer were never received: the cursor does not count them.
        for uuid in uuids:
            feed.burst(uuid, 5)
        async with AutoDL(
            world.sim.token, base_url=world.sim.url, sleep=world.time.sleep, clock=world.time.clock
        ) as fresh:
            resumed = fresh.events.watch_many(uuids, cursor=saved, until_caught_up=True)
            async with resumed as watch:
                async for item in watch:
                    got.append(
                        (
                            item.deployment_uuid,
                            (item.event.deployment_container_uuid, item.event.status),
                        )
                    )
        by_uuid = per_deployment(got)
        for uuid in uuids:
            assert by_uuid[uuid] == world.log(uuid)


async def test_a_slow_consumer_holds_the_pollers_back() -> None:
    async with open_world() as world:
        uuids = await deployments(world, 5)
        for uuid in uuids:
            world.sim.event_feed.burst(uuid, 300)
        async with world.client.events.watch_many(uuids, buffer=4, page_size=50) as watch:
            first = await watch.__anext__()
            # Let everything run that can: every pusher ends up blocked on the full buffer.
            for _ in range(200):
                await anyio.lowlevel.checkpoint()
            assert watch._receive is not None
            stats = watch._receive.statistics()
            while stats.tasks_waiting_send < len(uuids) - 1:
                await anyio.sleep(0.001)  # requests in flight finish on real I/O
                stats = watch._receive.statistics()
            assert stats.current_buffer_used == 4
            sent = len(world.sim.requests)
            world.clock.advance(3600)  # an hour of polls due ...
            for _ in range(200):
                await anyio.lowlevel.checkpoint()
            assert len(world.sim.requests) == sent  # ... and none made: nobody polls
            total = sum(len(world.log(u)) for u in uuids)
            got = [first.deployment_uuid]
            async for item in watch:
                got.append(item.deployment_uuid)
                if len(got) == total:
                    break
        assert sorted(set(got)) == sorted(uuids)


async def test_leaving_the_watch_stops_every_poller_at_once() -> None:
    """Real time here: pollers sleeping an hour, then pollers stuck in 30-second requests.
    Leaving must wait for neither (the limit is a safety net, far above what it takes)."""
    async with (
        Simulator(SimulatorConfig(clock=VirtualClock(), machines_per_region=8)) as sim,
        AutoDL(sim.token, base_url=sim.url) as client,
    ):
        uuids = [
            await client.deployments.create(
                name=f"c{i}", deployment_type="ReplicaSet", replica_num=1, template=template()
            )
            for i in range(20)
        ]
        with anyio.fail_after(10):
            sleeping = client.events.watch_many(uuids, min_interval=3600, max_interval=3600)
            async with sleeping:
                for _ in range(20):
                    await sleeping.__anext__()  # each stream polled; now they sleep an hour
            assert all(s.end_reason == "closed" for s in sleeping.streams.values())

            sim.faults.add(FaultRule(kind="latency", path=EVENTS, latency=30))
            before = len(sim.requests)
            stuck = client.events.watch_many(uuids)
            async with stuck:
                # Until every stream waits on the server (it offers no event to wait on).
                while len(sim.requests) < before + 20:  # noqa: ASYNC110
                    await anyio.sleep(0.001)
            assert all(s.end_reason == "closed" for s in stuck.streams.values())
            assert all(s.stats.polls == 0 for s in stuck.streams.values())


async def test_a_fatal_error_of_one_stream_is_raised_or_kept() -> None:
    async with open_world() as world:
        uuids = await deployments(world, 2)
        watch = world.client.events.watch_many([*uuids, "0000000000"], until_caught_up=True)
        with pytest.raises(NotFoundError):
            await drain(watch)
        kept = world.client.events.watch_many(
            [*uuids, "0000000000"], until_caught_up=True, on_stream_error="end_stream"
        )
        got: list[str] = []
        async with kept:
            async for item in kept:
                got.append(item.deployment_uuid)
        assert sorted(set(got)) == sorted(uuids)
        assert isinstance(kept.errors["0000000000"], NotFoundError)


async def test_more_than_a_hundred_deployments_grow_the_connection_pool(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with open_world() as world:
        uuids = [f"{i:010x}" for i in range(150)]
        fresh = AutoDL(world.sim.token, base_url=world.sim.url)
        async with fresh:
            fresh.events.watch_many(uuids)
            assert fresh._transport.max_connections >= 150
        # Already connected: the pool cannot grow, and the log says so.
        connected = world.client
        await connected.account.balance()
        with caplog.at_level(logging.WARNING, logger="autodl_async.events"):
            connected.events.watch_many(uuids)
        assert connected._transport.max_connections == 100
        assert "max_connections" in caplog.text


async def test_bad_watch_arguments_are_invalid_parameters() -> None:
    async with open_world() as world:
        events = world.client.events
        cases: list[tuple[object, dict[str, object], str]] = [
            ([], {}, "deployment_uuids"),
            ("3f967b8f00", {}, "deployment_uuids"),
            (["a", "a"], {}, "deployment_uuids"),
            (["a", ""], {}, "deployment_uuids"),
            (["a"], {"buffer": 0}, "buffer"),
            (["a"], {"on_stream_error": "ignore"}, "on_stream_error"),
            (["a"], {"cursor": "nope"}, "cursor"),
            (["a"], {"cursor": 3}, "cursor"),
            (["a"], {"page_size": 0}, "page_size"),
        ]
        for uuids, kwargs, param in cases:
            with pytest.raises(InvalidParameterError) as caught:
                events.watch_many(uuids, **kwargs)  # type: ignore[arg-type]
            assert caught.value.param == param, (uuids, kwargs)
        assert WatchCursor.decode(WatchCursor().encode()) == WatchCursor()
