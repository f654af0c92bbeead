"""The simulator's event feed: extra events on demand, and pages without ``result_total``."""

from __future__ import annotations

import pytest

from tests.event_support import open_world

pytestmark = pytest.mark.anyio


async def test_a_burst_lands_in_the_current_second_and_in_the_api() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        before = len(world.sim.events(uuid))
        added = world.sim.event_feed.burst(uuid, 150)
        assert len(added) == 150
        assert {e.created_at for e in added} == {world.clock.now()}
        assert len({e.deployment_container_uuid for e in added}) == 150  # unique keys
        assert world.sim.events(uuid)[before:] == added
        page = await world.client.events.list_page(uuid, 1, 100)
        assert page.result_total == before + 150
        assert page.rows[0].deployment_container_uuid == added[-1].deployment_container_uuid


async def test_named_containers_go_round_robin_and_repeats_are_refused() -> None:
    async with open_world() as world:
        uuid = await world.deployment(replicas=2)
        a, b = world.sim.deployments()[0].container_uuids
        added = world.sim.event_feed.burst(
            uuid, 4, containers=[a, b], statuses=["running", "shutdown"]
        )
        assert [(e.deployment_container_uuid, e.status) for e in added] == [
            (a, "running"),
            (b, "running"),
            (a, "shutdown"),
            (b, "shutdown"),
        ]
        with pytest.raises(ValueError, match="already logged in this second"):
            world.sim.event_feed.burst(uuid, 1, containers=[a], statuses=["running"])
        with pytest.raises(ValueError, match="unknown container statuses"):
            world.sim.event_feed.burst(uuid, 1, statuses=["exploded"])
        with pytest.raises(KeyError):
            world.sim.event_feed.burst("0000000000", 1)


async def test_events_arrive_before_each_page_is_cut() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        base = len(world.sim.events(uuid))
        handle = world.sim.event_feed.during_paging(uuid, per_request=3, requests=2)
        first = await world.client.events.list_page(uuid, 1, 10)
        second = await world.client.events.list_page(uuid, 1, 10)
        third = await world.client.events.list_page(uuid, 1, 10)
        assert (first.result_total, second.result_total, third.result_total) == (
            base + 3,
            base + 6,
            base + 6,
        )
        assert handle.exhausted
        assert handle.applied == 2
        world.sim.event_feed.during_paging(uuid, per_request=1)
        world.sim.reset()  # a reset forgets the rules with the world
        assert world.sim.event_feed._arrivals == []


async def test_pages_can_come_without_result_total() -> None:
    async with open_world(events_result_total=False) as world:
        uuid = await world.deployment()
        page = await world.client.events.list_page(uuid, 1, 2)
        assert page.result_total is None
        assert len(page.rows) == 2
        deployments = await world.client.deployments.list_page(1, 10)
        assert deployments.result_total == 1  # other lists keep theirs
