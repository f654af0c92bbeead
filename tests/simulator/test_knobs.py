"""Config knobs for the field notes' open questions and for account states."""

from __future__ import annotations

from typing import Any

import pytest

from autodl_async.simulator import SimulatorConfig, VirtualClock

from ._support import (
    BLACKLIST,
    DDP,
    DEPLOYMENT,
    DEPLOYMENTS,
    GPU_STOCK,
    IMAGES,
    Api,
    deployment_body,
    running,
)

pytestmark = pytest.mark.anyio

NO_STOCK = ("InternalError", "当前算力规格暂无库存, 请修改配置或稍等再试")
NOT_REAL_NAME = ("TORealName", "未完成实名认证,认证后才可使用")
# H20 hosts exist, but not in westDC2 (see the catalog): no host can ever run this.
NEVER_FITS: dict[str, Any] = {"dc_list": ["westDC2"], "gpu_name_set": ["H20"]}


def config(**fields: Any) -> SimulatorConfig:
    return SimulatorConfig(clock=VirtualClock(), **fields)


async def test_an_unschedulable_template_waits_by_default(api: Api) -> None:
    uuid = await api.create(deployment_body(**NEVER_FITS))
    assert await api.containers(uuid) == []
    assert (await api.deployment(uuid))["starting_num"] == 0


async def test_unschedulable_reject_refuses_at_create_time() -> None:
    async with running(config(unschedulable="reject")) as (sim, api):
        reply = await api.call("POST", DEPLOYMENT, deployment_body(**NEVER_FITS))
        assert (reply.status, reply.error, reply.data) == (200, NO_STOCK, None)
        assert sim.deployments() == ()
        # A template that fits the fleet is accepted even when every fitting host is busy.
        big = deployment_body(dc_list=["westDC2"], replica_num=200)
        await api.create(big)
        await api.create(deployment_body(dc_list=["westDC2"]))
        assert len(sim.deployments()) == 2


async def test_real_name_gate_only_blocks_create() -> None:
    async with running(config(real_name_verified=False)) as (sim, api):
        reply = await api.call("POST", DEPLOYMENT, deployment_body())
        assert (reply.status, reply.error, reply.data) == (200, NOT_REAL_NAME, None)
        assert sim.deployments() == ()
        await api.ok("POST", DEPLOYMENTS, {})
        await api.ok("POST", IMAGES, {})


async def test_enterprise_gate_wins_over_the_real_name_gate() -> None:
    async with running(config(real_name_verified=False, enterprise_verified=False)) as (_, api):
        reply = await api.call("POST", DEPLOYMENT, deployment_body())
        assert reply.error == ("BadRequest", "无当前资源访问权限")


@pytest.mark.parametrize(
    ("mode", "status"), [("http401", 401), ("http403", 403), ("business", 200)]
)
async def test_auth_failure_shapes(mode: str, status: int) -> None:
    async with running(config(auth_failure=mode)) as (_, api):
        reply = await api.call("POST", GPU_STOCK, {"region_sign": "westDC2"}, token="wrong")
    assert (reply.status, reply.error, reply.data) == (
        status,
        ("Unauthorized", "token无效或已过期"),
        None,
    )


@pytest.mark.parametrize(("shape", "dc_list"), [("string", "westDC2"), ("list", ["westDC2"])])
async def test_ddp_dc_list_shape(shape: str, dc_list: object) -> None:
    async with running(config(ddp_dc_list=shape)) as (_, api):
        (row,) = await api.ok("GET", DDP)
    assert row["dc_list"] == dc_list


async def _stop_with_no_cache_then_reuse(clock: VirtualClock, api: Api) -> tuple[str, str]:
    first = await api.create(deployment_body(dc_list=["westDC3"]))
    clock.advance(10)
    (container,) = await api.containers(first)
    await api.stop(container["uuid"], decrease_one_replica_num=True, no_cache=True)
    clock.advance(5)
    body = deployment_body(dc_list=["westDC3"])
    body["reuse_container"] = True
    second = await api.create(body)
    (taken,) = await api.containers(second)
    return container["uuid"], taken["uuid"]


async def test_no_cache_is_honoured_by_default() -> None:
    clock = VirtualClock()
    async with running(SimulatorConfig(clock=clock)) as (_, api):
        old, new = await _stop_with_no_cache_then_reuse(clock, api)
    assert not new.startswith(old)


async def test_no_cache_can_leak_as_seen_live() -> None:
    clock = VirtualClock()
    async with running(SimulatorConfig(clock=clock, honour_no_cache=False)) as (sim, api):
        old, new = await _stop_with_no_cache_then_reuse(clock, api)
        assert new.startswith(old + "-")
        # ... and even a no_cache stop of an already shut-down container leaves it pooled.
        await api.stop(new, no_cache=True)
        clock.advance(10)
        await api.stop(new, no_cache=True)
        assert new in {c.uuid for c in sim.reuse_pool()}


@pytest.mark.parametrize(("shape", "empty"), [("list", []), ("null", None)])
async def test_blacklist_empty_shape(shape: str, empty: object) -> None:
    async with running(config(blacklist_empty=shape)) as (_, api):
        reply = await api.call("GET", BLACKLIST)
    assert (reply.status, reply.code, reply.data) == (200, "Success", empty)
