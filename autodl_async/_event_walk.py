"""Reading a newest-first list from the top down to a second, joining pages by their content.

This is the path for servers that do not say how long the list is (``result_total`` may be
absent from the events page: docs/api-field-notes.md §1). New events are added at the top
while we page, so every row below moves down: page ``n + 1`` starts with the last rows of
page ``n`` again, once per event that arrived in between. Event keys are unique in practice
(a container does not reach one status twice in one second), so the repeated rows are exactly
the longest tail of page ``n`` that page ``n + 1`` starts with, and are dropped.

If a page or more arrived between two requests, the next page holds rows read before (or
rows newer than the page above it), never unread old ones; even a page made only of new rows
is followed, further down, by the rows of page 1 again. Either way the walk sees a row it
already has where none can be, and starts over. A join is therefore never silently wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from ._errors import EventListError
from ._event_rows import Row, rows_of
from .types.common import Page
from .types.events import ContainerEvent

__all__ = ["FetchIndex", "OrderCheck", "Restart", "Walk", "overlap", "walk_newest_first"]

#: ``fetch(page_index)``: one page of the stream's list.
FetchIndex: TypeAlias = Callable[[int], Awaitable[Page[ContainerEvent]]]
#: Called with each page's rows; raises if they contradict what is known of the order.
OrderCheck: TypeAlias = Callable[[Sequence[Row]], None]
FullKey: TypeAlias = tuple[str, str, int]

#: A walk this long means the server does not page at all, or the list is absurd.
MAX_WALK_PAGES: Final = 20_000


class Restart(Exception):
    """The list moved under the walk in a way the pages cannot be joined; walk again."""


@dataclass(slots=True)
class Walk:
    """``rows``: newest first, every row at or after ``threshold`` as of the walk.

    ``arrived``: rows were added at the top while walking (poll again soon). ``older``: how
    many rows are older than ``threshold``, when one page with ``result_total`` showed it.
    """

    rows: list[Row]
    arrived: bool
    older: int | None


def overlap(before: Sequence[FullKey], after: Sequence[FullKey]) -> int:
    """Length of the longest tail of ``before`` that ``after`` starts with."""
    if not before or not after:
        return 0
    first = after[0]
    for start, key in enumerate(before):
        if key != first:
            continue
        length = len(before) - start
        if length <= len(after) and before[start:] == after[:length]:
            return length
    return 0


def _keys(rows: Sequence[Row]) -> list[FullKey]:
    return [row.full_key for row in rows]


def _count_older(
    page: Page[ContainerEvent], rows: Sequence[Row], threshold: int | None, ended: bool
) -> int | None:
    """Rows older than ``threshold``, from a page that reaches below it or ends the list."""
    if page.result_total is None:
        return None
    if threshold is None:
        return 0
    boundary = next((i for i, row in enumerate(rows) if row.second < threshold), None)
    if boundary is None:
        if not ended:
            return None
        boundary = len(rows)
    older = page.result_total - boundary
    return older if older >= 0 else None


async def walk_newest_first(
    fetch: FetchIndex,
    page_size: int,
    threshold: int | None,
    check_order: OrderCheck,
    *,
    first: Page[ContainerEvent] | None = None,
) -> Walk:
    """Every row at or after second ``threshold`` (all rows when ``None``), newest first.

    ``first`` is page 1 if the caller already has it. Raises :class:`Restart` when pages
    cannot be joined, :class:`EventListError` when the server repeats one page for every
    ``page_index``.
    """
    first_page = first if first is not None else await fetch(1)
    rows = rows_of(first_page.rows)
    check_order(rows)
    top_keys = _keys(rows)
    joined = list(rows)
    known = set(top_keys)
    previous = top_keys
    index = 1
    any_overlap = False  # rows moved down while walking: more arrived on top since
    while len(rows) >= page_size and (threshold is None or rows[-1].second >= threshold):
        index += 1
        if index > MAX_WALK_PAGES:
            raise EventListError(f"more than {MAX_WALK_PAGES} pages of events in one walk")
        page = await fetch(index)
        rows = rows_of(page.rows)
        check_order(rows)
        keys = _keys(rows)
        repeated = overlap(previous, keys)
        if keys and repeated == len(keys):
            await _page_repeated(fetch, top_keys, index)
        any_overlap |= repeated > 0
        fresh = rows[repeated:]
        if any(row.full_key in known for row in fresh):
            raise Restart(f"page {index} repeats rows from further up")
        if fresh and joined and fresh[0].second > joined[-1].second:
            raise Restart(f"page {index} holds rows newer than page {index - 1}")
        joined.extend(fresh)
        known.update(row.full_key for row in fresh)
        previous = keys
    arrived = any_overlap
    ended = len(joined) < page_size
    older = _count_older(first_page, joined, threshold, ended) if index == 1 else None
    kept = joined if threshold is None else [r for r in joined if r.second >= threshold]
    return Walk(kept, arrived, older)


async def _arrived_on_top(fetch: FetchIndex, top_keys: list[FullKey]) -> bool:
    """Whether rows were added during the walk; :class:`Restart` if a page or more was."""
    now_keys = _keys(rows_of((await fetch(1)).rows))
    kept = overlap(now_keys, top_keys)
    if top_keys and kept == 0:
        raise Restart("a page or more of events arrived during the walk")
    return len(now_keys) - kept > 0


async def _page_repeated(fetch: FetchIndex, top_keys: list[FullKey], index: int) -> None:
    """Page ``index`` repeated the page before it: a whole page of events arrived in between,
    or the server ignores ``page_index``. Page 1 tells which."""
    if not await _arrived_on_top(fetch, top_keys):
        raise EventListError(
            f"page {index} of the event list repeated page {index - 1} while nothing new "
            "arrived: the server does not page by page_index"
        )
    raise Restart(f"page {index} repeated page {index - 1}")
