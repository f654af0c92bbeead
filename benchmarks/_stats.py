"""Medians, spreads and same-run ratios: the only statistics the benchmarks report.

Medians because a shared VM's noise is one-sided (a neighbour steals time, never gives it);
min–max rather than a standard deviation because there are only a handful of rounds and the
reader should see the worst round, not a model of it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

__all__ = ["median", "paired_ratios", "spread"]


def median(values: Sequence[float]) -> float:
    """The median, ``nan`` for no values (so a failed variant shows as such, not a crash)."""
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float]) -> tuple[float, float]:
    """(min, max), ``(nan, nan)`` for no values."""
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def paired_ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """Round-by-round ratios of two variants measured side by side (rounds with a zero dropped)."""
    return [a / b for a, b in zip(numerator, denominator, strict=True) if b]
