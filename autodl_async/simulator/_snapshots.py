"""Read-only views of the world for tests: frozen copies, never the live records.

Times are simulated Unix seconds (floats), the unit of `clock.now()`, so tests can do
arithmetic such as `c.started_at - c.created_at == 6`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._state import (
    BOOTING,
    BlacklistEntry,
    Container,
    ContainerStatus,
    Deployment,
    DeploymentType,
    Event,
    ExitReason,
    Template,
)
from ._world import World

__all__ = [
    "BlacklistSnapshot",
    "ContainerSnapshot",
    "DeploymentSnapshot",
    "EventSnapshot",
    "MachineSnapshot",
    "snapshot_blacklist",
    "snapshot_container",
    "snapshot_deployment",
    "snapshot_event",
    "snapshot_machines",
]


@dataclass(frozen=True, slots=True)
class DeploymentSnapshot:
    uuid: str
    id: int
    name: str
    deployment_type: DeploymentType
    status: str
    replica_num: int
    parallelism_num: int
    reuse_container: bool
    reuse_container_scope: str
    service_port_protocol: str
    starting_num: int
    running_num: int
    finished_num: int
    failed_num: int
    template: Template
    created_at: float
    updated_at: float
    stopped_at: float | None
    deleted: bool
    container_uuids: tuple[str, ...]  # creation order


@dataclass(frozen=True, slots=True)
class ContainerSnapshot:
    uuid: str
    id: int
    deployment_uuid: str
    machine_id: str
    data_center: str
    gpu_name: str
    gpu_num: int
    cpu_num: int
    memory_size: int  # bytes
    price: int
    status: ContainerStatus
    created_at: float
    updated_at: float
    started_at: float | None
    stopped_at: float | None
    exit_reason: ExitReason | None
    exit_code: int  # what its cmd exits with (from `exit N` in it; 0 without)
    no_cache: bool  # stopped with no_cache=true
    image_uuid: str
    reused_from: str | None  # uuid of the pooled container this one took over


@dataclass(frozen=True, slots=True)
class EventSnapshot:
    deployment_container_uuid: str
    status: ContainerStatus
    created_at: float


@dataclass(frozen=True, slots=True)
class MachineSnapshot:
    machine_id: str
    data_center: str
    gpu_name: str
    gpu_total: int
    gpu_idle: int
    cpu_per_gpu: int
    memory_per_gpu_bytes: int
    max_cuda: int
    price_per_gpu: int
    chip_corp: str
    cpu_arch: str
    background_busy: int  # GPUs rented by other (simulated) tenants
    blacklisted: bool  # by this account, unexpired


@dataclass(frozen=True, slots=True)
class BlacklistSnapshot:
    machine_id: str
    data_center: str
    created_at: float
    updated_at: float
    expired_time: float
    msg: str


def snapshot_deployment(dep: Deployment) -> DeploymentSnapshot:
    return DeploymentSnapshot(
        uuid=dep.uuid,
        id=dep.id,
        name=dep.name,
        deployment_type=dep.deployment_type,
        status=dep.status,
        replica_num=dep.replica_num,
        parallelism_num=dep.parallelism_num,
        reuse_container=dep.reuse_container,
        reuse_container_scope=dep.reuse_container_scope,
        service_port_protocol=dep.service_port_protocol,
        starting_num=sum(c.status in BOOTING for c in dep.containers),
        running_num=sum(c.status == "running" for c in dep.containers),
        finished_num=dep.finished_num,
        failed_num=dep.failed_num,
        template=dep.template,
        created_at=dep.created_at,
        updated_at=dep.updated_at,
        stopped_at=dep.stopped_at,
        deleted=dep.deleted,
        container_uuids=tuple(c.uuid for c in dep.containers),
    )


def snapshot_container(c: Container) -> ContainerSnapshot:
    return ContainerSnapshot(
        uuid=c.uuid,
        id=c.id,
        deployment_uuid=c.deployment_uuid,
        machine_id=c.machine.machine_id,
        data_center=c.machine.data_center,
        gpu_name=c.machine.gpu_name,
        gpu_num=c.gpu_num,
        cpu_num=c.cpu_num,
        memory_size=c.memory_size,
        price=c.price,
        status=c.status,
        created_at=c.created_at,
        updated_at=c.updated_at,
        started_at=c.started_at,
        stopped_at=c.stopped_at,
        exit_reason=c.exit_reason,
        exit_code=c.exit_code,
        no_cache=c.no_cache,
        image_uuid=c.image_uuid,
        reused_from=c.reused_from,
    )


def snapshot_event(e: Event) -> EventSnapshot:
    return EventSnapshot(e.container_uuid, e.status, e.at)


def snapshot_machines(world: World) -> tuple[MachineSnapshot, ...]:
    return tuple(
        MachineSnapshot(
            machine_id=m.machine_id,
            data_center=m.data_center,
            gpu_name=m.gpu_name,
            gpu_total=m.gpu_total,
            gpu_idle=world.idle(m),
            cpu_per_gpu=m.cpu_per_gpu,
            memory_per_gpu_bytes=m.memory_per_gpu_bytes,
            max_cuda=m.max_cuda,
            price_per_gpu=m.price_per_gpu,
            chip_corp=m.chip_corp,
            cpu_arch=m.cpu_arch,
            background_busy=m.background_busy,
            blacklisted=world.is_blacklisted(m),
        )
        for m in world.fleet
    )


def snapshot_blacklist(e: BlacklistEntry) -> BlacklistSnapshot:
    return BlacklistSnapshot(
        machine_id=e.machine_id,
        data_center=e.data_center,
        created_at=e.created_at,
        updated_at=e.updated_at,
        expired_time=e.expires_at,
        msg=e.msg,
    )
