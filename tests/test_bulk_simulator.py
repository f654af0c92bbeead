"""Bulk operations against the embedded simulator: hundreds of real stops over loopback."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from autodl_async import (
    AutoDL,
    ContainerTemplate,
    NotFoundError,
    RetryBudget,
    RetryPolicy,
    ServerError,
)
from autodl_async._bulk_results import ItemStatus
from autodl_async.resources.bulk import Bulk
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, VirtualClock

pytestmark = pytest.mark.anyio

STOP = "/api/v1/dev/deployment/container/stop"
# Every region with RTX 4090 hosts: 16 hosts x 8 GPUs in each of 8 regions hold 1,000 replicas.
REGIONS_4090 = [
    "westDC2",
    "westDC3",
    "beijingDC1",
    "beijingDC2",
    "neimengDC1",
    "neimengDC3",
    "foshanDC1",
    "chongqingDC1",
]


def template() -> ContainerTemplate:
    return ContainerTemplate(
        image_uuid="base-image-l2t43iu6uk",
        cmd="sleep infinity",
        gpu_name_set=["RTX 4090"],
        gpu_num=1,
        cuda_v_from=113,
        cuda_v_to=128,
        dc_list=REGIONS_4090,
    )


@dataclass
class Fleet:
    sim: Simulator
    clock: VirtualClock
    client: AutoDL
    bulk: Bulk
    deployment: str
    containers: list[str]

    def processed_stops(self) -> Counter[str]:
        """Stops the API carried out (whatever the client then saw), per container."""
        return Counter(
            str(r.body["deployment_container_uuid"])
            for r in self.sim.requests
            if r.path == STOP and r.body and r.outcome == "Success"
        )

    def shutdowns(self) -> Counter[str]:
        """How often each container of the fleet's deployment began shutting down."""
        return Counter(
            e.deployment_container_uuid
            for e in self.sim.events(self.deployment)
            if e.status == "shutting_down"
        )

    def statuses(self) -> dict[str, str]:
        return {c.uuid: c.status for c in self.sim.containers(self.deployment)}

    def stop_requests(self) -> Counter[str]:
        return Counter(
            str(r.body["deployment_container_uuid"])
            for r in self.sim.requests
            if r.path == STOP and r.body
        )


async def make_fleet(
    client: AutoDL, sim: Simulator, clock: VirtualClock, replicas: int
) -> tuple[str, list[str]]:
    dep = await client.deployments.create(
        name=f"bulk-{replicas}",
        deployment_type="ReplicaSet",
        template=template(),
        replica_num=replicas,
    )
    clock.advance(30)  # every replica boots in virtual time
    containers = await client.containers.list(dep, page_size=1000, status="running").to_list()
    assert len(containers) == replicas
    return dep, [c.uuid for c in containers]


@contextlib.asynccontextmanager
async def open_fleet(replicas: int, **client_options: Any) -> AsyncIterator[Fleet]:
    clock = VirtualClock()
    config = SimulatorConfig(token="sim-token-bulk", seed=5, clock=clock, machines_per_region=16)
    options: dict[str, Any] = {
        "retry": RetryPolicy(max_attempts=4, backoff_base=0.01),
        "timeout": 10.0,
        **client_options,
    }
    async with (
        Simulator(config) as sim,
        AutoDL(sim.token, base_url=sim.url, **options) as client,
    ):
        dep, uuids = await make_fleet(client, sim, clock, replicas)
        yield Fleet(sim, clock, client, bulk_of(client), dep, uuids)


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    """A ReplicaSet of 1,000 running containers."""
    async with open_fleet(1000) as opened:
        yield opened


def bulk_of(client: AutoDL) -> Bulk:
    existing = getattr(client, "bulk", None)
    if isinstance(existing, Bulk):
        return existing
    return Bulk(
        client._transport,
        containers=client.containers,
        deployments=client.deployments,
        blacklist=client.blacklist,
    )


