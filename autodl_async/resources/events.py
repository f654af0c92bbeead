"""Container events: one page at a time (the stream in ``_event_stream`` builds on this)."""

from __future__ import annotations

from typing import Any, Final

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._pagination import AsyncPager
from ..types.common import Page
from ..types.events import ContainerEvent
from ._base import Resource, check_page, page_of, require

__all__ = ["EVENTS_PATH", "Events"]

EVENTS_PATH: Final = "/api/v1/dev/deployment/container/event/list"
_PAGE: Final = EnvelopeDecoder[Page[ContainerEvent] | list[ContainerEvent]](
    Page[ContainerEvent] | list[ContainerEvent]
)


class Events(Resource):
    """``client.events``: the raw event pages (newest first, as the server sends them)."""

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

    def list(
        self,
        deployment_uuid: str,
        *,
        container_uuid: str | None = None,
        page_size: int = 100,
    ) -> AsyncPager[ContainerEvent]:
        """Every event now stored, across pages, in the server's order (a snapshot, not a
        stream: events arriving while it pages can shift rows between pages)."""
        require("deployment_uuid", deployment_uuid)
        check_page(1, page_size)

        def fetch(index: int, size: int) -> Any:
            return self.list_page(deployment_uuid, index, size, container_uuid=container_uuid)

        return AsyncPager(fetch, page_size=page_size, endpoint=EVENTS_PATH)
