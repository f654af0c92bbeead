"""List endpoints: pagination rules, filters and ordering."""

from __future__ import annotations

from typing import Any

import pytest

from autodl_async.simulator import Simulator, VirtualClock

from ._support import (
    CONTAINERS,
    DEPLOYMENTS,
    EVENTS,
    IMAGES,
    NOT_FOUND,
    PARAM_WRONG,
    Api,
    deployment_body,
)

pytestmark = pytest.mark.anyio


async def make_deployments(clock: VirtualClock, api: Api, count: int) -> list[str]:
    uuids = []
    for i in range(count):
        uuids.append(await api.create(deployment_body(name=f"dep-{i}")))
        clock.advance(1)
    return uuids


# -- pagination ---------------------------------------------------------------------------


async def test_pages_and_offset(clock: VirtualClock, api: Api) -> None:
    uuids = await make_deployments(clock, api, 7)
    newest_first = uuids[::-1]

    async def page(**body: Any) -> dict[str, Any]:
        data: dict[str, Any] = await api.ok("POST", DEPLOYMENTS, body)
        return data

    first = await page(page_index=1, page_size=3)
    assert [d["uuid"] for d in first["list"]] == newest_first[:3]
    assert (first["max_page"], first["result_total"], first["offset"]) == (3, 7, 0)
    third = await page(page_index=3, page_size=3)
    assert [d["uuid"] for d in third["list"]] == newest_first[6:]
    beyond = await page(page_index=4, page_size=3)
    assert beyond["list"] == []
    assert beyond["page_index"] == 4
    shifted = await page(page_index=2, page_size=3, offset=2)
    assert [d["uuid"] for d in shifted["list"]] == newest_first[5:7]
    assert (shifted["offset"], shifted["max_page"], shifted["result_total"]) == (2, 2, 7)
    past_end = await page(page_index=1, page_size=3, offset=50)
    assert (past_end["list"], past_end["max_page"]) == ([], 0)


async def test_page_zero_is_page_one(clock: VirtualClock, api: Api) -> None:
    await make_deployments(clock, api, 3)
    zero = await api.ok("POST", DEPLOYMENTS, {"page_index": 0, "page_size": 2})
    one = await api.ok("POST", DEPLOYMENTS, {"page_index": 1, "page_size": 2})
    assert zero["list"] == one["list"]
    assert zero["page_index"] == zero["page"] == 1


async def test_default_page_size_is_ten(clock: VirtualClock, api: Api) -> None:
    await make_deployments(clock, api, 12)
    for body in ({}, {"page_size": 0}):
        data = await api.ok("POST", DEPLOYMENTS, body)
        assert (len(data["list"]), data["page_size"], data["max_page"]) == (10, 10, 2)


async def test_empty_list_has_max_page_zero(api: Api) -> None:
    data = await api.ok("POST", DEPLOYMENTS, {"page_index": 1, "page_size": 10})
    assert data == {
        "list": [],
        "page_index": 1,
        "page_size": 10,
        "offset": 0,
        "max_page": 0,
        "result_total": 0,
        "page": 1,
    }


@pytest.mark.parametrize("body", [{"page_size": -1}, {"page_size": 1001}, {"offset": -3}])
async def test_bad_paging_is_rejected(api: Api, body: dict[str, int]) -> None:
    for path in (IMAGES, DEPLOYMENTS):
        assert (await api.call("POST", path, body)).error == PARAM_WRONG


async def test_image_list(sim: Simulator, api: Api) -> None:
    data = await api.ok("POST", IMAGES, {"page_index": 1, "page_size": 2})
    images = sim.images()
    assert data["list"] == [
        {"id": i.id, "image_name": i.image_name, "image_uuid": i.image_uuid} for i in images[:2]
    ]
    assert (data["max_page"], data["result_total"]) == (2, len(images))
    for image in images:
        assert image.image_uuid.startswith("image-")
        assert len(image.image_uuid) == len("image-") + 10


# -- deployment list ------------------------------------------------------------------------


async def test_deployment_filters(clock: VirtualClock, api: Api) -> None:
    a, b, c = await make_deployments(clock, api, 3)
    await api.ok("PUT", "/api/v1/dev/deployment/operate", {"deployment_uuid": b, "operate": "stop"})

    async def uuids(**body: Any) -> list[str]:
        data = await api.ok("POST", DEPLOYMENTS, {"page_index": 1, "page_size": 10, **body})
        return [d["uuid"] for d in data["list"]]

    assert await uuids() == [c, b, a]
    assert await uuids(status="running") == [c, a]
    assert await uuids(status="stopped") == [b]
    assert await uuids(status="") == [c, b, a]
    assert await uuids(name="dep-2") == [c]
    assert await uuids(name="dep") == []  # exact match only
    assert await uuids(deployment_uuid=a) == [a]
    assert await uuids(deployment_uuid="0000000000") == []
    assert (await api.call("POST", DEPLOYMENTS, {"status": "finished"})).error == PARAM_WRONG


# -- container list -------------------------------------------------------------------------


