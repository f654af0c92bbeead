"""Decode a container-list answer: the SDK's own path against what users would otherwise use.

Run from the repository root::

    python -m benchmarks.bench_decode            # 1k, 10k and 100k containers, ~40 s
    python -m benchmarks.bench_decode --quick    # 1k and 10k, a few seconds

Each sample times one call that takes the response bytes and returns the list of usable rows;
freeing the rows is not timed. The decoders run round-robin, the order rotated every round,
with a full ``gc.collect()`` before each decoder's block and the cyclic GC left on, so each
decoder pays for the collections its own allocations trigger (as it would in a program). Ratios
are taken round by round between decoders of the same round, then their median is reported.
Timing runs pinned to CPU 1 where there are two; peak memory is measured in a fresh process per
decoder (``benchmarks/_memprobe.py``) as resident memory above the loaded body.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from ._cpu import CLIENT_CPU, can_pin, pinned
from ._decoders import DECODERS, REFERENCES, SCAN_FLOOR, SDK, UNTYPED, decoder
from ._payloads import container_list
from ._result import Result, Row, main_for, make_row, versions
from ._stats import median, paired_ratios, spread

__all__ = ["main", "run"]

NAME: Final = "decode"
# (containers, rounds, timed calls per decoder per round)
FULL: Final = ((1_000, 7, 15), (10_000, 5, 3), (100_000, 5, 1))
QUICK: Final = ((1_000, 3, 5), (10_000, 2, 1))
FULL_MEMORY: Final = (1_000, 10_000, 100_000)
QUICK_MEMORY: Final = (10_000,)
AIMS: Final[dict[str, tuple[str, Callable[[float], bool]]]] = {
    UNTYPED: ("≤ 0.40×", lambda r: r <= 0.40),
    "json.loads": ("≥ 4×", lambda r: r >= 4.0),
    "pydantic v2": ("≥ 10×", lambda r: r >= 10.0),
}
MEMORY_AIM: Final = ("≤ 0.60×", 0.60)
_PACKAGES: Final = ("autodl-async", "msgspec", "orjson", "pydantic", "pydantic-core")

Decoder = Callable[[bytes], list[Any]]


def _size(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _time_rounds(
    body: bytes, n: int, rounds: int, calls: int, decoders: dict[str, Decoder]
) -> dict[str, list[float]]:
    """µs per container: one median per decoder per round."""
    names = list(decoders)
    per_round: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            decode = decoders[name]
            gc.collect()
            samples = []
            for _ in range(calls):
                started = time.perf_counter()
                rows = decode(body)
                samples.append(time.perf_counter() - started)
                if len(rows) != n and name != SCAN_FLOOR:
                    raise RuntimeError(f"{name} decoded {len(rows)} rows, expected {n}")
                del rows
            per_round[name].append(median(samples) / n * 1e6)
    return per_round


def _time_rows(n: int, per_round: dict[str, list[float]]) -> list[Row]:
    """One row per decoder; the SDK's is compared with untyped msgspec, the others with the SDK."""
    rows: list[Row] = []
    sdk, untyped = per_round[SDK], per_round[UNTYPED]
    for name, values in per_round.items():
        aim: tuple[str, Callable[[float], bool]] | None = None
        if name == SDK:
            ratios, ratio_to, aim = paired_ratios(values, untyped), UNTYPED, AIMS[UNTYPED]
        elif name == UNTYPED:
            ratios, ratio_to = [], None
        elif name == SCAN_FLOOR:
            ratios, ratio_to = paired_ratios(values, untyped), UNTYPED
        else:
            ratios, ratio_to, aim = paired_ratios(values, sdk), SDK, AIMS.get(name)
        ratio = median(ratios) if ratios else None
        rows.append(
            make_row(
                f"decode {_size(n)} · {name}",
                "decode time",
                median(values),
                "µs/container",
                ratio=ratio,
                ratio_to=ratio_to,
                aim=aim[0] if aim else None,
                met=aim[1](ratio) if aim and ratio is not None else None,
                spread=spread(values),
                ratio_spread=spread(ratios) if ratios else None,
            )
        )
    return rows


