"""Run one async call over many items: bounded, adaptive, and every item accounted for.

Design, and why:

* **N workers, not one task per item.** ``min(concurrency, len(items))`` worker tasks pull
  ``(index, item)`` pairs from a zero-buffer memory stream fed by one producer, so 100,000 items
  cost N tasks, and an item is either still with the producer (never started) or in a worker's
  hands. Each worker records its item's outcome itself; an exception never escapes into the
  task group, so one failure cannot cancel the others.
* **An adaptive ``CapacityLimiter``** bounds calls in flight. A 429 (seen through the client's
  throttle listener, or as an item's :class:`RateLimitError`) halves ``total_tokens`` once per
  pause; successes add one token back per window of ``current`` successes, up to the maximum.
  The client's :class:`~autodl_async._throttle.Throttle` already pauses *every* attempt of the
  client after a 429, so all workers wait together; the limiter makes them come back fewer.
* **429 requeue.** The server answers 429 without acting, so an item whose call still ended in
  :class:`RateLimitError` (retry attempts or the client's retry budget ran out mid-storm) is
  run again after the hint, at most ``rate_limit_retries`` times; a hint longer than the
  runner waits out stops the run instead, since every item left would be refused too. Other
  errors are never repeated here: the transport has already retried what is safe to retry,
  within the client-wide :class:`RetryBudget` that keeps a failing API from a retry storm.
* **Cancellation keeps the books.** The :class:`BulkResult` exists before the run and is
  closed in a ``finally``: in-flight items become ``cancelled``, unstarted ones ``not_run``. A
  caller whose ``anyio.move_on_after`` cut the run short reads ``job.result``.
* **No scope across ``yield``.** Results as they complete come from an async context manager
  that owns the task group and hands out a memory stream (anyio's advice; an async generator
  yielding inside a task group corrupts the cancel-scope stack).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable
from typing import Any, Final, Generic, Literal, TypeGuard, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._bulk_results import BulkResult, ItemResult, ItemStatus, StopReason
from ._errors import (
    AuthenticationError,
    InvalidParameterError,
    PermissionDeniedError,
    RateLimitError,
)
from ._throttle import Throttle

__all__ = [
    "DEFAULT_ABORT_ON",
    "DEFAULT_CONCURRENCY",
    "BulkJob",
    "ProgressCallback",
    "ResultStream",
]

K = TypeVar("K")
V = TypeVar("V")

logger: Final = logging.getLogger("autodl_async")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
#: ``on_progress(done, failed, total)``: ``done`` counts finished items, failed ones included.
ProgressCallback = Callable[[int, int, int], object]

#: Calls in flight per bulk run unless asked otherwise: enough to finish 1,000 stops in seconds,
#: few enough not to look like an attack on an API with no documented rate limit.
DEFAULT_CONCURRENCY: Final = 16
#: Errors that every other item would hit as well (a refused token, an account without
#: enterprise verification): the first one stops the run instead of sending hundreds more.
DEFAULT_ABORT_ON: Final[tuple[type[Exception], ...]] = (AuthenticationError, PermissionDeniedError)
#: A 429 hint longer than this is not waited out by the runner (the transport's own cap).
_MAX_REQUEUE_WAIT: Final = 60.0
#: Wait before a requeue when the 429 came without a Retry-After (doubled per run).
_REQUEUE_BASE_WAIT: Final = 1.0
#: A decrease holds for the pause it answered, and at least this long, so that the burst of
#: 429s from every call in flight lowers concurrency once, not once per call.
_MIN_HOLD: Final = 0.5

_State = Literal["new", "running", "done"]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_options(
    *,
    concurrency: object,
    fail_fast: object,
    abort_on: object,
    on_progress: object,
    requests_per_second: object,
    rate_limit_retries: object,
) -> None:
    """Reject a bad option before anything is sent, naming it (not a TypeError mid-run)."""
    if not _is_int(concurrency) or concurrency < 1:
        raise InvalidParameterError("concurrency", f"must be an int >= 1, got {concurrency!r}")
    if not isinstance(fail_fast, bool):
        raise InvalidParameterError("fail_fast", f"must be True or False, got {fail_fast!r}")
    if not isinstance(abort_on, tuple) or not all(
        isinstance(t, type) and issubclass(t, BaseException) for t in abort_on
    ):
        raise InvalidParameterError(
            "abort_on", f"must be a tuple of exception types, got {abort_on!r}"
        )
    if on_progress is not None and not callable(on_progress):
        raise InvalidParameterError(
            "on_progress", f"must be a callable (done, failed, total), got {on_progress!r}"
        )
    if requests_per_second is not None and (
        isinstance(requests_per_second, bool)
        or not isinstance(requests_per_second, int | float)
        or not math.isfinite(requests_per_second)
        or requests_per_second <= 0
    ):
        raise InvalidParameterError(
            "requests_per_second", f"must be a number > 0 or None, got {requests_per_second!r}"
        )
    if not _is_int(rate_limit_retries) or rate_limit_retries < 0:
        raise InvalidParameterError(
            "rate_limit_retries", f"must be an int >= 0, got {rate_limit_retries!r}"
        )


def _beyond_requeue(error: Exception | None) -> bool:
    """A 429 whose ``Retry-After`` is longer than the runner waits before a requeue."""
    hint = error.retry_after if isinstance(error, RateLimitError) else None
    return hint is not None and hint > _MAX_REQUEUE_WAIT


class _AdaptiveLimit:
    """AIMD over a ``CapacityLimiter``: halve on a rate-limit signal, creep back on success."""

    def __init__(self, maximum: int, clock: Clock) -> None:
        self.limiter = anyio.CapacityLimiter(maximum)
        self.maximum = maximum
        self.lowest = maximum
        self._clock = clock
        self._hold_until = -math.inf
        self._successes = 0

    @property
    def current(self) -> int:
        return int(self.limiter.total_tokens)

    def on_rate_limited(self, delay: float) -> None:
        now = self._clock()
        if now < self._hold_until:
            return  # the same pause as the last decrease
        self._hold_until = now + max(delay, _MIN_HOLD)
        self._successes = 0
        lowered = max(1, self.current // 2)
        if lowered < self.current:
            self.limiter.total_tokens = lowered
            self.lowest = min(self.lowest, self.current)
            logger.debug("bulk: rate limited, concurrency lowered to %d", lowered)

    def on_success(self) -> None:
        if self.current >= self.maximum or self._clock() < self._hold_until:
            return
        self._successes += 1
        if self._successes >= self.current:
            self._successes = 0
            self.limiter.total_tokens = self.current + 1


class ResultStream(Generic[K, V]):
    """Item results in completion order: ``async for r in stream``. ``result`` is the total."""

    def __init__(self, receive: MemoryObjectReceiveStream[ItemResult[K, V]], job: BulkJob[K, V]):
        self._receive = receive
        self.job = job

    @property
    def result(self) -> BulkResult[K, V]:
        return self.job.result

    def __aiter__(self) -> ResultStream[K, V]:
        return self

    async def __anext__(self) -> ItemResult[K, V]:
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None


class BulkJob(Generic[K, V]):
    """One bulk run of ``fn`` over ``items``. Nothing happens until it is awaited.

    ``result = await job`` runs it and returns the :class:`BulkResult`; ``job.result`` is the
    same object, readable at any time (also after a cancellation). ``await job.resolve()``
    returns the targets without acting, for a dry run. A job runs once.

    Options: ``concurrency`` is the most calls in flight (lowered on 429s, restored slowly);
    ``fail_fast`` stops the run at the first failure, cancelling calls in flight;
    ``abort_on`` lists error types that stop it likewise even without ``fail_fast``;
    ``on_progress(done, failed, total)`` is called once at the start and after every item;
    ``requests_per_second`` caps how fast items start (the client's own cap covers every
    attempt); ``rate_limit_retries`` is how often an item refused with 429 is run again.
    """

    def __init__(
        self,
        items: Iterable[K],
        fn: Callable[[K], Awaitable[V]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        fail_fast: bool = False,
        abort_on: tuple[type[Exception], ...] = DEFAULT_ABORT_ON,
        on_progress: ProgressCallback | None = None,
        requests_per_second: float | None = None,
        rate_limit_retries: int = 3,
        throttle: Throttle | None = None,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
        resolver: Callable[[], Awaitable[Iterable[K]]] | None = None,
    ) -> None:
        _check_options(
            concurrency=concurrency,
            fail_fast=fail_fast,
            abort_on=abort_on,
            on_progress=on_progress,
            requests_per_second=requests_per_second,
            rate_limit_retries=rate_limit_retries,
        )
        self._fn = fn
        self._resolver = resolver
        self._targets: list[K] | None = None if resolver is not None else list(items)
        self._result: BulkResult[K, V] = BulkResult(self._targets or ())
        self._max_concurrency = concurrency
        self._fail_fast = fail_fast
        self._abort_on = abort_on
        self._on_progress = on_progress
        self._rps = requests_per_second
        self._rate_limit_retries = rate_limit_retries
        self._throttle = throttle
        self._sleep: Sleep = sleep or (throttle.sleep if throttle else anyio.sleep)
        self._clock: Clock = clock or (throttle.clock if throttle else time.monotonic)
        self._state: _State = "new"
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False
        self._stop_reason: StopReason | None = None
        self._callback_error: Exception | None = None
        self._limit: _AdaptiveLimit | None = None
        self._gate: Throttle | None = None
        self._sink: MemoryObjectSendStream[ItemResult[K, V]] | None = None

    # -- state ------------------------------------------------------------------------------

    @property
    def result(self) -> BulkResult[K, V]:
        """The per-item account, filled in as the run goes."""
        return self._result

    @property
    def targets(self) -> list[K] | None:
        """The items this job will run over, or ``None`` until :meth:`resolve` has run."""
        return None if self._targets is None else list(self._targets)

    @property
    def max_concurrency(self) -> int:
        return self._max_concurrency

    @property
    def concurrency(self) -> int:
        """Calls allowed in flight right now (below the maximum after 429s)."""
        return self._limit.current if self._limit else self._max_concurrency

    @property
    def running(self) -> bool:
        return self._state == "running"

    def cancel(self) -> None:
        """Stop the run from anywhere; ``await job`` then returns the partial result."""
        self._cancel_requested = True
        self._stop("cancelled")

    async def resolve(self) -> list[K]:
        """The targets, looked up once (a deployment's containers, say) and kept."""
        if self._targets is None:
            assert self._resolver is not None
            self._targets = list(await self._resolver())
            self._result._load(self._targets)
        return list(self._targets)

    # -- running ----------------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, BulkResult[K, V]]:
        return self.run().__await__()

    async def run(self) -> BulkResult[K, V]:
        """Run every item (or until stopped) and return the result."""
        if self._state == "done":
            return self._result
        if self._state == "running":
            raise RuntimeError("this bulk job is already running")
        self._state = "running"
        started = self._clock()
        remove_listener: Callable[[], None] | None = None
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self._cancel_requested:
                    scope.cancel()
                items = await self.resolve()
                self._limit = _AdaptiveLimit(max(1, self._max_concurrency), self._clock)
                if self._rps is not None:
                    self._gate = Throttle(
                        requests_per_second=self._rps, sleep=self._sleep, clock=self._clock
                    )
                if self._throttle is not None:
                    remove_listener = self._throttle.add_listener(self._on_rate_limit_signal)
                self._report_progress()
                if items:
                    await self._work(items)
        except BaseException as exc:
            cancelled = isinstance(exc, anyio.get_cancelled_exc_class())
            self._stop_reason = self._stop_reason or ("cancelled" if cancelled else "error")
            raise
        finally:
            if remove_listener is not None:
                remove_listener()
            if self._limit is not None:
                self._result.lowest_concurrency = self._limit.lowest
            self._result._finish(self._stop_reason, self._clock() - started)
            self._state = "done"
            if self._sink is not None:
                self._sink.close()
        if self._callback_error is not None:
            raise self._callback_error
        return self._result

    @contextlib.asynccontextmanager
    async def as_completed(self) -> AsyncIterator[ResultStream[K, V]]:
        """Run the job while the block iterates its results in completion order.

        Leaving the block early stops the run; ``stream.result`` holds the account either way::

            async with job.as_completed() as stream:
                async for r in stream:
                    print(r.item, r.status)
        """
        if self._state != "new":
            raise RuntimeError("as_completed() needs a job that has not run yet")
        items = await self.resolve()
        send, receive = anyio.create_memory_object_stream[ItemResult[K, V]](max(1, len(items)))
        self._sink = send
        failure: list[Exception] = []

        async def drive() -> None:
            try:
                await self.run()
            except Exception as exc:  # the progress callback raised: re-raised below
                failure.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(drive)
            try:
                with receive:
                    yield ResultStream(receive, self)
            finally:
                self.cancel()  # leaving early stops the run; a no-op once it is over
        if failure:
            raise failure[0]

    async def _work(self, items: list[K]) -> None:
        send, receive = anyio.create_memory_object_stream[tuple[int, K]](0)
        async with anyio.create_task_group() as tg:
            for _ in range(min(self._max_concurrency, len(items))):
                tg.start_soon(self._worker, receive.clone())
            receive.close()
            tg.start_soon(self._feed, send, items)

    async def _feed(self, send: MemoryObjectSendStream[tuple[int, K]], items: list[K]) -> None:
        async with send:
            for pair in enumerate(items):
                await send.send(pair)

    async def _worker(self, receive: MemoryObjectReceiveStream[tuple[int, K]]) -> None:
        async with receive:
            async for index, item in receive:
                await self._run_item(index, item)

    async def _run_item(self, index: int, item: K) -> None:
        assert self._limit is not None
        runs = 0
        started = 0.0
        while True:
            async with self._limit.limiter:
                if self._gate is not None:
                    await self._gate.wait()
                runs += 1
                if runs == 1:
                    started = self._clock()
                self._result._set(ItemResult(index, item, ItemStatus.RUNNING, runs=runs))
                try:
                    value = await self._fn(item)
                except Exception as exc:
                    wait = self._requeue_wait(exc, runs)
                    if wait is None:
                        self._record(index, item, ItemStatus.FAILED, None, exc, runs, started)
                        return
                else:
                    self._record(index, item, ItemStatus.SUCCEEDED, value, None, runs, started)
                    return
            # Refused with 429 and not acted on: let every worker hear it, wait, run it again.
            if self._throttle is not None:
                self._throttle.on_rate_limited(wait)  # pauses the client; tells our listener
            else:
                self._on_rate_limit_signal(wait)
            await self._sleep(wait)

    def _requeue_wait(self, exc: Exception, runs: int) -> float | None:
        if not isinstance(exc, RateLimitError) or runs > self._rate_limit_retries:
            return None
        if exc.retry_after is None:
            return min(_MAX_REQUEUE_WAIT, _REQUEUE_BASE_WAIT * 2.0 ** (runs - 1))
        return exc.retry_after if exc.retry_after <= _MAX_REQUEUE_WAIT else None

    def _record(
        self,
        index: int,
        item: K,
        status: ItemStatus,
        value: V | None,
        error: Exception | None,
        runs: int,
        started: float,
    ) -> None:
        entry = ItemResult(index, item, status, value, error, runs, self._clock() - started)
        self._result._set(entry)
        assert self._limit is not None
        if status is ItemStatus.SUCCEEDED:
            self._limit.on_success()
        elif isinstance(error, RateLimitError):
            self._on_rate_limit_signal(error.retry_after or 0.0)
        if self._sink is not None:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._sink.send_nowait(entry)
        self._report_progress()
        if status is ItemStatus.FAILED:
            if isinstance(error, self._abort_on):
                self._stop("aborted")
            elif _beyond_requeue(error):
                # The API asked for a longer pause than a run waits out: every other item
                # would be refused too, so sending them would only hammer it.
                self._stop("rate_limited")
            elif self._fail_fast:
                self._stop("fail_fast")

    def _on_rate_limit_signal(self, delay: float) -> None:
        self._result.rate_limited += 1
        if self._limit is not None:
            self._limit.on_rate_limited(delay)

    def _report_progress(self) -> None:
        if self._on_progress is None:
            return
        result = self._result
        try:
            self._on_progress(result.done, result.failed, result.total)
        except Exception as exc:
            logger.debug("bulk: progress callback raised %r; stopping the run", exc)
            self._callback_error = exc
            self._on_progress = None
            self._stop("error")

    def _stop(self, reason: StopReason) -> None:
        if self._stop_reason is None and self._state != "done":
            self._stop_reason = reason
        if self._scope is not None:
            self._scope.cancel()

    def __repr__(self) -> str:
        return (
            f"<BulkJob {self._state} concurrency={self.concurrency}/{self._max_concurrency} "
            f"{self._result!r}>"
        )
