"""The loop every waiter runs: observe, decide, sleep, within one wall-clock bound.

Kept apart from the waiters themselves (which only say what to read and when it is done) so
the pacing rules live in one place: polls come every ``interval`` while the state changes and
back off by half again per unchanged poll up to ``max_interval``, with jitter, on the client's
shared wake-up grid; a transient failure is retried (honouring ``Retry-After``) and never ends
the wait; the last poll starts a little before the bound, so its answer still counts.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeVar

from ._config import NOT_GIVEN, NotGiven, Seconds
from ._errors import (
    AutoDLError,
    InvalidParameterError,
    RateLimitError,
    WaitTimeoutError,
    is_transient,
)
from ._poll_scheduler import shared_scheduler

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "Pace",
    "make_pace",
    "poll_until",
    "positive",
]

logger: Final = logging.getLogger("autodl_async.waiters")

#: Seconds a waiter waits when ``timeout`` is left out. Boots take about a minute on the live
#: service; ten minutes covers a slow schedule without hanging a script that forgot a bound.
DEFAULT_WAIT_TIMEOUT: Final = 600.0
#: Seconds between polls while the state changes.
DEFAULT_INTERVAL: Final = 2.0
#: Seconds between polls once nothing has changed for a while, and between retries at most.
DEFAULT_MAX_INTERVAL: Final = 15.0

_GROWTH: Final = 1.5  # interval multiplier per poll that saw no change
_JITTER: Final = 0.1  # a poll is due anywhere in the last tenth of its interval
_FINAL_MARGIN: Final = 1.0  # the last poll starts this long before the deadline (at most)
_MIN_PAUSE: Final = 0.05  # less time than this left before the last poll: stop

S = TypeVar("S")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Pace:
    """A wait's bound and poll pace, already checked."""

    timeout: float | None
    interval: float
    max_interval: float


def positive(param: str, value: object) -> float:
    """A finite number of seconds > 0, or :class:`InvalidParameterError` naming ``param``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(param, f"must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidParameterError(param, f"must be a finite number > 0, got {value!r}")
    return float(value)


def make_pace(timeout: Seconds | NotGiven, interval: float, max_interval: float) -> Pace:
    """Check a waiter's time arguments: left out means the default, ``None`` no limit."""
    if isinstance(timeout, NotGiven):
        limit: float | None = DEFAULT_WAIT_TIMEOUT
    elif timeout is None:
        limit = None
    else:
        if isinstance(timeout, float | int) and math.isinf(timeout):
            raise InvalidParameterError("timeout", "use None, not infinity, for no limit")
        limit = positive("timeout", timeout)
    low = positive("interval", interval)
    high = positive("max_interval", max_interval)
    if high < low:
        raise InvalidParameterError("max_interval", f"must be >= interval ({high!r} < {low!r})")
    return Pace(limit, low, high)


async def poll_until(
    transport: Transport,
    rng: random.Random,
    *,
    what: str,
    observe: Callable[[Seconds | NotGiven], Awaitable[S]],
    decide: Callable[[S], R | None],
    fingerprint: Callable[[S], Hashable],
    describe: Callable[[S], str],
    pace: Pace,
    on_poll: Callable[[S], object] | None,
) -> R:
    """Observe, decide, sleep; until ``decide`` returns a result, raises, or time is up.

    ``observe(deadline)`` reads the state, each request bounded by the time the wait has left;
    ``fingerprint`` tells a changed state from an unchanged one (unchanged polls back off);
    ``describe`` words the last state for the timeout message.
    """
    clock = transport.clock
    scheduler = shared_scheduler(transport, sleep=transport.sleep, clock=clock)
    ends_at = None if pace.timeout is None else clock() + pace.timeout
    last: S | None = None
    last_error: AutoDLError | None = None
    seen: Hashable = object()
    delay = pace.interval
    failures = 0
    while True:
        try:
            state = await observe(_call_deadline(transport, ends_at))
        except AutoDLError as error:
            if transport.closed or not is_transient(error):
                raise
            failures += 1
            last_error = error
            pause = _retry_pause(rng, failures, error, pace)
            logger.debug(
                "waiting for %s: poll failed (%s), retry %d in %.2fs",
                what,
                type(error).__name__,
                failures,
                pause,
            )
        else:
            failures = 0
            last, last_error = state, None
            if on_poll is not None:
                on_poll(state)
            result = decide(state)
            if result is not None:
                return result
            mark = fingerprint(state)
            delay = pace.interval if mark != seen else min(pace.max_interval, delay * _GROWTH)
            seen = mark
            pause = delay
        now = clock()
        latest = now + pause
        if ends_at is not None and pace.timeout is not None:
            # The last poll starts a little before the end, so its answer still counts.
            last_start = ends_at - min(_FINAL_MARGIN, pace.timeout / 10)
            if last_start - now < _MIN_PAUSE:
                raise _timed_out(what, pace, last, last_error, describe)
            latest = min(latest, last_start)
        await scheduler.sleep_within(min(now + pause * (1 - _JITTER), latest), latest, rng)


def _call_deadline(transport: Transport, ends_at: float | None) -> Seconds | NotGiven:
    """Bound each request by the time the wait has left, so a hung call cannot overrun it."""
    if ends_at is None:
        return NOT_GIVEN
    left = max(ends_at - transport.clock(), 0.001)
    default = transport.deadline
    return left if default is None else min(left, default)


def _retry_pause(rng: random.Random, failures: int, error: AutoDLError, pace: Pace) -> float:
    ceiling = min(pace.max_interval, pace.interval * 2.0 ** min(failures - 1, 32))
    pause = ceiling * rng.uniform(0.5, 1.0)
    if isinstance(error, RateLimitError) and error.retry_after is not None:
        pause = max(pause, error.retry_after)
    return pause


def _timed_out(
    what: str,
    pace: Pace,
    last: S | None,
    last_error: AutoDLError | None,
    describe: Callable[[S], str],
) -> WaitTimeoutError:
    seen = "no poll succeeded" if last is None else f"last seen: {describe(last)}"
    if last_error is not None:
        seen += f"; the last poll failed with {type(last_error).__name__}: {last_error}"
    error = WaitTimeoutError(
        f"gave up after {pace.timeout:g}s waiting for {what}; {seen}", last=last
    )
    error.__cause__ = last_error
    return error
