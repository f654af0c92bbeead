"""Every sample response of the doc and of the field notes decodes to the right values.

Each sample is served over real HTTP by the scripted loopback server and read through the
public client, so the whole path (bytes → envelope → model → normalisation) is covered.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from autodl_async import (
    AutoDL,
    BadRequestError,
    ContainerStatus,
    InsufficientStockError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.scripted import ScriptedServer, success

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures"
DOC = FIXTURES / "doc_samples"
LIVE = FIXTURES / "research_samples"
CST = timezone(timedelta(hours=8))


def serve(server: ScriptedServer, path: Path) -> None:
    server.push(path.read_bytes())


async def test_doc_image_list_uses_name(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, DOC / "image_list_response.json")
    page = await scripted_client.images.list_page()
    [image] = page.rows
    assert image.id == 111
    assert image.image_uuid == "image-db8346e037"
    assert image.display_name == "image name"
    assert image.status == "finished"
    assert image.created_at == datetime(2022, 1, 20, 18, 34, 8, tzinfo=CST)


async def test_live_image_list_uses_image_name(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    serve(scripted, LIVE / "image_private_list_response_real_fields.json")
    images = await scripted_client.images.list().to_list()
    assert [(i.id, i.display_name, i.image_uuid) for i in images] == [
        (1001, "ml_backend:0.0.1", "image-0000000001")
    ]


async def test_doc_create_response(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    from autodl_async import ContainerTemplate

    serve(scripted, DOC / "create_deployment_response.json")
    uuid = await scripted_client.deployments.create(
        name="api自动创建",
        deployment_type="ReplicaSet",
        replica_num=2,
        reuse_container=True,
        template=ContainerTemplate(
            dc_list=["westDC2", "westDC3"],
            gpu_name_set=["RTX 4090"],
            cuda_v_from=113,
            cuda_v_to=128,
            cmd="sleep 100",
            price_from=100,
            price_to=9000,
            image_uuid="image-db8346e037",
        ),
    )
    assert uuid == "833f1cd5a764fa3"
    sent = scripted.seen[-1].json()
    assert sent["container_template"]["memory_size_from"] == 1
    assert sent["container_template"]["memory_size_to"] == 256
    assert sent["deployment_type"] == "ReplicaSet"
    assert "parallelism_num" not in sent


async def test_live_create_response(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    from autodl_async import ContainerTemplate

    serve(scripted, LIVE / "create_deployment_response_live.json")
    uuid = await scripted_client.deployments.create(
        name="example",
        deployment_type="Container",
        template=ContainerTemplate(
            dc_list=["neimengDC3"],
            gpu_name_set=["RTX 3090"],
            cuda_v_from=118,
            cuda_v_to=128,
            cmd="sleep infinity",
            image_uuid="base-image-l2t43iu6uk",
        ),
    )
    assert uuid == "d3adb33f03"


async def test_doc_deployment_list(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, DOC / "deployment_list_response.json")
    page = await scripted_client.deployments.list_page()
    assert page.result_total == 3
    [d] = page.rows
    assert (d.uuid, d.name, d.deployment_type, d.status) == (
        "53a677bb3e281b8",
        "xxxx",
        "Container",
        "stopped",
    )
    assert (d.finished_num, d.failed_num, d.reuse_container) == (2, 0, True)
    assert d.template is not None
    assert d.template.memory_size_from_bytes == 1024**3
    assert d.template.memory_size_to_bytes == 274877906944  # 256 GB: beyond 2**31
    assert d.template.dc_list == ["westDC2", "westDC3"]
    assert d.template.cuda_v_from == 113
    assert d.stopped_at is None


async def test_doc_event_list(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, DOC / "event_list_response.json")
    page = await scripted_client.events.list_page("da497aea1eb8343")
    statuses = [e.status for e in page.rows]
    assert statuses == [
        "shutdown",
        "shutting_down",
        "running",
        "oss_merged",
        "starting",
        "created",
        "creating",
    ]
    assert page.rows[3].created_at == page.rows[4].created_at  # same-second events exist
    assert scripted.seen[-1].json() == {
        "deployment_uuid": "da497aea1eb8343",
        "page_index": 1,
        "page_size": 100,
        "offset": 0,
    }


async def test_doc_container_list(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, DOC / "container_list_response.json")
    [c] = (await scripted_client.containers.list_page("da497aea1eb8343")).rows
    assert c.status == ContainerStatus.RUNNING
    assert c.memory_size_bytes == 2147483648
    assert c.memory_gb == 2.0
    assert c.price == 1881
    assert c.info is not None
    assert c.info.root_password == "xxxxxxxxxx"
    assert "xxxxxxxxxx" not in repr(c)
    assert "xxxxxxxxxx" not in str(c.info)
    assert c.info.custom_port == 21294
    assert c.stopped_at is None


async def test_inferred_container_item(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    item = (LIVE / "container_list_item_shape_inferred.json").read_bytes()
    scripted.push(b'{"code":"Success","msg":"","data":{"list":[' + item + b'],"max_page":1}}')
    [c] = (await scripted_client.containers.list_page("d3adb33f03")).rows
    assert c.memory_size_bytes == 64424509440
    assert c.version == ""
    assert c.info is not None
    assert c.info.service_6006_port_url == "https://u1-example.autodl.com:8443"
    assert "FAKE-PASSWORD" not in repr(c)


@pytest.mark.parametrize(
    "name", ["container_stop_response.json", "operate_response.json", "delete_response.json"]
)
async def test_doc_null_data_answers(
    scripted: ScriptedServer, scripted_client: AutoDL, name: str
) -> None:
    serve(scripted, DOC / name)
    if name.startswith("container"):
        result = await scripted_client.containers.stop("c-1")
    elif name.startswith("operate"):
        result = await scripted_client.deployments.stop("d-1")
    else:
        result = await scripted_client.deployments.delete("d-1")
    assert result is None
    assert scripted.seen[-1].method in ("PUT", "DELETE")


async def test_replica_num_answers_null_or_uuid(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    serve(scripted, DOC / "replica_num_doc_response.json")
    assert await scripted_client.deployments.set_replicas("d3adb33f03", 3) == "d3adb33f03"
    serve(scripted, LIVE / "replica_num_response_live.json")
    assert await scripted_client.deployments.set_replicas("other", 3) == "d3adb33f03"


async def test_live_container_stop(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, LIVE / "container_stop_response_live.json")
    await scripted_client.containers.stop(
        "d3adb33f01-aaaaaaaa01-c0ffee0001-f00d00001", decrease_one_replica_num=True, no_cache=True
    )
    import json

    expected = json.loads((LIVE / "container_stop_request_no_cache_live.json").read_text())
    assert scripted.seen[-1].json() == expected


async def test_doc_gpu_stock(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, DOC / "gpu_stock_response.json")
    stock = await scripted_client.gpu_stock.get("westDC2", cuda_v_from=117, cuda_v_to=128)
    assert {name: (s.idle_gpu_num, s.total_gpu_num) for name, s in stock.items()} == {
        "RTX 4090": (215, 2285),
        "RTX 3080 Ti": (20, 392),
        "RTX A4000": (6, 24),
    }
    assert stock["RTX 4090"].gpu_name == "RTX 4090"


async def test_live_gpu_stock_with_chip(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, LIVE / "gpu_stock_region_response_live_shape.json")
    stock = await scripted_client.gpu_stock.get("westDC2")
    assert stock["RTX 4090"].idle_gpu_num == 55
    assert stock["RTX 4090"].chip_corp == "nvidia"
    assert stock["RTX 3090"].cpu_arch == "x86"


async def test_gpu_stock_object_keyed_and_empty(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(success({"RTX 4090": {"idle_gpu_num": 1, "total_gpu_num": 8}}))
    assert (await scripted_client.gpu_stock.get("x"))["RTX 4090"].total_gpu_num == 8
    serve(scripted, LIVE / "gpu_stock_region_unknown_region_empty_described.json")
    assert await scripted_client.gpu_stock.get("nowhereDC9") == {}


async def test_blacklist_shapes(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    entry = (DOC / "blacklist_get_response_bare_object.json").read_bytes()
    scripted.push(b'{"code":"Success","msg":"","data":' + entry + b"}")
    [one] = await scripted_client.blacklist.list()
    assert one.machine_id == "24fb4ca36a"
    assert one.expired_time == datetime(2025, 3, 26, 17, 48, 11, tzinfo=CST)
    scripted.push(b'{"code":"Success","msg":"","data":[' + entry + b"," + entry + b"]}")
    assert len(await scripted_client.blacklist.list()) == 2
    scripted.push(success(None))
    assert await scripted_client.blacklist.list() == []
    scripted.push(success([]))
    assert await scripted_client.blacklist.list() == []
    assert scripted.seen[-1].method == "GET"


async def test_wallet_balance(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, LIVE / "wallet_balance_response_live.json")
    wallet = await scripted_client.account.balance()
    assert wallet.assets == 29290
    assert wallet.available_yuan == pytest.approx(29.29)
    assert wallet.remittance_code == "ADL00000000"
    assert scripted.seen[-1].path == "/api/v1/dev/wallet/balance"


async def test_ddp_overview(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    serve(scripted, LIVE / "ddp_overview_response_shape_inferred.json")
    [row] = await scripted_client.deployments.ddp_overview("d3adb33f03")
    assert (row.gpu_type, row.total, row.balance, row.dc_list) == (
        "RTX 4090",
        360000,
        120000,
        "westDC2",
    )
    seen = scripted.seen[-1]
    assert seen.method == "GET"
    assert seen.query == {"deployment_uuid": "d3adb33f03"}
    assert seen.body == b""


@pytest.mark.parametrize(
    ("name", "error", "code", "msg"),
    [
        (
            "error_enterprise_not_verified_live.json",
            PermissionDeniedError,
            "BadRequest",
            "无当前资源访问权限",
        ),
        (
            "error_not_realname_live.json",
            PermissionDeniedError,
            "TORealName",
            "未完成实名认证,认证后才可使用",
        ),
        (
            "error_record_not_found_live.json",
            NotFoundError,
            "RecordNotFoundError",
            "未查询到相关实例",
        ),
        (
            "error_request_parameter_wrong_live.json",
            BadRequestError,
            "RequestParameterIsWrong",
            "请求参数错误",
        ),
        (
            "error_no_stock_pro_create_live.json",
            InsufficientStockError,
            "InternalError",
            "当前算力规格暂无库存, 请修改配置或稍等再试",
        ),
    ],
)
async def test_live_error_samples(
    scripted: ScriptedServer,
    scripted_client: AutoDL,
    name: str,
    error: type[Exception],
    code: str,
    msg: str,
) -> None:
    serve(scripted, LIVE / name)
    with pytest.raises(error) as info:
        await scripted_client.deployments.list_page()
    exc = info.value
    assert exc.code == code  # type: ignore[attr-defined]
    assert exc.msg == msg  # type: ignore[attr-defined]
    assert exc.http_status == 200  # type: ignore[attr-defined]
    assert exc.endpoint == "/api/v1/dev/deployment/list"  # type: ignore[attr-defined]
    assert msg in str(exc)
    assert len(scripted.seen) == 1  # business errors are not retried


async def test_exclusive_nfs_sample_is_a_null_success(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    serve(scripted, LIVE / "exclusive_nfs_mount_response_live.json")
    # Same envelope shape as every data:null answer; blacklist.add reads it.
    assert await scripted_client.blacklist.add("c-1", expire_in_minutes=60, comment="慢") is None
    assert scripted.seen[-1].json() == {
        "deployment_container_uuid": "c-1",
        "expire_in_minutes": 60,
        "comment": "慢",
    }
