"""Bare msgspec models of the answers, for the raw baselines: typed, ``gc=False``, nothing else.

``StructEnvelope`` is the practical limit docs/perf-limits.md found for decoding a container
list, so the gap between it and the SDK's path is what the SDK's own choices (a union for the
bare-list variant, leniency, a Page wrapper) cost. Same fields, types and defaults as the SDK's
models, written apart from them (nothing here imports the SDK). ``ScanFloorEnvelope`` keeps one
field per row: the cost of reading the JSON at all. ``StockEnvelope`` is the gpu_stock answer.
"""

from __future__ import annotations

import builtins
from datetime import datetime

import msgspec

__all__ = ["ScanFloorEnvelope", "StockEnvelope", "StructEnvelope"]


class _StructInfo(msgspec.Struct, gc=False):
    ssh_command: str = ""
    root_password: str = ""
    service_url: str = ""
    service_6006_port_url: str | None = None
    service_6008_port_url: str | None = None
    proxy_host: str | None = None
    custom_port: int | None = None


class _StructContainer(msgspec.Struct, gc=False):
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
    info: _StructInfo | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class _StructPage(msgspec.Struct, gc=False):
    list: builtins.list[_StructContainer] | None = None
    page_index: int = 0
    page_size: int = 0
    offset: int = 0
    max_page: int = 0
    result_total: int | None = None


class StructEnvelope(msgspec.Struct, gc=False):
    """The plainest fast typed model: msgspec Structs, ``gc=False``, no unions."""

    code: str = ""
    msg: str | None = ""
    data: _StructPage | None = None
    request_id: str | None = None


class _ScanFloorRow(msgspec.Struct, gc=False):
    uuid: str = ""


class _ScanFloorPage(msgspec.Struct, gc=False):
    list: builtins.list[_ScanFloorRow] | None = None


class ScanFloorEnvelope(msgspec.Struct, gc=False):
    """Every byte parsed (msgspec validates what it skips), one field per row kept."""

    code: str = ""
    data: _ScanFloorPage | None = None


class _StockRow(msgspec.Struct, gc=False):
    idle_gpu_num: int = 0
    total_gpu_num: int = 0
    chip_corp: str | None = None
    cpu_arch: str | None = None


class StockEnvelope(msgspec.Struct, gc=False):
    """The gpu_stock answer: a list of single-key objects."""

    code: str = ""
    msg: str | None = ""
    data: builtins.list[dict[str, _StockRow]] | None = None
    request_id: str | None = None
