"""Wallet balance and the ddp (duration package) overview."""

from __future__ import annotations

import pytest

from autodl_async.simulator import DdpPackage, SimulatorConfig, VirtualClock

from ._support import DDP, NOT_FOUND, OPERATE, WALLET, Api, deployment_body, running

pytestmark = pytest.mark.anyio


async def test_wallet_starts_full(api: Api) -> None:
    data = await api.ok("POST", WALLET)
    assert data["assets"] == data["total_recharge_asset"] == 500_000
    assert (data["blocked_asset"], data["accumulate"]) == (0, 0)
    assert data["updated_at"] == "2026-09-01T10:00:00+08:00"


async def test_wallet_is_charged_from_running_to_shutdown(clock: VirtualClock, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=2))  # 2 x RTX 4090 at 1980/h
    clock.advance(6 + 3600)
    data = await api.ok("POST", WALLET)
    assert data["accumulate"] == 2 * 1980
    assert data["assets"] == 500_000 - 2 * 1980
    await api.ok("PUT", OPERATE, {"deployment_uuid": uuid, "operate": "stop"})
    clock.advance(7200)
    data = await api.ok("POST", WALLET)
    assert data["accumulate"] == round(2 * 1980 * (3600 + 2) / 3600)


async def test_wallet_ignores_a_body(api: Api) -> None:
    await api.ok("POST", WALLET, {"anything": 1})


async def test_ddp_overview(clock: VirtualClock, api: Api) -> None:
    data = await api.ok("GET", DDP)
    assert data == [
        {"gpu_type": "RTX 4090", "total": 360000, "balance": 360000, "dc_list": "westDC2"}
    ]
    uuid = await api.create(deployment_body(dc_list=["westDC2"], gpu_num=2))
    clock.advance(6 + 100)
    (row,) = await api.ok("GET", DDP, params={"deployment_uuid": uuid})
    assert row["balance"] == 360000 - 2 * 100


async def test_ddp_is_limited_to_the_deployment_gpu_models() -> None:
    packages = (
        DdpPackage("RTX 4090", total=100, balance=50, dc_list=("westDC2", "westDC3")),
        DdpPackage("L20", total=10, balance=10, dc_list=("beijingDC4",)),
    )
    async with running(SimulatorConfig(clock=VirtualClock(), ddp_packages=packages)) as (_, api):
        assert len(await api.ok("GET", DDP)) == 2
        uuid = await api.create(deployment_body())
        (row,) = await api.ok("GET", DDP, params={"deployment_uuid": uuid})
        assert row == {
            "gpu_type": "RTX 4090",
            "total": 100,
            "balance": 50,
            "dc_list": "westDC2,westDC3",
        }


async def test_ddp_unknown_deployment(api: Api) -> None:
    reply = await api.call("GET", DDP, params={"deployment_uuid": "ffffffffff"})
    assert reply.error == NOT_FOUND
