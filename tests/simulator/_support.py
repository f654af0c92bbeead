"""Test helpers: a raw-HTTP client for the simulator and doc-like request bodies.

Deliberately raw aiohttp, not the SDK: these tests pin the simulator to the wire format.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from autodl_async.simulator import DEFAULT_EPOCH, Simulator, SimulatorConfig, VirtualClock

DEV = "/api/v1/dev"
IMAGES = f"{DEV}/image/private/list"
DEPLOYMENT = f"{DEV}/deployment"
DEPLOYMENTS = f"{DEV}/deployment/list"
EVENTS = f"{DEV}/deployment/container/event/list"
CONTAINERS = f"{DEV}/deployment/container/list"
CONTAINER_STOP = f"{DEV}/deployment/container/stop"
REPLICA_NUM = f"{DEV}/deployment/replica_num"
OPERATE = f"{DEV}/deployment/operate"
BLACKLIST = f"{DEV}/deployment/blacklist"
GPU_STOCK = f"{DEV}/machine/region/gpu_stock"
WALLET = f"{DEV}/wallet/balance"
DDP = f"{DEV}/deployment/ddp/overview"

BASE_IMAGE = "base-image-l2t43iu6uk"
PARAM_WRONG = ("RequestParameterIsWrong", "请求参数错误")
NOT_FOUND = ("RecordNotFoundError", "未查询到相关记录")
NO_PERMISSION = ("BadRequest", "无当前资源访问权限")

# The doc's create sample, made valid and pointed at a public base image.
TEMPLATE: dict[str, Any] = {
    "dc_list": ["westDC2", "westDC3"],
    "gpu_name_set": ["RTX 4090"],
    "cuda_v_from": 113,
    "cuda_v_to": 128,
    "gpu_num": 1,
    "cpu_num_from": 1,
    "cpu_num_to": 100,
    "memory_size_from": 1,
    "memory_size_to": 256,
    "cmd": "sleep infinity",
    "price_from": 100,
    "price_to": 9000,
    "image_uuid": BASE_IMAGE,
}


def deployment_body(
    deployment_type: str = "ReplicaSet",
    *,
    replica_num: int | None = 1,
    parallelism_num: int | None = None,
    name: str = "api自动创建",
    **template: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "deployment_type": deployment_type,
        "container_template": {**copy.deepcopy(TEMPLATE), **template},
    }
    if replica_num is not None and deployment_type != "Container":
        body["replica_num"] = replica_num
    if parallelism_num is not None:
        body["parallelism_num"] = parallelism_num
    return body


@dataclass
class Reply:
    status: int
    json: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.json["code"])

    @property
    def error(self) -> tuple[str, str]:
        return self.json["code"], self.json["msg"]

    @property
    def data(self) -> Any:
        return self.json["data"]


class Api:
    def __init__(self, session: aiohttp.ClientSession, sim: Simulator) -> None:
        self.session = session
        self.sim = sim

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Reply:
        headers = {"Authorization": self.sim.token if token is None else token}
        async with self.session.request(
            method, self.sim.url + path, json=body, params=params, headers=headers
        ) as resp:
            assert resp.content_type == "application/json"
            return Reply(resp.status, await resp.json())

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        reply = await self.call(method, path, body, **kw)
        assert reply.status == 200
        assert reply.code == "Success", reply.json
        assert reply.json["msg"] == ""
        return reply.data

    async def create(self, body: dict[str, Any]) -> str:
        data = await self.ok("POST", DEPLOYMENT, body)
        return str(data["deployment_uuid"])

    async def containers(self, deployment_uuid: str, **filters: Any) -> list[dict[str, Any]]:
        body = {"deployment_uuid": deployment_uuid, "page_index": 1, "page_size": 1000, **filters}
        data = await self.ok("POST", CONTAINERS, body)
        return list(data["list"])

    async def events(self, deployment_uuid: str, **extra: Any) -> list[dict[str, Any]]:
        body = {"deployment_uuid": deployment_uuid, "page_index": 1, "page_size": 1000, **extra}
        data = await self.ok("POST", EVENTS, body)
        return list(data["list"])

    async def deployment(self, deployment_uuid: str) -> dict[str, Any]:
        body = {"page_index": 1, "page_size": 10, "deployment_uuid": deployment_uuid}
        data = await self.ok("POST", DEPLOYMENTS, body)
        assert len(data["list"]) == 1
        return dict(data["list"][0])

    async def stop(self, container_uuid: str, **extra: Any) -> None:
        await self.ok("PUT", CONTAINER_STOP, {"deployment_container_uuid": container_uuid, **extra})

    async def stock(self, region: str, **filters: Any) -> dict[str, dict[str, Any]]:
        data = await self.ok("POST", GPU_STOCK, {"region_sign": region, **filters})
        rows: dict[str, dict[str, Any]] = {}
        for row in data:
            assert len(row) == 1
            rows.update(row)
        return rows


@asynccontextmanager
async def running(config: SimulatorConfig) -> AsyncIterator[tuple[Simulator, Api]]:
    async with Simulator(config) as sim, aiohttp.ClientSession() as session:
        yield sim, Api(session, sim)


def statuses(containers: list[dict[str, Any]]) -> list[str]:
    return sorted(c["status"] for c in containers)


def advance_to(clock: VirtualClock, seconds: float) -> None:
    """Move the clock to `seconds` after the default epoch."""
    clock.advance(DEFAULT_EPOCH + seconds - clock.now())
