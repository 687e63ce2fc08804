"""Scores of a leaderboard entry, computed from its episode records alone.

The headline is success on the nominal ``test_seen`` episodes (Wilson 95 % interval); beside it
the evaluator's safety score, robustness, calibration, generalisation, language gain,
parameters and per-call latency (:func:`vla_bench.evaluation.metrics.summarize`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vla_bench.evaluation.metrics.success import rate_with_ci
from vla_bench.evaluation.records import NOMINAL

HEADLINE_SPLIT = "test_seen"


def _headline(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records
            if r["split"] == HEADLINE_SPLIT and r["perturbation"] == NOMINAL]


def claimed_aggregates(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a bundle claims (and the leaderboard recomputes): headline success, per task."""
    head = _headline(records)
    by_task: dict[str, list[bool]] = {}
    for r in head:
        by_task.setdefault(r["env_id"], []).append(bool(r["success"]))
    return {
        "success_rate": sum(bool(r["success"]) for r in head) / len(head) if head else 0.0,
        "by_task": {t: sum(v) / len(v) for t, v in sorted(by_task.items())},
    }


def score(records: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> dict[str, Any]:
    """Every figure the leaderboard shows for one entry."""
    from vla_bench.evaluation.metrics import summarize

    m = summarize(records, config)
    head = _headline(records)
    gain = (m.get("language_gain") or {}).get("shuffled")
    calibration = m["calibration"]
    return {
        "success": rate_with_ci(sum(bool(r["success"]) for r in head), len(head)),
        **claimed_aggregates(records),
        "safety_score": m["overall"]["safety"]["safety_score"],
        "robustness": m["robustness"]["score"],
        "calibration": calibration.get("score") if calibration.get("status") == "reported"
        else None,
        "calibration_status": calibration.get("status"),
        "generalisation": m["generalisation"]["score"],
        "language_gain": None if gain is None else {"gain": gain["gain"], "ci95": gain["ci95"],
                                                    "n_pairs": gain["n_pairs"]},
        "parameters": m["compute"]["parameters"],
        "latency_ms": m["compute"]["latency_ms"]["median"],
        "n_episodes": len(records),
    }
