"""Private images (``POST /api/v1/dev/image/private/list``)."""

from __future__ import annotations

from datetime import datetime

from ._base import ResponseModel

__all__ = ["Image"]


class Image(ResponseModel):
    """A saved private image.

    The live API sends ``image_name``; the doc's sample (and the private cloud) send ``name``.
    Both are decoded; :attr:`display_name` picks whichever is set.
    """

    id: int = 0
    image_uuid: str = ""
    image_name: str | None = None
    name: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def display_name(self) -> str:
        """``image_name``, falling back to ``name``."""
        return self.image_name or self.name or ""
