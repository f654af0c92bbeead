"""Simulated time sources.

The world is advanced lazily whenever someone looks at it, so a clock only has to say what
time it is. `VirtualClock` makes lifecycle tests exact and sleep-free; `WallClock` lets a
standalone server move by itself, faster than real time so lifecycles are watchable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Final

import anyio.lowlevel

__all__ = ["CST", "DEFAULT_EPOCH", "VirtualClock", "WallClock"]

CST: Final = timezone(timedelta(hours=8))
# A fixed start keeps every timestamp of a seeded run reproducible.
DEFAULT_EPOCH: Final = datetime(2026, 9, 1, 10, 0, 0, tzinfo=CST).timestamp()


def _check_step(seconds: float) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"time only moves forward by a finite amount, got {seconds!r}")
    return float(seconds)


class VirtualClock:
    """Simulated time that only moves when the test says so."""

    __slots__ = ("_now",)

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._now = float(start)

    def now(self) -> float:
        """Simulated Unix time in seconds."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move simulated time forward; due transitions run on the next look at the world."""
        self._now += _check_step(seconds)

    async def sleep(self, seconds: float) -> None:
        """A ``sleep`` for a client on this clock: moves simulated time instead of waiting.

        Pass it with ``clock=clock.now`` (``AutoDL(..., sleep=clock.sleep, clock=clock.now)``)
        so the client's backoff, waiters and streams run in simulated time. The sleep ends no
        earlier than the instant it was due, and yields to the event loop before moving the
        clock, so sleeps that start together (a task group, a bulk job's workers) overlap
        rather than add up: ten 3-second sleeps side by side take 3 simulated seconds.
        """
        due = self._now + max(seconds, 0.0)
        await anyio.lowlevel.checkpoint()
        if due > self._now:
            self._now = due

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now!r})"


class WallClock:
    """Real monotonic time scaled by `speed`, starting at `start` on the first reading.

    Anchoring on first use (when a `Simulator` is built on it) rather than on construction
    keeps a config made long before the server from starting with hours already elapsed.
    `monotonic` is injectable so the scaling can be tested without sleeping.
    """

    __slots__ = ("_monotonic", "_origin", "_skipped", "speed", "start")

    def __init__(
        self,
        speed: float = 20.0,
        start: float = DEFAULT_EPOCH,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not math.isfinite(speed) or speed <= 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = float(speed)
        self.start = float(start)
        self._monotonic = monotonic
        self._origin: float | None = None
        self._skipped = 0.0

    def now(self) -> float:
        """Simulated Unix time in seconds."""
        real = self._monotonic()
        if self._origin is None:
            self._origin = real
        return self.start + self._skipped + (real - self._origin) * self.speed

    def advance(self, seconds: float) -> None:
        """Jump ahead by `seconds` of simulated time, on top of the running clock.

        Exists so code typed against either clock can fast-forward a standalone server.
        """
        self._skipped += _check_step(seconds)

    def __repr__(self) -> str:
        return f"WallClock(speed={self.speed!r}, start={self.start!r})"
