"""How an event stream ends: each end condition, fatal errors typed, transient ones survived."""

from __future__ import annotations

import logging

import pytest

from autodl_async import (
    AuthenticationError,
    AutoDL,
    ContainerEvent,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
)
from autodl_async._event_stream import EventStream
from autodl_async.simulator import FaultRule
from tests.event_support import collect, keys, open_world

pytestmark = pytest.mark.anyio

EVENTS = "/api/v1/dev/deployment/container/event/list"
DEPLOYMENTS = "/api/v1/dev/deployment/list"


# -- end conditions ------------------------------------------------------------------------------


async def test_until_stopped_delivers_every_shutdown_then_ends() -> None:
    async with open_world() as world:
        uuid = await world.deployment(replicas=2)
        await world.client.deployments.stop(uuid)  # containers take 2 s to shut down
        stream = world.client.events.stream(uuid, until_stopped=True, max_interval=2, timeout=600)
        got = await collect(stream)
        assert stream.end_reason == "deployment_stopped"
        assert got == world.log(uuid)
        containers = world.sim.deployments()[0].container_uuids
        assert {(c, "shutdown") for c in containers} <= set(got)
        # It waited for the shutdowns: they are stamped after the stream's first poll.
        assert [status for _, status in got].count("shutdown") == 2


async def test_until_stopped_reads_a_long_backlog_to_the_end_before_stopping() -> None:
    """Events logged while the stream asks whether the deployment is done come in the last
    poll; there are more than one read takes, and all of them are delivered."""
    async with open_world() as world:
        uuid = await world.deployment()
        await world.client.deployments.stop(uuid)
        world.clock.advance(10)
        stream = world.client.events.stream(uuid, until_stopped=True, timeout=600)
        done_check = stream._done_check
        assert done_check is not None

        async def check_while_events_arrive() -> bool:
            world.sim.event_feed.burst(uuid, 2600)
            return await done_check()

        stream._done_check = check_while_events_arrive
        got = await collect(stream)
        assert stream.end_reason == "deployment_stopped"
        assert got == world.log(uuid)
        assert len(got) > 2600


async def test_until_stopped_keeps_going_while_the_deployment_runs() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        stream = world.client.events.stream(uuid, until_stopped=True, max_interval=5, timeout=60)
        got = await collect(stream)
        assert got == world.log(uuid)
        assert stream.end_reason == "timeout"
        # ... having asked, while idle, whether the deployment was done.
        asked = [r for r in world.sim.requests if r.path == DEPLOYMENTS]
        assert len(asked) >= 5


async def test_until_status_ends_right_after_that_containers_event() -> None:
    async with open_world() as world:
        uuid = await world.deployment(replicas=2, boot=False)
        _, second = world.sim.deployments()[0].container_uuids
        world.clock.advance(30)
        stream = world.client.events.stream(uuid, until_status="running", until_container=second)
        got = await collect(stream)
        assert got[-1] == (second, "running")
        assert got == world.log(uuid)[: world.log(uuid).index((second, "running")) + 1]
        assert stream.end_reason == "container_status"
        assert stream.cursor.seen[-1] == (second, "running")
        # The cursor stops at that event: a resumed stream starts with what follows.
        rest = world.client.events.stream(uuid, cursor=stream.cursor, until_caught_up=True)
        assert got + await collect(rest) == world.log(uuid)


async def test_until_status_of_the_filtered_container() -> None:
    async with open_world() as world:
        uuid = await world.deployment(replicas=2, boot=False)
        mine = world.sim.deployments()[0].container_uuids[0]
        world.clock.advance(30)
        stream = world.client.events.stream(uuid, container_uuid=mine, until_status="starting")
        got = await collect(stream)
        assert got == [(mine, "creating"), (mine, "created"), (mine, "starting")]
        assert stream.end_reason == "container_status"


async def test_timeout_ends_the_stream_without_an_error() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        started = world.clock.now()
        stream = world.client.events.stream(uuid, timeout=30, max_interval=4)
        got = await collect(stream)
        assert got == world.log(uuid)
        assert stream.end_reason == "timeout"
        assert 30 <= world.clock.now() - started < 30 + 1


async def test_until_caught_up_reads_what_is_stored_and_stops() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        world.sim.event_feed.burst(uuid, 250)
        stream = world.client.events.stream(uuid, until_caught_up=True, page_size=100)
        assert await collect(stream) == world.log(uuid)
        assert stream.end_reason == "caught_up"
        assert world.time.sleeps == 0  # no poll interval was waited out