async def test_container_list_filters(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    uuid = await api.create(
        deployment_body(
            dc_list=["westDC3"], gpu_name_set=["RTX 4090", "RTX 3090"], replica_num=2, gpu_num=1
        )
    )
    clock.advance(3600)
    await api.ok(
        "PUT", "/api/v1/dev/deployment/replica_num", {"deployment_uuid": uuid, "replica_num": 3}
    )
    first, second, third = sim.containers(uuid)
    clock.advance(10)
    await api.stop(first.uuid, decrease_one_replica_num=True)
    clock.advance(5)

    async def listed(**filters: Any) -> list[str]:
        return [c["uuid"] for c in await api.containers(uuid, **filters)]

    assert await listed() == [third.uuid, second.uuid, first.uuid]  # newest first
    assert await listed(status=["running"]) == [third.uuid, second.uuid]
    assert await listed(status=["shutdown", "creating"]) == [first.uuid]
    assert await listed(status=[]) == await listed()
    assert await listed(released=True) == [first.uuid]
    assert await listed(released=False) == await listed()
    assert await listed(container_uuid=second.uuid) == [second.uuid]
    assert await listed(gpu_name="RTX 3090") == await listed()
    assert await listed(gpu_name="RTX 4090") == []
    assert await listed(cpu_num_from=14, cpu_num_to=14) == await listed()
    assert await listed(cpu_num_from=15) == []
    assert await listed(memory_size_from=45, memory_size_to=45) == await listed()
    assert await listed(memory_size_to=44) == []
    assert await listed(price_from=1580.0, price_to=1580.5) == await listed()
    assert await listed(price_to=1000) == []
    assert await listed(date_from="2026-09-01T11:00:00+08:00") == [third.uuid]
    assert await listed(date_to="2026-09-01 10:59:59") == [second.uuid, first.uuid]
    assert await listed(date_from="2026-09-01", date_to="2026-09-01") == await listed()
    assert await listed(date_to="2026-08-31") == []


async def test_doc_container_list_example_body(clock: VirtualClock, api: Api) -> None:
    """The doc's Python example sends zeros and empty strings for "no filter"."""
    uuid = await api.create(deployment_body())
    clock.advance(10)
    body = {
        "deployment_uuid": uuid,
        "container_uuid": "",
        "date_from": "",
        "date_to": "",
        "gpu_name": "",
        "cpu_num_from": 0,
        "cpu_num_to": 0,
        "memory_size_from": 0,
        "memory_size_to": 0,
        "price_from": 0,
        "price_to": 0,
        "released": False,
        "status": ["running"],
        "page_index": 1,
        "page_size": 10,
    }
    data = await api.ok("POST", CONTAINERS, body)
    assert len(data["list"]) == 1


@pytest.mark.parametrize(
    "filters",
    [
        {"date_from": "yesterday"},
        {"status": "running"},
        {"released": "true"},
        {"price_from": "1"},
        {"cpu_num_from": -1},
    ],
)
async def test_container_list_bad_filters(api: Api, filters: dict[str, Any]) -> None:
    uuid = await api.create(deployment_body())
    reply = await api.call("POST", CONTAINERS, {"deployment_uuid": uuid, **filters})
    assert reply.error == PARAM_WRONG


async def test_container_list_needs_a_known_deployment(api: Api) -> None:
    assert (await api.call("POST", CONTAINERS, {})).error == PARAM_WRONG
    reply = await api.call("POST", CONTAINERS, {"deployment_uuid": "ffffffffff"})
    assert reply.error == NOT_FOUND


async def test_container_info(sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=2))
    a, b = await api.containers(uuid)
    for c in (a, b):
        info = c["info"]
        port = int(info["ssh_command"].split("-p ")[1].split()[0])
        assert info["ssh_command"] == f"ssh -p {port} root@{info['proxy_host']}"
        assert info["service_url"].startswith("https://")
        assert isinstance(info["custom_port"], int)
        assert len(info["root_password"]) >= 8
        assert c["version"] == ""
    assert a["info"]["root_password"] != b["info"]["root_password"]


# -- events ------------------------------------------------------------------------------------


async def test_event_paging_and_container_filter(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body(replica_num=2))
    clock.advance(10)
    everything = await api.events(uuid)
    assert len(everything) == 10
    page = await api.ok(
        "POST", EVENTS, {"deployment_uuid": uuid, "page_index": 2, "page_size": 4, "offset": 1}
    )
    assert page["list"] == everything[5:9]
    assert (page["max_page"], page["result_total"], page["offset"]) == (3, 10, 1)
    first = sim.containers(uuid)[0].uuid
    mine = await api.events(uuid, deployment_container_uuid=first)
    assert len(mine) == 5
    assert {e["deployment_container_uuid"] for e in mine} == {first}
    assert await api.events(uuid, deployment_container_uuid="nope") == []
    assert await api.events(uuid, deployment_container_uuid="") == everything


async def test_event_list_doc_python_example(clock: VirtualClock, api: Api) -> None:
    uuid = await api.create(deployment_body())
    clock.advance(10)
    body = {
        "deployment_uuid": uuid,
        "deployment_container_uuid": "",
        "page_index": 0,
        "page_size": 10,
    }
    data = await api.ok("POST", EVENTS, body)
    assert len(data["list"]) == 5


async def test_event_list_needs_a_known_deployment(api: Api) -> None:
    assert (await api.call("POST", EVENTS, {"page_index": 1})).error == PARAM_WRONG
    reply = await api.call("POST", EVENTS, {"deployment_uuid": "da497aea1eb8343"})
    assert reply.error == NOT_FOUND
