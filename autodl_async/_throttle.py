"""Client-wide back-pressure: a shared pause after a 429, and an optional request rate cap.

When the server says "slow down" to one task, every task of the client should hear it: a 429
with ``Retry-After`` pauses all new attempts of the client until the hint has passed, instead of
each worker discovering the limit for itself. Listeners (the bulk runner) are told as well, so
they can lower their concurrency.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

import anyio

from ._errors import InvalidParameterError

__all__ = ["Throttle"]

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
Listener = Callable[[float], None]


def _check_rate(value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InvalidParameterError(
            "requests_per_second", f"must be a number > 0 or None, got {value!r}"
        )


class Throttle:
    """Holds the client's pause-until time and rate cap; every attempt passes through it."""

    def __init__(
        self,
        *,
        requests_per_second: float | None = None,
        sleep: Sleep = anyio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        _check_rate(requests_per_second)
        self._rate = requests_per_second
        self._sleep = sleep
        self._clock = clock
        self._paused_until = 0.0
        self._next_slot = 0.0
        self._listeners: list[Listener] = []
        self.pauses = 0

    @property
    def requests_per_second(self) -> float | None:
        """The cap, or ``None`` for none."""
        return self._rate

    @requests_per_second.setter
    def requests_per_second(self, value: float | None) -> None:
        _check_rate(value)
        self._rate = value

    @property
    def paused_until(self) -> float:
        """Clock time before which no attempt starts."""
        return self._paused_until

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(delay)`` on every rate-limit signal; returns a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def on_rate_limited(self, delay: float) -> None:
        """Pause every attempt of the client for ``delay`` seconds from now."""
        until = self._clock() + max(0.0, delay)
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1
        for listener in list(self._listeners):
            listener(delay)

    def delay(self) -> float:
        """Seconds the next attempt would wait now, at least (others may take slots first).

        Lets a call with a deadline fail at once instead of sleeping through a pause that
        outlasts it.
        """
        now = self._clock()
        wait = self._paused_until - now
        if self._rate is not None:
            wait = max(wait, self._next_slot - now)
        return max(0.0, wait)

    async def wait(self) -> None:
        """Sleep through any pause, then take a rate slot."""
        while True:
            now = self._clock()
            wait = self._paused_until - now
            if self._rate is not None:
                slot = max(self._next_slot, now)
                wait = max(wait, slot - now)
            if wait <= 0:
                break
            await self._sleep(wait)
        if self._rate is not None:
            self._next_slot = max(self._next_slot, self._clock()) + 1.0 / self._rate

    # -- Read-only views for the bulk runner: it relates a listener's ``delay`` to
    # -- this clock and sleeps through 429 requeues with the same (injectable) sleep.

    @property
    def clock(self) -> Clock:
        """The clock ``paused_until`` is measured on."""
        return self._clock

    @property
    def sleep(self) -> Sleep:
        """The sleep function the gate uses."""
        return self._sleep
