"""Scheduling blacklist (``/api/v1/dev/deployment/blacklist``)."""

from __future__ import annotations

from datetime import datetime

from ._base import ResponseModel

__all__ = ["BlacklistEntry"]


class BlacklistEntry(ResponseModel):
    """A host excluded from scheduling until ``expired_time``; ``msg`` is the comment given."""

    machine_id: str = ""
    data_center: str = ""
    msg: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expired_time: datetime | None = None
