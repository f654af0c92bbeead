"""Placement: which machines a container template (or a stock query) may use.

CUDA rule: a template's `cuda_v_from..cuda_v_to` is the range of CUDA versions the image can
use; a host whose driver supports CUDA `max_cuda` runs every version up to it, so the host
qualifies when `max_cuda >= cuda_v_from`. `cuda_v_to` only has to be >= `cuda_v_from`: a
newer driver never disqualifies a host. The deprecated single `cuda_v` means the same as
`cuda_v_from`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ._catalog import GIB
from ._fleet import Machine
from ._state import Template

__all__ = ["Bounds", "Requirements", "choose_machine", "for_template", "matches"]


@dataclass(frozen=True, slots=True)
class Bounds:
    """Inclusive range; `high=None` is unbounded."""

    low: float = 0
    high: float | None = None

    @classmethod
    def open_when_zero(cls, low: float, high: float, scale: int = 1) -> Bounds:
        """Optional filters use 0 for "not set" (the doc's examples send zeros)."""
        return cls(low * scale, high * scale if high > 0 else None)

    def __contains__(self, value: float) -> bool:
        return value >= self.low and (self.high is None or value <= self.high)


@dataclass(frozen=True, slots=True)
class Requirements:
    data_centers: frozenset[str] | None  # None: any region
    gpu_names: frozenset[str] | None  # None: any model
    min_cuda: int
    gpu_num: int
    cpu: Bounds
    memory_bytes: Bounds
    price: Bounds


def for_template(template: Template) -> Requirements:
    return Requirements(
        data_centers=frozenset(template.dc_list),
        gpu_names=frozenset(template.gpu_name_set),
        min_cuda=template.cuda_v_from,
        gpu_num=template.gpu_num,
        cpu=Bounds(template.cpu_num_from, template.cpu_num_to),
        memory_bytes=Bounds(template.memory_size_from * GIB, template.memory_size_to * GIB),
        price=Bounds(template.price_from, template.price_to),
    )


def matches(machine: Machine, req: Requirements) -> bool:
    """Static fit, ignoring how many GPUs are free right now."""
    n = req.gpu_num
    return (
        (req.data_centers is None or machine.data_center in req.data_centers)
        and (req.gpu_names is None or machine.gpu_name in req.gpu_names)
        and machine.max_cuda >= req.min_cuda
        and machine.gpu_total >= n
        and machine.cpu_per_gpu * n in req.cpu
        and machine.memory_per_gpu_bytes * n in req.memory_bytes
        and machine.price_per_gpu * n in req.price
    )


def choose_machine(
    machines: Iterable[Machine],
    req: Requirements,
    idle: Callable[[Machine], int],
    blocked: Callable[[Machine], bool],
) -> Machine | None:
    """Cheapest fitting host, then the one with most idle GPUs (spreads load), then fleet order."""
    best: tuple[int, int, int] | None = None
    chosen: Machine | None = None
    for machine in machines:
        free = idle(machine)
        if free < req.gpu_num or not matches(machine, req) or blocked(machine):
            continue
        key = (machine.price_per_gpu, -free, machine.index)
        if best is None or key < best:
            best, chosen = key, machine
    return chosen
