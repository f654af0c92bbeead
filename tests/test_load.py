"""Load with about 10 % faulted attempts at concurrency 200: nothing lost, duplicated or leaked.

The harness is the load benchmark's (``benchmarks/bench_load.py``), run here with 3,000 calls
so the suite stays fast; the benchmark runs the full 10,000. Each check below would fail if the
SDK dropped a call, raised something untyped, retried behind the policy's back, repeated a
create whose answer was lost, left a connection acquired or an object unclosed, or kept memory
per call.
"""

from __future__ import annotations

import pytest

import autodl_async
from benchmarks.bench_load import (
    CONCURRENCY,
    RECONCILED,
    growth_per_call,
    measure_memory,
    run_load,
)

pytestmark = pytest.mark.anyio

CALLS = 3_000
#: Every error the SDK can raise, by name: what a call may end with besides "ok".
TYPED = {name for name in dir(autodl_async) if name.endswith("Error")}


async def test_every_call_is_accounted_for_under_faults() -> None:
    report = await run_load(CALLS, CONCURRENCY, seed=3)

    # Every call ended, in a success or a typed error; the client's counts agree with the
    # simulator's request log; no create ran twice; no connection or socket was left behind.
    assert report.problems() == []
    assert sum(report.outcomes.values()) == CALLS
    assert report.untyped == []
    assert report.attempts == report.logged
    assert report.acquired_after == 0
    assert report.resource_warnings == []

    # The faults really happened, every kind of them, on about a tenth of the attempts.
    assert set(report.faults) == {"status", "html", "rate_limit", "reset", "truncate", "latency"}
    assert 0.07 <= report.faulted_share <= 0.13, report.faults
    assert report.retries > 0.05 * CALLS

    # ... and were survived: idempotent calls succeed (4 attempts each; a few end with their
    # typed error when the default RetryBudget runs dry, which ~10 % faults is the edge of),
    # the unknown container is a NotFoundError whenever it got through, a create is a uuid or
    # "unknown".
    by_kind = report.by_kind
    reads = sum(n for (kind, _), n in by_kind.items() if kind in ("read", "scale"))
    reads_ok = by_kind[("read", "ok")] + by_kind[("scale", "ok")]
    assert reads_ok >= 0.98 * reads, report.by_kind
    assert set(report.outcomes) <= {"ok"} | TYPED, report.outcomes
    assert by_kind[("stop_unknown", "NotFoundError")] >= 0.95 * (CALLS * 4 // 100), by_kind
    unknown = (
        by_kind[("create", "OutcomeUnknownError")] + by_kind[(RECONCILED, "OutcomeUnknownError")]
    )
    assert unknown > 0, by_kind  # some creates' answers were lost ...
    assert report.reposted_creates == 0  # ... and none was sent again
    assert report.duplicate_creates == 0
    assert report.phantom_reconciles == 0


async def test_fault_free_run_is_exact() -> None:
    report = await run_load(500, CONCURRENCY, seed=4, faults=False)
    assert report.problems() == []
    assert report.faults == {}
    assert report.retries == 0
    assert report.attempts == report.logged
    unknown = report.by_kind[("stop_unknown", "NotFoundError")]
    assert unknown == 500 * 4 // 100  # the mix's share of stops of an unknown container
    assert report.outcomes == {"ok": 500 - unknown, "NotFoundError": unknown}


async def test_memory_stays_flat_over_rounds() -> None:
    """Traced bytes of the client side after each round of faulted calls on one client."""
    calls = 200
    sizes = await measure_memory(rounds=4, calls=calls, concurrency=50)
    assert len(sizes) == 4
    # Rounds 2-4 hold within noise (tens of KiB); keeping even ~250 bytes per call (an
    # envelope, a response, an exception with its traceback) would exceed this.
    assert sizes[-1] - sizes[1] < 96 * 1024, sizes
    assert growth_per_call(sizes, calls) < 250, sizes
