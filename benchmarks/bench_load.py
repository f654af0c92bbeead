"""Load with faults: 10,000 calls at concurrency 200, about 10 % of attempts faulted.

Run from the repository root::

    python -m benchmarks.bench_load            # 10,000 calls at c=200, 3 rounds; memory rounds
    python -m benchmarks.bench_load --quick    # 2,000 calls, 1 round: a smoke run

The simulator runs in this process, on this event loop, so its request log can be compared
with what the client counted. A mix of every kind of call (reads, scale, stop of an unknown
container, creates with and without ``reconcile_by_name``) meets a mix of faults: 503s, nginx
502 pages, 429s with ``Retry-After: 0.01``, resets before and after the API acted, truncated
bodies and 20 ms latency. Each round checks that every call ended in a success or a typed
error, that the counts add up and agree with the simulator's log, that no create ran twice, and
that no connection is left acquired. A fault-free round runs beside each faulted one (in
alternating order) for the same-run ratio. Memory is measured apart, under ``tracemalloc``, over
repeated rounds on one client: the SDK's and aiohttp's allocations (the simulator's excluded)
after each round, and the growth per call between the second and the last round.

``tests/test_load.py`` runs the same harness with fewer calls (the test suite must stay fast).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import anyio

from autodl_async import (
    AutoDL,
    AutoDLError,
    ContainerTemplate,
    OutcomeUnknownError,
    RetryBudget,
    RetryPolicy,
)
from autodl_async.simulator import (
    FaultRule,
    RequestRecord,
    Simulator,
    SimulatorConfig,
    VirtualClock,
)

from ._result import Result, Row, main_for, make_row, versions
from ._stats import median, paired_ratios, spread

__all__ = [
    "FAULT_MIX",
    "LoadReport",
    "acquired_connections",
    "main",
    "measure_memory",
    "run",
    "run_load",
]

NAME: Final = "load"
TOKEN: Final = "load-token"
CONCURRENCY: Final = 200
#: Checked in this order, first applicable wins: together about 10 % of attempts.
FAULT_MIX: Final = (
    FaultRule(kind="status", status=503, probability=0.03),
    FaultRule(kind="html", probability=0.01),
    FaultRule(kind="rate_limit", retry_after=0.01, probability=0.02),
    FaultRule(kind="reset", probability=0.015),
    FaultRule(kind="reset", when="after", probability=0.005),
    FaultRule(kind="truncate", probability=0.015),
    FaultRule(kind="latency", latency=0.02, probability=0.01),
)
#: Quick backoff so a run takes seconds; everything else is the client's default policy.
POLICY: Final = RetryPolicy(backoff_base=0.01, backoff_cap=0.1)
UNKNOWN_CONTAINER: Final = "no-such-container-0"
RECONCILED: Final = "create_reconciled"
_VISIBLE: Final = (None, "latency")  # faults after which the client still sees the answer
_PACKAGES: Final = ("autodl-async", "aiohttp", "anyio", "msgspec")


@dataclass
class LoadReport:
    """What one run did, and everything needed to check it added up."""

    calls: int
    concurrency: int
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)  # "ok" or the error's class
    by_kind: Counter[tuple[str, str]] = field(default_factory=Counter)  # (call kind, outcome)
    untyped: list[str] = field(default_factory=list)  # anything not an AutoDLError
    attempts: int = 0  # the client's count of HTTP attempts ...
    failures: int = 0  # ... of which failed
    retries: int = 0
    logged: int = 0  # the simulator's request log ...
    answered: int = 0  # ... entries the client saw succeed (Success, unfaulted or only slowed)
    answered_extra: int = 0  # ... of which reconcile lookups and reconciled creates' posts
    faults: Counter[str] = field(default_factory=Counter)
    duplicate_creates: int = 0  # names with more than one deployment: must stay 0
    reposted_creates: int = 0  # a create sent again after an attempt that was not a 429: 0
    lost_creates: int = 0  # a create reported made whose deployment is missing: must stay 0
    phantom_reconciles: int = 0  # reconcile said "not made" but it was: must stay 0
    acquired_after: int = 0  # connections still acquired once every call returned
    budget_refusals: int = 0  # retries the client-wide RetryBudget refused
    resource_warnings: list[str] = field(default_factory=list)

    @property
    def faulted_share(self) -> float:
        return sum(self.faults.values()) / self.logged if self.logged else 0.0

    @property
    def succeeded(self) -> int:
        return self.outcomes["ok"]

    def share_as_without_faults(self) -> float:
        """Calls that ended as they would have without faults: reads and scales succeeded,
        the unknown container's stop was a ``NotFoundError``, a create returned its uuid."""
        expected = {"read": "ok", "scale": "ok", "stop_unknown": "NotFoundError"}
        good = sum(n for (kind, out), n in self.by_kind.items() if out == expected.get(kind, "ok"))
        return good / self.calls if self.calls else 0.0

    def count(self, kinds: tuple[str, ...], outcome: str | None = None) -> int:
        """Calls of these kinds (with this outcome, if given)."""
        return sum(
            n
            for (kind, out), n in self.by_kind.items()
            if kind in kinds and (outcome is None or out == outcome)
        )

    def problems(self) -> list[str]:
        """Every way this run failed to account for its calls (empty when it held)."""
        found = []
        if sum(self.outcomes.values()) != self.calls:
            found.append(f"{sum(self.outcomes.values())} outcomes for {self.calls} calls")
        if self.untyped:
            found.append(f"untyped exceptions: {self.untyped[:3]}")
        if self.attempts != self.logged:
            found.append(f"client sent {self.attempts} attempts, simulator logged {self.logged}")
        if self.attempts - self.failures != self.answered:
            found.append(
                f"{self.attempts} attempts - {self.failures} failed != {self.answered} answered"
            )
        plain_ok = sum(n for (kind, out), n in self.by_kind.items() if out == "ok") - sum(
            n for (kind, out), n in self.by_kind.items() if out == "ok" and kind == RECONCILED
        )
        if self.answered - self.answered_extra != plain_ok:
            found.append(
                f"{self.answered - self.answered_extra} answered attempts for {plain_ok} "
                "successful calls"
            )
        for name in (
            "duplicate_creates",
            "reposted_creates",
            "lost_creates",
            "phantom_reconciles",
            "acquired_after",
        ):
            if getattr(self, name):
                found.append(f"{name} = {getattr(self, name)}")
        if self.resource_warnings:
            found.append(f"ResourceWarnings: {self.resource_warnings[:3]}")
        return found


