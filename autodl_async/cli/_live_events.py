"""The demo's live event feed: several deployments followed in the background, on demand too.

Each deployment is read with ``client.events.stream`` from a saved cursor, one catch-up pass at
a time (``until_caught_up=True``), rather than one endless stream: the demo adds deployments as
it creates them, drops them before deleting them, and wants to ``flush()`` — print every event
that led to a step's result before it reports the step as done. A pass from the cursor gives
exactly that, with the stream's exactly-once, oldest-first delivery and bounded memory.

Only the public SDK is used, as a user's script would.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import anyio
from anyio.abc import TaskGroup

from autodl_async import AutoDL, AutoDLError, ContainerEvent, EventCursor

__all__ = ["EventFollower", "LiveEvents"]

OnEvent = Callable[[str, ContainerEvent], None]
OnError = Callable[[AutoDLError], None]


class EventFollower:
    """Reports each event of one deployment once, oldest first, one catch-up pass per call."""

    def __init__(
        self, client: AutoDL, deployment_uuid: str, tag: str, on_event: OnEvent, interval: float
    ) -> None:
        self.deployment_uuid = deployment_uuid
        self.tag = tag
        self.count = 0
        self._client = client
        self._on_event = on_event
        self._interval = interval
        self._cursor: EventCursor | None = None
        self._lock = anyio.Lock()

    async def poll(self) -> int:
        """Report what is new since the last pass; return how many events that was."""
        async with self._lock:
            stream = self._client.events.stream(
                self.deployment_uuid,
                cursor=self._cursor,
                until_caught_up=True,
                min_interval=self._interval,
                max_interval=self._interval,
            )
            before = self.count
            async with stream:
                async for event in stream:
                    self.count += 1
                    self._on_event(self.tag, event)
                    self._cursor = stream.cursor
            return self.count - before


class LiveEvents:
    """Follows several deployments in the background; ``flush()`` catches up on demand.

    Background failures are reported through ``on_error`` and polling goes on: the stream has
    already retried what was worth retrying, and the cursor keeps its place.
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
        follower = EventFollower(self._client, deployment_uuid, tag, self._on_event, self._interval)
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
