"""The Simulator object itself: start/stop, snapshots, reset, clocks, config, standalone."""

from __future__ import annotations

import asyncio
import re
import threading
import urllib.request
from dataclasses import FrozenInstanceError

import pytest

from autodl_async.simulator import (
    DEFAULT_EPOCH,
    FaultRule,
    Simulator,
    SimulatorConfig,
    Timings,
    VirtualClock,
    WallClock,
    run_standalone,
)
from autodl_async.simulator.__main__ import build_config

from ._support import IMAGES, Api, deployment_body, running

pytestmark = pytest.mark.anyio


async def test_url_and_token(sim: Simulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sim.url)
    assert sim.token == "sim-token"


async def test_start_stop_lifecycle() -> None:
    sim = Simulator(SimulatorConfig(clock=VirtualClock()))
    with pytest.raises(RuntimeError):
        _ = sim.url
    await sim.start()
    try:
        with pytest.raises(RuntimeError):
            await sim.start()
    finally:
        await sim.stop()
    await sim.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = sim.url


async def test_two_simulators_get_distinct_ports() -> None:
    async with (
        running(SimulatorConfig(clock=VirtualClock())) as (a, _),
        running(SimulatorConfig(clock=VirtualClock())) as (b, _),
    ):
        assert a.url != b.url


async def test_serve_forever_stops_on_cancel() -> None:
    sim = Simulator(SimulatorConfig(clock=VirtualClock()))
    task = asyncio.create_task(sim.serve_forever())
    for _ in range(1000):  # yield to the loop until the server is up; no wall-clock sleeping
        await asyncio.sleep(0)
        try:
            url = sim.url
        except RuntimeError:
            continue
        break
    assert url.startswith("http://")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(RuntimeError):
        _ = sim.url


async def test_reset_returns_to_a_fresh_account(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    first = await api.create(deployment_body())
    clock.advance(10)
    sim.faults.add(FaultRule(kind="status", path="/nowhere"))
    await api.ok(
        "POST",
        "/api/v1/dev/deployment/blacklist",
        {"deployment_container_uuid": sim.containers()[0].uuid},
    )
    sim.reset()
    assert sim.deployments(include_deleted=True) == ()
    assert sim.containers() == ()
    assert sim.blacklist() == ()
    assert sim.requests == ()
    assert len(sim.faults) == 0
    assert all(m.gpu_idle == m.gpu_total for m in sim.machines())
    assert await api.create(deployment_body()) == first  # ids replay from the seed
    assert sim.containers()[0].created_at == clock.now()  # ...at the current time


async def test_snapshots_are_frozen(sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body())
    (dep,) = sim.deployments()
    with pytest.raises(FrozenInstanceError):
        dep.status = "stopped"  # type: ignore[misc]
    assert dep.container_uuids == tuple(c.uuid for c in sim.containers(uuid))
    assert [e.status for e in sim.events(uuid)] == ["creating"]
    with pytest.raises(KeyError):
        sim.events("nope")


def test_virtual_clock() -> None:
    clock = VirtualClock()
    assert clock.now() == DEFAULT_EPOCH
    clock.advance(1.5)
    assert clock.now() == DEFAULT_EPOCH + 1.5
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="forward"):
            clock.advance(bad)
    assert VirtualClock(start=100.0).now() == 100.0


def test_wall_clock_scales_real_time() -> None:
    fake = [1000.0]
    clock = WallClock(speed=20.0, monotonic=lambda: fake[0])
    fake[0] = 1500.0  # time before the first reading does not count
    assert clock.now() == DEFAULT_EPOCH
    fake[0] = 1502.0
    assert clock.now() == DEFAULT_EPOCH + 40.0
    clock.advance(60)
    assert clock.now() == DEFAULT_EPOCH + 100.0
    with pytest.raises(ValueError, match="speed"):
        WallClock(speed=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token": ""},
        {"port": 70000},
        {"machines_per_region": 0},
        {"background_load": 2.0},
        {"max_page_size": 0},
    ],
)
def test_config_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        SimulatorConfig(**kwargs)  # type: ignore[arg-type]


def test_timings_validation() -> None:
    with pytest.raises(ValueError, match="negative"):
        Timings(shutdown=-1)
    with pytest.raises(ValueError, match="non-decreasing"):
        Timings(created=7)


def test_default_config() -> None:
    config = SimulatorConfig()
    assert isinstance(config.clock, WallClock)
    assert config.clock.speed == 20.0
    assert SimulatorConfig().clock is not config.clock
    assert (config.event_order, config.auth_failure, config.blacklist_empty) == (
        "newest_first",
        "http401",
        "list",
    )


async def test_custom_timings() -> None:
    clock = VirtualClock()
    timings = Timings(created=1, starting=1, oss_merged=1, running=1, shutdown=0)
    async with running(SimulatorConfig(clock=clock, timings=timings)) as (sim, api):
        uuid = await api.create(deployment_body())
        clock.advance(1)
        assert sim.containers(uuid)[0].status == "running"


def test_run_standalone_reports_and_serves() -> None:
    ready = threading.Event()
    seen: dict[str, object] = {}

    def on_ready(url: str, token: str) -> None:
        seen.update(url=url, token=token)
        seen["loop"] = asyncio.get_running_loop()
        seen["task"] = asyncio.current_task()
        ready.set()

    config = SimulatorConfig(token="standalone", clock=VirtualClock())
    thread = threading.Thread(target=run_standalone, args=(config,), kwargs={"on_ready": on_ready})
    thread.start()
    try:
        assert ready.wait(10)
        request = urllib.request.Request(
            f"{seen['url']}{IMAGES}",
            data=b"{}",
            method="POST",
            headers={"Authorization": "standalone"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:  # loopback only
            assert b'"code":"Success"' in resp.read()
        assert seen["token"] == "standalone"
    finally:
        loop = seen.get("loop")
        task = seen.get("task")
        if isinstance(loop, asyncio.AbstractEventLoop) and isinstance(task, asyncio.Task):
            loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
    assert not thread.is_alive()


def test_module_cli_builds_a_wall_clock_config() -> None:
    config = build_config(
        ["--port", "0", "--token", "t", "--seed", "4", "--speed", "5", "--not-verified"]
    )
    assert (config.token, config.seed, config.enterprise_verified) == ("t", 4, False)
    assert isinstance(config.clock, WallClock)
    assert config.clock.speed == 5.0
