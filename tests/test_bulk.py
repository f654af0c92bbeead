"""The bulk runner with plain async callables, and ``client.bulk`` against the scripted server."""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from autodl_async import (
    AuthenticationError,
    AutoDL,
    InvalidParameterError,
    NotFoundError,
    RateLimitError,
    RetryBudget,
    RetryPolicy,
)
from autodl_async._bulk import BulkJob, _AdaptiveLimit
from autodl_async._bulk_results import BulkError, BulkResult, ItemStatus
from autodl_async.resources.bulk import Bulk
from tests.scripted import ScriptedServer, failure, success

pytestmark = pytest.mark.anyio

FINAL = {ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.CANCELLED, ItemStatus.NOT_RUN}


def bulk_of(client: AutoDL) -> Bulk:
    """``client.bulk`` until the lead wires it into the client."""
    existing = getattr(client, "bulk", None)
    if isinstance(existing, Bulk):
        return existing
    return Bulk(
        client._transport,
        containers=client.containers,
        deployments=client.deployments,
        blacklist=client.blacklist,
    )


def accounted(result: BulkResult[Any, Any]) -> None:
    """Every item is in a final state and the counts add up."""
    assert result.finished
    assert all(r.status in FINAL for r in result)
    assert [r.index for r in result] == list(range(result.total))
    assert result.succeeded + result.failed + result.cancelled + result.not_run == result.total


def rate_limited(retry_after: float | None = 0.0) -> RateLimitError:
    return RateLimitError("slow down", code="HTTP429", http_status=429, retry_after=retry_after)


class FakeTime:
    """A clock that only moves when something sleeps on it."""

    def __init__(self, *, frozen: bool = False) -> None:
        self.now = 0.0
        self.frozen = frozen  # time stands still: every 429 of a burst falls in one pause
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if not self.frozen:
            self.now += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()


