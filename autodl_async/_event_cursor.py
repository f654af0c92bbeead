"""Where an event stream stands, as a small value that survives a restart.

The cursor is taken from what the server listed, never from a clock: the newest second
consumed, the ``(container, status)`` of every row consumed within that second (a multiset:
same-second rows have nothing else to tell them apart), and, when known, how many rows are
older than that second. Nothing older is remembered, so memory is bounded by one second's
events however long a stream runs.

A stream mutates a :class:`Position`; :meth:`Position.mark` snapshots it in O(1) (the list of
keys is only ever appended to, or replaced when the second moves on), and a :class:`Mark` turns
into an immutable :class:`EventCursor` only when someone asks for one.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import msgspec

from ._errors import InvalidParameterError
from ._event_rows import Key, Order, Row

__all__ = ["CURSOR_VERSION", "EventCursor", "Mark", "Position", "coerce_cursor"]

CURSOR_VERSION: Final = 1


class EventCursor(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A stream's position: pass it back as ``stream(..., cursor=...)`` to resume.

    It is a msgspec Struct, so ``msgspec.json.encode(cursor)`` and
    ``msgspec.json.decode(data, type=EventCursor)`` work as well as :meth:`encode` /
    :meth:`decode`. Fields:

    ``second``: ``created_at`` (Unix seconds) of the newest event consumed, ``None`` before
    the first. ``seen``: ``(container_uuid, status)`` of each event consumed within that second,
    repeats kept. ``older``: how many rows of the list are older than ``second`` (``None`` when
    the stream could not count them); it lets a poll start reading where ``second`` begins.
    ``order``: the server's sort order once known. ``container_uuid``: the stream's filter,
    which a resumed stream must repeat.
    """

    deployment_uuid: str
    container_uuid: str | None = None
    order: Order | None = None
    second: int | None = None
    seen: tuple[tuple[str, str], ...] = ()
    older: int | None = 0
    v: int = CURSOR_VERSION

    def encode(self) -> str:
        """Compact JSON text, safe to keep in a file or a database column."""
        return _ENCODER.encode(self).decode()

    @classmethod
    def decode(cls, data: str | bytes) -> EventCursor:
        """Read what :meth:`encode` wrote; :class:`InvalidParameterError` if it is not that."""
        raw = data.encode() if isinstance(data, str) else data
        try:
            cursor = _DECODER.decode(raw)
        except msgspec.DecodeError as exc:
            raise InvalidParameterError("cursor", f"not an event cursor: {exc}") from None
        check_cursor(cursor)
        return cursor


_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder(EventCursor)


def check_cursor(cursor: EventCursor) -> None:
    """Reject a cursor whose fields cannot describe a real position."""
    if cursor.v != CURSOR_VERSION:
        raise InvalidParameterError(
            "cursor", f"cursor format v{cursor.v} is not supported (this SDK reads v1)"
        )
    if not cursor.deployment_uuid.strip():
        raise InvalidParameterError("cursor", "deployment_uuid is empty")
    if cursor.older is not None and cursor.older < 0:
        raise InvalidParameterError("cursor", f"older must be >= 0, got {cursor.older}")
    if cursor.second is None and (cursor.seen or cursor.older not in (0, None)):
        raise InvalidParameterError("cursor", "seen/older without a second")
    if cursor.second is not None and not cursor.seen:
        raise InvalidParameterError("cursor", "a second without the events seen in it")


def coerce_cursor(cursor: object) -> EventCursor | None:
    """A cursor, its encoded text, or ``None``; anything else is the caller's mistake."""
    if cursor is None:
        return None
    if isinstance(cursor, EventCursor):
        check_cursor(cursor)
        return cursor
    if isinstance(cursor, str | bytes):
        return EventCursor.decode(cursor)
    raise InvalidParameterError(
        "cursor", f"expected an EventCursor or its encoded text, got {type(cursor).__name__}"
    )


class Mark(NamedTuple):
    """An O(1) snapshot of a :class:`Position` (``seen`` is shared, read up to ``length``)."""

    order: Order | None
    second: int | None
    seen: list[Key]
    length: int
    older: int | None

    def cursor(self, deployment_uuid: str, container_uuid: str | None) -> EventCursor:
        return EventCursor(
            deployment_uuid=deployment_uuid,
            container_uuid=container_uuid,
            order=self.order,
            second=self.second,
            seen=tuple(self.seen[: self.length]),
            older=self.older,
        )


class Position:
    """The mutable cursor of one stream."""

    __slots__ = ("older", "order", "second", "seen")

    def __init__(self, cursor: EventCursor | None) -> None:
        self.order: Order | None = cursor.order if cursor else None
        self.second: int | None = cursor.second if cursor else None
        self.seen: list[Key] = list(cursor.seen) if cursor else []
        self.older: int | None = cursor.older if cursor else 0

    def consume(self, row: Row) -> None:
        """Move past ``row``, which must not be older than the current second."""
        if self.second is None or row.second > self.second:
            if self.older is not None:
                # Every row of the second left behind has been consumed: they are older now.
                self.older += len(self.seen)
            self.second = row.second
            # Replaced, not cleared: marks taken earlier still read the old list.
            self.seen = [row.key]
        elif row.second == self.second:
            self.seen.append(row.key)
        else:
            raise AssertionError("rows are consumed oldest first")

    def settle(self, second: int | None, seen: list[Key], older: int | None) -> None:
        """Jump to a position found by seeking (``start="now"``) or counting."""
        self.second, self.seen, self.older = second, seen, older

    def mark(self) -> Mark:
        return Mark(self.order, self.second, self.seen, len(self.seen), self.older)
