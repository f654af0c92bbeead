"""Deployments: what ``deployment/list`` returns and what ``POST /deployment`` takes."""

from __future__ import annotations

import enum
import warnings
from datetime import datetime
from typing import Final, Literal

import msgspec

from .._errors import InvalidParameterError
from .._units import BYTES_PER_GB
from ._base import RequestModel, ResponseModel, check_field_types

__all__ = [
    "ContainerTemplate",
    "CreateDeploymentRequest",
    "Deployment",
    "DeploymentStatus",
    "DeploymentTemplate",
    "DeploymentType",
]


#: ¥0.1/h in the API's yuan × 1000: no GPU rents for less, so a ``price_to`` below it is a
#: price given in yuan by mistake (9 meaning ¥9/h is ¥0.009/h to the API: nothing schedules).
_CHEAPEST_PRICE: Final = 100


class DeploymentType(enum.StrEnum):
    """The three kinds of deployment."""

    REPLICA_SET = "ReplicaSet"
    JOB = "Job"
    CONTAINER = "Container"


class DeploymentStatus(enum.StrEnum):
    """Known deployment statuses. A finished Job may still say ``running``: use its counters."""

    RUNNING = "running"
    STOPPED = "stopped"


PortProtocol = Literal["http", "tcp"]
ReuseScope = Literal["all", "deployment"]


class DeploymentTemplate(ResponseModel):
    """The container template as the server echoes it. Memory here is in **bytes**."""

    region_sign: str | None = None
    dc_list: list[str] | None = None
    gpu_name_set: list[str] | None = None
    gpu_num: int = 0
    image_uuid: str = ""
    image_name: str | None = None
    cmd: str = ""
    cmd_before_shutdown: str | None = None
    memory_size_from_bytes: int = msgspec.field(default=0, name="memory_size_from")
    memory_size_to_bytes: int = msgspec.field(default=0, name="memory_size_to")
    cpu_num_from: int = 0
    cpu_num_to: int = 0
    price_from: int | float = 0
    price_to: int | float = 0
    cuda_v: int | None = None
    cuda_v_from: int | None = None
    cuda_v_to: int | None = None
    service_6006_port_protocol: str | None = None
    service_6008_port_protocol: str | None = None


class Deployment(ResponseModel):
    """A deployment as listed. ``status`` stays ``running`` after a Job finished."""

    uuid: str = ""
    id: int = 0
    uid: int = 0
    name: str = ""
    deployment_type: str = ""
    status: str = ""
    replica_num: int = 0
    parallelism_num: int = 0
    reuse_container: bool = False
    reuse_container_scope: str | None = None
    service_port_protocol: str | None = None
    starting_num: int = 0
    running_num: int = 0
    finished_num: int = 0
    failed_num: int = 0
    image_uuid: str = ""
    template: DeploymentTemplate | None = None
    price_estimates: int | float = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    stopped_at: datetime | None = None


