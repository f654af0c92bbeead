"""Private images."""

from __future__ import annotations

from typing import Final

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._pagination import AsyncPager
from ..types.common import Page
from ..types.images import Image
from ._arguments import checked
from ._base import Resource, check_page, page_of

__all__ = ["Images"]

_PATH: Final = "/api/v1/dev/image/private/list"
_PAGE: Final = EnvelopeDecoder[Page[Image] | list[Image]](Page[Image] | list[Image])


class Images(Resource):
    """``client.images``: the account's saved private images."""

    @checked
    async def list_page(
        self,
        page_index: int = 1,
        page_size: int = 10,
        *,
        offset: int = 0,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> Page[Image]:
        """One page of images."""
        check_page(page_index, page_size, offset)
        body = {"page_index": page_index, "page_size": page_size, "offset": offset}
        data = await self._call(
            "POST", _PATH, _PAGE, body=body, idempotent=True, timeout=timeout, deadline=deadline
        )
        return page_of(data)

    @checked
    def list(
        self,
        *,
        page_size: int = 100,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> AsyncPager[Image]:
        """Every image, across pages: ``async for image in client.images.list()``.

        ``timeout``/``deadline`` apply to each page's call.
        """
        check_page(1, page_size)
        return AsyncPager(
            lambda index, size: self.list_page(index, size, timeout=timeout, deadline=deadline),
            page_size=page_size,
            endpoint=_PATH,
        )
