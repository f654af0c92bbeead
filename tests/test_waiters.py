"""Waiters against the embedded simulator, in virtual time.

The client's ``sleep`` moves the simulator's ``VirtualClock`` and its ``clock`` reads it, so a
ten-minute wait takes milliseconds and every "elapsed" below is simulated seconds. Boots take
6 simulated seconds and shutdowns 2 (the simulator's default ``Timings``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import pytest

from autodl_async import (
    NOT_GIVEN,
    AuthenticationError,
    AutoDL,
    ContainerTemplate,
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    ServerError,
    WaitTimeoutError,
)
from autodl_async._errors import WaitFailedError
from autodl_async._poll_scheduler import shared_scheduler
from autodl_async._wait_loop import _call_deadline
from autodl_async._waiters import DEFAULT_WAIT_TIMEOUT, DeploymentState
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, VirtualClock
from tests.scripted import ScriptedServer, success

pytestmark = pytest.mark.anyio

CONTAINERS = "/api/v1/dev/deployment/container/list"
DEPLOYMENTS = "/api/v1/dev/deployment/list"
TOKEN = "sim-token-waiters"


def template(cmd: str = "sleep infinity") -> ContainerTemplate:
    return ContainerTemplate(
        image_uuid="base-image-l2t43iu6uk",
        cmd=cmd,
        gpu_name_set=["RTX 4090"],
        gpu_num=1,
        cuda_v_from=113,
        cuda_v_to=128,
        dc_list=["westDC2", "westDC3"],
    )


@dataclass
class World:
    sim: Simulator
    clock: VirtualClock
    client: AutoDL
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.clock.now()

    def requests_to(self, path: str) -> int:
        return sum(r.path == path for r in self.sim.requests)

    async def replica_set(self, replicas: int, *, name: str = "rs") -> str:
        return await self.client.deployments.create(
            name=name, deployment_type="ReplicaSet", template=template(), replica_num=replicas
        )

    async def job(self, replicas: int, parallelism: int, cmd: str) -> str:
        return await self.client.deployments.create(
            name="job",
            deployment_type="Job",
            template=template(cmd),
            replica_num=replicas,
            parallelism_num=parallelism,
        )

    def running_uuids(self, deployment_uuid: str) -> set[str]:
        return {c.uuid for c in self.sim.containers(deployment_uuid) if c.status == "running"}


@contextlib.asynccontextmanager
async def open_world(
    *, token: str = TOKEN, timeout: float = 5.0, **config: object
) -> AsyncIterator[World]:
    clock = VirtualClock()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if seconds > 0:
            clock.advance(seconds)
        await anyio.lowlevel.checkpoint()

    sim_config = SimulatorConfig(token=TOKEN, seed=7, clock=clock, **config)  # type: ignore[arg-type]
    async with (
        Simulator(sim_config) as sim,
        AutoDL(
            token,
            base_url=sim.url,
            sleep=sleep,
            clock=clock.now,
            timeout=timeout,
            retry=RetryPolicy(max_attempts=2, backoff_base=0.01),
        ) as client,
    ):
        yield World(sim, clock, client, sleeps)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with open_world() as opened:
        yield opened


# -- until_running ----------------------------------------------------------------------


async def test_until_running_returns_the_running_containers(world: World) -> None:
    dep = await world.replica_set(3)
    start = world.now()
    assert world.running_uuids(dep) == set()

    running = await world.client.waiters.until_running(dep, 3)

    assert len(running) == 3
    assert all(c.status == "running" and c.deployment_uuid == dep for c in running)
    assert {c.uuid for c in running} == world.running_uuids(dep)
    # Not before the boot (6 s), and not much after it: polls are 2 s apart while it changes.
    assert 6 <= world.now() - start <= 9


async def test_until_running_exact_waits_for_a_scale_down_to_settle(world: World) -> None:
    dep = await world.replica_set(3)
    await world.client.waiters.until_running(dep, 3)
    await world.client.deployments.set_replicas(dep, 1)
    scaled = world.now()
    # Two containers are shutting down at once; "at least 1" is already true ...
    quick = await world.client.waiters.until_running(dep, 1)
    assert world.now() == scaled
    assert len(quick) == 1

    # ... but "exactly 1, nothing else alive" holds only after their 2 s shutdown.
    settled = await world.client.waiters.until_running(dep, 1, exact=True)
    assert [c.uuid for c in settled] == [c.uuid for c in quick]
    assert world.now() - scaled >= 2
    assert sorted(c.status for c in world.sim.containers(dep)) == [
        "running",
        "shutdown",
        "shutdown",
    ]


async def test_until_running_times_out_with_the_last_state(world: World) -> None:
    dep = await world.replica_set(2)
    start = world.now()
    polled: list[float] = []

    with pytest.raises(WaitTimeoutError) as info:
        await world.client.waiters.until_running(
            dep, 5, timeout=60, on_poll=lambda _: polled.append(world.now() - start)
        )

    elapsed = world.now() - start
    assert 58 <= elapsed <= 60
    # The last poll starts a second before the deadline (give or take the 0.1 s wake-up grid),
    # so it has time to answer.
    assert 58.5 <= polled[-1] <= 59.1
    last = info.value.last
    assert isinstance(last, DeploymentState)
    assert last.deployment.uuid == dep
    assert len(last.running) == 2
    assert "5 running containers" in str(info.value)
    assert "2 running" in str(info.value)
    assert isinstance(info.value, TimeoutError)
    assert info.value.__cause__ is None  # the last poll, a second before the end, succeeded


async def test_polls_back_off_while_nothing_changes(world: World) -> None:
    dep = await world.replica_set(1)
    await world.client.waiters.until_running(dep, 1)
    before = world.requests_to(DEPLOYMENTS)

    with pytest.raises(WaitTimeoutError):
        await world.client.waiters.until_running(dep, 2, timeout=300, max_interval=30)

    polls = world.requests_to(DEPLOYMENTS) - before
    # A fixed 2 s interval would poll 150 times; backing off to 30 s takes well under 30.
    assert 10 <= polls <= 25


async def test_until_running_gives_up_on_a_stopped_deployment(world: World) -> None:
    dep = await world.replica_set(2)
    await world.client.deployments.stop(dep)
    start = world.now()

    with pytest.raises(WaitFailedError) as info:
        await world.client.waiters.until_running(dep, 2)

    assert world.now() == start  # the first poll decided it
    assert isinstance(info.value.last, DeploymentState)
    assert info.value.last.deployment.status == "stopped"
    assert "stopped" in str(info.value)


async def test_until_running_gives_up_when_a_job_cannot_run_that_many(world: World) -> None:
    dep = await world.job(4, 2, "sleep 60")

    with pytest.raises(WaitFailedError, match="at most 2"):
        await world.client.waiters.until_running(dep, 3)


async def test_until_running_gives_up_on_a_job_with_nothing_left_to_run(world: World) -> None:
    dep = await world.job(2, 2, "sleep 5")
    await world.client.waiters.until_job_finished(dep)

    with pytest.raises(WaitFailedError, match="at most 0"):
        await world.client.waiters.until_running(dep, 1)


# -- until_job_finished -----------------------------------------------------------------


async def test_job_waiter_finishes_although_the_deployment_still_says_running(
    world: World,
) -> None:
    dep = await world.job(3, 2, "sleep 20")
    start = world.now()

    containers = await world.client.waiters.until_job_finished(dep)

    assert len(containers) == 3
    assert all(c.status == "shutdown" for c in containers)
    assert {c.uuid for c in containers} == {c.uuid for c in world.sim.containers(dep)}
    # Two at a time: 6 s boot + 20 s run + 2 s shutdown, twice over.
    assert world.now() - start >= 2 * (6 + 20 + 2)
    deployment = await world.client.deployments.get(dep)
    assert deployment.status == "running"  # field notes §5: useless as a signal
    assert deployment.finished_num == 3


async def test_job_waiter_treats_a_container_deployment_as_a_job_of_one(world: World) -> None:
    dep = await world.client.deployments.create(
        name="one", deployment_type="Container", template=template("sleep 10")
    )

    containers = await world.client.waiters.until_job_finished(dep)

    assert [c.status for c in containers] == ["shutdown"]
    assert (await world.client.deployments.get(dep)).finished_num == 1


async def test_job_waiter_times_out_while_the_job_runs(world: World) -> None:
    dep = await world.job(1, 1, "sleep 600")

    with pytest.raises(WaitTimeoutError) as info:
        await world.client.waiters.until_job_finished(dep, timeout=30)

    last = info.value.last
    assert isinstance(last, DeploymentState)
    assert last.deployment.finished_num == 0
    assert [c.status for c in last.containers] == ["running"]


async def test_job_waiter_refuses_a_replica_set(world: World) -> None:
    dep = await world.replica_set(1)

    with pytest.raises(WaitFailedError, match="ReplicaSet"):
        await world.client.waiters.until_job_finished(dep)


async def test_job_waiter_gives_up_when_the_job_is_stopped(world: World) -> None:
    dep = await world.job(2, 1, "sleep 60")
    await world.client.waiters.until_running(dep, 1)
    await world.client.deployments.stop(dep)

    with pytest.raises(WaitFailedError, match="stopped after 0 of 2"):
        await world.client.waiters.until_job_finished(dep)


async def test_job_waiter_reports_a_job_that_ended_with_failures(world: World) -> None:
    dep = await world.job(2, 2, "sleep 5; exit 1")

    with pytest.raises(WaitFailedError, match="2 of 2 containers failed") as info:
        await world.client.waiters.until_job_finished(dep)

    last = info.value.last
    assert isinstance(last, DeploymentState)
    assert last.deployment.failed_num == 2
    assert last.all_shut_down


def _page(rows: list[dict[str, object]]) -> bytes:
    return success({"list": rows, "page_index": 1, "page_size": 100, "max_page": 1})


def _job(finished: int) -> dict[str, object]:
    return {
        "uuid": "d1",
        "deployment_type": "Job",
        "status": "running",
        "replica_num": 1,
        "parallelism_num": 1,
        "finished_num": finished,
    }


def _container(status: str) -> dict[str, object]:
    return {"uuid": "d1-m-c1", "deployment_uuid": "d1", "status": status}


async def test_job_waiter_needs_both_the_counter_and_the_containers(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    # The counter says finished while the container is still shutting down, then the counter
    # lags behind a container that already shut down: neither alone ends the wait.
    for finished, status in [(1, "shutting_down"), (0, "shutdown"), (1, "shutdown")]:
        scripted.push(_page([_job(finished)]))
        scripted.push(_page([_container(status)]))

    containers = await scripted_client.waiters.until_job_finished("d1")

    assert [c.status for c in containers] == ["shutdown"]
    assert len(scripted.seen) == 6
    assert [r.path for r in scripted.seen[:2]] == [DEPLOYMENTS, CONTAINERS]


# -- until_container_status -------------------------------------------------------------


async def test_until_container_status_returns_the_container(world: World) -> None:
    dep = await world.replica_set(1)
    (first,) = world.sim.containers(dep)
    assert first.status == "creating"

    container = await world.client.waiters.until_container_status(dep, first.uuid, "running")

    assert container.uuid == first.uuid
    assert container.status == "running"
    assert container.started_at is not None


async def test_until_container_status_accepts_any_of_several(world: World) -> None:
    dep = await world.replica_set(1)
    running = await world.client.waiters.until_running(dep, 1)
    await world.client.containers.stop(running[0].uuid, decrease_one_replica_num=True)

    container = await world.client.waiters.until_container_status(
        dep, running[0].uuid, ["shutdown", "running_elsewhere"]
    )

    assert container.status == "shutdown"


async def test_gives_up_at_once_when_the_container_has_shut_down(world: World) -> None:
    dep = await world.replica_set(1)
    (container,) = await world.client.waiters.until_running(dep, 1)
    await world.client.containers.stop(container.uuid, decrease_one_replica_num=True)
    await world.client.waiters.until_container_status(dep, container.uuid, "shutdown")
    start = world.now()

    with pytest.raises(WaitFailedError, match="shut down") as info:
        await world.client.waiters.until_container_status(dep, container.uuid, "running")

    assert world.now() == start  # not a second of the 600 s default spent
    assert info.value.last.status == "shutdown"


async def test_gives_up_when_the_container_is_past_the_wanted_status(world: World) -> None:
    dep = await world.replica_set(1)
    (container,) = await world.client.waiters.until_running(dep, 1)

    with pytest.raises(WaitFailedError, match="past starting"):
        await world.client.waiters.until_container_status(dep, container.uuid, "starting")


async def test_an_unknown_status_is_waited_for_not_refused(world: World) -> None:
    dep = await world.replica_set(1)
    (container,) = await world.client.waiters.until_running(dep, 1)

    with pytest.raises(WaitTimeoutError) as info:
        await world.client.waiters.until_container_status(
            dep, container.uuid, "in_cache", timeout=20
        )

    assert info.value.last.status == "running"


async def test_a_container_not_in_the_deployment_is_not_found(world: World) -> None:
    dep = await world.replica_set(1)

    with pytest.raises(NotFoundError, match="not listed"):
        await world.client.waiters.until_container_status(dep, f"{dep}-nope", "running")


# -- until_stopped ----------------------------------------------------------------------


async def test_until_stopped_waits_for_every_container_to_shut_down(world: World) -> None:
    dep = await world.replica_set(3)
    await world.client.waiters.until_running(dep, 3)
    await world.client.deployments.stop(dep)
    stopped = world.now()

    containers = await world.client.waiters.until_stopped(dep)

    assert len(containers) == 3
    assert all(c.status == "shutdown" for c in containers)
    assert world.now() - stopped >= 2
    assert all(c.status == "shutdown" for c in world.sim.containers(dep))
    await world.client.deployments.delete(dep)


async def test_until_stopped_times_out_on_a_running_deployment(world: World) -> None:
    dep = await world.replica_set(1)

    with pytest.raises(WaitTimeoutError) as info:
        await world.client.waiters.until_stopped(dep, timeout=20)

    assert info.value.last.deployment.status == "running"


# -- until (a condition of the caller's) ------------------------------------------------


async def test_until_takes_a_condition_and_reports_each_poll(world: World) -> None:
    dep = await world.replica_set(2)
    seen: list[DeploymentState] = []

    state = await world.client.waiters.until(
        dep, lambda s: s.counts.get("running") == 2, what="two running", on_poll=seen.append
    )

    assert state.counts == {"running": 2}
    assert seen[-1] is state
    assert len(seen) == world.requests_to(DEPLOYMENTS) >= 2
    assert seen[0].counts != {"running": 2}


# -- transient and fatal failures -------------------------------------------------------


async def test_transient_failures_never_end_the_wait(world: World) -> None:
    dep = await world.replica_set(2)
    rules = [
        world.sim.faults.add(FaultRule(kind="status", path=CONTAINERS, status=503, times=3)),
        world.sim.faults.add(FaultRule(kind="rate_limit", path=DEPLOYMENTS, times=3)),
        world.sim.faults.add(FaultRule(kind="reset", path=CONTAINERS, times=2)),
        world.sim.faults.add(FaultRule(kind="html", path=DEPLOYMENTS, status=200, times=2)),
        world.sim.faults.add(FaultRule(kind="truncate", path=CONTAINERS, times=2)),
    ]

    running = await world.client.waiters.until_running(dep, 2)

    assert {c.uuid for c in running} == world.running_uuids(dep)
    assert [r.applied for r in rules] == [3, 3, 2, 2, 2]


async def test_request_timeouts_are_retried_too() -> None:
    async with open_world(timeout=0.1) as world:
        dep = await world.replica_set(1)
        slow = world.sim.faults.add(
            FaultRule(kind="latency", path=DEPLOYMENTS, latency=0.5, times=3)
        )

        running = await world.client.waiters.until_running(dep, 1)

        assert len(running) == 1
        assert slow.applied == 3


async def test_a_failing_api_still_times_out_with_the_cause(world: World) -> None:
    dep = await world.replica_set(1)
    world.sim.faults.add(FaultRule(kind="status", path=DEPLOYMENTS, status=500))

    with pytest.raises(WaitTimeoutError, match="no poll succeeded") as info:
        await world.client.waiters.until_running(dep, 1, timeout=40)

    assert info.value.last is None
    assert isinstance(info.value.__cause__, ServerError)
    assert world.requests_to(DEPLOYMENTS) >= 5  # it kept trying, with backoff


async def test_an_unknown_deployment_is_fatal_at_once(world: World) -> None:
    start = world.now()

    with pytest.raises(NotFoundError):
        await world.client.waiters.until_running("0123456789", 1)

    assert world.now() == start


async def test_a_refused_token_is_fatal() -> None:
    async with open_world(token="wrong-token") as world:
        with pytest.raises(AuthenticationError):
            await world.client.waiters.until_stopped("0123456789")
        assert world.requests_to(DEPLOYMENTS) == 1


async def test_missing_permission_is_fatal() -> None:
    async with open_world(enterprise_verified=False) as world:
        with pytest.raises(PermissionDeniedError):
            await world.client.waiters.until_job_finished("0123456789")


async def test_a_closed_client_is_not_retried(world: World) -> None:
    await world.client.aclose()
    start = world.now()

    with pytest.raises(Exception, match="closed"):
        await world.client.waiters.until_running("0123456789", 1)

    assert world.now() == start


# -- time limits and pacing -------------------------------------------------------------


async def test_left_out_timeout_means_the_default_and_none_means_no_limit(world: World) -> None:
    dep = await world.replica_set(1)
    start = world.now()
    with pytest.raises(WaitTimeoutError, match="600s"):
        await world.client.waiters.until_running(dep, 2)
    assert DEFAULT_WAIT_TIMEOUT - 1 - 0.2 <= world.now() - start <= DEFAULT_WAIT_TIMEOUT

    # timeout=None: a Job running for an hour is waited for to the end.
    job = await world.job(1, 1, "sleep 3600")
    containers = await world.client.waiters.until_job_finished(job, timeout=None, max_interval=60)
    assert [c.status for c in containers] == ["shutdown"]


async def test_each_request_is_bounded_by_the_time_the_wait_has_left(world: World) -> None:
    transport = world.client._transport
    now = world.now()

    assert _call_deadline(transport, now + 7.5) == 7.5
    assert _call_deadline(transport, now + 500) == 120.0  # the client's own deadline is lower
    assert _call_deadline(transport, now - 1) == 0.001  # a spent wait: tiny, never negative
    assert _call_deadline(transport, None) is NOT_GIVEN


async def test_waiters_share_the_clients_wake_ups(world: World) -> None:
    a = await world.replica_set(1, name="a")
    b = await world.replica_set(1, name="b")
    scheduler = shared_scheduler(
        world.client._transport,
        sleep=world.client._transport.sleep,
        clock=world.client._transport.clock,
    )
    before = scheduler.wakeups
    polls_before = world.requests_to(DEPLOYMENTS)

    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: world.client.waiters.until_stopped(a, timeout=120))
        tg.start_soon(lambda: world.client.waiters.until_stopped(b, timeout=120))
        await anyio.lowlevel.checkpoint()
        await world.client.deployments.stop(a)
        await world.client.deployments.stop(b)

    polls = world.requests_to(DEPLOYMENTS) - polls_before
    wakeups = scheduler.wakeups - before
    assert polls >= 4
    assert 0 < wakeups < polls  # two waiters, one timer per shared instant


async def test_the_last_state_never_shows_a_root_password(world: World) -> None:
    dep = await world.replica_set(1)
    (container,) = await world.client.waiters.until_running(dep, 1)
    assert container.info is not None
    assert container.info.root_password

    with pytest.raises(WaitTimeoutError) as info:
        await world.client.waiters.until_running(dep, 2, timeout=10)

    text = f"{info.value} {info.value!r} {info.value.last!r}"
    assert container.info.root_password not in text


# -- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda w: w.until_running("", 1), "deployment_uuid"),
        (lambda w: w.until_running("  ", 1), "deployment_uuid"),
        (lambda w: w.until_running("dep", -1), "count"),
        (lambda w: w.until_running("dep", True), "count"),
        (lambda w: w.until_running("dep", 1.5), "count"),
        (lambda w: w.until_running("dep", 1, timeout=0), "timeout"),
        (lambda w: w.until_running("dep", 1, timeout=-5), "timeout"),
        (lambda w: w.until_running("dep", 1, timeout=float("nan")), "timeout"),
        (lambda w: w.until_running("dep", 1, timeout=float("inf")), "timeout"),
        (lambda w: w.until_running("dep", 1, timeout="10"), "timeout"),
        (lambda w: w.until_running("dep", 1, interval=0), "interval"),
        (lambda w: w.until_running("dep", 1, interval=5, max_interval=1), "max_interval"),
        (lambda w: w.until_running("dep", 1, on_poll="print"), "on_poll"),
        (lambda w: w.until_job_finished(""), "deployment_uuid"),
        (lambda w: w.until_stopped("", timeout=None), "deployment_uuid"),
        (lambda w: w.until("dep", "running"), "condition"),
        (lambda w: w.until_container_status("dep", "", "running"), "container_uuid"),
        (lambda w: w.until_container_status("dep", "c", []), "status"),
        (lambda w: w.until_container_status("dep", "c", ""), "status"),
        (lambda w: w.until_container_status("dep", "c", ["running", 3]), "status"),
        (lambda w: w.until_container_status("dep", "c", None), "status"),
    ],
)
async def test_bad_arguments_name_the_parameter_and_send_nothing(
    world: World, call: object, param: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        await call(world.client.waiters)  # type: ignore[operator]

    assert info.value.param == param
    assert world.sim.requests == ()


async def test_an_interval_shorter_than_the_minimum_pause_still_waits(world: World) -> None:
    """A fast-polling waiter (the demo polls every 0.02 s) must not mistake its own short
    interval for the end of its time: it waits out the boot and succeeds."""
    uuid = await world.replica_set(2)
    started = world.now()
    running = await world.client.waiters.until_running(
        uuid, 2, exact=True, timeout=60, interval=0.02, max_interval=0.02
    )
    assert {c.uuid for c in running} == world.running_uuids(uuid)
    assert world.now() - started >= 6  # the boot really was waited for


async def test_a_short_timeout_still_polls_before_giving_up(world: World) -> None:
    uuid = await world.replica_set(1)
    with pytest.raises(WaitTimeoutError):
        await world.client.waiters.until_running(uuid, 1, timeout=3, interval=0.5)
    assert world.requests_to(DEPLOYMENTS) >= 3  # not one poll and out