def _probe(name: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._memprobe", name, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _available() -> tuple[dict[str, Decoder], list[str]]:
    """Every decoder whose library is installed; the rest named in a note, not a crash."""
    found: dict[str, Decoder] = {}
    missing: list[str] = []
    for name in [*DECODERS, *REFERENCES]:
        try:
            found[name] = decoder(name)
        except ImportError as error:
            missing.append(f"{name} ({error.name or error})")
    return found, missing


def _memory_rows(n: int, body: bytes, names: list[str]) -> tuple[list[Row], str]:
    """Peak-RSS rows, and a note of what each decoder still holds once done (rows alive)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "body.json"
        path.write_bytes(body)
        found = {name: _probe(name, path) for name in names}
    json_peak = found["json.loads"]["peak_mib"]
    rows: list[Row] = []
    for name, figures in found.items():
        ratio = figures["peak_mib"] / json_peak if json_peak else None
        is_sdk = name == SDK
        rows.append(
            make_row(
                f"memory {_size(n)} · {name}",
                "peak RSS above the body",
                figures["peak_mib"],
                "MiB",
                ratio=ratio if name != "json.loads" else None,
                ratio_to="json.loads" if name != "json.loads" else None,
                aim=MEMORY_AIM[0] if is_sdk else None,
                met=ratio is not None and ratio <= MEMORY_AIM[1] if is_sdk else None,
            )
        )
    kept = ", ".join(f"{name} {figures['kept_mib']:.1f}" for name, figures in found.items())
    return rows, f"memory {_size(n)}, MiB still resident after the decode: {kept}"


def run(quick: bool = False) -> Result:
    """Time every decoder at each size, then probe peak memory; see the module docstring."""
    plan = QUICK if quick else FULL
    memory_sizes = QUICK_MEMORY if quick else FULL_MEMORY
    decoders, missing = _available()
    rows: list[Row] = []
    bodies: dict[int, bytes] = {}
    cpu = CLIENT_CPU if can_pin() else None
    for n, rounds, calls in plan:
        bodies[n] = body = container_list(n)
        with pinned(cpu):
            rows += _time_rows(n, _time_rounds(body, n, rounds, calls, decoders))
    memory_notes = []
    for n in memory_sizes:
        names = [d for d in DECODERS if d in decoders]
        memory_rows, note = _memory_rows(n, bodies.get(n) or container_list(n), names)
        rows += memory_rows
        memory_notes.append(note)
    sizes = ", ".join(f"{_size(n)} ({len(bodies[n]) / 1e6:.1f} MB)" for n, _, _ in plan)
    repeats = "; ".join(f"{_size(n)}: {r} rounds x {c} calls" for n, r, c in plan)
    return {
        "benchmark": NAME,
        "workload": (
            f"container-list answers of {sizes}, seeded, ~800 B per container; bytes → rows"
        ),
        "repeats": min(r for _, r, _ in plan),
        "versions": versions(_PACKAGES),
        "rows": rows,
        "notes": [
            f"rounds and calls per decoder: {repeats}; GC on, gc.collect() before each block",
            f"timing pinned to CPU {cpu}" if cpu is not None else "timing not pinned",
            f"ratios: this row's time ÷ the named row's, paired round by round; '{SDK}' is "
            "exactly what client.containers.list_page does with a body",
            f"'{SCAN_FLOOR}' reads every byte but keeps one field: the cost of parsing this JSON "
            "at all with msgspec, a floor no full decoder goes under",
            *(
                [f"not installed, left out: {', '.join(missing)} (pip install -e '.[bench]')"]
                if missing
                else []
            ),
            *memory_notes,
            "memory: fresh process per decoder, peak and kept RSS above the loaded body; "
            f"sizes {', '.join(_size(n) for n in memory_sizes)}",
        ],
    }


def main() -> None:
    main_for(run, NAME, (__doc__ or "").split("\n\n")[0])


if __name__ == "__main__":
    main()
