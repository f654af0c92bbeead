"""The state file: a restarted simulator carries on exactly where the old one stopped."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from autodl_async.simulator import (
    DEFAULT_EPOCH,
    Simulator,
    SimulatorConfig,
    StateFileError,
    VirtualClock,
)
from autodl_async.simulator._persistence import FORMAT, VERSION, StateStore
from autodl_async.simulator._world import World

from ._support import (
    BLACKLIST,
    CONTAINERS,
    DEPLOYMENTS,
    EVENTS,
    GPU_STOCK,
    REPLICA_NUM,
    Api,
    deployment_body,
    running,
)

pytestmark = pytest.mark.anyio


class Run:
    """One scenario run; `restart()` swaps in a new simulator loaded from the state file."""

    def __init__(self, stack: AsyncExitStack, state_file: Path | None) -> None:
        self.stack = stack
        self.state_file = state_file
        self.sim: Simulator
        self.api: Api
        self.clock: VirtualClock

    async def start(self) -> None:
        self.clock = VirtualClock()
        config = SimulatorConfig(clock=self.clock, state_file=self.state_file)
        self.sim, self.api = await self.stack.enter_async_context(running(config))

    async def restart(self) -> None:
        if self.state_file is None:
            return  # the uninterrupted run
        await self.sim.stop()
        await self.start()


async def scenario(run: Run) -> list[Any]:
    """Touch every kind of state, restart in the middle of pending transitions, carry on."""
    seen: list[Any] = []
    api = run.api
    reuse = deployment_body(replica_num=3, dc_list=["westDC3"], cmd_before_shutdown="sleep 3")
    reuse["reuse_container"] = True
    web = await api.create(reuse)
    job = await api.create(deployment_body("Job", replica_num=4, parallelism_num=2, cmd="sleep 20"))
    run.clock.advance(10)
    first = (await api.containers(web))[-1]["uuid"]
    await api.stop(first, decrease_one_replica_num=True)  # shutting down across the restart
    await api.ok("POST", BLACKLIST, {"deployment_container_uuid": first, "expire_in_minutes": 1})
    await api.ok("PUT", REPLICA_NUM, {"deployment_uuid": web, "replica_num": 4})  # booting
    run.clock.advance(2)

    await run.restart()
    api = run.api
    seen.append(run.clock.now())
    seen.append(await api.containers(web))
    run.clock.advance(60)  # past the blacklist's expiry
    seen.append(await api.call("POST", CONTAINERS, {"deployment_uuid": web}))
    seen.append(await api.call("POST", EVENTS, {"deployment_uuid": job, "page_size": 100}))
    second = await api.create(reuse)  # takes over the pooled container
    run.clock.advance(100)
    seen.append(await api.call("POST", DEPLOYMENTS, {"page_size": 100}))
    seen.append(await api.call("POST", CONTAINERS, {"deployment_uuid": second}))
    seen.append(await api.call("GET", BLACKLIST))
    seen.append(await api.call("POST", GPU_STOCK, {"region_sign": "westDC3"}))
    sim = run.sim
    seen.append((sim.deployments(), sim.containers(), sim.reuse_pool(), sim.machines()))
    seen.append([sim.events(d.uuid) for d in sim.deployments()])
    return seen


async def test_a_restarted_simulator_carries_on_exactly(tmp_path: Path) -> None:
    results = []
    for state_file in (None, tmp_path / "state.json"):
        async with AsyncExitStack() as stack:
            run = Run(stack, state_file)
            await run.start()
            results.append(await scenario(run))
    plain, restarted = results
    assert restarted == plain
    assert restarted[0] == DEFAULT_EPOCH + 12  # the new clock was moved to the saved instant
    newest = restarted[1][0]  # the replica added 2 s before the restart...
    assert newest["status"] == "creating"
    assert restarted[2].data["list"][0]["status"] == "running"  # ...booted after it
    taken = restarted[5].data["list"]
    assert any(c["uuid"].count("-") == 3 for c in taken)  # the pool survived the restart


async def test_every_change_is_saved_at_once(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    clock = VirtualClock()
    async with running(SimulatorConfig(clock=clock, state_file=path)) as (_, api):
        uuid = await api.create(deployment_body())
        copy = tmp_path / "copy.json"
        copy.write_bytes(path.read_bytes())  # what a crash right now would leave behind
        other = Simulator(SimulatorConfig(clock=VirtualClock(), state_file=copy))
        assert [d.uuid for d in other.deployments()] == [uuid]
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # it holds root passwords
    assert sorted(os.listdir(tmp_path)) == ["copy.json", "state.json"]


async def test_a_failed_write_keeps_the_old_file_and_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    async with running(SimulatorConfig(clock=VirtualClock(), state_file=path)) as (sim, api):
        await api.create(deployment_body(name="kept"))
        before = path.read_bytes()

        def broken_fsync(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", broken_fsync)
        with caplog.at_level(logging.WARNING, logger="autodl_async.simulator"):
            await api.create(deployment_body(name="only in memory"))  # still answered
        assert "No space left on device" in caplog.text
        assert path.read_bytes() == before  # never half a file
        assert os.listdir(tmp_path) == ["state.json"]
        assert len(sim.deployments()) == 2
        monkeypatch.undo()


def _saved(tmp_path: Path, **changes: Any) -> bytes:
    """A valid state file's text with top-level fields changed."""
    sim = Simulator(SimulatorConfig(clock=VirtualClock()))
    path = tmp_path / "good.json"
    sim.save_state(path)
    doc = json.loads(path.read_bytes())
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda _: b"", "is not a simulator state file (not JSON)"),
        (lambda _: b"{not json", "is not a simulator state file (not JSON)"),
        (lambda _: b'{"hello": 1}', "is not a simulator state file (no format"),
        (lambda _: b"[1, 2]", "is not a simulator state file"),
        (lambda p: _saved(p, version=VERSION + 1), f"has state format version {VERSION + 1}"),
        (lambda p: _saved(p, fleet="0" * 16), "written by a simulator with another fleet"),
        (lambda p: _saved(p)[:-40], "is not a simulator state file (not JSON)"),
        (lambda p: _saved(p, now="soon"), "is corrupt: Expected `float`"),
        (lambda p: _saved(p, pool=["ghost"]), "the reuse pool names unknown containers"),
    ],
)
def test_a_bad_state_file_is_a_clear_error_and_is_left_alone(
    tmp_path: Path, content: Callable[[Path], bytes], message: str
) -> None:
    path = tmp_path / "state.json"
    raw = content(tmp_path)
    path.write_bytes(raw)
    with pytest.raises(StateFileError) as info:
        Simulator(SimulatorConfig(clock=VirtualClock(), state_file=path))
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert path.read_bytes() == raw