async def test_leaving_async_with_closes_the_stream() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        async with world.client.events.stream(uuid) as stream:
            async for _ in stream:
                break
        assert stream.end_reason == "closed"
        assert await collect(stream) == []


# -- fatal errors end the stream, typed ------------------------------------------------------------


async def test_refused_token_ends_the_stream_with_authentication_error() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        async with AutoDL(
            "not-the-token", base_url=world.sim.url, sleep=world.time.sleep, clock=world.time.clock
        ) as stranger:
            stream = stranger.events.stream(uuid)
            with pytest.raises(AuthenticationError):
                await collect(stream)
        assert stream.end_reason == "error"
        assert stream.stats.last_error is not None
        assert "not-the-token" not in stream.stats.last_error


async def test_unverified_account_ends_the_stream_with_permission_denied() -> None:
    async with open_world(enterprise_verified=False) as world:
        stream = world.client.events.stream("3f967b8f00")
        with pytest.raises(PermissionDeniedError) as caught:
            await collect(stream)
        assert caught.value.msg == "无当前资源访问权限"
        assert stream.stats.retries == 0


async def test_unknown_deployment_ends_the_stream_with_not_found() -> None:
    async with open_world() as world:
        stream = world.client.events.stream("0000000000")
        with pytest.raises(NotFoundError):
            await collect(stream)
        assert stream.end_reason == "error"


async def test_deployment_deleted_mid_stream_ends_it_after_what_was_read() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        stream = world.client.events.stream(uuid, max_interval=2)
        got = await collect(stream, limit=len(world.log(uuid)))
        await world.client.deployments.delete(uuid)
        with pytest.raises(NotFoundError):
            await collect(stream)
        assert got == world.log(uuid)[: len(got)]


async def test_a_fatal_stop_check_waits_until_the_events_read_are_delivered() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        world.sim.faults.add(FaultRule(kind="status", path=DEPLOYMENTS, status=404))
        stream = world.client.events.stream(uuid, until_stopped=True)
        got: list[ContainerEvent] = []
        with pytest.raises(NotFoundError):
            await collect_into(stream, got)
        assert keys(got) == world.log(uuid)


async def collect_into(stream: EventStream, got: list[ContainerEvent]) -> None:
    async for event in stream:
        got.append(event)


# -- transient errors never end it ----------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        FaultRule(kind="status", path=EVENTS, status=503, times=12),
        FaultRule(kind="status", path=EVENTS, status=500, times=12),
        FaultRule(kind="rate_limit", path=EVENTS, retry_after=3, times=12),
        FaultRule(kind="reset", path=EVENTS, times=12),
        FaultRule(kind="html", path=EVENTS, times=12),
        FaultRule(kind="truncate", path=EVENTS, times=12),
    ],
    ids=lambda r: r.kind + str(r.status or ""),
)
async def test_transient_failures_are_retried_and_lose_nothing(
    rule: FaultRule, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="autodl_async")
    async with open_world(client_kwargs={"retry": RetryPolicy(max_attempts=2)}) as world:
        uuid = await world.deployment()
        world.sim.event_feed.burst(uuid, 120)
        handle = world.sim.faults.add(rule)
        stream = world.client.events.stream(uuid, until_caught_up=True, page_size=50)
        got = await collect(stream)
        assert handle.applied == 12
        assert got == world.log(uuid)
        assert stream.stats.retries >= 1  # the client's own retries ran out: the stream's took over
        assert stream.stats.last_error is not None
        assert "event poll of" in caplog.text
        assert world.sim.token not in caplog.text


async def test_a_failing_stop_check_is_retried() -> None:
    async with open_world(client_kwargs={"retry": RetryPolicy.never()}) as world:
        uuid = await world.deployment()
        await world.client.deployments.stop(uuid)
        checks = world.sim.faults.add(FaultRule(kind="status", path=DEPLOYMENTS, times=3))
        stream = world.client.events.stream(uuid, until_stopped=True, max_interval=2, timeout=600)
        got = await collect(stream)
        assert checks.applied == 3
        assert stream.end_reason == "deployment_stopped"
        assert got == world.log(uuid)
        assert stream.stats.retries >= 3
