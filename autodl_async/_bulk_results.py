"""What a bulk run reports: one result per item, in input order, and the counts over them.

The result object exists before the run starts and is filled in as items finish, so whoever
holds it (a progress display, or a caller whose ``anyio.move_on_after`` cut the run short)
always sees an honest account: what succeeded, what failed and why, what was interrupted
mid-call (its outcome unknown) and what never started.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, overload

from ._errors import AutoDLError

__all__ = [
    "BulkError",
    "BulkResult",
    "BulkSummary",
    "ItemResult",
    "ItemStatus",
    "StopReason",
]

K = TypeVar("K")
V = TypeVar("V")

#: Why a run ended before every item had finished.
#: ``fail_fast``: an item failed and ``fail_fast=True``; ``aborted``: an item failed with an
#: error in ``abort_on`` (by default a refused token, which every other item would hit too);
#: ``cancelled``: the run was cancelled (``job.cancel()``, a timeout, Ctrl-C); ``error``: the
#: progress callback raised, or looking up the targets failed (the error is re-raised);
#: ``rate_limited``: a 429 asked for a longer pause (``Retry-After``) than a run waits out, so
#: the items left were not sent into it.
StopReason = Literal["fail_fast", "aborted", "cancelled", "error", "rate_limited"]


class ItemStatus(enum.StrEnum):
    """Where one item stands. Only the last four appear once a run is over."""

    PENDING = "pending"  # not started yet
    RUNNING = "running"  # its call is in flight
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the call raised; ``error`` says why
    CANCELLED = "cancelled"  # interrupted mid-call: the server may or may not have acted
    NOT_RUN = "not_run"  # the run stopped before this item started: nothing was sent


@dataclass(frozen=True, slots=True)
class ItemResult(Generic[K, V]):
    """One item's outcome. ``index`` is its position in the input (after de-duplication)."""

    index: int
    item: K
    status: ItemStatus = ItemStatus.PENDING
    value: V | None = None
    error: Exception | None = None
    #: How many times the item's call was started: more than 1 only after a 429 requeue.
    runs: int = 0
    #: Seconds from the item's first start to its end, by the runner's clock.
    elapsed: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.status is ItemStatus.SUCCEEDED

    def unwrap(self) -> V:
        """The value, or raise the item's error (``BulkError`` if it never finished)."""
        if self.status is ItemStatus.SUCCEEDED:
            return self.value  # type: ignore[return-value]  # None is a valid V here
        if self.error is not None:
            raise self.error
        raise BulkError(f"item {self.index} ({self.item!r}) has no value: {self.status}")


@dataclass(frozen=True, slots=True)
class BulkSummary:
    """Counts for a summary line or table; ``errors`` counts failures by exception type."""

    total: int
    succeeded: int
    failed: int
    cancelled: int
    not_run: int
    elapsed: float
    stopped: StopReason | None = None
    errors: dict[str, int] = field(default_factory=dict)
    #: 429 signals seen while the run was going (from any call of the client).
    rate_limited: int = 0
    #: The lowest the adaptive concurrency went.
    lowest_concurrency: int = 0

    @property
    def ok(self) -> bool:
        """Every item succeeded."""
        return self.succeeded == self.total

    def __str__(self) -> str:
        parts = [f"{self.succeeded} succeeded", f"{self.failed} failed"]
        if self.errors:
            parts[-1] += " (" + ", ".join(f"{k} {v}" for k, v in self.errors.items()) + ")"
        if self.cancelled:
            parts.append(f"{self.cancelled} cancelled")
        if self.not_run:
            parts.append(f"{self.not_run} not run")
        items = "1 item" if self.total == 1 else f"{self.total} items"
        line = f"{items}: " + ", ".join(parts) + f" in {self.elapsed:.2f}s"
        if self.rate_limited:
            line += f"; rate limited {self.rate_limited}x, concurrency down to "
            line += str(self.lowest_concurrency)
        return line + (f"; stopped: {self.stopped}" if self.stopped else "")


