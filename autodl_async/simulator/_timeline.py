"""A priority queue of future world changes, drained lazily up to the current time.

No background task moves the world: each look at it first runs every due action in
(time, insertion) order, so the outcome depends only on the clock readings, never on
event-loop scheduling.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

__all__ = ["Timeline", "Timer"]

Action = Callable[[], None]


class Timer:
    """Handle of a scheduled action; cancelling is cheaper than removing it from the heap."""

    __slots__ = ("at", "cancelled")

    def __init__(self, at: float) -> None:
        self.at = at
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timeline:
    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer, Action]] = []
        self._seq = itertools.count()

    def schedule(self, at: float, action: Action) -> Timer:
        timer = Timer(at)
        heapq.heappush(self._heap, (at, next(self._seq), timer, action))
        return timer

    def pop_due(self, now: float) -> tuple[float, Action] | None:
        """The earliest live action due at or before `now`, removed from the queue."""
        while self._heap and self._heap[0][0] <= now:
            at, _, timer, action = heapq.heappop(self._heap)
            if not timer.cancelled:
                return at, action
        return None
