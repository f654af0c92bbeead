"""Create-deployment validation and how the created deployment is echoed by the list."""

from __future__ import annotations

import re
from typing import Any

import pytest

from autodl_async.simulator import Simulator

from ._support import BASE_IMAGE, DEPLOYMENT, PARAM_WRONG, TEMPLATE, Api, deployment_body

pytestmark = pytest.mark.anyio

GIB = 1024**3


def _without(key: str) -> dict[str, Any]:
    body = deployment_body()
    del body["container_template"][key]
    return body


def _top(**changes: Any) -> dict[str, Any]:
    body = deployment_body()
    body.update(changes)
    return body


INVALID: dict[str, dict[str, Any]] = {
    "no-name": {k: v for k, v in deployment_body().items() if k != "name"},
    "blank-name": _top(name="  "),
    "bad-type": _top(deployment_type="Deployment"),
    "no-type": {k: v for k, v in deployment_body().items() if k != "deployment_type"},
    "replicaset-no-replicas": deployment_body(replica_num=None),
    "replicaset-zero-replicas": deployment_body(replica_num=0),
    "replicaset-too-many": deployment_body(replica_num=1001),
    "job-no-parallelism": deployment_body("Job", replica_num=2),
    "job-zero-parallelism": deployment_body("Job", replica_num=2, parallelism_num=0),
    "job-no-replicas": deployment_body("Job", replica_num=None, parallelism_num=1),
    "no-template": {k: v for k, v in deployment_body().items() if k != "container_template"},
    "template-not-object": _top(container_template=["westDC2"]),
    **{f"template-without-{key}": _without(key) for key in TEMPLATE if key != "dc_list"},
    "no-region": _without("dc_list"),
    "empty-dc-list": deployment_body(dc_list=[]),
    "unknown-region": deployment_body(dc_list=["marsDC1"]),
    "empty-gpu-set": deployment_body(gpu_name_set=[]),
    "gpu-set-not-list": deployment_body(gpu_name_set="RTX 4090"),
    "zero-gpus": deployment_body(gpu_num=0),
    "float-gpus": deployment_body(gpu_num=1.0),
    "cuda-from-above-to": deployment_body(cuda_v_from=128, cuda_v_to=118),
    "cuda-only-from": {
        **deployment_body(),
        "container_template": {
            k: v for k, v in deployment_body()["container_template"].items() if k != "cuda_v_to"
        },
    },
    "memory-from-above-to": deployment_body(memory_size_from=100, memory_size_to=10),
    "cpu-negative": deployment_body(cpu_num_from=-1),
    "price-from-above-to": deployment_body(price_from=9000, price_to=100),
    "unknown-image": deployment_body(image_uuid="image-0000000000"),
    "empty-cmd": deployment_body(cmd=" "),
    "bad-port-protocol": _top(service_port_protocol="udp"),
    "bad-6006-protocol": deployment_body(service_6006_port_protocol="grpc"),
    "bad-scope": _top(reuse_container_scope="account"),
    "reuse-not-bool": _top(reuse_container="yes"),
}


@pytest.mark.parametrize("body", INVALID.values(), ids=INVALID.keys())
async def test_invalid_create_is_rejected_without_side_effects(
    sim: Simulator, api: Api, body: dict[str, Any]
) -> None:
    reply = await api.call("POST", DEPLOYMENT, body)
    assert reply.status == 200
    assert reply.error == PARAM_WRONG
    assert reply.data is None
    assert sim.deployments() == ()


async def test_create_returns_a_10_hex_uuid(api: Api) -> None:
    uuid = await api.create(deployment_body())
    assert re.fullmatch(r"[0-9a-f]{10}", uuid)
    assert uuid != await api.create(deployment_body())