async def test_another_seed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    async with running(SimulatorConfig(clock=VirtualClock(), state_file=path, seed=1)) as (_, api):
        await api.create(deployment_body())
    with pytest.raises(StateFileError, match="another fleet; start with the same --seed"):
        Simulator(SimulatorConfig(clock=VirtualClock(), state_file=path, seed=2))


def test_a_missing_file_starts_afresh_and_is_created_at_once(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    sim = Simulator(SimulatorConfig(clock=VirtualClock(), state_file=path))
    assert sim.deployments() == ()
    doc = json.loads(path.read_bytes())
    assert (doc["format"], doc["version"], doc["deployments"]) == (FORMAT, VERSION, [])


def test_an_unwritable_place_fails_before_serving(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "state.json"
    with pytest.raises(StateFileError, match=r"cannot write state file .*No such file"):
        Simulator(SimulatorConfig(clock=VirtualClock(), state_file=path))


async def test_a_clock_ahead_of_the_file_runs_what_fell_due(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    async with running(SimulatorConfig(clock=VirtualClock(), state_file=path)) as (_, api):
        uuid = await api.create(deployment_body(cmd="sleep 10"))
    later = VirtualClock(start=DEFAULT_EPOCH + 1000)
    sim = Simulator(SimulatorConfig(clock=later, state_file=path))
    assert later.now() == DEFAULT_EPOCH + 1000  # never moved back
    statuses = [c.status for c in sim.containers(uuid)]
    assert statuses.count("shutdown") >= 2  # replicas kept exiting and being replaced
    assert sim.containers(uuid)[0].stopped_at == DEFAULT_EPOCH + 6 + 10 + 2


async def test_reset_is_saved(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    async with running(SimulatorConfig(clock=VirtualClock(), state_file=path)) as (sim, api):
        await api.create(deployment_body())
        sim.reset()
        assert json.loads(path.read_bytes())["deployments"] == []


async def test_save_state_then_start_from_it(sim: Simulator, api: Api, tmp_path: Path) -> None:
    uuid = await api.create(deployment_body())
    sim.save_state(tmp_path / "snap.json")
    copy = Simulator(SimulatorConfig(clock=VirtualClock(), state_file=tmp_path / "snap.json"))
    assert copy.deployments() == sim.deployments()
    assert copy.containers(uuid) == sim.containers(uuid)


async def test_reads_that_change_nothing_skip_the_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saves: list[int] = []
    real_save = StateStore.save

    def counting_save(self: StateStore, world: World) -> None:
        saves.append(1)
        real_save(self, world)

    monkeypatch.setattr(StateStore, "save", counting_save)
    clock = VirtualClock()
    config = SimulatorConfig(clock=clock, state_file=tmp_path / "state.json")
    async with running(config) as (sim, api):
        uuid = await api.create(deployment_body())
        after_create = len(saves)
        await api.containers(uuid)
        await api.ok("POST", GPU_STOCK, {"region_sign": "westDC2"})
        assert len(saves) == after_create  # nothing changed: no write, no fsync
        clock.advance(10)  # the container boots: the next read saves
        await api.containers(uuid)
        assert len(saves) == after_create + 1
        sim.event_feed.burst(uuid, 3)  # events logged without a status change count too
        await api.events(uuid)
        assert len(saves) == after_create + 2
