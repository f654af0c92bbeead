"""Container events as an async iterator: every event once, oldest to newest, resumable.

``EventStream`` owns the loop: hand out the rows of the last poll one by one, moving the
cursor past each as it is handed out, then wait (on the client's shared wake-up grid) and
poll again. The cursor therefore always stands exactly after the last event the consumer
received, whether the consumer stops, is cancelled, or the process dies and a new one
resumes from the saved cursor.

It is a plain class, not an async generator: no cancel scope or task group is ever held open
across the point where the consumer gets an event. Transient failures (connection errors,
timeouts, 5xx, 429, malformed bodies) are retried with backoff for as long as it takes and
never lose an event, since a failed poll delivers nothing; fatal ones (token, permission, not
found, a list that cannot be followed) end the stream with the typed error.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Literal, TypeAlias

import anyio.lowlevel

from ._config import NOT_GIVEN, NotGiven
from ._errors import AutoDLError, is_transient
from ._event_cursor import EventCursor, Mark, Position, coerce_cursor
from ._event_options import StreamOptions
from ._event_poller import Batch, Poller
from ._event_rows import Order, Row
from ._poll_scheduler import PollScheduler
from .types.common import Page
from .types.events import ContainerEvent

__all__ = ["DoneCheck", "EndReason", "EventStream", "FetchPage", "StreamStats"]

logger: Final = logging.getLogger("autodl_async.events")

EndReason: TypeAlias = Literal[
    "closed", "timeout", "deployment_stopped", "container_status", "caught_up", "error"
]
#: ``fetch(page_index, page_size, deadline)``: one page of the deployment's events.
FetchPage: TypeAlias = Callable[[int, int, float | NotGiven], Awaitable[Page[ContainerEvent]]]
#: Whether the deployment is stopped with every container shut down.
DoneCheck: TypeAlias = Callable[[], Awaitable[bool]]


@dataclass(slots=True)
class StreamStats:
    """Counters of one stream, for health checks and dashboards.

    ``polls``: polls that succeeded; ``requests``: pages read; ``retries``: failed polls or
    stop checks tried again; ``restarts``: reads started over because the list moved under
    them. ``last_success`` is on the client's clock (monotonic unless injected). ``lag`` is
    wall time at delivery minus the newest delivered event's ``created_at``; the API gives
    whole seconds, so up to one second of it is rounding.
    """

    polls: int = 0
    requests: int = 0
    retries: int = 0
    restarts: int = 0
    events: int = 0
    last_success: float | None = None
    last_error: str | None = None
    lag: float | None = None


class EventStream:
    """``async for event in stream``: a deployment's events, each once, oldest first.

    Made by :meth:`Events.stream <autodl_async.resources.events.Events.stream>`. Read
    :attr:`cursor` after any event to checkpoint, :attr:`stats` for health, and
    :attr:`end_reason` once the loop has ended.
    """

    def __init__(
        self,
        fetch: FetchPage,
        deployment_uuid: str,
        options: StreamOptions,
        *,
        scheduler: PollScheduler,
        cursor: EventCursor | str | bytes | None = None,
        done_check: DoneCheck | None = None,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        resumed = coerce_cursor(cursor)
        if resumed is not None:
            options.check_cursor(deployment_uuid, resumed)
        if options.until_stopped and done_check is None:
            raise ValueError("until_stopped needs a done_check")
        self.deployment_uuid = deployment_uuid
        self.container_uuid = options.container_uuid
        self.stats = StreamStats()
        self.end_reason: EndReason | None = None
        self._options = options
        self._policy = options.policy
        self._fetch = fetch
        self._scheduler = scheduler
        self._clock = scheduler.clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._pos = Position(resumed)
        self._poller = Poller(
            self._fetch_page,
            self._pos,
            page_size=options.page_size,
            explicit_order=options.explicit_order,
            container_uuid=options.container_uuid,
        )
        self._done_check = done_check if options.until_stopped else None
        self._watched = options.watched_container
        self._seek = options.start == "now" and resumed is None
        self._batch: list[Row] = []
        self._batch_at = 0
        self._interval = options.min_interval
        self._next_poll: tuple[float, float] | None = None  # None: poll at once
        self._deadline: float | None = None
        self._last_done_check: float | None = None
        self._final_poll = False  # the deployment is done: one more poll, then stop
        self._finished = False  # ... and that poll came back complete
        self._caught_up = False
        self._pending: AutoDLError | None = None  # raised once the batch is handed out
        self._ended = False
        self._busy = False

    # -- public surface -----------------------------------------------------------------------

    @property
    def cursor(self) -> EventCursor:
        """The position just after the last event this stream returned."""
        return self.mark().cursor(self.deployment_uuid, self.container_uuid)

    @property
    def order(self) -> Order | None:
        """The server's sort order, once known."""
        return self._pos.order

    def mark(self) -> Mark:
        """A cheap snapshot of :attr:`cursor` (``watch_many`` takes one per event)."""
        return self._pos.mark()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ContainerEvent:
        if self._busy:
            raise RuntimeError("another task is already iterating this event stream")
        self._busy = True
        try:
            return await self._next()
        except AutoDLError:
            self._end("error")
            raise
        finally:
            self._busy = False

    async def aclose(self) -> None:
        """End the stream now; iterating it again stops at once."""
        self._end("closed")
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
            f"events={self.stats.events}, polls={self.stats.polls}, "
            f"end_reason={self.end_reason!r})"
        )

    # -- handing out events -------------------------------------------------------------------

    async def _next(self) -> ContainerEvent:
        limit = self._options.time_limit
        if self._deadline is None and limit is not None:
            self._deadline = self._clock() + limit
        while not self._ended:
            event = self._take()
            if event is not None:
                return event
            if self._pending is not None:
                error, self._pending = self._pending, None
                raise error
            if self._finished:
                self._end("deployment_stopped")
            elif self._caught_up:
                self._end("caught_up")
            elif await self._wait_for_poll():
                await self._poll_with_retries()
        raise StopAsyncIteration

    def _take(self) -> ContainerEvent | None:
        """The next row to deliver, moving the cursor past every row up to it."""
        while self._batch_at < len(self._batch):
            row = self._batch[self._batch_at]
            self._batch_at += 1
            self._pos.consume(row)
            if not row.deliver:
                continue
            self.stats.events += 1
            self.stats.lag = self._wall_clock() - row.second
            status = self._options.until_status
            if status is not None and row.event.status == status:
                watched = self._watched
                if watched is None or watched == row.event.deployment_container_uuid:
                    self._end("container_status")
            return row.event
        self._batch, self._batch_at = [], 0
        return None

    def _end(self, reason: EndReason) -> None:
        if not self._ended:
            self._ended = True
            self.end_reason = reason
        self._batch = []

    # -- waiting and polling ------------------------------------------------------------------

    def _timed_out(self) -> bool:
        if self._deadline is not None and self._clock() >= self._deadline:
            self._end("timeout")
            return True
        return False

    async def _wait_for_poll(self) -> bool:
        """Sleep until the next poll is due; ``False`` when the timeout came first."""
        if self._timed_out():
            return False
        if self._next_poll is None:
            await anyio.lowlevel.checkpoint()
            return True
        earliest, latest = self._next_poll
        if self._deadline is not None and earliest >= self._deadline:
            await self._scheduler.sleep_until(self._deadline)
            self._end("timeout")
            return False
        await self._scheduler.sleep_within(earliest, latest, self._rng)
        return not self._timed_out()

    async def _fetch_page(self, page_index: int) -> Page[ContainerEvent]:
        deadline: float | NotGiven = NOT_GIVEN
        if self._deadline is not None:
            deadline = max(self._deadline - self._clock(), 1e-3)
        self.stats.requests += 1
        return await self._fetch(page_index, self._options.page_size, deadline)

    async def _poll_once(self) -> Batch:
        if self._seek:
            await self._poller.seek_end()
            self._seek = False
        return await self._poller.poll()

    async def _poll_with_retries(self) -> None:
        failures = 0
        while True:
            restarts = self._poller.restarts
            try:
                batch = await self._poll_once()
            except AutoDLError as error:
                self.stats.restarts += self._poller.restarts - restarts
                self.stats.last_error = f"{type(error).__name__}: {error}"
                if not is_transient(error):
                    raise
                failures += 1
                self.stats.retries += 1
                delay = self._policy.retry_delay(failures, error, self._rng)
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
                await self._scheduler.sleep_within(now + delay, now + delay * 1.1, self._rng)
                continue
            self.stats.restarts += self._poller.restarts - restarts
            self.stats.polls += 1
            self.stats.last_success = self._clock()
            self._batch, self._batch_at = batch.rows, 0
            self._schedule(batch)
            await self._check_done(batch)
            return

    def _schedule(self, batch: Batch) -> None:
        if self._final_poll and not batch.behind:
            self._finished = True
        if self._options.until_caught_up and not batch.behind:
            self._caught_up = True
        if batch.behind:
            self._next_poll = None
            return
        self._interval = self._policy.next_interval(self._interval, flowing=bool(batch.rows))
        self._next_poll = self._policy.window(self._clock(), self._interval)

    async def _check_done(self, batch: Batch) -> None:
        """``until_stopped``: ask whether the deployment is done when a container shut down,
        or now and then while idle; once it is, one last poll collects the final events."""
        if self._done_check is None or self._final_poll or batch.behind:
            return
        now = self._clock()
        shutdown = any(row.event.status == "shutdown" for row in batch.rows)
        due = self._last_done_check is None or (
            now - self._last_done_check >= self._policy.max_interval
        )
        if not (shutdown or (due and not batch.rows)):
            return
        self._last_done_check = now
        try:
            done = await self._done_check()
        except AutoDLError as error:
            self.stats.last_error = f"{type(error).__name__}: {error}"
            if is_transient(error):
                self.stats.retries += 1
            else:
                self._pending = error  # after the events already read are handed out
            return
        if done:
            self._final_poll = True
            self._next_poll = None
