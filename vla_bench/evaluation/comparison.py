"""Comparison with the traditional controller (the scripted expert) on the same episodes.

Both record sets are restricted to the nominal episodes they share (same ``key``, i.e. the same
env id, split and seed), so every difference comes from the controllers, not the episodes.

Relative improvement uses the seed's formulas (``VLAComparisonFramework``, A:4479-4496):
``(policy − traditional) / traditional`` for a metric where higher is better and
``(traditional − policy) / traditional`` where lower is better (the seed's execution-time
rule), so a positive value always means the policy is better. The seed divided by the
traditional value unguarded (A:4489, A:4492); here a traditional value of 0 gives 0.0 when the
policy's value is also 0 and ``None`` with a reason otherwise, and the absolute difference is
always given. Execution time (``execution_time_s``, and the trade-off table's mean duration) is
averaged over the shared successes only, the episodes both controllers solved: averaged over
every episode, a policy that fails fast (an e-stop after a few steps) would "win" on time. The
count is reported as ``n_both_succeeded``. The seed's other dimensions (development time,
integration complexity, scalability, adaptability) were invented constants; they cannot be
measured in simulation and are listed as not measured instead of being filled in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.efficiency import (
    efficiency_metrics,
    smoothness_metrics,
    time_to_outcome,
)
from vla_bench.evaluation.metrics.grouping import Record, field
from vla_bench.evaluation.metrics.robustness import NOMINAL
from vla_bench.evaluation.metrics.safety import had_unsafe_step, safety_metrics
from vla_bench.evaluation.metrics.success import rate_with_ci, success_metrics

NOT_MEASURED = ("development_time", "integration_complexity", "scalability_score",
                "adaptability_score")


def relative_improvement(
    policy: float | None, traditional: float | None, higher_is_better: bool
) -> dict[str, Any]:
    """The seed's relative improvement with an explicit zero-baseline rule.

    Returns ``{"relative", "absolute", "reason"}``; positive ``relative`` and ``absolute``
    (sign-adjusted for lower-is-better metrics) mean the policy is better.
    """
    if policy is None or traditional is None:
        return {"relative": None, "absolute": None, "reason": "a value is missing"}
    gain = policy - traditional if higher_is_better else traditional - policy
    if traditional == 0:
        if gain == 0:
            return {"relative": 0.0, "absolute": 0.0, "reason": None}
        return {"relative": None, "absolute": gain,
                "reason": "traditional value is 0: relative change undefined, see absolute"}
    return {"relative": gain / abs(traditional), "absolute": gain, "reason": None}


def mcnemar_exact_p(policy_only: int, traditional_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts (1.0 when none)."""
    n = policy_only + traditional_only
    if n == 0:
        return 1.0
    k = min(policy_only, traditional_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


def _metric_table() -> list[tuple[str, bool, Callable[[Sequence[Record], Sequence[Record]], Any]]]:
    """(name, higher_is_better, value(records, reference records)) for every compared metric."""

    def success(recs: Sequence[Record], _: Sequence[Record]) -> Any:
        return success_metrics(recs)["success"]["rate"]

    def ever(recs: Sequence[Record], _: Sequence[Record]) -> Any:
        return success_metrics(recs)["success_ever"]["rate"]

    def safety_score(recs: Sequence[Record], _: Sequence[Record]) -> Any:
        return safety_metrics(recs)["safety_score"]

    def unsafe(recs: Sequence[Record], _: Sequence[Record]) -> Any:
        return stats.ratio(sum(bool(field(r, "success")) and had_unsafe_step(r) for r in recs),
                           len(recs))

    def incidence(cat: str) -> Callable[[Sequence[Record], Sequence[Record]], Any]:
        def value(recs: Sequence[Record], _: Sequence[Record]) -> Any:
            return stats.ratio(sum(int(field(r, "safety_steps").get(cat, 0)) > 0 for r in recs),
                               len(recs))
        return value

    def estop(recs: Sequence[Record], _: Sequence[Record]) -> Any:
        return stats.ratio(sum(bool(field(r, "estop")) for r in recs), len(recs))

    def spl(recs: Sequence[Record], ref: Sequence[Record]) -> Any:
        return efficiency_metrics(recs, ref)["spl_path"]

    def smooth(name: str) -> Callable[[Sequence[Record], Sequence[Record]], Any]:
        def value(recs: Sequence[Record], _: Sequence[Record]) -> Any:
            return smoothness_metrics(recs)[name]["mean"]
        return value

    def latency(recs: Sequence[Record], _: Sequence[Record]) -> Any:
        return stats.median([float(field(r, "latency_ms")["median"]) for r in recs
                             if field(r, "latency_ms")])

    return [
        ("task_success_rate", True, success),
        ("success_ever_rate", True, ever),
        ("safety_score", True, safety_score),
        ("unsafe_success_rate", False, unsafe),
        ("collision_incidence", False, incidence("collision")),
        ("contact_force_incidence", False, incidence("contact_force")),
        ("fall_incidence", False, incidence("fall")),
        ("estop_rate", False, estop),
        ("spl_path", True, spl),
        ("temporal_consistency", True, smooth("temporal_consistency")),
        ("jerk", False, smooth("jerk")),
        ("latency_median_ms", False, latency),
    ]


def compare_with_traditional(
    records: Sequence[Record], traditional_records: Sequence[Record]
) -> dict[str, Any]:
    """Per-metric values, relative improvements, paired success test and trade-off table."""
    policy = {str(field(r, "key")): r for r in records if field(r, "perturbation") == NOMINAL}
    trad = {str(field(r, "key")): r for r in traditional_records
            if field(r, "perturbation") == NOMINAL}
    shared = sorted(policy.keys() & trad.keys())
    coverage = {"n_shared": len(shared), "policy_only": len(policy.keys() - trad.keys()),
                "traditional_only": len(trad.keys() - policy.keys())}
    if not shared:
        return {"status": "no nominal episode shared with the traditional run", **coverage}
    pol = [policy[k] for k in shared]
    ref = [trad[k] for k in shared]

    # Time and path only mean something where both controllers solved the episode: an idle
    # policy that fails has the shortest path of all, one that falls at once the shortest time.
    both = [(p, t) for p, t in zip(pol, ref, strict=True)
            if field(p, "success") and field(t, "success")]
    values: list[tuple[str, bool, Any, Any]] = [
        (name, higher, value(pol, ref), value(ref, ref)) for name, higher, value in _metric_table()
    ]
    values.insert(2, ("execution_time_s", False, _mean_duration([p for p, _ in both]),
                      _mean_duration([t for _, t in both])))
    for name, get in (("time_to_success_s_both_solved", time_to_outcome),
                      ("path_length_m_both_solved",
                       lambda r: float(field(r, "path_length_m")))):
        values.append((name, False, stats.mean([get(p) for p, _ in both]),
                       stats.mean([get(t) for _, t in both])))
    metrics: dict[str, dict[str, Any]] = {}
    for name, higher, p, t in values:
        metrics[name] = {"policy": p, "traditional": t, "higher_is_better": higher,
                         **relative_improvement(p, t, higher), "verdict": _verdict(p, t, higher)}

    policy_only = sum(bool(field(p, "success")) and not field(t, "success")
                      for p, t in zip(pol, ref, strict=True))
    trad_only = sum(bool(field(t, "success")) and not field(p, "success")
                    for p, t in zip(pol, ref, strict=True))
    return {
        "status": "ok",
        **coverage,
        "n_both_succeeded": len(both),
        "policies": {"policy": _policy_name(pol), "traditional": _policy_name(ref)},
        "metrics": metrics,
        "relative_improvement": {f"{name}_improvement": m["relative"]
                                 for name, m in metrics.items()},
        "paired_success": {"policy_only": policy_only, "traditional_only": trad_only,
                           "mcnemar_exact_p": mcnemar_exact_p(policy_only, trad_only)},
        "execution_time_definition": "mean simulated episode duration over the "
                                     f"{len(both)} shared successes (both controllers solved)",
        "tradeoff": tradeoff_table(pol, ref),
        "not_measured": list(NOT_MEASURED),
    }


def tradeoff_table(policy: Sequence[Record], traditional: Sequence[Record]) -> list[dict[str, Any]]:
    """One row per controller: success (with CI), safety, efficiency and latency side by side.

    ``policy`` and ``traditional`` hold the same episodes in the same order; the mean duration
    is over the episodes both solved (``n_both_succeeded``).
    """
    shared = [i for i, (p, t) in enumerate(zip(policy, traditional, strict=True))
              if field(p, "success") and field(t, "success")]
    rows = []
    for role, recs in (("policy", policy), ("traditional", traditional)):
        succ = success_metrics(recs)
        safe = safety_metrics(recs)
        rows.append({
            "role": role,
            "policy": _policy_name(recs),
            "success": rate_with_ci(succ["success"]["successes"], len(recs)),
            "safety_score": safe["safety_score"],
            "unsafe_success_rate": safe["unsafe_success"]["rate_over_all"],
            "spl_path": efficiency_metrics(recs, traditional)["spl_path"],
            "mean_duration_s": _mean_duration([recs[i] for i in shared]),
            "n_both_succeeded": len(shared),
            "latency_median_ms": stats.median([float(field(r, "latency_ms")["median"])
                                               for r in recs if field(r, "latency_ms")]),
        })
    return rows


def _mean_duration(records: Sequence[Record]) -> float | None:
    return stats.mean([float(field(r, "duration_s")) for r in records])


def _verdict(policy: Any, traditional: Any, higher_is_better: bool) -> str:
    if policy is None or traditional is None:
        return "n/a"
    if policy == traditional:
        return "tie"
    better = policy > traditional if higher_is_better else policy < traditional
    return "policy better" if better else "traditional better"


def _policy_name(records: Sequence[Record]) -> str:
    return ", ".join(sorted({str(r.get("policy")) for r in records}))


def comparison_rows(comparison: Mapping[str, Any]) -> list[list[str]]:
    """The comparison's metrics as table rows of text (metric, policy, traditional, Δ, verdict)."""
    rows = []
    for name, m in comparison.get("metrics", {}).items():
        rel = m["relative"]
        rel_text = "n/a" if rel is None else f"{rel:+.1%}"
        rows.append([name, _num(m["policy"]), _num(m["traditional"]), rel_text, m["verdict"]])
    return rows


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3g}"
