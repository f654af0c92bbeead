"""Static reference data: regions, GPU models and the public base images.

Regions and base images come from the doc's appendix; GPU specs and prices are plausible
inventions (the doc publishes none), kept in one table so tests can reason about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["BASE_IMAGES", "GPU_MODELS", "REGIONS", "GpuModel"]

GIB: Final = 1024**3


@dataclass(frozen=True, slots=True)
class GpuModel:
    """Per-GPU host resources of a machine type; a container gets `gpu_num` units of each."""

    name: str
    cpu_per_gpu: int
    memory_gb_per_gpu: int
    price_per_gpu: int  # yuan x 1000 per hour
    cuda_choices: tuple[int, ...]  # driver CUDA versions seen on this model's hosts
    gpu_totals: tuple[int, ...]  # GPUs per host, picked by the seeded fleet builder


GPU_MODELS: Final[dict[str, GpuModel]] = {
    m.name: m
    for m in (
        GpuModel("RTX 4090", 16, 60, 1980, (122, 124, 128), (8,)),
        GpuModel("RTX 3090", 14, 45, 1580, (118, 120, 122, 124), (8, 4)),
        GpuModel("RTX 3080 Ti", 12, 30, 1180, (118, 120, 122), (8, 4)),
        GpuModel("RTX A4000", 12, 30, 980, (118, 120, 122), (4, 8)),
        GpuModel("Tesla V100-SXM2-32GB", 10, 40, 2280, (118, 120, 122), (8,)),
        GpuModel("L20", 20, 120, 2980, (124, 128), (8,)),
        GpuModel("A800-80GB", 14, 100, 5880, (120, 122, 124), (8,)),
        GpuModel("H20", 16, 120, 4680, (124, 128), (8,)),
    )
}

# Region -> GPU models hosted there. Not every model everywhere, as on the real platform
# (e.g. beijingDC3 is the "V100专区", beijingDC4 the "L20专区", yangzhouDC1 the "3090专区").
REGIONS: Final[dict[str, tuple[str, ...]]] = {
    "westDC2": ("RTX 4090", "RTX 3080 Ti", "RTX A4000", "RTX 3090"),
    "westDC3": ("RTX 4090", "RTX 3090"),
    "beijingDC1": ("RTX 4090", "RTX 3090", "A800-80GB"),
    "beijingDC2": ("RTX 4090", "A800-80GB", "H20"),
    "beijingDC3": ("Tesla V100-SXM2-32GB",),
    "beijingDC4": ("L20",),
    "neimengDC1": ("RTX 4090", "RTX 3090", "H20"),
    "neimengDC3": ("RTX 4090", "RTX 3090"),
    "foshanDC1": ("RTX 4090", "RTX 3080 Ti"),
    "chongqingDC1": ("RTX 4090", "RTX A4000"),
    "yangzhouDC1": ("RTX 3090",),
}

# Public base images from the doc appendix (uuid -> image name). Always valid in a template.
BASE_IMAGES: Final[dict[str, str]] = {
    "base-image-12be412037": "cuda11.1-cudnn8-devel-ubuntu18.04-py38-torch1.9.0",
    "base-image-u9r24vthlk": "cuda11.3-cudnn8-devel-ubuntu20.04-py38-torch1.10.0",
    "base-image-l374uiucui": "cuda11.3-cudnn8-devel-ubuntu20.04-py38-torch1.11.0",
    "base-image-l2t43iu6uk": "cuda11.8-cudnn8-devel-ubuntu20.04-py38-torch2.0.0",
    "base-image-0gxqmciyth": "cuda11.2-cudnn8-devel-ubuntu18.04-py38-tf2.5.0",
    "base-image-uxeklgirir": "cuda11.2-cudnn8-devel-ubuntu20.04-py38-tf2.9.0",
    "base-image-4bpg0tt88l": "cuda11.4-py38-tf1.15.5",
    "base-image-mbr2n4urrc": "cuda11.6-cudnn8-devel-ubuntu20.04-py38",
    "base-image-qkkhitpik5": "cuda10.2-cudnn7-devel-ubuntu18.04-py38",
    "base-image-h041hn36yt": "cuda11.1-cudnn8-devel-ubuntu18.04-py38",
    "base-image-7bn8iqhkb5": "cudagl11.3-cudnn8-devel-ubuntu20.04-py38",
    "base-image-k0vep6kyq8": "cuda9.0-cudnn7-devel-ubuntu16.04-py36",
    "base-image-l2843iu23k": "cuda11.8-cudnn8-devel-ubuntu20.04-py38-trt8.5.1",
}
