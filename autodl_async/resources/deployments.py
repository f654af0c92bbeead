"""Deployments: create, list, scale, stop, delete, DDP overview."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Sequence
from typing import Any, Final

import msgspec

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._errors import (
    InvalidParameterError,
    NotFoundError,
    OutcomeUnknownError,
)
from .._pagination import AsyncPager
from ..types._base import request_body
from ..types.account import DdpOverview
from ..types.common import Page
from ..types.deployments import (
    ContainerTemplate,
    CreateDeploymentRequest,
    Deployment,
    DeploymentType,
    PortProtocol,
    ReuseScope,
)
from ._arguments import checked
from ._base import Resource, check_page, page_of, require

__all__ = ["Deployments"]

logger: Final = logging.getLogger("autodl_async")

_PATH: Final = "/api/v1/dev/deployment"
_LIST_PATH: Final = "/api/v1/dev/deployment/list"
_REPLICA_PATH: Final = "/api/v1/dev/deployment/replica_num"
_OPERATE_PATH: Final = "/api/v1/dev/deployment/operate"
_DDP_PATH: Final = "/api/v1/dev/deployment/ddp/overview"


class _Created(msgspec.Struct, gc=False):
    deployment_uuid: str = ""


_CREATED: Final = EnvelopeDecoder[_Created](_Created)
_PAGE: Final = EnvelopeDecoder[Page[Deployment] | list[Deployment]](
    Page[Deployment] | list[Deployment]
)
_ANY: Final = EnvelopeDecoder[Any](Any)
_DDP: Final = EnvelopeDecoder[list[DdpOverview] | DdpOverview](list[DdpOverview] | DdpOverview)
_STATUS_FILTERS: Final = ("running", "stopped")


class Deployments(Resource):
    """``client.deployments``."""

    @checked
    async def create(
        self,
        *,
        name: str,
        deployment_type: DeploymentType | str,
        template: ContainerTemplate,
        replica_num: int | None = None,
        parallelism_num: int | None = None,
        reuse_container: bool | None = None,
        reuse_container_scope: ReuseScope | None = None,
        service_port_protocol: PortProtocol | None = None,
        service_6006_port_protocol: PortProtocol | None = None,
        service_6008_port_protocol: PortProtocol | None = None,
        reconcile_by_name: bool = False,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> str:
        """Create a deployment and return its uuid. This starts paid containers.

        With ``reconcile_by_name=True`` the name is treated as an idempotency key among live
        (not stopped) deployments: if one with this exact name exists, its uuid is returned and
        nothing is created; if the create's answer is lost, the list is read again and the
        deployment found there is returned. Only when it is still not found does the
        :class:`OutcomeUnknownError` reach the caller.

        Never retried once it may have reached the server: if the answer is lost this raises
        :class:`OutcomeUnknownError` whose ``reconcile_hint`` names the deployment, so the
        caller can look it up by its (unique) ``name`` instead of creating a second one.
        The 6006/6008 protocol fields are sent both at the top level and in the template,
        because live clients disagree on where the API reads them.
        """
        if not isinstance(template, ContainerTemplate):
            raise InvalidParameterError("template", "must be a ContainerTemplate")
        if service_6006_port_protocol or service_6008_port_protocol:
            template = msgspec.structs.replace(
                template,
                service_6006_port_protocol=service_6006_port_protocol
                or template.service_6006_port_protocol,
                service_6008_port_protocol=service_6008_port_protocol
                or template.service_6008_port_protocol,
            )
        request = CreateDeploymentRequest(
            name=name,
            deployment_type=str(deployment_type),
            container_template=template,
            replica_num=replica_num,
            parallelism_num=parallelism_num,
            reuse_container=reuse_container,
            reuse_container_scope=reuse_container_scope,
            service_port_protocol=service_port_protocol,
            service_6006_port_protocol=template.service_6006_port_protocol,
            service_6008_port_protocol=template.service_6008_port_protocol,
        )
        limits: dict[str, Any] = {"timeout": timeout, "deadline": deadline}
        if reconcile_by_name:
            existing = await self._live_uuid_named(name, **limits)
            if existing is not None:
                return existing
        try:
            return await self._send_create(request, **limits)
        except OutcomeUnknownError:
            if not reconcile_by_name:
                raise
            found = await self._live_uuid_named(name, **limits)
            if found is None:
                raise
            return found

    async def _send_create(
        self,
        request: CreateDeploymentRequest,
        *,
        timeout: Seconds | NotGiven,
        deadline: Seconds | NotGiven,
    ) -> str:
        """One create, never repeated; any answer that leaves its outcome unclear says so."""
        hint = {"name": request.name, "lookup": "client.deployments.list(name=...)"}
        data = await self._call(
            "POST",
            _PATH,
            _CREATED,
            body=request_body(request),
            idempotent=False,
            reconcile_hint=hint,
            timeout=timeout,
            deadline=deadline,
        )
        if data is None or not data.deployment_uuid:
            # Success means the server acted: the deployment exists, only its uuid is lost.
            raise OutcomeUnknownError(
                "create answered Success without a deployment_uuid",
                method="POST",
                endpoint=_PATH,
                reconcile_hint=hint,
            )
        return data.deployment_uuid

    async def _live_uuid_named(
        self, name: str, *, timeout: Seconds | NotGiven, deadline: Seconds | NotGiven
    ) -> str | None:
        """The newest deployment with exactly this name that is not stopped."""
        async for deployment in self.list(
            name=name, page_size=100, timeout=timeout, deadline=deadline
        ):
            if deployment.name == name and deployment.status != "stopped":
                return deployment.uuid
        return None

    @checked
    async def list_page(
        self,
        page_index: int = 1,
        page_size: int = 10,
        *,
        name: str | None = None,
        status: str | None = None,
        deployment_uuid: str | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> Page[Deployment]:
        """One page of deployments, newest first. ``name`` matches exactly."""
        check_page(page_index, page_size)
        body: dict[str, Any] = {"page_index": page_index, "page_size": page_size}
        if name is not None:
            body["name"] = name
        if status is not None:
            if status not in _STATUS_FILTERS:
                raise InvalidParameterError(
                    "status", f"must be one of {list(_STATUS_FILTERS)} or None, got {status!r}"
                )
            body["status"] = status
        if deployment_uuid is not None:
            body["deployment_uuid"] = require("deployment_uuid", deployment_uuid)
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
        *,
        name: str | None = None,
        status: str | None = None,
        deployment_uuid: str | None = None,
        page_size: int = 100,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> AsyncPager[Deployment]:
        """Every matching deployment, across pages; ``timeout``/``deadline`` apply per page."""
        check_page(1, page_size)

        def fetch(index: int, size: int) -> Any:
            return self.list_page(
                index,
                size,
                name=name,
                status=status,
                deployment_uuid=deployment_uuid,
                timeout=timeout,
                deadline=deadline,
            )

        return AsyncPager(fetch, page_size=page_size, endpoint=_LIST_PATH)

    @checked
    async def get(
        self,
        deployment_uuid: str,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> Deployment:
        """One deployment by uuid; :class:`NotFoundError` if the list does not have it."""
        page = await self.list_page(
            1, 10, deployment_uuid=deployment_uuid, timeout=timeout, deadline=deadline
        )
        for deployment in page.rows:
            if deployment.uuid == deployment_uuid:
                return deployment
        raise NotFoundError(
            "deployment not found",
            code="NotFound",
            http_status=200,
            method="POST",
            endpoint=_LIST_PATH,
        )

    @checked
    async def set_replicas(
        self,
        deployment_uuid: str,
        replica_num: int,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> str:
        """Scale a ReplicaSet to ``replica_num`` (idempotent); returns the deployment uuid."""
        require("deployment_uuid", deployment_uuid)
        if isinstance(replica_num, bool) or not isinstance(replica_num, int) or replica_num < 0:
            raise InvalidParameterError("replica_num", f"must be an int >= 0, got {replica_num!r}")
        body = {"deployment_uuid": deployment_uuid, "replica_num": replica_num}
        data = await self._call(
            "PUT",
            _REPLICA_PATH,
            _ANY,
            body=body,
            idempotent=True,
            timeout=timeout,
            deadline=deadline,
        )
        if isinstance(data, dict) and isinstance(data.get("deployment_uuid"), str):
            return str(data["deployment_uuid"])
        return deployment_uuid

    @checked
    async def stop(
        self,
        deployment_uuid: str,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> None:
        """Stop every container of the deployment (idempotent)."""
        body = {"deployment_uuid": require("deployment_uuid", deployment_uuid), "operate": "stop"}
        await self._call(
            "PUT",
            _OPERATE_PATH,
            _ANY,
            body=body,
            idempotent=True,
            timeout=timeout,
            deadline=deadline,
        )

    @checked
    async def delete(
        self,
        deployment_uuid: str,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> None:
        """Delete the deployment, stopping it first if it still runs.

        If an attempt's answer was lost and the retry finds the deployment gone, the lost
        attempt did the job: that is a success, not a :class:`NotFoundError`. A deployment
        that never existed (or was deleted before this call) still raises it.
        """
        body = {"deployment_uuid": require("deployment_uuid", deployment_uuid)}
        try:
            await self._call(
                "DELETE",
                _PATH,
                _ANY,
                body=body,
                idempotent=True,
                timeout=timeout,
                deadline=deadline,
            )
        except NotFoundError as error:
            if not error.earlier_attempt_may_have_acted:
                raise
            logger.debug(
                "delete of %s: gone on retry, so the lost attempt deleted it", deployment_uuid
            )

    @checked
    async def ddp_overview(
        self,
        deployment_uuid: str,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> builtins.list[DdpOverview]:
        """GPU-time totals and balance (seconds) per GPU type; a GET with a query string."""
        params = {"deployment_uuid": require("deployment_uuid", deployment_uuid)}
        data = await self._call(
            "GET",
            _DDP_PATH,
            _DDP,
            params=params,
            idempotent=True,
            timeout=timeout,
            deadline=deadline,
        )
        if data is None:
            return []
        return data if isinstance(data, list) else [data]

    @staticmethod
    def uuids(deployments: Sequence[Deployment]) -> builtins.list[str]:
        """The uuids of some deployments, for bulk calls."""
        return [d.uuid for d in deployments]
