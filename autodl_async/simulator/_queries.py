"""Read-side views of the world: filtered lists, stock, balances. No state changes here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ._catalog import GPU_MODELS
from ._scheduler import Bounds, Requirements, matches
from ._state import Container, Deployment, Event
from ._wire import timestamp
from ._world import World

__all__ = [
    "ContainerFilter",
    "billed_total",
    "container_page_items",
    "ddp_overview",
    "deployment_items",
    "event_items",
    "gpu_stock",
    "wallet",
]

# Account creation time on the wallet; invented but fixed.
_ACCOUNT_CREATED = datetime.fromisoformat("2023-12-11T15:05:33+08:00").timestamp()


def deployment_items(
    world: World, *, name: str, status: str, deployment_uuid: str
) -> list[Deployment]:
    """Newest first; empty filters match everything; `name` must match exactly."""
    items = [
        d
        for d in world.live_deployments()
        if (not name or d.name == name)
        and (not status or d.status == status)
        and (not deployment_uuid or d.uuid == deployment_uuid)
    ]
    items.sort(key=lambda d: (d.created_at, d.id), reverse=True)
    return items


def event_items(
    dep: Deployment, container_uuid: str, order: Literal["newest_first", "oldest_first"]
) -> list[Event]:
    """Events are appended in time order, so reversing gives newest first with same-second
    events newest-appended first: a stable tie-break."""
    items = [e for e in dep.events if not container_uuid or e.container_uuid == container_uuid]
    if order == "newest_first":
        items.reverse()
    return items


@dataclass(frozen=True, slots=True)
class ContainerFilter:
    container_uuid: str
    date_from: float | None
    date_to: float | None
    gpu_name: str
    cpu: Bounds
    memory_bytes: Bounds
    price: Bounds
    released: bool
    statuses: frozenset[str]

    def accepts(self, c: Container) -> bool:
        return (
            (not self.container_uuid or c.uuid == self.container_uuid)
            and (self.date_from is None or c.created_at >= self.date_from)
            and (self.date_to is None or c.created_at <= self.date_to)
            and (not self.gpu_name or c.machine.gpu_name == self.gpu_name)
            and c.cpu_num in self.cpu
            and c.memory_size in self.memory_bytes
            and c.price in self.price
            and (not self.released or c.status == "shutdown")
            and (not self.statuses or c.status in self.statuses)
        )


def container_page_items(dep: Deployment, flt: ContainerFilter) -> list[Container]:
    """Newest first."""
    items = [c for c in dep.containers if flt.accepts(c)]
    items.sort(key=lambda c: (c.created_at, c.id), reverse=True)
    return items


def gpu_stock(world: World, req: Requirements) -> list[dict[str, Any]]:
    """Idle/total GPUs per model over hosts matching `req` (sized for one GPU, as the doc
    notes), in catalog order; models with no matching host are left out. Stock is the
    platform's view, so the account's blacklist does not hide hosts."""
    totals: dict[str, list[int]] = {}
    for machine in world.fleet:
        if matches(machine, req):
            row = totals.setdefault(machine.gpu_name, [0, 0])
            row[0] += world.idle(machine)
            row[1] += machine.gpu_total
    rows: list[dict[str, Any]] = []
    for name in GPU_MODELS:
        if name in totals:
            idle, total = totals[name]
            rows.append(
                {
                    name: {
                        "idle_gpu_num": idle,
                        "total_gpu_num": total,
                        "chip_corp": "nvidia",
                        "cpu_arch": "x86",
                    }
                }
            )
    return rows


def _runtime(c: Container, now: float) -> float:
    if c.started_at is None:
        return 0.0
    return max((c.stopped_at if c.stopped_at is not None else now) - c.started_at, 0.0)


def billed_total(world: World) -> int:
    """Yuan x 1000 charged so far: each container's hourly price from `running` to `shutdown`."""
    return round(sum(c.price * _runtime(c, world.now) / 3600 for c in world.containers.values()))


def wallet(world: World) -> dict[str, Any]:
    spent = billed_total(world)
    return {
        "id": world.config.uid - 1,
        "uid": world.config.uid,
        "assets": world.config.wallet_assets - spent,
        "blocked_asset": 0,
        "accumulate": spent,
        "voucher_balance": 0,
        "available_coupon_num": 0,
        "to_expire_voucher_num": 0,
        "certain_conditions_voucher_balance": 0,
        "remittance_code": f"ADL{world.config.uid:08d}",
        "total_recharge_asset": world.config.wallet_assets,
        "exclusive_transfer_account": "",
        "created_at": timestamp(_ACCOUNT_CREATED),
        "updated_at": timestamp(world.now),
    }


def ddp_overview(world: World, dep: Deployment | None) -> list[dict[str, Any]]:
    """Duration packages (seconds), drawn down by GPU-seconds run by any container of the
    account on the package's GPU type in its regions; limited to the deployment's GPU models
    when one is given. `dc_list` is a comma-separated string, as in the inferred sample, unless
    the `ddp_dc_list="list"` knob asks for a JSON list (docs/api-field-notes.md §8)."""
    containers: Sequence[Container] = list(world.containers.values())
    rows: list[dict[str, Any]] = []
    for pkg in world.config.ddp_packages:
        if dep is not None and pkg.gpu_type not in dep.template.gpu_name_set:
            continue
        used = sum(
            c.gpu_num * _runtime(c, world.now)
            for c in containers
            if c.machine.gpu_name == pkg.gpu_type and c.machine.data_center in pkg.dc_list
        )
        rows.append(
            {
                "gpu_type": pkg.gpu_type,
                "total": pkg.total,
                "balance": max(pkg.balance - int(used), 0),
                "dc_list": (
                    ",".join(pkg.dc_list)
                    if world.config.ddp_dc_list == "string"
                    else list(pkg.dc_list)
                ),
            }
        )
    return rows
