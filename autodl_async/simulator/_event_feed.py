"""Extra events on demand, to test event consumers against hostile timing.

Container lifecycles write a few events each; a consumer that must deliver every event once
needs harder material. The feed adds it to a deployment's real event log, so the API lists
it and `Simulator.events()` reports it like any other event:

- `burst(uuid, n)`: n events now, all in the current second (more than a page between two
  polls, same-second ties);
- `during_paging(uuid, per_request=k)`: k events appended just before each events-list
  request of that deployment is answered, so rows shift while a client walks the pages;
- `SimulatorConfig.events_result_total=False`: event pages without `result_total` (the field
  notes say the real page may not have it).

Synthetic events get a container uuid of their own unless containers are named, so no two
events of one second share `(container, status)`, as on the real service.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, get_args

from ._engine import Engine
from ._snapshots import EventSnapshot, snapshot_event
from ._state import ContainerStatus, Deployment, Event

__all__ = ["ArrivalHandle", "EventFeed", "before_event_page", "shape_event_page"]

_STATUSES: Final[tuple[ContainerStatus, ...]] = get_args(ContainerStatus)
_FEEDS: weakref.WeakKeyDictionary[Engine, EventFeed] = weakref.WeakKeyDictionary()


@dataclass(slots=True)
class ArrivalHandle:
    """Events added while a client pages; `remaining` is `None` for no limit."""

    deployment_uuid: str
    per_request: int
    remaining: int | None
    applied: int = 0

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


class EventFeed:
    """Adds events to a simulator's deployments (use `Simulator.event_feed`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._serial = itertools.count(1)
        self._arrivals: list[ArrivalHandle] = []
        _FEEDS[engine] = self

    def burst(
        self,
        deployment_uuid: str,
        count: int,
        *,
        containers: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
    ) -> tuple[EventSnapshot, ...]:
        """Append `count` events at the current simulated time (one second).

        Without `containers`, each event gets a container uuid of its own; with them, events
        go round-robin over `containers` x `statuses` (default: every lifecycle status), and
        a `(container, status)` pair already logged in this second is a `ValueError`.
        """
        if count < 0:
            raise ValueError("count must be >= 0")
        self._engine.catch_up()
        dep = self._deployment(deployment_uuid)
        return self._append(dep, count, containers, statuses)

    def during_paging(
        self, deployment_uuid: str, per_request: int = 1, *, requests: int | None = None
    ) -> ArrivalHandle:
        """Before each of the next `requests` event-list requests for the deployment (all
        of them when `None`), append `per_request` events."""
        if per_request < 1 or (requests is not None and requests < 0):
            raise ValueError("per_request must be >= 1 and requests >= 0 or None")
        self._deployment(deployment_uuid)
        handle = ArrivalHandle(deployment_uuid, per_request, requests)
        self._arrivals.append(handle)
        return handle

    def stop_arrivals(self) -> None:
        """Forget every `during_paging` rule."""
        self._arrivals.clear()

    def before_page(self, dep: Deployment) -> None:
        """Hook: an events-list request for `dep` is about to be answered."""
        for handle in self._arrivals:
            if handle.deployment_uuid != dep.uuid or handle.exhausted:
                continue
            self._append(dep, handle.per_request, None, None)
            handle.applied += 1
            if handle.remaining is not None:
                handle.remaining -= 1

    def _deployment(self, uuid: str) -> Deployment:
        dep = self._engine.world.deployments.get(uuid)
        if dep is None:
            raise KeyError(f"no deployment {uuid!r} in this simulator")
        return dep

    def _append(
        self,
        dep: Deployment,
        count: int,
        containers: Sequence[str] | None,
        statuses: Sequence[str] | None,
    ) -> tuple[EventSnapshot, ...]:
        at = self._engine.world.now
        if dep.events and dep.events[-1].at > at:
            raise ValueError("the event log already holds later events")
        chosen = tuple(statuses) if statuses else _STATUSES
        unknown = [s for s in chosen if s not in _STATUSES]
        if unknown:
            raise ValueError(f"unknown container statuses: {unknown}")
        taken = _keys_in_second(dep, at)
        added: list[Event] = []
        pairs = itertools.cycle(itertools.product(chosen, containers or [""]))
        for _ in range(count):
            status, owner = next(pairs)
            if not owner:
                owner = f"{dep.uuid}-feed000000-{next(self._serial):010x}"
            key = (owner, status)
            if key in taken:
                raise ValueError(f"{key} is already logged in this second")
            taken.add(key)
            added.append(Event(owner, status, at))  # type: ignore[arg-type]
        dep.events.extend(added)
        return tuple(snapshot_event(e) for e in added)


def _keys_in_second(dep: Deployment, at: float) -> set[tuple[str, str]]:
    second = math.floor(at)
    keys: set[tuple[str, str]] = set()
    for event in reversed(dep.events):
        if math.floor(event.at) != second:
            break
        keys.add((event.container_uuid, event.status))
    return keys


def before_event_page(engine: Engine, dep: Deployment) -> None:
    """Called by the events endpoint before it cuts a page."""
    feed = _FEEDS.get(engine)
    if feed is not None:
        feed.before_page(dep)


def shape_event_page(engine: Engine, page: dict[str, Any]) -> dict[str, Any]:
    """The events page as configured: without `result_total` when asked."""
    if not engine.config.events_result_total:
        page.pop("result_total", None)
    return page
