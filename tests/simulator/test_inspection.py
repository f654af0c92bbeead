"""Read-only inspection: what tests can see agrees with the API, and cannot change the world."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import datetime

import pytest

from autodl_async.simulator import Simulator, VirtualClock

from ._support import BLACKLIST, DEPLOYMENT, OPERATE, Api, deployment_body

pytestmark = pytest.mark.anyio


def _epoch(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


async def test_snapshots_agree_with_the_api(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    web = await api.create(deployment_body(replica_num=2, cmd="sleep 50; exit 4"))
    clock.advance(10)
    first = sim.containers(web)[0].uuid
    await api.ok("POST", BLACKLIST, {"deployment_container_uuid": first, "comment": "慢"})
    await api.stop(first, no_cache=True)
    clock.advance(100)

    (dep,) = sim.deployments()
    listed = await api.deployment(web)
    for field in ("uuid", "name", "deployment_type", "status", "replica_num", "parallelism_num"):
        assert getattr(dep, field) == listed[field], field
    for field in ("starting_num", "running_num", "finished_num", "failed_num"):
        assert getattr(dep, field) == listed[field], field
    assert dep.failed_num > 0
    assert dep.service_port_protocol == listed["service_port_protocol"]

    wire = {c["uuid"]: c for c in await api.containers(web)}
    snaps = sim.containers(web)
    assert {c.uuid for c in snaps} == set(wire) == set(dep.container_uuids)
    for c in snaps:
        w = wire[c.uuid]
        for field in ("status", "machine_id", "data_center", "gpu_name", "gpu_num", "cpu_num"):
            assert getattr(c, field) == w[field], field
        assert (c.memory_size, c.price, c.image_uuid) == (
            w["memory_size"],
            w["price"],
            w["image_uuid"],
        )
        assert (c.created_at, c.started_at, c.stopped_at) == tuple(
            _epoch(w[k]) for k in ("created_at", "started_at", "stopped_at")
        )
    stopped = next(c for c in snaps if c.uuid == first)
    assert (stopped.exit_reason, stopped.no_cache, stopped.exit_code) == ("stopped", True, 4)

    events = await api.events(web)
    assert [(e.deployment_container_uuid, e.status, e.created_at) for e in sim.events(web)] == [
        (e["deployment_container_uuid"], e["status"], _epoch(e["created_at"]))
        for e in reversed(events)
    ]

    (entry,) = sim.blacklist()
    (wire_entry,) = await api.ok("GET", BLACKLIST)
    assert (entry.machine_id, entry.msg, entry.expired_time) == (
        wire_entry["machine_id"],
        wire_entry["msg"],
        _epoch(wire_entry["expired_time"]),
    )
    machine = next(m for m in sim.machines() if m.machine_id == entry.machine_id)
    assert machine.blacklisted
    assert [m.machine_id for m in sim.machines() if m.blacklisted] == [machine.machine_id]
    assert machine.gpu_idle == machine.gpu_total - machine.background_busy - sum(
        c.gpu_num
        for c in sim.containers()
        if c.machine_id == machine.machine_id and c.status != "shutdown"
    )


async def test_the_reuse_pool_is_visible(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body(replica_num=2))
    clock.advance(10)
    await api.ok("PUT", OPERATE, {"deployment_uuid": uuid, "operate": "stop"})
    assert sim.reuse_pool() == ()  # still shutting down
    clock.advance(5)
    assert {c.uuid for c in sim.reuse_pool()} == {c.uuid for c in sim.containers(uuid)}
    assert all(c.status == "shutdown" for c in sim.reuse_pool())


async def test_request_records_cannot_rewrite_the_log(sim: Simulator, api: Api) -> None:
    await api.call("POST", DEPLOYMENT, deployment_body(name="original"))
    record = sim.requests[-1]
    assert record.body is not None
    record.body["name"] = "tampered"
    record.body["container_template"]["gpu_num"] = 99
    again = sim.requests[-1].body
    assert again is not None
    assert again["name"] == "original"
    assert again["container_template"]["gpu_num"] == 1
    with pytest.raises(AttributeError):
        record.outcome = "Success"  # type: ignore[misc]


async def test_snapshots_are_copies(clock: VirtualClock, sim: Simulator, api: Api) -> None:
    uuid = await api.create(deployment_body())
    (before,) = sim.containers(uuid)
    clock.advance(10)
    assert before.status == "creating"  # an old snapshot does not move with the world
    with pytest.raises(FrozenInstanceError):
        before.status = "running"  # type: ignore[misc]
    (machine, *_) = sim.machines()
    with pytest.raises(FrozenInstanceError):
        machine.gpu_idle = 0  # type: ignore[misc]
    assert isinstance(sim.deployments()[0].template.dc_list, tuple)


async def test_unknown_uuids_name_what_is_missing(sim: Simulator) -> None:
    with pytest.raises(KeyError, match="no deployment 'nope' in this simulator"):
        sim.containers("nope")
    with pytest.raises(KeyError, match="no deployment 'nope' in this simulator"):
        sim.events("nope")
