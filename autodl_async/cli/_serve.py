"""``autodl-async serve``: the embedded simulator as a standalone server, until Ctrl-C.

Faults come from ``--fault KIND[:PATH[:key=value,...]]`` (repeatable) and ``--faults FILE``
(.json or .toml), checked before anything listens; ``--state FILE`` keeps the simulated
account across restarts. A bad spec or state file is one ``autodl-async: error:`` line.
The printed ``export`` lines always name an address a client here can use (loopback for a
wildcard ``--host``), and listening beyond loopback is warned about on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .._client import BASE_URL_ENV, TOKEN_ENV
from ._common import PROG, CliError, CliUsageError
from ._pipes import is_closed_pipe

if TYPE_CHECKING:
    from ..simulator import FaultRule

__all__ = ["serve"]


def _fault_rules(specs: tuple[str, ...], files: tuple[Path, ...]) -> tuple[FaultRule, ...]:
    """File rules first, then flags, each in the order given (the first matching rule wins)."""
    from ..simulator import FaultSpecError, load_fault_file, parse_fault_spec

    rules: list[FaultRule] = []
    try:
        for file in files:
            rules.extend(load_fault_file(file))
        rules.extend(parse_fault_spec(spec) for spec in specs)
    except FaultSpecError as exc:
        raise CliUsageError(str(exc)) from None
    return tuple(rules)


def _summary(speed: float, seed: int, faults: int, state: Path | None) -> str:
    parts = [f"time ×{speed:g}", f"seed {seed}"]
    if faults:
        parts.append(f"{faults} fault rule{'s' if faults > 1 else ''}")
    if state is not None:
        parts.append(f"state in {state}")
    return ", ".join(parts)


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
@click.option(
    "--token",
    default="sim-token",
    show_default=True,
    help="The token the simulator accepts (a test value, printed on start).",
)
@click.option(
    "--not-verified",
    is_flag=True,
    help="Behave like an account without enterprise verification (BadRequest 无当前资源访问权限).",
)
@click.option(
    "--fault",
    "fault_specs",
    multiple=True,
    metavar="KIND[:PATH[:OPTS]]",
    help=(
        "Inject a fault, e.g. 'rate_limit:*/deployment/list:retry_after=2,times=3'. KIND: "
        "latency, status, rate_limit, reset, truncate, html, slow_body. Repeatable."
    ),
)
@click.option(
    "--faults",
    "fault_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Fault rules from a .json or .toml file (see docs/simulator.md). Repeatable.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Keep the simulated account in FILE across restarts (created if missing).",
)
def serve(
    host: str,
    port: int,
    speed: float,
    seed: int,
    token: str,
    not_verified: bool,
    fault_specs: tuple[str, ...],
    fault_files: tuple[Path, ...],
    state: Path | None,
) -> None:
    """Run the AutoDL simulator on loopback and print its URL and token.

    Point the SDK or this tool at it with the two variables it prints. Blocks until Ctrl-C.
    """
    from ..simulator import SimulatorConfig, StateFileError, WallClock, run_standalone
    from ..simulator._announce import connect_url, exposure_warning

    if not token.strip():
        raise CliUsageError("--token must not be empty")
    faults = _fault_rules(fault_specs, fault_files)
    config = SimulatorConfig(
        host=host,
        port=port,
        seed=seed,
        token=token,
        clock=WallClock(speed=speed),
        enterprise_verified=not not_verified,
        faults=faults,
        state_file=state,
    )

    def ready(url: str, token: str) -> None:
        # The simulator's token is a test value chosen for it: printing it is the point.
        click.echo(
            f"AutoDL simulator listening on {url} ({_summary(speed, seed, len(faults), state)})"
        )
        click.echo(f"  export {BASE_URL_ENV}={connect_url(url)}")
        click.echo(f"  export {TOKEN_ENV}={token}")
        click.echo("Press Ctrl-C to stop.")
        warning = exposure_warning(url)
        if warning is not None:
            click.echo(f"{PROG}: {warning}", err=True)

    try:
        run_standalone(config, on_ready=ready)
    except StateFileError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        if is_closed_pipe(exc):  # the banner's reader went away: not a listening problem
            raise
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo("simulator stopped")
