"""What every resource shares: the transport and the per-call time-limit arguments."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._errors import InvalidParameterError
from ..types.common import Page

if TYPE_CHECKING:
    from .._transport import Transport

__all__ = ["Resource", "check_page", "page_of"]

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


def check_page(page_index: int, page_size: int, offset: int = 0) -> None:
    """Reject paging arguments the API would misread, before sending."""
    if page_index < 0:
        raise InvalidParameterError("page_index", f"must be >= 1 (0 means 1), got {page_index}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidParameterError(
            "page_size", f"must be between 1 and {MAX_PAGE_SIZE}, got {page_size}"
        )
    if offset < 0:
        raise InvalidParameterError("offset", f"must be >= 0, got {offset}")


def page_of(data: Page[T] | list[T] | None) -> Page[T]:
    """A page whatever the server sent: a paged object, a bare list, or null."""
    if data is None:
        return Page(items=[])
    if isinstance(data, list):
        return Page(items=data, page_index=1, page_size=len(data), max_page=1)
    return data


def require(param: str, value: str) -> str:
    """A uuid-like argument must be a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(param, f"must be a non-empty string, got {value!r}")
    return value


class Resource:
    """One API area. Methods take ``timeout`` (per attempt) and ``deadline`` (whole call)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _call(
        self,
        method: str,
        path: str,
        decoder: EnvelopeDecoder[T],
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
        reconcile_hint: dict[str, Any] | None = None,
    ) -> Coroutine[Any, Any, T | None]:
        """The transport's call itself, not a coroutine around it: one frame less per await."""
        return self._transport.request(
            method,
            path,
            decoder=decoder,
            body=body,
            params=params,
            idempotent=idempotent,
            timeout=timeout,
            deadline=deadline,
            reconcile_hint=reconcile_hint,
        )