async def test_thousand_stops_with_latency_and_failures(fleet: Fleet) -> None:
    sim = fleet.sim
    # In front of the API: 3 % answered 503 and 1 % reset, unprocessed. Behind it: 1 % reset
    # *after* the stop was carried out, so the SDK resends a stop that already happened.
    sim.faults.add(FaultRule(kind="status", path=STOP, status=503, probability=0.03))
    sim.faults.add(FaultRule(kind="reset", path=STOP, probability=0.01))
    lost = sim.faults.add(FaultRule(kind="reset", path=STOP, probability=0.01, when="after"))
    sim.faults.add(FaultRule(kind="latency", path=STOP, latency=0.005))
    bogus = [f"container-gone-{i:03d}" for i in range(50)]
    targets = fleet.containers[:500] + bogus + fleet.containers[500:]
    progress: list[tuple[int, int, int]] = []

    result = await fleet.bulk.stop_containers(
        [*targets, *fleet.containers[:20]],  # repeats are dropped, not stopped again
        decrease_one_replica_num=True,
        concurrency=64,
        on_progress=lambda d, f, t: progress.append((d, f, t)),
    )

    # Every item reported once, in input order, in a final state.
    assert [r.item for r in result] == targets
    assert result.finished
    assert result.stopped is None
    assert result.succeeded + result.failed == 1050
    # Failures are typed: unknown containers are NotFoundError; a real container can only fail
    # if its 503s outlasted the retries or the retry budget (then ServerError).
    assert all(isinstance(result[500 + i].error, NotFoundError) for i in range(50))
    assert all(result[500 + i].error.code == "RecordNotFoundError" for i in range(50))  # type: ignore[union-attr]
    real = [r for r in result if not r.item.startswith("container-gone-")]
    assert all(r.ok or isinstance(r.error, ServerError) for r in real)
    assert sum(r.ok for r in real) >= 950
    # Nothing stopped twice. In the simulator's own state: each container began shutting
    # down at most once, exactly the ones reported stopped did, the rest still run ...
    shutdowns = fleet.shutdowns()
    assert set(shutdowns.values()) == {1}
    assert {r.item for r in real if r.ok} <= set(shutdowns)
    statuses = fleet.statuses()
    assert all(statuses[c] in ("shutting_down", "shutdown") for c in shutdowns)
    assert all(statuses[r.item] == "running" for r in real if r.item not in shutdowns)
    # ... decrease_one_replica_num took one replica per container, also when a lost answer
    # made the SDK send that stop again ...
    [dep] = [d for d in sim.deployments() if d.uuid == fleet.deployment]
    assert dep.replica_num == 1000 - len(shutdowns)
    assert lost.applied > 0
    assert any(n > 1 for n in fleet.processed_stops().values())  # such resends did happen
    # ... and in the request log: once the client had seen a stop succeed, it never sent
    # that container another (no item run twice by the runner).
    answered: set[str] = set()
    for r in sim.requests:
        if r.path != STOP or not r.body:
            continue
        uuid = str(r.body["deployment_container_uuid"])
        assert uuid not in answered, f"{uuid} stopped again after its success was seen"
        if r.outcome == "Success" and r.fault in (None, "latency"):
            answered.add(uuid)
    assert answered == {r.item for r in result if r.ok}
    # Faults really happened and were retried.
    assert fleet.client.stats.retries > 0
    # Progress: once at the start, once per item, ending with the totals.
    assert len(progress) == 1051
    assert progress[0] == (0, 0, 1050)
    assert progress[-1] == (1050, result.failed, 1050)
    assert [d for d, _, _ in progress] == list(range(1051))
    assert [f for _, f, _ in progress] == sorted(f for _, f, _ in progress)


async def test_retry_budget_stops_a_retry_storm_when_the_api_is_failing() -> None:
    """Every stop answers 503: 200 items cost 200 requests plus the budget, not 4 x 200."""
    budget = RetryBudget(capacity=10, refill_per_success=0.1)
    async with open_fleet(
        200, retry=RetryPolicy(max_attempts=4, backoff_base=0.001), retry_budget=budget
    ) as fleet:
        outage = fleet.sim.faults.add(FaultRule(kind="status", path=STOP, status=503))

        failed = await fleet.bulk.stop_containers(fleet.containers, concurrency=32)

        assert failed.failed == 200
        assert all(isinstance(r.error, ServerError) for r in failed)
        assert all(r.runs == 1 for r in failed)  # the runner does not repeat 5xx itself
        assert sum(fleet.stop_requests().values()) == 200 + 10
        assert fleet.client.stats.retries == 10
        assert budget.tokens < 1
        assert set(fleet.statuses().values()) == {"running"}

        outage.remove()  # the API recovers: the same job runs through at once
        again = await fleet.bulk.stop_containers(fleet.containers, concurrency=32)
        assert again.ok
        assert set(fleet.shutdowns().values()) == {1}
        assert len(fleet.shutdowns()) == 200


