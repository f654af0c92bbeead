"""``autodl-async demo``: the embedded simulator by default, a real account only when asked.

Safety rules for a real account (anything given with ``--base-url``):

- ``--base-url`` is deliberately *not* read from ``AUTODL_BASE_URL``: a shell set up for the
  real API must not turn ``make demo`` into spending money;
- every step that starts paid containers (create, scale up) asks first; ``--yes`` skips that;
- with no terminal to ask on and no ``--yes``, the demo refuses to start.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Final

import click

from .. import AutoDL
from .._client import TOKEN_ENV
from .._secret import Secret
from ._common import ClientSettings, CliError, CliUsageError, run
from ._demo import Confirm, DemoCancelled, DemoError, DemoPlan, DemoResult, run_demo
from ._demo_view import RichDemoView
from ._pipes import PipeSafeConsole

__all__ = ["demo"]

DEFAULT_SPEED: Final = 5.0


def stdin_is_interactive() -> bool:
    """Whether a person can answer a prompt (a function so tests can say yes)."""
    return sys.stdin.isatty()


def _always(question: str) -> bool:
    return True


def _ask(question: str) -> bool:
    # Blocking on purpose: event polling pauses while the question is on screen.
    return click.confirm(question, default=False)


async def _on_simulator(
    plan: DemoPlan, view: RichDemoView, *, speed: float, seed: int
) -> DemoResult:
    from ..simulator import Simulator, SimulatorConfig, WallClock

    config = SimulatorConfig(token="sim-token", seed=seed, clock=WallClock(speed=speed))
    async with Simulator(config) as sim:
        view.banner(f"autodl-async demo: embedded simulator at {sim.url}")
        view.note(f"time runs ×{speed:g}, seed {seed}; no real account is touched")
        async with AutoDL(sim.token, base_url=sim.url) as client:
            return await run_demo(client, plan, view, _always)


@click.command(short_help="Watch a whole deployment lifecycle (built-in simulator).")
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="Run against this API (e.g. https://api.autodl.com) instead of the embedded "
    "simulator. Not read from AUTODL_BASE_URL, on purpose.",
)
@click.option(
    "--token",
    envvar=TOKEN_ENV,
    show_envvar=True,
    default=None,
    metavar="TOKEN",
    help="Token for --base-url (the embedded simulator uses its own). Never printed.",
)
@click.option(
    "-y",
    "--yes",
    is_flag=True,
    help="With --base-url: do not ask before steps that cost money (required without a terminal).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_SPEED,
    show_default=True,
    help="Simulated seconds per real second (embedded simulator).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Simulator seed (embedded simulator)."
)
@click.option("--region", default="westDC2", show_default=True, help="Region (data center).")
@click.option("--gpu", default=None, help="GPU model; default: the one with most idle GPUs.")
@click.option(
    "--image-uuid",
    default=None,
    help="Image; default: the first private image, else a public PyTorch base image.",
)
@click.option(
    "--max-price",
    type=click.FloatRange(min=0, min_open=True),
    default=3.0,
    show_default=True,
    help="Highest price per container, yuan per hour (price_to).",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    default=None,
    metavar="SECONDS",
    help="How often to poll for events and states; default 2 s with --base-url, half a "
    "simulated second otherwise.",
)
@click.option("--show-secrets", is_flag=True, help="Show root passwords instead of a mask.")
def demo(
    base_url: str | None,
    token: str | None,
    yes: bool,
    speed: float,
    seed: int,
    region: str,
    gpu: str | None,
    image_uuid: str | None,
    max_price: float,
    poll_interval: float | None,
    show_secrets: bool,
) -> None:
    """Watch a whole deployment lifecycle: images and stock, a ReplicaSet scaled up and down,
    containers stopped concurrently, a host blacklisted, a Job run to completion, clean-up.

    Runs against an in-process simulator unless --base-url is given.
    """
    console = PipeSafeConsole(highlight=False)
    view = RichDemoView(console, show_secrets=show_secrets)
    plan = DemoPlan(
        name=DemoPlan.unique_name(),
        region=region,
        gpu=gpu,
        image_uuid=image_uuid,
        max_price_yuan=max_price,
    )
    try:
        if base_url is None:
            plan = plan.for_simulator(speed, poll_interval=poll_interval)
            sim_plan = plan
            result = run(lambda: _on_simulator(sim_plan, view, speed=speed, seed=seed))
        else:
            if poll_interval is not None:
                plan = dataclasses.replace(
                    plan, event_interval=poll_interval, wait_interval=poll_interval
                )
            result = _on_account(base_url, token, yes, plan, view)
    except DemoCancelled:
        raise CliError("demo cancelled; nothing it created is left running") from None
    except DemoError as exc:
        raise CliError(str(exc)) from None
    console.print()
    console.print(f"[bold green]Demo finished[/] in {result.seconds:.1f} s; nothing left running.")
    console.print(
        f"  {result.deployments} deployments, {result.containers} containers, "
        f"{result.events} events, {result.requests} requests ({result.retries} retried)",
        highlight=False,
    )


def _on_account(
    base_url: str, token: str | None, yes: bool, plan: DemoPlan, view: RichDemoView
) -> DemoResult:
    if not token or not token.strip():
        raise CliUsageError(f"--base-url needs a token: pass --token or set {TOKEN_ENV}")
    if not yes and not stdin_is_interactive():
        raise CliUsageError(
            f"refusing to run the demo against {base_url} without a terminal to confirm "
            "costs on; pass --yes to accept them"
        )
    confirm: Confirm = _always if yes else _ask
    settings = ClientSettings(Secret(token.strip()), base_url)
    view.banner(
        f"autodl-async demo against {base_url}: this creates real deployments billed to the "
        "account, and deletes them at the end."
    )
    return settings.run(lambda client: run_demo(client, plan, view, confirm))
