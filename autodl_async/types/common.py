"""The response envelope and the paging block shared by every list endpoint."""

from __future__ import annotations

import builtins
from typing import Generic, TypeVar

import msgspec

from ._base import ResponseModel

__all__ = ["Envelope", "Page"]

T = TypeVar("T")


class Envelope(ResponseModel, Generic[T]):
    """``{code, msg, data, request_id}``: every answer, success or business error."""

    code: str = ""
    msg: str | None = ""
    data: T | None = None
    request_id: str | None = None


class Page(ResponseModel, Generic[T]):
    """One page of a list endpoint. ``items`` is the wire's ``list``."""

    items: builtins.list[T] | None = msgspec.field(default=None, name="list")
    page_index: int = 0
    page_size: int = 0
    offset: int = 0
    max_page: int = 0
    result_total: int | None = None

    @property
    def rows(self) -> builtins.list[T]:
        """The items, ``[]`` when the server sent ``null``."""
        return self.items or []
