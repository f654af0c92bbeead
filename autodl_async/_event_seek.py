"""Finding places in the list: its sort order, its last page, where a second begins.

These run rarely (the first poll, ``start="now"``, after the list moved under the cursor), so
they favour few requests over cleverness: a page-index search costs ``log2(pages)`` requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import EventListError
from ._event_rows import Key, Order, Row, page_order, rows_of
from ._event_walk import MAX_WALK_PAGES, FetchIndex, OrderCheck, Restart, walk_newest_first
from .types.common import Page
from .types.events import ContainerEvent

__all__ = ["Settled", "count_older", "discover_order", "last_page", "seek_end"]


@dataclass(slots=True)
class Settled:
    """A position found by seeking: the newest second, its keys oldest first, the rows
    older than it (``None`` when they could not be counted)."""

    second: int | None
    seen: list[Key]
    older: int | None


async def last_page(
    fetch: FetchIndex, page_size: int, first: Page[ContainerEvent]
) -> tuple[int, list[Row]]:
    """The index and rows of the last non-empty page (``(1, rows of page 1)`` for a short list)."""
    rows = rows_of(first.rows)
    if len(rows) < page_size:
        return 1, rows
    if first.result_total is not None:
        guess = max(1, -(-first.result_total // page_size))
    elif first.max_page > 1:
        guess = first.max_page
    else:
        guess = 0
    pages = _Pages(fetch, rows)
    full = 1  # the highest page known to be full
    if 1 < guess <= MAX_WALK_PAGES:
        guessed = await pages.read(guess)
        if len(guessed) == page_size:
            full = guess
        elif guessed:
            return guess, guessed
    # Double until a page is not full, then halve the gap.
    high = full * 2
    while len(await pages.read(high)) == page_size:
        full, high = high, high * 2
    while high - full > 1:
        middle = (full + high) // 2
        if len(await pages.read(middle)) == page_size:
            full = middle
        else:
            high = middle
    last = await pages.read(high)
    if last:
        return high, last
    return full, await pages.read(full)


class _Pages:
    """Pages read once each while searching, held to two sanity rules."""

    def __init__(self, fetch: FetchIndex, first: list[Row]) -> None:
        self._fetch = fetch
        self._found: dict[int, list[Row]] = {1: first}
        self._first_keys = [row.full_key for row in first]

    async def read(self, index: int) -> list[Row]:
        if index > MAX_WALK_PAGES:
            raise EventListError(f"the event list has more than {MAX_WALK_PAGES} pages")
        if index not in self._found:
            rows = rows_of((await self._fetch(index)).rows)
            if rows and [row.full_key for row in rows] == self._first_keys:
                raise EventListError(
                    f"page {index} of the event list is page 1 again: the server does not "
                    "page by page_index"
                )
            self._found[index] = rows
        return self._found[index]


async def discover_order(
    fetch: FetchIndex, page_size: int, first: Page[ContainerEvent]
) -> Order | None:
    """Which way the server sorts, ``None`` while every row shares one second.

    Page 1 usually shows it. If it does not (a page of one second), page 1 is compared with
    the last page: new rows go to one end only, so this holds while the list grows.
    """
    rows = rows_of(first.rows)
    evidence = page_order(rows)
    if evidence is not None or len(rows) < page_size:
        return evidence
    _, last = await last_page(fetch, page_size, first)
    evidence = page_order(last)
    if evidence is not None or not last:
        return evidence
    if rows[0].second > last[-1].second:
        return "newest_first"
    if rows[0].second < last[-1].second:
        return "oldest_first"
    return None


async def count_older(fetch: FetchIndex, page_size: int, second: int) -> int:
    """How many rows of an oldest-first list are older than ``second``."""
    first = rows_of((await fetch(1)).rows)
    pages = _Pages(fetch, first)

    async def older_in(index: int) -> tuple[int, bool]:
        rows = await pages.read(index)
        older = sum(row.second < second for row in rows)
        return older, older == page_size

    # Pages wholly older than ``second`` come first: double, then halve, to find the last.
    below, high = 0, 1
    count, whole = await older_in(high)
    while whole:
        below, high = high, high * 2
        count, whole = await older_in(high)
    while high - below > 1:
        middle = (below + high) // 2
        count_m, whole_m = await older_in(middle)
        if whole_m:
            below = middle
        else:
            high, count = middle, count_m
    return below * page_size + count


async def seek_end(
    fetch: FetchIndex,
    order: Order | None,
    page_size: int,
    check_order: OrderCheck,
    first: Page[ContainerEvent],
) -> Settled:
    """The position after every row stored now (``start="now"``)."""
    if order == "oldest_first":
        return await _seek_end_oldest_first(fetch, page_size, first)
    walk = None
    for _ in range(8):
        top = rows_of(first.rows)
        if not top:
            return Settled(None, [], 0)
        try:
            walk = await walk_newest_first(
                fetch, page_size, top[0].second, check_order, first=first
            )
            break
        except Restart:
            first = await fetch(1)
    if walk is None:
        raise Restart("the list kept changing while seeking its end")
    newest = walk.rows[0].second
    group = [row.key for row in reversed(walk.rows) if row.second == newest]
    return Settled(newest, group, walk.older)


async def _seek_end_oldest_first(
    fetch: FetchIndex, page_size: int, first: Page[ContainerEvent]
) -> Settled:
    index, rows = await last_page(fetch, page_size, first)
    if not rows:
        return Settled(None, [], 0)
    newest = rows[-1].second
    group = [row for row in rows if row.second == newest]
    # A second spread over earlier pages: walk back until a page holds an older row.
    while index > 1 and all(row.second == newest for row in rows):
        index -= 1
        rows = rows_of((await fetch(index)).rows)
        group = [row for row in rows if row.second == newest] + group
    keys = [row.key for row in group]
    first_position = (index - 1) * page_size + sum(row.second < newest for row in rows)
    return Settled(newest, keys, first_position)
