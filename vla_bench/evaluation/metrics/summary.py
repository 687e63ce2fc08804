"""One call that computes every metric of a run, for the report and the comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vla_bench.evaluation.metrics.calibration import calibration_metrics
from vla_bench.evaluation.metrics.compute import compute_metrics
from vla_bench.evaluation.metrics.efficiency import efficiency_metrics, smoothness_metrics
from vla_bench.evaluation.metrics.generalisation import generalisation_metrics
from vla_bench.evaluation.metrics.grouping import Record, group_records
from vla_bench.evaluation.metrics.language import language_gain
from vla_bench.evaluation.metrics.robustness import NOMINAL, robustness_metrics
from vla_bench.evaluation.metrics.safety import safety_metrics
from vla_bench.evaluation.metrics.social import social_metrics
from vla_bench.evaluation.metrics.success import success_metrics

BREAKDOWNS = ("task", "domain", "family", "split", "perturbation")


def group_summary(records: Sequence[Record]) -> dict[str, Any]:
    """Success, safety and smoothness of one group of episodes (a task, a domain…)."""
    return {
        **success_metrics(records),
        "safety": safety_metrics(records),
        "smoothness": smoothness_metrics(records),
    }


def summarize(
    records: Sequence[Record],
    config: Mapping[str, Any] | None = None,
    expert_records: Sequence[Record] | None = None,
) -> dict[str, Any]:
    """Every metric of a run.

    Headline success, safety, smoothness, efficiency and compute use the **nominal** episodes
    (perturbations would otherwise mix robustness into them); breakdowns by perturbation,
    robustness and calibration use all episodes. ``expert_records`` (the scripted expert on
    the same manifest) enable the SPL-style efficiency figures.
    """
    nominal = [r for r in records if r.get("perturbation", NOMINAL) == NOMINAL]
    headline = nominal or list(records)
    breakdowns: dict[str, dict[str, Any]] = {}
    for by in BREAKDOWNS:
        source = records if by == "perturbation" else headline
        breakdowns[by] = {name: group_summary(group)
                          for name, group in group_records(source, by).items()}
    overall = group_summary(headline)
    robustness = robustness_metrics(records)
    calibration = calibration_metrics(records)
    generalisation = generalisation_metrics(records)
    efficiency = efficiency_metrics(headline, expert_records)
    return {
        "n_episodes": len(records),
        "n_nominal": len(nominal),
        "policies": sorted({str(r.get("policy")) for r in records}),
        "overall": overall,
        "by": breakdowns,
        "seed_metrics": seed_metrics(overall, robustness, calibration, generalisation,
                                     efficiency),
        "robustness": robustness,
        "calibration": calibration,
        "generalisation": generalisation,
        "efficiency": efficiency,
        "compute": compute_metrics(headline, config),
        "social": social_metrics(headline),
        "language_gain": language_gain(records),
    }


def seed_metrics(overall: Mapping[str, Any], robustness: Mapping[str, Any],
                 calibration: Mapping[str, Any], generalisation: Mapping[str, Any],
                 efficiency: Mapping[str, Any]) -> dict[str, Any]:
    """The seeds' eight ``EvaluationMetrics`` fields (A:3673-3683), each with a real definition.

    ``execution_time`` is simulated seconds per episode (wall time depends on the machine);
    ``safety_violations`` counts category-steps over all episodes (a step with two categories
    counts twice; the records keep per-category counts only); ``action_efficiency`` is the SPL
    path efficiency against the expert; ``human_satisfaction`` is ``None``: it needs human
    raters and is replaced by the social-compliance figures.
    """
    safety = overall["safety"]
    return {
        "task_success_rate": overall["success"]["rate"],
        "execution_time": overall["smoothness"]["duration_s"]["mean"],
        "safety_violations": sum(c["steps"] for c in safety["categories"].values()),
        "generalization_score": generalisation["score"],
        "robustness_score": robustness["score"],
        "human_satisfaction": None,
        "confidence_calibration": calibration.get("score"),
        "action_efficiency": efficiency["spl_path"],
        "safety_score": safety["safety_score"],
    }