class CountingBudget(RetryBudget):
    """The default client-wide budget, counting the retries it refuses."""

    refused: int

    def __post_init__(self) -> None:
        RetryBudget.__post_init__(self)
        self.refused = 0

    def try_spend(self) -> bool:
        granted = RetryBudget.try_spend(self)
        self.refused += not granted
        return granted


def acquired_connections(client: AutoDL) -> int:
    """Connections the client's pool has handed out and not got back (aiohttp internals)."""
    session = client._transport._session
    if session is None or session.connector is None:
        return 0
    return len(session.connector._acquired)


def _template(sim: Simulator) -> ContainerTemplate:
    return ContainerTemplate(
        image_uuid=sim.images()[0].image_uuid,
        cmd="sleep infinity",
        gpu_name_set=["RTX 4090"],
        dc_list=["westDC2"],
        cuda_v_from=118,
        cuda_v_to=128,
    )


Call = Callable[[], Awaitable[Any]]


def _reconciled(index: int) -> bool:
    return index % 2 == 0


def _call_for(
    index: int, client: AutoDL, sim: Simulator, deployment: str, prefix: str
) -> tuple[str, Call]:
    """The ``index``-th call of the mix: (its kind, the call)."""
    slot = index % 100
    if slot < 35:
        return "read", lambda: client.containers.list_page(deployment)
    if slot < 50:
        return "read", lambda: client.deployments.list_page()
    if slot < 60:
        return "read", lambda: client.images.list_page()
    if slot < 70:
        return "read", lambda: client.gpu_stock.get("westDC2")
    if slot < 78:
        return "read", lambda: client.account.balance()
    if slot < 85:
        return "read", lambda: client.blacklist.list()
    if slot < 92:
        return "scale", lambda: client.deployments.set_replicas(deployment, 2)
    if slot < 96:
        return "stop_unknown", lambda: client.containers.stop(UNKNOWN_CONTAINER)
    reconcile = _reconciled(index)
    kind = RECONCILED if reconcile else "create"

    def create() -> Awaitable[str]:
        return client.deployments.create(
            name=f"{prefix}-{index}",
            deployment_type="ReplicaSet",
            replica_num=1,
            template=_template(sim),
            reconcile_by_name=reconcile,
        )

    return kind, create


