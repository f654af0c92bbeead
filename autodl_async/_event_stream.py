"""Container events as a stream that yields every event exactly once, oldest to newest.

The API offers only a paged list (``container/event/list``) that is sorted newest first (the
doc; ``oldest_first`` servers are handled too) and whose rows have no id: an event is known
by ``(container, status, created_at)`` with ``created_at`` in whole seconds, and two events
may share a second. Turning that into a stream is done in three parts:

*Walk* (newest first). Each poll reads page 1 and further pages until a page reaches rows
older than the cursor's second, or the end. Rows move down while we page, because new
events are added at the top. When the server reports ``result_total`` (it counts the whole
list) each row's distance from the *bottom* of the list is known exactly, and that never
changes as events are added: rows are placed by it, repeats merge, and only the run of rows
that is contiguous from the bottom of what was read is used, so a burst bigger than a page
arriving mid-walk cannot open a hole. Without ``result_total`` consecutive pages are joined
on their longest overlap, and a page that cannot be joined restarts the walk.

*Cursor.* The newest second delivered, plus the multiset of ``(container, status)`` keys
delivered within that second, and nothing older: memory is bounded by one second's events.
A poll keeps rows at or after that second, drops the keys already delivered, and yields the
rest oldest first (same-second rows in the reverse of the server's newest-first order, which
is the order they were added). On an oldest-first server ``offset`` (rows consumed) is the
cursor; each page also re-reads the last consumed row and checks it, so a server that ignores
``offset`` is noticed instead of replaying history. The cursor is a msgspec Struct, encoded
as a short JSON string, valid in another process.

*Policy.* Polls are quick while events flow and back off to ``max_interval`` when idle, on
the client's shared wake-up grid (:mod:`._poll_scheduler`). Transient failures are retried
forever with backoff and never lose an event (a failed walk delivers nothing); fatal ones end
the stream with the typed error.

The stream is a plain async iterator class, not an async generator: no cancel scope or task
group is ever open across a ``yield``, and cancelling the consumer leaves the cursor exactly
at the last event it received.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Final, Literal, NamedTuple, TypeAlias

import anyio.lowlevel
import msgspec

from ._errors import (
    APIConnectionError,
    AutoDLError,
    InvalidParameterError,
    MalformedResponseError,
    RateLimitError,
    ServerError,
)
from ._poll_scheduler import PollScheduler
from .types.common import Page
from .types.events import ContainerEvent

__all__ = [
    "EndReason",
    "EventCursor",
    "EventStream",
    "FetchPage",
    "Order",
    "StreamStats",
    "is_transient",
]

logger: Final = logging.getLogger("autodl_async.events")

Order: TypeAlias = Literal["newest_first", "oldest_first"]
OrderChoice: TypeAlias = Literal["auto", "newest_first", "oldest_first"]
Start: TypeAlias = Literal["beginning", "now"]
EndReason: TypeAlias = Literal["timeout", "stopped", "container_status"]
#: ``fetch(page_index, page_size, offset)``: one page of the deployment's events.
FetchPage: TypeAlias = Callable[[int, int, int], Awaitable[Page[ContainerEvent]]]
#: ``done()``: whether the deployment is stopped with every container shut down.
DoneCheck: TypeAlias = Callable[[], Awaitable[bool]]
Key: TypeAlias = tuple[str, str, int]

_CURSOR_VERSION: Final = 1
_MAX_RESTARTS: Final = 8
_MAX_PAGES_PER_WALK: Final = 100_000
_OLDEST_FIRST_CHUNK_PAGES: Final = 50
_RETRY_CAP: Final = 60.0
# Lifecycle rank: lets same-second rows of one container reveal the server's order.
_RANK: Final = {
    s: i
    for i, s in enumerate(
        ("creating", "created", "starting", "oss_merged", "running", "shutting_down", "shutdown")
    )
}
_TRANSIENT: Final = (APIConnectionError, ServerError, RateLimitError, MalformedResponseError)


def is_transient(error: BaseException) -> bool:
    """Whether a poll that failed with ``error`` should be retried rather than end a stream."""
    return isinstance(error, _TRANSIENT)


class EventCursor(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a stream stands: pass it back as ``stream(..., cursor=...)`` to resume.

    ``second`` is the newest ``created_at`` delivered (Unix seconds); ``seen`` the
    ``(container_uuid, status)`` of every event delivered within that second (repeats kept);
    ``offset`` the rows consumed, used on oldest-first servers; ``order`` the server's sort
    order once known. Use :meth:`encode` / :meth:`decode` to store it.
    """

    deployment_uuid: str
    container_uuid: str | None = None
    order: Order | None = None
    second: int | None = None
    seen: tuple[tuple[str, str], ...] = ()
    offset: int = 0
    v: int = _CURSOR_VERSION

    def encode(self) -> str:
        """Compact JSON text, safe to write to a file or a database column."""
        return _CURSOR_ENCODER.encode(self).decode()

    @classmethod
    def decode(cls, data: str | bytes) -> EventCursor:
        """Read what :meth:`encode` wrote; :class:`InvalidParameterError` if it is not one."""
        raw = data.encode() if isinstance(data, str) else data
        try:
            cursor = _CURSOR_DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            raise InvalidParameterError("cursor", f"not an event cursor: {exc}") from None
        if cursor.v != _CURSOR_VERSION:
            raise InvalidParameterError(
                "cursor", f"cursor format v{cursor.v} is not supported (expected v1)"
            )
        if cursor.offset < 0 or (cursor.seen and cursor.second is None):
            raise InvalidParameterError("cursor", "inconsistent cursor fields")
        return cursor


