"""Scheduling blacklist: set, update, list, expiry and the empty-list shape knob."""

from __future__ import annotations

import pytest

from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock

from ._support import BLACKLIST, NOT_FOUND, PARAM_WRONG, Api, deployment_body, running

pytestmark = pytest.mark.anyio


async def container_uuid(sim: Simulator, api: Api, region: str = "westDC3") -> str:
    uuid = await api.create(deployment_body(dc_list=[region]))
    return sim.containers(uuid)[0].uuid


async def test_set_and_list(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    target = await container_uuid(sim, api)
    body = {
        "deployment_container_uuid": target,
        "expire_in_minutes": 60,
        "comment": "开机缓慢，禁止在该主机上调度容器",
    }
    assert await api.ok("POST", BLACKLIST, body) is None
    (entry,) = await api.ok("GET", BLACKLIST)
    container = sim.containers()[0]
    assert entry == {
        "created_at": "2026-09-01T10:00:00+08:00",
        "updated_at": "2026-09-01T10:00:00+08:00",
        "data_center": "westDC3",
        "expired_time": "2026-09-01T11:00:00+08:00",
        "machine_id": container.machine_id,
        "msg": "开机缓慢，禁止在该主机上调度容器",
    }
    (snapshot,) = sim.blacklist()
    assert snapshot.machine_id == container.machine_id


async def test_default_expiry_is_a_day(sim: Simulator, api: Api) -> None:
    target = await container_uuid(sim, api)
    await api.ok("POST", BLACKLIST, {"deployment_container_uuid": target})
    (entry,) = await api.ok("GET", BLACKLIST)
    assert entry["expired_time"] == "2026-09-02T10:00:00+08:00"
    assert entry["msg"] == ""


async def test_setting_again_updates_time_and_expiry(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    target = await container_uuid(sim, api)
    await api.ok("POST", BLACKLIST, {"deployment_container_uuid": target, "expire_in_minutes": 10})
    clock.advance(5 * 60)
    await api.ok(
        "POST",
        BLACKLIST,
        {"deployment_container_uuid": target, "expire_in_minutes": 30, "comment": "again"},
    )
    (entry,) = await api.ok("GET", BLACKLIST)
    assert entry["created_at"] == "2026-09-01T10:00:00+08:00"
    assert entry["updated_at"] == "2026-09-01T10:05:00+08:00"
    assert entry["expired_time"] == "2026-09-01T10:35:00+08:00"
    assert entry["msg"] == "again"
    clock.advance(10 * 60)  # the first expiry has passed, the new one has not
    assert len(await api.ok("GET", BLACKLIST)) == 1


async def test_one_entry_per_machine_newest_first(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    first = await container_uuid(sim, api, "westDC3")
    clock.advance(1)
    second = await container_uuid(sim, api, "beijingDC1")
    for target in (first, second):
        await api.ok("POST", BLACKLIST, {"deployment_container_uuid": target})
    entries = await api.ok("GET", BLACKLIST)
    assert [e["data_center"] for e in entries] == ["beijingDC1", "westDC3"]


async def test_entries_expire(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    target = await container_uuid(sim, api)
    await api.ok("POST", BLACKLIST, {"deployment_container_uuid": target, "expire_in_minutes": 1})
    clock.advance(59)
    assert len(await api.ok("GET", BLACKLIST)) == 1
    clock.advance(1)
    assert await api.ok("GET", BLACKLIST) == []
    assert sim.blacklist() == ()


async def test_empty_blacklist_can_be_null() -> None:
    config = SimulatorConfig(clock=VirtualClock(), blacklist_empty="null")
    async with running(config) as (_, api):
        reply = await api.call("GET", BLACKLIST)
        assert reply.code == "Success"
        assert reply.data is None


@pytest.mark.parametrize("minutes", [-1, 43201, "60", 1.5])
async def test_expiry_validation(sim: Simulator, api: Api, minutes: object) -> None:
    target = await container_uuid(sim, api)
    body = {"deployment_container_uuid": target, "expire_in_minutes": minutes}
    assert (await api.call("POST", BLACKLIST, body)).error == PARAM_WRONG


async def test_thirty_days_is_the_maximum(sim: Simulator, api: Api) -> None:
    target = await container_uuid(sim, api)
    body = {"deployment_container_uuid": target, "expire_in_minutes": 43200}
    await api.ok("POST", BLACKLIST, body)
    (entry,) = await api.ok("GET", BLACKLIST)
    assert entry["expired_time"] == "2026-10-01T10:00:00+08:00"


async def test_unknown_container(api: Api) -> None:
    body = {"deployment_container_uuid": "da497aea1eb8343-f94411a60c-1502e6e2"}
    assert (await api.call("POST", BLACKLIST, body)).error == NOT_FOUND
    assert (await api.call("POST", BLACKLIST, {})).error == PARAM_WRONG
