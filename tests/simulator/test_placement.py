"""Placement filters, capacity, blacklist and retrying replicas that did not fit."""

from __future__ import annotations

from typing import Any

import pytest

from autodl_async.simulator import MachineSnapshot, Simulator, SimulatorConfig, VirtualClock

from ._support import Api, deployment_body, running

pytestmark = pytest.mark.anyio

GIB = 1024**3
ALL_REGIONS = [
    "westDC2",
    "westDC3",
    "beijingDC1",
    "beijingDC2",
    "beijingDC3",
    "beijingDC4",
    "neimengDC1",
    "neimengDC3",
    "foshanDC1",
    "chongqingDC1",
    "yangzhouDC1",
]


async def placed(sim: Simulator, api: Api, **template: Any) -> list[str]:
    """Machine ids of the containers a one-replica deployment got ([] if unplaced)."""
    uuid = await api.create(deployment_body(**template))
    return [c.machine_id for c in sim.containers(uuid)]


def machine(sim: Simulator, machine_id: str) -> MachineSnapshot:
    return next(m for m in sim.machines() if m.machine_id == machine_id)


async def test_fleet_covers_the_doc_regions(sim: Simulator) -> None:
    machines = sim.machines()
    assert {m.data_center for m in machines} == set(ALL_REGIONS)
    assert {m.gpu_name for m in machines} >= {"RTX 4090", "L20", "H20", "A800-80GB"}
    for m in machines:
        assert len(m.machine_id) == 10
        int(m.machine_id, 16)
        assert m.gpu_idle == m.gpu_total
        assert (m.chip_corp, m.cpu_arch) == ("nvidia", "x86")
    assert len({m.machine_id for m in machines}) == len(machines)
    assert {m.gpu_name for m in machines if m.data_center == "beijingDC3"} == {
        "Tesla V100-SXM2-32GB"
    }


async def test_fleet_is_seeded() -> None:
    fleets = []
    for seed in (1, 1, 2):
        async with running(SimulatorConfig(clock=VirtualClock(), seed=seed)) as (sim, _):
            fleets.append([m.machine_id for m in sim.machines()])
    assert fleets[0] == fleets[1]
    assert fleets[0] != fleets[2]


async def test_machines_per_region_knob() -> None:
    config = SimulatorConfig(clock=VirtualClock(), machines_per_region=1)
    async with running(config) as (sim, _):
        pairs = [(m.data_center, m.gpu_name) for m in sim.machines()]
        assert len(pairs) == len(set(pairs))


async def test_dc_list_is_honoured(sim: Simulator, api: Api) -> None:
    for region in ["beijingDC1", "foshanDC1", "chongqingDC1"]:
        uuid = await api.create(deployment_body(dc_list=[region]))
        assert [c.data_center for c in sim.containers(uuid)] == [region]


async def test_gpu_name_set_is_honoured(sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body(dc_list=ALL_REGIONS, gpu_name_set=["A800-80GB"]))
    assert [c.gpu_name for c in sim.containers(uuid)] == ["A800-80GB"]
    assert await placed(sim, api, gpu_name_set=["L20"]) == []  # no L20 in westDC2/3


async def test_cheapest_fitting_model_wins(sim: Simulator, api: Api) -> None:
    uuid = await api.create(
        deployment_body(dc_list=["westDC3"], gpu_name_set=["RTX 4090", "RTX 3090"])
    )
    (container,) = sim.containers(uuid)
    assert (container.gpu_name, container.price) == ("RTX 3090", 1580)


async def test_cuda_from_is_a_minimum_driver_version(sim: Simulator, api: Api) -> None:
    best = max(m.max_cuda for m in sim.machines() if m.gpu_name == "RTX 4090")
    assert (
        await placed(sim, api, dc_list=ALL_REGIONS, cuda_v_from=best + 1, cuda_v_to=best + 5) == []
    )
    (machine_id,) = await placed(sim, api, dc_list=ALL_REGIONS, cuda_v_from=best, cuda_v_to=best)
    assert machine(sim, machine_id).max_cuda == best


async def test_cuda_to_does_not_exclude_newer_drivers(sim: Simulator, api: Api) -> None:
    (machine_id,) = await placed(sim, api, cuda_v_from=113, cuda_v_to=113)
    assert machine(sim, machine_id).max_cuda > 113


async def test_deprecated_cuda_v_is_a_minimum_too(sim: Simulator, api: Api) -> None:
    body = deployment_body(dc_list=ALL_REGIONS, gpu_name_set=["H20"])
    template = body["container_template"]
    del template["cuda_v_from"], template["cuda_v_to"]
    template["cuda_v"] = 129
    uuid = await api.create(body)
    assert sim.containers(uuid) == ()
    template["cuda_v"] = 124
    uuid = await api.create(body)
    (container,) = sim.containers(uuid)
    assert machine(sim, container.machine_id).max_cuda >= 124


