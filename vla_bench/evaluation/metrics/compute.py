"""Compute figures: policy parameters (from the run config) and per-call latency.

Records hold per-episode latency summaries (median, p95, mean and ``n_calls`` of ``policy.act``
wall time), not every call, so the run-level figures are: the median of the episode medians,
the 95th percentile of the episode p95s, and the mean per call, each episode's mean weighted
by its number of policy calls. Weighting by env steps would be wrong with action chunks, where
one call serves several steps: a policy with 8-step chunks would have its slow episodes
counted 8 times over. Records written before ``n_calls`` existed give no mean (with a reason).
The figures describe the machine the run used as much as the policy; compare them only across
runs on one machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.grouping import Record, field

PARAMETER_KEYS = ("num_parameters", "parameters", "n_parameters")


def parameters_from_config(config: Mapping[str, Any]) -> int | None:
    """The policy's parameter count as the runner resolved it, if the config carries one.

    Looked up at the top level, then in each mapping one level down (``config["policy"]``,
    ``config["policy_info"]`` …), so the runner may nest its policy description.
    """
    scopes = [config, *(v for v in config.values() if isinstance(v, Mapping))]
    for scope in scopes:
        if isinstance(scope, Mapping):
            for key in PARAMETER_KEYS:
                value = scope.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    return value
    return None


def compute_metrics(
    records: Sequence[Record], config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Parameters and latency (ms) aggregated over episodes, plus wall time per episode."""
    lat = [field(r, "latency_ms") for r in records if field(r, "latency_ms")]
    medians = [float(x["median"]) for x in lat if x.get("median") is not None]
    p95s = [float(x["p95"]) for x in lat if x.get("p95") is not None]
    with_mean = [x for x in lat if x.get("mean") is not None]
    weighted = [(float(x["mean"]), int(x["n_calls"])) for x in with_mean
                if x.get("n_calls") is not None]
    total = sum(w for _, w in weighted)
    mean = sum(m * w for m, w in weighted) / total if total else None
    mean_reason = None
    if len(weighted) < len(with_mean):
        mean, mean_reason = None, ("records without latency_ms.n_calls (written by an older "
                                   "vla_bench): re-run to get the per-call mean")
    walls = [float(field(r, "wall_time_s")) for r in records]
    return {
        "parameters": parameters_from_config(config or {}),
        "latency_ms": {
            "median": stats.median(medians),
            "p95": stats.percentile(p95s, 95),
            "mean": mean,
            "mean_reason": mean_reason,
            "n_episodes": len(medians),
            "n_calls": total,
            "definition": "median of episode medians; 95th percentile of episode p95s; "
                          "mean per policy call (episode means weighted by calls)",
        },
        "wall_time_s": {"mean": stats.mean(walls), "total": sum(walls)},
    }
