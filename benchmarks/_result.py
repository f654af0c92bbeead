"""The result every benchmark returns, and the small things each ``main()`` does with it.

All benchmarks share one shape (see ``benchmarks/README.md``) so the runner can put them in one
table and one chart without knowing what each measured. A row carries its own aim and whether it
was met, judged on a ratio measured in the same run, because absolute times on these shared
2-core machines drift by a quarter from run to run while same-run ratios hold.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Final, NotRequired, TypedDict

__all__ = [
    "RESULTS_DIR",
    "Result",
    "Row",
    "format_judged",
    "format_ratio",
    "format_table",
    "format_value",
    "format_verdict",
    "judged_on_ratio",
    "main_for",
    "make_row",
    "print_result",
    "versions",
    "write_result",
]

RESULTS_DIR: Final = Path(__file__).resolve().parent / "results"


class Row(TypedDict):
    """One measured figure; ``value`` is a median, ``spread`` its (min, max) over rounds."""

    label: str
    metric: str
    value: float
    unit: str
    ratio: float | None
    ratio_to: str | None
    aim: str | None
    met: bool | None
    spread: NotRequired[list[float]]
    ratio_spread: NotRequired[list[float]]


class Result(TypedDict):
    """What ``run()`` returns: the convention shared by every ``bench_*`` module."""

    benchmark: str
    workload: str
    repeats: int
    versions: dict[str, str]
    rows: list[Row]
    notes: list[str]


def make_row(
    label: str,
    metric: str,
    value: float,
    unit: str,
    *,
    ratio: float | None = None,
    ratio_to: str | None = None,
    aim: str | None = None,
    met: bool | None = None,
    spread: tuple[float, float] | None = None,
    ratio_spread: tuple[float, float] | None = None,
) -> Row:
    """A row; ``met`` stays ``None`` when the row has no aim."""
    row: Row = {
        "label": label,
        "metric": metric,
        "value": value,
        "unit": unit,
        "ratio": ratio,
        "ratio_to": ratio_to,
        "aim": aim,
        "met": met if aim is not None else None,
    }
    if spread is not None:
        row["spread"] = [spread[0], spread[1]]
    if ratio_spread is not None:
        row["ratio_spread"] = [ratio_spread[0], ratio_spread[1]]
    return row


def versions(packages: Iterable[str]) -> dict[str, str]:
    """Python and the installed version of each package that is there (others are left out)."""
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def format_value(row: Row) -> str:
    """``value unit (min–max)``."""
    text = f"{_number(row['value'])} {row['unit']}"
    spread = row.get("spread")
    if spread:
        text += f" ({_number(spread[0])}–{_number(spread[1])})"
    return text


def format_ratio(row: Row) -> str:
    """``0.31× json.loads (0.29–0.35)``, or empty when the row has no ratio."""
    if row["ratio"] is None:
        return ""
    text = f"{row['ratio']:.2f}× {row['ratio_to'] or ''}".rstrip()
    spread = row.get("ratio_spread")
    if spread:
        text += f" ({spread[0]:.2f}–{spread[1]:.2f})"
    return text


def format_verdict(row: Row) -> str:
    """``met`` / ``MISSED`` / empty, next to the aim."""
    if row["aim"] is None:
        return ""
    return f"{row['aim']}: {'met' if row['met'] else 'MISSED'}"


def judged_on_ratio(row: Row) -> bool:
    """Whether the row's aim speaks of its ratio ("≥ 0.85×") rather than its value ("< 5 %")."""
    return "×" in (row.get("aim") or "") and row.get("ratio") is not None


def format_judged(row: Row) -> str:
    """The figure the row's aim is judged on: its ratio or its value."""
    return format_ratio(row) if judged_on_ratio(row) else format_value(row)


def format_table(
    rows: Sequence[Row], *, markdown: bool = False, benchmarks: Sequence[str] | None = None
) -> str:
    """A fixed-width (or markdown) table of label, metric, value, ratio and verdict; with
    ``benchmarks`` (one name per row) a first column says which benchmark each row is from."""
    header: tuple[str, ...] = ("row", "metric", "median (min–max)", "same-run ratio", "aim")
    lines: list[tuple[str, ...]] = [
        (r["label"], r["metric"], format_value(r), format_ratio(r), format_verdict(r)) for r in rows
    ]
    if benchmarks is not None:
        header = ("benchmark", *header)
        lines = [(name, *line) for name, line in zip(benchmarks, lines, strict=True)]
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell.replace("|", "/") for cell in line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line).rstrip() for line in lines]
    return "\n".join(out)


def write_result(result: Result, name: str) -> Path:
    """``benchmarks/results/<name>.json`` (git-ignored)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def print_result(result: Result) -> None:
    """The benchmark's own table, with its workload, repeats, versions and notes."""
    print(f"\n== {result['benchmark']}: {result['workload']}")
    print(f"   repeats: {result['repeats']}; versions: {_versions_line(result['versions'])}\n")
    print(format_table(result["rows"]))
    for note in result["notes"]:
        print(f"  - {note}")


def _versions_line(found: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in found.items())


def main_for(run: Callable[..., Any], name: str, description: str | None = None) -> None:
    """What each module's ``main()`` does: parse ``--quick``, run, print, write the JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    result: Result = run(quick=args.quick)
    print_result(result)
    path = write_result(result, name)
    print(f"\nwrote {path}", file=sys.stderr)
