"""Fault rules as text (specs and files), initial rules from the config, and determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import aiohttp
import pytest

from autodl_async.simulator import (
    FaultRule,
    FaultSet,
    FaultSpecError,
    Simulator,
    SimulatorConfig,
    VirtualClock,
    load_fault_file,
    parse_fault_spec,
)
from autodl_async.simulator._faults import FaultKind

from ._support import GPU_STOCK, IMAGES, running

pytestmark = pytest.mark.anyio

KINDS: tuple[str, ...] = get_args(FaultKind)


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("status", FaultRule(kind="status")),
        ("reset:*", FaultRule(kind="reset")),
        ("html::status=504", FaultRule(kind="html", status=504)),
        (
            "rate_limit:*/deployment/list:retry_after=2.5,times=3",
            FaultRule(kind="rate_limit", path="*/deployment/list", retry_after=2.5, times=3),
        ),
        (
            " Status : /api/v1/dev/deployment : method=post, status=502, after=1, when=after ",
            FaultRule(
                kind="status",
                path="/api/v1/dev/deployment",
                method="POST",
                status=502,
                after=1,
                when="after",
            ),
        ),
        (
            "latency:/x:latency=0.5,probability=0.25",
            FaultRule(kind="latency", path="/x", latency=0.5, probability=0.25),
        ),
        ("slow_body::latency=2", FaultRule(kind="slow_body", latency=2.0)),
        ("truncate::times=none", FaultRule(kind="truncate")),
    ],
)
def test_spec_grammar(spec: str, rule: FaultRule) -> None:
    assert parse_fault_spec(spec) == rule


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode", "unknown fault kind 'explode' (one of latency, status, rate_limit"),
        ("status:/x:statuss=500", "unknown option 'statuss' (one of method, status"),
        ("status:/x:status", "option 'status' is not key=value"),
        ("status:/x:status=abc", "status must be an integer, got 'abc'"),
        ("latency::latency=soon", "latency must be a number, got 'soon'"),
        ("status::status=42", "status must be an HTTP status code"),
        ("status::probability=2", "probability must be within [0, 1]"),
        ("status::when=during", "when must be before or after, got 'during'"),
        ("", "unknown fault kind ''"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        parse_fault_spec(spec)
    assert message in str(info.value)
    assert str(info.value).startswith(f"fault {spec!r}: ")
    assert isinstance(info.value, ValueError)


def test_json_and_toml_files(tmp_path: Path) -> None:
    rules = [
        FaultRule(kind="rate_limit", path="*/deployment/list", retry_after=1.0, times=2),
        FaultRule(kind="latency", latency=0.25),
        FaultRule(kind="status", method="PUT", status=500),
    ]
    as_json = tmp_path / "faults.json"
    as_json.write_text(
        json.dumps(
            {
                "faults": [
                    {
                        "kind": "rate_limit",
                        "path": "*/deployment/list",
                        "retry_after": 1,
                        "times": 2,
                    },
                    "latency::latency=0.25",
                    {"kind": "status", "path": "*", "method": "PUT", "status": 500},
                ]
            }
        )
    )
    as_toml = tmp_path / "faults.toml"
    as_toml.write_text(
        "[[faults]]\n"
        'kind = "rate_limit"\npath = "*/deployment/list"\nretry_after = 1\ntimes = 2\n'
        "[[faults]]\n"
        'kind = "latency"\nlatency = 0.25\n'
        "[[faults]]\n"
        'kind = "status"\nmethod = "PUT"\nstatus = 500\n'
    )
    bare_list = tmp_path / "list.json"
    bare_list.write_text(json.dumps(["rate_limit:*/deployment/list:retry_after=1,times=2"]))
    assert load_fault_file(as_json) == tuple(rules)
    assert load_fault_file(as_toml) == tuple(rules)
    assert load_fault_file(str(bare_list)) == (rules[0],)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("f.yaml", "faults: []", "must end in .json or .toml"),
        ("f.json", "{not json", "is not valid json"),
        ("f.toml", "[[faults]\n", "is not valid toml"),
        ("f.json", '{"rules": []}', "unknown top-level key 'rules'"),
        ("f.json", '{"faults": {"kind": "status"}}', "must hold a list named 'faults'"),
        ("f.json", '{"faults": [{"status": 500}]}', "rule 1: 'kind' is required"),
        ("f.json", '{"faults": [{"kind": "status", "code": 5}]}', "rule 1: unknown field 'code'"),
        (
            "f.json",
            '{"faults": [{"kind": "status"}, {"kind": "nope"}]}',
            "rule 2: unknown fault kind",
        ),
        ("f.json", '{"faults": [{"kind": "status", "times": "many"}]}', "rule 1: Expected `int"),
        ("f.json", '{"faults": [42]}', "rule 1: expected a table of rule fields or a spec string"),
        (
            "f.json",
            '{"faults": ["status::x=1"]}',
            "rule 1: fault 'status::x=1': unknown option 'x'",
        ),
    ],
)
def test_bad_files_say_which_file_and_rule(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(FaultSpecError) as info:
        load_fault_file(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FaultSpecError, match="cannot read fault file"):
        load_fault_file(tmp_path / "absent.json")


async def test_add_takes_a_spec_and_a_handle_scopes_a_rule(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session:

        async def status() -> int:
            async with session.post(
                sim.url + IMAGES, json={}, headers={"Authorization": sim.token}
            ) as resp:
                return resp.status

        with sim.faults.add("status:*/image/private/list:status=502") as handle:
            assert await status() == 502
            assert handle.applied == 1
        assert len(sim.faults) == 0
        assert await status() == 200


async def test_config_faults_are_installed_and_come_back_on_reset() -> None:
    config = SimulatorConfig(
        clock=VirtualClock(), faults=(parse_fault_spec("rate_limit:*/gpu_stock:times=1"),)
    )
    async with running(config) as (sim, api):
        first = await api.call("POST", GPU_STOCK, {"region_sign": "westDC2"})
        second = await api.call("POST", GPU_STOCK, {"region_sign": "westDC2"})
        assert (first.status, second.status) == (429, 200)
        sim.faults.add(FaultRule(kind="html"))
        sim.reset()
        assert [h.rule for h in sim.faults.handles] == list(config.faults)
        assert (await api.call("POST", GPU_STOCK, {"region_sign": "westDC2"})).status == 429


def test_config_faults_must_be_rules() -> None:
    with pytest.raises(TypeError, match="tuple of FaultRule"):
        SimulatorConfig(faults=["status"])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_fires_on_the_same_requests_for_the_same_seed(kind: str) -> None:
    """Which requests a probabilistic rule hits depends only on the seed and the order of
    requests, whatever the kind; another seed picks others."""

    def hits(seed: int) -> list[bool]:
        faults = FaultSet(seed)
        faults.add(FaultRule(kind=kind, probability=0.5))  # type: ignore[arg-type]
        return [faults.pick("POST", IMAGES) is not None for _ in range(40)]

    assert hits(11) == hits(11)
    assert hits(11) != hits(12)
    assert 5 < sum(hits(11)) < 35
