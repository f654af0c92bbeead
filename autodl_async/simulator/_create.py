"""Validation of the create-deployment body into a `DeploymentSpec`.

Everything the doc marks required must be present (non-null); ranges need `from <= to`;
deprecated spellings (`region_sign`, single `cuda_v`) are accepted as the doc still allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast

from ._catalog import REGIONS
from ._errors import ParamError
from ._operations import DeploymentSpec
from ._params import Body
from ._state import DeploymentType, PortProtocol, ReuseScope, Template

__all__ = ["parse_create"]

_TYPES: Final = ("ReplicaSet", "Job", "Container")
_PROTOCOLS: Final = ("http", "tcp")
_SCOPES: Final = ("all", "deployment")


def _protocol(body: Body, key: str, default: str = "http") -> PortProtocol:
    value = body.get_str(key, "") or default
    if value not in _PROTOCOLS:
        raise ParamError(f"{key} must be http or tcp")
    return cast(PortProtocol, value)


def _range(body: Body, prefix: str) -> tuple[int, int]:
    low = body.get_int(f"{prefix}_from")
    high = body.get_int(f"{prefix}_to")
    if low < 0 or high < low:
        raise ParamError(f"{prefix}_from/_to must satisfy 0 <= from <= to")
    return low, high


def _cuda(body: Body) -> tuple[int, int]:
    if body.has("cuda_v_from") or body.has("cuda_v_to"):
        return _range(body, "cuda_v")
    if body.has("cuda_v"):
        cuda = body.get_int("cuda_v")
        if cuda < 0:
            raise ParamError("cuda_v must not be negative")
        return cuda, cuda
    raise ParamError("cuda_v_from/cuda_v_to (or deprecated cuda_v) required")


def _template(tb: Body, top: Body, images: Mapping[str, str]) -> Template:
    dc_list = tb.get_str_list("dc_list")
    region_sign = tb.get_str("region_sign", "")
    if not dc_list and region_sign:
        dc_list = (region_sign,)
    if not dc_list or any(dc not in REGIONS for dc in dc_list):
        raise ParamError("dc_list must name known regions")
    gpu_name_set = tb.get_str_list("gpu_name_set", required=True)
    if not gpu_name_set:
        raise ParamError("gpu_name_set must not be empty")
    gpu_num = tb.get_int("gpu_num")
    if gpu_num < 1:
        raise ParamError("gpu_num must be at least 1")
    cuda_from, cuda_to = _cuda(tb)
    mem_from, mem_to = _range(tb, "memory_size")
    cpu_from, cpu_to = _range(tb, "cpu_num")
    price_from, price_to = _range(tb, "price")
    image_uuid = tb.get_str("image_uuid")
    if image_uuid not in images:
        raise ParamError("image_uuid is neither a private image nor a base image")
    cmd = tb.get_str("cmd")
    if not cmd.strip():
        raise ParamError("cmd must not be empty")
    # Newer doc revisions disagree on where the 6006/6008 protocols go; take either, the
    # template's value winning.
    return Template(
        region_sign=region_sign,
        dc_list=dc_list,
        gpu_name_set=gpu_name_set,
        gpu_num=gpu_num,
        cuda_v_from=cuda_from,
        cuda_v_to=cuda_to,
        memory_size_from=mem_from,
        memory_size_to=mem_to,
        cpu_num_from=cpu_from,
        cpu_num_to=cpu_to,
        price_from=price_from,
        price_to=price_to,
        image_uuid=image_uuid,
        image_name=images[image_uuid],
        cmd=cmd,
        cmd_before_shutdown=tb.get_str("cmd_before_shutdown", ""),
        service_6006_port_protocol=_protocol(
            tb, "service_6006_port_protocol", _protocol(top, "service_6006_port_protocol")
        ),
        service_6008_port_protocol=_protocol(
            tb, "service_6008_port_protocol", _protocol(top, "service_6008_port_protocol")
        ),
    )


def parse_create(body: Body, images: Mapping[str, str], max_replicas: int) -> DeploymentSpec:
    name = body.get_str("name")
    if not name.strip():
        raise ParamError("name must not be empty")
    deployment_type = body.get_str("deployment_type")
    if deployment_type not in _TYPES:
        raise ParamError("deployment_type must be ReplicaSet, Job or Container")
    if deployment_type == "Container":
        replica_num, parallelism_num = 1, 1
    else:
        replica_num = body.get_int("replica_num")
        if deployment_type == "Job":
            parallelism_num = body.get_int("parallelism_num")
            if parallelism_num < 1:
                raise ParamError("parallelism_num must be at least 1 for a Job")
        else:
            parallelism_num = body.get_int("parallelism_num", 0)
            if parallelism_num < 0:
                raise ParamError("parallelism_num must not be negative")
        if not 1 <= replica_num <= max_replicas:
            raise ParamError(f"replica_num must be within 1..{max_replicas}")
    scope = body.get_str("reuse_container_scope", "") or "all"
    if scope not in _SCOPES:
        raise ParamError("reuse_container_scope must be all or deployment")
    return DeploymentSpec(
        name=name,
        deployment_type=cast(DeploymentType, deployment_type),
        replica_num=replica_num,
        parallelism_num=parallelism_num,
        reuse_container=body.get_bool("reuse_container"),
        reuse_container_scope=cast(ReuseScope, scope),
        service_port_protocol=_protocol(body, "service_port_protocol"),
        template=_template(body.get_object("container_template"), body, images),
    )
