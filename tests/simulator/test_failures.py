"""Containers that fail: `exit N` in the cmd, `Simulator.crash_container`, and `failed_num`."""

from __future__ import annotations

import pytest

from autodl_async.simulator import Simulator, VirtualClock

from ._support import Api, deployment_body

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("cmd", "reason", "exit_code", "stopped_after"),
    [
        ("sleep 10; exit 1", "failed", 1, 6 + 10 + 2),
        ("exit 3", "failed", 3, 6 + 0 + 2),  # nothing but an exit: ends as soon as it runs
        ("sleep 10 && exit 0", "exited", 0, 6 + 10 + 2),
        ("sleep 10; exit", "exited", 0, 6 + 10 + 2),
        ("python train.py || exit 1", None, 1, None),  # no sleep: runs until stopped
        ("python serve.py &", "exited", 0, 6 + 0 + 2),  # backgrounded: the main process returns
        ("sleep 100 && echo done &", "exited", 0, 6 + 0 + 2),
    ],
)
async def test_exit_codes_decide_finished_or_failed(
    clock: VirtualClock,
    sim: Simulator,
    api: Api,
    cmd: str,
    reason: str | None,
    exit_code: int,
    stopped_after: float | None,
) -> None:
    uuid = await api.create(deployment_body("Container", cmd=cmd))
    clock.advance(1000)
    (container,) = sim.containers(uuid)
    assert container.exit_code == exit_code
    assert container.exit_reason == reason
    if stopped_after is None:
        assert container.status == "running"
    else:
        assert container.stopped_at is not None
        assert container.stopped_at - container.created_at == stopped_after
    dep = await api.deployment(uuid)
    assert dep["failed_num"] == (reason == "failed")
    assert dep["finished_num"] == (reason == "exited")


async def test_a_replicaset_replaces_failed_containers_and_counts_them(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body(replica_num=1, cmd="sleep 10; exit 1"))
    clock.advance(6 + 10 + 2)  # the first one fails and is shut down
    dep = await api.deployment(uuid)
    assert (dep["failed_num"], dep["finished_num"], dep["starting_num"]) == (1, 0, 1)
    first, second = sim.containers(uuid)
    assert (first.status, first.exit_reason, second.status) == ("shutdown", "failed", "creating")
    assert dep["status"] == "running"


async def test_a_job_counts_failures_as_done_and_does_not_retry(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    body = deployment_body("Job", replica_num=3, parallelism_num=2, cmd="sleep 5; exit 2")
    uuid = await api.create(body)
    clock.advance(600)
    dep = await api.deployment(uuid)
    assert (dep["failed_num"], dep["finished_num"]) == (3, 0)
    assert (dep["starting_num"], dep["running_num"], dep["status"]) == (0, 0, "running")
    assert len(sim.containers(uuid)) == 3  # no retries: the Job is over


async def test_crash_container_fails_it_and_a_replicaset_replaces_it(
    clock: VirtualClock, sim: Simulator, api: Api
) -> None:
    uuid = await api.create(deployment_body(replica_num=1))
    clock.advance(10)
    (victim,) = sim.containers(uuid)
    assert sim.crash_container(victim.uuid) is True
    assert sim.containers(uuid)[0].status == "shutting_down"
    assert [c.status for c in sim.containers(uuid)][1:] == ["creating"]  # replaced at once
    clock.advance(10)
    dep = await api.deployment(uuid)
    assert (dep["failed_num"], dep["running_num"]) == (1, 1)
    events = [e["status"] for e in await api.events(uuid, deployment_container_uuid=victim.uuid)]
    assert events[:2] == ["shutdown", "shutting_down"]
    assert sim.crash_container(victim.uuid) is False  # already shut down
    with pytest.raises(KeyError, match="no container 'nope'"):
        sim.crash_container("nope")
