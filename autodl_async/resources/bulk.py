"""``client.bulk``: the calls operators repeat over hundreds of resources, run at once.

Every method returns a :class:`~autodl_async._bulk.BulkJob` without sending anything, so a
caller can inspect the targets first (``await job.resolve()``, a dry run), then
``result = await job`` or iterate ``async with job.as_completed() as stream``. Jobs share the
client's throttle (a 429 pauses every worker and lowers the job's concurrency), its retry
budget, and its connection pool, which is grown to the job's concurrency when it can be so that
requests wait in the job's limiter, not inside aiohttp where waiting eats the attempt timeout.

Keyed operations (stop, scale, delete, blacklist) drop repeated uuids, keeping the first, so
no resource is acted on twice by one job; their results have one entry per unique uuid.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Final, TypedDict, TypeVar, Unpack, cast

from .._bulk import DEFAULT_ABORT_ON, DEFAULT_CONCURRENCY, BulkJob, ProgressCallback, ResultStream
from .._config import NOT_GIVEN, NotGiven, Seconds
from .._errors import InvalidParameterError
from ..types.containers import Container, warn_unknown_statuses
from ._base import require
from .blacklist import MAX_EXPIRE_MINUTES
from .blacklist import Blacklist as BlacklistResource
from .containers import Containers
from .deployments import Deployments

if TYPE_CHECKING:
    from .._transport import Transport

__all__ = ["ACTIVE_CONTAINER_STATUSES", "Bulk", "BulkOptions"]

K = TypeVar("K")
V = TypeVar("V")

logger: Final = logging.getLogger("autodl_async")

#: Statuses of a container that still holds (or is about to hold) a GPU: what
#: :meth:`Bulk.stop_all_containers` stops unless told otherwise.
ACTIVE_CONTAINER_STATUSES: Final[tuple[str, ...]] = (
    "creating",
    "created",
    "starting",
    "oss_merged",
    "running",
)


class BulkOptions(TypedDict, total=False):
    """How a bulk job runs; every bulk method takes these as keywords.

    ``concurrency`` (default 16): most calls in flight. ``fail_fast`` (False): stop at the
    first failure. ``abort_on`` (auth and permission errors): error types that stop the run
    anyway. ``on_progress``: ``(done, failed, total)`` at the start and after each item.
    ``requests_per_second``: cap on item starts. ``rate_limit_retries`` (3): reruns of an item
    refused with 429.
    """

    concurrency: int
    fail_fast: bool
    abort_on: tuple[type[Exception], ...]
    on_progress: ProgressCallback | None
    requests_per_second: float | None
    rate_limit_retries: int


_OPTION_NAMES: Final = BulkOptions.__required_keys__ | BulkOptions.__optional_keys__


def _uuid_of(target: str | Container) -> str:
    return target.uuid if isinstance(target, Container) else target


def _unique(values: Iterable[str]) -> list[str]:
    """Order-preserving de-duplication: one job never acts on a resource twice."""
    return list(dict.fromkeys(values))


def _many(param: str, values: object) -> list[object]:
    """The items of a collection argument; a bare string would be read as its characters."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidParameterError(
            param, f"must be a list (or other iterable) of uuids, got {values!r}"
        )
    return list(values)


def _targets(param: str, values: Iterable[str | Container]) -> list[str | Container]:
    """Every target checked to be a non-empty uuid (or a Container) before anything is sent."""
    found: list[str | Container] = []
    for value in _many(param, values):
        uuid = value.uuid if isinstance(value, Container) else value
        if not isinstance(uuid, str) or not uuid.strip():
            raise InvalidParameterError(
                param, f"every item must be a non-empty uuid string, got {value!r}"
            )
        found.append(cast("str | Container", value))
    return found


def _uuids(param: str, values: Iterable[str | Container]) -> list[str]:
    """The targets' uuids, repeats dropped."""
    return _unique(_uuid_of(t) for t in _targets(param, values))


