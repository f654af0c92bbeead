"""A retried idempotent call whose first attempt worked must not be reported as a failure.

The answer to a delete can be lost after the server acted (a 5xx or a reset sent after the
work was done). The SDK retries, and the retry finds nothing to delete: that is the first
attempt's success, not a ``NotFoundError``. A deployment that never existed still is one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from autodl_async import AutoDL, ContainerTemplate, NotFoundError, RetryPolicy
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, VirtualClock

pytestmark = pytest.mark.anyio

DELETE = "/api/v1/dev/deployment"
TEMPLATE = ContainerTemplate(
    image_uuid="base-image-l2t43iu6uk",
    cmd="sleep infinity",
    gpu_name_set=["RTX 4090"],
    dc_list=["westDC2"],
    cuda_v_from=118,
    cuda_v_to=128,
)


@pytest.fixture
async def env() -> AsyncIterator[tuple[Simulator, AutoDL]]:
    clock = VirtualClock()
    async with (
        Simulator(SimulatorConfig(clock=clock)) as sim,
        AutoDL(
            sim.token,
            base_url=sim.url,
            sleep=clock.sleep,
            clock=clock.now,
            retry=RetryPolicy(max_attempts=4, backoff_base=0.01),
        ) as client,
    ):
        yield sim, client


async def make(client: AutoDL, name: str) -> str:
    return await client.deployments.create(
        name=name, deployment_type="ReplicaSet", replica_num=1, template=TEMPLATE
    )


@pytest.mark.parametrize("kind", ["status", "reset"])
async def test_a_delete_whose_answer_was_lost_is_a_success(
    env: tuple[Simulator, AutoDL], kind: str
) -> None:
    sim, client = env
    uuid = await make(client, "gone")
    sim.faults.add(FaultRule(kind=kind, path=DELETE, method="DELETE", when="after", times=1))  # type: ignore[arg-type]
    await client.deployments.delete(uuid)  # no NotFoundError
    deletes = [r for r in sim.requests if r.method == "DELETE"]
    assert [r.outcome for r in deletes][-1] == "RecordNotFoundError"  # the retry saw it gone
    assert len(deletes) == 2
    assert sim.deployments() == ()


async def test_deleting_what_never_existed_is_still_not_found(
    env: tuple[Simulator, AutoDL],
) -> None:
    _, client = env
    with pytest.raises(NotFoundError) as caught:
        await client.deployments.delete("0000000000")
    assert caught.value.earlier_attempt_may_have_acted is False


async def test_a_retry_after_a_refused_connection_does_not_excuse_not_found(
    env: tuple[Simulator, AutoDL],
) -> None:
    """A 429 means the server did not act: a not-found after it is a real one."""
    sim, client = env
    sim.faults.add(FaultRule(kind="rate_limit", path=DELETE, retry_after=0.01, times=1))
    with pytest.raises(NotFoundError):
        await client.deployments.delete("0000000000")


async def test_bulk_delete_with_lost_answers_reports_every_item_done(
    env: tuple[Simulator, AutoDL],
) -> None:
    sim, client = env
    uuids = [await make(client, f"d{i}") for i in range(5)]
    sim.faults.add(FaultRule(kind="reset", path=DELETE, method="DELETE", when="after", times=2))
    result = await client.bulk.delete_deployments(uuids, concurrency=5)
    assert result.summary().failed == 0
    assert sim.deployments() == ()
