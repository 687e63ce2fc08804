"""Calibration of a policy's reported success probability against at-end success.

Per-episode confidence: the record's ``confidence["episode"]`` when present, else
``confidence["final"]``. Both come from confidences the policy reported with its actions, i.e.
before the outcome was known (the runner sets ``episode`` to the last of them); an answer given
after the episode ended is kept as ``confidence["post_episode"]`` and never scored, so
calibration cannot be gamed by answering once the result is visible.
Episodes without either are left out and counted; a run where no episode has one is marked
``"not reported"`` rather than scored, so such policies are not penalised.

- ECE: equal-width bins on [0, 1] (default 10; a confidence of exactly 1.0 falls in the last
  bin), ``Σ_b (n_b / N) · |acc_b − conf_b|``;
- Brier: ``mean((c_i − y_i)²)``; the seed's calibration score is ``1 − Brier`` (A:3839-3844);
- failure-prediction AUROC: how well the confidence separates successes from failures
  (Mann–Whitney, ties count one half); equal to the AUROC of ``1 − c`` for predicting failure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.grouping import InvalidRecordError, Record, field

NOT_REPORTED = "not reported"
DEFAULT_BINS = 10


def episode_confidence(record: Record) -> float | None:
    """The episode's confidence (``episode``, else ``final``), checked to lie in [0, 1]."""
    conf = field(record, "confidence")
    if conf is None:
        return None
    value = conf.get("episode")
    if value is None:
        value = conf.get("final")
    if value is None:
        return None
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidRecordError(
            f"episode {record.get('key')!r} reports confidence {value}: a success probability "
            f"must lie in [0, 1] (fix the policy's confidence output)"
        )
    return value


def ece(confidences: Sequence[float], outcomes: Sequence[bool],
        n_bins: int = DEFAULT_BINS) -> float:
    """Expected calibration error with ``n_bins`` equal-width bins."""
    diagram = reliability_diagram(confidences, outcomes, n_bins)
    total = sum(diagram["counts"])
    if total == 0:
        raise ValueError("ECE of an empty set is undefined")
    return sum(
        count / total * abs(acc - conf)
        for count, acc, conf in zip(diagram["counts"], diagram["accuracy"],
                                    diagram["confidence"], strict=True)
        if count
    )


def brier(confidences: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mean squared difference between confidence and the 0/1 outcome."""
    if not confidences:
        raise ValueError("Brier score of an empty set is undefined")
    return sum((c - float(y)) ** 2 for c, y in zip(confidences, outcomes, strict=True)) / len(
        confidences)


def reliability_diagram(
    confidences: Sequence[float], outcomes: Sequence[bool], n_bins: int = DEFAULT_BINS
) -> dict[str, list[Any]]:
    """Per equal-width bin: centre, edges, count, accuracy and mean confidence (None if empty)."""
    if n_bins < 1:
        raise ValueError(f"n_bins={n_bins} must be at least 1")
    counts = [0] * n_bins
    hits = [0.0] * n_bins
    conf_sum = [0.0] * n_bins
    for c, y in zip(confidences, outcomes, strict=True):
        b = min(int(c * n_bins), n_bins - 1)
        counts[b] += 1
        hits[b] += float(y)
        conf_sum[b] += c
    return {
        "bin_edges": [i / n_bins for i in range(n_bins + 1)],
        "bin_centers": [(i + 0.5) / n_bins for i in range(n_bins)],
        "counts": counts,
        "accuracy": [hits[i] / counts[i] if counts[i] else None for i in range(n_bins)],
        "confidence": [conf_sum[i] / counts[i] if counts[i] else None for i in range(n_bins)],
    }


def calibration_metrics(records: Sequence[Record], n_bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """ECE, Brier, ``1 − Brier``, reliability diagram and AUROC, or ``status: not reported``."""
    pairs = [(c, bool(field(r, "success"))) for r in records
             if (c := episode_confidence(r)) is not None]
    if not pairs:
        return {"status": NOT_REPORTED, "n_with_confidence": 0, "n_episodes": len(records)}
    conf = [c for c, _ in pairs]
    outcome = [y for _, y in pairs]
    b = brier(conf, outcome)
    auc = stats.auroc(conf, outcome)
    auc_reason = None
    if auc is None:
        auc_reason = ("undefined: every scored episode " + ("succeeded" if all(outcome)
                                                             else "failed"))
    return {
        "status": "reported",
        "n_with_confidence": len(pairs),
        "n_episodes": len(records),
        "confidence_source": "confidence.episode, else confidence.final",
        "n_bins": n_bins,
        "ece": ece(conf, outcome, n_bins),
        "brier": b,
        "score": 1.0 - b,
        "mean_confidence": stats.mean(conf),
        "success_rate": sum(outcome) / len(outcome),
        "auroc": auc,
        "auroc_reason": auc_reason,
        "reliability": reliability_diagram(conf, outcome, n_bins),
    }
