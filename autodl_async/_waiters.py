"""Waiters: poll until a deployment or a container reaches a state, within a wall-clock bound.

Users of other SDKs complain about three things in waiters: a ``timeout`` that bounds one HTTP
call rather than the wait (openai#1855), a wait that returns nothing so the caller must read
again (boto/botocore#2913), and waiters that sit out their whole timeout on a state that can
never come. So every waiter here takes its own wall-clock ``timeout``, returns the objects it
saw when it succeeded, and gives up at once with :class:`WaitFailedError` when the wanted state
has become impossible.

They poll the deployment and container lists, as the field notes recommend, and trust only
what those show: a Job's deployment ``status`` stays ``running`` after it finished (field notes
§5), so Jobs are judged by ``finished_num`` and their containers' statuses. Statuses the SDK
does not know are never taken as "done".

Polls are quick while the state changes and back off towards ``max_interval`` while it does
not, with jitter, on the client's shared wake-up grid (:mod:`._poll_scheduler`) so a hundred
waiters cost a hundred polls, not a hundred timers. A poll that fails transiently (connection,
timeout, 5xx, 429, a malformed body), after the transport's own retries, is tried again and
never ends the wait; a definite answer (token, permission, not found) is raised as it came.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ._config import NOT_GIVEN, NotGiven, Seconds
from ._errors import (
    AutoDLError,
    InvalidParameterError,
    NotFoundError,
    RateLimitError,
    WaitFailedError,
    WaitTimeoutError,
    is_transient,
)
from ._pagination import AsyncPager
from ._poll_scheduler import shared_scheduler
from .resources._base import require
from .resources.containers import Containers
from .resources.deployments import Deployments
from .types.containers import Container, ContainerStatus
from .types.deployments import Deployment, DeploymentStatus, DeploymentType

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "DeploymentState",
    "Waiters",
]

logger: Final = logging.getLogger("autodl_async.waiters")

#: Seconds a waiter waits when ``timeout`` is left out. Boots take about a minute on the live
#: service; ten minutes covers a slow schedule without hanging a script that forgot a bound.
DEFAULT_WAIT_TIMEOUT: Final = 600.0
#: Seconds between polls while the state changes.
DEFAULT_INTERVAL: Final = 2.0
#: Seconds between polls once nothing has changed for a while, and between retries at most.
DEFAULT_MAX_INTERVAL: Final = 15.0

_GROWTH: Final = 1.5  # interval multiplier per poll that saw no change
_JITTER: Final = 0.1  # a poll is due anywhere in the last tenth of its interval
_FINAL_MARGIN: Final = 1.0  # the last poll starts this long before the deadline
_MIN_PAUSE: Final = 0.05  # less time than this left before the last poll: stop
_PAGE_SIZE: Final = 100

_LIFECYCLE: Final[tuple[str, ...]] = tuple(str(s) for s in ContainerStatus)
_RANK: Final = {status: index for index, status in enumerate(_LIFECYCLE)}
_RUNNING: Final = str(ContainerStatus.RUNNING)
_SHUTDOWN: Final = str(ContainerStatus.SHUTDOWN)
_STOPPED: Final = str(DeploymentStatus.STOPPED)

S = TypeVar("S")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class DeploymentState:
    """One poll of a deployment: the deployment as listed and all its containers."""

    deployment: Deployment
    containers: tuple[Container, ...]

    @property
    def running(self) -> list[Container]:
        """The containers whose status is ``running``, in list order."""
        return [c for c in self.containers if c.status == _RUNNING]

    @property
    def counts(self) -> dict[str, int]:
        """How many containers are in each status."""
        return dict(Counter(c.status for c in self.containers))

    @property
    def all_shut_down(self) -> bool:
        """Every container is ``shutdown`` (true for no containers)."""
        return all(c.status == _SHUTDOWN for c in self.containers)

    def describe(self) -> str:
        """A one-line summary for error messages and progress output."""
        dep = self.deployment
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items())) or "no containers"
        return (
            f"deployment {dep.status or '?'} ({dep.deployment_type or '?'}, "
            f"replica_num={dep.replica_num}, finished_num={dep.finished_num}, "
            f"failed_num={dep.failed_num}); {counts}"
        )


OnDeploymentPoll = Callable[[DeploymentState], object]
OnContainerPoll = Callable[[Container], object]
Condition = Callable[[DeploymentState], bool]


@dataclass(frozen=True, slots=True)
class _Pace:
    timeout: float | None
    interval: float
    max_interval: float


def _positive(param: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(param, f"must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidParameterError(param, f"must be a finite number > 0, got {value!r}")
    return float(value)


def _pace(timeout: Seconds | NotGiven, interval: float, max_interval: float) -> _Pace:
    if isinstance(timeout, NotGiven):
        limit: float | None = DEFAULT_WAIT_TIMEOUT
    elif timeout is None:
        limit = None
    else:
        if isinstance(timeout, float | int) and math.isinf(timeout):
            raise InvalidParameterError("timeout", "use None, not infinity, for no limit")
        limit = _positive("timeout", timeout)
    low = _positive("interval", interval)
    high = _positive("max_interval", max_interval)
    if high < low:
        raise InvalidParameterError("max_interval", f"must be >= interval ({high!r} < {low!r})")
    return _Pace(limit, low, high)


def _count(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidParameterError("count", f"must be an int >= 0, got {count!r}")
    return count


def _statuses(status: object) -> tuple[str, ...]:
    values = [status] if isinstance(status, str) else status
    if not isinstance(values, Collection) or not values:
        raise InvalidParameterError(
            "status", f"must be a status or a non-empty list of them, got {status!r}"
        )
    checked = tuple(str(s) for s in values if isinstance(s, str) and s.strip())
    if len(checked) != len(values):
        raise InvalidParameterError(
            "status", f"every status must be a non-empty string, got {status!r}"
        )
    return checked


def _callable(param: str, value: object) -> None:
    if value is not None and not callable(value):
        raise InvalidParameterError(param, f"must be callable or None, got {value!r}")


def _is_job(deployment: Deployment) -> bool:
    return deployment.deployment_type in (DeploymentType.JOB, DeploymentType.CONTAINER)


def _job_total(deployment: Deployment) -> int:
    """Containers a Job must finish; a Container-type deployment is a Job of one."""
    if deployment.deployment_type == DeploymentType.CONTAINER:
        return 1
    return max(deployment.replica_num, 1)


def _unreachable(container: Container, wanted: tuple[str, ...]) -> str | None:
    """Why ``container`` can never reach any of ``wanted``, or None while it still may.

    A container only moves forward through its lifecycle and ``shutdown`` is final (a reused
    container comes back under a new uuid), so a status past every wanted one rules them out.
    Unknown statuses are never ruled out, except by ``shutdown``.
    """
    status = container.status
    if status == _SHUTDOWN:
        return f"it has shut down, which is final (wanted {' or '.join(wanted)})"
    now = _RANK.get(status)
    ranks = [_RANK.get(s) for s in wanted]
    if now is None or any(rank is None for rank in ranks):
        return None
    if all(rank is not None and rank < now for rank in ranks):
        return f"it is {status}, past {' and '.join(wanted)} in the lifecycle"
    return None


def _fingerprint(state: DeploymentState) -> Hashable:
    dep = state.deployment
    return (
        dep.status,
        dep.replica_num,
        dep.finished_num,
        dep.failed_num,
        tuple((c.uuid, c.status) for c in state.containers),
    )


class Waiters:
    """``client.waiters``: wait for containers to run, Jobs to finish, deployments to stop.

    Every waiter takes ``timeout`` (seconds of wall-clock time for the whole wait; left out it
    is :data:`DEFAULT_WAIT_TIMEOUT`, ``None`` means no limit), ``interval`` and
    ``max_interval`` (the poll pace), and ``on_poll``, called with what each successful poll
    saw. They raise :class:`WaitTimeoutError` (``last`` = the last state seen) when time runs
    out, :class:`WaitFailedError` when the state can no longer come, and the API's own typed
    error for a definite failure such as :class:`NotFoundError`.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        containers: Containers,
        deployments: Deployments,
        rng: random.Random | None = None,
    ) -> None:
        self._transport = transport
        self._containers = containers
        self._deployments = deployments
        self._rng = rng or random.Random()

    # -- the waiters ----------------------------------------------------------------------

    async def until_running(
        self,
        deployment_uuid: str,
        count: int,
        *,
        exact: bool = False,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        interval: float = DEFAULT_INTERVAL,
        max_interval: float = DEFAULT_MAX_INTERVAL,
        on_poll: OnDeploymentPoll | None = None,
    ) -> list[Container]:
        """Until ``count`` containers of the deployment are ``running``; returns the running ones.

        With ``exact=True``, until exactly ``count`` run and every other container has shut
        down: a scale-down has settled and nothing is still booting. Gives up early if the
        deployment is stopped, or is a Job that can no longer run that many at once.
        """
        require("deployment_uuid", deployment_uuid)
        wanted = _count(count)
        pace = _pace(timeout, interval, max_interval)
        _callable("on_poll", on_poll)

        def decide(state: DeploymentState) -> list[Container] | None:
            dep = state.deployment
            running = state.running
            if wanted and dep.status == _STOPPED:
                raise WaitFailedError(
                    f"deployment {deployment_uuid} is stopped, so {wanted} running containers "
                    f"can never come; {state.describe()}",
                    last=state,
                )
            if _is_job(dep):
                left = _job_total(dep) - dep.finished_num - dep.failed_num
                room = min(left, dep.parallelism_num) if dep.parallelism_num > 0 else left
                if wanted > room:
                    raise WaitFailedError(
                        f"Job {deployment_uuid} can run at most {max(room, 0)} containers from "
                        f"now on, fewer than {wanted}; {state.describe()}",
                        last=state,
                    )
            if exact:
                settled = all(c.status in (_RUNNING, _SHUTDOWN) for c in state.containers)
                return running if settled and len(running) == wanted else None
            return running if len(running) >= wanted else None

        what = f"{'exactly ' if exact else ''}{wanted} running containers of {deployment_uuid}"
        return await self._poll_deployment(deployment_uuid, what, decide, pace, on_poll)

    async def until_job_finished(
        self,
        deployment_uuid: str,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        interval: float = DEFAULT_INTERVAL,
        max_interval: float = DEFAULT_MAX_INTERVAL,
        on_poll: OnDeploymentPoll | None = None,
    ) -> list[Container]:
        """Until a Job (or Container-type) deployment has finished; returns all its containers.

        Finished means ``finished_num`` has reached ``replica_num`` (1 for a Container) and
        every container has shut down. The deployment's ``status`` is not used: it stays
        ``running`` after a Job finished. Gives up at once on a ReplicaSet (it never
        finishes), when the Job is stopped before it finished, and when it has ended with
        failed containers (``finished_num + failed_num`` reached ``replica_num``, nothing
        left running); ``last`` then holds every container.
        """
        require("deployment_uuid", deployment_uuid)
        pace = _pace(timeout, interval, max_interval)
        _callable("on_poll", on_poll)

        def decide(state: DeploymentState) -> list[Container] | None:
            dep = state.deployment
            if dep.deployment_type == DeploymentType.REPLICA_SET:
                raise WaitFailedError(
                    f"deployment {deployment_uuid} is a ReplicaSet, which keeps its replicas "
                    "running and never finishes; use until_stopped() after stopping it",
                    last=state,
                )
            total = _job_total(dep)
            if dep.finished_num >= total:
                return list(state.containers) if state.all_shut_down else None
            if dep.status == _STOPPED:
                raise WaitFailedError(
                    f"Job {deployment_uuid} was stopped after {dep.finished_num} of {total} "
                    f"containers finished; {state.describe()}",
                    last=state,
                )
            if dep.finished_num + dep.failed_num >= total and state.all_shut_down:
                raise WaitFailedError(
                    f"Job {deployment_uuid} ended with {dep.failed_num} of {total} containers "
                    f"failed; {state.describe()}",
                    last=state,
                )
            return None

        what = f"Job {deployment_uuid} to finish"
        return await self._poll_deployment(deployment_uuid, what, decide, pace, on_poll)

    async def until_stopped(
        self,
        deployment_uuid: str,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        interval: float = DEFAULT_INTERVAL,
        max_interval: float = DEFAULT_MAX_INTERVAL,
        on_poll: OnDeploymentPoll | None = None,
    ) -> list[Container]:
        """Until the deployment is ``stopped`` and every container shut down; returns them.

        It does not stop anything: call ``deployments.stop()`` first. Useful before a delete,
        so no container is still billing or shutting down.
        """
        require("deployment_uuid", deployment_uuid)
        pace = _pace(timeout, interval, max_interval)
        _callable("on_poll", on_poll)

        def decide(state: DeploymentState) -> list[Container] | None:
            if state.deployment.status == _STOPPED and state.all_shut_down:
                return list(state.containers)
            return None

        what = f"deployment {deployment_uuid} to stop with every container shut down"
        return await self._poll_deployment(deployment_uuid, what, decide, pace, on_poll)

    async def until(
        self,
        deployment_uuid: str,
        condition: Condition,
        *,
        what: str = "the condition",
        timeout: Seconds | NotGiven = NOT_GIVEN,
        interval: float = DEFAULT_INTERVAL,
        max_interval: float = DEFAULT_MAX_INTERVAL,
        on_poll: OnDeploymentPoll | None = None,
    ) -> DeploymentState:
        """Until ``condition(state)`` is true for a poll of the deployment; returns that state.

        For conditions the named waiters do not cover. ``what`` names it in the timeout
        message. A condition may raise :class:`WaitFailedError` itself to give up early.
        """
        require("deployment_uuid", deployment_uuid)
        if not callable(condition):
            raise InvalidParameterError("condition", f"must be callable, got {condition!r}")
        pace = _pace(timeout, interval, max_interval)
        _callable("on_poll", on_poll)

        def decide(state: DeploymentState) -> DeploymentState | None:
            return state if condition(state) else None

        return await self._poll_deployment(deployment_uuid, what, decide, pace, on_poll)

    async def until_container_status(
        self,
        deployment_uuid: str,
        container_uuid: str,
        status: str | Collection[str],
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        interval: float = DEFAULT_INTERVAL,
        max_interval: float = DEFAULT_MAX_INTERVAL,
        on_poll: OnContainerPoll | None = None,
    ) -> Container:
        """Until the container's status is ``status`` (or any of several); returns it.

        Gives up with :class:`WaitFailedError` when the container has moved past every wanted
        status (``shutdown`` is final, and statuses only move forward), and raises
        :class:`NotFoundError` when the deployment does not list it. Unknown status strings
        are allowed; they are only ruled out once the container has shut down. A status
        shorter than one poll interval (``oss_merged``) may be passed without being seen.
        """
        require("deployment_uuid", deployment_uuid)
        require("container_uuid", container_uuid)
        wanted = _statuses(status)
        pace = _pace(timeout, interval, max_interval)
        _callable("on_poll", on_poll)

        async def observe(deadline: Seconds | NotGiven) -> Container:
            return await self._read_container(deployment_uuid, container_uuid, deadline)

        def decide(container: Container) -> Container | None:
            if container.status in wanted:
                return container
            reason = _unreachable(container, wanted)
            if reason is not None:
                raise WaitFailedError(
                    f"container {container_uuid} will never be {' or '.join(wanted)}: {reason}",
                    last=container,
                )
            return None

        return await self._poll(
            f"container {container_uuid} to be {' or '.join(wanted)}",
            observe,
            decide,
            lambda c: c.status,
            lambda c: f"status {c.status or '?'}",
            pace,
            on_poll,
        )

    # -- reading --------------------------------------------------------------------------

    async def _poll_deployment(
        self,
        deployment_uuid: str,
        what: str,
        decide: Callable[[DeploymentState], R | None],
        pace: _Pace,
        on_poll: OnDeploymentPoll | None,
    ) -> R:
        async def observe(deadline: Seconds | NotGiven) -> DeploymentState:
            return await self._read_deployment(deployment_uuid, deadline)

        return await self._poll(
            what, observe, decide, _fingerprint, DeploymentState.describe, pace, on_poll
        )

    async def _read_deployment(
        self, deployment_uuid: str, deadline: Seconds | NotGiven
    ) -> DeploymentState:
        """The deployment first, then its containers: a container seen is never older."""
        deployment = await self._deployments.get(deployment_uuid, deadline=deadline)
        pager = self._container_pager(deployment_uuid, deadline, container_uuid=None)
        return DeploymentState(deployment, tuple(await pager.to_list()))

    async def _read_container(
        self, deployment_uuid: str, container_uuid: str, deadline: Seconds | NotGiven
    ) -> Container:
        pager = self._container_pager(deployment_uuid, deadline, container_uuid=container_uuid)
        async for container in pager:
            if container.uuid == container_uuid:
                return container
        raise NotFoundError(
            f"container {container_uuid} is not listed in deployment {deployment_uuid}",
            code="NotFound",
            http_status=200,
            method="POST",
            endpoint="/api/v1/dev/deployment/container/list",
        )

    def _container_pager(
        self, deployment_uuid: str, deadline: Seconds | NotGiven, *, container_uuid: str | None
    ) -> AsyncPager[Container]:
        def fetch(index: int, size: int) -> Any:
            return self._containers.list_page(
                deployment_uuid, index, size, container_uuid=container_uuid, deadline=deadline
            )

        return AsyncPager(fetch, page_size=_PAGE_SIZE, endpoint="container/list")

    # -- the loop -------------------------------------------------------------------------

    async def _poll(
        self,
        what: str,
        observe: Callable[[Seconds | NotGiven], Awaitable[S]],
        decide: Callable[[S], R | None],
        fingerprint: Callable[[S], Hashable],
        describe: Callable[[S], str],
        pace: _Pace,
        on_poll: Callable[[S], object] | None,
    ) -> R:
        """Observe, decide, sleep; until ``decide`` returns a result, raises, or time is up."""
        transport = self._transport
        clock = transport.clock
        scheduler = shared_scheduler(transport, sleep=transport.sleep, clock=clock)
        ends_at = None if pace.timeout is None else clock() + pace.timeout
        last: S | None = None
        last_error: AutoDLError | None = None
        seen: Hashable = object()
        delay = pace.interval
        failures = 0
        while True:
            try:
                state = await observe(self._call_deadline(ends_at))
            except AutoDLError as error:
                if transport.closed or not is_transient(error):
                    raise
                failures += 1
                last_error = error
                pause = self._retry_pause(failures, error, pace)
                logger.debug(
                    "waiting for %s: poll failed (%s), retry %d in %.2fs",
                    what,
                    type(error).__name__,
                    failures,
                    pause,
                )
            else:
                failures = 0
                last, last_error = state, None
                if on_poll is not None:
                    on_poll(state)
                result = decide(state)
                if result is not None:
                    return result
                mark = fingerprint(state)
                delay = pace.interval if mark != seen else min(pace.max_interval, delay * _GROWTH)
                seen = mark
                pause = delay
            now = clock()
            latest = now + pause
            if ends_at is not None and pace.timeout is not None:
                # The last poll starts a little before the end, so its answer still counts.
                last_start = ends_at - min(_FINAL_MARGIN, pace.timeout / 10)
                if last_start - now < _MIN_PAUSE:
                    raise self._timed_out(what, pace, last, last_error, describe)
                latest = min(latest, last_start)
            await scheduler.sleep_within(
                min(now + pause * (1 - _JITTER), latest), latest, self._rng
            )

    def _call_deadline(self, ends_at: float | None) -> Seconds | NotGiven:
        """Bound each request by the time the wait has left, so a hung call cannot overrun it."""
        if ends_at is None:
            return NOT_GIVEN
        left = max(ends_at - self._transport.clock(), 0.001)
        default = self._transport.deadline
        return left if default is None else min(left, default)

    def _retry_pause(self, failures: int, error: AutoDLError, pace: _Pace) -> float:
        ceiling = min(pace.max_interval, pace.interval * 2.0 ** min(failures - 1, 32))
        pause = ceiling * self._rng.uniform(0.5, 1.0)
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            pause = max(pause, error.retry_after)
        return pause

    @staticmethod
    def _timed_out(
        what: str,
        pace: _Pace,
        last: S | None,
        last_error: AutoDLError | None,
        describe: Callable[[S], str],
    ) -> WaitTimeoutError:
        seen = "no poll succeeded" if last is None else f"last seen: {describe(last)}"
        if last_error is not None:
            seen += f"; the last poll failed with {type(last_error).__name__}: {last_error}"
        error = WaitTimeoutError(
            f"gave up after {pace.timeout:g}s waiting for {what}; {seen}", last=last
        )
        error.__cause__ = last_error
        return error
