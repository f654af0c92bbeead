"""The PNG the README shows: every aim against its measured ratio, then each benchmark's rows.

The first panel puts every benchmark's aims on one scale, the measured figure divided by the aim
(inverted for "≤" aims), so right of 1 is met whatever the unit or direction; it is what a reader
checking the speed claims wants first. One panel per benchmark follows, showing its most common
kind of row (its main metric) as grouped bars: a label ``"<group> · <series>"`` is drawn as one
bar of colour ``series`` in group ``group``, so any benchmark that follows that naming gets a
readable chart without this module knowing it. matplotlib is imported only here, and only when a
chart is drawn (it lives in the ``bench`` extra).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ._result import Result, Row, judged_on_ratio

__all__ = ["aim_score", "split_label", "write_chart"]

_SIGN: Final = re.compile(r"[≥≤]|>=|<=|>|<")
_NUMBER: Final = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?")
_MET: Final = "#2e7d32"
_MISSED: Final = "#c62828"
_BAR_HEIGHT_IN: Final = 0.2
_UNREAD_MET: Final = 1.25
_UNREAD_MISSED: Final = 0.8


def aim_score(row: Row) -> float | None:
    """Measured ÷ aim for "≥"/">" aims, aim ÷ measured for "≤"/"<" aims (≥ 1 means met), or
    ``None`` when the aim cannot be read. The aim's number is the first after its comparison
    sign; it is compared with the row's ratio when the aim speaks in "×", else with its value."""
    aim = row.get("aim")
    if not aim:
        return None
    sign = _SIGN.search(aim)
    number = _NUMBER.search(aim, sign.end()) if sign else None
    if sign is None or number is None:
        return None
    threshold = float(number.group(0).replace(",", ""))
    measured = row["ratio"] if judged_on_ratio(row) else row["value"]
    if measured is None or threshold <= 0 or measured <= 0:
        return None
    return measured / threshold if sign.group(0) in ("≥", ">=", ">") else threshold / measured


def split_label(label: str) -> tuple[str, str]:
    """``"a · b · c"`` → ``("a · b", "c")``; a label without ``" · "`` is its own group."""
    group, _, series = label.rpartition(" · ")
    return (group, series) if group else (label, "")


def _main_metric(rows: Sequence[Row]) -> tuple[str, str] | None:
    counts = Counter((r["metric"], r["unit"]) for r in rows)
    return counts.most_common(1)[0][0] if counts else None


def _measured(row: Row) -> str:
    """The figure the aim was judged on, as ``aim_score`` picks it."""
    if judged_on_ratio(row) and row["ratio"] is not None:
        return f"{row['ratio']:.2f}×"
    value = row["value"]
    return f"{value:,.0f} {row['unit']}" if abs(value) >= 100 else f"{value:.3g} {row['unit']}"


def _aims(results: Sequence[Result]) -> list[tuple[str, float, bool, str]]:
    found = []
    for result in results:
        for row in result["rows"]:
            score = aim_score(row)
            if score is None and row.get("aim"):
                score = _UNREAD_MET if row["met"] else _UNREAD_MISSED  # drawn by verdict only
            if score is not None:
                name = result["benchmark"]
                label = row["label"] if row["label"].startswith(name) else f"{name}: {row['label']}"
                label = f"{label}  [{row['aim']}]"
                found.append((label, score, bool(row["met"]), _measured(row)))
    return found


def _draw_aims(ax: Any, aims: list[tuple[str, float, bool, str]]) -> None:
    labels = [a[0] for a in aims]
    scores = [a[1] for a in aims]
    colours = [_MET if a[2] else _MISSED for a in aims]
    positions = list(range(len(aims)))[::-1]
    ax.barh(positions, scores, color=colours, height=0.7)
    ax.axvline(1.0, color="black", linewidth=1)
    for y, (_, score, _, text) in zip(positions, aims, strict=True):
        ax.text(score, y, f" {text}", va="center", fontsize=6)
    _log_axis(ax, scores)
    ax.set_yticks(positions, labels, fontsize=7)
    ax.set_ylim(-0.6, len(aims) - 0.4)
    ax.set_xlabel("measured ÷ aim (≤ aims inverted); right of the line = met", fontsize=8)
    ax.set_title("Aims, each against a ratio measured in the same run", fontsize=10)
    ax.tick_params(axis="x", labelsize=7)


def _draw_benchmark(ax: Any, result: Result) -> None:
    main = _main_metric(result["rows"])
    if main is None:
        ax.set_axis_off()
        return
    rows = [r for r in result["rows"] if (r["metric"], r["unit"]) == main]
    groups: list[str] = []
    series: list[str] = []
    for row in rows:
        group, name = split_label(row["label"])
        if group not in groups:
            groups.append(group)
        if name not in series:
            series.append(name)
    width = 0.8 / max(1, len(series))
    cmap = _colour_map(len(series))
    for s_index, name in enumerate(series):
        ys: list[float] = []
        values: list[float] = []
        for row in rows:
            group, row_series = split_label(row["label"])
            if row_series != name:
                continue
            ys.append(len(groups) - 1 - groups.index(group) + 0.4 - (s_index + 0.5) * width)
            values.append(row["value"])
        ax.barh(ys, values, height=width, color=cmap[s_index], label=name)
    positive = [r["value"] for r in rows if r["value"] > 0]
    if positive and max(positive) / min(positive) > 30:
        _log_axis(ax, positive)
    ax.set_yticks(range(len(groups))[::-1], groups, fontsize=7)
    ax.set_ylim(-0.6, len(groups) - 0.4)
    ax.set_xlabel(f"{main[0]}, {main[1]} (median)", fontsize=8)
    title = f"{result['benchmark']}: {result['workload']}"
    ax.set_title("\n".join(textwrap.wrap(title, 95)[:2]), fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    if len(series) > 1 or series[0]:
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _log_axis(ax: Any, values: Sequence[float]) -> None:
    """A log axis labelled in plain numbers (1-2-5 steps), not powers of ten."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    low, high = min(values), max(values)
    ticks = [
        m * 10.0**e
        for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
        for m in (1, 2, 5)
    ]
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([t for t in ticks if low / 3 <= t <= high * 3]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _colour_map(n: int) -> list[Any]:
    import matplotlib

    palette = matplotlib.colormaps["tab10"]
    return [palette(i % 10) for i in range(n)]


def _bars(result: Result) -> int:
    main = _main_metric(result["rows"])
    return sum(1 for r in result["rows"] if (r["metric"], r["unit"]) == main) if main else 1


def write_chart(results: Sequence[Result], path: Path, *, title: str) -> Path:
    """Draw the aims panel beside one panel per benchmark and save a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    aims = _aims(results)
    heights = [max(3, _bars(r)) for r in results] or [3]
    right = sum(h * _BAR_HEIGHT_IN + 1.0 for h in heights)
    left = max(3, len(aims)) * _BAR_HEIGHT_IN + 1.0
    height = max(left, right)
    figure = plt.figure(figsize=(18, height), layout="constrained")
    grid = figure.add_gridspec(len(heights), 2, height_ratios=heights, width_ratios=(1, 1))
    _draw_aims(figure.add_subplot(grid[:, 0]), aims)
    for index, result in enumerate(results):
        _draw_benchmark(figure.add_subplot(grid[index, 1]), result)
    figure.suptitle(title, fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
