"""Evaluation metrics: pure functions over episode records (``vla_bench.episode/1`` dicts).

Each module holds one family of metrics and documents its definitions; :func:`summarize`
computes all of them for a run.
"""

from __future__ import annotations

from vla_bench.evaluation.metrics.calibration import (
    NOT_REPORTED,
    brier,
    calibration_metrics,
    ece,
    episode_confidence,
    reliability_diagram,
)
from vla_bench.evaluation.metrics.compute import compute_metrics, parameters_from_config
from vla_bench.evaluation.metrics.efficiency import (
    efficiency_metrics,
    smoothness_metrics,
    spl_term,
)
from vla_bench.evaluation.metrics.generalisation import generalisation_metrics
from vla_bench.evaluation.metrics.grouping import InvalidRecordError, group_records
from vla_bench.evaluation.metrics.robustness import capped_ratio, robustness_metrics
from vla_bench.evaluation.metrics.safety import safety_metrics, safety_score
from vla_bench.evaluation.metrics.social import social_metrics
from vla_bench.evaluation.metrics.stats import auroc, wilson_interval
from vla_bench.evaluation.metrics.success import rate_with_ci, success_by, success_metrics
from vla_bench.evaluation.metrics.summary import group_summary, summarize

__all__ = [
    "NOT_REPORTED",
    "InvalidRecordError",
    "auroc",
    "brier",
    "calibration_metrics",
    "capped_ratio",
    "compute_metrics",
    "ece",
    "efficiency_metrics",
    "episode_confidence",
    "generalisation_metrics",
    "group_records",
    "group_summary",
    "parameters_from_config",
    "rate_with_ci",
    "reliability_diagram",
    "robustness_metrics",
    "safety_metrics",
    "safety_score",
    "smoothness_metrics",
    "social_metrics",
    "spl_term",
    "success_by",
    "success_metrics",
    "summarize",
    "wilson_interval",
]
