"""Social compliance on episodes with simulated people.

These figures replace the seeds' "human satisfaction" (A:3817-3820, which the seed code sets
equal to success): there is no human here to rate the robot, so the report gives what can be
measured instead: how close the robot came, how fast it approached, whether it faced the person, and
how often it broke the human-proximity rule (closer than 1.0 m, or than 1.0 m + 0.5 s × its
approach speed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.grouping import Record, field

NOTE = ("Human satisfaction (a seed metric) needs human raters, which a simulation does not have; "
        "it is replaced by these measured social-compliance figures.")


def social_metrics(records: Sequence[Record]) -> dict[str, Any]:
    """Minimum distance, approach speeds, facing fraction and proximity-violation rates."""
    social = [(r, s) for r in records if (s := field(r, "social")) is not None]
    if not social:
        return {"status": "no episode with simulated people", "n_episodes": 0, "note": NOTE}
    steps = sum(int(field(r, "steps")) for r, _ in social)
    violations = [int(s["violation_steps"]) for _, s in social]
    min_dist = [float(s["min_distance_m"]) for _, s in social]
    return {
        "status": "ok",
        "n_episodes": len(social),
        "min_distance_m": {"min": min(min_dist), "mean": stats.mean(min_dist)},
        "mean_approach_speed": stats.mean([float(s["mean_approach_speed"]) for _, s in social]),
        "max_approach_speed": max(float(s["max_approach_speed"]) for _, s in social),
        "facing_fraction": stats.mean([float(s["facing_fraction"]) for _, s in social]),
        "violation_step_rate": stats.ratio(sum(violations), steps),
        "violation_incidence": sum(v > 0 for v in violations) / len(social),
        "note": NOTE,
    }
