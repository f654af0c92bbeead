"""``VirtualClock.sleep``: a client on virtual time waits without waiting."""

from __future__ import annotations

import anyio
import pytest

from autodl_async import AutoDL, ContainerTemplate
from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock

pytestmark = pytest.mark.anyio


async def test_sleep_moves_the_clock_and_side_by_side_sleeps_overlap() -> None:
    clock = VirtualClock(start=1000.0)
    await clock.sleep(2.5)
    assert clock.now() == 1002.5
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(clock.sleep, 3.0)
    assert clock.now() == 1005.5  # ten 3 s sleeps together take 3 s, not 30
    await clock.sleep(-1.0)  # a negative sleep is no sleep
    assert clock.now() == 1005.5


async def test_a_waiter_on_virtual_time_finishes_instead_of_hanging() -> None:
    clock = VirtualClock()
    async with (
        Simulator(SimulatorConfig(clock=clock)) as sim,
        AutoDL(sim.token, base_url=sim.url, sleep=clock.sleep, clock=clock.now) as client,
    ):
        template = ContainerTemplate(
            image_uuid="base-image-l2t43iu6uk",
            cmd="sleep infinity",
            gpu_name_set=["RTX 4090"],
            dc_list=["westDC2"],
            cuda_v_from=118,
            cuda_v_to=128,
        )
        uuid = await client.deployments.create(
            name="vt", deployment_type="ReplicaSet", replica_num=2, template=template
        )
        started = clock.now()
        with anyio.fail_after(10):  # real seconds: a hang would fail here, not pass slowly
            running = await client.waiters.until_running(uuid, 2, timeout=60)
        assert len(running) == 2
        assert clock.now() - started >= 6  # the boot took simulated time
