"""Bad arguments are rejected locally, before any request, with the parameter named."""

from __future__ import annotations

import warnings

import msgspec
import pytest

from autodl_async import (
    AutoDL,
    ConfigurationError,
    ContainerTemplate,
    InvalidParameterError,
    cuda_version,
    milli_to_yuan,
    yuan_to_milli,
)
from autodl_async.types import CreateDeploymentRequest
from tests.scripted import ScriptedServer

pytestmark = pytest.mark.anyio

BASE = {
    "dc_list": ["westDC2"],
    "gpu_name_set": ["RTX 4090"],
    "cuda_v_from": 118,
    "cuda_v_to": 128,
    "cmd": "sleep 10",
    "image_uuid": "image-db8346e037",
}


def tpl(**changes: object) -> ContainerTemplate:
    return ContainerTemplate(**{**BASE, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"dc_list": []}, "dc_list"),
        ({"dc_list": None}, "dc_list"),
        ({"gpu_name_set": []}, "gpu_name_set"),
        ({"cmd": ""}, "cmd"),
        ({"image_uuid": ""}, "image_uuid"),
        ({"cuda_v_from": 128, "cuda_v_to": 118}, "cuda_v_from"),
        ({"cuda_v_from": None, "cuda_v_to": None}, "cuda_v_from"),
        ({"cpu_num_from": 8, "cpu_num_to": 4}, "cpu_num_from"),
        ({"memory_size_from_gb": 64, "memory_size_to_gb": 32}, "memory_size_from_gb"),
        ({"memory_size_to_gb": 274877906944}, "memory_size_to_gb"),
        ({"price_from": 5000, "price_to": 100}, "price_from"),
        ({"price_from": -1}, "price_from"),
        # Wrong types are named, not left to fail as a bare TypeError or a server 请求参数错误.
        ({"gpu_num": "1"}, "gpu_num"),
        ({"gpu_num": None}, "gpu_num"),
        ({"gpu_num": 1.5}, "gpu_num"),
        ({"gpu_num": True}, "gpu_num"),
        ({"gpu_num": 0}, "gpu_num"),
        ({"cuda_v_from": "118"}, "cuda_v_from"),
        ({"dc_list": "westDC2"}, "dc_list"),
        ({"gpu_name_set": "RTX 4090"}, "gpu_name_set"),
        ({"gpu_name_set": ["RTX 4090", 3090]}, "gpu_name_set"),
        ({"cmd": ["sleep", "1"]}, "cmd"),
        ({"service_6006_port_protocol": "htp"}, "service_6006_port_protocol"),
        # A price in yuan where yuan × 1000 is meant: ¥0.009/h schedules nothing, silently.
        ({"price_to": 9}, "price_to"),
    ],
)
def test_template_rejects(changes: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        tpl(**changes)
    assert info.value.param == param
    assert param in str(info.value)
    assert isinstance(info.value, ValueError)


def test_template_encodes_wire_names_in_gb() -> None:
    body = msgspec.to_builtins(tpl(memory_size_from_gb=8, memory_size_to_gb=64))
    assert body["memory_size_from"] == 8
    assert body["memory_size_to"] == 64
    assert "memory_size_from_gb" not in body


def test_deprecated_fields_warn_but_work() -> None:
    with pytest.warns(DeprecationWarning, match="region_sign"):
        t = tpl(dc_list=None, region_sign="westDC2")
    assert msgspec.to_builtins(t)["region_sign"] == "westDC2"
    with pytest.warns(DeprecationWarning, match="cuda_v"):
        t = tpl(cuda_v_from=None, cuda_v_to=None, cuda_v=118)
    assert msgspec.to_builtins(t)["cuda_v"] == 118


def test_modern_fields_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tpl()


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"deployment_type": "Deployment"}, "deployment_type"),
        ({"deployment_type": "ReplicaSet"}, "replica_num"),
        ({"deployment_type": "ReplicaSet", "replica_num": 0}, "replica_num"),
        ({"deployment_type": "Job", "replica_num": 4}, "parallelism_num"),
        ({"deployment_type": "Job", "replica_num": 4, "parallelism_num": 0}, "parallelism_num"),
        ({"deployment_type": "Container", "name": " "}, "name"),
        (
            {"deployment_type": "Container", "reuse_container_scope": "everything"},
            "reuse_container_scope",
        ),
        ({"deployment_type": "Container", "name": 123}, "name"),
        ({"deployment_type": "ReplicaSet", "replica_num": "2"}, "replica_num"),
        ({"deployment_type": "Container", "reuse_container": "yes"}, "reuse_container"),
        (
            {"deployment_type": "Container", "container_template": {"cmd": "x"}},
            "container_template",
        ),
    ],
)
def test_create_request_rejects(kwargs: dict[str, object], param: str) -> None:
    args: dict[str, object] = {"name": "x", "container_template": tpl(), **kwargs}
    with pytest.raises(InvalidParameterError) as info:
        CreateDeploymentRequest(**args)  # type: ignore[arg-type]
    assert info.value.param == param


