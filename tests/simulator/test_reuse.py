"""The account-wide reuse pool of shut-down containers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autodl_async.simulator import Simulator, VirtualClock

from ._support import OPERATE, Api, deployment_body

pytestmark = pytest.mark.anyio

FRESH = re.compile(r"(?P<dep>[0-9a-f]{10})-(?P<machine>[0-9a-f]{10})-[0-9a-f]{10}")


async def stopped_container(clock: VirtualClock, sim: Simulator, api: Api, **stop: Any) -> str:
    """A one-container deployment, run and stopped for good; returns the container uuid."""
    uuid = await api.create(deployment_body(dc_list=["westDC3"]))
    clock.advance(10)
    (container,) = sim.containers(uuid)
    await api.stop(container.uuid, decrease_one_replica_num=True, **stop)
    clock.advance(5)
    return container.uuid


def reusing(**template: Any) -> dict[str, Any]:
    body = deployment_body(dc_list=["westDC3"], **template)
    body["reuse_container"] = True
    return body


async def test_fresh_container_uuid_shape(sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body())
    (container,) = sim.containers(uuid)
    match = FRESH.fullmatch(container.uuid)
    assert match is not None
    assert match["dep"] == uuid
    assert match["machine"] == container.machine_id


async def test_new_deployment_takes_a_stopped_container_of_another(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    old = await stopped_container(clock, sim, api)
    new_dep = await api.create(reusing())
    (container,) = sim.containers(new_dep)
    assert re.fullmatch(re.escape(old) + r"-[0-9a-f]{9}", container.uuid)
    assert container.deployment_uuid == new_dep
    assert container.reused_from == old
    assert container.machine_id == old.split("-")[1]
    clock.advance(3)  # a reused container boots faster
    assert sim.containers(new_dep)[0].status == "running"
    listed = await api.containers(new_dep)
    assert listed[0]["uuid"] == container.uuid
    assert listed[0]["deployment_uuid"] == new_dep


async def test_lineage_keeps_its_root_uuid(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    root = await stopped_container(clock, sim, api)
    second = await api.create(reusing())
    clock.advance(10)
    (reused,) = sim.containers(second)
    await api.stop(reused.uuid, decrease_one_replica_num=True)
    clock.advance(5)
    third = await api.create(reusing())
    (again,) = sim.containers(third)
    assert again.uuid.startswith(root + "-")
    assert again.uuid.count("-") == root.count("-") + 1
    assert again.reused_from == reused.uuid


async def test_no_cache_keeps_a_container_out_of_the_pool(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    old = await stopped_container(clock, sim, api, no_cache=True)
    new_dep = await api.create(reusing())
    (container,) = sim.containers(new_dep)
    assert container.reused_from is None
    assert not container.uuid.startswith(old)


async def test_reuse_is_opt_in(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    await stopped_container(clock, sim, api)
    uuid = await api.create(deployment_body(dc_list=["westDC3"]))
    assert sim.containers(uuid)[0].reused_from is None


async def test_reuse_needs_the_same_image(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    await stopped_container(clock, sim, api)
    uuid = await api.create(reusing(image_uuid="base-image-u9r24vthlk"))
    assert sim.containers(uuid)[0].reused_from is None


async def test_scope_deployment_only_reuses_its_own(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    await stopped_container(clock, sim, api)
    body = reusing()
    body["reuse_container_scope"] = "deployment"
    uuid = await api.create(body)
    (first,) = sim.containers(uuid)
    assert first.reused_from is None
    clock.advance(10)
    await api.stop(first.uuid)  # replaced; the replacement cannot reuse it yet (shutting down)
    clock.advance(10)
    await api.stop(sim.containers(uuid)[1].uuid)
    replacement = sim.containers(uuid)[2]
    assert replacement.reused_from == first.uuid
    assert (await api.deployment(uuid))["reuse_container_scope"] == "deployment"


async def test_stopped_deployments_feed_the_pool(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body(dc_list=["westDC3"], replica_num=2))
    clock.advance(10)
    await api.ok("PUT", OPERATE, {"deployment_uuid": uuid, "operate": "stop"})
    clock.advance(5)
    new_dep = await api.create(reusing(replica_num=3))
    sources = [c.reused_from for c in sim.containers(new_dep)]
    assert sorted(s for s in sources if s) == sorted(sim.deployments()[0].container_uuids)
    assert sources.count(None) == 1


async def test_pool_keeps_containers_for_seven_days(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    await stopped_container(clock, sim, api)
    await stopped_container(clock, sim, api)
    clock.advance(7 * 86400 - 30)
    kept = await api.create(reusing())
    assert sim.containers(kept)[0].reused_from is not None
    clock.advance(60)
    expired = await api.create(reusing())
    assert sim.containers(expired)[0].reused_from is None
