"""pydantic v2 models of a container-list answer: what a typed client would most likely use.

The same fields, types and defaults as the SDK's models (every field optional, the four
timestamps parsed into ``datetime``), written apart from them: nothing here imports the SDK, so
nothing can inherit a shortcut from it.
"""

from __future__ import annotations

import builtins
from datetime import datetime

import pydantic

__all__ = ["PydanticEnvelope"]


class _PydanticInfo(pydantic.BaseModel):
    ssh_command: str = ""
    root_password: str = ""
    service_url: str = ""
    service_6006_port_url: str | None = None
    service_6008_port_url: str | None = None
    proxy_host: str | None = None
    custom_port: int | None = None


class _PydanticContainer(pydantic.BaseModel):
    id: int = 0
    uuid: str = ""
    version: str | None = None
    data_center: str = ""
    machine_id: str = ""
    deployment_uuid: str = ""
    status: str = ""
    gpu_name: str = ""
    gpu_num: int = 0
    cpu_num: int = 0
    memory_size: int = 0
    image_uuid: str = ""
    price: int | float = 0
    info: _PydanticInfo | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class _PydanticPage(pydantic.BaseModel):
    list: builtins.list[_PydanticContainer] | None = None
    page_index: int = 0
    page_size: int = 0
    offset: int = 0
    max_page: int = 0
    result_total: int | None = None


class PydanticEnvelope(pydantic.BaseModel):
    """pydantic v2 models, validated straight from bytes with ``model_validate_json``."""

    code: str = ""
    msg: str | None = ""
    data: _PydanticPage | None = None
    request_id: str | None = None