class BulkResult(Generic[K, V]):
    """Every item's :class:`ItemResult` in input order, filled in while the run goes.

    Index it, iterate it, or read the counts. ``finished`` turns true when the run is over,
    whether it completed or was stopped; ``stopped`` then says why it stopped early, if it did.
    """

    def __init__(self, items: Sequence[K] = ()) -> None:
        self._items: list[ItemResult[K, V]] = []
        self._counts: Counter[ItemStatus] = Counter()
        self._load(items)
        self.finished = False
        self.stopped: StopReason | None = None
        self.elapsed = 0.0
        self.rate_limited = 0
        self.lowest_concurrency = 0

    # -- filled in by the runner ------------------------------------------------------------

    def _load(self, items: Sequence[K]) -> None:
        self._items = [ItemResult(i, item) for i, item in enumerate(items)]
        self._counts = Counter({ItemStatus.PENDING: len(self._items)})

    def _set(self, result: ItemResult[K, V]) -> None:
        old = self._items[result.index]
        self._counts[old.status] -= 1
        self._counts[result.status] += 1
        self._items[result.index] = result

    def _finish(self, stopped: StopReason | None, elapsed: float) -> None:
        """Close the books: unstarted items did not run, in-flight ones were cancelled."""
        for entry in self._items:
            if entry.status is ItemStatus.PENDING:
                self._set(ItemResult(entry.index, entry.item, ItemStatus.NOT_RUN))
            elif entry.status is ItemStatus.RUNNING:
                self._set(
                    ItemResult(entry.index, entry.item, ItemStatus.CANCELLED, runs=entry.runs)
                )
        self.stopped = stopped
        self.elapsed = elapsed
        self.finished = True

    # -- reading ----------------------------------------------------------------------------

    @property
    def items(self) -> list[ItemResult[K, V]]:
        """A snapshot of every item's result, in input order."""
        return list(self._items)

    def count(self, status: ItemStatus) -> int:
        """How many items are in ``status`` now."""
        return self._counts[status]

    @property
    def total(self) -> int:
        return len(self._items)

    @property
    def succeeded(self) -> int:
        return self._counts[ItemStatus.SUCCEEDED]

    @property
    def failed(self) -> int:
        return self._counts[ItemStatus.FAILED]

    @property
    def cancelled(self) -> int:
        return self._counts[ItemStatus.CANCELLED]

    @property
    def not_run(self) -> int:
        return self._counts[ItemStatus.NOT_RUN]

    @property
    def done(self) -> int:
        """Items that finished, successfully or not."""
        return self.succeeded + self.failed

    @property
    def ok(self) -> bool:
        """The run is over and every item succeeded."""
        return self.finished and self.succeeded == self.total

    def successes(self) -> list[ItemResult[K, V]]:
        return [r for r in self._items if r.status is ItemStatus.SUCCEEDED]

    def failures(self) -> list[ItemResult[K, V]]:
        return [r for r in self._items if r.status is ItemStatus.FAILED]

    def unfinished(self) -> list[ItemResult[K, V]]:
        """Items that neither succeeded nor failed: the ones to look at or run again."""
        done = (ItemStatus.SUCCEEDED, ItemStatus.FAILED)
        return [r for r in self._items if r.status not in done]

    def values(self) -> list[V]:
        """The values of the items that succeeded, in input order."""
        return [r.value for r in self._items if r.status is ItemStatus.SUCCEEDED]  # type: ignore[misc]

    def summary(self) -> BulkSummary:
        errors = Counter(type(r.error).__name__ for r in self._items if r.error is not None)
        return BulkSummary(
            total=self.total,
            succeeded=self.succeeded,
            failed=self.failed,
            cancelled=self.cancelled,
            not_run=self.not_run,
            elapsed=self.elapsed,
            stopped=self.stopped,
            errors=dict(errors.most_common()),
            rate_limited=self.rate_limited,
            lowest_concurrency=self.lowest_concurrency,
        )

    def raise_for_failures(self) -> None:
        """Raise :class:`BulkError` unless every item succeeded."""
        if not self.ok:
            raise BulkError(str(self.summary()), result=self)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[ItemResult[K, V]]:
        return iter(list(self._items))

    @overload
    def __getitem__(self, index: int) -> ItemResult[K, V]: ...
    @overload
    def __getitem__(self, index: slice) -> list[ItemResult[K, V]]: ...
    def __getitem__(self, index: int | slice) -> ItemResult[K, V] | list[ItemResult[K, V]]:
        return self._items[index]

    def __repr__(self) -> str:
        state = "finished" if self.finished else "running"
        return (
            f"<BulkResult {state} total={self.total} succeeded={self.succeeded} "
            f"failed={self.failed} cancelled={self.cancelled} not_run={self.not_run}>"
        )


class BulkError(AutoDLError):
    """A bulk run did not succeed for every item; ``result`` has the per-item account."""

    def __init__(self, message: str, *, result: BulkResult[Any, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result
