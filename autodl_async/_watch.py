"""Many deployments' event streams merged into one iterator, with bounded buffering.

One task per stream pushes events into an anyio memory object stream of ``buffer`` items;
when the consumer is slow the buffer fills, every pusher blocks on it, and a blocked pusher
does not poll: backpressure reaches the API instead of memory. Pushers run in a task group
held by an async context manager (as anyio's own APIs do), never by an async generator, so
the consumer is never handed an item from inside a cancel scope it does not own; leaving the
``async with`` cancels every poller at once.

Each item says which deployment it came from and carries that stream's cursor just after it.
:attr:`EventWatch.cursor` combines the cursors of the items the consumer has *received*
(events still in the buffer do not count), so a watch resumed from it repeats and loses
nothing, exactly like a single stream.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, Literal, TypeAlias

import anyio
import msgspec
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._errors import AutoDLError, InvalidParameterError
from ._event_cursor import EventCursor, Mark, check_cursor
from ._event_stream import EventStream
from .types.events import ContainerEvent

__all__ = ["EventWatch", "OnStreamError", "WatchCursor", "WatchItem"]

logger: Final = logging.getLogger("autodl_async.events")

OnStreamError: TypeAlias = Literal["raise", "end_stream"]


class WatchCursor(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a whole watch stands: one :class:`EventCursor` per deployment."""

    streams: tuple[EventCursor, ...] = ()
    v: int = 1

    def encode(self) -> str:
        return _ENCODER.encode(self).decode()

    @classmethod
    def decode(cls, data: str | bytes) -> WatchCursor:
        """Read what :meth:`encode` wrote; :class:`InvalidParameterError` if it is not that."""
        raw = data.encode() if isinstance(data, str) else data
        try:
            cursor = _DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            raise InvalidParameterError("cursor", f"not a watch cursor: {exc}") from None
        if cursor.v != 1:
            raise InvalidParameterError("cursor", f"watch cursor v{cursor.v} is not supported")
        for stream in cursor.streams:
            check_cursor(stream)
        return cursor

    def for_deployment(self, deployment_uuid: str) -> EventCursor | None:
        return next((c for c in self.streams if c.deployment_uuid == deployment_uuid), None)


_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder(WatchCursor)


def coerce_watch_cursor(cursor: object) -> WatchCursor | None:
    if cursor is None or isinstance(cursor, WatchCursor):
        return cursor
    if isinstance(cursor, str | bytes):
        return WatchCursor.decode(cursor)
    raise InvalidParameterError(
        "cursor", f"expected a WatchCursor or its encoded text, got {type(cursor).__name__}"
    )


@dataclass(frozen=True, slots=True)
class WatchItem:
    """One event of a watch, with where it came from."""

    deployment_uuid: str
    event: ContainerEvent
    _mark: Mark = field(repr=False)
    _container_uuid: str | None = field(repr=False)

    @property
    def cursor(self) -> EventCursor:
        """This deployment's cursor just after this event."""
        return self._mark.cursor(self.deployment_uuid, self._container_uuid)


@dataclass(frozen=True, slots=True)
class _Failed:
    deployment_uuid: str
    error: AutoDLError


_Message: TypeAlias = WatchItem | _Failed


class EventWatch:
    """``async with client.events.watch_many([...]) as watch: async for item in watch``."""

    def __init__(
        self,
        streams: Sequence[EventStream],
        *,
        buffer: int,
        on_stream_error: OnStreamError,
        resumed: WatchCursor | None = None,
    ) -> None:
        self._streams = {s.deployment_uuid: s for s in streams}
        self._buffer = buffer
        self._on_error = on_stream_error
        self._marks: dict[str, Mark] = {}
        self._initial = {c.deployment_uuid: c for c in (resumed.streams if resumed else ())}
        self._errors: dict[str, AutoDLError] = {}
        self._tg: TaskGroup | None = None
        self._receive: MemoryObjectReceiveStream[_Message] | None = None
        self._done = False

    @property
    def streams(self) -> Mapping[str, EventStream]:
        """Each deployment's stream, for its ``stats`` and ``end_reason``."""
        return dict(self._streams)

    @property
    def errors(self) -> Mapping[str, AutoDLError]:
        """Streams ended by an error (only with ``on_stream_error="end_stream"``)."""
        return dict(self._errors)

    @property
    def cursor(self) -> WatchCursor:
        """Every deployment's position after the items received so far."""
        cursors: list[EventCursor] = []
        for uuid, stream in self._streams.items():
            mark = self._marks.get(uuid)
            if mark is not None:
                cursors.append(mark.cursor(uuid, stream.container_uuid))
            elif uuid in self._initial:
                cursors.append(self._initial[uuid])
        return WatchCursor(streams=tuple(cursors))

    async def __aenter__(self) -> EventWatch:
        if self._tg is not None:
            raise RuntimeError("this watch is already running")
        send: MemoryObjectSendStream[_Message]
        send, self._receive = anyio.create_memory_object_stream[_Message](self._buffer)
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        async with send:
            for stream in self._streams.values():
                tg.start_soon(
                    self._pump, stream, send.clone(), name=f"events:{stream.deployment_uuid}"
                )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tg, self._tg = self._tg, None
        self._done = True
        if tg is not None:
            tg.cancel_scope.cancel()
            # The pumps never raise, so there is nothing to group: pass no exception, and the
            # body's own (if any) propagates as it is rather than inside an ExceptionGroup.
            await tg.__aexit__(None, None, None)
        if self._receive is not None:
            self._receive.close()
        for stream in self._streams.values():
            await stream.aclose()

    def __aiter__(self) -> EventWatch:
        return self

    async def __anext__(self) -> WatchItem:
        if self._receive is None:
            raise RuntimeError("use the watch as `async with ... as watch` first")
        while not self._done:
            try:
                message = await self._receive.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                self._done = True
                break
            if isinstance(message, _Failed):
                if self._on_error == "raise":
                    self._done = True
                    raise message.error
                self._errors[message.deployment_uuid] = message.error
                continue
            self._marks[message.deployment_uuid] = message._mark
            return message
        raise StopAsyncIteration

    async def _pump(self, stream: EventStream, send: MemoryObjectSendStream[_Message]) -> None:
        async with send:
            message: _Message | None = None
            try:
                async for event in stream:
                    await send.send(
                        WatchItem(
                            stream.deployment_uuid, event, stream.mark(), stream.container_uuid
                        )
                    )
            except AutoDLError as error:
                logger.debug("event stream of %s ended: %r", stream.deployment_uuid, error)
                message = _Failed(stream.deployment_uuid, error)
            except anyio.BrokenResourceError:
                return  # the consumer left
            if message is not None:
                with contextlib.suppress(anyio.BrokenResourceError):
                    await send.send(message)