async def test_429_storm_pauses_all_workers_and_everything_completes(fleet: Fleet) -> None:
    """Real (short) Retry-After; the check is on the order of events, not on durations."""
    sim = fleet.sim
    storm = sim.faults.add(
        FaultRule(kind="rate_limit", path=STOP, retry_after=0.1, times=120, after=200)
    )
    throttle = fleet.client.throttle
    passes: list[float] = []
    pauses: list[tuple[float, float]] = []
    original_wait = throttle.wait

    async def recording_wait() -> None:
        await original_wait()
        passes.append(time.monotonic())

    throttle.wait = recording_wait  # type: ignore[method-assign]
    throttle.add_listener(lambda _: pauses.append((time.monotonic(), throttle.paused_until)))

    job = fleet.bulk.stop_containers(fleet.containers, concurrency=64)
    result = await job

    assert result.ok, result.summary()  # the storm cost time, not items
    assert storm.applied == 120
    assert throttle.pauses >= 1
    assert pauses
    for start, until in pauses:
        assert not [p for p in passes if start <= p < until], "an attempt went through a pause"
    assert result.lowest_concurrency < 64
    assert job.concurrency <= 64
    # Each container stopped once by the API; every 429 cost exactly one resend.
    assert set(fleet.processed_stops().values()) == {1}
    assert sum(fleet.stop_requests().values()) == 1000 + 120


async def test_fail_fast_sends_nothing_after_the_failure(fleet: Fleet) -> None:
    fleet.sim.faults.add(FaultRule(kind="latency", path=STOP, latency=0.005))
    targets = [*fleet.containers[:300], "container-gone", *fleet.containers[300:]]

    result = await fleet.bulk.stop_containers(targets, concurrency=16, fail_fast=True)

    assert result.stopped == "fail_fast"
    assert isinstance(result[300].error, NotFoundError)
    assert result.not_run > 500
    sent = fleet.stop_requests()
    assert all(r.item not in sent for r in result if r.status is ItemStatus.NOT_RUN)
    assert all(sent[r.item] == 1 for r in result if r.ok)
    assert result.cancelled <= 15


async def test_cancellation_mid_way_reports_what_ran(fleet: Fleet) -> None:
    fleet.sim.faults.add(FaultRule(kind="latency", path=STOP, latency=0.005))
    with anyio.CancelScope() as scope:  # what anyio.move_on_after does when its time is up

        def progress(done: int, failed: int, total: int) -> None:
            if done == 300:
                scope.cancel()

        job = fleet.bulk.stop_containers(fleet.containers, concurrency=32, on_progress=progress)
        await job

    result = job.result
    assert result.finished
    assert result.stopped == "cancelled"
    assert result.succeeded >= 300
    assert result.cancelled <= 32
    assert result.not_run >= 1000 - 300 - 64
    assert result.succeeded + result.failed + result.cancelled + result.not_run == 1000
    sent = fleet.stop_requests()
    processed = fleet.processed_stops()
    assert all(r.item not in sent for r in result if r.status is ItemStatus.NOT_RUN)
    assert all(processed[r.item] == 1 for r in result if r.ok)
    alive = {c.uuid for c in fleet.sim.containers(fleet.deployment) if c.status == "running"}
    assert all(r.item in alive for r in result if r.status is ItemStatus.NOT_RUN)


async def test_deployment_operations_and_blacklist() -> None:
    async with open_fleet(1) as fleet:
        await check_deployment_operations(fleet)


async def check_deployment_operations(fleet: Fleet) -> None:
    client, sim, bulk = fleet.client, fleet.sim, fleet.bulk
    small = []
    for i in range(3):
        dep = await client.deployments.create(
            name=f"small-{i}", deployment_type="ReplicaSet", template=template(), replica_num=1
        )
        small.append(dep)
    fleet.clock.advance(30)

    assert (await bulk.scale(small, 2)).ok
    assert (await bulk.set_replicas({small[0]: 3})).values() == [3]
    replicas = {d.uuid: d.replica_num for d in sim.deployments()}
    assert [replicas[u] for u in small] == [3, 2, 2]

    fleet.clock.advance(30)
    containers = await bulk.resolve_containers(small[0])
    assert len(containers) == 3
    blacklisted = await bulk.blacklist_hosts(containers, expire_in_minutes=60)
    assert blacklisted.ok
    assert {b.machine_id for b in sim.blacklist()} == {c.machine_id for c in containers}
    assert blacklisted.total == len({c.machine_id for c in containers})

    stop_all = bulk.stop_all_containers(small[1], decrease_one_replica_num=True)
    assert len(await stop_all.resolve()) == 2  # the dry run
    assert (await stop_all).succeeded == 2
    assert {d.uuid: d.replica_num for d in sim.deployments()}[small[1]] == 0

    assert (await bulk.stop_deployments(small)).ok
    assert {d.uuid: d.status for d in sim.deployments() if d.uuid in small} == dict.fromkeys(
        small, "stopped"
    )
    deleted = await bulk.delete_deployments([*small, "no-such-deployment"])
    assert deleted.succeeded == 3
    assert isinstance(deleted[3].error, NotFoundError)
    assert not {d.uuid for d in sim.deployments()} & set(small)
