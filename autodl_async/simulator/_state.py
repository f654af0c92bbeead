"""Mutable world records. Only the lifecycle and operations modules change them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from ._fleet import Machine
from ._timeline import Timer

__all__ = [
    "ALIVE",
    "BOOTING",
    "BlacklistEntry",
    "Container",
    "ContainerStatus",
    "Deployment",
    "DeploymentType",
    "Event",
    "ExitReason",
    "PortProtocol",
    "ReuseScope",
    "Template",
]

ContainerStatus = Literal[
    "creating", "created", "starting", "oss_merged", "running", "shutting_down", "shutdown"
]
DeploymentType = Literal["ReplicaSet", "Job", "Container"]
ReuseScope = Literal["all", "deployment"]
PortProtocol = Literal["http", "tcp"]
# "exited": the cmd ended by itself with code 0 (counts as finished); "failed": it ended with
# another code (counts in failed_num); "stopped": someone or something stopped it.
ExitReason = Literal["exited", "failed", "stopped"]

BOOTING: Final[frozenset[str]] = frozenset({"creating", "created", "starting", "oss_merged"})
ALIVE: Final[frozenset[str]] = BOOTING | {"running"}


@dataclass(frozen=True, slots=True)
class Template:
    """A normalised container template; memory bounds stay in GB as the request gave them."""

    region_sign: str
    dc_list: tuple[str, ...]
    gpu_name_set: tuple[str, ...]
    gpu_num: int
    cuda_v_from: int
    cuda_v_to: int
    memory_size_from: int
    memory_size_to: int
    cpu_num_from: int
    cpu_num_to: int
    price_from: int
    price_to: int
    image_uuid: str
    image_name: str
    cmd: str
    cmd_before_shutdown: str
    service_6006_port_protocol: PortProtocol
    service_6008_port_protocol: PortProtocol


@dataclass(slots=True)
class Event:
    container_uuid: str
    status: ContainerStatus
    at: float


@dataclass(slots=True, eq=False)
class Container:
    id: int
    uuid: str
    deployment_uuid: str
    machine: Machine
    gpu_num: int
    cpu_num: int
    memory_size: int  # bytes
    price: int
    image_uuid: str
    lineage_root: str  # the fresh container this one descends from through reuse
    reused_from: str | None
    run_seconds: float | None  # None: cmd never exits by itself
    exit_code: int  # what the cmd exits with when its run ends (non-zero: failed)
    cmd_before_shutdown: str
    password: str
    ssh_port: int
    service_port: int
    status: ContainerStatus
    created_at: float
    updated_at: float
    started_at: float | None = None
    stopped_at: float | None = None
    exit_reason: ExitReason | None = None
    no_cache: bool = False
    shutdown_due: float | None = None  # when shutting_down becomes shutdown
    timer: Timer | None = None


@dataclass(slots=True, eq=False)
class Deployment:
    id: int
    uuid: str
    name: str
    deployment_type: DeploymentType
    replica_num: int
    parallelism_num: int
    reuse_container: bool
    reuse_container_scope: ReuseScope
    service_port_protocol: PortProtocol
    template: Template
    created_at: float
    updated_at: float
    status: Literal["running", "stopped"] = "running"
    stopped_at: float | None = None
    deleted: bool = False
    finished_num: int = 0
    failed_num: int = 0
    containers: list[Container] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass(slots=True)
class BlacklistEntry:
    machine_id: str
    data_center: str
    created_at: float
    updated_at: float
    expires_at: float
    msg: str
