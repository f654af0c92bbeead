"""GPU stock per region (``POST /api/v1/dev/machine/region/gpu_stock``)."""

from __future__ import annotations

from ._base import ResponseModel

__all__ = ["GpuStock"]


class GpuStock(ResponseModel):
    """Idle and total single-GPU slots of one GPU model in one region.

    Idle slots may sit on different hosts: 2 idle does not mean a 2-GPU container fits.
    ``gpu_name`` is filled in by the SDK from the key the server used.
    """

    gpu_name: str = ""
    idle_gpu_num: int = 0
    total_gpu_num: int = 0
    chip_corp: str | None = None
    cpu_arch: str | None = None