class VirtualTime:
    """Virtual time with concurrent sleepers: ``drive()`` jumps to the next wake-up only when
    every other task is blocked, so tasks sleeping at once wake together (unlike FakeTime)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._ids = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        woken = anyio.Event()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._ids), woken))
        await woken.wait()

    async def drive(self) -> None:
        while True:
            await anyio.wait_all_tasks_blocked()
            if not self._sleepers:
                await anyio.lowlevel.checkpoint()
                continue
            wake = self._sleepers[0][0]
            self.now = max(self.now, wake)
            while self._sleepers and self._sleepers[0][0] <= wake:
                heapq.heappop(self._sleepers)[2].set()


# -- the generic runner ---------------------------------------------------------------------


async def test_results_in_input_order_with_typed_errors_and_progress() -> None:
    progress: list[tuple[int, int, int]] = []

    async def work(i: int) -> int:
        for _ in range(i % 3):  # finish out of order
            await anyio.lowlevel.checkpoint()
        if i % 4 == 0:
            raise NotFoundError("gone", code="RecordNotFoundError", http_status=200)
        return i * 10

    job = BulkJob(
        range(40),
        work,
        concurrency=8,
        on_progress=lambda d, f, t: progress.append((d, f, t)),
    )
    result = await job

    assert result is job.result
    accounted(result)
    assert [r.item for r in result] == list(range(40))
    assert result.succeeded == 30
    assert result.failed == 10
    assert result.values() == [i * 10 for i in range(40) if i % 4]
    assert all(isinstance(r.error, NotFoundError) for r in result.failures())
    assert result[3].unwrap() == 30
    with pytest.raises(NotFoundError):
        result[4].unwrap()
    assert result.stopped is None
    assert not result.ok
    summary = result.summary()
    assert (summary.total, summary.succeeded, summary.failed) == (40, 30, 10)
    assert summary.errors == {"NotFoundError": 10}
    assert "30 succeeded, 10 failed (NotFoundError 10)" in str(summary)
    # once at the start, then once per item; done never goes back, the last call has it all
    assert progress[0] == (0, 0, 40)
    assert len(progress) == 41
    assert [d for d, _, _ in progress] == list(range(41))
    assert progress[-1] == (40, 10, 40)
    with pytest.raises(BulkError) as caught:
        result.raise_for_failures()
    assert caught.value.result is result


async def test_concurrency_is_bounded_and_reached() -> None:
    in_flight = 0
    peak = 0
    full = anyio.Event()

    async def work(i: int) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 8:
            full.set()
        await full.wait()
        await anyio.lowlevel.checkpoint()
        in_flight -= 1

    result = await BulkJob(range(200), work, concurrency=8)
    assert result.ok
    assert peak == 8


async def test_one_failure_does_not_cancel_the_others() -> None:
    async def work(i: int) -> int:
        await anyio.lowlevel.checkpoint()
        if i == 3:
            raise RuntimeError("boom")  # any exception, not only the SDK's, is recorded
        return i

    result = await BulkJob(range(20), work, concurrency=4)
    accounted(result)
    assert result.succeeded == 19
    assert isinstance(result[3].error, RuntimeError)


async def test_fail_fast_stops_at_the_first_failure() -> None:
    started: list[int] = []

    async def work(i: int) -> None:
        started.append(i)
        if i == 2:
            raise NotFoundError("gone", code="RecordNotFoundError", http_status=200)
        await anyio.sleep_forever()

    result = await BulkJob(range(50), work, concurrency=4, fail_fast=True)

    accounted(result)
    assert result.stopped == "fail_fast"
    assert result.failed == 1
    assert isinstance(result[2].error, NotFoundError)
    assert set(started) <= {0, 1, 2, 3}  # nothing new started after the failure
    assert result.cancelled == len(started) - 1  # the calls in flight were cancelled
    assert result.not_run == 50 - len(started)
    assert all(result[i].status is ItemStatus.NOT_RUN for i in range(4, 50))


async def test_auth_error_aborts_without_fail_fast() -> None:
    calls = 0

    async def work(i: int) -> None:
        nonlocal calls
        calls += 1
        await anyio.lowlevel.checkpoint()
        raise AuthenticationError("bad token", code="Unauthorized", http_status=401)

    result = await BulkJob(range(100), work, concurrency=4)
    accounted(result)
    assert result.stopped == "aborted"
    assert calls <= 4
    assert result.not_run >= 96


async def test_cancelling_from_outside_keeps_the_partial_result() -> None:
    with anyio.CancelScope() as scope:
        job: BulkJob[int, int]

        async def work(i: int) -> int:
            if i == 30:
                scope.cancel()  # what move_on_after / fail_after / Ctrl-C do
            await anyio.lowlevel.checkpoint()
            return i

        job = BulkJob(range(100), work, concurrency=4)
        await job
        pytest.fail("the cancelled run must not return")

    result = job.result
    accounted(result)
    assert result.stopped == "cancelled"
    assert 20 <= result.succeeded < 31
    assert result.cancelled >= 1  # item 30 itself was in flight
    assert result.not_run >= 60
    assert result[30].status is ItemStatus.CANCELLED
    assert all(r.status is ItemStatus.NOT_RUN for r in result[40:])


async def test_move_on_after_sees_in_flight_items_as_cancelled() -> None:
    job = BulkJob(range(100), lambda i: anyio.sleep_forever(), concurrency=4)
    with anyio.move_on_after(0.05):
        await job
    result = job.result
    accounted(result)
    assert (result.cancelled, result.not_run, result.succeeded) == (4, 96, 0)
    assert job.running is False
    assert await job is result  # awaiting a finished job hands back its result


async def test_job_cancel_returns_normally() -> None:
    job: BulkJob[int, None]

    async def work(i: int) -> None:
        await anyio.lowlevel.checkpoint()
        if i == 10:
            job.cancel()

    job = BulkJob(range(100), work, concurrency=2)
    result = await job
    accounted(result)
    assert result.stopped == "cancelled"
    assert result.not_run > 0


async def test_cancel_before_running_runs_nothing() -> None:
    job = BulkJob(range(5), lambda i: anyio.lowlevel.checkpoint())
    job.cancel()
    result = await job
    assert result.not_run == 5
    assert result.stopped == "cancelled"


async def test_a_job_runs_once() -> None:
    calls = 0

    async def work(i: int) -> None:
        nonlocal calls
        calls += 1
        if i == 0:
            await anyio.sleep_forever()

    job = BulkJob(range(3), work)
    async with anyio.create_task_group() as tg:
        tg.start_soon(job.run)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(RuntimeError, match="already running"):
            await job.run()
        job.cancel()
    result = await job  # finished: returns the result, runs nothing again
    assert calls == 3
    assert (result.succeeded, result.cancelled) == (2, 1)


async def test_progress_callback_error_stops_the_run_and_propagates() -> None:
    def progress(done: int, failed: int, total: int) -> None:
        if done == 5:
            raise ValueError("display broke")

    job = BulkJob(range(100), lambda i: anyio.lowlevel.checkpoint(), on_progress=progress)
    with pytest.raises(ValueError, match="display broke"):
        await job
    assert job.result.stopped == "error"
    assert job.result.not_run > 0


async def test_as_completed_streams_results_while_running() -> None:
    first_seen = anyio.Event()

    async def work(i: int) -> int:
        if i >= 4:
            await first_seen.wait()
        return i

    job = BulkJob(range(30), work, concurrency=4)
    seen: list[int] = []
    async with job.as_completed() as stream:
        async for r in stream:
            if not seen:
                assert not stream.result.finished  # really streamed, not collected
                first_seen.set()
            seen.append(r.item)
    assert sorted(seen) == list(range(30))
    assert stream.result.ok


async def test_leaving_as_completed_early_stops_the_run() -> None:
    async def work(i: int) -> int:
        await anyio.lowlevel.checkpoint()
        return i

    job = BulkJob(range(500), work, concurrency=2)
    async with job.as_completed() as stream:
        async for _ in stream:
            break
    accounted(job.result)
    assert job.result.stopped == "cancelled"
    assert job.result.not_run > 0


async def test_rate_limited_items_are_requeued_and_concurrency_lowered() -> None:
    fake = FakeTime(frozen=True)
    runs: dict[int, int] = {}
    in_flight = 0
    over_limit: list[tuple[int, int]] = []
    job: BulkJob[int, int]

    async def work(i: int) -> int:
        nonlocal in_flight
        runs[i] = runs.get(i, 0) + 1
        in_flight += 1
        if in_flight > job.concurrency:
            over_limit.append((in_flight, job.concurrency))
        try:
            await anyio.lowlevel.checkpoint()
            if i < 12 and runs[i] == 1:
                raise rate_limited(retry_after=2.0)
            return i
        finally:
            in_flight -= 1

    job = BulkJob(range(40), work, concurrency=16, sleep=fake.sleep, clock=fake.clock)
    result = await job

    assert result.ok
    assert not over_limit  # once lowered, the limit really holds calls back
    assert [result[i].runs for i in range(12)] == [2] * 12
    assert 2.0 in fake.sleeps
    assert result.rate_limited >= 1
    assert result.lowest_concurrency == 8  # halved once for the whole burst
    assert result.summary().lowest_concurrency == 8


async def test_requeues_are_bounded() -> None:
    fake = FakeTime()

    async def always_429(i: int) -> None:
        await anyio.lowlevel.checkpoint()
        raise rate_limited(retry_after=1.0)

    async def long_hint(i: int) -> None:
        await anyio.lowlevel.checkpoint()
        raise rate_limited(retry_after=3600.0)

    bounded = await BulkJob(
        [1], always_429, rate_limit_retries=2, sleep=fake.sleep, clock=fake.clock
    )
    assert bounded[0].runs == 3
    assert isinstance(bounded[0].error, RateLimitError)

    hour = await BulkJob([1], long_hint, sleep=fake.sleep, clock=fake.clock)
    assert hour[0].runs == 1  # an hour-long hint is reported, not slept through


def test_adaptive_limit_halves_once_per_pause_and_recovers_slowly() -> None:
    async def main() -> None:
        now = [0.0]
        limit = _AdaptiveLimit(16, lambda: now[0])
        for _ in range(10):
            limit.on_rate_limited(2.0)  # a burst of 429s from every call in flight
        assert limit.current == 8
        limit.on_success()  # during the pause: no increase
        assert limit.current == 8
        now[0] = 2.5
        limit.on_rate_limited(1.0)  # still limited after the pause: a new decrease
        assert limit.current == 4
        now[0] = 10.0
        for _ in range(3):
            limit.on_success()
        assert limit.current == 4
        limit.on_success()  # one step per window of `current` successes
        assert limit.current == 5
        for _ in range(1000):
            limit.on_success()
        assert limit.current == 16  # never above the maximum
        assert limit.lowest == 4

    anyio.run(main)


async def test_requests_per_second_spaces_item_starts() -> None:
    fake = FakeTime()
    starts: list[float] = []

    async def work(i: int) -> None:
        starts.append(fake.now)
        await anyio.lowlevel.checkpoint()

    result = await BulkJob(
        range(20), work, concurrency=4, requests_per_second=10, sleep=fake.sleep, clock=fake.clock
    )
    assert result.ok
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.1 - 1e-9


async def test_bad_options_are_rejected_before_running() -> None:
    with pytest.raises(InvalidParameterError):
        BulkJob([1], anyio.sleep, concurrency=0)
    with pytest.raises(InvalidParameterError):
        BulkJob([1], anyio.sleep, requests_per_second=0)
    assert (await BulkJob([], anyio.sleep)).ok  # nothing to do is a success


# -- client.bulk against the scripted server ------------------------------------------------


async def test_stop_containers_sends_one_stop_per_unique_uuid(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    uuids = [f"c-{i:03d}" for i in range(30)]
    job = bulk_of(scripted_client).stop_containers(
        [*uuids, uuids[0], uuids[5]],
        decrease_one_replica_num=True,
        no_cache=True,
        cmd_before_shutdown="sync",
        concurrency=8,
    )
    assert job.targets == uuids  # repeats dropped before anything is sent
    result = await job
    assert result.ok
    bodies = [s.json() for s in scripted.seen]
    assert all(s.method == "PUT" for s in scripted.seen)
    assert sorted(b["deployment_container_uuid"] for b in bodies) == uuids
    assert bodies[0] == {
        "deployment_container_uuid": bodies[0]["deployment_container_uuid"],
        "decrease_one_replica_num": True,
        "no_cache": True,
        "cmd_before_shutdown": "sync",
    }


async def test_business_errors_are_typed_per_item(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(failure("RecordNotFoundError", "未查询到相关实例"))
    result = await bulk_of(scripted_client).stop_containers(["a", "b", "c"], concurrency=1)
    accounted(result)
    assert result.succeeded == 2
    assert isinstance(result[0].error, NotFoundError)
    assert result[0].error.code == "RecordNotFoundError"


async def test_set_replicas_and_scale(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    bulk = bulk_of(scripted_client)
    result = await bulk.set_replicas({"d1": 3, "d2": 0}, concurrency=1)
    assert result.values() == [3, 0]
    scaled = await bulk.scale(["d3", "d4", "d3"], 2)
    assert [r.item for r in scaled] == ["d3", "d4"]
    bodies = [s.json() for s in scripted.seen]
    assert {"deployment_uuid": "d1", "replica_num": 3} in bodies
    assert {"deployment_uuid": "d4", "replica_num": 2} in bodies
    assert len(bodies) == 4
    with pytest.raises(InvalidParameterError):
        bulk.scale(["d1"], -1)
    with pytest.raises(InvalidParameterError):
        bulk.set_replicas({"d1": True})  # a bool is not a count
    with pytest.raises(InvalidParameterError):
        bulk.set_replicas(["d1"])
    assert len(scripted.seen) == 4  # nothing sent for the rejected calls


async def test_stop_and_delete_deployments(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    bulk = bulk_of(scripted_client)
    assert (await bulk.stop_deployments(["d1", "d2"])).ok
    assert (await bulk.delete_deployments(["d1"])).ok
    seen = [(s.method, s.path, s.json()) for s in scripted.seen]
    operate = "/api/v1/dev/deployment/operate"
    assert ("PUT", operate, {"deployment_uuid": "d1", "operate": "stop"}) in seen
    assert ("PUT", operate, {"deployment_uuid": "d2", "operate": "stop"}) in seen
    assert ("DELETE", "/api/v1/dev/deployment", {"deployment_uuid": "d1"}) in seen


async def test_blacklist_hosts_sends_one_call_per_host(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    from autodl_async import Container

    containers = [
        Container(uuid="c1", machine_id="m1"),
        Container(uuid="c2", machine_id="m1"),
        Container(uuid="c3", machine_id="m2"),
    ]
    bulk = bulk_of(scripted_client)
    result = await bulk.blacklist_hosts([*containers, "c9"], expire_in_minutes=60, comment="bad")
    assert [r.item for r in result] == ["c1", "c3", "c9"]
    assert scripted.seen[0].json() == {
        "deployment_container_uuid": "c1",
        "expire_in_minutes": 60,
        "comment": "bad",
    }
    with pytest.raises(InvalidParameterError):
        bulk.blacklist_hosts(["c1"], expire_in_minutes=60 * 24 * 31)


async def test_stop_all_containers_lists_once_then_stops(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    page = {
        "list": [
            {"uuid": "c1", "status": "running"},
            {"uuid": "c2", "status": "starting"},
            {"uuid": "c3", "status": "shutdown"},  # a server ignoring the filter is re-checked
        ],
        "page_index": 1,
        "page_size": 100,
        "max_page": 1,
    }
    scripted.push(success(page))
    job = bulk_of(scripted_client).stop_all_containers("dep-1", decrease_one_replica_num=True)
    assert job.targets is None
    assert await job.resolve() == ["c1", "c2"]  # the dry run: only the list was sent
    assert len(scripted.seen) == 1
    listed = scripted.seen[0].json()
    assert listed["deployment_uuid"] == "dep-1"
    assert set(listed["status"]) == {"creating", "created", "starting", "oss_merged", "running"}
    result = await job
    assert [r.item for r in result] == ["c1", "c2"]
    assert len(scripted.seen) == 3  # not listed again


async def test_generic_run_with_a_client_call(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    bulk = bulk_of(scripted_client)
    result = await bulk.run(["x", "y"], scripted_client.containers.stop)
    assert result.ok
    async with bulk.as_completed(["z"], scripted_client.containers.stop) as stream:
        items = [r.item async for r in stream]
    assert items == ["z"]


async def test_pool_is_sized_for_the_job(scripted: ScriptedServer) -> None:
    async with AutoDL("t", base_url=scripted.url, max_connections=10) as client:
        job = bulk_of(client).stop_containers(["a"], concurrency=150)
        assert job.max_concurrency == 150
        assert client._transport.max_connections == 150  # grown before the session exists
        await job
        # The session exists now and cannot grow: a wider job fits itself under the pool.
        wider = bulk_of(client).stop_containers(["a"], concurrency=400)
        assert wider.max_concurrency == 150
        assert client.bulk.reserve_pool(400) == 150


async def test_reserve_pool_before_listing_keeps_the_job_wide(scripted: ScriptedServer) -> None:
    async with AutoDL("t", base_url=scripted.url, max_connections=10) as client:
        assert client.bulk.reserve_pool(200) == 200
        await client.containers.stop("x")  # opens the pool (as listing the targets would)
        assert client.bulk.stop_containers(["a"], concurrency=200).max_concurrency == 200


@pytest.fixture
async def paused_client(scripted: ScriptedServer) -> AsyncIterator[AutoDL]:
    async with AutoDL(
        "test-token-abc123",
        base_url=scripted.url,
        retry=RetryPolicy(max_attempts=4, backoff_base=0.05),
        retry_budget=RetryBudget(capacity=2),
    ) as client:
        yield client


async def test_429_storm_pauses_every_worker_and_everything_completes(
    scripted: ScriptedServer, paused_client: AutoDL
) -> None:
    """Real time, but no timing assertion: the gate's order is checked, not its speed."""
    for _ in range(40):
        scripted.push(success())
    for _ in range(16):
        scripted.push(failure("", "Too Many Requests"), status=429, headers={"Retry-After": "0.1"})

    throttle = paused_client.throttle
    passes: list[float] = []
    pauses: list[tuple[float, float]] = []
    original_wait = throttle.wait

    async def recording_wait() -> None:
        await original_wait()
        passes.append(time.monotonic())

    throttle.wait = recording_wait  # type: ignore[method-assign]
    throttle.add_listener(lambda _: pauses.append((time.monotonic(), throttle.paused_until)))

    result = await bulk_of(paused_client).stop_containers(
        [f"c-{i}" for i in range(200)], concurrency=16
    )

    accounted(result)
    assert result.ok  # the storm cost time, not items
    assert throttle.pauses >= 1
    assert pauses
    for start, until in pauses:
        assert not [p for p in passes if start <= p < until], "an attempt went through a pause"
    assert result.lowest_concurrency < 16
    # The retry budget (2 tokens) ran out mid-storm: the runner requeued those items itself.
    assert max(r.runs for r in result) >= 2
    stops = [s.json()["deployment_container_uuid"] for s in scripted.seen]
    assert sorted(set(stops)) == sorted(f"c-{i}" for i in range(200))
    assert len(stops) == 216  # each item stopped once, plus one resend per 429


