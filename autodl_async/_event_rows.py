"""Event rows as the stream reasons about them: whole-second times, keys, sort order.

The event list has no ids. A row is known only by ``(container, status, created_at)``, and
``created_at`` has one-second precision, so two rows may share a second; the order of such
ties is the server's business (unknown: docs/api-field-notes.md §1). Everything the stream does
rests on two properties that every page shows or breaks visibly: rows are sorted by second,
and the list only grows at its newest end.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final, Literal, TypeAlias

from ._errors import EventListError
from .types.events import ContainerEvent

__all__ = [
    "EVENTS_ENDPOINT",
    "Key",
    "Order",
    "Row",
    "page_order",
    "rows_of",
    "second_of",
]

Order: TypeAlias = Literal["newest_first", "oldest_first"]
#: ``(container uuid, status)``: what tells two events of one second apart.
Key: TypeAlias = tuple[str, str]

EVENTS_ENDPOINT: Final = "/api/v1/dev/deployment/container/event/list"
# AutoDL sends +08:00; a timestamp without an offset is read in the same zone.
_CST: Final = timezone(timedelta(hours=8))


@dataclass(slots=True)
class Row:
    """One event with its second; ``deliver`` is false for rows the stream only steps over
    (another container's, when filtering)."""

    event: ContainerEvent
    second: int
    deliver: bool = True

    @property
    def key(self) -> Key:
        return (self.event.deployment_container_uuid, self.event.status)

    @property
    def full_key(self) -> tuple[str, str, int]:
        return (self.event.deployment_container_uuid, self.event.status, self.second)


def second_of(value: datetime | None) -> int | None:
    """Unix seconds of a ``created_at`` (sub-second parts, if any, dropped)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_CST)
    return int(value.timestamp() // 1)


def rows_of(events: Sequence[ContainerEvent]) -> list[Row]:
    """Rows of one page, in the page's order.

    A row without ``created_at`` takes the second of the row before it (or after it, at the top
    of a page), so it stays where the server put it instead of ending the stream.
    """
    seconds = [second_of(e.created_at) for e in events]
    known = next((s for s in seconds if s is not None), 0)
    rows: list[Row] = []
    for event, second in zip(events, seconds, strict=True):
        known = second if second is not None else known
        rows.append(Row(event, known))
    return rows


def page_order(rows: Sequence[Row]) -> Order | None:
    """The sort order one page shows, ``None`` when all its rows share one second.

    Only timestamps count as evidence: ties within a second may be in any order.
    """
    descending = ascending = False
    for first, then in itertools.pairwise(rows):
        descending |= first.second > then.second
        ascending |= first.second < then.second
    if descending and ascending:
        raise EventListError("event rows in one page are not sorted by created_at")
    if descending:
        return "newest_first"
    if ascending:
        return "oldest_first"
    return None
