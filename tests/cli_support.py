"""What the CLI test modules share: a simulator on a portal thread, and running a command.

The simulator runs on its own event loop in a portal thread (virtual clock, so nothing moves
unless a test says so) while each command runs its own ``anyio.run`` in the test's thread, as
it does from a shell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from anyio.from_thread import BlockingPortal, start_blocking_portal
from click.testing import CliRunner, Result

from autodl_async import AutoDL, ContainerTemplate, cuda_version
from autodl_async.cli._app import cli
from autodl_async.simulator import Simulator, SimulatorConfig


@dataclass
class PortalSim:
    """A simulator on a portal thread, with the environment that points commands at it."""

    sim: Simulator
    portal: BlockingPortal

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "AUTODL_TOKEN": self.sim.token,
            "AUTODL_BASE_URL": self.sim.url,
            "COLUMNS": "200",
            **extra,
        }

    def create_replicaset(self, replicas: int, name: str = "web") -> str:
        """A ReplicaSet made through the SDK (its containers boot when the clock moves)."""

        async def create() -> str:
            async with AutoDL(self.sim.token, base_url=self.sim.url) as client:
                return await client.deployments.create(
                    name=name,
                    deployment_type="ReplicaSet",
                    replica_num=replicas,
                    template=ContainerTemplate(
                        image_uuid=self.sim.images()[0].image_uuid,
                        cmd="sleep infinity",
                        gpu_name_set=["RTX 4090"],
                        dc_list=["westDC2"],
                        cuda_v_from=cuda_version("11.8"),
                        cuda_v_to=cuda_version("12.8"),
                    ),
                )

        return self.portal.call(create)


@contextmanager
def portal_simulator(config: SimulatorConfig) -> Iterator[tuple[Simulator, BlockingPortal]]:
    with (
        start_blocking_portal(backend="asyncio") as portal,
        portal.wrap_async_context_manager(Simulator(config)) as sim,
    ):
        yield sim, portal


def invoke(args: list[str], env: dict[str, str], **kwargs: object) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False, **kwargs)  # type: ignore[arg-type]


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