async def test_a_failing_target_lookup_raises_and_runs_nothing() -> None:
    async def lookup() -> list[int]:
        raise AuthenticationError("bad token", code="Unauthorized", http_status=401)

    job: BulkJob[int, None] = BulkJob((), anyio.sleep, resolver=lookup)
    with pytest.raises(AuthenticationError):
        await job
    assert job.result.finished
    assert job.result.stopped == "error"
    assert job.result.total == 0


async def test_leaving_as_completed_before_the_run_starts_runs_nothing() -> None:
    calls = 0

    async def work(i: int) -> None:
        nonlocal calls
        calls += 1

    job = BulkJob(range(10), work)
    async with job.as_completed():
        pass  # the driver task has not had a turn yet
    assert calls == 0
    assert job.result.not_run == 10
    assert job.result.stopped == "cancelled"


# -- bad input, rejected before anything is sent --------------------------------------------


@pytest.mark.parametrize(
    ("param", "options"),
    [
        ("concurrency", {"concurrency": True}),
        ("concurrency", {"concurrency": 2.5}),
        ("fail_fast", {"fail_fast": "yes"}),
        ("abort_on", {"abort_on": [AuthenticationError]}),
        ("abort_on", {"abort_on": ("AuthenticationError",)}),
        ("on_progress", {"on_progress": 5}),
        ("requests_per_second", {"requests_per_second": "10"}),
        ("requests_per_second", {"requests_per_second": float("nan")}),
        ("rate_limit_retries", {"rate_limit_retries": "3"}),
        ("rate_limit_retries", {"rate_limit_retries": -1}),
    ],
)
async def test_bad_option_types_name_the_option(param: str, options: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        BulkJob([1], anyio.sleep, **options)  # type: ignore[arg-type]
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("param", "make"),
    [
        ("containers", lambda b: b.stop_containers("c-123")),  # a str is not a list of uuids
        ("containers", lambda b: b.stop_containers(["c-1", ""])),
        ("containers", lambda b: b.stop_containers(["c-1", None])),
        ("containers", lambda b: b.blacklist_hosts("c-123")),
        ("deployment_uuids", lambda b: b.stop_deployments("d-1")),
        ("deployment_uuids", lambda b: b.delete_deployments([" "])),
        ("targets", lambda b: b.scale("d-1", 2)),
        ("targets", lambda b: b.set_replicas({"": 2})),
        ("deployment_uuid", lambda b: b.stop_all_containers("")),
        ("statuses", lambda b: b.stop_all_containers("d-1", statuses="running")),
        ("statuses", lambda b: b.stop_all_containers("d-1", statuses=[])),
        ("expire_in_minutes", lambda b: b.blacklist_hosts(["c-1"], expire_in_minutes="60")),
        ("timeout", lambda b: b.stop_containers(["c-1"], timeout="5")),
        ("deadline", lambda b: b.stop_deployments(["d-1"], deadline=-1)),
        ("concurency", lambda b: b.stop_containers(["c-1"], concurency=8)),  # a typo
        ("fail_fast", lambda b: b.delete_deployments(["d-1"], fail_fast=1)),
    ],
)
async def test_bad_bulk_arguments_are_typed_and_send_nothing(
    scripted: ScriptedServer, scripted_client: AutoDL, param: str, make: object
) -> None:
    assert callable(make)
    with pytest.raises(InvalidParameterError) as caught:
        make(bulk_of(scripted_client))
    assert caught.value.param == param
    assert scripted.seen == []