_CURSOR_ENCODER: Final = msgspec.json.Encoder()
_CURSOR_DECODER: Final = msgspec.json.Decoder(EventCursor)


def coerce_cursor(cursor: EventCursor | str | bytes | None) -> EventCursor | None:
    """Accept a cursor or its encoded form."""
    if cursor is None or isinstance(cursor, EventCursor):
        return cursor
    if isinstance(cursor, str | bytes):
        return EventCursor.decode(cursor)
    raise InvalidParameterError("cursor", f"expected EventCursor or str, got {cursor!r}")


class Mark(NamedTuple):
    """An O(1) snapshot of a position: ``seen`` is shared and only ever appended to."""

    order: Order | None
    offset: int
    second: int | None
    seen: list[tuple[str, str]]
    length: int

    def cursor(self, deployment_uuid: str, container_uuid: str | None) -> EventCursor:
        return EventCursor(
            deployment_uuid=deployment_uuid,
            container_uuid=container_uuid,
            order=self.order,
            second=self.second,
            seen=tuple(self.seen[: self.length]),
            offset=self.offset,
        )


class _Position:
    """The mutable cursor. ``seen`` is replaced, never cleared, so old marks stay valid."""

    __slots__ = ("offset", "order", "second", "seen")

    def __init__(self, cursor: EventCursor | None) -> None:
        self.order: Order | None = cursor.order if cursor else None
        self.offset = cursor.offset if cursor else 0
        self.second: int | None = cursor.second if cursor else None
        self.seen: list[tuple[str, str]] = list(cursor.seen) if cursor else []

    def consume(self, event: ContainerEvent, second: int) -> None:
        if self.order == "oldest_first":
            self.offset += 1
        key = (event.deployment_container_uuid, event.status)
        if second == self.second:
            self.seen.append(key)
        else:
            self.second = second
            self.seen = [key]

    def seen_counts(self) -> Counter[tuple[str, str]]:
        return Counter(self.seen)

    def mark(self) -> Mark:
        return Mark(self.order, self.offset, self.second, self.seen, len(self.seen))


@dataclass(slots=True)
class StreamStats:
    """Counters of one stream, for health checks and dashboards.

    ``last_success`` is on the client's clock (monotonic by default); ``lag`` is how late the
    newest event was delivered: wall time at delivery minus its ``created_at`` (which has
    one-second precision, so up to one second of it is rounding).
    """

    polls: int = 0
    requests: int = 0
    retries: int = 0
    restarts: int = 0
    events: int = 0
    last_success: float | None = None
    last_error: str | None = None
    lag: float | None = None


