"""ReplicaSet reconciliation and Job/Container completion semantics."""

from __future__ import annotations

import pytest

from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock

from ._support import REPLICA_NUM, Api, deployment_body, running

pytestmark = pytest.mark.anyio


def alive(sim: Simulator, uuid: str) -> list[str]:
    return [c.uuid for c in sim.containers(uuid) if c.status not in {"shutting_down", "shutdown"}]


async def scale(api: Api, uuid: str, replica_num: int) -> None:
    data = await api.ok("PUT", REPLICA_NUM, {"deployment_uuid": uuid, "replica_num": replica_num})
    assert data == {"deployment_uuid": uuid}  # field notes: not null as the doc says


async def test_scale_up_and_down(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=1))
    clock.advance(10)
    await scale(api, uuid, 3)
    assert len(alive(sim, uuid)) == 3
    clock.advance(10)
    dep = await api.deployment(uuid)
    assert (dep["replica_num"], dep["running_num"]) == (3, 3)
    first, second, third = sim.deployments()[0].container_uuids
    clock.advance(1)
    await scale(api, uuid, 1)
    assert alive(sim, uuid) == [first]  # newest are stopped first
    clock.advance(10)
    dep = await api.deployment(uuid)
    assert (dep["replica_num"], dep["running_num"]) == (1, 1)
    assert {c.uuid: c.status for c in sim.containers(uuid)} == {
        first: "running",
        second: "shutdown",
        third: "shutdown",
    }


async def test_scale_down_oldest_first_knob() -> None:
    clock = VirtualClock()
    config = SimulatorConfig(clock=clock, scale_down_order="oldest_first")
    async with running(config) as (sim, api):
        uuid = await api.create(deployment_body(replica_num=2))
        clock.advance(10)
        await scale(api, uuid, 3)
        oldest = sim.deployments()[0].container_uuids[0]
        await scale(api, uuid, 2)
        assert oldest not in alive(sim, uuid)
        assert len(alive(sim, uuid)) == 2


async def test_scale_to_zero_and_back(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=2))
    clock.advance(10)
    await scale(api, uuid, 0)
    clock.advance(10)
    assert alive(sim, uuid) == []
    assert (await api.deployment(uuid))["status"] == "running"
    await scale(api, uuid, 2)
    assert len(alive(sim, uuid)) == 2


async def test_stop_without_decrease_gets_a_replacement(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body(replica_num=2))
    clock.advance(10)
    victim = sim.deployments()[0].container_uuids[0]
    await api.stop(victim)
    now_alive = alive(sim, uuid)
    assert len(now_alive) == 2
    assert victim not in now_alive
    dep = await api.deployment(uuid)
    assert (dep["replica_num"], dep["starting_num"], dep["running_num"]) == (2, 1, 1)


async def test_stop_with_decrease_shrinks_the_replicaset(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body(replica_num=2))
    clock.advance(10)
    victim = sim.deployments()[0].container_uuids[0]
    await api.stop(victim, decrease_one_replica_num=True)
    clock.advance(60)
    dep = await api.deployment(uuid)
    assert (dep["replica_num"], dep["running_num"]) == (1, 1)
    assert len(sim.containers(uuid)) == 2


async def test_exited_replicas_are_replaced(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=1, cmd="sleep 20"))
    clock.advance(26)  # running at 6, exits at 26 -> replacement created at 26
    containers = sim.containers(uuid)
    assert [c.status for c in containers] == ["shutting_down", "creating"]
    assert containers[1].created_at - containers[0].created_at == 26
    clock.advance(2)
    assert (await api.deployment(uuid))["finished_num"] == 1


async def test_replica_num_only_for_replicasets(api: Api) -> None:
    job = await api.create(deployment_body("Job", replica_num=2, parallelism_num=1))
    reply = await api.call("PUT", REPLICA_NUM, {"deployment_uuid": job, "replica_num": 3})
    assert reply.code == "RequestParameterIsWrong"
    container = await api.create(deployment_body("Container"))
    reply = await api.call("PUT", REPLICA_NUM, {"deployment_uuid": container, "replica_num": 3})
    assert reply.code == "RequestParameterIsWrong"


@pytest.mark.parametrize(
    "body",
    [{"replica_num": -1}, {"replica_num": "3"}, {}, {"replica_num": 1001}],
)
async def test_replica_num_validation(api: Api, body: dict[str, object]) -> None:
    uuid = await api.create(deployment_body())
    reply = await api.call("PUT", REPLICA_NUM, {"deployment_uuid": uuid, **body})
    assert reply.code == "RequestParameterIsWrong"


async def test_replica_num_unknown_deployment(api: Api) -> None:
    reply = await api.call("PUT", REPLICA_NUM, {"deployment_uuid": "ffffffffff", "replica_num": 1})
    assert reply.code == "RecordNotFoundError"


async def test_scaling_a_stopped_deployment_starts_nothing(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body(replica_num=1))
    await api.ok(
        "PUT", "/api/v1/dev/deployment/operate", {"deployment_uuid": uuid, "operate": "stop"}
    )
    await scale(api, uuid, 4)
    clock.advance(30)
    assert alive(sim, uuid) == []
    dep = await api.deployment(uuid)
    assert (dep["status"], dep["replica_num"]) == ("stopped", 4)


async def test_job_runs_to_completion_within_parallelism(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(
        deployment_body("Job", replica_num=5, parallelism_num=2, cmd="sleep 10")
    )
    peak = 0
    for _ in range(120):
        clock.advance(1)
        peak = max(peak, len(alive(sim, uuid)))
    assert peak == 2
    dep = await api.deployment(uuid)
    assert dep["finished_num"] == 5
    assert dep["status"] == "running"  # stays running after the Job is done
    assert (dep["starting_num"], dep["running_num"]) == (0, 0)
    containers = sim.containers(uuid)
    assert len(containers) == 5
    assert all(c.exit_reason == "exited" and c.status == "shutdown" for c in containers)
    clock.advance(600)
    assert len(sim.containers(uuid)) == 5  # nothing more starts


async def test_job_replaces_a_container_stopped_by_the_user(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(
        deployment_body("Job", replica_num=1, parallelism_num=1, cmd="sleep 30")
    )
    clock.advance(10)
    (first,) = sim.deployments()[0].container_uuids
    await api.stop(first, decrease_one_replica_num=True)  # ignored for Jobs
    assert len(alive(sim, uuid)) == 1
    clock.advance(100)
    dep = await api.deployment(uuid)
    assert (dep["replica_num"], dep["finished_num"]) == (1, 1)
    assert len(sim.containers(uuid)) == 2


async def test_parallelism_above_replicas_is_capped_by_replicas(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body("Job", replica_num=2, parallelism_num=5, cmd="sleep 5"))
    assert len(alive(sim, uuid)) == 2
    clock.advance(100)
    assert (await api.deployment(uuid))["finished_num"] == 2
