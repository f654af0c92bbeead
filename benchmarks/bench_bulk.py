"""Bulk stop benchmark: ``client.bulk.stop_containers`` against one-at-a-time calls.

Run from the repository root::

    python -m benchmarks.bench_bulk                      # 1,000 stops, 50 ms latency, c=64
    python -m benchmarks.bench_bulk --requests-python /path/to/python-with-requests

The simulator runs in a child process (so a synchronous baseline cannot starve it), pinned to
CPU 0 with the client on CPU 1 when there are two CPUs, with a ``latency`` fault of
``--latency`` seconds on the container-stop endpoint only. Each bulk run stops ``--items``
fresh containers of its own ReplicaSet, with ``decrease_one_replica_num=True`` (a scale-down;
otherwise the simulator spends its CPU scheduling 1,000 replacements, which is not the SDK's
cost). The ideal is ``items x latency / concurrency``: perfect overlap. The baseline is how
today's clients do it: one synchronous ``requests`` call after another on a keep-alive
session (run by ``--requests-python``; without ``requests`` there, a sequential loop of
awaited SDK calls, and the output says which). A sequential run is linear in the item count,
so it is timed on ``--sequential-items`` containers and scaled to ``--items``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import anyio

from autodl_async import AutoDL, ContainerTemplate
from autodl_async.resources.bulk import Bulk
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, WallClock

STOP = "/api/v1/dev/deployment/container/stop"
REGIONS_4090 = [
    "westDC2",
    "westDC3",
    "beijingDC1",
    "beijingDC2",
    "neimengDC1",
    "neimengDC3",
    "foshanDC1",
    "chongqingDC1",
]

_REQUESTS_BASELINE = """
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


def _pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def _serve(conn: Connection, latency: float, machines: int, cpu: int | None) -> None:
    """Child process: a simulator with the stop latency fault, serving until terminated."""
    _pin(cpu)

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
        dc_list=REGIONS_4090,
    )


def _bulk_of(client: AutoDL) -> Bulk:
    """``client.bulk``, or one built the same way if the client does not have it yet."""
    existing = getattr(client, "bulk", None)
    if isinstance(existing, Bulk):
        return existing
    return Bulk(
        client._transport,
        containers=client.containers,
        deployments=client.deployments,
        blacklist=client.blacklist,
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc), 0.0 where unavailable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


@dataclass
class BulkRun:
    seconds: float
    client_cpu: float
    server_cpu: float
    lowest_concurrency: int


async def _bulk(url: str, token: str, uuids: list[str], concurrency: int, pid: int) -> BulkRun:
    async with AutoDL(token, base_url=url, max_connections=max(100, concurrency)) as client:
        bulk = _bulk_of(client)
        server_cpu = _cpu_seconds(pid)
        client_cpu = time.process_time()
        started = time.perf_counter()
        result = await bulk.stop_containers(
            uuids, concurrency=concurrency, decrease_one_replica_num=True
        )
        seconds = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = _cpu_seconds(pid) - server_cpu
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
    return float(out["seconds"]), f"requests {out['requests']} ({python}), one Session"


def _has_requests(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import requests"], capture_output=True, check=False)
    return probe.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.050, help="seconds per stop")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="bulk runs (fresh containers)")
    parser.add_argument("--sequential-items", type=int, default=100)
    parser.add_argument("--requests-python", default=sys.executable)
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin simulator to CPU 0, client to CPU 1"
    )
    args = parser.parse_args()
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2

    sizes = [args.items] * args.repeat + [args.sequential_items]
    gpus_per_host_row = 8 * len(REGIONS_4090)  # one 8-GPU RTX 4090 host per region
    machines = -(-sum(sizes) // gpus_per_host_row) + 1

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=_serve, args=(child, args.latency, machines, 0 if pin else None), daemon=True
    )
    server.start()
    _pin(1 if pin else None)
    try:
        url, token = parent.recv()
        *bulk_groups, sequential_group = anyio.run(_fleet, url, token, sizes)
        runs = [
            anyio.run(_bulk, url, token, group, args.concurrency, server.pid or 0)
            for group in bulk_groups
        ]
        if _has_requests(args.requests_python):
            seq_seconds, baseline = _requests_sequential(
                args.requests_python, url, token, sequential_group
            )
        else:
            seq_seconds = anyio.run(_sdk_sequential, url, token, sequential_group)
            baseline = "sequential awaited SDK calls (requests is not importable)"
    finally:
        server.terminate()
        server.join(5)

    ideal = args.items * args.latency / args.concurrency
    seq_full = seq_seconds * args.items / args.sequential_items
    median = statistics.median(r.seconds for r in runs)
    best = min(r.seconds for r in runs)

    print(
        f"\n{args.items} container stops, {args.latency * 1000:.0f} ms injected latency, "
        f"concurrency {args.concurrency}; simulator in a child process"
        f"{' (pinned to CPU 0, client to CPU 1)' if pin else ''}; "
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}\n"
    )
    header = (
        f"| {'variant':<44} | {'wall s':>7} | {'ms/item':>7} | {'x ideal':>7} | {'speedup':>7} |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")

    def row(name: str, seconds: float) -> None:
        print(
            f"| {name:<44} | {seconds:7.2f} | {seconds / args.items * 1000:7.2f} | "
            f"{seconds / ideal:7.2f} | {seq_full / seconds:7.1f} |"
        )

    row(f"ideal (items x latency / {args.concurrency})", ideal)
    row(f"bulk, median of {len(runs)}", median)
    row(f"bulk, best of {len(runs)}", best)
    row(f"one at a time (timed on {args.sequential_items}, scaled)", seq_full)
    print(f"\nbaseline: {baseline}")
    print(f"bulk runs, wall s: {', '.join(f'{r.seconds:.3f}' for r in runs)}")
    print(f"bulk runs, client CPU s: {', '.join(f'{r.client_cpu:.3f}' for r in runs)}")
    print(f"bulk runs, simulator CPU s: {', '.join(f'{r.server_cpu:.3f}' for r in runs)}")
    print(f"lowest concurrency seen: {min(r.lowest_concurrency for r in runs)}")
    ratio, speedup = median / ideal, seq_full / median
    print(
        f"target: <= 1.5x ideal -> {ratio:.2f}x {'OK' if ratio <= 1.5 else 'MISSED'}; "
        f">= 30x one-at-a-time -> {speedup:.1f}x {'OK' if speedup >= 30 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
