"""Percentiles and summaries of latency samples (seconds in, milliseconds out)."""
from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile ``p`` (0..100) of ``samples``; None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(samples: Sequence[float]) -> dict[str, float | int | None]:
    """``{"n", "p50", "p90", "p99", "max", "mean"}`` in milliseconds (3 decimals)."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 3)

    return {
        "n": len(samples),
        "p50": ms(percentile(samples, 50)),
        "p90": ms(percentile(samples, 90)),
        "p99": ms(percentile(samples, 99)),
        "max": ms(max(samples) if samples else None),
        "mean": ms(sum(samples) / len(samples) if samples else None),
    }
