"""Bulk stop: ``client.bulk.stop_containers`` against the ideal and against one at a time.

Run from the repository root::

    python -m benchmarks.bench_bulk            # 1,000 stops, 50 ms latency, c=64; 3 rounds
    python -m benchmarks.bench_bulk --quick    # 200 stops, 1 round: a smoke run
    python -m benchmarks.bench_bulk --requests-python /path/to/python-with-requests

The simulator runs in a child process (so a synchronous baseline cannot starve it), pinned to
CPU 0 with the client on CPU 1 when there are two CPUs, with a ``latency`` fault of 50 ms on
the container-stop endpoint only. Each bulk run stops ``items`` fresh containers of its own
ReplicaSet with ``decrease_one_replica_num=True`` (a scale-down; otherwise the simulator spends
its CPU scheduling 1,000 replacements, which is not the SDK's cost). The ideal is
``items x latency / concurrency``: perfect overlap and no CPU. The baseline is how today's
clients do it: one synchronous ``requests`` call after another on a keep-alive session (run by
``--requests-python``; without ``requests`` there, a loop of awaited SDK calls, and the notes
say which). A sequential run is linear in the item count, so it is timed on fewer containers
and scaled. Each round runs the bulk stop and the sequential baseline side by side, in
alternating order, and the ratios are taken round by round.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pathlib
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Final

import anyio

from autodl_async import AutoDL, ContainerTemplate
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, WallClock

from ._cpu import CLIENT_CPU, SERVER_CPU, can_pin, pin, pinned, process_cpu_seconds
from ._fleet import REGIONS_4090
from ._result import Result, Row, make_row, print_result, versions, write_result
from ._stats import median, paired_ratios, spread

__all__ = ["Config", "main", "measure", "run"]

NAME: Final = "bulk"
STOP: Final = "/api/v1/dev/deployment/container/stop"
IDEAL_AIM: Final = ("≤ 1.5× ideal", 1.5)
SPEEDUP_AIM: Final = ("≥ 30× faster", 30.0)
_PACKAGES: Final = ("autodl-async", "aiohttp", "anyio", "msgspec", "requests")
_REQUESTS_BASELINE: Final = """
import json, sys, time
import requests
url, token, uuids = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
session = requests.Session()
headers = {"Authorization": token}
started = time.perf_counter()
for uuid in uuids:
    body = {"deployment_container_uuid": uuid, "decrease_one_replica_num": True}
    r = session.put(url, json=body, headers=headers, timeout=30)
    r.raise_for_status()
    assert r.json()["code"] == "Success", r.text