async def test_a_retry_after_beyond_the_requeue_cap_stops_the_run() -> None:
    """The API asked for an hour's pause: the rest are not sent into it, and say so."""
    calls: list[int] = []

    async def work(i: int) -> None:
        calls.append(i)
        await anyio.lowlevel.checkpoint()
        if i == 3:
            raise rate_limited(retry_after=3600.0)

    fake = FakeTime()
    result = await BulkJob(range(100), work, concurrency=1, sleep=fake.sleep, clock=fake.clock)
    accounted(result)
    assert result.stopped == "rate_limited"
    assert calls == [0, 1, 2, 3]
    assert result.succeeded == 3
    assert isinstance(result[3].error, RateLimitError)
    assert result[3].runs == 1  # not slept through either
    assert result.not_run == 96
    assert "stopped: rate_limited" in str(result.summary())


async def test_concurrency_drops_on_429_then_recovers_one_step_per_window() -> None:
    fake = VirtualTime()
    seen_at_success: list[int] = []
    runs: dict[int, int] = {}
    job: BulkJob[int, int]

    async def work(i: int) -> int:
        runs[i] = runs.get(i, 0) + 1
        await anyio.lowlevel.checkpoint()
        if i < 16 and runs[i] == 1:
            raise rate_limited(retry_after=1.0)
        seen_at_success.append(job.concurrency)
        return i

    job = BulkJob(range(400), work, concurrency=16, sleep=fake.sleep, clock=fake.clock)
    async with anyio.create_task_group() as tg:
        tg.start_soon(fake.drive)
        result = await job
        tg.cancel_scope.cancel()

    assert result.ok
    assert result.lowest_concurrency == 8  # one burst of 16 429s: halved once
    assert min(seen_at_success) == 8
    assert seen_at_success == sorted(seen_at_success)  # only ever creeping back up
    assert seen_at_success[-1] == 16  # and all the way, never beyond
    steps = Counter(seen_at_success)
    # Additive increase: one more slot only after a window of `current` successes.
    assert all(steps[n] >= n for n in range(8, 16)), steps
    assert job.concurrency == 16


async def test_requests_per_second_through_client_bulk_uses_the_client_clock(
    scripted: ScriptedServer,
) -> None:
    fake = FakeTime()
    starts: list[float] = []
    async with AutoDL("t", base_url=scripted.url, sleep=fake.sleep, clock=fake.clock) as client:

        async def stop(uuid: str) -> None:
            starts.append(fake.now)
            await client.containers.stop(uuid)

        result = await client.bulk.run(
            [f"c-{i}" for i in range(20)], stop, concurrency=8, requests_per_second=10
        )
    assert result.ok
    assert len(scripted.seen) == 20
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.1 - 1e-9  # 10 per second, whatever the concurrency
    assert fake.now >= 1.9
