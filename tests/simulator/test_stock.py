"""GPU stock per region: totals, filters, and idle counts that follow placement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from autodl_async.simulator import MachineSnapshot, Simulator, VirtualClock

from ._support import GPU_STOCK, PARAM_WRONG, Api, deployment_body

pytestmark = pytest.mark.anyio

Keep = Callable[[MachineSnapshot], bool]


def expected(
    sim: Simulator, region: str, keep: Keep = lambda m: True
) -> dict[str, tuple[int, int]]:
    rows: dict[str, tuple[int, int]] = {}
    for m in sim.machines():
        if m.data_center == region and keep(m):
            idle, total = rows.get(m.gpu_name, (0, 0))
            rows[m.gpu_name] = (idle + m.gpu_idle, total + m.gpu_total)
    return rows


def counts(stock: dict[str, dict[str, Any]]) -> dict[str, tuple[int, int]]:
    return {name: (row["idle_gpu_num"], row["total_gpu_num"]) for name, row in stock.items()}


async def test_region_stock_lists_each_model_once(sim: Simulator, api: Api) -> None:
    raw = await api.ok("POST", GPU_STOCK, {"region_sign": "westDC2"})
    assert all(len(row) == 1 for row in raw)
    names = [next(iter(row)) for row in raw]
    assert names == ["RTX 4090", "RTX 3090", "RTX 3080 Ti", "RTX A4000"]
    for row in raw:
        (inner,) = row.values()
        assert set(inner) == {"idle_gpu_num", "total_gpu_num", "chip_corp", "cpu_arch"}
        assert (inner["chip_corp"], inner["cpu_arch"]) == ("nvidia", "x86")
    assert counts(await api.stock("westDC2")) == expected(sim, "westDC2")


async def test_doc_request_sample(sim: Simulator, api: Api) -> None:
    stock = await api.stock("westDC2", cuda_v_from=117, cuda_v_to=128)
    assert counts(stock) == expected(sim, "westDC2", lambda m: m.max_cuda >= 117)


async def test_unknown_region_is_an_empty_success(api: Api) -> None:
    assert await api.ok("POST", GPU_STOCK, {"region_sign": "Singapore-A"}) == []


@pytest.mark.parametrize(
    "body",
    [{}, {"region_sign": ""}, {"region_sign": 3}, {"region_sign": "westDC2", "cuda_v_from": "x"}],
)
async def test_region_sign_is_required(api: Api, body: dict[str, object]) -> None:
    assert (await api.call("POST", GPU_STOCK, body)).error == PARAM_WRONG


def _per_gpu(attr: str, low: float, high: float) -> Keep:
    def keep(m: MachineSnapshot) -> bool:
        return bool(low <= getattr(m, attr) <= high)

    return keep


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({"gpu_name_set": ["RTX 3090", "L20"]}, lambda m: m.gpu_name == "RTX 3090"),
        ({"cuda_v_from": 122}, lambda m: m.max_cuda >= 122),
        ({"cuda_v": 124}, lambda m: m.max_cuda >= 124),
        ({"cpu_num_from": 13}, _per_gpu("cpu_per_gpu", 13, 1000)),
        ({"cpu_num_to": 12}, _per_gpu("cpu_per_gpu", 0, 12)),
        ({"memory_size_to": 40}, _per_gpu("memory_per_gpu_bytes", 0, 40 * 1024**3)),
        (
            {"memory_size_from": 50, "memory_size_to": 0},
            _per_gpu("memory_per_gpu_bytes", 50 * 1024**3, 1e15),
        ),
        ({"price_from": 1000, "price_to": 1600}, _per_gpu("price_per_gpu", 1000, 1600)),
    ],
)
async def test_filters(sim: Simulator, api: Api, filters: dict[str, object], keep: Keep) -> None:
    want = expected(sim, "westDC2", keep)
    assert want  # the filter must leave something to compare
    assert counts(await api.stock("westDC2", **filters)) == want


async def test_idle_counts_follow_containers(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    before = counts(await api.stock("westDC3"))
    uuid = await api.create(deployment_body(dc_list=["westDC3"], replica_num=3, gpu_num=2))
    after = counts(await api.stock("westDC3"))
    assert after["RTX 4090"] == (before["RTX 4090"][0] - 6, before["RTX 4090"][1])
    assert after["RTX 3090"] == before["RTX 3090"]
    clock.advance(10)
    await api.ok(
        "PUT", "/api/v1/dev/deployment/operate", {"deployment_uuid": uuid, "operate": "stop"}
    )
    assert counts(await api.stock("westDC3")) == after  # still held while shutting down
    clock.advance(2)
    assert counts(await api.stock("westDC3")) == before


async def test_stock_ignores_the_account_blacklist(sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body(dc_list=["westDC3"]))
    (container,) = sim.containers(uuid)
    await api.ok(
        "POST",
        "/api/v1/dev/deployment/blacklist",
        {"deployment_container_uuid": container.uuid},
    )
    assert counts(await api.stock("westDC3")) == expected(sim, "westDC3")