async def test_cpu_range_scales_with_gpu_num(sim: Simulator, api: Api) -> None:
    # an RTX 4090 host gives 16 vCPU and 60 GB per GPU
    assert await placed(sim, api, cpu_num_from=17) == []
    uuid = await api.create(deployment_body(cpu_num_from=17, gpu_num=2))
    (container,) = sim.containers(uuid)
    assert (container.gpu_num, container.cpu_num) == (2, 32)
    assert container.memory_size == 120 * GIB
    assert container.price == 2 * 1980
    assert await placed(sim, api, cpu_num_to=15) == []


async def test_memory_range_is_in_gb(sim: Simulator, api: Api) -> None:
    assert await placed(sim, api, memory_size_to=59) == []
    assert await placed(sim, api, memory_size_from=61) == []
    assert len(await placed(sim, api, memory_size_from=60, memory_size_to=60)) == 1
    uuid = await api.create(
        deployment_body(gpu_name_set=["RTX 4090", "RTX 3090"], memory_size_to=50)
    )
    assert [c.gpu_name for c in sim.containers(uuid)] == ["RTX 3090"]


async def test_price_range_is_per_container(sim: Simulator, api: Api) -> None:
    assert await placed(sim, api, price_to=1979) == []
    assert len(await placed(sim, api, price_from=1980, price_to=1980)) == 1
    assert await placed(sim, api, price_from=2000) == []
    assert len(await placed(sim, api, price_from=2000, gpu_num=2)) == 1


async def test_too_many_gpus_per_container_never_fits(sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body(gpu_num=9, dc_list=ALL_REGIONS))
    assert sim.containers(uuid) == ()
    dep = await api.deployment(uuid)
    assert (dep["status"], dep["starting_num"], dep["running_num"]) == ("running", 0, 0)


def capacity(sim: Simulator, region: str, gpu: str) -> int:
    return sum(m.gpu_idle for m in sim.machines() if (m.data_center, m.gpu_name) == (region, gpu))


async def test_unplaced_replica_is_placed_when_capacity_frees(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    total = capacity(sim, "westDC3", "RTX 4090")
    big = await api.create(deployment_body(dc_list=["westDC3"], replica_num=total))
    assert len(sim.containers(big)) == total
    assert capacity(sim, "westDC3", "RTX 4090") == 0
    waiting = await api.create(deployment_body(dc_list=["westDC3"], replica_num=2))
    assert sim.containers(waiting) == ()
    clock.advance(10)
    victim = sim.containers(big)[0]
    await api.stop(victim.uuid, decrease_one_replica_num=True)
    clock.advance(1)
    assert sim.containers(waiting) == ()  # GPUs are held until shutdown
    clock.advance(1)
    (container,) = sim.containers(waiting)
    assert container.machine_id == victim.machine_id
    assert container.created_at == clock.now()
    # the older deployment is served first when both want the freed GPU
    await api.stop(sim.containers(big)[1].uuid)  # no decrease: big wants it back
    clock.advance(2)
    assert len(sim.containers(waiting)) == 1
    assert len([c for c in sim.containers(big) if c.status != "shutdown"]) == total - 1


async def test_blacklisted_machine_is_avoided(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    first = await api.create(deployment_body(dc_list=["westDC3"]))
    (victim,) = sim.containers(first)
    await api.ok(
        "POST",
        "/api/v1/dev/deployment/blacklist",
        {"deployment_container_uuid": victim.uuid, "expire_in_minutes": 60},
    )
    free = capacity(sim, "westDC3", "RTX 4090")
    blocked = machine(sim, victim.machine_id).gpu_idle
    other = await api.create(deployment_body(dc_list=["westDC3"], replica_num=free))
    containers = sim.containers(other)
    assert len(containers) == free - blocked
    assert victim.machine_id not in {c.machine_id for c in containers}
    # the existing container is untouched: the blacklist only affects future placement
    assert sim.containers(first)[0].status == "creating"
    clock.advance(60 * 60)
    assert len(sim.containers(other)) == free
    assert {c.machine_id for c in sim.containers(other)} >= {victim.machine_id}


async def test_background_load_knob_occupies_gpus() -> None:
    config = SimulatorConfig(clock=VirtualClock(), background_load=0.5, seed=3)
    async with running(config) as (sim, api):
        machines = sim.machines()
        busy = sum(m.gpu_total - m.gpu_idle for m in machines)
        assert 0 < busy < sum(m.gpu_total for m in machines)
        stock = await api.stock("westDC2")
        expected = sum(
            m.gpu_idle for m in machines if m.data_center == "westDC2" and m.gpu_name == "RTX 4090"
        )
        assert stock["RTX 4090"]["idle_gpu_num"] == expected