async def test_list_echoes_the_template_with_memory_in_bytes(api: Api) -> None:
    body = deployment_body(cmd_before_shutdown="sleep 2")
    body["reuse_container"] = True
    uuid = await api.create(body)
    dep = await api.deployment(uuid)
    assert dep["uuid"] == uuid
    assert dep["name"] == "api自动创建"
    assert dep["deployment_type"] == "ReplicaSet"
    assert dep["status"] == "running"
    assert dep["reuse_container"] is True
    assert dep["reuse_container_scope"] == "all"
    assert dep["service_port_protocol"] == "http"
    assert dep["image_uuid"] == BASE_IMAGE
    assert dep["stopped_at"] is None
    assert dep["created_at"] == "2026-09-01T10:00:00+08:00"
    template = dep["template"]
    assert template["region_sign"] == ""
    assert template["dc_list"] == ["westDC2", "westDC3"]
    assert template["memory_size_from"] == 1 * GIB
    assert template["memory_size_to"] == 256 * GIB
    assert template["image_name"] == "cuda11.8-cudnn8-devel-ubuntu20.04-py38-torch2.0.0"
    assert (template["cuda_v_from"], template["cuda_v_to"]) == (113, 128)
    assert template["cmd_before_shutdown"] == "sleep 2"
    assert template["service_6006_port_protocol"] == "http"


async def test_doc_container_example_with_deprecated_cuda_v(api: Api) -> None:
    """The doc's Container example sends a single `cuda_v` and no replica/parallelism."""
    body = deployment_body("Container", replica_num=None)
    template = body["container_template"]
    del template["cuda_v_from"], template["cuda_v_to"]
    template["cuda_v"] = 113
    dep = await api.deployment(await api.create(body))
    assert (dep["replica_num"], dep["parallelism_num"]) == (1, 1)
    assert (dep["template"]["cuda_v_from"], dep["template"]["cuda_v_to"]) == (113, 113)


async def test_deprecated_region_sign_stands_in_for_dc_list(api: Api) -> None:
    body = deployment_body()
    del body["container_template"]["dc_list"]
    body["container_template"]["region_sign"] = "beijingDC1"
    uuid = await api.create(body)
    dep = await api.deployment(uuid)
    assert dep["template"]["region_sign"] == "beijingDC1"
    assert dep["template"]["dc_list"] == ["beijingDC1"]
    (container,) = await api.containers(uuid)
    assert container["data_center"] == "beijingDC1"


async def test_live_create_sample_is_accepted(api: Api) -> None:
    """The research sample's body: top-level reuse scope, price_from 0, neimengDC3 3090s."""
    body = {
        "name": "example-tmp-share-matrix",
        "deployment_type": "ReplicaSet",
        "replica_num": 1,
        "reuse_container": True,
        "reuse_container_scope": "all",
        "container_template": {
            "gpu_name_set": ["RTX 3090"],
            "gpu_num": 1,
            "cuda_v_from": 118,
            "cuda_v_to": 128,
            "cpu_num_from": 1,
            "cpu_num_to": 256,
            "memory_size_from": 1,
            "memory_size_to": 256,
            "cmd": "sleep infinity",
            "price_from": 0,
            "price_to": 9000,
            "image_uuid": "base-image-l2t43iu6uk",
            "dc_list": ["neimengDC3"],
        },
    }
    uuid = await api.create(body)
    (container,) = await api.containers(uuid)
    assert container["gpu_name"] == "RTX 3090"


async def test_port_protocols_top_level_or_in_template(api: Api) -> None:
    body = deployment_body(service_6008_port_protocol="tcp")
    body["service_port_protocol"] = "tcp"
    body["service_6006_port_protocol"] = "tcp"
    body["service_6008_port_protocol"] = "http"  # the template's value wins
    uuid = await api.create(body)
    dep = await api.deployment(uuid)
    assert dep["service_port_protocol"] == "tcp"
    assert dep["template"]["service_6006_port_protocol"] == "tcp"
    assert dep["template"]["service_6008_port_protocol"] == "tcp"
    (container,) = await api.containers(uuid)
    assert container["info"]["service_url"].startswith("tcp://")
    assert container["info"]["service_6006_port_url"].startswith("tcp://")


async def test_private_images_are_valid_in_a_template(sim: Simulator, api: Api) -> None:
    image = sim.images()[0]
    uuid = await api.create(deployment_body(image_uuid=image.image_uuid))
    dep = await api.deployment(uuid)
    assert dep["template"]["image_name"] == image.image_name


async def test_job_echoes_replica_and_parallelism(api: Api) -> None:
    uuid = await api.create(deployment_body("Job", replica_num=4, parallelism_num=2))
    dep = await api.deployment(uuid)
    assert (dep["deployment_type"], dep["replica_num"], dep["parallelism_num"]) == ("Job", 4, 2)
