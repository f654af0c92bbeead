"""When a stream polls next, and how long it waits after a failed poll.

Quick while events flow, doubling towards ``max_interval`` while idle: an idle deployment
costs one request every ``max_interval`` seconds, a busy one is followed within
``min_interval``. A poll is due in a window ``[interval * (1 - jitter), interval]`` rather
than at an instant, which lets the shared scheduler put many streams on one wake-up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from ._errors import AutoDLError, RateLimitError

__all__ = ["PollPolicy"]

#: A failing API is probed at least this often, however long ``max_interval`` is.
RETRY_CAP: Final = 60.0


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Intervals in seconds of the client's clock (validated by the stream's options)."""

    min_interval: float = 1.0
    max_interval: float = 10.0
    jitter: float = 0.1

    def next_interval(self, current: float, *, flowing: bool) -> float:
        """The wait before the next poll, given the last one and whether it found rows."""
        if flowing:
            return self.min_interval
        return min(self.max_interval, max(current, self.min_interval) * 2)

    def window(self, now: float, interval: float) -> tuple[float, float]:
        """``(earliest, latest)`` clock times for a poll ``interval`` seconds from ``now``."""
        return now + interval * (1.0 - self.jitter), now + interval

    def retry_delay(self, failures: int, error: AutoDLError, rng: random.Random) -> float:
        """Backoff after ``failures`` failed polls in a row: doubling from ``min_interval``,
        half-jittered, capped, and never shorter than a 429's ``Retry-After``."""
        growth = self.min_interval * 2.0 ** min(failures - 1, 30)
        ceiling = min(max(RETRY_CAP, self.max_interval), growth)
        delay = ceiling * rng.uniform(0.5, 1.0)
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay
