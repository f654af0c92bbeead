"""The seeded machine fleet: which hosts exist, where, and with what hardware."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ._catalog import GIB, GPU_MODELS, REGIONS

__all__ = ["Machine", "build_fleet"]


@dataclass(frozen=True, slots=True)
class Machine:
    """A GPU host. Static: occupancy lives in the world, so one fleet serves every reset."""

    machine_id: str
    data_center: str
    gpu_name: str
    gpu_total: int
    cpu_per_gpu: int
    memory_per_gpu_bytes: int
    max_cuda: int
    price_per_gpu: int
    chip_corp: str
    cpu_arch: str
    background_busy: int  # GPUs rented by other (simulated) tenants; never freed
    index: int  # position in the fleet, the final tie-break of placement


def build_fleet(seed: int, machines_per_model: int, background_load: float) -> tuple[Machine, ...]:
    """Build `machines_per_model` hosts for every (region, GPU model) pair the catalog lists."""
    rng = random.Random(f"autodl-sim:{seed}:fleet")
    seen: set[str] = set()
    machines: list[Machine] = []
    for region, model_names in REGIONS.items():
        for name in model_names:
            model = GPU_MODELS[name]
            for _ in range(machines_per_model):
                machine_id = f"{rng.getrandbits(40):010x}"
                while machine_id in seen:
                    machine_id = f"{rng.getrandbits(40):010x}"
                seen.add(machine_id)
                total = rng.choice(model.gpu_totals)
                cuda = rng.choice(model.cuda_choices)
                busy = sum(rng.random() < background_load for _ in range(total))
                machines.append(
                    Machine(
                        machine_id=machine_id,
                        data_center=region,
                        gpu_name=name,
                        gpu_total=total,
                        cpu_per_gpu=model.cpu_per_gpu,
                        memory_per_gpu_bytes=model.memory_gb_per_gpu * GIB,
                        max_cuda=cuda,
                        price_per_gpu=model.price_per_gpu,
                        chip_corp="nvidia",
                        cpu_arch="x86",
                        background_busy=busy,
                        index=len(machines),
                    )
                )
    return tuple(machines)
