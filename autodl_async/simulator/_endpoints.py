"""One function per endpoint: validated input in, `data` of the envelope out.

Each raises `ApiError` for business errors; the app layer turns that into the envelope.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from . import _wire as wire
from ._catalog import GIB, REGIONS
from ._clock import CST
from ._create import parse_create
from ._engine import Engine
from ._errors import ParamError, not_found
from ._event_feed import before_event_page, shape_event_page
from ._params import Body, read_paging
from ._queries import (
    ContainerFilter,
    container_page_items,
    ddp_overview,
    deployment_items,
    event_items,
    gpu_stock,
    wallet,
)
from ._scheduler import Bounds, Requirements
from ._state import Container, Deployment

__all__ = [
    "blacklist_list",
    "blacklist_set",
    "container_list",
    "container_stop",
    "deployment_create",
    "deployment_ddp_overview",
    "deployment_delete",
    "deployment_list",
    "deployment_operate",
    "deployment_replica_num",
    "event_list",
    "gpu_stock_list",
    "image_list",
    "wallet_balance",
]

_MAX_BLACKLIST_MINUTES = 43200
_DEFAULT_BLACKLIST_MINUTES = 1440


def _deployment(engine: Engine, body: Body, key: str = "deployment_uuid") -> Deployment:
    uuid = body.get_str(key)
    if not uuid:
        raise ParamError(f"{key} must not be empty")
    dep = engine.world.find_deployment(uuid)
    if dep is None:
        raise not_found()
    return dep


def _container(engine: Engine, body: Body) -> Container:
    uuid = body.get_str("deployment_container_uuid")
    if not uuid:
        raise ParamError("deployment_container_uuid must not be empty")
    container = engine.world.find_container(uuid)
    if container is None:
        raise not_found()
    return container


def image_list(engine: Engine, body: Body) -> Any:
    paging = read_paging(body, engine.config.max_page_size)
    return wire.page(engine.world.images, paging, wire.image)


def deployment_create(engine: Engine, body: Body) -> Any:
    spec = parse_create(body, engine.world.image_names, engine.config.max_replicas)
    return {"deployment_uuid": engine.ops.create(spec).uuid}


def deployment_list(engine: Engine, body: Body) -> Any:
    paging = read_paging(body, engine.config.max_page_size)
    status = body.get_str("status", "")
    if status not in {"", "running", "stopped"}:
        raise ParamError("status must be running or stopped")
    items = deployment_items(
        engine.world,
        name=body.get_str("name", ""),
        status=status,
        deployment_uuid=body.get_str("deployment_uuid", ""),
    )
    uid = engine.config.uid
    return wire.page(items, paging, lambda d: wire.deployment(d, uid))


def event_list(engine: Engine, body: Body) -> Any:
    paging = read_paging(body, engine.config.max_page_size)
    dep = _deployment(engine, body)
    before_event_page(engine, dep)  # events "arriving while a client pages" (_event_feed)
    items = event_items(
        dep, body.get_str("deployment_container_uuid", ""), engine.config.event_order
    )
    return shape_event_page(engine, wire.page(items, paging, wire.event))


def _date(body: Body, key: str, *, end_of_day: bool) -> float | None:
    """RFC 3339 or `YYYY-MM-DD[ HH:MM:SS]` in +08:00; a bare `date_to` covers its whole day."""
    text = body.get_str(key, "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ParamError(f"{key} is not a date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CST)
    if end_of_day and len(text) == 10:
        parsed = datetime.combine(parsed.date(), time(23, 59, 59), CST)
    return parsed.timestamp()


def _bounds(body: Body, prefix: str, scale: int = 1) -> Bounds:
    low = body.get_number(f"{prefix}_from", 0)
    high = body.get_number(f"{prefix}_to", 0)
    if low < 0 or high < 0:
        raise ParamError(f"{prefix} bounds must not be negative")
    return Bounds.open_when_zero(low, high, scale)


def container_list(engine: Engine, body: Body) -> Any:
    """Zero or empty filters mean "no filter"; `released: true` lists only shut-down
    containers, otherwise containers of every status are listed."""
    paging = read_paging(body, engine.config.max_page_size)
    dep = _deployment(engine, body)
    flt = ContainerFilter(
        container_uuid=body.get_str("container_uuid", ""),
        date_from=_date(body, "date_from", end_of_day=False),
        date_to=_date(body, "date_to", end_of_day=True),
        gpu_name=body.get_str("gpu_name", ""),
        cpu=_bounds(body, "cpu_num"),
        memory_bytes=_bounds(body, "memory_size", GIB),
        price=_bounds(body, "price"),
        released=body.get_bool("released"),
        statuses=frozenset(body.get_str_list("status")),
    )
    items = container_page_items(dep, flt)
    return wire.page(items, paging, lambda c: wire.container(c, dep))


def container_stop(engine: Engine, body: Body) -> Any:
    decrease = body.get_bool("decrease_one_replica_num")
    no_cache = body.get_bool("no_cache")
    hook = body.get_str("cmd_before_shutdown", "")
    container = _container(engine, body)
    engine.ops.stop_container(container, decrease=decrease, no_cache=no_cache, hook_cmd=hook)
    return None


def deployment_replica_num(engine: Engine, body: Body) -> Any:
    """Answers with the deployment uuid, as the live service does (the doc says null)."""
    replica_num = body.get_int("replica_num")
    if not 0 <= replica_num <= engine.config.max_replicas:
        raise ParamError(f"replica_num must be within 0..{engine.config.max_replicas}")
    dep = _deployment(engine, body)
    if dep.deployment_type != "ReplicaSet":
        raise ParamError("replica_num can only be set on a ReplicaSet")
    engine.ops.set_replica_num(dep, replica_num)
    return {"deployment_uuid": dep.uuid}


def deployment_operate(engine: Engine, body: Body) -> Any:
    if body.get_str("operate") != "stop":
        raise ParamError("operate must be stop")
    engine.ops.stop_deployment(_deployment(engine, body))
    return None


def deployment_delete(engine: Engine, body: Body) -> Any:
    engine.ops.delete_deployment(_deployment(engine, body))
    return None


def blacklist_set(engine: Engine, body: Body) -> Any:
    """`expire_in_minutes` 0 or absent means the default 24 h; above 30 days is rejected."""
    minutes = body.get_int("expire_in_minutes", 0) or _DEFAULT_BLACKLIST_MINUTES
    if not 1 <= minutes <= _MAX_BLACKLIST_MINUTES:
        raise ParamError(f"expire_in_minutes must be within 1..{_MAX_BLACKLIST_MINUTES}")
    comment = body.get_str("comment", "")
    container = _container(engine, body)
    engine.ops.set_blacklist(container, minutes, comment)
    return None


def blacklist_list(engine: Engine, body: Body) -> Any:
    # Newest first; equal times keep "set later comes first" (the sort is stable).
    entries = engine.world.active_blacklist()[::-1]
    entries.sort(key=lambda e: e.created_at, reverse=True)
    if not entries and engine.config.blacklist_empty == "null":
        return None
    return [wire.blacklist_entry(e) for e in entries]


def gpu_stock_list(engine: Engine, body: Body) -> Any:
    """An unknown region is not an error: Success, empty list (docs/api-field-notes.md §2)."""
    region = body.get_str("region_sign")
    if not region:
        raise ParamError("region_sign must not be empty")
    names = body.get_str_list("gpu_name_set")
    cuda_from = body.get_int("cuda_v_from", 0) or body.get_int("cuda_v", 0)
    cuda_to = body.get_int("cuda_v_to", 0)
    if cuda_from < 0 or cuda_to < 0 or (cuda_to and cuda_to < cuda_from):
        raise ParamError("cuda range is invalid")
    if region not in REGIONS:
        return []
    req = Requirements(
        data_centers=frozenset({region}),
        gpu_names=frozenset(names) if names else None,
        min_cuda=cuda_from,
        gpu_num=1,
        cpu=_bounds(body, "cpu_num"),
        memory_bytes=_bounds(body, "memory_size", GIB),
        price=_bounds(body, "price"),
    )
    return gpu_stock(engine.world, req)


def wallet_balance(engine: Engine, body: Body) -> Any:
    return wallet(engine.world)


def deployment_ddp_overview(engine: Engine, body: Body) -> Any:
    """`deployment_uuid` (query string) is optional: without it, every package is listed."""
    uuid = body.get_str("deployment_uuid", "")
    dep = None
    if uuid:
        dep = engine.world.find_deployment(uuid)
        if dep is None:
            raise not_found()
    return ddp_overview(engine.world, dep)
