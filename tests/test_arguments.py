"""Wrongly typed arguments to any resource method are named, typed errors, and send nothing.

Python does not check annotations; without this a string page size or an object in a filter
fails deep inside as a bare ``TypeError`` (or reaches the server as a nameless 请求参数错误).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from autodl_async import AutoDL, ContainerTemplate, InvalidParameterError
from autodl_async.resources._arguments import checked
from tests.scripted import ScriptedServer

pytestmark = pytest.mark.anyio

Call = Callable[[AutoDL], Awaitable[Any]]
TEMPLATE = ContainerTemplate(
    image_uuid="base-image-l2t43iu6uk",
    cmd="sleep 1",
    gpu_name_set=["RTX 4090"],
    dc_list=["westDC2"],
    cuda_v_from=118,
    cuda_v_to=128,
)

CASES: list[tuple[str, Call, str]] = [
    ("page size as text", lambda c: c.images.list_page(1, "10"), "page_size"),  # type: ignore[arg-type]
    ("page index None", lambda c: c.deployments.list_page(None), "page_index"),  # type: ignore[arg-type]
    ("offset as list", lambda c: c.events.list_page("d", offset=[]), "offset"),  # type: ignore[arg-type]
    ("uuid as int", lambda c: c.deployments.get(123), "deployment_uuid"),  # type: ignore[arg-type]
    ("bool for int", lambda c: c.deployments.set_replicas("d", True), "replica_num"),
    ("expiry as text", lambda c: c.blacklist.add("c", expire_in_minutes="60"), "expire_in_minutes"),  # type: ignore[arg-type]
    ("comment object", lambda c: c.blacklist.add("c", comment=object()), "comment"),  # type: ignore[arg-type]
    ("no_cache as text", lambda c: c.containers.stop("c", no_cache="yes"), "no_cache"),  # type: ignore[arg-type]
    ("status as int", lambda c: c.containers.list_page("d", status=1), "status"),  # type: ignore[arg-type]
    ("status list of ints", lambda c: c.containers.list_page("d", status=[1]), "status"),  # type: ignore[list-item]
    (
        "gpu filter as text",
        lambda c: c.gpu_stock.get("westDC2", gpu_name_set="RTX 4090"),
        "gpu_name_set",
    ),  # type: ignore[arg-type]
    ("cuda as text", lambda c: c.gpu_stock.get("westDC2", cuda_v_from="118"), "cuda_v_from"),  # type: ignore[arg-type]
    ("price as object", lambda c: c.containers.list_page("d", price_from=object()), "price_from"),  # type: ignore[arg-type]
    (
        "no template",
        lambda c: c.deployments.create(name="n", deployment_type="Container", template=None),
        "template",
    ),  # type: ignore[arg-type]
    (
        "protocol typo",
        lambda c: c.deployments.create(
            name="n", deployment_type="Container", template=TEMPLATE, service_port_protocol="htp"
        ),
        "service_port_protocol",
    ),  # type: ignore[arg-type]
    ("pager page size", lambda c: c.deployments.list(page_size="5").to_list(), "page_size"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("case", "call", "param"), CASES, ids=[c[0] for c in CASES])
async def test_wrong_types_name_the_parameter_and_send_nothing(
    scripted: ScriptedServer, scripted_client: AutoDL, case: str, call: Call, param: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        await call(scripted_client)
    assert caught.value.param == param, case
    assert scripted.seen == []


async def test_right_types_pass_through(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    await scripted_client.containers.list_page("d", status=["running"], price_from=1.5)
    await scripted_client.gpu_stock.get("westDC2", price_from=100, cuda_v_from=118, cuda_v_to=128)
    assert len(scripted.seen) == 2


def test_the_checker_keeps_the_signature_for_introspection() -> None:
    def f(x: int, *, y: str | None = None) -> int:
        return x

    wrapped = checked(f)
    assert wrapped(1, y="a") == 1
    assert str(inspect.signature(wrapped)) == "(x: 'int', *, y: 'str | None' = None) -> 'int'"
    with pytest.raises(InvalidParameterError, match=r"y: must be str \| None"):
        wrapped(1, y=2)
    with pytest.raises(InvalidParameterError, match="x: must be int"):
        wrapped("1")
