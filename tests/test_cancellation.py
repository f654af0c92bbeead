"""Cancellation at any await leaves no connection behind, and the client keeps working.

A call is started and cancelled after 0, 1, 2, ... event-loop steps, until the call is fast
enough to finish first: that walks the cancellation through every await of its life (waiting
to start, queueing for and opening a connection, writing, waiting for headers, reading a body
the server dribbles out in chunks). After each cancellation the pool must have no connection
acquired, and the next call on the same client must get the right answer (not the rest of the
cancelled one's). Retry backoff and the client-wide 429 pause are cancelled separately.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import msgspec
import pytest
from aiohttp import web

from autodl_async import AutoDL, ContainerTemplate
from benchmarks.bench_load import acquired_connections
from tests.scripted import TOKEN, ScriptedServer, success

pytestmark = pytest.mark.anyio

IMAGES = [{"id": i, "image_uuid": f"image-{i:04d}", "name": f"img-{i}"} for i in range(120)]
BODY = success({"list": IMAGES, "max_page": 1})
CHUNK = 256
MAX_STEPS = 400


@contextlib.contextmanager
def no_resource_warnings() -> Iterator[None]:
    """Fails if anything (a session, a connector, a socket) was left unclosed."""
    with warnings.catch_warnings():  # garbage of earlier tests is not this test's to report
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


class Dribbler:
    """Answers with ``body`` in chunks, yielding between them; records how far each got."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.progress: list[int] = []  # chunks written per request, updated as it goes

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        index = len(self.progress)
        self.progress.append(0)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(self.body)
        with contextlib.suppress(ConnectionError):  # the client went away: what is tested
            for _ in range(5):  # "thinking": the request is in, no answer yet
                await anyio.lowlevel.checkpoint()
            await response.prepare(request)
            for start in range(0, len(self.body), CHUNK):
                await response.write(self.body[start : start + CHUNK])
                self.progress[index] += 1
                await anyio.lowlevel.checkpoint()
            await response.write_eof()
        return response


async def _cancel_after(steps: int, call: Callable[[], Awaitable[Any]]) -> bool:
    """Run ``call``, cancelling it after ``steps`` loop iterations; whether it finished."""
    finished = False
    scope = anyio.CancelScope()

    async def run() -> None:
        nonlocal finished
        with scope:
            await call()
            finished = True

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        for _ in range(steps):
            await anyio.lowlevel.checkpoint()
        scope.cancel()
    return finished


async def _walk(
    client: AutoDL, server: Dribbler, call: Callable[[], Awaitable[Any]], check: Callable[[], Any]
) -> tuple[int, set[int]]:
    """Cancel ``call`` at every step until it finishes thrice in a row.

    Returns how many steps cancelled it, and the server's progress (chunks written) seen at
    those cancellations: -1 for "the request never reached the server".
    """
    cancelled, reached = 0, set()
    finished_in_a_row = 0
    for steps in range(MAX_STEPS):
        before = len(server.progress)
        if await _cancel_after(steps, call):
            finished_in_a_row += 1
            if finished_in_a_row == 3:
                break
        else:
            finished_in_a_row = 0
            cancelled += 1
            reached.add(server.progress[before] if len(server.progress) > before else -1)
        assert acquired_connections(client) == 0, f"a connection leaked at step {steps}"
        await check()  # the pool still works, and gives the right answer
    else:
        pytest.fail(f"the call never finished within {MAX_STEPS} steps")
    return cancelled, reached


