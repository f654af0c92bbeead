"""`python -m autodl_async.simulator`: a standalone simulator for manual poking and demos."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._announce import connect_url, exposure_warning
from ._clock import WallClock
from ._config import SimulatorConfig
from ._fault_specs import FaultSpecError, load_fault_file, parse_fault_spec
from ._faults import FaultRule
from ._persistence import StateFileError
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
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:PATH[:OPTS]]",
        help="inject a fault (repeatable); see docs/simulator.md",
    )
    parser.add_argument(
        "--faults", action="append", default=[], metavar="FILE", help="fault rules (.json/.toml)"
    )
    parser.add_argument("--state", metavar="FILE", help="keep the account in FILE")
    args = parser.parse_args(argv)
    rules: list[FaultRule] = []
    try:
        for file in args.faults:
            rules.extend(load_fault_file(file))
        rules.extend(parse_fault_spec(spec) for spec in args.fault)
    except FaultSpecError as exc:
        parser.error(str(exc))
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        token=args.token,
        seed=args.seed,
        clock=WallClock(speed=args.speed),
        enterprise_verified=not args.not_verified,
        faults=tuple(rules),
        state_file=args.state,
    )


def _announce(url: str, token: str) -> None:
    """The same paste-able lines as `autodl-async serve`: `export` and a usable address."""
    print(f"AutoDL ESD simulator listening on {url} (Ctrl-C to stop)", flush=True)
    print(f"  export AUTODL_BASE_URL={connect_url(url)}", flush=True)
    print(f"  export AUTODL_TOKEN={token}", flush=True)
    warning = exposure_warning(url)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    config = build_config(argv)
    try:
        run_standalone(config, on_ready=_announce)
    except StateFileError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
