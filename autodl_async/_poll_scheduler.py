"""One timer per wake-up instant, shared by every poller of a client.

A hundred streams that each sleep on their own timer wake the event loop a hundred times a
second; on a small VM each wake-up of an idle CPU costs ~430 µs, so that alone is ~11 % of a
core (docs/perf-limits.md, event polling), against ~2.4 % when the same polls wake together.
Pollers therefore do not pick an exact instant: they give the scheduler a *window* (a poll
interval minus its jitter), and the scheduler puts them on a grid of ``tick`` seconds,
preferring a grid point some other poller already sleeps until. Only one task per grid point really
sleeps (the "leader"); the others wait on an event it sets. If the leader is cancelled, a
follower takes over, so cancelling one stream never strands the others.
"""

from __future__ import annotations

import math
import random
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Final

import anyio
import anyio.lowlevel

__all__ = ["DEFAULT_TICK", "PollScheduler", "shared_scheduler"]

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

#: Grid spacing in seconds. With the default 10 % jitter a 1 s poll interval has a 0.1 s
#: window, so at least one grid point always falls inside it.
DEFAULT_TICK: Final = 0.1
_EPSILON: Final = 1e-9


class _Slot:
    """Everyone sleeping until one grid point."""

    __slots__ = ("at", "changed", "done", "leader", "waiters")

    def __init__(self, at: float) -> None:
        self.at = at
        self.done = False
        self.leader = False
        self.waiters = 0
        self.changed = anyio.Event()

    def notify(self) -> None:
        event, self.changed = self.changed, anyio.Event()
        event.set()


class PollScheduler:
    """Coalesces poll deadlines onto shared wake-ups (see the module docstring).

    ``sleep`` and ``clock`` are injectable so tests can run it on virtual time; ``wakeups``
    counts the sleeps really performed, which is what costs CPU.
    """

    def __init__(
        self,
        *,
        sleep: Sleep = anyio.sleep,
        clock: Clock = time.monotonic,
        tick: float = DEFAULT_TICK,
    ) -> None:
        if not tick > 0:
            raise ValueError(f"tick must be > 0, got {tick!r}")
        self.sleep = sleep
        self.clock = clock
        self.tick = tick
        self.wakeups = 0
        self._slots: dict[int, _Slot] = {}

    def pick(self, earliest: float, latest: float, rng: random.Random | None = None) -> float:
        """A grid instant in ``[earliest, latest]``, joining an existing wake-up if possible.

        With no grid point in the window (a window narrower than the tick), the first grid
        point after ``earliest`` is used, so a poll is late by less than one tick.
        """
        latest = max(latest, earliest)
        low = math.ceil(earliest / self.tick - _EPSILON)
        high = math.floor(latest / self.tick + _EPSILON)
        if high < low:
            return low * self.tick
        for index in range(low, min(high, low + 1000) + 1):
            if index in self._slots:
                return index * self.tick
        chosen = (rng or random).randint(low, high)
        return chosen * self.tick

    async def sleep_until(self, at: float) -> None:
        """Return at clock time ``at`` (rounded up to the grid), sharing the timer."""
        index = math.ceil(at / self.tick - _EPSILON)
        when = index * self.tick
        if when <= self.clock():
            await anyio.lowlevel.checkpoint()
            return
        slot = self._slots.get(index)
        if slot is None:
            slot = self._slots[index] = _Slot(when)
        slot.waiters += 1
        try:
            while not slot.done:
                if slot.leader:
                    await slot.changed.wait()
                    continue
                slot.leader = True
                try:
                    remaining = slot.at - self.clock()
                    if remaining > 0:
                        self.wakeups += 1
                        await self.sleep(remaining)
                    slot.done = True
                finally:
                    slot.leader = False
                    slot.notify()
        finally:
            slot.waiters -= 1
            if (slot.done or slot.waiters == 0) and self._slots.get(index) is slot:
                del self._slots[index]

    async def sleep_within(
        self, earliest: float, latest: float, rng: random.Random | None = None
    ) -> None:
        """Sleep until a shared instant between ``earliest`` and ``latest`` (clock times)."""
        await self.sleep_until(self.pick(earliest, latest, rng))


_SHARED: weakref.WeakKeyDictionary[object, PollScheduler] = weakref.WeakKeyDictionary()


def shared_scheduler(owner: object, *, sleep: Sleep, clock: Clock) -> PollScheduler:
    """The scheduler of ``owner`` (one per client transport), created on first use."""
    scheduler = _SHARED.get(owner)
    if scheduler is None or scheduler.sleep is not sleep or scheduler.clock is not clock:
        scheduler = _SHARED[owner] = PollScheduler(sleep=sleep, clock=clock)
    return scheduler
