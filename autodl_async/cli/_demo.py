"""The steps of ``autodl-async demo``: a whole Elastic Deployment lifecycle, end to end.

Everything here goes through the public SDK (``from autodl_async import ...``) exactly as a
user's script would, so the demo doubles as a worked example. Printing is behind
:class:`DemoView` (rich in ``_demo_view.py``) and asking the user behind ``confirm``, so the
steps can run against the embedded simulator, a real account, or a test.

Live events come from ``client.events.stream`` (through ``_live_events.py``, which follows
deployments as the demo creates them), waits from ``client.waiters``, the concurrent stop from
``client.bulk``.

Whatever happens (an error, a declined prompt, Ctrl-C), every deployment the demo created is
deleted before it returns: on a real account a leftover container costs money.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import anyio

from autodl_async import (
    AutoDL,
    AutoDLError,
    BlacklistEntry,
    Container,
    ContainerEvent,
    ContainerTemplate,
    DeploymentType,
    GpuStock,
    Image,
    cuda_version,
    yuan_to_milli,
)

from ._live_events import LiveEvents

__all__ = [
    "FALLBACK_IMAGE",
    "Confirm",
    "DemoCancelled",
    "DemoError",
    "DemoPlan",
    "DemoResult",
    "DemoView",
    "Labels",
    "run_demo",
]

#: PyTorch 2.0 / CUDA 11.8, a public base image from the doc's appendix: used on an account
#: that has no private image yet.
FALLBACK_IMAGE: Final = "base-image-l2t43iu6uk"

Confirm = Callable[[str], bool]


class DemoCancelled(Exception):
    """The user declined a step that costs money."""


class DemoError(Exception):
    """The demo cannot go on (no stock in the region, unknown GPU, a stop that failed)."""


class DemoView(Protocol):
    """What the demo shows; ``_demo_view.RichDemoView`` is the terminal implementation."""

    def step(self, title: str) -> None: ...
    def note(self, text: str) -> None: ...
    def ok(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...
    def event(self, label: str, event: ContainerEvent, *, first: bool) -> None: ...
    def images(self, images: Sequence[Image]) -> None: ...
    def stock(self, stock: Mapping[str, GpuStock]) -> None: ...
    def containers(self, containers: Sequence[Container], labels: Mapping[str, str]) -> None: ...
    def blacklist(self, entries: Sequence[BlacklistEntry]) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoPlan:
    """What the demo creates, and how patiently it polls (real seconds)."""

    name: str
    region: str = "westDC2"
    gpu: str | None = None
    image_uuid: str | None = None
    max_price_yuan: float = 3.0
    cuda_from: str = "11.8"
    cuda_to: str = "12.8"
    replicas: int = 2
    scale_up_to: int = 4
    scale_down_to: int = 3
    stop_count: int = 2
    job_replicas: int = 3
    job_parallelism: int = 2
    job_seconds: int = 10
    blacklist_minutes: int = 10
    event_interval: float = 2.0
    wait_interval: float = 5.0
    wait_timeout: float = 900.0

    @staticmethod
    def unique_name(prefix: str = "autodl-async-demo") -> str:
        """Deployment names are how a lost create is reconciled, so make them unique."""
        return f"{prefix}-{secrets.token_hex(3)}"

    def for_simulator(self, speed: float, *, poll_interval: float | None = None) -> DemoPlan:
        """Poll every half simulated second; give each wait ten simulated minutes."""
        interval = poll_interval or min(0.25, max(0.02, 0.5 / speed))
        return dataclasses.replace(
            self,
            event_interval=interval,
            wait_interval=interval,
            wait_timeout=max(10.0, 600.0 / speed),
        )


@dataclass(frozen=True, slots=True)
class DemoResult:
    seconds: float
    deployments: int
    containers: int
    events: int
    requests: int
    retries: int


class Labels:
    """Short names (``rs-1``, ``job-2``) for container uuids, in order of first sighting."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def name(self, uuid: str, tag: str) -> tuple[str, bool]:
        """The label of ``uuid`` and whether it was just given."""
        known = self._names.get(uuid)
        if known is not None:
            return known, False
        self._counts[tag] = self._counts.get(tag, 0) + 1
        label = f"{tag}-{self._counts[tag]}"
        self._names[uuid] = label
        return label, True

    @property
    def mapping(self) -> Mapping[str, str]:
        return self._names

    def sort_key(self, container: Container) -> tuple[str, int]:
        label = self._names.get(container.uuid, "~")
        tag, _, number = label.rpartition("-")
        return (tag, int(number) if number.isdigit() else 0)


