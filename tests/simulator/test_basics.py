"""Envelope, authentication, permission gate, routing and body binding."""

from __future__ import annotations

import re

import aiohttp
import pytest

from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock

from ._support import (
    BLACKLIST,
    CONTAINER_STOP,
    CONTAINERS,
    DDP,
    DEPLOYMENT,
    DEPLOYMENTS,
    EVENTS,
    GPU_STOCK,
    IMAGES,
    NO_PERMISSION,
    OPERATE,
    PARAM_WRONG,
    REPLICA_NUM,
    WALLET,
    Api,
    deployment_body,
    running,
)

pytestmark = pytest.mark.anyio

HEX32 = re.compile(r"[0-9a-f]{32}")


async def test_success_envelope_has_code_msg_data_and_request_id(api: Api) -> None:
    reply = await api.call("POST", IMAGES, {"page_index": 1, "page_size": 10})
    assert reply.status == 200
    assert set(reply.json) == {"code", "msg", "data", "request_id"}
    assert reply.code == "Success"
    assert reply.json["msg"] == ""
    assert HEX32.fullmatch(reply.json["request_id"])


async def test_request_ids_differ_and_errors_carry_one(api: Api) -> None:
    a = await api.call("POST", IMAGES, {})
    b = await api.call("POST", DEPLOYMENT, {})
    assert b.error == PARAM_WRONG
    assert b.data is None
    assert HEX32.fullmatch(b.json["request_id"])
    assert a.json["request_id"] != b.json["request_id"]


async def test_seeded_request_ids_repeat_across_instances() -> None:
    ids = []
    for _ in range(2):
        async with running(SimulatorConfig(clock=VirtualClock(), seed=7)) as (_, api):
            ids.append((await api.call("POST", IMAGES, {})).json["request_id"])
    assert ids[0] == ids[1]


@pytest.mark.parametrize("token", ["", "wrong", "Bearer sim-token", "SIM-TOKEN"])
async def test_bad_token_is_http_401_envelope(api: Api, token: str) -> None:
    reply = await api.call("POST", IMAGES, {}, token=token)
    assert reply.status == 401
    assert reply.error == ("Unauthorized", "token无效或已过期")
    assert reply.data is None
    assert HEX32.fullmatch(reply.json["request_id"])


async def test_missing_authorization_header(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session, session.post(sim.url + IMAGES) as resp:
        assert resp.status == 401
        assert (await resp.json())["code"] == "Unauthorized"


async def test_business_auth_failure_mode_is_http_200() -> None:
    config = SimulatorConfig(clock=VirtualClock(), auth_failure="business", token="secret-xyz")
    async with running(config) as (sim, api):
        reply = await api.call("POST", DEPLOYMENTS, {}, token="nope")
        assert reply.status == 200
        assert reply.error == ("Unauthorized", "token无效或已过期")
        assert sim.requests[-1].outcome == "Unauthorized"


async def test_token_is_never_echoed_or_recorded() -> None:
    token = "tok-very-secret-123"
    async with running(SimulatorConfig(clock=VirtualClock(), token=token)) as (sim, api):
        uuid = await api.create(deployment_body())
        replies = [
            await api.call("POST", DEPLOYMENTS, {}),
            await api.call("POST", CONTAINERS, {"deployment_uuid": uuid}),
            await api.call("POST", IMAGES, {}, token="wrong"),
        ]
        for reply in replies:
            assert token not in str(reply.json)
        assert token not in repr(sim.requests)
        assert token not in repr(sim.config.clock)


GATED = [
    ("POST", DEPLOYMENT),
    ("POST", DEPLOYMENTS),
    ("POST", EVENTS),
    ("POST", CONTAINERS),
    ("PUT", CONTAINER_STOP),
    ("PUT", REPLICA_NUM),
    ("PUT", OPERATE),
    ("DELETE", DEPLOYMENT),
    ("POST", BLACKLIST),
    ("GET", BLACKLIST),
    ("GET", DDP),
]


async def test_permission_gate_blocks_deployment_endpoints() -> None:
    async with running(SimulatorConfig(clock=VirtualClock(), enterprise_verified=False)) as (
        _,
        api,
    ):
        for method, path in GATED:
            body = None if method == "GET" else deployment_body()
            reply = await api.call(method, path, body)
            assert reply.status == 200, path
            assert reply.error == NO_PERMISSION, path
            assert reply.data is None
        assert (await api.call("POST", IMAGES, {})).code == "Success"
        assert (await api.call("POST", GPU_STOCK, {"region_sign": "westDC2"})).code == "Success"
        assert (await api.call("POST", WALLET)).code == "Success"


async def test_auth_is_checked_before_the_permission_gate() -> None:
    async with running(SimulatorConfig(clock=VirtualClock(), enterprise_verified=False)) as (
        _,
        api,
    ):
        reply = await api.call("POST", DEPLOYMENTS, {}, token="bad")
        assert reply.status == 401


async def test_unknown_path_is_plain_404(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": sim.token}
        async with session.post(f"{sim.url}{DEPLOYMENT}/nope", headers=headers) as resp:
            assert resp.status == 404
            assert resp.content_type == "text/plain"
        async with session.get(f"{sim.url}/api/v1/dev/user/info", headers=headers) as resp:
            assert resp.status == 404
    assert [r.outcome for r in sim.requests] == [404, 404]


async def test_wrong_method_on_known_path_is_405(sim: Simulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(sim.url + DEPLOYMENTS, headers={"Authorization": sim.token}) as resp,
    ):
        assert resp.status == 405


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b'"text"', b'{"page_index": 1,}'],
    ids=["garbage", "array", "string", "trailing-comma"],
)
async def test_body_that_is_not_a_json_object_is_a_parameter_error(
    sim: Simulator, raw: bytes
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            sim.url + IMAGES,
            data=raw,
            headers={"Authorization": sim.token, "Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 200
        body = await resp.json()
    assert (body["code"], body["msg"]) == PARAM_WRONG
    assert sim.requests[-1].body is None


@pytest.mark.parametrize(
    "body",
    [
        {"page_index": "1"},
        {"page_size": 10.0},
        {"page_size": True},
        {"offset": -1},
        {"page_index": -1},
    ],
)
async def test_wrong_field_types_are_parameter_errors(api: Api, body: dict[str, object]) -> None:
    assert (await api.call("POST", IMAGES, body)).error == PARAM_WRONG


async def test_null_fields_count_as_absent(api: Api) -> None:
    data = await api.ok("POST", IMAGES, {"page_index": None, "page_size": None, "offset": None})
    assert (data["page_index"], data["page_size"], data["offset"]) == (1, 10, 0)


async def test_unknown_fields_are_ignored(api: Api) -> None:
    await api.ok("POST", IMAGES, {"page_index": 1, "page_size": 10, "surprise": [1]})


async def test_request_log_records_method_path_body_and_outcome(sim: Simulator, api: Api) -> None:
    await api.call("POST", IMAGES, {"page_index": 1})
    await api.call("PUT", OPERATE, {"deployment_uuid": "0000000000", "operate": "stop"})
    await api.call("GET", DDP, params={"deployment_uuid": "abc"})
    records = sim.requests
    assert [(r.method, r.path, r.outcome, r.fault) for r in records] == [
        ("POST", IMAGES, "Success", None),
        ("PUT", OPERATE, "RecordNotFoundError", None),
        ("GET", DDP, "RecordNotFoundError", None),
    ]
    assert records[0].body == {"page_index": 1}
    assert records[2].body == {"deployment_uuid": "abc"}
