"""``client.events``: raw event pages, and the streams built on them.

``list_page()``/``list()`` return what the server sends (newest first, per the doc).
``stream()`` and ``watch_many()`` turn that paged list into a feed that delivers every event
once, oldest to newest, resumable from a cursor; the machinery lives in ``autodl_async._event_*``
and ``autodl_async._watch``, which know nothing of HTTP and get their pages from here.
"""

from __future__ import annotations

import logging
import random
import time
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, Unpack

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._errors import InvalidParameterError
from .._event_cursor import EventCursor
from .._event_options import OrderChoice, Start, StreamKwargs, StreamOptions
from .._event_stream import DoneCheck, EventStream, FetchPage
from .._pagination import AsyncPager
from .._poll_scheduler import shared_scheduler
from .._watch import EventWatch, OnStreamError, WatchCursor, coerce_watch_cursor
from ..types.common import Page
from ..types.containers import ContainerStatus
from ..types.deployments import DeploymentStatus
from ..types.events import ContainerEvent
from ._arguments import checked
from ._base import Resource, check_page, page_of, require
from .containers import Containers
from .deployments import Deployments

if TYPE_CHECKING:
    from .._transport import Transport

__all__ = ["EVENTS_PATH", "Events"]

logger: Final = logging.getLogger("autodl_async.events")

EVENTS_PATH: Final = "/api/v1/dev/deployment/container/event/list"
_PAGE: Final = EnvelopeDecoder[Page[ContainerEvent] | list[ContainerEvent]](
    Page[ContainerEvent] | list[ContainerEvent]
)
#: Connections kept free for other calls when the pool is grown for streams.
_POOL_SPARE: Final = 8