async def test_cancelling_a_read_at_every_step() -> None:
    dribbler = Dribbler(BODY)
    expected = [image["image_uuid"] for image in IMAGES]

    async def check() -> None:
        page = await client.images.list_page()
        assert [image.image_uuid for image in page.rows] == expected

    with no_resource_warnings():
        async with ScriptedServer() as scripted:
            scripted.handler = dribbler
            async with AutoDL(TOKEN, base_url=scripted.url) as client:
                cancelled, reached = await _walk(client, dribbler, client.images.list_page, check)
                assert client.stats.retries == 0  # a cancelled call is not retried
    chunks = -(-len(BODY) // CHUNK)
    print(f"read cancelled at {cancelled} steps; server progress seen {sorted(reached)}")
    assert cancelled >= 20
    assert -1 in reached  # before the request left
    assert 0 in reached  # sent, no answer yet
    assert {k for k in reached if 0 < k < chunks}, reached  # in the middle of the body


async def test_cancelling_a_create_at_every_step() -> None:
    """A cancelled create is never re-sent by the SDK; the connection is not leaked."""
    dribbler = Dribbler(success({"deployment_uuid": "abc1234567"}) + b" " * 2048)

    def create() -> Awaitable[str]:
        return client.deployments.create(
            name="cancelled",
            deployment_type="ReplicaSet",
            replica_num=1,
            template=ContainerTemplate(
                dc_list=["westDC2"],
                gpu_name_set=["RTX 4090"],
                cuda_v_from=118,
                cuda_v_to=128,
                cmd="sleep 1",
                image_uuid="image-db8346e037",
            ),
        )

    async def check() -> None:
        assert await create() == "abc1234567"

    with no_resource_warnings():
        async with ScriptedServer() as scripted:
            scripted.handler = dribbler
            async with AutoDL(TOKEN, base_url=scripted.url) as client:
                cancelled, reached = await _walk(client, dribbler, create, check)
                assert client.stats.retries == 0
            posts = [s for s in scripted.seen if s.method == "POST"]
    print(f"create cancelled at {cancelled} steps; server progress seen {sorted(reached)}")
    assert cancelled >= 10
    assert {-1, 0} <= reached
    # One POST per started create: each cancelled one at most once, each check once.
    assert len(posts) <= client.stats.requests


class BlockingSleep:
    """An injectable sleep that, while ``block`` is set, never returns until cancelled."""

    def __init__(self) -> None:
        self.block = True
        self.entered = anyio.Event()
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.block:
            self.entered.set()
            await anyio.sleep_forever()
        await anyio.lowlevel.checkpoint()


async def test_cancelling_during_retry_backoff() -> None:
    sleep = BlockingSleep()
    with no_resource_warnings():
        async with ScriptedServer() as scripted:
            scripted.push("<html>503</html>", status=503, content_type="text/html")
            scripted.push(BODY)
            async with AutoDL(TOKEN, base_url=scripted.url, sleep=sleep) as client:
                with anyio.CancelScope() as scope:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(client.images.list_page)
                        await sleep.entered.wait()  # the 503 was read; now backing off
                        assert acquired_connections(client) == 0
                        scope.cancel()
                assert scope.cancelled_caught
                assert len(scripted.seen) == 1  # cancelled before the retry was sent
                assert acquired_connections(client) == 0
                sleep.block = False
                page = await client.images.list_page()  # the queued success
                assert len(page.rows) == len(IMAGES)
                assert client.stats.retries == 1


async def test_cancelling_during_the_clients_429_pause() -> None:
    sleep = BlockingSleep()
    now = [0.0]
    with no_resource_warnings():
        async with ScriptedServer() as scripted:
            scripted.push(BODY)
            async with AutoDL(
                TOKEN, base_url=scripted.url, sleep=sleep, clock=lambda: now[0]
            ) as client:
                client.throttle.on_rate_limited(30.0)  # another call saw a 429
                with anyio.CancelScope() as scope:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(client.images.list_page)
                        await sleep.entered.wait()  # waiting out the pause
                        scope.cancel()
                assert scope.cancelled_caught
                assert scripted.seen == []  # nothing was sent
                assert sleep.calls == [30.0]
                assert acquired_connections(client) == 0
                now[0] += 30.0  # the pause is over
                sleep.block = False
                page = await client.images.list_page()
                assert msgspec.to_builtins(page.rows[0])["image_uuid"] == "image-0000"
