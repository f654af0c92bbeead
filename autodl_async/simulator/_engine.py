"""One simulated account: the world plus the machinery that moves and changes it."""

from __future__ import annotations

from ._config import SimulatorConfig
from ._lifecycle import Lifecycle
from ._operations import Operations
from ._world import World

__all__ = ["Engine"]


class Engine:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.world = World(config)
        self.lifecycle = Lifecycle(self.world)
        self.ops = Operations(self.world, self.lifecycle)

    def catch_up(self) -> None:
        """Bring the world to the clock's present; every reader and writer calls this first."""
        self.lifecycle.advance(self.config.clock.now())

    def reset(self) -> None:
        """Back to a fresh account at the clock's current time (the fleet is kept)."""
        self.world.clear()
