"""A create the server answered ``Success`` without a uuid made a deployment: say so, typed.

Such an answer is not a malformed read to retry or report as garbage: the server acted, so the
caller must reconcile (the uuid is lost, not the deployment). ``reconcile_by_name`` does that.
"""

from __future__ import annotations

import pytest

from autodl_async import AutoDL, ContainerTemplate, InvalidParameterError, OutcomeUnknownError
from tests.scripted import ScriptedServer, success

pytestmark = pytest.mark.anyio

TEMPLATE = ContainerTemplate(
    image_uuid="base-image-l2t43iu6uk",
    cmd="sleep 1",
    gpu_name_set=["RTX 4090"],
    dc_list=["westDC2"],
    cuda_v_from=118,
    cuda_v_to=128,
)
LISTED = {"list": [{"uuid": "abcdef0123", "name": "web", "status": "running"}], "max_page": 1}


async def test_success_without_uuid_is_an_unknown_outcome(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(success({}))
    with pytest.raises(OutcomeUnknownError) as caught:
        await scripted_client.deployments.create(
            name="web", deployment_type="Container", template=TEMPLATE
        )
    assert caught.value.reconcile_hint["name"] == "web"
    assert len(scripted.seen) == 1  # never sent twice


async def test_reconcile_by_name_recovers_a_success_without_uuid(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(success({"list": [], "max_page": 0}))  # look before: nothing there
    scripted.push(success(None))  # the create: Success, no uuid
    scripted.push(success(LISTED))  # look after: there it is
    uuid = await scripted_client.deployments.create(
        name="web", deployment_type="Container", template=TEMPLATE, reconcile_by_name=True
    )
    assert uuid == "abcdef0123"
    assert [s.path for s in scripted.seen] == [
        "/api/v1/dev/deployment/list",
        "/api/v1/dev/deployment",
        "/api/v1/dev/deployment/list",
    ]


async def test_list_passes_its_time_limits_to_every_page(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    """A nonsense deadline is refused by the transport: proof the limit reached each call."""
    with pytest.raises(InvalidParameterError) as caught:
        await scripted_client.deployments.list(deadline=-1.0).to_list()
    assert caught.value.param == "deadline"
    with pytest.raises(InvalidParameterError):
        await scripted_client.images.list(timeout=-1.0).to_list()
    assert scripted.seen == []
