"""A deployment of N running containers on a benchmark simulator, made through the SDK.

The simulator's container list is only as big as its fleet, so benchmarks that read a
1,000-container page from it need 1,000 containers running first. RTX 4090 hosts carry 8 GPUs
and eight regions have them; one container per GPU.
"""

from __future__ import annotations

import math
import time
from typing import Final

import anyio

__all__ = ["REGIONS_4090", "machines_for", "running_deployment"]

REGIONS_4090: Final = (
    "westDC2",
    "westDC3",
    "beijingDC1",
    "beijingDC2",
    "neimengDC1",
    "neimengDC3",
    "foshanDC1",
    "chongqingDC1",
)
_GPUS_PER_HOST: Final = 8


def machines_for(containers: int) -> int:
    """Hosts per region so ``containers`` one-GPU containers fit, with a spare row."""
    return math.ceil(containers / (_GPUS_PER_HOST * len(REGIONS_4090))) + 1


async def running_deployment(url: str, token: str, size: int, *, timeout: float = 60.0) -> str:
    """Create a ReplicaSet of ``size`` and wait until every replica runs; its uuid."""
    from autodl_async import AutoDL, ContainerTemplate

    template = ContainerTemplate(
        image_uuid="base-image-l2t43iu6uk",
        cmd="sleep infinity",
        gpu_name_set=["RTX 4090"],
        gpu_num=1,
        cuda_v_from=113,
        cuda_v_to=128,
        dc_list=list(REGIONS_4090),
    )
    async with AutoDL(token, base_url=url) as client:
        uuid = await client.deployments.create(
            name=f"bench-{size}", deployment_type="ReplicaSet", template=template, replica_num=size
        )
        ends_at = time.monotonic() + timeout
        running = 0
        while time.monotonic() < ends_at:
            pager = client.containers.list(uuid, page_size=1000, status="running")
            running = len(await pager.to_list())
            if running >= size:
                return uuid
            await anyio.sleep(0.05)
    raise RuntimeError(f"only {running} of {size} containers came up within {timeout:.0f}s")
