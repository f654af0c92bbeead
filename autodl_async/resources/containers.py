"""Containers: list with filters, stop one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._errors import InvalidParameterError
from .._pagination import AsyncPager
from ..types.common import Page
from ..types.containers import Container
from ._arguments import checked
from ._base import Resource, check_page, page_of, require

__all__ = ["Containers"]

_LIST_PATH: Final = "/api/v1/dev/deployment/container/list"
_STOP_PATH: Final = "/api/v1/dev/deployment/container/stop"
_PAGE: Final = EnvelopeDecoder[Page[Container] | list[Container]](Page[Container] | list[Container])
_ANY: Final = EnvelopeDecoder[Any](Any)


def _timestamp(param: str, value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    raise InvalidParameterError(param, f"expected datetime or str, got {value!r}")


def _range(body: dict[str, Any], name: str, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidParameterError(f"{name}_from", f"must be <= {name}_to ({low} > {high})")
    if low is not None:
        body[f"{name}_from"] = low
    if high is not None:
        body[f"{name}_to"] = high


class Containers(Resource):
    """``client.containers``."""

    @checked
    async def list_page(
        self,
        deployment_uuid: str,
        page_index: int = 1,
        page_size: int = 10,
        *,
        offset: int = 0,
        container_uuid: str | None = None,
        status: str | list[str] | None = None,
        released: bool | None = None,
        gpu_name: str | None = None,
        date_from: datetime | str | None = None,
        date_to: datetime | str | None = None,
        cpu_num_from: int | None = None,
        cpu_num_to: int | None = None,
        memory_size_from_gb: int | None = None,
        memory_size_to_gb: int | None = None,
        price_from: float | None = None,
        price_to: float | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> Page[Container]:
        """One page of a deployment's containers.

        With no ``status`` every status is listed (some clients default to ``running`` and
        then miss containers that are still starting). Memory filters are GB.
        """
        check_page(page_index, page_size, offset)
        body: dict[str, Any] = {
            "deployment_uuid": require("deployment_uuid", deployment_uuid),
            "page_index": page_index,
            "page_size": page_size,
        }
        if offset:
            body["offset"] = offset
        if container_uuid is not None:
            body["container_uuid"] = require("container_uuid", container_uuid)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            if not statuses or not all(isinstance(s, str) and s for s in statuses):
                raise InvalidParameterError(
                    "status", "must be a status or a non-empty list of them"
                )
            body["status"] = statuses
        if released is not None:
            body["released"] = released
        if gpu_name is not None:
            body["gpu_name"] = gpu_name
        start, end = _timestamp("date_from", date_from), _timestamp("date_to", date_to)
        if start is not None:
            body["date_from"] = start
        if end is not None:
            body["date_to"] = end
        _range(body, "cpu_num", cpu_num_from, cpu_num_to)
        _range(body, "memory_size", memory_size_from_gb, memory_size_to_gb)
        _range(body, "price", price_from, price_to)
        data = await self._call(
            "POST",
            _LIST_PATH,
            _PAGE,
            body=body,
            idempotent=True,
            timeout=timeout,
            deadline=deadline,
        )
        return page_of(data)

    @checked
    def list(
        self,
        deployment_uuid: str,
        *,
        page_size: int = 100,
        **filters: Any,
    ) -> AsyncPager[Container]:
        """Every matching container across pages; takes the filters of :meth:`list_page`."""
        require("deployment_uuid", deployment_uuid)
        check_page(1, page_size)

        def fetch(index: int, size: int) -> Any:
            return self.list_page(deployment_uuid, index, size, **filters)

        return AsyncPager(fetch, page_size=page_size, endpoint=_LIST_PATH)

    @checked
    async def stop(
        self,
        container_uuid: str,
        *,
        decrease_one_replica_num: bool = False,
        no_cache: bool | None = None,
        cmd_before_shutdown: str | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> None:
        """Stop one container (idempotent).

        ``decrease_one_replica_num`` (ReplicaSet only) lowers the replica count so it is not
        replaced; ``no_cache`` keeps it out of the reuse pool; ``cmd_before_shutdown`` runs
        first, for at most 5 seconds.
        """
        body: dict[str, Any] = {
            "deployment_container_uuid": require("container_uuid", container_uuid),
            "decrease_one_replica_num": bool(decrease_one_replica_num),
        }
        if no_cache is not None:
            body["no_cache"] = no_cache
        if cmd_before_shutdown is not None:
            body["cmd_before_shutdown"] = cmd_before_shutdown
        await self._call(
            "PUT", _STOP_PATH, _ANY, body=body, idempotent=True, timeout=timeout, deadline=deadline
        )
