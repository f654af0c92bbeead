"""Fault rules over real HTTP: every kind, before/after, and rule bookkeeping."""

from __future__ import annotations

import aiohttp
import pytest

from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, VirtualClock

from ._support import DEPLOYMENT, DEPLOYMENTS, IMAGES, Api, deployment_body, running

pytestmark = pytest.mark.anyio


async def raw(sim: Simulator, path: str = IMAGES, body: object = None) -> aiohttp.ClientResponse:
    """POST and return the response with its body read."""
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            sim.url + path, json=body or {}, headers={"Authorization": sim.token}
        )
        await resp.read()
        resp.release()
        return resp


async def test_status_fault(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="status", path=IMAGES))
    resp = await raw(sim)
    assert resp.status == 503
    assert "Retry-After" not in resp.headers
    body = await resp.json()
    assert body["code"] == "ServiceUnavailable"
    assert sim.requests[-1].outcome == 503
    assert sim.requests[-1].fault == "status"


async def test_status_fault_with_custom_status_and_retry_after(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="status", status=500, retry_after=2))
    resp = await raw(sim)
    assert (resp.status, resp.headers["Retry-After"]) == (500, "2")


async def test_rate_limit_fault(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="rate_limit", retry_after=0.25))
    resp = await raw(sim)
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "0.25"
    sim.faults.clear()
    sim.faults.add(FaultRule(kind="rate_limit"))
    assert (await raw(sim)).headers["Retry-After"] == "1"


async def test_html_fault_is_an_nginx_page(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="html"))
    resp = await raw(sim)
    assert resp.status == 502
    assert resp.content_type == "text/html"
    assert resp.headers["Server"] == "nginx"
    text = await resp.text()
    assert "<center><h1>502 Bad Gateway</h1></center>" in text


async def test_reset_fault_is_a_connection_error(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="reset", times=1))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(sim.url + IMAGES, json={}, headers={"Authorization": sim.token})
    assert sim.requests[-1].fault == "reset"
    assert sim.requests[-1].outcome is None
    assert (await raw(sim)).status == 200  # used up after one


async def test_truncate_fault_sends_half_a_json_body(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="truncate"))
    resp = await raw(sim)
    assert resp.status == 200
    assert resp.content_type == "application/json"
    with pytest.raises(ValueError, match=r"Expecting|Unterminated|Invalid"):
        await resp.json()
    assert sim.requests[-1].outcome == "Success"  # the API did answer


async def test_slow_body_fault_dribbles_the_full_body(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="slow_body", latency=0.2))
    resp = await raw(sim)
    assert (await resp.json())["code"] == "Success"


async def test_slow_body_trips_a_client_read_timeout(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="slow_body", latency=2.0))
    timeout = aiohttp.ClientTimeout(sock_read=0.1)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        resp = await session.post(sim.url + IMAGES, json={}, headers={"Authorization": sim.token})
        assert resp.status == 200  # headers arrive at once
        with pytest.raises(TimeoutError):
            await resp.read()
        resp.close()


async def test_latency_fault_delays_then_answers(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="latency", latency=0.05))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.01)) as session:
        with pytest.raises(TimeoutError):
            await session.post(sim.url + IMAGES, json={}, headers={"Authorization": sim.token})
    resp = await raw(sim)
    assert resp.status == 200


async def test_fault_before_means_the_create_did_not_happen(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="status", path=DEPLOYMENT, method="POST", times=1))
    assert (await raw(sim, DEPLOYMENT, deployment_body())).status == 503
    assert sim.deployments() == ()
    assert sim.requests[-1].outcome == 503


@pytest.mark.parametrize("kind", ["status", "reset", "html", "rate_limit", "latency"])
async def test_fault_after_means_the_create_happened(sim: Simulator, kind: str) -> None:
    sim.faults.add(FaultRule(kind=kind, path=DEPLOYMENT, method="POST", when="after"))  # type: ignore[arg-type]
    async with aiohttp.ClientSession() as session:
        try:
            resp = await session.post(
                sim.url + DEPLOYMENT, json=deployment_body(), headers={"Authorization": sim.token}
            )
            resp.release()
        except aiohttp.ClientConnectionError:
            assert kind == "reset"
    assert len(sim.deployments()) == 1
    assert sim.requests[-1].outcome == "Success"
    assert sim.requests[-1].fault == kind


async def test_times_and_after(sim: Simulator) -> None:
    handle = sim.faults.add(FaultRule(kind="status", after=1, times=2))
    statuses = [(await raw(sim)).status for _ in range(5)]
    assert statuses == [200, 503, 503, 200, 200]
    assert (handle.matched, handle.applied, handle.exhausted) == (3, 2, True)


async def test_path_and_method_matching(sim: Simulator, api: Api) -> None:
    sim.faults.add(FaultRule(kind="status", path="/api/v1/dev/deployment/*", method="post"))
    assert (await raw(sim, IMAGES)).status == 200
    assert (await raw(sim, DEPLOYMENTS)).status == 503
    assert (await raw(sim, DEPLOYMENT, deployment_body())).status == 200  # no trailing segment
    reply = await api.call("PUT", "/api/v1/dev/deployment/operate", {})
    assert reply.status == 200


async def test_first_matching_rule_wins_and_skipped_rules_fall_through(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="status", status=500, after=1))
    sim.faults.add(FaultRule(kind="status", status=502))
    assert (await raw(sim)).status == 502  # rule 1 skips its first match
    assert (await raw(sim)).status == 500


async def test_probability_is_deterministic_per_seed() -> None:
    runs = []
    for seed in (5, 5, 6):
        async with running(SimulatorConfig(clock=VirtualClock(), seed=seed)) as (sim, _):
            sim.faults.add(FaultRule(kind="status", probability=0.5))
            runs.append([(await raw(sim)).status for _ in range(16)])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {200, 503} <= set(runs[0])


async def test_remove_and_clear(sim: Simulator) -> None:
    handle = sim.faults.add(FaultRule(kind="status"))
    assert len(sim.faults) == 1
    handle.remove()
    assert (await raw(sim)).status == 200
    sim.faults.add(FaultRule(kind="status"))
    sim.faults.add(FaultRule(kind="html"))
    sim.faults.clear()
    assert sim.faults.handles == ()
    assert (await raw(sim)).status == 200


async def test_faults_apply_to_unknown_paths_too(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="truncate"))
    resp = await raw(sim, "/api/v1/dev/nope")
    assert resp.status == 404
    assert sim.requests[-1].outcome == 404


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "explode"},
        {"kind": "status", "status": 42},
        {"kind": "latency", "latency": -1},
        {"kind": "status", "probability": 1.5},
        {"kind": "status", "after": -1},
        {"kind": "status", "times": -1},
        {"kind": "status", "when": "during"},
        {"kind": "rate_limit", "retry_after": -2},
    ],
)
def test_rule_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        FaultRule(**kwargs)  # type: ignore[arg-type]
