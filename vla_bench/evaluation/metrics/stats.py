"""Small statistics shared by the metrics: Wilson interval, percentiles, Mann–Whitney AUROC.

Every function takes plain Python numbers and returns plain floats (never NumPy scalars), so
results serialise to JSON as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z_95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval of a binomial proportion; ``None`` when ``n == 0``.

    Chosen over the normal (Wald) interval because it stays inside ``[0, 1]`` and is not
    degenerate at 0/n or n/n, which small evaluation runs hit constantly.
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} must lie in [0, n={n}]")
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0/n and n/n the bound is exactly 0 or 1; rounding would otherwise leave 1 - 1e-16.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def paired_difference_interval(both: int, first_only: int, second_only: int, neither: int,
                               z: float = Z_95) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval (his method 10, 1998) for the difference of two
    proportions measured on the same subjects: ``p1 - p2`` with ``p1 = (both + first_only) / n``
    and ``p2 = (both + second_only) / n``. ``None`` when ``n == 0``.

    Pairing matters: the same episodes run twice are correlated, and an unpaired interval would
    be far too wide. Built from the two Wilson intervals and the phi correlation of the 2 × 2
    table, so it stays inside ``[-1, 1]`` and is sensible at 0/n and n/n.
    """
    a, b, c, d = both, first_only, second_only, neither
    n = a + b + c + d
    if n <= 0:
        return None
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, z)  # type: ignore[misc]
    l2, u2 = wilson_interval(a + c, n, z)  # type: ignore[misc]
    den = (a + b) * (c + d) * (a + c) * (b + d)
    # Newcombe's correction: a positive association is shrunk by n/2, so that identical
    # outcomes (b = c = 0) still give an interval of non-zero width.
    cross = a * d - b * c
    if cross > 0:
        cross = max(cross - n / 2, 0.0)
    phi = cross / math.sqrt(den) if den > 0 else 0.0
    diff = p1 - p2
    lo = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    hi = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return max(-1.0, diff - lo), min(1.0, diff + hi)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, ``None`` for an empty sequence."""
    return float(np.mean(values)) if len(values) else None


def median(values: Sequence[float]) -> float | None:
    """Median, ``None`` for an empty sequence."""
    return float(np.median(values)) if len(values) else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (NumPy's default), ``None`` for an empty sequence."""
    return float(np.percentile(values, q)) if len(values) else None


def ratio(num: float, den: float) -> float | None:
    """``num / den``, ``None`` when the denominator is zero."""
    return float(num) / float(den) if den else None


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve of ``scores`` for the positive ``labels``.

    Mann–Whitney formulation: the probability that a random positive scores above a random
    negative, counting ties as one half (average ranks). ``None`` when either class is empty,
    because the area is then undefined (callers report why).
    """
    if len(scores) != len(labels):
        raise ValueError(f"{len(scores)} scores but {len(labels)} labels")
    pos = [float(s) for s, y in zip(scores, labels, strict=True) if y]
    neg = [float(s) for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    ranks = _average_ranks(np.asarray(pos + neg, dtype=np.float64))
    rank_sum = float(ranks[: len(pos)].sum())
    u = rank_sum - len(pos) * (len(pos) + 1) / 2.0
    return u / (len(pos) * len(neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_vals = values[order]
    start = 0
    while start < len(values):
        stop = start
        while stop + 1 < len(values) and sorted_vals[stop + 1] == sorted_vals[start]:
            stop += 1
        ranks[order[start : stop + 1]] = (start + stop) / 2.0 + 1.0
        start = stop + 1
    return ranks
