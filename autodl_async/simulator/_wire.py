"""JSON shapes of the API, as the doc shows them once corrected by docs/api-field-notes.md.

Memory goes out in bytes (requests use GB), prices as integer yuan x 1000, times as RFC 3339
with second precision and a +08:00 offset, unset times as null.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from ._catalog import GIB
from ._clock import CST
from ._params import Paging
from ._state import BOOTING, BlacklistEntry, Container, Deployment, Event, PortProtocol, Template
from ._world import PrivateImage

__all__ = [
    "blacklist_entry",
    "container",
    "deployment",
    "encode_envelope",
    "event",
    "image",
    "page",
    "timestamp",
]

T = TypeVar("T")
JSON = dict[str, Any]

_encoder = msgspec.json.Encoder()


def timestamp(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(math.floor(t), CST).isoformat()


def encode_envelope(code: str, msg: str, data: Any, request_id: str) -> bytes:
    return _encoder.encode({"code": code, "msg": msg, "data": data, "request_id": request_id})


def page(items: Sequence[T], paging: Paging, shape: Callable[[T], JSON]) -> JSON:
    """One page: `skip = offset + (page_index-1)*page_size`; `max_page` counts pages after
    the offset and is 0 when nothing is left. `page` repeats the effective page index."""
    skip = paging.offset + (paging.page_index - 1) * paging.page_size
    remaining = max(len(items) - paging.offset, 0)
    return {
        "list": [shape(item) for item in items[skip : skip + paging.page_size]],
        "page_index": paging.page_index,
        "page_size": paging.page_size,
        "offset": paging.offset,
        "max_page": math.ceil(remaining / paging.page_size),
        "result_total": len(items),
        "page": paging.page_index,
    }


def image(img: PrivateImage) -> JSON:
    return {"id": img.id, "image_name": img.image_name, "image_uuid": img.image_uuid}


def template(t: Template) -> JSON:
    return {
        "region_sign": t.region_sign,
        "dc_list": list(t.dc_list),
        "gpu_name_set": list(t.gpu_name_set),
        "gpu_num": t.gpu_num,
        "image_uuid": t.image_uuid,
        "image_name": t.image_name,
        "cmd": t.cmd,
        "memory_size_from": t.memory_size_from * GIB,
        "memory_size_to": t.memory_size_to * GIB,
        "cpu_num_from": t.cpu_num_from,
        "cpu_num_to": t.cpu_num_to,
        "price_from": t.price_from,
        "price_to": t.price_to,
        "cuda_v_from": t.cuda_v_from,
        "cuda_v_to": t.cuda_v_to,
        "service_6006_port_protocol": t.service_6006_port_protocol,
        "service_6008_port_protocol": t.service_6008_port_protocol,
        "cmd_before_shutdown": t.cmd_before_shutdown,
    }


def deployment(dep: Deployment, uid: int) -> JSON:
    starting = sum(c.status in BOOTING for c in dep.containers)
    running = sum(c.status == "running" for c in dep.containers)
    # Hourly price of everything still holding GPUs; 0 once all is shut down (doc sample).
    estimate = sum(c.price for c in dep.containers if c.status != "shutdown")
    return {
        "id": dep.id,
        "uid": uid,
        "uuid": dep.uuid,
        "name": dep.name,
        "deployment_type": dep.deployment_type,
        "status": dep.status,
        "replica_num": dep.replica_num,
        "parallelism_num": dep.parallelism_num,
        "reuse_container": dep.reuse_container,
        "reuse_container_scope": dep.reuse_container_scope,
        "service_port_protocol": dep.service_port_protocol,
        "starting_num": starting,
        "running_num": running,
        "finished_num": dep.finished_num,
        "failed_num": dep.failed_num,
        "image_uuid": dep.template.image_uuid,
        "template": template(dep.template),
        "price_estimates": estimate,
        "created_at": timestamp(dep.created_at),
        "updated_at": timestamp(dep.updated_at),
        "stopped_at": timestamp(dep.stopped_at),
    }


def event(e: Event) -> JSON:
    return {
        "deployment_container_uuid": e.container_uuid,
        "status": e.status,
        "created_at": timestamp(e.at),
    }


def _service_url(protocol: PortProtocol, host: str, subdomain: str, port: int) -> str:
    if protocol == "tcp":
        return f"tcp://{host}:{port}"
    return f"https://{subdomain}.{host.removeprefix('connect.')}:8443"


def container(c: Container, dep: Deployment) -> JSON:
    """Hosts live under the reserved `.example` TLD so nothing ever resolves by accident."""
    host = f"connect.{c.machine.data_center.lower()}.autodl.example"
    t = dep.template
    tag = f"{c.id}-{c.uuid[-4:]}"
    return {
        "id": c.id,
        "uuid": c.uuid,
        "version": "",
        "data_center": c.machine.data_center,
        "machine_id": c.machine.machine_id,
        "deployment_uuid": c.deployment_uuid,
        "status": c.status,
        "gpu_name": c.machine.gpu_name,
        "gpu_num": c.gpu_num,
        "cpu_num": c.cpu_num,
        "memory_size": c.memory_size,
        "image_uuid": c.image_uuid,
        "price": c.price,
        "info": {
            "ssh_command": f"ssh -p {c.ssh_port} root@{host}",
            "root_password": c.password,
            "service_url": _service_url(dep.service_port_protocol, host, f"u{tag}", c.service_port),
            "service_6006_port_url": _service_url(
                t.service_6006_port_protocol, host, f"u{tag}-6006", c.service_port + 1
            ),
            "service_6008_port_url": _service_url(
                t.service_6008_port_protocol, host, f"uu{tag}-6008", c.service_port + 2
            ),
            "proxy_host": host,
            "custom_port": c.service_port,
        },
        "started_at": timestamp(c.started_at),
        "stopped_at": timestamp(c.stopped_at),
        "created_at": timestamp(c.created_at),
        "updated_at": timestamp(c.updated_at),
    }


def blacklist_entry(e: BlacklistEntry) -> JSON:
    return {
        "created_at": timestamp(e.created_at),
        "updated_at": timestamp(e.updated_at),
        "data_center": e.data_center,
        "expired_time": timestamp(e.expires_at),
        "machine_id": e.machine_id,
        "msg": e.msg,
    }
