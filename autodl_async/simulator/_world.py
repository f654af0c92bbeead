"""The world's mutable state and the lookups every other part needs."""

from __future__ import annotations

import random
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from ._catalog import BASE_IMAGES
from ._config import SimulatorConfig
from ._fleet import Machine, build_fleet
from ._ids import IdSource
from ._state import BlacklistEntry, Container, Deployment
from ._timeline import Timeline

__all__ = ["PrivateImage", "World"]


@dataclass(frozen=True, slots=True)
class PrivateImage:
    id: int
    image_name: str
    image_uuid: str


def _seed_images(seed: int, names: tuple[str, ...]) -> tuple[PrivateImage, ...]:
    rng = random.Random(f"autodl-sim:{seed}:images")
    return tuple(
        PrivateImage(id=1001 + i, image_name=name, image_uuid=f"image-{rng.getrandbits(40):010x}")
        for i, name in enumerate(names)
    )


class World:
    """Everything a reset throws away, plus the fleet and images, which a reset keeps."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.fleet: tuple[Machine, ...] = build_fleet(
            config.seed, config.machines_per_region, config.background_load
        )
        self.images = _seed_images(config.seed, config.private_images)
        self.image_names: dict[str, str] = dict(BASE_IMAGES)
        self.image_names.update({img.image_uuid: img.image_name for img in self.images})
        # Bumped by every container status change: lets the state file skip unchanged saves.
        self.revision = 0
        self.clear()

    def clear(self) -> None:
        self.now = self.config.clock.now()
        self.ids = IdSource(self.config.seed)
        self.timeline = Timeline()
        self.deployments: dict[str, Deployment] = {}  # creation order, deleted ones kept
        self.containers: dict[str, Container] = {}
        self.used: dict[str, int] = {}
        self.blacklist: dict[str, BlacklistEntry] = {}
        self.pool: list[Container] = []  # shut-down containers available for reuse
        self._next_deployment_id = 1
        self._next_container_id = 1

    def next_deployment_id(self) -> int:
        self._next_deployment_id += 1
        return self._next_deployment_id - 1

    def next_container_id(self) -> int:
        self._next_container_id += 1
        return self._next_container_id - 1

    def peek_ids(self) -> tuple[int, int]:
        """The next deployment and container ids, for the state file."""
        return self._next_deployment_id, self._next_container_id

    def set_next_ids(self, deployment_id: int, container_id: int) -> None:
        self._next_deployment_id = deployment_id
        self._next_container_id = container_id

    def idle(self, machine: Machine) -> int:
        return machine.gpu_total - machine.background_busy - self.used.get(machine.machine_id, 0)

    def is_blacklisted(self, machine: Machine) -> bool:
        entry = self.blacklist.get(machine.machine_id)
        return entry is not None and entry.expires_at > self.now

    def active_blacklist(self) -> list[BlacklistEntry]:
        return [e for e in self.blacklist.values() if e.expires_at > self.now]

    def owner(self, container: Container) -> Deployment:
        return self.deployments[container.deployment_uuid]

    def live_deployments(self) -> Iterator[Deployment]:
        return (d for d in self.deployments.values() if not d.deleted)

    def find_deployment(self, uuid: str) -> Deployment | None:
        dep = self.deployments.get(uuid)
        return None if dep is None or dep.deleted else dep

    def find_container(self, uuid: str) -> Container | None:
        container = self.containers.get(uuid)
        if container is None or self.owner(container).deleted:
            return None
        return container

    def unique_id(self, prefix: str, length: int, taken: Collection[str]) -> str:
        """`prefix` + fresh hex not yet in `taken` (collisions are rare but would corrupt state)."""
        value = prefix + self.ids.hex(length)
        while value in taken:
            value = prefix + self.ids.hex(length)
        return value
