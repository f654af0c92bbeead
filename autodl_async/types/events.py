"""Container events (``POST /api/v1/dev/deployment/container/event/list``)."""

from __future__ import annotations

from datetime import datetime

from ._base import ResponseModel

__all__ = ["ContainerEvent"]


class ContainerEvent(ResponseModel):
    """One status change of one container; ``created_at`` has second precision on the wire."""

    deployment_container_uuid: str = ""
    status: str = ""
    created_at: datetime | None = None
