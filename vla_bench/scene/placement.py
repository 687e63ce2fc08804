"""Collision-free random placement of objects on rectangular regions."""

from __future__ import annotations

import numpy as np

from vla_bench.errors import VlaBenchError


def scatter(
    rng: np.random.Generator, n: int, lo: np.ndarray, hi: np.ndarray, min_dist: float,
    avoid: list[np.ndarray] | None = None, tries: int = 200, restarts: int = 50,
) -> list[np.ndarray]:
    """``n`` points uniform in the box ``[lo, hi]`` (2-D), pairwise ``min_dist`` apart.

    Sequential rejection sampling, restarted from scratch when it paints itself into a corner.
    """
    fixed = list(avoid or [])
    for _ in range(restarts):
        pts: list[np.ndarray] = []
        for _ in range(tries):
            p = rng.uniform(lo, hi)
            if all(np.linalg.norm(p - q) >= min_dist for q in pts + fixed):
                pts.append(p)
                if len(pts) == n:
                    return pts
    raise VlaBenchError(f"could not place {n} objects {min_dist} m apart in {lo}..{hi}")
