"""Every endpoint through the public client against the embedded simulator, over loopback.

The sample tests (``test_samples_decode``) pin decoding to the doc's and the field notes'
payloads; the simulator tests pin the simulator to the wire. This module closes the loop: each
SDK method, called as a user would, against a live simulator, checked against the simulator's
own state. One test per endpoint, named after it, so the issue's endpoint list maps onto it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from autodl_async import (
    AutoDL,
    ContainerStatus,
    ContainerTemplate,
    DeploymentStatus,
    NotFoundError,
    PermissionDeniedError,
)
from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock

pytestmark = pytest.mark.anyio

IMAGE = "base-image-l2t43iu6uk"


def template(cmd: str = "sleep infinity") -> ContainerTemplate:
    return ContainerTemplate(
        image_uuid=IMAGE,
        cmd=cmd,
        gpu_name_set=["RTX 4090"],
        dc_list=["westDC2", "westDC3"],
        cuda_v_from=113,
        cuda_v_to=128,
        price_from=100,
        price_to=9000,
    )


@dataclass
class Env:
    sim: Simulator
    clock: VirtualClock
    client: AutoDL


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = VirtualClock()
    async with (
        Simulator(SimulatorConfig(token="tok-endpoints", seed=3, clock=clock)) as sim,
        AutoDL(sim.token, base_url=sim.url) as client,
    ):
        yield Env(sim, clock, client)


async def running_replicaset(env: Env, replicas: int = 2, name: str = "rs") -> str:
    uuid = await env.client.deployments.create(
        name=name, deployment_type="ReplicaSet", replica_num=replicas, template=template()
    )
    env.clock.advance(30)
    return uuid


async def test_images_list_private(env: Env) -> None:
    images = await env.client.images.list(page_size=2).to_list()
    assert [i.display_name for i in images] == [i.image_name for i in env.sim.images()]
    page = await env.client.images.list_page(1, 1)
    assert len(page.rows) == 1
    assert page.max_page == len(images)


async def test_deployments_create_each_type(env: Env) -> None:
    rs = await env.client.deployments.create(
        name="rs", deployment_type="ReplicaSet", replica_num=2, template=template()
    )
    job = await env.client.deployments.create(
        name="job",
        deployment_type="Job",
        replica_num=3,
        parallelism_num=1,
        template=template("sleep 5"),
    )
    one = await env.client.deployments.create(
        name="one", deployment_type="Container", template=template()
    )
    made = {d.uuid: d for d in env.sim.deployments()}
    assert (made[rs].deployment_type, made[rs].replica_num) == ("ReplicaSet", 2)
    assert (made[job].deployment_type, made[job].parallelism_num) == ("Job", 1)
    assert made[one].deployment_type == "Container"


async def test_deployments_list_get_and_filters(env: Env) -> None:
    first = await running_replicaset(env, name="alpha")
    second = await running_replicaset(env, name="beta")
    listed = await env.client.deployments.list(page_size=1).to_list()
    assert [d.uuid for d in listed] == [second, first]  # newest first, across pages
    [beta] = await env.client.deployments.list(name="beta").to_list()
    assert beta.uuid == second
    assert beta.running_num == 2
    got = await env.client.deployments.get(first)
    assert got.name == "alpha"
    assert got.status == DeploymentStatus.RUNNING
    assert got.template is not None
    assert got.template.memory_size_from_bytes == 1 << 30
    with pytest.raises(NotFoundError):
        await env.client.deployments.get("0123456789")


async def test_deployments_set_replicas(env: Env) -> None:
    uuid = await running_replicaset(env)
    assert await env.client.deployments.set_replicas(uuid, 3) == uuid
    env.clock.advance(30)
    running = await env.client.containers.list(uuid, status="running").to_list()
    assert len(running) == 3


async def test_deployments_stop(env: Env) -> None:
    uuid = await running_replicaset(env)
    await env.client.deployments.stop(uuid)
    env.clock.advance(30)
    [stopped] = await env.client.deployments.list(status="stopped").to_list()
    assert stopped.uuid == uuid
    containers = await env.client.containers.list(uuid).to_list()
    assert {c.status for c in containers} == {ContainerStatus.SHUTDOWN}


async def test_deployments_delete(env: Env) -> None:
    uuid = await running_replicaset(env)
    await env.client.deployments.delete(uuid)
    env.clock.advance(30)
    assert await env.client.deployments.list().to_list() == []
    assert [d.deleted for d in env.sim.deployments(include_deleted=True)] == [True]


async def test_deployments_ddp_overview(env: Env) -> None:
    uuid = await running_replicaset(env)
    [row] = await env.client.deployments.ddp_overview(uuid)
    [package] = env.sim.config.ddp_packages
    assert (row.gpu_type, row.total) == (package.gpu_type, package.total)
    assert row.dc_names == list(package.dc_list)  # the wire may send one string or a list


async def test_containers_list_and_filters(env: Env) -> None:
    uuid = await running_replicaset(env, replicas=3)
    containers = await env.client.containers.list(uuid, page_size=2).to_list()
    assert sorted(c.uuid for c in containers) == sorted(c.uuid for c in env.sim.containers(uuid))
    sample = containers[0]
    [truth] = [c for c in env.sim.containers(uuid) if c.uuid == sample.uuid]
    assert sample.memory_size_bytes == truth.memory_size  # bytes on the wire, GB in requests
    assert sample.memory_size_bytes % (1 << 30) == 0
    assert sample.info is not None
    assert sample.info.root_password
    assert sample.info.root_password not in repr(sample)
    [one] = await env.client.containers.list(uuid, container_uuid=sample.uuid).to_list()
    assert one.uuid == sample.uuid
    page = await env.client.containers.list_page(uuid, 1, 1, status=["running"])
    assert len(page.rows) == 1


async def test_containers_stop(env: Env) -> None:
    uuid = await running_replicaset(env, replicas=2)
    victim = env.sim.containers(uuid)[0].uuid
    await env.client.containers.stop(victim, decrease_one_replica_num=True)
    env.clock.advance(30)
    states = {c.uuid: c.status for c in env.sim.containers(uuid)}
    assert states[victim] == "shutdown"
    assert (await env.client.deployments.get(uuid)).replica_num == 1


async def test_events_list_and_page(env: Env) -> None:
    uuid = await running_replicaset(env, replicas=1)
    events = await env.client.events.list(uuid, page_size=3).to_list()
    logged = env.sim.events(uuid)
    assert [(e.deployment_container_uuid, e.status) for e in reversed(events)] == [
        (e.deployment_container_uuid, e.status) for e in logged
    ]
    page = await env.client.events.list_page(uuid, 1, 2, offset=1)
    assert [e.status for e in page.rows] == [e.status for e in events[1:3]]


async def test_blacklist_add_and_list(env: Env) -> None:
    uuid = await running_replicaset(env, replicas=1)
    container = env.sim.containers(uuid)[0]
    await env.client.blacklist.add(container.uuid, expire_in_minutes=60, comment="开机缓慢")
    [entry] = await env.client.blacklist.list()
    assert (entry.machine_id, entry.msg) == (container.machine_id, "开机缓慢")
    assert entry.expired_time is not None
    assert entry.created_at is not None
    assert (entry.expired_time - entry.created_at).total_seconds() == 3600


async def test_gpu_stock_get(env: Env) -> None:
    stock = await env.client.gpu_stock.get("westDC2")
    assert "RTX 4090" in stock
    s = stock["RTX 4090"]
    assert s.gpu_name == "RTX 4090"
    assert 0 <= s.idle_gpu_num <= s.total_gpu_num
    assert s.chip_corp
    assert s.cpu_arch
    await running_replicaset(env, replicas=2)
    after = await env.client.gpu_stock.get("westDC2", gpu_name_set=["RTX 4090"])
    used = sum(c.gpu_num for c in env.sim.containers() if c.data_center == "westDC2")
    assert after["RTX 4090"].idle_gpu_num == s.idle_gpu_num - used
    assert await env.client.gpu_stock.get("moonDC1") == {}


async def test_account_balance(env: Env) -> None:
    wallet = await env.client.account.balance()
    assert wallet.assets == env.sim.config.wallet_assets
    assert wallet.available_yuan == (wallet.assets - wallet.blocked_asset) / 1000


async def test_permission_gate_is_per_endpoint() -> None:
    config = SimulatorConfig(token="tok-personal", clock=VirtualClock(), enterprise_verified=False)
    async with Simulator(config) as sim, AutoDL(sim.token, base_url=sim.url) as client:
        assert await client.gpu_stock.get("westDC2")  # works for personal accounts
        assert await client.images.list().to_list() is not None
        with pytest.raises(PermissionDeniedError) as caught:
            await client.deployments.list().to_list()
        assert caught.value.msg == "无当前资源访问权限"


@pytest.mark.parametrize(
    ("wire", "names"),
    [
        ("westDC2", ["westDC2"]),
        ("westDC2, westDC3", ["westDC2", "westDC3"]),
        (["a", "b"], ["a", "b"]),
        (None, []),
    ],
)
def test_ddp_regions_read_either_wire_shape(wire: str | list[str] | None, names: list[str]) -> None:
    from autodl_async import DdpOverview

    assert DdpOverview(dc_list=wire).dc_names == names
