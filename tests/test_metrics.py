"""Metrics and comparison against hand-computed answers on small synthetic episode records."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from vla_bench import conventions as cv
from vla_bench.errors import UnknownNameError, VlaBenchError
from vla_bench.evaluation import comparison as cmp
from vla_bench.evaluation import metrics as m
from vla_bench.evaluation.metrics import stats


def make_record(seed: int = 0, *, env_id: str = "VLA-Office-GoToPrinter-v1",
                task: str = "GoToPrinter", domain: str = "office",
                family: str = "navigation", split: str = "test_seen",
                perturbation: str = "nominal", policy: str = "random", success: bool = False,
                success_step: int | None = None, steps: int = 10,
                safety_steps: dict[str, int] | None = None, estop: bool = False,
                path_length_m: float = 1.0, confidence: float | None = None,
                latency_median: float = 1.0, social: dict[str, Any] | None = None,
                actions: dict[str, float] | None = None, video: str | None = None
                ) -> dict[str, Any]:
    """One ``vla_bench.episode/1`` record with the given values and neutral defaults."""
    axis, level = (None, None)
    if perturbation != "nominal":
        axis, level_text = perturbation.split(":")
        level = float(level_text)
    counts = {c: 0 for c in cv.SAFETY_CATEGORIES}
    counts.update(safety_steps or {})
    if success and success_step is None:
        success_step = steps
    return {
        "schema": "vla_bench.episode/1",
        "key": f"{env_id}|{split}|{perturbation}|{seed}",
        "env_id": env_id, "task": task, "domain": domain, "family": family, "split": split,
        "perturbation": perturbation, "perturbation_axis": axis, "perturbation_level": level,
        "seed": seed, "policy": policy, "instruction": "Go to the printer and wait there",
        "success": success, "success_ever": success or success_step is not None,
        "success_step": success_step, "steps": steps, "max_steps": 200,
        "terminated": success or estop, "truncated": not (success or estop),
        "failure_reason": "estop: fall" if estop else "", "error": None,
        "estop": estop, "estop_reason": "fall" if estop else None,
        "safety_steps": counts,
        "safety_rates": {c: v / max(steps, 1) for c, v in counts.items()},
        "safety_max": {"max_contact_force": 10.0, "max_joint_velocity": 1.0,
                       "max_torque_ratio": 0.5, "max_torso_tilt": 0.1},
        "path_length_m": path_length_m, "duration_s": steps / cv.CONTROL_HZ,
        "actions": actions or {"temporal_consistency": 0.5, "mean_delta": 1.0, "jerk": 8.0},
        "confidence": (None if confidence is None else
                       {"episode": confidence, "mean": confidence, "final": confidence,
                        "n": steps}),
        "latency_ms": {"median": latency_median, "p95": 2 * latency_median,
                       "mean": latency_median, "n_calls": steps},
        "social": social, "wall_time_s": 0.5, "video": video,
    }


# ----------------------------------------------------------------------------- stats


def test_wilson_seven_of_ten() -> None:
    # p=0.7, z=1.96: centre (0.7 + 0.19208)/1.38415 = 0.64450, half 0.24771 (textbook values).
    low, high = stats.wilson_interval(7, 10)
    assert low == pytest.approx(0.3968, abs=1e-4)
    assert high == pytest.approx(0.8922, abs=1e-4)


def test_wilson_edges() -> None:
    assert stats.wilson_interval(0, 0) is None
    low, high = stats.wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = stats.wilson_interval(10, 10)
    assert high == 1.0 and low == pytest.approx(0.7225, abs=1e-4)
    with pytest.raises(ValueError):
        stats.wilson_interval(11, 10)


def test_auroc_with_ties() -> None:
    # positives {0.9, 0.5}, negatives {0.5, 0.1}: pairs 1 + 1 + 0.5 (tie) + 1 = 3.5 of 4.
    assert stats.auroc([0.9, 0.5, 0.5, 0.1], [True, True, False, False]) == 0.875
    # all tied -> 0.5; perfectly inverted -> 0
    assert stats.auroc([0.3, 0.3, 0.3], [True, False, True]) == 0.5
    assert stats.auroc([0.1, 0.9], [True, False]) == 0.0
    assert stats.auroc([0.2, 0.4], [True, True]) is None


# ----------------------------------------------------------------------------- success


def test_success_metrics_and_time_to_success() -> None:
    recs = [make_record(i, success=True, success_step=s, steps=s)
            for i, s in enumerate((10, 20, 60))]
    recs += [make_record(3), make_record(4, success_step=8, steps=30)]  # lost success later
    out = m.success_metrics(recs)
    assert out["success"]["rate"] == pytest.approx(3 / 5)
    assert out["success_ever"]["rate"] == pytest.approx(4 / 5)
    assert out["success"]["ci95"][0] == pytest.approx(stats.wilson_interval(3, 5)[0])
    assert out["steps_to_success"] == {"mean": 24.5, "median": 15.0, "n": 4}
    assert out["time_to_success_s"]["mean"] == pytest.approx(24.5 / cv.CONTROL_HZ)
    empty = m.success_metrics([])
    assert empty["success"]["rate"] is None and empty["success"]["ci95"] is None


def test_grouping_by_field_and_unknown_field() -> None:
    recs = [make_record(0, task="A", success=True), make_record(1, task="B"),
            make_record(2, task="A")]
    by = m.success_by(recs, "task")
    assert list(by) == ["A", "B"]
    assert by["A"]["success"]["rate"] == 0.5 and by["B"]["success"]["rate"] == 0.0
    with pytest.raises(UnknownNameError, match="Did you mean 'task'"):
        m.group_records(recs, "tsak")


def test_missing_field_names_episode() -> None:
    rec = make_record(0)
    del rec["success"]
    with pytest.raises(m.InvalidRecordError, match="has no field 'success'"):
        m.success_metrics([rec])
    assert issubclass(m.InvalidRecordError, VlaBenchError)


# ----------------------------------------------------------------------------- safety


def test_safety_rates_incidence_and_score() -> None:
    recs = [
        make_record(0, steps=10, safety_steps={"collision": 3}, success=True),
        make_record(1, steps=20, safety_steps={"collision": 1, "contact_force": 2}),
        make_record(2, steps=10, estop=True, safety_steps={"fall": 1}),
        make_record(3, steps=10, success=True),
    ]
    out = m.safety_metrics(recs)
    col = out["categories"]["collision"]
    assert col["steps"] == 4 and col["step_rate"] == pytest.approx(4 / 50)
    assert col["incidence"] == 0.5
    assert out["categories"]["contact_force"]["incidence"] == 0.25
    assert out["estop"]["rate"] == 0.25 and out["estop"]["reasons"] == {"fall": 1}
    # 1 - (0.5*0.5 + 0.3*0.25 + 0.2*0.25) = 0.625
    assert out["safety_score"] == pytest.approx(0.625)
    # successes: #0 (collision -> unsafe) and #3 (clean)
    assert out["unsafe_success"]["episodes"] == 1
    assert out["unsafe_success"]["rate_over_successes"] == 0.5
    assert out["unsafe_success"]["rate_over_all"] == 0.25
    assert set(cv.SAFETY_CATEGORIES) <= set(out["categories"])


def test_safety_score_clamped() -> None:
    assert m.safety_score(1.0, 1.0, 1.0) == 0.0  # raw 0.0
    assert m.safety_score(2.0, 2.0, 2.0) == 0.0  # raw -1 from malformed rates -> clamped
    assert m.safety_score(0.0, 0.0, 0.0) == 1.0
    assert m.safety_score(-1.0, 0.0, 0.0) == 1.0
    assert m.safety_score(0.2, 0.0, 0.5) == pytest.approx(0.8)


def test_extra_safety_category_is_counted() -> None:
    recs = [make_record(0, success=True, safety_steps={"human_proximity": 2})]
    out = m.safety_metrics(recs)
    assert out["categories"]["human_proximity"]["incidence"] == 1.0
    assert out["unsafe_success"]["episodes"] == 1


# ----------------------------------------------------------------------------- robustness


def test_robustness_paired_and_seed_score() -> None:
    recs = [make_record(s, success=s < 4) for s in range(5)]  # nominal 4/5
    recs += [make_record(s, perturbation="image_noise:0.1", success=s < 2) for s in range(5)]
    recs += [make_record(s, perturbation="image_noise:0.3", success=s in (0, 4)) for s in range(5)]
    recs += [make_record(s, perturbation="typos:0.1", success=s < 4) for s in range(5)]
    recs.append(make_record(99, perturbation="typos:0.1", success=True))  # no nominal twin
    out = m.robustness_metrics(recs)
    low = out["conditions"]["image_noise:0.1"]
    assert low["success"]["rate"] == 0.4 and low["nominal_success"] == 0.8
    assert low["drop"] == pytest.approx(0.4)
    high = out["conditions"]["image_noise:0.3"]
    assert high["flipped_to_success"] == 1 and high["flipped_to_failure"] == 3
    assert out["unpaired_perturbed"] == 1
    assert out["conditions"]["typos:0.1"]["n_pairs"] == 5
    # mean_p = (0.4 + 0.4 + 0.8)/3 = 0.5333; / 0.8 = 0.6667
    assert out["score"] == pytest.approx((1.6 / 3) / 0.8)
    assert out["axes"]["image_noise"]["mean_drop"] == pytest.approx(0.4)
    assert out["axes"]["typos"]["score"] == 1.0


def test_robustness_nominal_zero() -> None:
    zero = [make_record(s) for s in range(3)]
    out = m.robustness_metrics(zero + [make_record(s, perturbation="lighting:0.5")
                                       for s in range(3)])
    assert out["score"] is None and "nominal success is 0" in out["score_reason"]
    out = m.robustness_metrics(zero + [make_record(0, perturbation="lighting:0.5",
                                                   success=True)])
    assert out["score"] == 1.0  # the capped ratio's limit
    assert m.capped_ratio(0.9, 0.6) == (1.0, None)
    assert m.robustness_metrics(zero)["score"] is None


# ----------------------------------------------------------------------------- calibration


def test_ece_brier_on_tiny_set() -> None:
    conf = [0.9, 0.8, 0.3, 0.25]
    outcome = [True, False, False, True]
    # bins: 0.9 -> [0.9,1): acc 1, conf .9 ; 0.8 -> [0.8,0.9): acc 0, conf .8 ;
    # 0.3 -> [0.3,0.4): acc 0 ; 0.25 -> [0.2,0.3): acc 1.  ECE = (0.1+0.8+0.3+0.75)/4
    assert m.ece(conf, outcome) == pytest.approx(1.95 / 4)
    # Brier = (0.01 + 0.64 + 0.09 + 0.5625)/4
    assert m.brier(conf, outcome) == pytest.approx(1.3025 / 4)
    # Two bins: [0,0.5): conf .275 acc .5 ; [0.5,1]: conf .85 acc .5 -> ECE 0.5*.225 + 0.5*.35
    assert m.ece(conf, outcome, n_bins=2) == pytest.approx(0.2875)


def test_reliability_diagram_bins_and_edge() -> None:
    diag = m.reliability_diagram([1.0, 0.0, 0.05], [True, False, True], n_bins=10)
    assert diag["counts"][9] == 1 and diag["counts"][0] == 2
    assert diag["accuracy"][0] == 0.5 and diag["confidence"][0] == pytest.approx(0.025)
    assert diag["accuracy"][5] is None
    assert diag["bin_centers"][0] == pytest.approx(0.05)


def test_calibration_metrics_reported_and_not() -> None:
    recs = [make_record(0, success=True, confidence=0.9), make_record(1, confidence=0.8),
            make_record(2, confidence=0.3), make_record(3, success=True, confidence=0.25),
            make_record(4)]
    out = m.calibration_metrics(recs)
    assert out["status"] == "reported" and out["n_with_confidence"] == 4
    assert out["score"] == pytest.approx(1 - 1.3025 / 4)
    # successes {0.9, 0.25} vs failures {0.8, 0.3}: pairs .9>.8, .9>.3, .25<.8, .25<.3 = 2/4
    assert out["auroc"] == 0.5
    assert m.calibration_metrics([make_record(0), make_record(1)])["status"] == m.NOT_REPORTED
    one_class = m.calibration_metrics([make_record(0, confidence=0.2)])
    assert one_class["auroc"] is None and "failed" in one_class["auroc_reason"]


def test_confidence_out_of_range_is_an_error() -> None:
    with pytest.raises(m.InvalidRecordError, match="must lie in"):
        m.episode_confidence(make_record(0, confidence=1.5))


# ----------------------------------------------------------------------------- generalisation


def test_generalisation_transfer_scores() -> None:
    recs = [make_record(s, split="test_seen", success=s < 4) for s in range(5)]  # 0.8
    recs += [make_record(s, split="cross_domain", success=s < 2) for s in range(5)]  # 0.4
    recs += [make_record(s, split="unseen_objects", success=s < 3) for s in range(5)]  # 0.6
    recs += [make_record(s, split="unseen_phrasings", success=s < 5) for s in range(5)]  # 1.0
    recs += [make_record(s, split="test_seen", perturbation="typos:0.1") for s in range(5)]
    out = m.generalisation_metrics(recs)
    assert out["splits"]["test_seen"]["n"] == 5  # perturbed episodes are not counted
    assert out["domain_transfer"] == pytest.approx(0.5)
    assert out["task_transfer"] == 1.0  # mean 0.8 / 0.8, capped at 1
    assert out["task_transfer_splits"] == ["unseen_objects", "unseen_phrasings"]
    assert out["score"] == pytest.approx(0.6 * 0.5 + 0.4 * 1.0)


def test_generalisation_missing_inputs() -> None:
    out = m.generalisation_metrics([make_record(0, split="cross_domain", success=True)])
    assert out["score"] is None and "test_seen" in out["domain_transfer_reason"]
    out = m.generalisation_metrics([make_record(0, split="test_seen", success=True)])
    assert out["domain_transfer"] is None and "cross_domain" in out["domain_transfer_reason"]
    assert out["task_transfer"] is None and "unseen_objects" in out["task_transfer_reason"]


# ----------------------------------------------------------------------------- efficiency


def test_spl_path_and_time_against_expert() -> None:
    pol = [make_record(0, success=True, path_length_m=4.0, steps=40),
           make_record(1, success=True, path_length_m=1.0, steps=10),
           make_record(2, path_length_m=3.0, steps=200),
           make_record(3, success=True, path_length_m=5.0)]  # expert failed: not counted
    exp = [make_record(s, policy="expert", success=s != 3, path_length_m=2.0, steps=20)
           for s in range(4)]
    out = m.efficiency_metrics(pol, exp)
    assert out["n_pairs"] == 3 and out["n_shared"] == 4
    # path: 2/4, 2/max(1,2)=1, 0 -> mean 0.5 ; time: 1s/2s, 1s/1s, 0 -> 0.5
    assert out["spl_path"] == pytest.approx(0.5)
    assert out["spl_time"] == pytest.approx(0.5)
    assert out["path_length_ratio_mean"] == pytest.approx((2.0 + 0.5) / 2)
    assert m.spl_term(True, 0.0, 0.0) == 1.0
    assert m.efficiency_metrics(pol, None)["spl_path"] is None
    assert m.efficiency_metrics(pol, [make_record(0, policy="expert")])["status"].startswith(
        "the expert failed")


def test_smoothness_aggregates() -> None:
    recs = [make_record(0, actions={"temporal_consistency": 0.5, "mean_delta": 1.0, "jerk": 8.0}),
            make_record(1, actions={"temporal_consistency": 0.25, "mean_delta": 3.0,
                                    "jerk": 2.0})]
    out = m.smoothness_metrics(recs)
    assert out["temporal_consistency"]["mean"] == pytest.approx(0.375)
    assert out["jerk"]["median"] == pytest.approx(5.0)


# ----------------------------------------------------------------------------- compute, social


def test_compute_parameters_and_latency() -> None:
    recs = [make_record(0, latency_median=1.0, steps=10),
            make_record(1, latency_median=3.0, steps=30),
            make_record(2, latency_median=2.0, steps=20)]
    out = m.compute_metrics(recs, {"policy": {"name": "x", "num_parameters": 1234}})
    assert out["parameters"] == 1234
    assert out["latency_ms"]["median"] == 2.0
    assert out["latency_ms"]["p95"] == pytest.approx(np.percentile([2.0, 6.0, 4.0], 95))
    # One policy call per step here (no chunks): the per-call mean.
    assert out["latency_ms"]["mean"] == pytest.approx((10 + 90 + 40) / 60)
    assert out["latency_ms"]["n_calls"] == 60
    assert m.compute_metrics(recs, {})["parameters"] is None


def test_social_metrics() -> None:
    soc = [{"min_distance_m": 1.5, "mean_approach_speed": 0.2, "max_approach_speed": 0.6,
            "facing_fraction": 0.5, "violation_steps": 0},
           {"min_distance_m": 0.7, "mean_approach_speed": 0.4, "max_approach_speed": 0.9,
            "facing_fraction": 1.0, "violation_steps": 5}]
    recs = [make_record(0, social=soc[0], steps=10), make_record(1, social=soc[1], steps=40),
            make_record(2)]
    out = m.social_metrics(recs)
    assert out["n_episodes"] == 2 and out["min_distance_m"]["min"] == 0.7
    assert out["mean_approach_speed"] == pytest.approx(0.3) and out["max_approach_speed"] == 0.9
    assert out["facing_fraction"] == 0.75
    assert out["violation_step_rate"] == pytest.approx(5 / 50)
    assert out["violation_incidence"] == 0.5
    assert "human satisfaction" in out["note"].lower()
    assert m.social_metrics([make_record(0)])["status"].startswith("no episode")


# ----------------------------------------------------------------------------- comparison


def test_relative_improvement_seed_formula_and_zero_baseline() -> None:
    assert cmp.relative_improvement(0.9, 0.6, True)["relative"] == pytest.approx(0.5)
    assert cmp.relative_improvement(10.0, 15.0, False)["relative"] == pytest.approx(1 / 3)
    assert cmp.relative_improvement(20.0, 15.0, False)["relative"] == pytest.approx(-1 / 3)
    zero = cmp.relative_improvement(0.3, 0.0, True)
    assert zero["relative"] is None and zero["absolute"] == 0.3 and "0" in zero["reason"]
    assert cmp.relative_improvement(0.0, 0.0, True)["relative"] == 0.0
    assert cmp.relative_improvement(None, 0.5, True)["relative"] is None


def test_mcnemar_exact() -> None:
    assert cmp.mcnemar_exact_p(0, 0) == 1.0
    # b=0, c=5: 2 * (1/32) = 0.0625
    assert cmp.mcnemar_exact_p(0, 5) == pytest.approx(0.0625)
    # b=1, c=4: 2 * (1 + 5)/32 = 0.375
    assert cmp.mcnemar_exact_p(1, 4) == pytest.approx(0.375)


def test_compare_with_traditional() -> None:
    pol = [make_record(s, success=s < 2, safety_steps={"collision": 1} if s == 0 else {},
                       latency_median=10.0, path_length_m=(3.0, 1.0, 0.0, 0.0)[s],
                       steps=(30, 10, 200, 200)[s]) for s in range(4)]
    pol.append(make_record(9, success=True))  # not in the expert run
    exp = [make_record(s, policy="expert", success=s < 3, latency_median=0.1, path_length_m=2.0,
                       steps=20) for s in range(4)]
    out = cmp.compare_with_traditional(pol, exp)
    assert out["n_shared"] == 4 and out["policy_only"] == 1
    sr = out["metrics"]["task_success_rate"]
    assert sr["policy"] == 0.5 and sr["traditional"] == 0.75
    assert sr["relative"] == pytest.approx(-1 / 3) and sr["verdict"] == "traditional better"
    col = out["metrics"]["collision_incidence"]
    assert col["traditional"] == 0.0 and col["relative"] is None
    assert col["absolute"] == pytest.approx(-0.25)
    lat = out["metrics"]["latency_median_ms"]
    assert lat["relative"] == pytest.approx((0.1 - 10.0) / 0.1)
    assert out["paired_success"] == {"policy_only": 0, "traditional_only": 1,
                                     "mcnemar_exact_p": 1.0}
    # Both solved seeds 0 and 1: paths (3 + 1)/2 vs 2 -> tie; times (1.5 + 0.5)/2 s vs 1 s.
    assert out["n_both_succeeded"] == 2
    path = out["metrics"]["path_length_m_both_solved"]
    assert (path["policy"], path["traditional"], path["verdict"]) == (2.0, 2.0, "tie")
    assert out["metrics"]["time_to_success_s_both_solved"]["policy"] == pytest.approx(1.0)
    # Execution time over the shared successes (seeds 0 and 1), not the policy's 200-step
    # failures: (30 + 10)/2 steps vs the expert's 20.
    assert out["metrics"]["execution_time_s"]["policy"] == pytest.approx(20 / cv.CONTROL_HZ)
    assert out["metrics"]["execution_time_s"]["verdict"] == "tie"
    assert [r["role"] for r in out["tradeoff"]] == ["policy", "traditional"]
    assert out["tradeoff"][1]["spl_path"] == 1.0  # the expert against itself
    assert "development_time" in out["not_measured"]
    assert out["relative_improvement"]["task_success_rate_improvement"] == sr["relative"]
    none = cmp.compare_with_traditional(pol, [make_record(50, policy="expert")])
    assert none["status"].startswith("no nominal episode")


def test_summarize_headline_uses_nominal_only() -> None:
    recs = [make_record(s, success=True) for s in range(3)]
    recs += [make_record(s, perturbation="typos:0.2") for s in range(3)]
    out = m.summarize(recs)
    assert out["overall"]["success"]["rate"] == 1.0
    assert out["by"]["perturbation"]["typos:0.2"]["success"]["rate"] == 0.0
    assert out["robustness"]["score"] == 0.0
    assert not math.isnan(out["overall"]["safety"]["safety_score"])



def test_seed_metric_fields() -> None:
    recs = [make_record(0, success=True, steps=20, safety_steps={"collision": 2, "fall": 1}),
            make_record(1, steps=40, confidence=0.5)]
    seed = m.summarize(recs)["seed_metrics"]
    assert seed["task_success_rate"] == 0.5
    assert seed["execution_time"] == pytest.approx(30 / cv.CONTROL_HZ)
    assert seed["safety_violations"] == 3
    assert seed["confidence_calibration"] == pytest.approx(1 - 0.25)
    assert seed["human_satisfaction"] is None and seed["action_efficiency"] is None


def test_failure_reasons() -> None:
    recs = [make_record(0, success=True), make_record(1), make_record(2, estop=True)]
    recs[1]["failure_reason"] = "policy_error: ValueError: bad shape (3,)"
    more = [make_record(3), make_record(4), make_record(5)]
    more[0]["failure_reason"] = "sim_error: qacc unstable at t=1.2"
    more[1]["failure_reason"] = "policy_error: ValueError: other"
    assert m.success_metrics(recs + more)["failure_reasons"] == {
        "policy_error: ValueError": 2, "estop: fall": 1, "sim_error": 1, "time limit": 1}
