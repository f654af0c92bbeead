"""Stand-ins the demo uses until the SDK grows its own: live events, waiters, bulk stop.

SWAP POINTS. Each function or class here is a deliberately small polling version of something
another issue is building into the SDK; when that lands, replace the body (or the call in
``_demo.py``) and keep the signature:

- :class:`EventFollower` / :class:`LiveEvents` → ``client.events.stream(...)`` /
  ``client.events.watch_many(...)`` (issue 4, items 1 and 5);
- :func:`wait_for_containers` and :func:`wait_job_finished` → the waiters (issue 4, item 6);
- :func:`stop_containers` → ``client.bulk`` container stop (issue 5, item 1).

Only the public SDK is used, as a user's script would.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType

import anyio
from anyio.abc import TaskGroup

from autodl_async import (
    AutoDL,
    AutoDLError,
    Container,
    ContainerEvent,
    ContainerStatus,
    WaitTimeoutError,
)

__all__ = [
    "EventFollower",
    "LiveEvents",
    "running_exactly",
    "stop_containers",
    "wait_for_containers",
    "wait_job_finished",
]

BOOTING = frozenset(
    {
        ContainerStatus.CREATING,
        ContainerStatus.CREATED,
        ContainerStatus.STARTING,
        ContainerStatus.OSS_MERGED,
    }
)

OnEvent = Callable[[str, ContainerEvent], None]
OnError = Callable[[AutoDLError], None]
EventKey = tuple[str, str, datetime | None]

_PAGE_SIZE = 100


def _key(event: ContainerEvent) -> EventKey:
    return (event.deployment_container_uuid, event.status, event.created_at)


def _chronological(rows: list[ContainerEvent]) -> list[ContainerEvent]:
    """Oldest first. The doc sorts newest first, so rows are reversed unless they visibly
    ascend; within a second the server's order (reversed) is the only tiebreak there is."""
    first, last = rows[0].created_at, rows[-1].created_at
    if first is None or last is None or first >= last:
        rows = rows[::-1]
    return sorted(rows, key=lambda e: e.created_at.timestamp() if e.created_at else -math.inf)


class EventFollower:
    """Reports each event of one deployment once, oldest first, by re-reading page 1.

    Stand-in for ``client.events.stream``: it walks further pages only while a whole page is
    new, and remembers every event it has seen (fine for a demo, unbounded for a daemon).
    """

    def __init__(self, client: AutoDL, deployment_uuid: str, tag: str, on_event: OnEvent) -> None:
        self.deployment_uuid = deployment_uuid
        self.tag = tag
        self.count = 0
        self._client = client
        self._on_event = on_event
        self._seen: set[EventKey] = set()
        self._lock = anyio.Lock()

    async def poll(self) -> int:
        """Fetch what is new, report it, return how many events were new."""
        async with self._lock:
            fresh: list[ContainerEvent] = []
            page_index = 1
            while True:
                page = await self._client.events.list_page(
                    self.deployment_uuid, page_index, _PAGE_SIZE
                )
                rows = page.rows
                new = [e for e in rows if _key(e) not in self._seen]
                fresh.extend(new)
                last_page = not rows or len(rows) < _PAGE_SIZE or page_index >= page.max_page
                if len(new) < len(rows) or last_page:
                    break
                page_index += 1
            if not fresh:
                return 0
            for event in _chronological(fresh):
                self._seen.add(_key(event))
                self.count += 1
                self._on_event(self.tag, event)
            return len(fresh)


