"""Reading the list by position: rows counted from its oldest end never move.

The list only grows at its newest end, so a row's distance from the *oldest* row is fixed for
life. On an oldest-first server that distance is simply its index; on a newest-first server
it is ``result_total - 1 - index``, which needs the total the page was cut from (each answer
carries its own, so rows arriving between two requests are placed exactly). Knowing where
the cursor's second begins (``older`` rows precede it), a poll reads from there upward, a
bounded number of rows at a time, however far behind the stream is.

Each read also checks its footing: the row just before ``older`` must be older than the
cursor's second and the rows from ``older`` on must not be. If rows were removed or inserted
out of time order the check fails with :class:`Drift`, and the caller finds its place again
by content instead of delivering the wrong rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ._errors import EventListError
from ._event_rows import Order, Row, rows_of
from ._event_walk import FetchIndex, OrderCheck
from .types.common import Page
from .types.events import ContainerEvent

__all__ = ["Drift", "NoTotal", "Read", "read_from"]

# Re-aims at a moving target before giving up for this poll (the next poll comes at once).
_MAX_REAIMS: Final = 4


class Drift(Exception):
    """The rows around the cursor are not where its count of older rows says."""


class NoTotal(Exception):
    """A newest-first page came without ``result_total``: positions cannot be computed."""


@dataclass(slots=True)
class Read:
    """Rows from position ``older`` upward, oldest first; ``complete`` when the newest row
    of the list (as of the last answer) is among them."""

    rows: list[Row]
    complete: bool


async def read_from(
    fetch: FetchIndex,
    order: Order,
    page_size: int,
    older: int,
    second: int | None,
    check_order: OrderCheck,
    limit: int,
    *,
    first: Page[ContainerEvent] | None = None,
) -> Read:
    """Rows at positions ``older, older + 1, ...`` (at least ``limit`` when that many exist).

    ``second`` is the cursor's second (``None`` before the first event); the row at
    ``older - 1`` is read too, as the anchor that proves the count still holds. ``first`` is
    page 1 if the caller has just read it.
    """
    anchor = older - 1 if older > 0 else None
    want = older - 1 if older > 0 else 0
    out: list[Row] = []
    total: int | None = None
    previous: list[tuple[str, str, int]] = []
    reaims = 0
    while True:
        if order == "oldest_first":
            index = want
        elif total is None:
            index = 0  # page 1 tells the total
        else:
            index = total - 1 - want
            if index < 0:
                if want == anchor:
                    raise Drift(f"the list holds {total} rows, fewer than the {older} consumed")
                return Read(out, True)
        page_index = index // page_size + 1
        if page_index == 1 and first is not None:
            page, first = first, None
        else:
            page = await fetch(page_index)
        rows = rows_of(page.rows)
        check_order(rows)
        keys = [row.full_key for row in rows]
        if order == "oldest_first" and keys and keys == previous:
            # Positions never move on this side: two equal pages mean page_index is ignored.
            raise EventListError(
                f"pages {page_index - 1} and {page_index} of the event list are equal"
            )
        previous = keys
        base = (page_index - 1) * page_size
        if order == "newest_first":
            if page.result_total is None:
                raise NoTotal
            total = page.result_total
            if total < base + len(rows):
                raise Drift(f"result_total {total} is smaller than the rows listed")
            placed = {total - 1 - (base + j): row for j, row in enumerate(rows)}
            end: int | None = total  # one past the newest position
        else:
            placed = {base + j: row for j, row in enumerate(rows)}
            end = base + len(rows) if len(rows) < page_size else None
        if want not in placed:
            if end is not None and want >= end:
                if want == anchor:
                    raise Drift(f"no row at position {want}: fewer rows than consumed")
                return Read(out, True)
            reaims += 1  # the answer's total moved the page: aim again with it
            if reaims > _MAX_REAIMS:
                return Read(out, False)  # the list grows faster than a page per request
            continue
        reaims = 0
        while want in placed:
            _take(placed[want], want == anchor, second, out)
            want += 1
        if end is not None and want >= end:
            return Read(out, True)
        if len(out) >= limit:
            return Read(out, False)


def _take(row: Row, is_anchor: bool, second: int | None, out: list[Row]) -> None:
    if is_anchor:
        if second is not None and row.second >= second:
            raise Drift("the row before the cursor's second is not older than it")
        return
    if second is not None and row.second < second:
        raise Drift("a row older than the cursor's second lies after it")
    if out and row.second < out[-1].second:
        raise Drift("rows are not in time order by position")
    out.append(row)
