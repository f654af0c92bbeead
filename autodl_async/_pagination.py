"""Walking a paged list endpoint as one async iterator.

AutoDL pages with 1-based ``page_index`` and reports ``max_page``. A server that ignores the
page number (or a proxy that caches page 1) would make a naive loop spin forever, so the pager
stops with an error when a page repeats the previous one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

import msgspec

from ._errors import MalformedResponseError
from .types.common import Page

__all__ = ["AsyncPager"]

T = TypeVar("T")

FetchPage = Callable[[int, int], Awaitable[Page[T]]]


class AsyncPager(Generic[T]):
    """``async for item in pager`` walks every page; ``pager.pages()`` yields whole pages."""

    def __init__(
        self,
        fetch: FetchPage[T],
        *,
        page_size: int,
        endpoint: str,
        start_page: int = 1,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._page_size = page_size
        self._endpoint = endpoint
        self._start_page = start_page
        self._max_pages = max_pages

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.rows:
                yield item

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Each non-empty page in order, until ``max_page`` or a short page."""
        index = self._start_page
        previous: bytes | None = None
        fetched = 0
        while self._max_pages is None or fetched < self._max_pages:
            page = await self._fetch(index, self._page_size)
            fetched += 1
            rows = page.rows
            if not rows:
                return
            fingerprint = msgspec.json.encode([rows[0], rows[-1], len(rows)])
            if fingerprint == previous:
                raise MalformedResponseError(
                    f"page {index} repeated page {index - 1}: the server is not advancing pages",
                    endpoint=self._endpoint,
                )
            previous = fingerprint
            yield page
            if page.max_page:
                if index >= page.max_page:
                    return
            elif len(rows) < self._page_size:
                return
            index += 1

    async def to_list(self) -> list[T]:
        """Every item of every page."""
        return [item async for item in self]
