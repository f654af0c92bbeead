"""The benchmark tooling: payloads, decoders, statistics, the result table, chart, page, runner.

The benchmarks themselves are too slow for the suite; what is tested here is that what they
measure is what they claim (the payload looks like the wire, every decoder decodes the same
rows, the SDK decoder is the resource's own), and that the runner reports rather than crashes.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web

from autodl_async import APITimeoutError, AutoDL, RetryPolicy
from autodl_async.resources.containers import _PAGE
from autodl_async.types import Container
from benchmarks import _payloads
from benchmarks.__main__ import discover, run_all
from benchmarks._chart import aim_score, split_label
from benchmarks._decoders import DECODERS, SDK, UNTYPED, decoder
from benchmarks._drive import drive
from benchmarks._isolate import run_in_process, run_isolated, validate
from benchmarks._report import markdown
from benchmarks._result import Result, format_table, make_row
from benchmarks._stats import median, paired_ratios, spread
from tests.scripted import TOKEN, ScriptedServer, success

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures" / "doc_samples"
ROOT = Path(__file__).resolve().parent.parent


def _rows(n: int = 1000) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(_payloads.container_list(n))["data"]["list"]
    return rows


# -- payloads ---------------------------------------------------------------------------------


def test_payloads_are_seeded_and_the_seed_matters() -> None:
    assert _payloads.container_list(50) == _payloads.container_list(50)
    assert _payloads.container_list(50, seed=1) != _payloads.container_list(50, seed=2)
    assert _payloads.events_page(3) == _payloads.events_page(3)


def test_container_payload_varies_like_the_wire() -> None:
    rows = _rows()
    assert len(rows) == 1000
    assert len({r["uuid"] for r in rows}) == 1000
    assert {r["status"] for r in rows} == set(_payloads.CONTAINER_STATUSES)
    assert {type(r["price"]) for r in rows} == {int, float}
    for r in rows:
        assert r["uuid"].startswith(f"{r['deployment_uuid']}-{r['machine_id']}-")
        assert (r["started_at"] is None) == (r["status"] in ("creating", "failed"))
        if r["status"] in ("creating", "created", "starting", "oss_merged", "running"):
            assert r["stopped_at"] is None
        assert r["memory_size"] % 1024**3 == 0  # bytes, whole GiB
        assert r["info"]["root_password"]
    assert any(r["info"]["service_6006_port_url"] is None for r in rows)
    assert {r["created_at"][-6:] for r in rows} == {"+08:00"}


def test_payload_keys_follow_the_doc_sample_order() -> None:
    doc = json.loads((FIXTURES / "container_list_response.json").read_text())
    doc_keys = list(doc["data"]["list"][0])
    ours = [k for k in _rows(1)[0] if k in doc_keys]
    assert ours == doc_keys


def test_payload_generator_does_not_import_the_sdk() -> None:
    probe = "import sys, benchmarks._payloads; print(any(m.startswith('autodl_async') for m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False"


# -- decoders ---------------------------------------------------------------------------------


def _uuid(row: Any) -> str:
    value = row["uuid"] if isinstance(row, dict) else row.uuid
    assert isinstance(value, str)
    return value


@pytest.mark.parametrize("name", list(DECODERS))
def test_every_decoder_reads_the_same_rows(name: str) -> None:
    if name == "orjson.loads":
        pytest.importorskip("orjson")
    if name == "pydantic v2":
        pytest.importorskip("pydantic")
    body = _payloads.container_list(200)
    expected = [r["uuid"] for r in json.loads(body)["data"]["list"]]
    assert [_uuid(r) for r in decoder(name)(body)] == expected


def test_a_decoder_whose_library_is_missing_is_left_out_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import benchmarks.bench_decode as bench

    real = bench.decoder

    def fake(name: str) -> Any:
        if name == "orjson.loads":
            raise ModuleNotFoundError("No module named 'orjson'", name="orjson")
        return real(name)

    monkeypatch.setattr(bench, "decoder", fake)
    found, missing = bench._available()
    assert "orjson.loads" not in found
    assert SDK in found
    assert "orjson.loads (orjson)" in missing


def test_the_sdk_decoder_is_the_resources_own() -> None:
    rows = decoder(SDK)(_payloads.container_list(20))
    assert all(isinstance(r, Container) for r in rows)
    assert _PAGE.decode(_payloads.container_list(20)).data is not None
    untyped = decoder(UNTYPED)(_payloads.container_list(20))
    assert [r.memory_size_bytes for r in rows] == [r["memory_size"] for r in untyped]


def test_decoders_refuse_an_error_envelope() -> None:
    body = b'{"code":"AuthorizationFailed","msg":"x","data":null}'
    for name in (SDK, UNTYPED, "json.loads"):
        with pytest.raises(ValueError, match="AuthorizationFailed"):
            decoder(name)(body)


def test_container_fields_are_in_wire_order() -> None:
    """msgspec finds the next key fastest when fields come in the order the server sends."""
    doc = json.loads((FIXTURES / "container_list_response.json").read_text())
    doc_keys = list(doc["data"]["list"][0])
    names = [f.encode_name for f in msgspec.structs.fields(Container)]
    assert [n for n in names if n in doc_keys] == doc_keys


# -- statistics and the table -----------------------------------------------------------------


def test_statistics_handle_empty_and_zero() -> None:
    assert math.isnan(median([]))
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert spread([2.0, 5.0, 1.0]) == (1.0, 5.0)
    assert paired_ratios([2.0, 3.0, 4.0], [1.0, 0.0, 2.0]) == [2.0, 2.0]
    with pytest.raises(ValueError, match=r"shorter|longer"):
        paired_ratios([1.0], [1.0, 2.0])


def test_a_row_without_an_aim_has_no_verdict() -> None:
    assert make_row("x", "m", 1.0, "s", met=True)["met"] is None
    row = make_row("x", "m", 1.0, "s", ratio=0.5, ratio_to="y", aim="≤ 0.6×", met=True)
    assert row["met"] is True


def test_table_shows_ratio_aim_and_verdict() -> None:
    rows = [
        make_row("a · b", "time", 1.5, "µs", ratio=0.31, ratio_to="raw", aim="≤ 0.40×", met=True),
        make_row("c|d", "time", 2.0, "µs", spread=(1.0, 3.0), aim="≥ 4×", met=False),
    ]
    text = format_table(rows, benchmarks=["decode", "decode"])
    assert "0.31× raw" in text
    assert "≤ 0.40×: met" in text
    assert "≥ 4×: MISSED" in text
    assert "2.00 µs (1.00–3.00)" in text
    md = format_table(rows, markdown=True)
    assert md.splitlines()[0].startswith("| row |")
    assert "c/d" in md
    assert format_table([]).splitlines()[0].startswith("row")


# -- chart and page ---------------------------------------------------------------------------


def test_aim_score_is_above_one_exactly_when_met() -> None:
    at_least = make_row("r", "m", 1.0, "x", ratio=0.9, ratio_to="raw", aim="≥ 0.85×", met=True)
    at_most = make_row("r", "m", 1.0, "x", ratio=0.5, ratio_to="raw", aim="≤ 0.40×", met=False)
    rate = make_row("r", "m", 2560.0, "calls/s", aim="≥ 1,280/s (needed)", met=True)
    assert (aim_score(at_least) or 0) > 1
    assert aim_score(at_most) == pytest.approx(0.8)
    assert aim_score(rate) == pytest.approx(2.0)
    cpu = make_row(
        "r", "CPU", 2.5, "%", ratio=0.44, ratio_to="own timers", aim="< 5 % of one core", met=True
    )
    assert aim_score(cpu) == pytest.approx(2.0)  # the value, not the ratio: the aim is in %
    lag = make_row("r", "lag", 995.0, "ms", aim="<= interval + round trip (1000 ms)", met=True)
    assert aim_score(lag) == pytest.approx(1000 / 995)
    assert aim_score(make_row("r", "m", 1.0, "x", aim="fast", met=True)) is None
    assert aim_score(make_row("r", "m", 1.0, "x")) is None


def test_labels_split_into_group_and_series() -> None:
    assert split_label("static · gpu c=1 · autodl-async") == ("static · gpu c=1", "autodl-async")
    assert split_label("plain") == ("plain", "")


def _result(name: str = "decode", met: bool = False) -> Result:
    return {
        "benchmark": name,
        "workload": "w",
        "repeats": 3,
        "versions": {"python": "3.11"},
        "rows": [
            make_row(
                "decode 1k · sdk", "t", 1.0, "µs", ratio=0.5, ratio_to="u", aim="≤ 0.4×", met=met
            ),
            make_row("decode 1k · json", "t", 3.0, "µs"),
        ],
        "notes": ["a note"],
    }


def test_page_lists_every_aim_and_what_was_skipped() -> None:
    machine = {
        "date": "2026-12-03 21:00",
        "cpus": 2,
        "cpu": "x",
        "python": "3.11",
        "load_before": "0.1",
        "load_after": "0.2",
    }
    page = markdown(
        [_result()],
        command="python -m benchmarks",
        machine=machine,
        skipped=[("bench_streams", "ModuleNotFoundError: x")],
        seconds={"decode": 12.0},
        chart="benchmarks.png",
    )
    assert "## Aims: 0 of 1 met" in page
    assert "**missed**" in page
    assert "![benchmark chart](benchmarks.png)" in page
    assert "`bench_streams`: ModuleNotFoundError: x" in page
    assert "- a note" in page


def test_chart_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from benchmarks._chart import write_chart

    path = write_chart([_result(), _result("other", met=True)], tmp_path / "c.png", title="t")
    assert path.read_bytes().startswith(b"\x89PNG")


# -- the runner -------------------------------------------------------------------------------


def test_runner_finds_the_benchmarks() -> None:
    found = discover()
    assert {"bench_decode", "bench_overhead", "bench_simulator"} <= set(found)
    assert all(name.startswith("bench_") for name in found)


def test_a_failing_benchmark_is_skipped_with_its_reason() -> None:
    def runner(name: str, quick: bool) -> Result:
        if name == "bench_broken":
            raise RuntimeError("it broke")
        return _result(name)

    lines: list[str] = []
    results, skipped, seconds = run_all(
        ["bench_broken", "bench_fine"], quick=True, runner=runner, log=lines.append
    )
    assert [r["benchmark"] for r in results] == ["bench_fine"]
    assert skipped == [("bench_broken", "RuntimeError: it broke")]
    assert "bench_fine" in seconds
    assert "-- SKIPPED bench_broken: RuntimeError: it broke" in lines


def test_a_result_off_the_convention_is_refused() -> None:
    with pytest.raises(TypeError):
        validate([])
    with pytest.raises(ValueError, match="lacks notes"):
        validate({k: v for k, v in _result().items() if k != "notes"})
    bad = _result()
    del bad["rows"][0]["aim"]  # type: ignore[misc]
    with pytest.raises(ValueError, match="row 0 lacks aim"):
        validate(bad)
    assert validate(_result()) == _result()


def test_a_missing_module_is_reported_not_raised_raw() -> None:
    with pytest.raises(ModuleNotFoundError):
        run_in_process("bench_does_not_exist", True)
    with pytest.raises(RuntimeError, match="ModuleNotFoundError"):
        run_isolated("bench_does_not_exist", True, timeout=60)


def test_profile_summary_counts_only_stacks_through_the_frame() -> None:
    from benchmarks._profile_summary import self_time

    lines = [
        "main (x.py:1);run (benchmarks/_decoders.py:3);json_decode (m.so) 6",
        "main (x.py:1);run (benchmarks/_decoders.py:3);datetime_alloc (m.so) 2",
        "main (x.py:1);import (y.py:2) 90",
        "garbage",
    ]
    shares, total = self_time(lines, "_decoders.py")
    assert total == 8
    assert shares == {"json_decode": 6, "datetime_alloc": 2}


# -- the load driver, the in-memory probe and the transport's reused time limit -----------------


async def test_drive_counts_every_call_it_made() -> None:
    made = 0

    async def call() -> None:
        nonlocal made
        made += 1
        await anyio.lowlevel.checkpoint()

    window = await drive(call, 4, 0.01, server_pid=0)
    assert window.calls == made > 0
    assert len(window.latencies) == made
    assert window.rate > 0
    assert window.latency_ms(0.5) >= 0
    capped = await drive(call, 4, 60.0, server_pid=0, max_calls=7)
    assert capped.calls == 7  # the cap closes the window long before its 60 s


async def test_in_memory_probe_still_fits_the_transport() -> None:
    from benchmarks._inmemory import layer_cost

    found = await layer_cost(calls=50, rounds=2)
    assert set(found) == {"autodl-async", "aiohttp + msgspec"}
    assert all(len(v) == 2 and min(v) > 0 for v in found.values())


async def test_a_shorter_per_call_timeout_is_honoured_after_the_default_was_used(
    scripted: ScriptedServer,
) -> None:
    """The transport reuses its last ClientTimeout; a different limit must not reuse it."""
    release = anyio.Event()
    calls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 2:
            with anyio.move_on_after(10):
                await release.wait()
        return web.Response(body=success([]), content_type="application/json")

    scripted.handler = handler
    async with AutoDL(
        TOKEN, base_url=scripted.url, timeout=30.0, retry=RetryPolicy(max_attempts=1)
    ) as client:
        assert await client.blacklist.list() == []
        with anyio.fail_after(5), pytest.raises(APITimeoutError):
            await client.blacklist.list(timeout=0.2)
        release.set()
        assert await client.blacklist.list() == []
    assert calls == 3
