"""Container lifecycles on a virtual clock: statuses, event timestamps and their order."""

from __future__ import annotations

import pytest

from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock

from ._support import (
    CONTAINER_STOP,
    DEPLOYMENT,
    DEPLOYMENTS,
    EVENTS,
    NOT_FOUND,
    OPERATE,
    Api,
    advance_to,
    deployment_body,
    running,
)

pytestmark = pytest.mark.anyio

BOOT = ["creating", "created", "starting", "oss_merged", "running"]


def at(seconds: int) -> str:
    """Wire timestamp `seconds` after the default epoch 2026-09-01T10:00:00+08:00."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"2026-09-01T{10 + hours:02d}:{minutes:02d}:{secs:02d}+08:00"


async def test_boot_timeline_matches_the_doc(clock: VirtualClock, api: Api) -> None:
    uuid = await api.create(deployment_body())
    (container,) = await api.containers(uuid)
    assert container["status"] == "creating"
    assert container["started_at"] is None
    for seconds, status in [(3, "created"), (5, "oss_merged"), (6, "running")]:
        advance_to(clock, seconds)
        (container,) = await api.containers(uuid)
        assert container["status"] == status
    assert container["created_at"] == at(0)
    assert container["started_at"] == at(6)
    assert container["updated_at"] == at(6)
    assert container["stopped_at"] is None


async def test_events_are_newest_first_with_exact_times(clock: VirtualClock, api: Api) -> None:
    uuid = await api.create(deployment_body())
    clock.advance(600)  # one big step: every transition still gets its own time
    events = await api.events(uuid)
    assert [e["status"] for e in events] == BOOT[::-1]
    assert [e["created_at"] for e in events] == [at(6), at(5), at(5), at(3), at(0)]
    # same-second tie (starting, oss_merged) ordered by append sequence: newest first
    assert events[1]["status"] == "oss_merged"
    assert events[2]["status"] == "starting"
    (container,) = await api.containers(uuid)
    assert {e["deployment_container_uuid"] for e in events} == {container["uuid"]}


async def test_oldest_first_event_order_knob() -> None:
    clock = VirtualClock()
    async with running(SimulatorConfig(clock=clock, event_order="oldest_first")) as (_, api):
        uuid = await api.create(deployment_body())
        clock.advance(10)
        assert [e["status"] for e in await api.events(uuid)] == BOOT


async def test_stop_goes_through_shutting_down(clock: VirtualClock, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=1))
    clock.advance(10)
    (container,) = await api.containers(uuid)
    await api.stop(container["uuid"], decrease_one_replica_num=True)
    (container,) = await api.containers(uuid, container_uuid=container["uuid"])
    assert container["status"] == "shutting_down"
    clock.advance(1.5)
    (container,) = await api.containers(uuid, container_uuid=container["uuid"])
    assert container["status"] == "shutting_down"
    clock.advance(0.5)
    (container,) = await api.containers(uuid, container_uuid=container["uuid"])
    assert container["status"] == "shutdown"
    assert container["stopped_at"] == at(12)
    events = await api.events(uuid)
    assert [(e["status"], e["created_at"]) for e in events[:2]] == [
        ("shutdown", at(12)),
        ("shutting_down", at(10)),
    ]


@pytest.mark.parametrize(
    ("template_hook", "stop_hook", "shutdown_after"),
    [
        ("", None, 2),
        ("sleep 3", None, 5),
        ("sleep 60", None, 7),  # the hook is cut off after 5 s
        ("sleep 3", "sleep 1", 3),  # the stop call's hook overrides the template's
        ("echo bye", None, 2),
    ],
)
async def test_cmd_before_shutdown_delays_shutdown(
    clock: VirtualClock,
    api: Api,
    template_hook: str,
    stop_hook: str | None,
    shutdown_after: int,
) -> None:
    uuid = await api.create(deployment_body(cmd_before_shutdown=template_hook))
    clock.advance(10)
    (container,) = await api.containers(uuid)
    extra = {} if stop_hook is None else {"cmd_before_shutdown": stop_hook}
    await api.stop(container["uuid"], decrease_one_replica_num=True, **extra)
    clock.advance(100)
    (container,) = await api.containers(uuid)
    assert container["stopped_at"] == at(10 + shutdown_after)


async def test_cmd_sleep_exits_and_counts_as_finished(clock: VirtualClock, api: Api) -> None:
    uuid = await api.create(deployment_body("Container", cmd="sleep 30"))
    clock.advance(36)  # running at 6, exits at 36
    (container,) = await api.containers(uuid)
    assert container["status"] == "shutting_down"
    dep = await api.deployment(uuid)
    assert (dep["running_num"], dep["finished_num"]) == (0, 0)
    clock.advance(2)
    (container,) = await api.containers(uuid)
    assert container["status"] == "shutdown"
    assert container["stopped_at"] == at(38)
    dep = await api.deployment(uuid)
    assert dep["finished_num"] == 1
    assert dep["status"] == "running"  # field notes §5: not a terminal signal
    clock.advance(100)
    assert len(await api.containers(uuid)) == 1  # a Container deployment runs once


@pytest.mark.parametrize(
    ("cmd", "exits_at"),
    [
        ("sleep 10", 16),
        ("python train.py && sleep 2m", 126),
        ("sleep 0.5", 6.5),
        ("bash -c 'sleep infinity'", None),
        ("python serve.py", None),
    ],
)
async def test_which_commands_exit(
    sim: Simulator, clock: VirtualClock, api: Api, cmd: str, exits_at: float | None
) -> None:
    uuid = await api.create(deployment_body("Container", cmd=cmd))
    clock.advance(1000)
    (container,) = sim.containers(uuid)
    if exits_at is None:
        assert container.status == "running"
    else:
        assert container.exit_reason == "exited"
        assert container.stopped_at is not None
        assert container.stopped_at - container.created_at == exits_at + 2


async def test_counters_follow_the_lifecycle(clock: VirtualClock, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=3))
    dep = await api.deployment(uuid)
    assert (dep["starting_num"], dep["running_num"], dep["price_estimates"]) == (3, 0, 3 * 1980)
    clock.advance(6)
    dep = await api.deployment(uuid)
    assert (dep["starting_num"], dep["running_num"], dep["failed_num"]) == (0, 3, 0)
    await api.ok("PUT", OPERATE, {"deployment_uuid": uuid, "operate": "stop"})
    dep = await api.deployment(uuid)
    assert (dep["starting_num"], dep["running_num"]) == (0, 0)
    assert dep["price_estimates"] == 3 * 1980  # still holding GPUs while shutting down
    clock.advance(2)
    assert (await api.deployment(uuid))["price_estimates"] == 0


async def test_operate_stop_stops_everything(clock: VirtualClock, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=2))
    clock.advance(4)  # stop while still booting
    await api.ok("PUT", OPERATE, {"deployment_uuid": uuid, "operate": "stop"})
    await api.ok("PUT", OPERATE, {"deployment_uuid": uuid, "operate": "stop"})  # idempotent
    clock.advance(60)
    dep = await api.deployment(uuid)
    assert dep["status"] == "stopped"
    assert dep["stopped_at"] == at(4)
    assert dep["updated_at"] == at(4)
    containers = await api.containers(uuid)
    assert [c["status"] for c in containers] == ["shutdown", "shutdown"]
    assert all(c["started_at"] is None for c in containers)
    stopped = await api.ok("POST", DEPLOYMENTS, {"status": "stopped"})
    assert [d["uuid"] for d in stopped["list"]] == [uuid]


async def test_operate_rejects_other_operations(api: Api) -> None:
    uuid = await api.create(deployment_body())
    for operate in ["start", "delete", ""]:
        reply = await api.call("PUT", OPERATE, {"deployment_uuid": uuid, "operate": operate})
        assert reply.code == "RequestParameterIsWrong"


async def test_stop_is_idempotent(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body())
    clock.advance(10)
    (container,) = await api.containers(uuid)
    for _ in range(3):
        await api.stop(container["uuid"], decrease_one_replica_num=True)
    clock.advance(10)
    await api.stop(container["uuid"])
    assert sim.deployments()[0].replica_num == 0
    statuses = [e.status for e in sim.events(uuid)]
    assert statuses.count("shutting_down") == 1
    assert statuses.count("shutdown") == 1


async def test_stop_unknown_container_is_not_found(api: Api) -> None:
    reply = await api.call("PUT", CONTAINER_STOP, {"deployment_container_uuid": "a-b-c"})
    assert reply.error == NOT_FOUND
    reply = await api.call("PUT", CONTAINER_STOP, {})
    assert reply.code == "RequestParameterIsWrong"


async def test_delete_stops_then_hides_the_deployment(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body(replica_num=2))
    clock.advance(10)
    containers = await api.containers(uuid)
    await api.ok("DELETE", DEPLOYMENT, {"deployment_uuid": uuid})
    assert (await api.ok("POST", DEPLOYMENTS, {}))["list"] == []
    for path, body in [
        (EVENTS, {"deployment_uuid": uuid}),
        (DEPLOYMENT, {"deployment_uuid": uuid}),
        (OPERATE, {"deployment_uuid": uuid, "operate": "stop"}),
        (CONTAINER_STOP, {"deployment_container_uuid": containers[0]["uuid"]}),
    ]:
        method = {DEPLOYMENT: "DELETE", EVENTS: "POST"}.get(path, "PUT")
        assert (await api.call(method, path, body)).error == NOT_FOUND
    clock.advance(5)
    (deleted,) = sim.deployments(include_deleted=True)
    assert deleted.deleted
    assert deleted.status == "stopped"
    assert {c.status for c in sim.containers(uuid)} == {"shutdown"}
    assert sim.deployments() == ()


async def test_world_moves_only_when_looked_at(clock: VirtualClock, sim: Simulator) -> None:
    """Snapshots catch up lazily too, so an advance is visible without any HTTP call."""
    async with running(SimulatorConfig(clock=clock)) as (_, api):
        uuid = await api.create(deployment_body())
        assert sim.containers() == ()  # a different simulator instance
        clock.advance(6)
        (container,) = api.sim.containers(uuid)
        assert container.status == "running"
        assert container.started_at == clock.now()