async def _drive(
    client: AutoDL,
    sim: Simulator,
    calls: int,
    concurrency: int,
    deployment: str,
    prefix: str,
    report: LoadReport,
    created: dict[str, str | None],
) -> None:
    """``concurrency`` workers take the next call index until ``calls`` have run."""
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < calls:
            index = next_index
            next_index += 1
            kind, call = _call_for(index, client, sim, deployment, prefix)
            try:
                result = await call()
            except AutoDLError as exc:
                outcome = type(exc).__name__
                if kind.startswith("create"):
                    created[f"{prefix}-{index}"] = (
                        "unknown" if isinstance(exc, OutcomeUnknownError) else None
                    )
            except Exception as exc:
                outcome = "untyped"
                report.untyped.append(repr(exc))
            else:
                outcome = "ok"
                if kind.startswith("create"):
                    created[f"{prefix}-{index}"] = result
            report.outcomes[outcome] += 1
            report.by_kind[(kind, outcome)] += 1

    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)


def _is_reconcile_traffic(path: str, body: dict[str, Any] | None) -> bool:
    """A reconcile lookup, or the post of a create that reconciles by name."""
    name = body.get("name") if body else None
    if not isinstance(name, str):
        return False
    if path.endswith("/deployment/list"):
        return True
    return path.endswith("/deployment") and _reconciled(int(name.rsplit("-", 1)[1]))


def _reposts(log: tuple[RequestRecord, ...]) -> int:
    """Creates the client sent again although an earlier attempt may have been carried out.

    Only a 429 (refused unprocessed) may be followed by another POST of the same name; a
    never-sent attempt would not be in the log at all.
    """
    posts: dict[str, list[str | int | None]] = {}
    for record in log:
        if record.method == "POST" and record.path.endswith("/deployment") and record.body:
            posts.setdefault(str(record.body.get("name")), []).append(record.outcome)
    return sum(1 for outcomes in posts.values() if any(o != 429 for o in outcomes[:-1]))


def _check_creates(report: LoadReport, sim: Simulator, created: dict[str, str | None]) -> None:
    by_name: dict[str, list[str]] = {}
    for deployment in sim.deployments():
        by_name.setdefault(deployment.name, []).append(deployment.uuid)
    for name, result in created.items():
        made = by_name.get(name, [])
        if len(made) > 1:
            report.duplicate_creates += 1
        if result not in (None, "unknown") and made != [result]:
            report.lost_creates += 1
        if _reconciled(int(name.rsplit("-", 1)[1])) and result == "unknown" and made:
            report.phantom_reconciles += 1


async def _round(
    sim: Simulator, calls: int, concurrency: int, *, faults: bool, prefix: str
) -> LoadReport:
    """One run on a fresh account and a fresh client."""
    sim.reset()
    report = LoadReport(calls, concurrency)
    created: dict[str, str | None] = {}
    budget = CountingBudget()
    async with AutoDL(
        sim.token, base_url=sim.url, max_connections=concurrency, retry=POLICY, retry_budget=budget
    ) as client:
        deployment = await client.deployments.create(
            name="load-target", deployment_type="ReplicaSet", replica_num=2, template=_template(sim)
        )
        sim.clock.advance(60)  # both containers running
        baseline = len(sim.requests)
        stats = client.stats
        before = stats.requests, stats.failures, stats.retries
        if faults:
            for rule in FAULT_MIX:
                sim.faults.add(rule)
        started = time.perf_counter()
        await _drive(client, sim, calls, concurrency, deployment, prefix, report, created)
        report.seconds = time.perf_counter() - started
        report.acquired_after = acquired_connections(client)
        report.attempts = stats.requests - before[0]
        report.failures = stats.failures - before[1]
        report.retries = stats.retries - before[2]
        report.budget_refusals = budget.refused
    log = sim.requests[baseline:]
    report.logged = len(log)
    report.faults = Counter(r.fault for r in log if r.fault)
    answered = [r for r in log if r.outcome == "Success" and r.fault in _VISIBLE]
    report.answered = len(answered)
    report.answered_extra = sum(1 for r in answered if _is_reconcile_traffic(r.path, r.body))
    sim.faults.clear()
    _check_creates(report, sim, created)
    report.reposted_creates = _reposts(log)
    return report


