"""Wire conformance: every field of the doc's and the research samples exists in the
simulator's answer with the same JSON type (a null in a sample accepts anything; an integer
in a sample needs an integer, a fraction accepts any number).

Samples come from `tests/fixtures/doc_samples/` (the doc, made valid JSON) and from
`tests/fixtures/research_samples/` (live or inferred shapes from the field notes), the same
files the SDK's decoders are tested on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock
from autodl_async.simulator._app import ROUTES

from ._support import (
    BLACKLIST,
    CONTAINER_STOP,
    CONTAINERS,
    DDP,
    DEPLOYMENT,
    DEPLOYMENTS,
    EVENTS,
    GPU_STOCK,
    IMAGES,
    OPERATE,
    REPLICA_NUM,
    WALLET,
    Api,
    deployment_body,
    running,
)

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent.parent / "fixtures"
DOC = FIXTURES / "doc_samples"
RESEARCH = FIXTURES / "research_samples"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00")
TIME_KEYS = {"created_at", "updated_at", "started_at", "stopped_at", "expired_time"}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def mismatches(sample: Any, actual: Any, ignore: frozenset[str], path: str = "$") -> list[str]:
    """Where `actual` lacks a field of `sample` or has another JSON type there."""
    if path in ignore or sample is None:
        return []
    if _json_type(sample) == "number" and _json_type(actual) == "integer":
        return []
    if _json_type(sample) != _json_type(actual):
        return [f"{path}: sample {_json_type(sample)}, simulator {_json_type(actual)}"]
    if isinstance(sample, dict):
        problems = []
        for key, value in sample.items():
            if f"{path}.{key}" in ignore:
                continue
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += mismatches(value, actual[key], ignore, f"{path}.{key}")
        return problems
    if isinstance(sample, list):
        if sample and not actual:
            return [f"{path}: empty, nothing to compare"]
        problems = []
        for item in sample:  # each sample item must be matched by some answer item
            attempts: list[list[str]] = [mismatches(item, a, ignore, f"{path}[]") for a in actual]
            if attempts and all(attempts):
                closest = min(attempts, key=len)
                problems.extend(closest)
        return problems
    return []


CALLED: set[tuple[str, str]] = set()


async def collect(clock: VirtualClock, sim: Simulator, api: Api) -> dict[str, dict[str, Any]]:
    """Drive one deployment through its life and capture an answer from every endpoint."""
    out: dict[str, dict[str, Any]] = {}

    async def grab(key: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        reply = await api.call(method, path, body, **kw)
        assert reply.code == "Success", (key, reply.json)
        out[key] = reply.json
        CALLED.add((method, path))
        return reply.data

    await grab("images", "POST", IMAGES, {"page_index": 1, "page_size": 10})
    body = deployment_body(dc_list=["westDC2"], replica_num=2, cmd="sleep 100")
    body["reuse_container"] = True
    uuid = (await grab("create", "POST", DEPLOYMENT, body))["deployment_uuid"]
    clock.advance(10)
    containers = await grab("containers", "POST", CONTAINERS, {"deployment_uuid": uuid})
    victim = containers["list"][0]["uuid"]
    await grab("blacklist_set", "POST", BLACKLIST, {"deployment_container_uuid": victim})
    await grab("blacklist_list", "GET", BLACKLIST)
    await grab("stop", "PUT", CONTAINER_STOP, {"deployment_container_uuid": victim})
    await grab("replica_num", "PUT", REPLICA_NUM, {"deployment_uuid": uuid, "replica_num": 3})
    clock.advance(30)
    await grab("events", "POST", EVENTS, {"deployment_uuid": uuid, "page_size": 50})
    await grab("stock", "POST", GPU_STOCK, {"region_sign": "westDC2"})
    await grab("stock_unknown", "POST", GPU_STOCK, {"region_sign": "Singapore-A"})
    await grab("wallet", "POST", WALLET)
    await grab("ddp", "GET", DDP, params={"deployment_uuid": uuid})
    await grab("operate", "PUT", OPERATE, {"deployment_uuid": uuid, "operate": "stop"})
    clock.advance(30)
    await grab("deployments", "POST", DEPLOYMENTS, {"page_index": 1, "page_size": 10})
    await grab("delete", "DELETE", DEPLOYMENT, {"deployment_uuid": uuid})
    return out


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# (sample file, captured answer, what to compare, field-notes divergences to skip)
CASES: list[tuple[Path, str, str, frozenset[str]]] = [
    (
        DOC / "image_list_response.json",
        "images",
        "$",
        # field notes §0.4: items are {id, image_name, image_uuid}; the doc sample is stale
        frozenset(f"$.data.list[].{k}" for k in ("name", "status", "created_at", "updated_at")),
    ),
    (DOC / "create_deployment_response.json", "create", "$", frozenset()),
    (DOC / "deployment_list_response.json", "deployments", "$", frozenset()),
    (DOC / "event_list_response.json", "events", "$", frozenset()),
    (DOC / "container_list_response.json", "containers", "$", frozenset()),
    (DOC / "container_stop_response.json", "stop", "$", frozenset()),
    (DOC / "replica_num_doc_response.json", "replica_num", "$", frozenset()),
    (DOC / "operate_response.json", "operate", "$", frozenset()),
    (DOC / "delete_response.json", "delete", "$", frozenset()),
    (DOC / "blacklist_set_response.json", "blacklist_set", "$", frozenset()),
    (DOC / "blacklist_get_response_bare_object.json", "blacklist_list", "$.data[0]", frozenset()),
    (DOC / "gpu_stock_response.json", "stock", "$", frozenset()),
    (RESEARCH / "create_deployment_response_live.json", "create", "$", frozenset()),
    (RESEARCH / "replica_num_response_live.json", "replica_num", "$", frozenset()),
    (RESEARCH / "container_stop_response_live.json", "stop", "$", frozenset()),
    (RESEARCH / "gpu_stock_region_response_live_shape.json", "stock", "$", frozenset()),
    (
        RESEARCH / "gpu_stock_region_unknown_region_empty_described.json",
        "stock_unknown",
        "$",
        frozenset(),
    ),
    (RESEARCH / "image_private_list_response_real_fields.json", "images", "$", frozenset()),
    (RESEARCH / "wallet_balance_response_live.json", "wallet", "$", frozenset()),
    (RESEARCH / "ddp_overview_response_shape_inferred.json", "ddp", "$", frozenset()),
    (
        RESEARCH / "container_list_item_shape_inferred.json",
        "containers",
        "$.data.list[0]",
        frozenset(),
    ),
]


def _select(answer: dict[str, Any], where: str) -> Any:
    node: Any = answer
    for part in re.findall(r"\.(\w+)|\[(\d+)\]", where):
        node = node[part[0]] if part[0] else node[int(part[1])]
    return node


@pytest.mark.parametrize(
    ("sample_path", "key", "where", "ignore"),
    CASES,
    ids=[f"{p.parent.name}/{p.stem}" for p, *_ in CASES],
)
async def test_answer_has_every_sample_field(
    clock: VirtualClock,
    sim: Simulator,
    api: Api,
    sample_path: Path,
    key: str,
    where: str,
    ignore: frozenset[str],
) -> None:
    answers = await collect(clock, sim, api)
    sample = _load(sample_path)
    actual = _select(answers[key], where)
    assert mismatches(sample, actual, ignore) == []


async def test_only_the_listed_divergences_are_skipped(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    """The skipped image-list fields really are absent: the skip is not hiding a bug."""
    answers = await collect(clock, sim, api)
    item = answers["images"]["data"]["list"][0]
    assert set(item) == {"id", "image_name", "image_uuid"}
    assert answers["replica_num"]["data"] is not None  # live: {deployment_uuid}, doc: null


async def test_envelopes_and_timestamps_are_well_formed(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    answers = await collect(clock, sim, api)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in TIME_KEYS and v is not None:
                    assert isinstance(v, str)
                    assert TIMESTAMP.fullmatch(v), (k, v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for answer in answers.values():
        assert set(answer) == {"code", "msg", "data", "request_id"}
        assert re.fullmatch(r"[0-9a-f]{32}", answer["request_id"])
        walk(answer["data"])
    assert answers["stop"]["data"] is None
    assert answers["delete"]["data"] is None


@pytest.mark.parametrize(
    "sample",
    ["error_enterprise_not_verified_live.json", "error_request_parameter_wrong_live.json"],
)
async def test_error_samples_match_exactly(sample: str) -> None:
    expected = _load(RESEARCH / sample)
    config = SimulatorConfig(clock=VirtualClock(), enterprise_verified="enterprise" not in sample)
    async with running(config) as (_, api):
        reply = await api.call("POST", DEPLOYMENT, {"name": ""})
    assert {"code": reply.json["code"], "msg": reply.json["msg"]} == expected
    assert reply.data is None


async def test_collect_calls_every_route(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    """So no endpoint can escape the sample comparisons above."""
    CALLED.clear()
    await collect(clock, sim, api)
    assert {(r.method, r.path) for r in ROUTES} <= CALLED


@pytest.mark.parametrize(
    ("sample", "fields"),
    [
        ("error_not_realname_live.json", {"real_name_verified": False}),
        ("error_no_stock_pro_create_live.json", {"unschedulable": "reject"}),
    ],
)
async def test_account_state_errors_match_the_live_samples(
    sample: str, fields: dict[str, Any]
) -> None:
    expected = _load(RESEARCH / sample)
    async with running(SimulatorConfig(clock=VirtualClock(), **fields)) as (_, api):
        reply = await api.call("POST", DEPLOYMENT, deployment_body(gpu_name_set=["H20"]))
    assert reply.status == 200
    assert {"code": reply.json["code"], "msg": reply.json["msg"]} == expected
    assert reply.data is None
    assert re.fullmatch(r"[0-9a-f]{32}", reply.json["request_id"])


async def test_not_found_has_the_live_code(api: Api) -> None:
    """The code is the live one; the text says 记录 (record) where the Pro API, talking about
    instances, says 实例 — the ESD wording is unknown (docs/simulator.md)."""
    expected = _load(RESEARCH / "error_record_not_found_live.json")
    reply = await api.call("PUT", OPERATE, {"deployment_uuid": "0123456789", "operate": "stop"})
    assert reply.json["code"] == expected["code"]
    assert reply.json["msg"].startswith("未查询到相关")
    assert (reply.status, reply.data) == (200, None)


@pytest.mark.parametrize(
    "variant", sorted(_load(RESEARCH / "event_list_request_variants_seen.json"))
)
async def test_every_event_request_variant_seen_is_accepted(
    clock: VirtualClock, api: Api, variant: str
) -> None:
    uuid = await api.create(deployment_body())
    clock.advance(10)
    body = {**_load(RESEARCH / "event_list_request_variants_seen.json")[variant]}
    body["deployment_uuid"] = uuid
    data = await api.ok("POST", EVENTS, body)
    assert data["list"][0]["status"] == "running"
    assert data["page_index"] == 1


def test_the_checker_catches_drift() -> None:
    sample = {"a": 1, "b": {"c": "x"}, "d": [{"e": True}], "f": None}
    assert (
        mismatches(sample, {"a": 2, "b": {"c": "y"}, "d": [{"e": False}], "f": 3}, frozenset())
        == []
    )
    assert mismatches(sample, {"a": "1", "b": {}, "d": [{"e": 1}], "f": None}, frozenset()) == [
        "$.a: sample integer, simulator string",
        "$.b.c: missing",
        "$.d[].e: sample boolean, simulator integer",
    ]
    assert mismatches({"d": [{"e": 1}]}, {"d": []}, frozenset()) == [
        "$.d: empty, nothing to compare"
    ]
    assert mismatches({"price": 1980}, {"price": 1980.0}, frozenset()) == [
        "$.price: sample integer, simulator number"
    ]
    assert mismatches({"price": 19.8}, {"price": 1980}, frozenset()) == []