class Events(Resource):
    """``client.events``."""

    def __init__(
        self,
        transport: Transport,
        *,
        deployments: Deployments | None = None,
        containers: Containers | None = None,
    ) -> None:
        super().__init__(transport)
        # ``until_stopped`` asks these whether a deployment is done.
        self._deployments = deployments or Deployments(transport)
        self._containers = containers or Containers(transport)
        self._streams: weakref.WeakSet[EventStream] = weakref.WeakSet()

    @checked
    async def list_page(
        self,
        deployment_uuid: str,
        page_index: int = 1,
        page_size: int = 100,
        *,
        offset: int = 0,
        container_uuid: str | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> Page[ContainerEvent]:
        """One page of a deployment's container events, in the server's order."""
        check_page(page_index, page_size, offset)
        body: dict[str, Any] = {
            "deployment_uuid": require("deployment_uuid", deployment_uuid),
            "page_index": page_index,
            "page_size": page_size,
            "offset": offset,
        }
        if container_uuid is not None:
            body["deployment_container_uuid"] = require("container_uuid", container_uuid)
        data = await self._call(
            "POST",
            EVENTS_PATH,
            _PAGE,
            body=body,
            idempotent=True,
            timeout=timeout,
            deadline=deadline,
        )
        return page_of(data)

    @checked
    def list(
        self,
        deployment_uuid: str,
        *,
        container_uuid: str | None = None,
        page_size: int = 100,
    ) -> AsyncPager[ContainerEvent]:
        """Every event now stored, across pages, in the server's order (a snapshot, not a
        stream: events arriving while it pages can shift rows between pages; use
        :meth:`stream` to see each event exactly once)."""
        require("deployment_uuid", deployment_uuid)
        check_page(1, page_size)

        def fetch(index: int, size: int) -> Any:
            return self.list_page(deployment_uuid, index, size, container_uuid=container_uuid)

        return AsyncPager(fetch, page_size=page_size, endpoint=EVENTS_PATH)

    def stream(
        self,
        deployment_uuid: str,
        *,
        cursor: EventCursor | str | bytes | None = None,
        container_uuid: str | None = None,
        start: Start = "beginning",
        order: OrderChoice = "auto",
        page_size: int = 100,
        min_interval: float = 1.0,
        max_interval: float = 10.0,
        jitter: float = 0.1,
        until_stopped: bool = False,
        until_status: str | None = None,
        until_container: str | None = None,
        until_caught_up: bool = False,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        wall_clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> EventStream:
        """A deployment's container events as an async iterator, each once, oldest first.

        ``cursor`` (an :class:`EventCursor` or its ``encode()``-d text) resumes where a stream
        stood, in this process or another; otherwise ``start`` says whether to replay what is
        stored (``"beginning"``) or only what comes next (``"now"``). ``container_uuid``
        keeps one container's events. ``order`` is the server's sort order; ``"auto"`` learns
        it from the rows.

        Polls come every ``min_interval`` seconds while events flow and back off to
        ``max_interval`` while idle, each within ``jitter`` (a fraction) of its interval, on
        the client's shared wake-up grid. Nothing is sent until the first ``__anext__``.

        It ends when the consumer stops, or once one of these holds: ``until_stopped`` (the
        deployment is stopped and every container shut down: the events up to then are
        delivered first), ``until_status`` (an event with that status, of ``until_container``
        or else of ``container_uuid``, or of any container if neither is given), the
        ``until_caught_up`` flag (everything stored when a poll finds nothing more),
        ``timeout`` (seconds on the client's clock from the first ``__anext__``; left out or
        ``None``, no limit: there is no client-wide default for how long to follow). Then
        ``stream.end_reason`` says which. A fatal error (token, permission, not found) is
        raised; transient ones are retried and counted in ``stream.stats``.

        ``wall_clock`` (default :func:`time.time`) is what ``stats.lag`` compares event times
        with; pass a simulator's clock when running on virtual time.
        """
        require("deployment_uuid", deployment_uuid)
        options = StreamOptions(
            container_uuid=container_uuid,
            start=start,
            order=order,
            page_size=page_size,
            min_interval=min_interval,
            max_interval=max_interval,
            jitter=jitter,
            until_stopped=until_stopped,
            until_status=until_status,
            until_container=until_container,
            until_caught_up=until_caught_up,
            timeout=timeout,
        )
        stream = self._make_stream(deployment_uuid, options, cursor, wall_clock, rng)
        self._grow_pool(sum(s.end_reason is None for s in self._streams))
        return stream

    def watch_many(
        self,
        deployment_uuids: Iterable[str],
        *,
        cursor: WatchCursor | str | bytes | None = None,
        buffer: int = 100,
        on_stream_error: OnStreamError = "raise",
        wall_clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
        **options: Unpack[StreamKwargs],
    ) -> EventWatch:
        """Several deployments' events merged into one iterator, as an async context manager::

            async with client.events.watch_many(uuids) as watch:
                async for item in watch:
                    handle(item.deployment_uuid, item.event)
                    save(watch.cursor.encode())     # the whole watch resumes from this

        Each deployment gets its own :meth:`stream` (same keyword options). At most
        ``buffer`` events wait for the consumer; while the buffer is full the streams stop
        polling. Leaving the ``async with`` stops every poller at once. ``cursor`` resumes a
        whole watch (deployments it does not mention start per ``start``). A fatal error in
        one stream is raised from the iterator (``on_stream_error="raise"``), or ends only
        that stream and is kept in ``watch.errors`` (``"end_stream"``). Above 100 deployments
        the connection pool is grown with them, if the client has not connected yet.
        """
        if isinstance(deployment_uuids, str | bytes) or not isinstance(deployment_uuids, Iterable):
            raise InvalidParameterError(
                "deployment_uuids", "must be a list of deployment uuids, not a single string"
            )
        uuids = [require("deployment_uuids", u) for u in deployment_uuids]
        if not uuids:
            raise InvalidParameterError("deployment_uuids", "must not be empty")
        repeated = sorted({u for u in uuids if uuids.count(u) > 1})
        if repeated:
            raise InvalidParameterError("deployment_uuids", f"listed more than once: {repeated}")
        if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 1:
            raise InvalidParameterError("buffer", f"must be an integer >= 1, got {buffer!r}")
        if on_stream_error not in ("raise", "end_stream"):
            raise InvalidParameterError(
                "on_stream_error", f"must be 'raise' or 'end_stream', got {on_stream_error!r}"
            )
        resumed = coerce_watch_cursor(cursor)
        stream_options = StreamOptions(**options)
        streams = [
            self._make_stream(
                uuid,
                stream_options,
                resumed.for_deployment(uuid) if resumed else None,
                wall_clock,
                rng,
            )
            for uuid in uuids
        ]
        self._grow_pool(len(uuids))
        return EventWatch(streams, buffer=buffer, on_stream_error=on_stream_error, resumed=resumed)

    # -- wiring -------------------------------------------------------------------------------

    def _make_stream(
        self,
        deployment_uuid: str,
        options: StreamOptions,
        cursor: EventCursor | str | bytes | None,
        wall_clock: Callable[[], float] | None,
        rng: random.Random | None,
    ) -> EventStream:
        transport = self._transport
        stream = EventStream(
            self._fetcher(deployment_uuid, options.container_uuid),
            deployment_uuid,
            options,
            scheduler=shared_scheduler(transport, sleep=transport.sleep, clock=transport.clock),
            cursor=cursor,
            done_check=self._done_check(deployment_uuid) if options.until_stopped else None,
            wall_clock=wall_clock or time.time,
            rng=rng,
        )
        self._streams.add(stream)
        return stream

    def _fetcher(self, deployment_uuid: str, container_uuid: str | None) -> FetchPage:
        async def fetch(
            page_index: int, page_size: int, deadline: float | NotGiven
        ) -> Page[ContainerEvent]:
            call_deadline: Seconds | NotGiven = deadline
            default = self._transport.deadline
            if not isinstance(deadline, NotGiven) and default is not None:
                call_deadline = min(deadline, default)
            return await self.list_page(
                deployment_uuid,
                page_index,
                page_size,
                container_uuid=container_uuid,
                deadline=call_deadline,
            )

        return fetch

    def _done_check(self, deployment_uuid: str) -> DoneCheck:
        async def done() -> bool:
            deployment = await self._deployments.get(deployment_uuid)
            if deployment.status != DeploymentStatus.STOPPED:
                return False
            containers = await self._containers.list(deployment_uuid, page_size=100).to_list()
            return all(c.status == ContainerStatus.SHUTDOWN for c in containers)

        return done

    def _grow_pool(self, streams: int) -> None:
        """Each stream holds at most one request in flight; give them a connection each
        (aiohttp's default of 100 queued 900 of 1,000 polls: docs/perf-limits.md, event polling)."""
        transport = self._transport
        wanted = streams + _POOL_SPARE
        if streams <= 100 or transport.max_connections >= wanted:
            return
        transport.resize_pool(wanted)
        if transport.max_connections < wanted:
            logger.warning(
                "%d event streams share %d connections: the client was already connected, so "
                "its pool cannot grow; create it with max_connections=%d",
                streams,
                transport.max_connections,
                wanted,
            )
