"""State-changing commands behind the write endpoints, after their input is validated."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import NO_STOCK, ApiError
from ._lifecycle import Lifecycle
from ._scheduler import for_template, matches
from ._state import (
    ALIVE,
    BlacklistEntry,
    Container,
    Deployment,
    DeploymentType,
    PortProtocol,
    ReuseScope,
    Template,
)
from ._world import World

__all__ = ["DeploymentSpec", "Operations"]


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """A validated create-deployment request."""

    name: str
    deployment_type: DeploymentType
    replica_num: int
    parallelism_num: int
    reuse_container: bool
    reuse_container_scope: ReuseScope
    service_port_protocol: PortProtocol
    template: Template


class Operations:
    def __init__(self, world: World, lifecycle: Lifecycle) -> None:
        self._w = world
        self._life = lifecycle

    def create(self, spec: DeploymentSpec) -> Deployment:
        """With `unschedulable="reject"`, a template no host of the fleet could ever run is
        refused at create time (as the private-cloud queue tool saw); with "wait" (default)
        the deployment is created and its containers wait, as on public cloud."""
        w = self._w
        if w.config.unschedulable == "reject":
            req = for_template(spec.template)
            if not any(matches(machine, req) for machine in w.fleet):
                raise ApiError(*NO_STOCK)
        dep = Deployment(
            id=w.next_deployment_id(),
            uuid=w.unique_id("", 10, w.deployments),
            name=spec.name,
            deployment_type=spec.deployment_type,
            replica_num=spec.replica_num,
            parallelism_num=spec.parallelism_num,
            reuse_container=spec.reuse_container,
            reuse_container_scope=spec.reuse_container_scope,
            service_port_protocol=spec.service_port_protocol,
            template=spec.template,
            created_at=w.now,
            updated_at=w.now,
        )
        w.deployments[dep.uuid] = dep
        self._life.reconcile(dep)
        return dep

    def stop_container(
        self, container: Container, *, decrease: bool, no_cache: bool, hook_cmd: str
    ) -> None:
        """Idempotent: a container already stopping or stopped is left as it is.

        `decrease_one_replica_num` only affects ReplicaSets (doc); elsewhere it is ignored.
        `no_cache` on an already shut-down container still takes it out of the reuse pool.
        """
        w = self._w
        dep = w.owner(container)
        if container.status not in ALIVE:
            if no_cache and w.config.honour_no_cache and container in w.pool:
                w.pool.remove(container)
            return
        if decrease and dep.deployment_type == "ReplicaSet" and dep.replica_num > 0:
            dep.replica_num -= 1
            dep.updated_at = w.now
        hook = hook_cmd or container.cmd_before_shutdown
        self._life.begin_shutdown(container, "stopped", hook, no_cache=no_cache)
        self._life.reconcile(dep)

    def set_replica_num(self, dep: Deployment, replica_num: int) -> None:
        """On a stopped deployment the number is stored but nothing starts."""
        dep.replica_num = replica_num
        dep.updated_at = self._w.now
        self._life.reconcile(dep)

    def stop_deployment(self, dep: Deployment) -> None:
        w = self._w
        if dep.status == "stopped":
            return
        dep.status = "stopped"
        dep.stopped_at = w.now
        dep.updated_at = w.now
        for container in dep.containers:
            self._life.begin_shutdown(
                container, "stopped", dep.template.cmd_before_shutdown, no_cache=False
            )

    def delete_deployment(self, dep: Deployment) -> None:
        """Stop first, as the doc says; the record stays (hidden) so its containers can finish."""
        self.stop_deployment(dep)
        dep.deleted = True

    def set_blacklist(self, container: Container, minutes: int, comment: str) -> None:
        """Setting an unexpired entry again moves `updated_at` and expiry, keeps `created_at`."""
        w = self._w
        machine = container.machine
        expires = w.now + minutes * 60.0
        entry = w.blacklist.get(machine.machine_id)
        if entry is not None and entry.expires_at > w.now:
            entry.updated_at = w.now
            entry.expires_at = expires
            entry.msg = comment
        else:
            w.blacklist[machine.machine_id] = BlacklistEntry(
                machine_id=machine.machine_id,
                data_center=machine.data_center,
                created_at=w.now,
                updated_at=w.now,
                expires_at=expires,
                msg=comment,
            )
        w.timeline.schedule(expires, self._life.reconcile_all)
