"""`python -m autodl_async.simulator`: a standalone simulator for manual poking and demos."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._clock import WallClock
from ._config import SimulatorConfig
from ._server import run_standalone

__all__ = ["main"]


def build_config(argv: Sequence[str] | None = None) -> SimulatorConfig:
    parser = argparse.ArgumentParser(
        prog="python -m autodl_async.simulator",
        description="Serve a simulated AutoDL Elastic Deployment API on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="sim-token")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", type=float, default=20.0, help="simulated seconds per second")
    parser.add_argument(
        "--not-verified",
        action="store_true",
        help="behave like an account without enterprise verification",
    )
    args = parser.parse_args(argv)
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        token=args.token,
        seed=args.seed,
        clock=WallClock(speed=args.speed),
        enterprise_verified=not args.not_verified,
    )


def _announce(url: str, token: str) -> None:
    print(f"AutoDL ESD simulator listening on {url} (Ctrl-C to stop)", flush=True)
    print(f"  AUTODL_BASE_URL={url}", flush=True)
    print(f"  AUTODL_TOKEN={token}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    run_standalone(build_config(argv), on_ready=_announce)


if __name__ == "__main__":
    main()
