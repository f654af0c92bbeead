"""Drive one kind of call at a fixed concurrency for a time window, and read what it cost.

Throughput alone hides where the time went on a 2-core box, so each window also records the
client's CPU per call (what carries over to a remote server) and the server's CPU share (to see
when the server, not the client, was the limit). ``concurrency`` workers each loop "call, count"
until the window closes; calls in flight then finish and count, and the window is as long as
the last of them took.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from ._cpu import process_cpu_seconds

__all__ = ["Window", "drive", "drive_sync"]


@dataclass
class Window:
    """What one window measured."""

    calls: int
    seconds: float
    client_cpu: float
    server_cpu: float
    latencies: list[float] = field(repr=False, default_factory=list)

    @property
    def rate(self) -> float:
        """Calls per second."""
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us_per_call(self) -> float:
        """Client CPU per call, µs."""
        return self.client_cpu / self.calls * 1e6 if self.calls else float("nan")

    @property
    def server_share(self) -> float:
        """Server CPU as a fraction of one core over the window."""
        return self.server_cpu / self.seconds if self.seconds > 0 else 0.0

    def latency_ms(self, quantile: float) -> float:
        """A latency quantile, ms (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(quantile * (len(ordered) - 1))))
        return ordered[index] * 1000


async def drive(
    call: Callable[[], Awaitable[object]],
    concurrency: int,
    window: float,
    server_pid: int,
    *,
    max_calls: int | None = None,
) -> Window:
    """``concurrency`` tasks calling ``call`` back to back for ``window`` seconds, or until
    ``max_calls`` calls have started (for calls that use something up, like a stop)."""
    latencies: list[float] = []
    clock = time.perf_counter
    ends_at = 0.0
    budget = [max_calls if max_calls is not None else -1]

    async def worker() -> None:
        while clock() < ends_at and budget[0] != 0:
            budget[0] -= 1
            started = clock()
            await call()
            latencies.append(clock() - started)

    server_before = process_cpu_seconds(server_pid)
    cpu_before = time.process_time()
    started = clock()
    ends_at = started + window
    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker)
    seconds = clock() - started
    return Window(
        calls=len(latencies),
        seconds=seconds,
        client_cpu=time.process_time() - cpu_before,
        server_cpu=process_cpu_seconds(server_pid) - server_before,
        latencies=latencies,
    )


def drive_sync(call: Callable[[], object], window: float, server_pid: int) -> Window:
    """One thread calling ``call`` back to back for ``window`` seconds (concurrency 1)."""
    latencies: list[float] = []
    clock = time.perf_counter
    server_before = process_cpu_seconds(server_pid)
    cpu_before = time.process_time()
    started = clock()
    ends_at = started + window
    while clock() < ends_at:
        began = clock()
        call()
        latencies.append(clock() - began)
    seconds = clock() - started
    return Window(
        calls=len(latencies),
        seconds=seconds,
        client_cpu=time.process_time() - cpu_before,
        server_cpu=process_cpu_seconds(server_pid) - server_before,
        latencies=latencies,
    )
