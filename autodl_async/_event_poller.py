"""One poll of one deployment's events: how to read the list, and which rows are new.

Three ways to read, chosen per poll from what the server has shown so far:

- oldest first (``offset``/positions are the natural cursor): read upward from where the
  cursor's second begins (:mod:`._event_positions`);
- newest first with ``result_total``: the same, positions computed from the total;
- newest first without it (or after the list moved under a count): walk down from the top,
  joining pages by content (:mod:`._event_walk`).

Whatever the path, a row is new when it is newer than the cursor's second, or in that second
and not matched by one of the keys the cursor saw there. Rows of one second therefore never
repeat and are never lost, in whatever order the server ties them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ._errors import EventListError, InvalidParameterError, MalformedResponseError
from ._event_cursor import Position
from ._event_positions import Drift, NoTotal, Read, read_from
from ._event_rows import EVENTS_ENDPOINT, Order, Row, page_order
from ._event_seek import count_older, discover_order, seek_end
from ._event_walk import FetchIndex, Restart, walk_newest_first

__all__ = ["Batch", "Poller"]

logger: Final = logging.getLogger("autodl_async.events")

_MAX_RESTARTS: Final = 6
#: Rows one positional poll reads before handing them over (more follow at once).
_ROWS_PER_POLL: Final = 1000


class _Learned(Exception):
    """The order turned out to be oldest first while reading as if newest first."""


@dataclass(slots=True)
class Batch:
    """Rows to consume, oldest first; ``behind`` when more are waiting already."""

    rows: list[Row]
    behind: bool


class Poller:
    """Reads what is new since ``position``; the stream consumes the rows it returns."""

    def __init__(
        self,
        fetch: FetchIndex,
        position: Position,
        *,
        page_size: int,
        explicit_order: Order | None,
        container_uuid: str | None,
    ) -> None:
        self._fetch = fetch
        self._pos = position
        self._size = page_size
        self._explicit = explicit_order
        self._container = container_uuid
        self._totals = True  # until a newest-first page comes without result_total
        #: Walks started over and counts found again because the list moved under them.
        self.restarts = 0
        if explicit_order is not None:
            position.order = explicit_order

    async def poll(self) -> Batch:
        for _ in range(_MAX_RESTARTS):
            try:
                rows, behind = await self._read()
            except Restart as why:
                self._restarted(why)
                continue
            except _Learned:
                continue
            return Batch(self._select(rows), behind)
        raise MalformedResponseError(
            f"the event list changed under {_MAX_RESTARTS} walks in a row",
            method="POST",
            endpoint=EVENTS_ENDPOINT,
        )

    async def seek_end(self) -> None:
        """Step over every stored row without returning it (``start="now"``)."""
        for _ in range(_MAX_RESTARTS):
            first = await self._fetch(1)
            if self._pos.order is None:
                self._pos.order = await discover_order(self._fetch, self._size, first)
            try:
                found = await seek_end(self._fetch, self._pos.order, self._size, self.check, first)
            except Restart as why:
                self._restarted(why)
                continue
            except _Learned:
                continue
            self._pos.settle(found.second, found.seen, found.older)
            return
        raise MalformedResponseError(
            "the event list kept changing while seeking its end",
            method="POST",
            endpoint=EVENTS_ENDPOINT,
        )

    def check(self, rows: Sequence[Row]) -> None:
        """Hold every page to the order known so far (and learn it in ``auto`` mode)."""
        evidence = page_order(rows)
        if evidence is None or evidence == self._pos.order:
            return
        if self._explicit is not None:
            raise InvalidParameterError(
                "order",
                f"the server lists events {evidence.replace('_', ' ')}, not "
                f"{self._explicit.replace('_', ' ')}; use order='auto'",
            )
        if self._pos.order is None:
            self._pos.order = evidence
            if evidence == "oldest_first":
                raise _Learned
            return
        raise EventListError(
            f"the server switched its event order from {self._pos.order} to {evidence}"
        )

    # -- reading ------------------------------------------------------------------------------

    async def _read(self) -> tuple[list[Row], bool]:
        first = None
        if self._pos.order is None:
            first = await self._fetch(1)
            learnt = await discover_order(self._fetch, self._size, first)
            if learnt is not None:
                self._pos.order = learnt
        if self._pos.order == "oldest_first":
            return await self._read_oldest_first()
        if self._pos.order == "newest_first" and self._pos.older is not None and self._totals:
            try:
                read = await read_from(
                    self._fetch,
                    "newest_first",
                    self._size,
                    self._pos.older,
                    self._pos.second,
                    self.check,
                    self._limit(),
                    first=first,
                )
                return read.rows, not read.complete
            except NoTotal:
                logger.debug("events page without result_total: reading by content")
                self._totals = False
            except Drift as why:
                self._restarted(why)
                self._pos.older = None
            first = None
        walk = await walk_newest_first(
            self._fetch, self._size, self._pos.second, self.check, first=first
        )
        if self._pos.older is None and walk.older is not None:
            self._pos.older = walk.older
        return walk.rows[::-1], walk.arrived

    async def _read_oldest_first(self) -> tuple[list[Row], bool]:
        if self._pos.older is None:
            self._pos.older = await self._count_older()
        try:
            read = await self._read_up()
        except Drift as why:
            self._restarted(why)
            self._pos.older = await self._count_older()
            try:
                read = await self._read_up()
            except Drift as again:
                raise EventListError(
                    f"the event list moved again right after the cursor was placed: {again}"
                ) from None
        return read.rows, not read.complete

    async def _read_up(self) -> Read:
        return await read_from(
            self._fetch,
            "oldest_first",
            self._size,
            self._pos.older or 0,
            self._pos.second,
            self.check,
            self._limit(),
        )

    async def _count_older(self) -> int:
        second = self._pos.second
        return 0 if second is None else await count_older(self._fetch, self._size, second)

    def _limit(self) -> int:
        """Rows to read this poll: the cursor's second is read again in full (its rows may
        be tied in any order), so the bound counts from its end and a poll always gets on."""
        return len(self._pos.seen) + max(self._size, _ROWS_PER_POLL)

    def _restarted(self, why: Exception) -> None:
        self.restarts += 1
        logger.debug("event list moved under the cursor (%s); reading it again", why)

    # -- what is new ------------------------------------------------------------------------

    def _select(self, rows: list[Row]) -> list[Row]:
        second = self._pos.second
        seen = Counter(self._pos.seen) if second is not None else Counter[tuple[str, str]]()
        fresh: list[Row] = []
        for row in rows:
            if second is not None:
                if row.second < second:
                    continue
                if row.second == second and seen[row.key] > 0:
                    seen[row.key] -= 1
                    continue
            if self._container is not None:
                row.deliver = row.event.deployment_container_uuid == self._container
            fresh.append(row)
        return fresh