async def test_bad_arguments_send_nothing(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    with pytest.raises(InvalidParameterError):
        await scripted_client.deployments.create(
            name="job", deployment_type="Job", replica_num=2, template=tpl()
        )
    with pytest.raises(InvalidParameterError, match="page_size"):
        await scripted_client.images.list_page(1, 0)
    with pytest.raises(InvalidParameterError, match="container_uuid"):
        await scripted_client.containers.stop("")
    with pytest.raises(InvalidParameterError, match="replica_num"):
        await scripted_client.deployments.set_replicas("d", -1)
    with pytest.raises(InvalidParameterError, match="status"):
        await scripted_client.deployments.list_page(status="paused")
    with pytest.raises(InvalidParameterError, match="expire_in_minutes"):
        await scripted_client.blacklist.add("c", expire_in_minutes=30 * 24 * 60 + 1)
    with pytest.raises(InvalidParameterError, match="cpu_num_from"):
        await scripted_client.containers.list_page("d", cpu_num_from=9, cpu_num_to=1)
    with pytest.raises(InvalidParameterError, match="price_from"):
        await scripted_client.gpu_stock.get("westDC2", price_from=9, price_to=1)
    assert scripted.seen == []


def test_job_and_container_shapes() -> None:
    job = CreateDeploymentRequest(
        name="j", deployment_type="Job", replica_num=4, parallelism_num=2, container_template=tpl()
    )
    assert job.parallelism_num == 2
    one = CreateDeploymentRequest(name="c", deployment_type="Container", container_template=tpl())
    assert one.replica_num is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [("11.8", 118), ("12.0", 120), ("12", 120), (" 12.1 ", 121), (118, 118), (12.2, 122)],
)
def test_cuda_version(given: str | int | float, expected: int) -> None:
    assert cuda_version(given) == expected


@pytest.mark.parametrize("given", ["eleven", "11.8.1", "", 5, 12345, True])
def test_cuda_version_rejects(given: object) -> None:
    with pytest.raises(InvalidParameterError):
        cuda_version(given)  # type: ignore[arg-type]


def test_price_helpers() -> None:
    assert yuan_to_milli(0.1) == 100
    assert yuan_to_milli(9) == 9000
    assert yuan_to_milli(1.881) == 1881
    assert milli_to_yuan(1980) == pytest.approx(1.98)
    for bad in (-1, float("nan"), float("inf"), "1"):
        with pytest.raises(InvalidParameterError):
            yuan_to_milli(bad)  # type: ignore[arg-type]


def test_a_bare_string_for_a_list_says_how_to_fix_it() -> None:
    with pytest.raises(InvalidParameterError, match=r"use \['westDC2'\]"):
        tpl(dc_list="westDC2")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"token": 123}, "token must be a str"), ({"base_url": 123}, "base_url must be a str")],
)
def test_client_arguments_of_the_wrong_type_are_configuration_errors(
    kwargs: dict[str, object], needle: str
) -> None:
    args: dict[str, object] = {"token": "t", **kwargs}
    with pytest.raises(ConfigurationError, match=needle):
        AutoDL(**args)  # type: ignore[arg-type]