def _check_range(low_name: str, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        high_name = low_name.replace("_from", "_to")
        raise InvalidParameterError(
            low_name, f"must be <= {high_name} (got {low_name}={low}, {high_name}={high})"
        )


class ContainerTemplate(RequestModel):
    """What each container of a deployment needs; checked locally when built.

    Units: ``memory_size_from_gb``/``memory_size_to_gb`` are **GB** (the response echoes
    bytes); ``price_from``/``price_to`` are yuan × 1000 (see :func:`yuan_to_milli`);
    ``cuda_v_from``/``cuda_v_to`` are integers like 118 (see :func:`cuda_version`).
    ``region_sign`` and ``cuda_v`` are deprecated by the API and warn.
    """

    image_uuid: str
    cmd: str
    gpu_name_set: list[str]
    dc_list: list[str] | None = None
    gpu_num: int = 1
    cuda_v_from: int | None = None
    cuda_v_to: int | None = None
    cpu_num_from: int = 1
    cpu_num_to: int = 100
    memory_size_from_gb: int = msgspec.field(default=1, name="memory_size_from")
    memory_size_to_gb: int = msgspec.field(default=256, name="memory_size_to")
    price_from: int = 0
    price_to: int = 9000
    cmd_before_shutdown: str | None = None
    service_6006_port_protocol: PortProtocol | None = None
    service_6008_port_protocol: PortProtocol | None = None
    region_sign: str | None = None
    cuda_v: int | None = None

    def __post_init__(self) -> None:
        check_field_types(self)
        if not self.image_uuid:
            raise InvalidParameterError("image_uuid", "must not be empty")
        if not self.cmd:
            raise InvalidParameterError("cmd", "must not be empty (it is the container's command)")
        if not self.gpu_name_set or not all(self.gpu_name_set):
            raise InvalidParameterError("gpu_name_set", "needs at least one GPU model name")
        if self.region_sign is not None:
            warnings.warn(
                "region_sign is deprecated by the API; pass dc_list=[...] instead",
                DeprecationWarning,
                stacklevel=2,
            )
        if self.cuda_v is not None:
            warnings.warn(
                "cuda_v is deprecated by the API; pass cuda_v_from and cuda_v_to instead",
                DeprecationWarning,
                stacklevel=2,
            )
        if self.dc_list is None and self.region_sign is None:
            raise InvalidParameterError("dc_list", "name at least one region, e.g. ['westDC2']")
        if self.dc_list is not None and (not self.dc_list or not all(self.dc_list)):
            raise InvalidParameterError("dc_list", "must not be empty")
        if self.gpu_num < 1:
            raise InvalidParameterError("gpu_num", f"must be >= 1, got {self.gpu_num}")
        for name in ("cpu_num_from", "memory_size_from_gb", "price_from"):
            if getattr(self, name) < 0:
                raise InvalidParameterError(name, f"must be >= 0, got {getattr(self, name)}")
        if self.memory_size_to_gb > 16 * 1024:
            raise InvalidParameterError(
                "memory_size_to_gb",
                f"{self.memory_size_to_gb} GB is implausible: requests take GB, not bytes",
            )
        if self.price_to < _CHEAPEST_PRICE:
            raise InvalidParameterError(
                "price_to",
                f"{self.price_to} is ¥{self.price_to / 1000:g}/h, cheaper than any GPU: prices "
                f"are yuan × 1000 (for ¥{self.price_to}/h pass yuan_to_milli({self.price_to}))",
            )
        if (self.cuda_v_from is None) != (self.cuda_v_to is None):
            raise InvalidParameterError("cuda_v_from", "give both cuda_v_from and cuda_v_to")
        if self.cuda_v_from is None and self.cuda_v is None:
            raise InvalidParameterError(
                "cuda_v_from", "give cuda_v_from and cuda_v_to, e.g. cuda_version('11.8')"
            )
        _check_range("cuda_v_from", self.cuda_v_from, self.cuda_v_to)
        _check_range("cpu_num_from", self.cpu_num_from, self.cpu_num_to)
        _check_range("memory_size_from_gb", self.memory_size_from_gb, self.memory_size_to_gb)
        _check_range("price_from", self.price_from, self.price_to)

    @property
    def memory_size_from_bytes(self) -> int:
        """The lower memory bound in bytes, as responses report it."""
        return self.memory_size_from_gb * BYTES_PER_GB


class CreateDeploymentRequest(RequestModel):
    """The body of ``POST /api/v1/dev/deployment``; built by ``deployments.create``."""

    name: str
    deployment_type: str
    container_template: ContainerTemplate
    replica_num: int | None = None
    parallelism_num: int | None = None
    reuse_container: bool | None = None
    reuse_container_scope: ReuseScope | None = None
    service_port_protocol: PortProtocol | None = None
    service_6006_port_protocol: PortProtocol | None = None
    service_6008_port_protocol: PortProtocol | None = None

    def __post_init__(self) -> None:
        check_field_types(self)
        if not self.name or not self.name.strip():
            raise InvalidParameterError("name", "must not be empty")
        kinds = [t.value for t in DeploymentType]
        if self.deployment_type not in kinds:
            raise InvalidParameterError(
                "deployment_type", f"must be one of {kinds}, got {self.deployment_type!r}"
            )
        if self.deployment_type in (DeploymentType.REPLICA_SET, DeploymentType.JOB):
            if self.replica_num is None:
                raise InvalidParameterError(
                    "replica_num", f"is required for {self.deployment_type} deployments"
                )
            if self.replica_num < 1:
                raise InvalidParameterError("replica_num", f"must be >= 1, got {self.replica_num}")
        if self.deployment_type == DeploymentType.JOB:
            if self.parallelism_num is None:
                raise InvalidParameterError("parallelism_num", "is required for Job deployments")
            if self.parallelism_num < 1:
                raise InvalidParameterError(
                    "parallelism_num", f"must be >= 1, got {self.parallelism_num}"
                )
        if self.reuse_container_scope is not None and self.reuse_container_scope not in (
            "all",
            "deployment",
        ):
            raise InvalidParameterError(
                "reuse_container_scope",
                f"must be 'all' or 'deployment', got {self.reuse_container_scope!r}",
            )
