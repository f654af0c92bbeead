"""One simulated account: the world plus the machinery that moves, changes and keeps it."""

from __future__ import annotations

import logging

from ._config import SimulatorConfig
from ._lifecycle import Lifecycle
from ._operations import Operations
from ._persistence import StateFileError, StateStore
from ._world import World

__all__ = ["Engine"]

logger = logging.getLogger("autodl_async.simulator")


class Engine:
    def __init__(self, config: SimulatorConfig) -> None:
        """With `config.state_file` set, the saved account is loaded here, or a new file is
        written at once, so a corrupt, foreign or unwritable file fails before any port is
        bound (`StateFileError`) rather than on the first request."""
        self.config = config
        self.world = World(config)
        self.lifecycle = Lifecycle(self.world)
        self.ops = Operations(self.world, self.lifecycle)
        self.store = StateStore(config.state_file) if config.state_file is not None else None
        if self.store is not None and not self.store.load(self.world, self.lifecycle):
            self.store.save(self.world)
        self._saved_mark = self._change_mark()

    def _change_mark(self) -> tuple[int, int]:
        """Moves whenever a container changes status or any event is logged (the event feed
        appends events without a status change)."""
        world = self.world
        return world.revision, sum(len(d.events) for d in world.deployments.values())

    def catch_up(self) -> None:
        """Bring the world to the clock's present; every reader and writer calls this first."""
        self.lifecycle.advance(self.config.clock.now())

    def reset(self) -> None:
        """Back to a fresh account at the clock's current time (the fleet is kept)."""
        self.world.clear()
        self.persist(force=True)

    def persist(self, *, force: bool = False) -> None:
        """Save to the state file, if there is one, when the world may have changed: always
        when `force` (a write request, a stop), else only if a container changed status or
        an event was logged. A read that changed nothing skips the save; the simulated time
        it let pass is saved by the next change or on stop.

        A failed write is logged, not raised: the request that triggered it already happened
        and its answer must still go out."""
        if self.store is None:
            return
        mark = self._change_mark()
        if not force and mark == self._saved_mark:
            return
        try:
            self.store.save(self.world)
            self._saved_mark = mark
        except StateFileError as exc:
            logger.warning("%s; the account lives on in memory only", exc)