@dataclass(slots=True)
class _Row:
    event: ContainerEvent
    second: int
    deliver: bool = True


class _Restart(Exception):
    """The list changed under a walk in a way the rows cannot be placed; walk again."""


class _OrderSwitch(Exception):
    """Auto mode found an oldest-first server while walking as if newest first."""


def _second(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _seconds(rows: Sequence[ContainerEvent]) -> list[int]:
    """Whole-second timestamps; a missing ``created_at`` borrows its neighbour's."""
    raw = [_second(r.created_at) for r in rows]
    filled: list[int] = []
    last: int | None = None
    for value in raw:
        last = value if value is not None else last
        filled.append(last if last is not None else -1)
    if filled and filled[0] == -1:
        first = next((v for v in raw if v is not None), 0)
        filled = [first if v == -1 else v for v in filled]
    return filled


def _key(row: ContainerEvent, second: int) -> Key:
    return (row.deployment_container_uuid, row.status, second)


def order_evidence(rows: Sequence[ContainerEvent], seconds: Sequence[int]) -> Order | None:
    """Which way a page is sorted, from its timestamps, else from one container's lifecycle.

    ``None`` when the page cannot tell (under two rows, all in one second, no ranked pair).
    """
    descending = ascending = False
    for newer, older in itertools.pairwise(seconds):
        descending |= newer > older
        ascending |= newer < older
    if descending and ascending:
        raise MalformedResponseError(
            "event rows are not sorted by created_at", endpoint="container/event/list"
        )
    if descending or ascending:
        return "newest_first" if descending else "oldest_first"
    last_rank: dict[str, int] = {}
    votes = 0
    for row in rows:
        rank = _RANK.get(row.status)
        if rank is None:
            continue
        previous = last_rank.get(row.deployment_container_uuid)
        if previous is not None and previous != rank:
            votes += 1 if previous > rank else -1
        last_rank[row.deployment_container_uuid] = rank
    if votes:
        return "newest_first" if votes > 0 else "oldest_first"
    return None


def _overlap(previous: Sequence[Key], page: Sequence[Key]) -> int:
    """Length of the longest suffix of ``previous`` that is a prefix of ``page``."""
    if not previous or not page:
        return 0
    first = page[0]
    for start, key in enumerate(previous):
        if key == first:
            length = len(previous) - start
            if length <= len(page) and list(previous[start:]) == list(page[:length]):
                return length
    return 0


class _Walk(NamedTuple):
    rows: list[_Row]  # newest first, contiguous
    behind: bool  # newer rows exist that this walk did not place


class EventStream:
    """``async for event in stream``: every event of a deployment once, oldest first.

    Made by :meth:`Events.stream`; see its docstring for the options. Read ``cursor`` after
    any event to checkpoint, ``stats`` for health, ``end_reason`` after the loop ends.
    """

    def __init__(
        self,
        fetch: FetchPage,
        deployment_uuid: str,
        *,
        scheduler: PollScheduler,
        container_uuid: str | None = None,
        cursor: EventCursor | str | bytes | None = None,
        start: Start = "beginning",
        order: OrderChoice = "auto",
        page_size: int = 100,
        min_interval: float = 1.0,
        max_interval: float = 10.0,
        jitter: float = 0.1,
        done_check: DoneCheck | None = None,
        until_container_status: tuple[str, str] | None = None,
        timeout: float | None = None,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        resumed = coerce_cursor(cursor)
        _check_options(
            deployment_uuid,
            container_uuid,
            resumed,
            start,
            order,
            page_size,
            min_interval,
            max_interval,
            jitter,
            timeout,
        )
        self.deployment_uuid = deployment_uuid
        self.container_uuid = container_uuid
        self.stats = StreamStats()
        self.end_reason: EndReason | None = None
        self._fetch = fetch
        self._scheduler = scheduler
        self._clock = scheduler.clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._page_size = page_size
        self._min_interval = min_interval
        self._max_interval = max_interval
        self._jitter = jitter
        self._done_check = done_check
        self._until = until_container_status
        self._timeout = timeout
        self._explicit: Order | None = None if order == "auto" else order
        self._pos = _Position(resumed)
        if self._explicit is not None:
            self._pos.order = self._explicit
        self._skip_history = start == "now" and resumed is None
        self._batch: list[_Row] = []
        self._batch_at = 0
        self._interval = min_interval
        self._next_poll: tuple[float, float] | None = None  # (earliest, latest); None: now
        self._deadline: float | None = None
        self._last_done_check: float | None = None
        self._check_done_now = False
        self._final_poll = False
        self._final_done = False
        self._ended = False
        self._busy = False
        self._force_overlap = False

    # -- public surface -------------------------------------------------------------------

    @property
    def cursor(self) -> EventCursor:
        """The position after the last event this stream returned."""
        return self.mark().cursor(self.deployment_uuid, self.container_uuid)

    @property
    def order(self) -> Order | None:
        """The server's sort order, once known."""
        return self._pos.order

    def mark(self) -> Mark:
        """A cheap snapshot of :attr:`cursor` (used by ``watch_many`` per event)."""
        return self._pos.mark()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ContainerEvent:
        if self._busy:
            raise RuntimeError("another task is already iterating this event stream")
        self._busy = True
        try:
            return await self._next()
        finally:
            self._busy = False

    async def aclose(self) -> None:
        """End the stream; further iteration stops at once."""
        self._ended = True
        self._batch = []

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"EventStream(deployment_uuid={self.deployment_uuid!r}, order={self.order!r}, "
            f"events={self.stats.events}, polls={self.stats.polls})"
        )

    # -- iteration ------------------------------------------------------------------------

    async def _next(self) -> ContainerEvent:
        if self._deadline is None and self._timeout is not None:
            self._deadline = self._clock() + self._timeout
        while not self._ended:
            event = self._take()
            if event is not None:
                return event
            if self._final_done:
                self._end("stopped")
                break
            if not await self._wait_for_poll():
                break
            await self._poll_with_retries()
        raise StopAsyncIteration

    def _take(self) -> ContainerEvent | None:
        """Next deliverable row of the current batch, advancing the cursor past every row."""
        while self._batch_at < len(self._batch):
            row = self._batch[self._batch_at]
            self._batch_at += 1
            self._pos.consume(row.event, row.second)
            if not row.deliver:
                continue
            self.stats.events += 1
            self.stats.lag = self._wall_clock() - row.second
            if self._until is not None and self._until == (
                row.event.deployment_container_uuid,
                row.event.status,
            ):
                self._end("container_status")
                self._batch = []
            return row.event
        self._batch, self._batch_at = [], 0
        return None

    def _end(self, reason: EndReason) -> None:
        self._ended = True
        self.end_reason = reason

    async def _wait_for_poll(self) -> bool:
        """Sleep until the next poll is due; ``False`` if the timeout came first."""
        if self._deadline is not None and self._clock() >= self._deadline:
            self._end("timeout")
            return False
        if self._next_poll is None:
            await anyio.lowlevel.checkpoint()
            return True
        earliest, latest = self._next_poll
        if self._deadline is not None and earliest > self._deadline:
            await self._scheduler.sleep_until(self._deadline)
            self._end("timeout")
            return False
        await self._scheduler.sleep_within(earliest, latest, self._rng)
        return True

    async def _poll_with_retries(self) -> None:
        final = self._final_poll
        failures = 0
        while True:
            try:
                delivered, behind = await self._poll()
            except AutoDLError as error:
                if not is_transient(error):
                    self.stats.last_error = f"{type(error).__name__}: {error}"
                    raise
                failures += 1
                self.stats.retries += 1
                self.stats.last_error = f"{type(error).__name__}: {error}"
                delay = self._retry_delay(failures, error)
                logger.debug(
                    "event poll of %s failed (%s); retry %d in %.2fs",
                    self.deployment_uuid,
                    type(error).__name__,
                    failures,
                    delay,
                )
                now = self._clock()
                if self._deadline is not None and now + delay >= self._deadline:
                    await self._scheduler.sleep_until(max(now, self._deadline))
                    self._end("timeout")
                    return
                await self._scheduler.sleep_within(now + delay * 0.9, now + delay, self._rng)
                continue
            self.stats.polls += 1
            self.stats.last_success = self._clock()
            if final and not behind:
                self._final_done = True
            self._schedule_next(delivered, behind)
            await self._maybe_check_done(delivered, behind)
            return

    def _retry_delay(self, failures: int, error: AutoDLError) -> float:
        growth = self._min_interval * 2.0 ** min(failures - 1, 32)
        ceiling = min(max(_RETRY_CAP, self._max_interval), growth)
        delay = ceiling * self._rng.uniform(0.5, 1.0)
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    def _schedule_next(self, delivered: int, behind: bool) -> None:
        if behind:
            self._next_poll = None
            return
        if delivered:
            self._interval = self._min_interval
        else:
            self._interval = min(self._max_interval, self._interval * 2)
        now = self._clock()
        self._next_poll = (now + self._interval * (1 - self._jitter), now + self._interval)

    async def _maybe_check_done(self, delivered: int, behind: bool) -> None:
        if self._done_check is None or self._final_poll or behind:
            return
        if any(r.event.status == "shutdown" for r in self._batch):
            self._check_done_now = True
        now = self._clock()
        due = self._last_done_check is None or now - self._last_done_check >= self._max_interval
        if not (self._check_done_now or (delivered == 0 and due)):
            return
        self._check_done_now = False
        self._last_done_check = now
        try:
            done = await self._done_check()
        except AutoDLError as error:
            if not is_transient(error):
                raise
            self.stats.retries += 1
            self.stats.last_error = f"{type(error).__name__}: {error}"
            return
        if done:
            # One more poll picks up anything logged between the last poll and the check.
            self._final_poll = True
            self._next_poll = None

    # -- one poll -------------------------------------------------------------------------

    async def _poll(self) -> tuple[int, bool]:
        """Read what is new into the batch; returns (rows to deliver, more are waiting)."""
        if self._pos.order == "oldest_first":
            rows, behind = await self._poll_oldest_first()
        else:
            try:
                rows, behind = await self._poll_newest_first()
            except _OrderSwitch:
                await self._switch_to_oldest_first()
                rows, behind = await self._poll_oldest_first()
        if self.container_uuid is not None:
            for row in rows:
                row.deliver = row.event.deployment_container_uuid == self.container_uuid
        if self._skip_history:
            # start="now": what is stored already is consumed without being delivered.
            for row in rows:
                self._pos.consume(row.event, row.second)
            rows = []
            self._skip_history = behind
        self._batch, self._batch_at = rows, 0
        return sum(r.deliver for r in rows), behind

    async def _fetch_page(self, page_index: int, offset: int) -> Page[ContainerEvent]:
        self.stats.requests += 1
        return await self._fetch(page_index, self._page_size, offset)

    def _check_order(self, rows: Sequence[ContainerEvent], seconds: Sequence[int]) -> None:
        evidence = order_evidence(rows, seconds)
        if evidence is None or evidence == self._pos.order:
            return
        if self._explicit is not None:
            raise InvalidParameterError(
                "order",
                f"the server sent events {evidence.replace('_', ' ')}, not "
                f"{self._explicit.replace('_', ' ')}; use order='auto'",
            )
        if self._pos.order is None and evidence == "newest_first":
            self._pos.order = "newest_first"
            return
        if self._pos.order is None:
            raise _OrderSwitch
        raise MalformedResponseError(
            f"the server switched its event order to {evidence}", endpoint="container/event/list"
        )

    async def _poll_newest_first(self) -> tuple[list[_Row], bool]:
        threshold = self._pos.second
        if self._skip_history and threshold is None:
            # Skipping history needs only the newest second's rows, not the whole list.
            first = await self._fetch_page(1, 0)
            seconds = _seconds(first.rows)
            self._check_order(first.rows, seconds)
            if self._pos.order == "oldest_first":
                raise _OrderSwitch
            threshold = seconds[0] if seconds else None
            if threshold is None:
                self._skip_history = False
                return [], False
        walk = await self._walk(threshold)
        seen = self._pos.seen_counts() if threshold == self._pos.second else Counter()
        fresh: list[_Row] = []
        for row in reversed(walk.rows):
            if threshold is not None and row.second < threshold:
                continue
            if row.second == self._pos.second:
                key = (row.event.deployment_container_uuid, row.event.status)
                if seen[key] > 0:
                    seen[key] -= 1
                    continue
            fresh.append(row)
        return fresh, walk.behind

    async def _walk(self, threshold: int | None) -> _Walk:
        for _ in range(_MAX_RESTARTS):
            try:
                return await self._walk_once(threshold)
            except _Restart as why:
                self.stats.restarts += 1
                logger.debug("restarting the event walk of %s: %s", self.deployment_uuid, why)
        raise MalformedResponseError(
            f"the event list kept changing while it was paged ({_MAX_RESTARTS} walks)",
            endpoint="container/event/list",
        )

    async def _walk_once(self, threshold: int | None) -> _Walk:
        size = self._page_size
        by_position: dict[int, _Row] = {}  # rows placed by distance from the bottom
        joined: list[_Row] = []  # rows joined on overlaps, newest first
        previous_keys: list[Key] = []
        use_totals: bool | None = None
        top = -1
        for page_index in range(1, _MAX_PAGES_PER_WALK + 1):
            page = await self._fetch_page(page_index, 0)
            rows = page.rows
            seconds = _seconds(rows)
            self._check_order(rows, seconds)
            keys = [_key(r, s) for r, s in zip(rows, seconds, strict=True)]
            if use_totals is None:
                use_totals = page.result_total is not None and not self._force_overlap
            if use_totals:
                if page.result_total is None:
                    self._force_overlap = True
                    raise _Restart("result_total disappeared mid-walk")
                high = page.result_total - 1 - (page_index - 1) * size
                if page_index > 1 and keys == previous_keys and page.result_total == top + 1:
                    raise MalformedResponseError(
                        f"event page {page_index} repeated page {page_index - 1}",
                        endpoint="container/event/list",
                    )
                top = max(top, page.result_total - 1)
                for j, (row, second, key) in enumerate(zip(rows, seconds, keys, strict=True)):
                    position = high - j
                    if position < 0:
                        self._force_overlap = True
                        raise _Restart("result_total is smaller than the rows listed")
                    placed = by_position.get(position)
                    if placed is not None and _key(placed.event, placed.second) != key:
                        # An append-only list never does this: the totals are not reliable.
                        self._force_overlap = True
                        raise _Restart(f"row {position} changed between two pages")
                    by_position[position] = _Row(row, second)
                reached_bottom = high - len(rows) + 1 <= 0
            else:
                start = _overlap(previous_keys, keys) if page_index > 1 else 0
                fresh = [_Row(r, s) for r, s in zip(rows[start:], seconds[start:], strict=True)]
                if page_index > 1 and rows and not fresh:
                    raise _Restart(f"page {page_index} only repeated rows already read")
                if fresh and joined and fresh[0].second > joined[-1].second:
                    raise _Restart(f"page {page_index} does not continue page {page_index - 1}")
                joined.extend(fresh)
                reached_bottom = False
            previous_keys = keys
            if (
                not rows
                or len(rows) < size
                or reached_bottom
                or (threshold is not None and seconds[-1] < threshold)
            ):
                break
        else:
            raise MalformedResponseError(
                f"more than {_MAX_PAGES_PER_WALK} event pages", endpoint="container/event/list"
            )
        if not use_totals:
            return _Walk(joined, behind=False)
        if not by_position:
            return _Walk([], behind=False)
        lowest = min(by_position)
        highest = lowest
        while highest + 1 in by_position:
            highest += 1
        rows_newest_first = [by_position[p] for p in range(highest, lowest - 1, -1)]
        return _Walk(rows_newest_first, behind=highest < top)

    # -- oldest-first servers -------------------------------------------------------------

    async def _switch_to_oldest_first(self) -> None:
        """Auto mode learnt the order late: find how many rows were consumed so far."""
        self._pos.order = "oldest_first"
        second = self._pos.second
        if second is None:
            self._pos.offset = 0
            return
        remaining = self._pos.seen_counts()
        consumed = 0
        page_index = 1
        while True:
            page = await self._fetch_page(page_index, 0)
            rows = page.rows
            for row, row_second in zip(rows, _seconds(rows), strict=True):
                key = (row.deployment_container_uuid, row.status)
                if row_second < second:
                    consumed += 1
                elif row_second == second and remaining[key] > 0:
                    remaining[key] -= 1
                    consumed += 1
                else:
                    self._pos.offset = consumed
                    return
            if len(rows) < self._page_size:
                self._pos.offset = consumed
                return
            page_index += 1

    async def _poll_oldest_first(self) -> tuple[list[_Row], bool]:
        consumed = self._pos.offset
        anchor = self._pos.seen_counts() if consumed else None
        anchor_second = self._pos.second
        collected: list[_Row] = []
        for _ in range(_OLDEST_FIRST_CHUNK_PAGES):
            offset = consumed - 1 if consumed else 0
            page = await self._fetch_page(1, offset)
            rows = page.rows
            seconds = _seconds(rows)
            self._check_order(rows, seconds)
            if consumed:
                if not rows or not self._is_anchor(rows[0], seconds[0], anchor, anchor_second):
                    raise MalformedResponseError(
                        f"the event at offset {offset} is not the last one consumed: the "
                        "server does not page by offset as expected",
                        endpoint="container/event/list",
                    )
                body = list(zip(rows[1:], seconds[1:], strict=True))
            else:
                body = list(zip(rows, seconds, strict=True))
            collected.extend(_Row(r, s) for r, s in body)
            consumed += len(body)
            if body:
                last_row, last_second = body[-1]
                anchor_second = last_second
                anchor = Counter({(last_row.deployment_container_uuid, last_row.status): 1})
            if len(rows) < self._page_size:
                return collected, False
        return collected, True

    @staticmethod
    def _is_anchor(
        row: ContainerEvent,
        second: int,
        anchor: Counter[tuple[str, str]] | None,
        anchor_second: int | None,
    ) -> bool:
        if anchor is None:
            return True
        return second == anchor_second and anchor[(row.deployment_container_uuid, row.status)] > 0


def _check_options(
    deployment_uuid: str,
    container_uuid: str | None,
    cursor: EventCursor | None,
    start: str,
    order: str,
    page_size: int,
    min_interval: float,
    max_interval: float,
    jitter: float,
    timeout: float | None,
) -> None:
    if not isinstance(deployment_uuid, str) or not deployment_uuid.strip():
        raise InvalidParameterError("deployment_uuid", "must be a non-empty string")
    if start not in ("beginning", "now"):
        raise InvalidParameterError("start", f"must be 'beginning' or 'now', got {start!r}")
    if order not in ("auto", "newest_first", "oldest_first"):
        raise InvalidParameterError(
            "order", f"must be 'auto', 'newest_first' or 'oldest_first', got {order!r}"
        )
    if not 1 <= page_size <= 1000:
        raise InvalidParameterError("page_size", f"must be within 1..1000, got {page_size}")
    if not 0 < min_interval <= max_interval:
        raise InvalidParameterError(
            "min_interval", f"need 0 < min_interval <= max_interval, got {min_interval}"
        )
    if not 0 <= jitter < 1:
        raise InvalidParameterError("jitter", f"must be within [0, 1), got {jitter}")
    if timeout is not None and timeout < 0:
        raise InvalidParameterError("timeout", f"must be >= 0 or None, got {timeout}")
    if cursor is None:
        return
    if start != "beginning":
        raise InvalidParameterError("start", "give either a cursor or start='now', not both")
    if cursor.deployment_uuid != deployment_uuid:
        raise InvalidParameterError(
            "cursor", f"belongs to deployment {cursor.deployment_uuid!r}, not {deployment_uuid!r}"
        )
    if cursor.container_uuid != container_uuid:
        raise InvalidParameterError(
            "cursor", f"was taken with container_uuid={cursor.container_uuid!r}"
        )
    if order != "auto" and cursor.order is not None and cursor.order != order:
        raise InvalidParameterError("order", f"the cursor says the server is {cursor.order}")