print(json.dumps({"seconds": time.perf_counter() - started, "requests": requests.__version__}))
"""


@dataclass(frozen=True, slots=True)
class Config:
    items: int = 1000
    latency: float = 0.050
    concurrency: int = 64
    rounds: int = 3
    sequential_items: int = 100
    requests_python: str = sys.executable
    pin: bool = True

    @property
    def ideal(self) -> float:
        return self.items * self.latency / self.concurrency


FULL: Final = Config()
QUICK: Final = Config(items=200, rounds=1, sequential_items=20)


# -- the server ----------------------------------------------------------------------------


def _serve(conn: Connection, latency: float, machines: int, cpu: int | None) -> None:
    """Child process: a simulator with the stop latency fault, serving until terminated."""
    pin(cpu)

    async def serve() -> None:
        config = SimulatorConfig(
            token="bench-token",
            seed=7,
            clock=WallClock(speed=1000.0),
            machines_per_region=machines,
            max_replicas=100_000,
        )
        async with Simulator(config) as sim:
            sim.faults.add(FaultRule(kind="latency", path=STOP, latency=latency))
            conn.send((sim.url, sim.token))
            await sim.serve_forever()

    anyio.run(serve)


def _template() -> ContainerTemplate:
    return ContainerTemplate(
        image_uuid="base-image-l2t43iu6uk",
        cmd="sleep infinity",
        gpu_name_set=["RTX 4090"],
        gpu_num=1,
        cuda_v_from=113,
        cuda_v_to=128,
        dc_list=list(REGIONS_4090),
    )


async def _fleet(url: str, token: str, sizes: list[int]) -> list[list[str]]:
    """One ReplicaSet per size, each waited on until every replica runs."""
    groups: list[list[str]] = []
    async with AutoDL(token, base_url=url) as client:
        for n, size in enumerate(sizes):
            dep = await client.deployments.create(
                name=f"bench-{n}",
                deployment_type="ReplicaSet",
                template=_template(),
                replica_num=size,
            )
            running: list[str] = []
            for _ in range(200):
                pager = client.containers.list(dep, page_size=1000, status="running")
                running = [c.uuid for c in await pager.to_list()]
                if len(running) == size:
                    break
                await anyio.sleep(0.05)
            else:
                raise RuntimeError(f"only {len(running)} of {size} containers came up")
            groups.append(running)
    return groups


# -- the variants --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkRun:
    seconds: float
    client_cpu: float
    server_cpu: float
    lowest_concurrency: int


async def _bulk(url: str, token: str, uuids: list[str], concurrency: int, pid: int) -> BulkRun:
    async with AutoDL(token, base_url=url, max_connections=max(100, concurrency)) as client:
        server_cpu = process_cpu_seconds(pid)
        client_cpu = time.process_time()
        started = time.perf_counter()
        result = await client.bulk.stop_containers(
            uuids, concurrency=concurrency, decrease_one_replica_num=True
        )
        seconds = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = process_cpu_seconds(pid) - server_cpu
    if not result.ok:
        raise RuntimeError(f"bulk run failed: {result.summary()}")
    return BulkRun(seconds, client_cpu, server_cpu, result.lowest_concurrency)


async def _sdk_sequential(url: str, token: str, uuids: list[str]) -> float:
    async with AutoDL(token, base_url=url) as client:
        started = time.perf_counter()
        for uuid in uuids:
            await client.containers.stop(uuid, decrease_one_replica_num=True)
        return time.perf_counter() - started


def _requests_sequential(python: str, url: str, token: str, uuids: list[str]) -> tuple[float, str]:
    done = subprocess.run(
        [python, "-c", _REQUESTS_BASELINE, url + STOP, token],
        input=json.dumps(uuids),
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    where = "this Python" if python == sys.executable else pathlib.Path(python).name
    return float(out["seconds"]), f"requests {out['requests']} on one Session ({where})"


def _has_requests(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import requests"], capture_output=True, check=False)
    return probe.returncode == 0


# -- the measurement -----------------------------------------------------------------------


def measure(config: Config) -> Result:
    """Start the server, build the fleets, run the rounds, and return the rows."""
    pinning = config.pin and can_pin()
    sizes = [config.items] * config.rounds + [config.sequential_items] * config.rounds
    gpus_per_host_row = 8 * len(REGIONS_4090)  # one 8-GPU RTX 4090 host per region
    machines = -(-sum(sizes) // gpus_per_host_row) + 1
    use_requests = _has_requests(config.requests_python)

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=_serve,
        args=(child, config.latency, machines, SERVER_CPU if pinning else None),
        daemon=True,
    )
    server.start()
    bulk_runs: list[BulkRun] = []
    sequential: list[float] = []  # scaled to config.items
    baseline = "awaited SDK calls one at a time (requests is not importable)"
    try:
        with pinned(CLIENT_CPU if pinning else None):
            url, token = parent.recv()
            groups = anyio.run(_fleet, url, token, sizes)
            bulk_groups, seq_groups = groups[: config.rounds], groups[config.rounds :]
            for index in range(config.rounds):
                order = ("bulk", "seq") if index % 2 == 0 else ("seq", "bulk")
                for variant in order:
                    if variant == "bulk":
                        bulk_runs.append(
                            anyio.run(
                                _bulk,
                                url,
                                token,
                                bulk_groups[index],
                                config.concurrency,
                                server.pid or 0,
                            )
                        )
                        continue
                    if use_requests:
                        seconds, baseline = _requests_sequential(
                            config.requests_python, url, token, seq_groups[index]
                        )
                    else:
                        seconds = anyio.run(_sdk_sequential, url, token, seq_groups[index])
                    sequential.append(seconds * config.items / config.sequential_items)
    finally:
        server.terminate()
        server.join(5)
    return _result(config, bulk_runs, sequential, baseline, pinning)


def _result(
    config: Config, runs: list[BulkRun], sequential: list[float], baseline: str, pinning: bool
) -> Result:
    ideal = config.ideal
    wall = [r.seconds for r in runs]
    over_ideal = [w / ideal for w in wall]
    speedups = paired_ratios(sequential, wall)
    ratio, speedup = median(over_ideal), median(speedups)
    per_1000 = 1000 / config.items
    client_cpu = [r.client_cpu * per_1000 for r in runs]
    server_cpu = [r.server_cpu * per_1000 for r in runs]
    rows: list[Row] = [
        make_row(
            f"ideal: {config.items} × {config.latency * 1000:g} ms ÷ {config.concurrency}",
            "wall time",
            ideal,
            "s",
        ),
        make_row(
            f"client.bulk.stop_containers, concurrency {config.concurrency}",
            "wall time",
            median(wall),
            "s",
            ratio=ratio,
            ratio_to="ideal",
            aim=IDEAL_AIM[0],
            met=ratio <= IDEAL_AIM[1],
            spread=spread(wall),
            ratio_spread=spread(over_ideal),
        ),
        make_row(
            f"one at a time (timed on {config.sequential_items}, scaled to {config.items})",
            "wall time",
            median(sequential),
            "s",
            ratio=speedup,
            ratio_to="client.bulk",
            aim=SPEEDUP_AIM[0],
            met=speedup >= SPEEDUP_AIM[1],
            spread=spread(sequential),
            ratio_spread=spread(speedups),
        ),
        make_row(
            "client.bulk, client process",
            "CPU per 1,000 stops",
            median(client_cpu),
            "s",
            spread=spread(client_cpu),
        ),
        make_row(
            "client.bulk, simulator process",
            "CPU per 1,000 stops",
            median(server_cpu),
            "s",
            spread=spread(server_cpu),
        ),
    ]
    return {
        "benchmark": NAME,
        "workload": (
            f"{config.items} container stops with {config.latency * 1000:g} ms injected "
            f"latency on the embedded simulator (child process), concurrency "
            f"{config.concurrency}, against one-at-a-time synchronous calls"
        ),
        "repeats": config.rounds,
        "versions": versions(_PACKAGES),
        "rows": rows,
        "notes": [
            f"baseline: {baseline}",
            (
                f"simulator pinned to CPU {SERVER_CPU}, client (and baseline) to CPU {CLIENT_CPU}"
                if pinning
                else "not pinned"
            ),
            "each round: one bulk run and one sequential run, side by side, order alternating; "
            "ratios are taken round by round, fresh containers every run",
            f"bulk wall s per round: {', '.join(f'{w:.3f}' for w in wall)}",
            f"lowest adaptive concurrency seen: {min(r.lowest_concurrency for r in runs)}",
            f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}",
        ],
    }


def run(quick: bool = False) -> Result:
    """The benchmarks convention: the standard workload, or a short smoke run."""
    return measure(QUICK if quick else FULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--latency", type=float, default=None, help="seconds per stop")
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None, help="side-by-side rounds")
    parser.add_argument("--sequential-items", type=int, default=None)
    parser.add_argument("--requests-python", default=sys.executable)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to CPUs 0 and 1")
    args = parser.parse_args()
    base = QUICK if args.quick else FULL
    config = Config(
        items=args.items or base.items,
        latency=args.latency or base.latency,
        concurrency=args.concurrency or base.concurrency,
        rounds=args.rounds or base.rounds,
        sequential_items=args.sequential_items or base.sequential_items,
        requests_python=args.requests_python,
        pin=not args.no_pin,
    )
    result = measure(config)
    print_result(result)
    path = write_result(result, NAME)
    print(f"\nwrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
