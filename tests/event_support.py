"""Helpers for the event-stream tests: virtual time, a simulator with a client, a list server.

Virtual time: the client gets ``sleep``/``clock`` bound to the simulator's ``VirtualClock``;
a sleep moves the clock forward (to the latest wake-up anyone asked for) and yields, so a
stream that polls every second for an hour runs in milliseconds. ``on_sleep`` hooks run each
time the clock moves: that is where tests make events "arrive between two polls".

``ListServer`` is a deliberately simple events endpoint for behaviour no faithful simulator
has (a server that ignores ``page_index``, rows out of order, a list trimmed under the
cursor); it answers through ``tests/scripted.py`` over real HTTP.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import anyio.lowlevel
import msgspec
from aiohttp import web

from autodl_async import AutoDL, ContainerEvent, ContainerTemplate, RetryPolicy
from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock
from tests.scripted import ScriptedServer, success

CST = timezone(timedelta(hours=8))
EVENTS_PATH = "/api/v1/dev/deployment/container/event/list"
Key = tuple[str, str]


class VirtualTime:
    """``sleep`` and ``clock`` for a client, on a simulator's virtual clock."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock_source = clock
        self.on_sleep: list[Callable[[], None]] = []
        self.sleeps = 0

    def clock(self) -> float:
        return self.clock_source.now()

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        if seconds > 0:
            self.clock_source.advance(seconds)
            for hook in list(self.on_sleep):
                hook()
        await anyio.lowlevel.checkpoint()


def template(cmd: str = "sleep infinity", regions: list[str] | None = None) -> ContainerTemplate:
    return ContainerTemplate(
        image_uuid="base-image-l2t43iu6uk",
        cmd=cmd,
        gpu_name_set=["RTX 4090"],
        gpu_num=1,
        cuda_v_from=113,
        cuda_v_to=128,
        dc_list=regions or ["westDC2", "westDC3"],
    )


@dataclass
class World:
    """A simulator on virtual time and a client wired to it."""

    sim: Simulator
    time: VirtualTime
    client: AutoDL

    @property
    def clock(self) -> VirtualClock:
        return self.time.clock_source

    async def deployment(
        self, replicas: int = 1, *, name: str = "events", boot: bool = True
    ) -> str:
        uuid = await self.client.deployments.create(
            name=name, deployment_type="ReplicaSet", replica_num=replicas, template=template()
        )
        if boot:
            self.clock.advance(10)  # every replica reaches running
        return uuid

    def log(self, deployment_uuid: str) -> list[Key]:
        return [(e.deployment_container_uuid, e.status) for e in self.sim.events(deployment_uuid)]


@contextlib.asynccontextmanager
async def open_world(
    *, client_kwargs: dict[str, Any] | None = None, **config: Any
) -> AsyncIterator[World]:
    clock = VirtualClock()
    vt = VirtualTime(clock)
    settings = {"token": "sim-token-events", "machines_per_region": 16, **config}
    kwargs: dict[str, Any] = {
        "retry": RetryPolicy(max_attempts=3, backoff_base=0.05),
        "timeout": 10.0,
        **(client_kwargs or {}),
    }
    async with (
        Simulator(SimulatorConfig(clock=clock, **settings)) as sim,
        AutoDL(sim.token, base_url=sim.url, sleep=vt.sleep, clock=vt.clock, **kwargs) as client,
    ):
        yield World(sim, vt, client)


def keys(events: Iterable[ContainerEvent]) -> list[Key]:
    return [(e.deployment_container_uuid, e.status) for e in events]


async def collect(stream: AsyncIterator[ContainerEvent], limit: int | None = None) -> list[Key]:
    """Events until the stream ends (or ``limit`` of them), as keys."""
    out: list[Key] = []
    async for event in stream:
        out.append((event.deployment_container_uuid, event.status))
        if limit is not None and len(out) >= limit:
            break
    return out


# -- an adversarial list server ----------------------------------------------------------------


@dataclass
class ListServer:
    """Serves ``events`` (oldest first, as ``(container, status, unix second)``) as an events
    endpoint, paged by ``page_index``/``page_size``, sorted as ``order`` says."""

    events: list[tuple[str, str, int]] = field(default_factory=list)
    order: str = "newest_first"
    totals: bool = True
    ignore_page_index: bool = False
    #: Tie order within a second opposite to the list's (e.g. a newest-first list whose
    #: same-second rows come oldest first), so a new row can land *below* older ones.
    ties_reversed: bool = False
    #: Containers whose rows are sent with ``created_at: null``.
    untimed: set[str] = field(default_factory=set)
    #: Called before each answer, with the request's page index (to change the list).
    before_answer: Callable[[int], None] | None = None
    requests: int = 0

    def add(self, count: int, second: int, prefix: str = "c") -> None:
        start = len(self.events)
        self.events.extend((f"{prefix}{start + i:05d}", "running", second) for i in range(count))

    def rows(self) -> list[tuple[str, str, int]]:
        newest_first = self.order == "newest_first"
        if not self.ties_reversed:
            return self.events[::-1] if newest_first else list(self.events)
        indexed = list(enumerate(self.events))
        if newest_first:  # seconds descending, ties oldest first
            indexed.sort(key=lambda item: (-item[1][2], item[0]))
        else:  # seconds ascending, ties newest first
            indexed.sort(key=lambda item: (item[1][2], -item[0]))
        return [event for _, event in indexed]

    async def handle(self, request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read())
        page_index = max(int(body.get("page_index", 1)), 1)
        size = int(body.get("page_size", 10))
        self.requests += 1
        if self.before_answer is not None:
            self.before_answer(page_index)
        rows = self.rows()
        start = 0 if self.ignore_page_index else (page_index - 1) * size
        data: dict[str, Any] = {
            "list": [
                {
                    "deployment_container_uuid": c,
                    "status": s,
                    "created_at": None
                    if c in self.untimed
                    else datetime.fromtimestamp(t, CST).isoformat(),
                }
                for c, s, t in rows[start : start + size]
            ],
            "page_index": page_index,
            "page_size": size,
            "offset": 0,
            "max_page": -(-len(rows) // size),
        }
        if self.totals:
            data["result_total"] = len(rows)
        return web.Response(body=success(data), content_type="application/json")


@contextlib.asynccontextmanager
async def serve_list(server: ListServer) -> AsyncIterator[AutoDL]:
    """A client (on virtual time) talking to ``server`` over loopback."""
    vt = VirtualTime(VirtualClock())
    async with ScriptedServer() as scripted:
        scripted.handler = server.handle
        async with AutoDL(
            "list-server-token",
            base_url=scripted.url,
            sleep=vt.sleep,
            clock=vt.clock,
            retry=RetryPolicy.never(),
        ) as client:
            yield client
