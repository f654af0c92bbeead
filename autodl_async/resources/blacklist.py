"""The scheduling blacklist: keep a bad host out of future placements."""

from __future__ import annotations

from typing import Any, Final

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._errors import InvalidParameterError
from ..types.blacklist import BlacklistEntry
from ._arguments import checked
from ._base import Resource, require

__all__ = ["Blacklist"]

_PATH: Final = "/api/v1/dev/deployment/blacklist"
_NONE: Final = EnvelopeDecoder[Any](Any)
_LIST: Final = EnvelopeDecoder[list[BlacklistEntry] | BlacklistEntry](
    list[BlacklistEntry] | BlacklistEntry
)
#: The API's ceiling for ``expire_in_minutes``: 30 days.
MAX_EXPIRE_MINUTES: Final = 30 * 24 * 60


class Blacklist(Resource):
    """``client.blacklist``."""

    @checked
    async def add(
        self,
        container_uuid: str,
        *,
        expire_in_minutes: int | None = None,
        comment: str | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> None:
        """Stop scheduling on the host of ``container_uuid`` (default 24 h, at most 30 days).

        Setting it again for the same host moves the expiry; repeating the call is harmless.
        """
        body: dict[str, Any] = {
            "deployment_container_uuid": require("container_uuid", container_uuid)
        }
        if expire_in_minutes is not None:
            if not 1 <= expire_in_minutes <= MAX_EXPIRE_MINUTES:
                raise InvalidParameterError(
                    "expire_in_minutes",
                    f"must be 1..{MAX_EXPIRE_MINUTES} (30 days), got {expire_in_minutes}",
                )
            body["expire_in_minutes"] = expire_in_minutes
        if comment is not None:
            body["comment"] = comment
        await self._call(
            "POST", _PATH, _NONE, body=body, idempotent=True, timeout=timeout, deadline=deadline
        )

    @checked
    async def list(
        self,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> list[BlacklistEntry]:
        """The entries still in force (``[]`` whether the server sends a list, one or null)."""
        data = await self._call(
            "GET", _PATH, _LIST, idempotent=True, timeout=timeout, deadline=deadline
        )
        if data is None:
            return []
        return data if isinstance(data, list) else [data]
