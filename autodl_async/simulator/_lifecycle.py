"""Container lifecycles and replica reconciliation, driven by the timeline.

Every status change is recorded at the simulated time it was scheduled for, so events carry
exact timestamps however late the world is advanced. Capacity freed by a shutdown (or a
blacklist expiry) re-runs reconciliation for every running deployment, oldest first, which is
how unplaced replicas get their container once a host frees up.

A Job counts a container as done when it finishes *or* fails: failed runs are not retried
(docs/api-field-notes.md §8 leaves Job retries open; no retries keeps a crashing Job finite).
"""

from __future__ import annotations

from typing import Final

from ._commands import exit_code, run_seconds, sleep_seconds
from ._scheduler import Requirements, choose_machine, for_template, matches
from ._state import ALIVE, Container, ContainerStatus, Deployment, Event, ExitReason
from ._world import World

__all__ = ["Lifecycle"]

BootPlan = tuple[tuple[float, ContainerStatus], ...]
# The boot status a container is in -> the index of its next step in a BootPlan.
_NEXT_STEP: Final[dict[str, int]] = {"creating": 0, "created": 1, "starting": 2, "oss_merged": 3}


class Lifecycle:
    def __init__(self, world: World) -> None:
        self._w = world
        t = world.config.timings
        self._cold: BootPlan = (
            (t.created, "created"),
            (t.starting, "starting"),
            (t.oss_merged, "oss_merged"),
            (t.running, "running"),
        )
        self._warm: BootPlan = (
            (t.reuse_created, "created"),
            (t.reuse_starting, "starting"),
            (t.reuse_oss_merged, "oss_merged"),
            (t.reuse_running, "running"),
        )

    def advance(self, to: float) -> None:
        """Run every due transition in time order, then settle the world at `to`."""
        w = self._w
        while (due := w.timeline.pop_due(to)) is not None:
            at, action = due
            w.now = max(w.now, at)
            action()
        w.now = max(w.now, to)

    # -- reconciliation -------------------------------------------------------------------

    def reconcile_all(self) -> None:
        for dep in list(self._w.deployments.values()):
            self.reconcile(dep)

    def reconcile(self, dep: Deployment) -> None:
        """Start or stop containers until the deployment has what its type asks for."""
        if dep.deleted or dep.status != "running":
            return
        alive = [c for c in dep.containers if c.status in ALIVE]
        if dep.deployment_type == "ReplicaSet":
            need = dep.replica_num - len(alive)
            if need < 0:
                hook = dep.template.cmd_before_shutdown
                for container in self._excess(alive, -need):
                    self.begin_shutdown(container, "stopped", hook, no_cache=False)
                return
        else:
            exiting = sum(
                c.status == "shutting_down" and c.exit_reason in {"exited", "failed"}
                for c in dep.containers
            )
            done = dep.finished_num + dep.failed_num
            remaining = dep.replica_num - done - exiting - len(alive)
            need = min(remaining, dep.parallelism_num - len(alive))
        for _ in range(need):
            if not self.spawn(dep):
                break

    def _excess(self, alive: list[Container], count: int) -> list[Container]:
        ordered = sorted(alive, key=lambda c: (c.created_at, c.id))
        if self._w.config.scale_down_order == "newest_first":
            ordered.reverse()
        return ordered[:count]

    # -- container lifecycle --------------------------------------------------------------

    def spawn(self, dep: Deployment) -> bool:
        """Place one new container for `dep`; False when no host fits right now."""
        w = self._w
        template = dep.template
        req = for_template(template)
        cached = self._take_cached(dep, req) if dep.reuse_container else None
        if cached is not None:
            machine = cached.machine
            root = cached.lineage_root
            uuid = w.unique_id(f"{root}-", 9, w.containers)
        else:
            chosen = choose_machine(w.fleet, req, w.idle, w.is_blacklisted)
            if chosen is None:
                return False
            machine = chosen
            uuid = w.unique_id(f"{dep.uuid}-{machine.machine_id}-", 10, w.containers)
            root = uuid
        n = template.gpu_num
        container = Container(
            id=w.next_container_id(),
            uuid=uuid,
            deployment_uuid=dep.uuid,
            machine=machine,
            gpu_num=n,
            cpu_num=machine.cpu_per_gpu * n,
            memory_size=machine.memory_per_gpu_bytes * n,
            price=machine.price_per_gpu * n,
            image_uuid=template.image_uuid,
            lineage_root=root,
            reused_from=None if cached is None else cached.uuid,
            run_seconds=run_seconds(template.cmd),
            exit_code=exit_code(template.cmd),
            cmd_before_shutdown=template.cmd_before_shutdown,
            password=w.ids.password(),
            ssh_port=w.ids.port(),
            service_port=w.ids.port(),
            status="creating",
            created_at=w.now,
            updated_at=w.now,
        )
        w.used[machine.machine_id] = w.used.get(machine.machine_id, 0) + n
        w.containers[uuid] = container
        dep.containers.append(container)
        self._record(container, "creating")
        self._boot(container, self._cold if cached is None else self._warm, 0)
        return True

    def _take_cached(self, dep: Deployment, req: Requirements) -> Container | None:
        """Most recently stopped pooled container that may serve `dep` on a host that fits."""
        w = self._w
        ttl = w.config.timings.reuse_pool_ttl
        w.pool = [c for c in w.pool if c.stopped_at is not None and c.stopped_at + ttl > w.now]
        for container in reversed(w.pool):
            if dep.reuse_container_scope == "deployment" and container.deployment_uuid != dep.uuid:
                continue
            machine = container.machine
            if (
                container.image_uuid == dep.template.image_uuid
                and w.idle(machine) >= req.gpu_num
                and matches(machine, req)
                and not w.is_blacklisted(machine)
            ):
                w.pool.remove(container)
                return container
        return None

    def _boot(self, container: Container, plan: BootPlan, step: int) -> None:
        offset, status = plan[step]

        def fire() -> None:
            self._record(container, status)
            if status != "running":
                self._boot(container, plan, step + 1)
                return
            container.started_at = self._w.now
            container.timer = None
            self._schedule_exit(container)

        container.timer = self._w.timeline.schedule(container.created_at + offset, fire)

    def _schedule_exit(self, container: Container) -> None:
        if container.run_seconds is not None and container.started_at is not None:
            container.timer = self._w.timeline.schedule(
                container.started_at + container.run_seconds, lambda: self._exit(container)
            )

    def _exit(self, container: Container) -> None:
        reason: ExitReason = "failed" if container.exit_code else "exited"
        self.begin_shutdown(container, reason, "", no_cache=False)
        self.reconcile(self._w.owner(container))

    def crash(self, container: Container) -> bool:
        """The container's process dies now: it fails (counts in `failed_num`) and is replaced
        as its deployment type says. False if it was not alive."""
        if not self.begin_shutdown(container, "failed", "", no_cache=False):
            return False
        self.reconcile(self._w.owner(container))
        return True

    def begin_shutdown(
        self, container: Container, reason: ExitReason, hook_cmd: str, *, no_cache: bool
    ) -> bool:
        """Move a live container to shutting_down; False if it was already on its way out.

        The caller reconciles afterwards: doing it here would re-enter a scale-down loop.
        `hook_cmd` is `cmd_before_shutdown`; a `sleep N` in it delays shutdown by up to the cap.
        """
        if container.status not in ALIVE:
            return False
        w = self._w
        if container.timer is not None:
            container.timer.cancel()
        container.exit_reason = reason
        container.no_cache = no_cache
        self._record(container, "shutting_down")
        delay = w.config.timings.shutdown
        if reason == "stopped":
            hook = sleep_seconds(hook_cmd) or 0.0
            delay += min(hook, w.config.timings.cmd_before_shutdown_cap)
        container.shutdown_due = w.now + delay
        self._schedule_finish(container, container.shutdown_due)
        return True

    def _schedule_finish(self, container: Container, at: float) -> None:
        container.timer = self._w.timeline.schedule(at, lambda: self._finish(container))

    def _finish(self, container: Container) -> None:
        w = self._w
        self._record(container, "shutdown")
        container.stopped_at = w.now
        container.timer = None
        machine_id = container.machine.machine_id
        w.used[machine_id] -= container.gpu_num
        if container.exit_reason == "exited":
            w.owner(container).finished_num += 1
        elif container.exit_reason == "failed":
            w.owner(container).failed_num += 1
        # Live, no_cache did not reliably keep a lineage out of the pool
        # (docs/api-field-notes.md §0, item 8).
        if not container.no_cache or not w.config.honour_no_cache:
            w.pool.append(container)
        self.reconcile_all()

    def resume(self) -> None:
        """Re-arm every pending transition of a world restored from a state file.

        Timers are not saved (they are closures); each is derived again from the container's
        status and times, in container order, so the restored world moves on as it would have.
        """
        w = self._w
        for container in sorted(w.containers.values(), key=lambda c: c.id):
            if container.status in _NEXT_STEP:
                plan = self._cold if container.reused_from is None else self._warm
                self._boot(container, plan, _NEXT_STEP[container.status])
            elif container.status == "running":
                self._schedule_exit(container)
            elif container.status == "shutting_down" and container.shutdown_due is not None:
                self._schedule_finish(container, container.shutdown_due)
        for entry in w.active_blacklist():
            w.timeline.schedule(entry.expires_at, self.reconcile_all)

    def _record(self, container: Container, status: ContainerStatus) -> None:
        w = self._w
        w.revision += 1
        container.status = status
        container.updated_at = w.now
        w.owner(container).events.append(Event(container.uuid, status, w.now))
