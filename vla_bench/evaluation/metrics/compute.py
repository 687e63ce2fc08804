"""Compute figures: policy parameters (from the run config) and per-call latency.

Records hold per-episode latency summaries (median, p95, mean of ``policy.act`` wall time), not
every call, so the run-level figures are: the median of the episode medians, the 95th
percentile of the episode p95s, and the mean weighted by episode steps. They describe the
machine the run used as much as the policy; compare them only across runs on one machine.
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
    weighted = [(float(x["mean"]), int(field(r, "steps"))) for r in records
                if (x := field(r, "latency_ms")) and x.get("mean") is not None]
    total = sum(w for _, w in weighted)
    walls = [float(field(r, "wall_time_s")) for r in records]
    return {
        "parameters": parameters_from_config(config or {}),
        "latency_ms": {
            "median": stats.median(medians),
            "p95": stats.percentile(p95s, 95),
            "mean": sum(m * w for m, w in weighted) / total if total else None,
            "n_episodes": len(medians),
            "definition": "median of episode medians; 95th percentile of episode p95s; "
                          "step-weighted mean",
        },
        "wall_time_s": {"mean": stats.mean(walls), "total": sum(walls)},
    }