async def run_demo(client: AutoDL, plan: DemoPlan, view: DemoView, confirm: Confirm) -> DemoResult:
    """Run every step; delete whatever was created even if a step fails or is cancelled."""
    return await _Demo(client, plan, view, confirm).run()


class _Demo:
    def __init__(self, client: AutoDL, plan: DemoPlan, view: DemoView, confirm: Confirm) -> None:
        self.client = client
        self.plan = plan
        self.view = view
        self.confirm = confirm
        self.labels = Labels()
        self.created: list[str] = []
        self.started = time.monotonic()
        self.containers_seen: set[str] = set()

    # -- plumbing ---------------------------------------------------------------------------

    def _elapsed(self, since: float) -> str:
        return f"{time.monotonic() - since:.1f} s"

    def _on_event(self, tag: str, event: ContainerEvent) -> None:
        label, first = self.labels.name(event.deployment_container_uuid, tag)
        self.containers_seen.add(event.deployment_container_uuid)
        self.view.event(label, event, first=first)

    def _on_error(self, exc: AutoDLError) -> None:
        self.view.warn(f"event poll failed, will retry: {type(exc).__name__}: {exc}")

    def _ask(self, question: str) -> None:
        if not self.confirm(question):
            raise DemoCancelled(question)

    def _template(self, image_uuid: str, gpu: str, cmd: str) -> ContainerTemplate:
        plan = self.plan
        return ContainerTemplate(
            image_uuid=image_uuid,
            cmd=cmd,
            gpu_name_set=[gpu],
            dc_list=[plan.region],
            gpu_num=1,
            cuda_v_from=cuda_version(plan.cuda_from),
            cuda_v_to=cuda_version(plan.cuda_to),
            price_to=yuan_to_milli(plan.max_price_yuan),
        )

    async def _wait_running(self, live: LiveEvents, uuid: str, count: int) -> list[Container]:
        running = await self.client.waiters.until_running(
            uuid,
            count,
            exact=True,
            timeout=self.plan.wait_timeout,
            interval=self.plan.wait_interval,
            max_interval=self.plan.wait_interval,
        )
        await live.flush()
        return sorted(running, key=self.labels.sort_key)

    def _show(self, containers: Sequence[Container]) -> None:
        self.view.containers(containers, self.labels.mapping)

    # -- the demo ---------------------------------------------------------------------------

    async def run(self) -> DemoResult:
        try:
            async with LiveEvents(
                self.client, self._on_event, self._on_error, interval=self.plan.event_interval
            ) as live:
                await self._account()
                image_uuid = await self._images()
                gpu = await self._stock()
                rs = await self._create_replicaset(live, image_uuid, gpu)
                await self._scale_up(live, rs)
                await self._scale_down(live, rs)
                survivor = await self._stop_concurrently(live, rs)
                machine = await self._blacklist(survivor)
                job = await self._job(live, image_uuid, gpu, machine)
                await self._stop_and_delete(live, rs, job)
                events = live.count
        finally:
            with anyio.move_on_after(120, shield=True):
                await self._cleanup()
        stats = self.client.stats
        return DemoResult(
            seconds=time.monotonic() - self.started,
            deployments=2,
            containers=len(self.containers_seen),
            events=events,
            requests=stats.requests,
            retries=stats.retries,
        )

    async def _account(self) -> None:
        self.view.step("Account")
        try:
            wallet = await self.client.account.balance()
        except AutoDLError as exc:
            self.view.warn(f"wallet balance unavailable ({type(exc).__name__}); going on")
            return
        frozen = wallet.blocked_asset / 1000
        self.view.note(f"wallet: ¥{wallet.available_yuan:,.2f} available (¥{frozen:,.2f} frozen)")

    async def _images(self) -> str:
        self.view.step("Private images")
        images = await self.client.images.list().to_list()
        if images:
            self.view.images(images)
        else:
            self.view.note("no private images on this account")
        if self.plan.image_uuid:
            chosen = self.plan.image_uuid
        elif images:
            chosen = images[0].image_uuid
        else:
            chosen = FALLBACK_IMAGE
        names = {i.image_uuid: i.display_name for i in images}
        self.view.ok(f"using image {chosen} ({names.get(chosen, 'public base image')})")
        return chosen

    async def _stock(self) -> str:
        plan = self.plan
        self.view.step(f"GPU stock in {plan.region}")
        stock = await self.client.gpu_stock.get(plan.region)
        if not stock:
            raise DemoError(f"no GPU stock reported for region {plan.region!r}; try --region")
        self.view.stock(stock)
        need = max(plan.replicas, plan.scale_up_to)
        if plan.gpu is not None:
            if plan.gpu not in stock:
                raise DemoError(
                    f"{plan.gpu!r} is not offered in {plan.region}; pick one of: "
                    + ", ".join(sorted(stock))
                )
            gpu = plan.gpu
        else:
            fitting = {n: s for n, s in stock.items() if s.idle_gpu_num >= need} or stock
            gpu = max(sorted(fitting), key=lambda n: fitting[n].idle_gpu_num)
        row = stock[gpu]
        self.view.ok(f"using {gpu}: {row.idle_gpu_num} of {row.total_gpu_num} GPUs idle")
        if row.idle_gpu_num < need:
            self.view.warn(f"fewer than {need} idle: some containers may wait for a host")
        return gpu

    async def _create_replicaset(self, live: LiveEvents, image_uuid: str, gpu: str) -> str:
        plan = self.plan
        self.view.step(f"Create a ReplicaSet with {plan.replicas} replicas")
        self._ask(
            f"Create ReplicaSet {plan.name!r}: {plan.replicas} containers of 1× {gpu} "
            f"at up to ¥{plan.max_price_yuan:.2f}/h each, billed while they run?"
        )
        t0 = time.monotonic()
        uuid = await self.client.deployments.create(
            name=plan.name,
            deployment_type=DeploymentType.REPLICA_SET,
            template=self._template(image_uuid, gpu, "sleep infinity"),
            replica_num=plan.replicas,
        )
        self.created.append(uuid)
        self.view.ok(f"created {uuid} ({plan.name}); its container events, live:")
        live.follow(uuid, "rs")
        containers = await self._wait_running(live, uuid, plan.replicas)
        self.view.ok(f"{plan.replicas} containers running after {self._elapsed(t0)}")
        self._show(containers)
        return uuid

    async def _scale_up(self, live: LiveEvents, rs: str) -> None:
        plan = self.plan
        self.view.step(f"Scale up to {plan.scale_up_to}")
        self._ask(
            f"Scale {plan.name!r} to {plan.scale_up_to} containers "
            f"({plan.scale_up_to - plan.replicas} more at up to ¥{plan.max_price_yuan:.2f}/h)?"
        )
        t0 = time.monotonic()
        await self.client.deployments.set_replicas(rs, plan.scale_up_to)
        await self._wait_running(live, rs, plan.scale_up_to)
        self.view.ok(f"{plan.scale_up_to} containers running after {self._elapsed(t0)}")

    async def _scale_down(self, live: LiveEvents, rs: str) -> None:
        plan = self.plan
        self.view.step(f"Scale down to {plan.scale_down_to}")
        t0 = time.monotonic()
        await self.client.deployments.set_replicas(rs, plan.scale_down_to)
        await self._wait_running(live, rs, plan.scale_down_to)
        self.view.ok(f"{plan.scale_down_to} running after {self._elapsed(t0)}")

    async def _stop_concurrently(self, live: LiveEvents, rs: str) -> Container:
        plan = self.plan
        self.view.step(f"Stop {plan.stop_count} containers concurrently")
        running = await self._wait_running(live, rs, plan.scale_down_to)
        victims = running[-plan.stop_count :]
        names = ", ".join(self.labels.mapping.get(c.uuid, c.uuid) for c in victims)
        self.view.note(f"stopping {names} at once, with decrease_one_replica_num=True")
        t0 = time.monotonic()
        result = await self.client.bulk.stop_containers(
            victims, decrease_one_replica_num=True, concurrency=plan.stop_count
        )
        for item in result.failures():
            raise DemoError(f"stopping {item.item} failed: {item.error}")
        left = plan.scale_down_to - plan.stop_count
        remaining = await self._wait_running(live, rs, left)
        deployment = await self.client.deployments.get(rs)
        self.view.ok(
            f"{len(victims)} stopped in {self._elapsed(t0)}; replica_num is now "
            f"{deployment.replica_num}, so they are not replaced"
        )
        self._show(remaining)
        return remaining[0]

    async def _blacklist(self, container: Container) -> str:
        plan = self.plan
        self.view.step("Blacklist a host")
        label = self.labels.mapping.get(container.uuid, container.uuid)
        await self.client.blacklist.add(
            container.uuid,
            expire_in_minutes=plan.blacklist_minutes,
            comment="autodl-async demo",
        )
        entries = await self.client.blacklist.list()
        self.view.blacklist(entries)
        self.view.ok(
            f"host {container.machine_id} (of {label}) blacklisted for {plan.blacklist_minutes} min"
        )
        self.view.note(f"only new placements avoid it: {label} keeps running there")
        return container.machine_id

    async def _job(self, live: LiveEvents, image_uuid: str, gpu: str, blacklisted: str) -> str:
        plan = self.plan
        self.view.step(
            f"Run a Job: {plan.job_replicas} × `sleep {plan.job_seconds}`, "
            f"{plan.job_parallelism} at a time"
        )
        name = f"{plan.name}-job"
        self._ask(
            f"Create Job {name!r}: {plan.job_replicas} containers of 1× {gpu} running "
            f"`sleep {plan.job_seconds}`, at up to ¥{plan.max_price_yuan:.2f}/h each?"
        )
        t0 = time.monotonic()
        uuid = await self.client.deployments.create(
            name=name,
            deployment_type=DeploymentType.JOB,
            template=self._template(image_uuid, gpu, f"sleep {plan.job_seconds}"),
            replica_num=plan.job_replicas,
            parallelism_num=plan.job_parallelism,
        )
        self.created.append(uuid)
        self.view.ok(f"created Job {uuid}")
        live.follow(uuid, "job")
        containers = await self.client.waiters.until_job_finished(
            uuid,
            timeout=plan.wait_timeout + plan.job_seconds * plan.job_replicas,
            interval=plan.wait_interval,
            max_interval=plan.wait_interval,
        )
        await live.flush()
        containers.sort(key=self.labels.sort_key)
        self._show(containers)
        deployment = await self.client.deployments.get(uuid)
        self.view.ok(f"all {deployment.finished_num} finished after {self._elapsed(t0)}")
        self.view.note(
            f"the deployment still says status={deployment.status!r}: judge a Job by finished_num"
        )
        on_host = [c for c in containers if c.machine_id == blacklisted]
        if on_host:
            self.view.warn(f"{len(on_host)} Job container(s) landed on the blacklisted host")
        else:
            self.view.ok(f"none ran on the blacklisted host {blacklisted}")
        return uuid

    async def _stop_and_delete(self, live: LiveEvents, rs: str, job: str) -> None:
        self.view.step("Stop and delete")
        t0 = time.monotonic()
        await self.client.deployments.stop(rs)
        await self.client.waiters.until_stopped(
            rs,
            timeout=self.plan.wait_timeout,
            interval=self.plan.wait_interval,
            max_interval=self.plan.wait_interval,
        )
        await live.flush()
        self.view.ok(f"ReplicaSet {rs} stopped after {self._elapsed(t0)}")
        for uuid in (rs, job):
            live.unfollow(uuid)
            await self.client.deployments.delete(uuid)
            self.created.remove(uuid)
            self.view.ok(f"deleted {uuid}")

    async def _cleanup(self) -> None:
        """Delete what a failed or cancelled run left; say loudly what could not be."""
        for uuid in list(self.created):
            try:
                await self.client.deployments.delete(uuid)
            except AutoDLError as exc:
                self.view.warn(
                    f"could not delete deployment {uuid} ({type(exc).__name__}); "
                    "delete it in the console to stop paying for it"
                )
            else:
                self.created.remove(uuid)
                self.view.warn(f"cleaned up: deleted deployment {uuid}")
