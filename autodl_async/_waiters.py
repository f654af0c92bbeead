"""Waiters: poll until a deployment or a container reaches a state, within a wall-clock bound.

Users of other SDKs complain about three things in waiters: a ``timeout`` that bounds one HTTP
call rather than the wait (openai#1855), a wait that returns nothing so the caller must read
again (boto/botocore#2913), and waiters that sit out their whole timeout on a state that can
never come. So every waiter here takes its own wall-clock ``timeout``, returns the objects it
saw when it succeeded, and gives up at once with :class:`WaitFailedError` when the wanted state
has become impossible.

They poll the deployment and container lists, as docs/api-field-notes.md recommends, and
trust only what those show: a Job's deployment ``status`` stays ``running`` after it
finished (§5 there), so Jobs are judged by ``finished_num`` and their containers'
statuses. Statuses the SDK does not know are never taken as "done".

Polls are quick while the state changes and back off towards ``max_interval`` while it does
not, with jitter, on the client's shared wake-up grid (:mod:`._poll_scheduler`) so a hundred
waiters cost a hundred polls, not a hundred timers. A poll that fails transiently (connection,
timeout, 5xx, 429, a malformed body), after the transport's own retries, is tried again and
never ends the wait; a definite answer (token, permission, not found) is raised as it came.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from ._config import NOT_GIVEN, NotGiven, Seconds
from ._errors import (
    InvalidParameterError,
    NotFoundError,
    WaitFailedError,
)
from ._pagination import AsyncPager
from ._wait_loop import (
    DEFAULT_INTERVAL,
    DEFAULT_MAX_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    Pace,
    make_pace,
    poll_until,
)
from .resources._base import require
from .resources.containers import Containers
from .resources.deployments import Deployments
from .types.containers import Container, ContainerStatus, warn_unknown_statuses
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

_PAGE_SIZE: Final = 100

_LIFECYCLE: Final[tuple[str, ...]] = tuple(str(s) for s in ContainerStatus)
_RANK: Final = {status: index for index, status in enumerate(_LIFECYCLE)}
_RUNNING: Final = str(ContainerStatus.RUNNING)
_SHUTDOWN: Final = str(ContainerStatus.SHUTDOWN)
_STOPPED: Final = str(DeploymentStatus.STOPPED)

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
    warn_unknown_statuses("status", checked)
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
        pace = make_pace(timeout, interval, max_interval)
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
        pace = make_pace(timeout, interval, max_interval)
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
        pace = make_pace(timeout, interval, max_interval)
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
        pace = make_pace(timeout, interval, max_interval)
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
        pace = make_pace(timeout, interval, max_interval)
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

        return await poll_until(
            self._transport,
            self._rng,
            what=f"container {container_uuid} to be {' or '.join(wanted)}",
            observe=observe,
            decide=decide,
            fingerprint=lambda c: c.status,
            describe=lambda c: f"status {c.status or '?'}",
            pace=pace,
            on_poll=on_poll,
        )

    # -- reading --------------------------------------------------------------------------

    async def _poll_deployment(
        self,
        deployment_uuid: str,
        what: str,
        decide: Callable[[DeploymentState], R | None],
        pace: Pace,
        on_poll: OnDeploymentPoll | None,
    ) -> R:
        async def observe(deadline: Seconds | NotGiven) -> DeploymentState:
            return await self._read_deployment(deployment_uuid, deadline)

        return await poll_until(
            self._transport,
            self._rng,
            what=what,
            observe=observe,
            decide=decide,
            fingerprint=_fingerprint,
            describe=DeploymentState.describe,
            pace=pace,
            on_poll=on_poll,
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
