"""Configuration of a simulator instance: every knob in one frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from ._clock import VirtualClock, WallClock
from ._faults import FaultRule

__all__ = ["DdpPackage", "SimulatorConfig", "Timings"]

EventOrder = Literal["newest_first", "oldest_first"]
AuthFailure = Literal["http401", "http403", "business"]
BlacklistEmpty = Literal["list", "null"]
ScaleDownOrder = Literal["newest_first", "oldest_first"]
Unschedulable = Literal["wait", "reject"]
DdpDcList = Literal["string", "list"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Timings:
    """Lifecycle durations in simulated seconds.

    Boot offsets are measured from the `creating` event, not from the previous step, so
    `starting` and `oss_merged` can share a second as they do in the doc's event sample.
    A reused container boots faster (docs/api-field-notes.md §5: ~4 s reused vs ~7 s cold).
    """

    created: float = 3.0
    starting: float = 5.0
    oss_merged: float = 5.0
    running: float = 6.0
    reuse_created: float = 1.0
    reuse_starting: float = 2.0
    reuse_oss_merged: float = 2.0
    reuse_running: float = 3.0
    shutdown: float = 2.0
    cmd_before_shutdown_cap: float = 5.0
    reuse_pool_ttl: float = 7 * 86400.0

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) < 0:
                raise ValueError(f"Timings.{name} must not be negative")
        cold = (self.created, self.starting, self.oss_merged, self.running)
        warm = (self.reuse_created, self.reuse_starting, self.reuse_oss_merged, self.reuse_running)
        if list(cold) != sorted(cold) or list(warm) != sorted(warm):
            raise ValueError("boot offsets must be non-decreasing")


@dataclass(frozen=True, slots=True)
class DdpPackage:
    """A prepaid GPU-time package reported by `ddp/overview`; `total`/`balance` in seconds."""

    gpu_type: str
    total: int
    balance: int
    dc_list: tuple[str, ...]


def _default_ddp() -> tuple[DdpPackage, ...]:
    return (DdpPackage("RTX 4090", total=360_000, balance=360_000, dc_list=("westDC2",)),)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorConfig:
    """How one simulator instance behaves; see docs/simulator.md for every knob."""

    token: str = "sim-token"
    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 0
    clock: VirtualClock | WallClock = field(default_factory=WallClock)
    event_order: EventOrder = "newest_first"
    # Whether event pages carry `result_total` (docs/api-field-notes.md §1: may be absent).
    events_result_total: bool = True
    enterprise_verified: bool = True
    auth_failure: AuthFailure = "http401"
    blacklist_empty: BlacklistEmpty = "list"
    machines_per_region: int = 3
    background_load: float = 0.0
    scale_down_order: ScaleDownOrder = "newest_first"
    timings: Timings = field(default_factory=Timings)
    private_images: tuple[str, ...] = ("ml_backend:0.0.1", "llm-serving:v2", "sd-webui:2026-08")
    wallet_assets: int = 500_000
    ddp_packages: tuple[DdpPackage, ...] = field(default_factory=_default_ddp)
    uid: int = 100002
    max_page_size: int = 1000
    max_replicas: int = 1000
    # Knobs for the open questions of docs/api-field-notes.md §8 and for account states
    # (docs/simulator.md).
    real_name_verified: bool = True
    unschedulable: Unschedulable = "wait"
    honour_no_cache: bool = True
    ddp_dc_list: DdpDcList = "string"
    faults: tuple[FaultRule, ...] = ()  # installed at start and again by every reset
    state_file: str | os.PathLike[str] | None = None  # keeps the world across restarts

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("token must not be empty")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be within 0..65535")
        if self.machines_per_region < 1:
            raise ValueError("machines_per_region must be at least 1")
        if not 0.0 <= self.background_load <= 1.0:
            raise ValueError("background_load must be within [0, 1]")
        if self.max_page_size < 1 or self.max_replicas < 1:
            raise ValueError("max_page_size and max_replicas must be positive")
        if not isinstance(self.faults, tuple) or not all(
            isinstance(rule, FaultRule) for rule in self.faults
        ):
            raise TypeError("faults must be a tuple of FaultRule")
