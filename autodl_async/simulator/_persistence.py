"""The state file: one simulated account written to disk, so a standalone server keeps its
deployments, containers, blacklist and reuse pool across restarts.

The file is versioned JSON (`format`, `version`), written atomically (a temporary file in the
same directory, fsync, rename), and checked on load: a file that is not JSON, not ours, of
another version, or written over another fleet (other seed or `machines_per_region`) is a
`StateFileError` that says which, never a half-restored world. Timers are not saved;
`Lifecycle.resume` derives them again. The fleet is not saved either: it is rebuilt from the
seed, and a fingerprint proves it is the same one.

Simulated time pauses while the server is down: on load the clock is moved forward to the
saved instant if it is behind, so timestamps never go backwards.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Final

import msgspec

from ._fleet import Machine
from ._lifecycle import Lifecycle
from ._state import (
    BlacklistEntry,
    Container,
    ContainerStatus,
    Deployment,
    DeploymentType,
    Event,
    ExitReason,
    PortProtocol,
    ReuseScope,
    Template,
)
from ._world import World

__all__ = ["FORMAT", "VERSION", "StateFileError", "StateStore", "dump_world", "restore_world"]

FORMAT: Final = "autodl-async-simulator-state"
VERSION: Final = 1

logger = logging.getLogger("autodl_async.simulator")


class StateFileError(ValueError):
    """A state file that cannot be loaded; the message names the file and the reason."""


class _Rng(msgspec.Struct, array_like=True):
    version: int
    internal: tuple[int, ...]
    gauss_next: float | None


class _Container(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    uuid: str
    deployment_uuid: str
    machine_id: str
    gpu_num: int
    cpu_num: int
    memory_size: int
    price: int
    image_uuid: str
    lineage_root: str
    reused_from: str | None
    run_seconds: float | None
    exit_code: int
    cmd_before_shutdown: str
    password: str
    ssh_port: int
    service_port: int
    status: ContainerStatus
    created_at: float
    updated_at: float
    started_at: float | None
    stopped_at: float | None
    exit_reason: ExitReason | None
    no_cache: bool
    shutdown_due: float | None


class _Event(msgspec.Struct, array_like=True):
    container_uuid: str
    status: ContainerStatus
    at: float


class _Deployment(msgspec.Struct, forbid_unknown_fields=True):
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
    status: str
    stopped_at: float | None
    deleted: bool
    finished_num: int
    failed_num: int
    container_uuids: list[str]
    events: list[_Event]


class _Header(msgspec.Struct):
    format: str = ""
    version: int = 0


class _State(msgspec.Struct, forbid_unknown_fields=True):
    format: str
    version: int
    fleet: str
    now: float
    ids: dict[str, _Rng]
    next_deployment_id: int
    next_container_id: int
    deployments: list[_Deployment]
    containers: list[_Container]
    blacklist: list[BlacklistEntry]
    pool: list[str]


def fleet_fingerprint(fleet: tuple[Machine, ...]) -> str:
    """Short digest of the machines a world's records point at."""
    text = "|".join(f"{m.machine_id}:{m.data_center}:{m.gpu_name}:{m.gpu_total}" for m in fleet)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _container_record(c: Container) -> _Container:
    return _Container(
        id=c.id,
        uuid=c.uuid,
        deployment_uuid=c.deployment_uuid,
        machine_id=c.machine.machine_id,
        gpu_num=c.gpu_num,
        cpu_num=c.cpu_num,
        memory_size=c.memory_size,
        price=c.price,
        image_uuid=c.image_uuid,
        lineage_root=c.lineage_root,
        reused_from=c.reused_from,
        run_seconds=c.run_seconds,
        exit_code=c.exit_code,
        cmd_before_shutdown=c.cmd_before_shutdown,
        password=c.password,
        ssh_port=c.ssh_port,
        service_port=c.service_port,
        status=c.status,
        created_at=c.created_at,
        updated_at=c.updated_at,
        started_at=c.started_at,
        stopped_at=c.stopped_at,
        exit_reason=c.exit_reason,
        no_cache=c.no_cache,
        shutdown_due=c.shutdown_due,
    )


def _deployment_record(d: Deployment) -> _Deployment:
    return _Deployment(
        id=d.id,
        uuid=d.uuid,
        name=d.name,
        deployment_type=d.deployment_type,
        replica_num=d.replica_num,
        parallelism_num=d.parallelism_num,
        reuse_container=d.reuse_container,
        reuse_container_scope=d.reuse_container_scope,
        service_port_protocol=d.service_port_protocol,
        template=d.template,
        created_at=d.created_at,
        updated_at=d.updated_at,
        status=d.status,
        stopped_at=d.stopped_at,
        deleted=d.deleted,
        finished_num=d.finished_num,
        failed_num=d.failed_num,
        container_uuids=[c.uuid for c in d.containers],
        events=[_Event(e.container_uuid, e.status, e.at) for e in d.events],
    )