def _check_limits(timeout: object, deadline: object) -> None:
    """``timeout``/``deadline``: seconds > 0, ``None`` (no limit) or left out."""
    for param, value in (("timeout", timeout), ("deadline", deadline)):
        if value is None or isinstance(value, NotGiven):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise InvalidParameterError(
                param, f"must be seconds > 0, None or left out, got {value!r}"
            )


def _statuses(statuses: Collection[str]) -> list[str]:
    found = _many("statuses", statuses)
    if not found or not all(isinstance(s, str) and s for s in found):
        raise InvalidParameterError(
            "statuses", f"must be a non-empty list of statuses or None, got {statuses!r}"
        )
    warn_unknown_statuses("statuses", found)  # type: ignore[arg-type]  # checked above
    return found  # type: ignore[return-value]  # every item checked above


def _check_replicas(uuid: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameterError("replica_num", f"must be an int >= 0, got {value!r} for {uuid}")
    return value


class Bulk:
    """``client.bulk``: bounded, observable, cancellable calls over many resources."""

    def __init__(
        self,
        transport: Transport,
        *,
        containers: Containers,
        deployments: Deployments,
        blacklist: BlacklistResource,
    ) -> None:
        self._transport = transport
        self._containers = containers
        self._deployments = deployments
        self._blacklist = blacklist

    # -- the generic runner -----------------------------------------------------------------

    def run(
        self,
        items: Iterable[K],
        fn: Callable[[K], Awaitable[V]],
        **options: Unpack[BulkOptions],
    ) -> BulkJob[K, V]:
        """A job calling ``fn(item)`` for every item, sharing the client's throttle and pool.

        ``fn`` can be any coroutine function, e.g. ``client.containers.stop`` or a lambda
        around it; each item's value or exception ends up in the job's result.
        """
        return self._job(items, fn, None, options)

    def as_completed(
        self,
        items: Iterable[K],
        fn: Callable[[K], Awaitable[V]],
        **options: Unpack[BulkOptions],
    ) -> AbstractAsyncContextManager[ResultStream[K, V]]:
        """``async with client.bulk.as_completed(items, fn) as stream: async for r in stream``."""
        return self.run(items, fn, **options).as_completed()

    # -- containers -------------------------------------------------------------------------

    def stop_containers(
        self,
        containers: Iterable[str | Container],
        *,
        decrease_one_replica_num: bool = False,
        no_cache: bool | None = None,
        cmd_before_shutdown: str | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
        **options: Unpack[BulkOptions],
    ) -> BulkJob[str, None]:
        """Stop many containers (uuids or :class:`Container` objects); each stop as in
        :meth:`Containers.stop <autodl_async.resources.Containers.stop>`."""
        _check_limits(timeout, deadline)
        return self._job(
            _uuids("containers", containers),
            self._stopper(
                decrease_one_replica_num, no_cache, cmd_before_shutdown, timeout, deadline
            ),
            None,
            options,
        )

    async def resolve_containers(
        self,
        deployment_uuid: str,
        *,
        statuses: Collection[str] | None = ACTIVE_CONTAINER_STATUSES,
    ) -> list[Container]:
        """The containers of a deployment a bulk stop would target, without touching them.

        ``statuses=None`` means every container. The filter is sent to the server and
        applied again here, so a server that ignores it cannot widen the target set.
        """
        require("deployment_uuid", deployment_uuid)
        wanted = None if statuses is None else frozenset(_statuses(statuses))
        pager = self._containers.list(
            deployment_uuid, status=None if wanted is None else sorted(wanted)
        )
        return [c async for c in pager if wanted is None or c.status in wanted]

    def stop_all_containers(
        self,
        deployment_uuid: str,
        *,
        statuses: Collection[str] | None = ACTIVE_CONTAINER_STATUSES,
        decrease_one_replica_num: bool = False,
        no_cache: bool | None = None,
        cmd_before_shutdown: str | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
        **options: Unpack[BulkOptions],
    ) -> BulkJob[str, None]:
        """Stop every container of a deployment in ``statuses`` (by default the live ones).

        The targets are listed when the job starts (or at ``await job.resolve()``, which a dry
        run can show) and not again. A ReplicaSet replaces stopped containers unless
        ``decrease_one_replica_num=True``; to empty one for good, prefer
        ``scale([uuid], 0)`` or ``stop_deployments([uuid])``.
        """
        _check_limits(timeout, deadline)
        require("deployment_uuid", deployment_uuid)
        if statuses is not None:
            _statuses(statuses)

        async def targets() -> list[str]:
            found = await self.resolve_containers(deployment_uuid, statuses=statuses)
            return _unique(c.uuid for c in found)

        return self._job(
            (),
            self._stopper(
                decrease_one_replica_num, no_cache, cmd_before_shutdown, timeout, deadline
            ),
            targets,
            options,
        )

    def blacklist_hosts(
        self,
        containers: Iterable[str | Container],
        *,
        expire_in_minutes: int | None = None,
        comment: str | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
        **options: Unpack[BulkOptions],
    ) -> BulkJob[str, None]:
        """Keep the hosts of many containers out of future scheduling.

        Given :class:`Container` objects, one container per host (``machine_id``) is sent, as
        the blacklist is per host; given uuids, one call per container (repeats are harmless).
        """
        if expire_in_minutes is not None and (
            isinstance(expire_in_minutes, bool)
            or not isinstance(expire_in_minutes, int)
            or not 1 <= expire_in_minutes <= MAX_EXPIRE_MINUTES
        ):
            raise InvalidParameterError(
                "expire_in_minutes",
                f"must be an int 1..{MAX_EXPIRE_MINUTES} (30 days), got {expire_in_minutes!r}",
            )
        _check_limits(timeout, deadline)
        by_host: dict[str, str] = {}
        for target in _targets("containers", containers):
            uuid = _uuid_of(target)
            host = target.machine_id if isinstance(target, Container) else ""
            by_host.setdefault(host or f"container:{uuid}", uuid)

        async def add(uuid: str) -> None:
            await self._blacklist.add(
                uuid,
                expire_in_minutes=expire_in_minutes,
                comment=comment,
                timeout=timeout,
                deadline=deadline,
            )

        return self._job(_unique(by_host.values()), add, None, options)

    # -- deployments ------------------------------------------------------------------------

    def set_replicas(
        self,
        targets: Mapping[str, int] | Iterable[str],
        replica_num: int | None = None,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
        **options: Unpack[BulkOptions],
    ) -> BulkJob[str, int]:
        """Set the replica count of many ReplicaSets: ``{uuid: n, ...}``, or ``(uuids, n)``.

        Each item's value is the count that was set. Counts are checked before anything runs.
        """
        _check_limits(timeout, deadline)
        if isinstance(targets, Mapping):
            if replica_num is not None:
                raise InvalidParameterError(
                    "replica_num", "give either a {uuid: n} mapping or uuids and replica_num"
                )
            _uuids("targets", targets.keys())
            wanted = {u: _check_replicas(u, n) for u, n in targets.items()}
        else:
            if replica_num is None:
                raise InvalidParameterError("replica_num", "required when targets are uuids")
            count = _check_replicas("every deployment", replica_num)
            wanted = dict.fromkeys(_uuids("targets", targets), count)

        async def scale_one(uuid: str) -> int:
            await self._deployments.set_replicas(
                uuid, wanted[uuid], timeout=timeout, deadline=deadline
            )
            return wanted[uuid]

        return self._job(list(wanted), scale_one, None, options)

    def scale(
        self,
        deployment_uuids: Iterable[str],
        replica_num: int,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
        **options: Unpack[BulkOptions],
    ) -> BulkJob[str, int]:
        """Scale every given ReplicaSet to ``replica_num``."""
        return self.set_replicas(
            deployment_uuids, replica_num, timeout=timeout, deadline=deadline, **options
        )

    def stop_deployments(
        self,
        deployment_uuids: Iterable[str],
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
        **options: Unpack[BulkOptions],
    ) -> BulkJob[str, None]:
        """Stop many deployments (every container of each)."""
        return self._each_deployment(
            deployment_uuids, self._deployments.stop, timeout, deadline, options
        )

    def delete_deployments(
        self,
        deployment_uuids: Iterable[str],
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
        **options: Unpack[BulkOptions],
    ) -> BulkJob[str, None]:
        """Delete many deployments (each is stopped first if it still runs)."""
        return self._each_deployment(
            deployment_uuids, self._deployments.delete, timeout, deadline, options
        )

    def reserve_pool(self, concurrency: int) -> int:
        """Size the connection pool for jobs ``concurrency`` wide; returns the width available.

        Every job does this when it is made, but only a pool not yet opened can grow. Call it
        first when other calls (listing the targets, say) come before the job.
        """
        return self._fit_pool(concurrency)

    # -- plumbing ---------------------------------------------------------------------------

    def _each_deployment(
        self,
        deployment_uuids: Iterable[str],
        call: Callable[..., Awaitable[None]],
        timeout: Seconds | NotGiven,
        deadline: Seconds | NotGiven,
        options: BulkOptions,
    ) -> BulkJob[str, None]:
        """A job running ``call(uuid, timeout=, deadline=)`` once per unique deployment."""
        _check_limits(timeout, deadline)

        async def one(uuid: str) -> None:
            await call(uuid, timeout=timeout, deadline=deadline)

        return self._job(_uuids("deployment_uuids", deployment_uuids), one, None, options)

    def _stopper(
        self,
        decrease_one_replica_num: bool,
        no_cache: bool | None,
        cmd_before_shutdown: str | None,
        timeout: Seconds | NotGiven,
        deadline: Seconds | NotGiven,
    ) -> Callable[[str], Awaitable[None]]:
        async def stop(uuid: str) -> None:
            await self._containers.stop(
                uuid,
                decrease_one_replica_num=decrease_one_replica_num,
                no_cache=no_cache,
                cmd_before_shutdown=cmd_before_shutdown,
                timeout=timeout,
                deadline=deadline,
            )

        return stop

    def _job(
        self,
        items: Iterable[K],
        fn: Callable[[K], Awaitable[V]],
        resolver: Callable[[], Awaitable[Iterable[K]]] | None,
        options: BulkOptions,
    ) -> BulkJob[K, V]:
        unknown = sorted(set(options) - _OPTION_NAMES)
        if unknown:
            raise InvalidParameterError(
                unknown[0], f"not a bulk option; the options are {sorted(_OPTION_NAMES)}"
            )
        concurrency = self._fit_pool(options.get("concurrency", DEFAULT_CONCURRENCY))
        return BulkJob(
            items,
            fn,
            resolver=resolver,
            concurrency=concurrency,
            fail_fast=options.get("fail_fast", False),
            abort_on=options.get("abort_on", DEFAULT_ABORT_ON),
            on_progress=options.get("on_progress"),
            requests_per_second=options.get("requests_per_second"),
            rate_limit_retries=options.get("rate_limit_retries", 3),
            throttle=self._transport.throttle,
        )

    def _fit_pool(self, concurrency: int) -> int:
        """Grow the pool to ``concurrency`` if it has no session yet, else fit under it.

        A request waiting for a pooled connection inside aiohttp counts against its attempt
        timeout, so a job must never have more calls in flight than the pool has connections.
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidParameterError("concurrency", f"must be an int >= 1, got {concurrency!r}")
        self._transport.resize_pool(concurrency)
        pool = self._transport.max_connections
        if pool < concurrency:
            logger.warning(
                "bulk: concurrency %d lowered to the open connection pool's size %d; create the "
                "client with max_connections>=%d to run wider",
                concurrency,
                pool,
                concurrency,
            )
            return pool
        return concurrency
