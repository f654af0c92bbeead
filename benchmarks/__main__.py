"""``python -m benchmarks`` (what ``make bench`` runs): every benchmark, one table, one chart.

Imports each ``benchmarks/bench_*.py`` and calls its ``run(quick=...)``, each in a fresh child
process; a module that is missing, fails to import, fails, hangs or dies while running is
reported on one line and skipped, so one broken benchmark does not hide the others. Then it prints one table of every row (median,
same-run ratio, aim and verdict), writes ``benchmarks/results/<name>.json`` per benchmark and
``benchmarks/results/summary.json``, and, on a full run of every benchmark (or with
``--docs``), the chart ``docs/benchmarks.png`` and the page ``docs/benchmarks.md``. A quick or
partial run leaves the committed docs alone, since they would then show smoke-run figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from ._isolate import run_isolated, short_error
from ._result import RESULTS_DIR, Result, format_table, write_result

__all__ = ["discover", "main", "run_all"]

HERE: Final = Path(__file__).resolve().parent
DOCS: Final = HERE.parent / "docs"
CHART: Final = DOCS / "benchmarks.png"
PAGE: Final = DOCS / "benchmarks.md"
# Written by other engineers; named here so one that is not there yet is reported, not ignored.
EXPECTED: Final = (
    "bench_bulk",
    "bench_decode",
    "bench_load",
    "bench_overhead",
    "bench_simulator",
    "bench_streams",
)


def discover(folder: Path = HERE) -> list[str]:
    """Module names of every ``bench_*.py`` there, sorted."""
    return sorted(p.stem for p in folder.glob("bench_*.py"))


def run_all(
    names: Sequence[str],
    *,
    quick: bool,
    runner: Callable[[str, bool], Result] = run_isolated,
    log: Callable[[str], None] = print,
) -> tuple[list[Result], list[tuple[str, str]], dict[str, float]]:
    """Run each named module; (results, skipped with reasons, seconds per benchmark)."""
    results: list[Result] = []
    skipped: list[tuple[str, str]] = []
    seconds: dict[str, float] = {}
    for name in names:
        log(f"-- {name}{' (quick)' if quick else ''} ...")
        started = time.perf_counter()
        try:
            result = runner(name, quick)
        except Exception as error:  # a broken benchmark must not stop the others
            skipped.append((name, short_error(error)))
            log(f"-- SKIPPED {name}: {short_error(error)}")
            continue
        took = time.perf_counter() - started
        seconds[result["benchmark"]] = took
        results.append(result)
        log(f"-- {name} done in {took:.0f} s")
    return results, skipped, seconds


def _load() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _verdicts(results: Sequence[Result]) -> tuple[int, list[str]]:
    met, missed = 0, []
    for result in results:
        for row in result["rows"]:
            if row["aim"] is None:
                continue
            if row["met"]:
                met += 1
            else:
                missed.append(f"{result['benchmark']}: {row['label']} ({row['aim']})")
    return met, missed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke runs")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="run only this (repeatable)"
    )
    parser.add_argument("--docs", action="store_true", help="write docs even if quick/partial")
    parser.add_argument(
        "--redraw",
        action="store_true",
        help="rewrite the docs from the last summary.json, run nothing",
    )
    args = parser.parse_args(argv)
    if args.redraw:
        return _redraw()

    available = discover()
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in args.only] or available
    unknown = [n for n in wanted if n not in available]
    machine: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "load_before": _load(),
    }
    results, skipped, seconds = run_all([n for n in wanted if n in available], quick=args.quick)
    skipped += [(n, "no such module in benchmarks/") for n in unknown]
    if not args.only:
        skipped += [
            (n, f"benchmarks/{n}.py is not there (yet)") for n in EXPECTED if n not in available
        ]
    machine["load_after"] = _load()

    rows = [row for r in results for row in r["rows"]]
    names = [r["benchmark"] for r in results for _ in r["rows"]]
    print()
    print(format_table(rows, benchmarks=names))
    for name, reason in skipped:
        print(f"SKIPPED {name}: {reason}")
    met, missed = _verdicts(results)
    print(f"\naims: {met} met, {len(missed)} missed")
    for line in missed:
        print(f"  missed: {line}")
    print(
        f"load average {machine['load_before']} before, {machine['load_after']} after; "
        f"{sum(seconds.values()):.0f} s"
    )

    for result in results:
        write_result(result, result["benchmark"])
    summary = {
        "machine": machine,
        "quick": args.quick,
        "seconds": seconds,
        "skipped": [{"module": n, "reason": r} for n, r in skipped],
        "benchmarks": results,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    summary_path = RESULTS_DIR / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {summary_path}")

    full = not args.quick and not args.only
    if (full or args.docs) and results:
        _write_docs(results, machine, skipped, seconds, quick=args.quick)
    elif results:
        print("docs/benchmarks.{md,png} left as they are (quick or partial run; --docs to write)")
    return 0 if results else 1


def _redraw() -> int:
    """The docs again from ``results/summary.json`` (after a change to the chart or page)."""
    path = RESULTS_DIR / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"cannot redraw: {path}: {short_error(error)}")
        return 1
    skipped = [(s["module"], s["reason"]) for s in summary["skipped"]]
    _write_docs(
        summary["benchmarks"],
        summary["machine"],
        skipped,
        summary["seconds"],
        quick=summary["quick"],
    )
    return 0


def _write_docs(
    results: list[Result],
    machine: dict[str, Any],
    skipped: list[tuple[str, str]],
    seconds: dict[str, float],
    *,
    quick: bool,
) -> None:
    from ._report import markdown

    chart: str | None = None
    try:
        from ._chart import write_chart

        title = f"autodl-async benchmarks, {machine['date']} UTC, {machine['cpus']} CPUs"
        write_chart(results, CHART, title=title + (" (quick)" if quick else ""))
        chart = CHART.name
        print(f"wrote {CHART}")
    except ImportError as error:
        print(f"no chart: {short_error(error)} (pip install -e '.[bench]')")
    command = "python -m benchmarks" + (" --quick" if quick else "")
    page = markdown(
        results, command=command, machine=machine, skipped=skipped, seconds=seconds, chart=chart
    )
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    sys.exit(main())