async def run_load(
    calls: int, concurrency: int = CONCURRENCY, *, seed: int = 1, faults: bool = True
) -> LoadReport:
    """One checked run against a fresh simulator; ResourceWarnings are collected, not raised."""
    with warnings.catch_warnings():  # garbage left by earlier code is not this run's to report
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        config = SimulatorConfig(token=TOKEN, seed=seed, clock=VirtualClock())
        async with Simulator(config) as sim:
            report = await _round(sim, calls, concurrency, faults=faults, prefix="load")
        gc.collect()
    report.resource_warnings = [
        str(w.message) for w in caught if issubclass(w.category, ResourceWarning)
    ]
    return report


_NOT_SDK: Final = ("/autodl_async/simulator/", "/tracemalloc.py", "/bench_load.py")


def _sdk_bytes(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes still allocated by the client side: everything but the simulator and this file."""
    return sum(
        stat.size
        for stat in snapshot.statistics("filename")
        if not any(part in stat.traceback[0].filename for part in _NOT_SDK)
    )


async def measure_memory(
    rounds: int, calls: int, concurrency: int = CONCURRENCY, *, seed: int = 2
) -> list[int]:
    """SDK-side traced bytes after each of ``rounds`` rounds of ``calls`` faulted calls.

    All rounds run on one client, traced from the start (tracing from a later point would
    count the churn of untraced objects as growth); the first round is the warm-up (first
    connections, first decoders). The simulator is reset before every round (its request log
    and world would otherwise grow), the client is not: what it keeps is what would leak.
    """
    config = SimulatorConfig(token=TOKEN, seed=seed, clock=VirtualClock())
    sizes: list[int] = []
    async with (
        Simulator(config) as sim,
        AutoDL(sim.token, base_url=sim.url, max_connections=concurrency, retry=POLICY) as client,
    ):
        tracemalloc.start(1)
        try:
            for index in range(rounds):
                sim.reset()
                deployment = await client.deployments.create(
                    name="load-target",
                    deployment_type="ReplicaSet",
                    replica_num=2,
                    template=_template(sim),
                )
                for rule in FAULT_MIX:
                    sim.faults.add(rule)
                report = LoadReport(calls, concurrency)
                await _drive(client, sim, calls, concurrency, deployment, f"m{index}", report, {})
                gc.collect()
                sizes.append(_sdk_bytes(tracemalloc.take_snapshot()))
        finally:
            tracemalloc.stop()
    return sizes


def growth_per_call(sizes: list[int], calls: int) -> float:
    """Bytes kept per call: the least-squares slope of the sizes after rounds 2.. (the first
    round is the warm-up) against calls made. A slope, not last minus first, because single
    rounds wobble by tens of KiB (pool churn, free lists) without anything leaking."""
    steady = sizes[1:]
    if len(steady) < 2:
        return float("nan")
    xs = [calls * i for i in range(len(steady))]
    mean_x, mean_y = sum(xs) / len(xs), sum(steady) / len(steady)
    var = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, steady, strict=True)) / var


# -- the benchmark ------------------------------------------------------------------------------


async def _rounds(calls: int, repeats: int) -> tuple[list[LoadReport], list[LoadReport]]:
    faulted: list[LoadReport] = []
    clean: list[LoadReport] = []
    for index in range(repeats):
        order = (True, False) if index % 2 == 0 else (False, True)
        for with_faults in order:
            report = await run_load(calls, CONCURRENCY, seed=index + 1, faults=with_faults)
            (faulted if with_faults else clean).append(report)
    return faulted, clean


def run(quick: bool = False) -> Result:
    """The convention's entry point: the rows and notes of one benchmark run."""
    calls, repeats = (2_000, 1) if quick else (10_000, 3)
    mem_rounds, mem_calls = (4, 300) if quick else (6, 1_000)
    faulted, clean = anyio.run(_rounds, calls, repeats, backend="asyncio")
    sizes = anyio.run(measure_memory, mem_rounds, mem_calls, backend="asyncio")
    return _result(calls, repeats, faulted, clean, sizes, mem_calls)


def _result(
    calls: int,
    repeats: int,
    faulted: list[LoadReport],
    clean: list[LoadReport],
    sizes: list[int],
    mem_calls: int,
) -> Result:
    rate = [r.calls / r.seconds for r in faulted]
    clean_rate = [r.calls / r.seconds for r in clean]
    ratios = paired_ratios(rate, clean_rate)
    problems = [p for r in faulted + clean for p in r.problems()]
    reads = ("read", "scale")
    creates = ("create", RECONCILED)
    survived = [r.count(reads, "ok") / r.count(reads) for r in faulted]
    as_clean = [r.share_as_without_faults() * 100 for r in faulted]
    unknown = [float(r.count(creates, "OutcomeUnknownError")) for r in faulted]
    share = [r.faulted_share * 100 for r in faulted]
    injected = [float(sum(r.faults.values())) for r in faulted]
    growth = growth_per_call(sizes, mem_calls)
    rows: list[Row] = [
        make_row(
            f"{calls:,} calls, c={CONCURRENCY}, no faults",
            "throughput",
            median(clean_rate),
            "calls/s",
            spread=spread(clean_rate),
        ),
        make_row(
            f"{calls:,} calls, c={CONCURRENCY}, ~10 % of attempts faulted",
            "throughput",
            median(rate),
            "calls/s",
            ratio=median(ratios) if ratios else None,
            ratio_to="no faults",
            spread=spread(rate),
            ratio_spread=spread(ratios) if ratios else None,
        ),
        make_row("faulted attempts", "share of attempts", median(share), "%", spread=spread(share)),
        make_row("faults injected", "per run", median(injected), "faults", spread=spread(injected)),
        make_row(
            "idempotent calls (reads, scale) that succeeded despite faults",
            "share",
            median(survived) * 100,
            "%",
            aim="≥ 99 %",
            met=min(survived) >= 0.99,
            spread=(min(survived) * 100, max(survived) * 100),
        ),
        make_row(
            "all calls that ended as without faults",
            "share",
            median(as_clean),
            "%",
            spread=spread(as_clean),
        ),
        make_row(
            f"creates ({faulted[0].count(creates)}) answered OutcomeUnknownError, not retried",
            "per run",
            median(unknown),
            "creates",
            spread=spread(unknown),
        ),
        make_row(
            "calls unaccounted, duplicate creates, leaked connections, warnings",
            "count",
            float(len(problems)),
            "problems",
            aim="0",
            met=not problems,
        ),
        make_row(
            f"memory kept per call ({len(sizes)} rounds × {mem_calls:,} calls)",
            "traced bytes",
            growth,
            "B/call",
            aim="≤ 64 B/call",
            met=growth <= 64,
        ),
    ]
    last = faulted[-1]
    notes = [
        f"last faulted run: {dict(last.outcomes)}; by call kind {dict(last.by_kind)}",
        f"last faulted run: {last.attempts:,} attempts = {last.logged:,} logged by the simulator;"
        f" {last.retries:,} retries; faults {dict(last.faults)}",
        f"retries refused by the default RetryBudget (50 tokens, +0.1 per success) per faulted "
        f"run: {[r.budget_refusals for r in faulted]}; ~10 % faults is the budget's edge, so "
        "some calls end with their typed error instead of a 4th attempt",
        f"SDK-side traced bytes after each memory round: {sizes}",
        "in-process simulator on the same event loop: throughput includes the server's CPU",
        "backoff base 0.01 s, cap 0.1 s (the default policy otherwise); 429s carry "
        "Retry-After: 0.01",
    ]
    if problems:
        notes.append(f"PROBLEMS: {problems[:5]}")
    return {
        "benchmark": NAME,
        "workload": f"{calls:,} mixed calls at concurrency {CONCURRENCY} against the simulator "
        "with ~10 % faulted attempts",
        "repeats": repeats,
        "versions": versions(_PACKAGES),
        "rows": rows,
        "notes": notes,
    }


def main() -> None:
    main_for(run, NAME, __doc__)


if __name__ == "__main__":
    main()