class LiveEvents:
    """Follows several deployments in the background; ``flush()`` catches up on demand.

    The demo calls ``flush()`` before it reports a step as done, so the events that led there
    are printed before the conclusion. Background failures are reported through ``on_error``
    and polling goes on: the client has already retried what was worth retrying.
    """

    def __init__(
        self, client: AutoDL, on_event: OnEvent, on_error: OnError, *, interval: float
    ) -> None:
        self._client = client
        self._on_event = on_event
        self._on_error = on_error
        self._interval = interval
        self._followers: list[EventFollower] = []
        self._done = 0
        self._tg: TaskGroup | None = None

    @property
    def count(self) -> int:
        """Events reported so far, across deployments (followed or no longer)."""
        return self._done + sum(f.count for f in self._followers)

    def follow(self, deployment_uuid: str, tag: str) -> EventFollower:
        if self._tg is None:
            raise RuntimeError("use LiveEvents as an async context manager")
        follower = EventFollower(self._client, deployment_uuid, tag, self._on_event)
        self._followers.append(follower)
        self._tg.start_soon(self._loop, follower)
        return follower

    def unfollow(self, deployment_uuid: str) -> None:
        """Stop polling a deployment (it is about to be deleted)."""
        for follower in [f for f in self._followers if f.deployment_uuid == deployment_uuid]:
            self._followers.remove(follower)
            self._done += follower.count

    async def flush(self) -> None:
        for follower in list(self._followers):
            await self._poll(follower)

    async def _poll(self, follower: EventFollower) -> None:
        try:
            await follower.poll()
        except AutoDLError as exc:
            self._on_error(exc)

    async def _loop(self, follower: EventFollower) -> None:
        while follower in self._followers:
            await self._poll(follower)
            await anyio.sleep(self._interval)

    async def __aenter__(self) -> LiveEvents:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Cancel the pollers and let the body's own exception (if any) propagate unwrapped:
        # the pollers never raise, so there is nothing to group.
        tg, self._tg = self._tg, None
        if tg is not None:
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)


def running_exactly(count: int) -> Callable[[Sequence[Container]], bool]:
    """Settled at ``count`` running: none booting, none on its way down."""

    def done(containers: Sequence[Container]) -> bool:
        running = sum(c.status == ContainerStatus.RUNNING for c in containers)
        unsettled = sum(
            c.status in BOOTING or c.status == ContainerStatus.SHUTTING_DOWN for c in containers
        )
        return running == count and unsettled == 0

    return done


def all_shut_down(containers: Sequence[Container]) -> bool:
    return all(c.status == ContainerStatus.SHUTDOWN for c in containers)


async def wait_for_containers(
    client: AutoDL,
    deployment_uuid: str,
    done: Callable[[Sequence[Container]], bool],
    *,
    what: str,
    timeout: float,
    interval: float,
) -> list[Container]:
    """Poll the container list until ``done(containers)``; the last list on success.

    Stand-in for the waiters of issue 4. Raises :class:`WaitTimeoutError` holding the last
    list seen when ``timeout`` (seconds of real time) runs out.
    """
    last: list[Container] = []
    with anyio.move_on_after(timeout):
        while True:
            last = await client.containers.list(deployment_uuid).to_list()
            if done(last):
                return last
            await anyio.sleep(interval)
    raise WaitTimeoutError(f"gave up after {timeout:.0f} s waiting for {what}", last=last)


async def wait_job_finished(
    client: AutoDL,
    deployment_uuid: str,
    total: int,
    *,
    timeout: float,
    interval: float,
) -> list[Container]:
    """Until ``total`` containers have finished and none is left alive.

    A finished Job's deployment still says ``running`` (field notes §5), so this reads the
    ``finished_num`` counter and the containers, never the deployment's status.
    """

    def done(containers: Sequence[Container]) -> bool:
        finished = sum(c.status == ContainerStatus.SHUTDOWN for c in containers)
        return finished >= total and all_shut_down(containers)

    last: list[Container] = []
    with anyio.move_on_after(timeout):
        while True:
            deployment = await client.deployments.get(deployment_uuid)
            if deployment.finished_num >= total:
                last = await client.containers.list(deployment_uuid).to_list()
                if done(last):
                    return last
            await anyio.sleep(interval)
    raise WaitTimeoutError(
        f"gave up after {timeout:.0f} s waiting for {total} Job containers to finish", last=last
    )


async def stop_containers(
    client: AutoDL, container_uuids: Sequence[str], *, decrease_one_replica_num: bool
) -> list[AutoDLError | None]:
    """Stop containers concurrently; one result per uuid, in order (``None`` = stopped).

    Stand-in for issue 5's bulk stop: unbounded concurrency is fine for a handful of
    containers, not for hundreds.
    """
    results: list[AutoDLError | None] = [None] * len(container_uuids)

    async def stop(index: int, uuid: str) -> None:
        try:
            await client.containers.stop(uuid, decrease_one_replica_num=decrease_one_replica_num)
        except AutoDLError as exc:
            results[index] = exc

    async with anyio.create_task_group() as tg:
        for index, uuid in enumerate(container_uuids):
            tg.start_soon(stop, index, uuid)
    return results