def dump_world(world: World) -> bytes:
    ids = {
        name: _Rng(state[0], tuple(state[1]), state[2])
        for name, state in world.ids.getstate().items()
    }
    state = _State(
        format=FORMAT,
        version=VERSION,
        fleet=fleet_fingerprint(world.fleet),
        now=world.now,
        ids=ids,
        next_deployment_id=world.peek_ids()[0],
        next_container_id=world.peek_ids()[1],
        deployments=[_deployment_record(d) for d in world.deployments.values()],
        containers=[_container_record(c) for c in world.containers.values()],
        blacklist=list(world.blacklist.values()),
        pool=[c.uuid for c in world.pool],
    )
    return msgspec.json.encode(state)


def _decode(raw: bytes, where: str) -> _State:
    try:
        header = msgspec.json.decode(raw, type=_Header)
    except msgspec.DecodeError:
        raise StateFileError(f"{where} is not a simulator state file (not JSON)") from None
    except msgspec.ValidationError:
        raise StateFileError(f"{where} is not a simulator state file") from None
    if header.format != FORMAT:
        raise StateFileError(f"{where} is not a simulator state file (no format {FORMAT!r})")
    if header.version != VERSION:
        raise StateFileError(
            f"{where} has state format version {header.version}; this simulator reads "
            f"version {VERSION} (remove the file to start afresh)"
        )
    try:
        return msgspec.json.decode(raw, type=_State)
    except msgspec.MsgspecError as exc:
        raise StateFileError(f"{where} is corrupt: {exc}") from None


def _rebuild_container(rec: _Container, machines: dict[str, Machine], where: str) -> Container:
    machine = machines.get(rec.machine_id)
    if machine is None:
        raise StateFileError(f"{where} is corrupt: container {rec.uuid} on an unknown machine")
    fields = {f: getattr(rec, f) for f in rec.__struct_fields__ if f != "machine_id"}
    return Container(machine=machine, **fields)


def restore_world(world: World, lifecycle: Lifecycle, raw: bytes, where: str) -> None:
    """Replace `world`'s account with the saved one; on any error `world` is left as it was."""
    state = _decode(raw, where)
    if state.fleet != fleet_fingerprint(world.fleet):
        raise StateFileError(
            f"{where} was written by a simulator with another fleet; start with the same "
            "--seed (and machines_per_region / background_load), or remove the file"
        )
    machines = {m.machine_id: m for m in world.fleet}
    containers = {rec.uuid: _rebuild_container(rec, machines, where) for rec in state.containers}
    deployments: dict[str, Deployment] = {}
    for rec in state.deployments:
        try:
            members = [containers[uuid] for uuid in rec.container_uuids]
        except KeyError as exc:
            raise StateFileError(f"{where} is corrupt: unknown container {exc.args[0]}") from None
        if rec.status not in {"running", "stopped"}:
            raise StateFileError(f"{where} is corrupt: deployment status {rec.status!r}")
        fields: dict[str, Any] = {
            f: getattr(rec, f) for f in rec.__struct_fields__ if f not in {"container_uuids"}
        }
        fields["events"] = [Event(e.container_uuid, e.status, e.at) for e in rec.events]
        deployments[rec.uuid] = Deployment(containers=members, **fields)
    if any(c.deployment_uuid not in deployments for c in containers.values()):
        raise StateFileError(f"{where} is corrupt: a container without its deployment")
    pool = [containers[uuid] for uuid in state.pool if uuid in containers]
    if len(pool) != len(state.pool):
        raise StateFileError(f"{where} is corrupt: the reuse pool names unknown containers")

    clock = world.config.clock
    behind = state.now - clock.now()
    if behind > 0:
        clock.advance(behind)
    world.clear()
    world.now = state.now
    world.ids.setstate(
        {name: (r.version, r.internal, r.gauss_next) for name, r in state.ids.items()}
    )
    world.set_next_ids(state.next_deployment_id, state.next_container_id)
    world.deployments.update(deployments)
    world.containers.update(containers)
    world.blacklist.update({e.machine_id: e for e in state.blacklist})
    world.pool.extend(pool)
    for c in containers.values():
        if c.status != "shutdown":
            world.used[c.machine.machine_id] = world.used.get(c.machine.machine_id, 0) + c.gpu_num
    lifecycle.resume()


class StateStore:
    """The file behind `SimulatorConfig.state_file`: loaded once, saved after every change."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def where(self) -> str:
        return f"state file {str(self.path)!r}"

    def load(self, world: World, lifecycle: Lifecycle) -> bool:
        """Restore the saved account; False (world untouched) when there is no file yet."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StateFileError(f"cannot read {self.where}: {exc.strerror or exc}") from None
        restore_world(world, lifecycle, raw, self.where)
        return True

    def save(self, world: World) -> None:
        """Write atomically: readers (and a crash) see the old file or the new, never half."""
        data = dump_world(world)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StateFileError(f"cannot write {self.where}: {exc.strerror or exc}") from None
