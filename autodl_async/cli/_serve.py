"""``autodl-async serve``: the embedded simulator as a standalone server, until Ctrl-C."""

from __future__ import annotations

import click

from .._client import BASE_URL_ENV, TOKEN_ENV
from ._common import CliError

__all__ = ["serve"]


@click.command(short_help="Run the AutoDL simulator on loopback until Ctrl-C.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port; 0 picks a free one.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    help="Simulated seconds per real second.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of fleet and ids.")
def serve(host: str, port: int, speed: float, seed: int) -> None:
    """Run the AutoDL simulator on loopback and print its URL and token.

    Point the SDK or this tool at it with the two variables it prints. Blocks until Ctrl-C.
    """
    from ..simulator import SimulatorConfig, WallClock, run_standalone

    config = SimulatorConfig(host=host, port=port, seed=seed, clock=WallClock(speed=speed))

    def ready(url: str, token: str) -> None:
        # The simulator's token is a fixed, public test value: printing it is the point.
        click.echo(f"AutoDL simulator listening on {url} (time ×{speed:g}, seed {seed})")
        click.echo(f"  export {BASE_URL_ENV}={url}")
        click.echo(f"  export {TOKEN_ENV}={token}")
        click.echo("Press Ctrl-C to stop.")

    try:
        run_standalone(config, on_ready=ready)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo("simulator stopped")
