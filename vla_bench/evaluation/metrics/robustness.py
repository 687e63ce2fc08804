"""Robustness: success under each perturbation vs nominal on the same episodes (paired).

A perturbed record ``<env_id>|<split>|<axis:level>|<seed>`` is paired with the nominal record
of the same ``(env_id, split, seed)``; unpaired records on either side are left out and
counted, so a drop is never an artefact of comparing different seeds.

Seed score (A:3880-3890): ``min(mean_p success_p / mean_p nominal_p, 1)`` over the perturbation
conditions ``p`` (every ``axis:level`` in the run), with ``nominal_p`` the nominal success rate
of the very episodes (same task, split and seed) that condition ``p`` ran on. The nominal side
is paired per condition, not pooled over the run: conditions that run on some tasks only
(``distractors`` in the kitchen and workshop, ``mass`` where an object is free) would otherwise
compare one task mix with another, and a policy that no condition affects could score 0.5
instead of 1. The seed
divided by zero when the nominal success is 0; here that case is defined by the limit of the
capped ratio:

- nominal 0 and some perturbed success > 0 → 1.0 (the perturbations cost nothing);
- nominal 0 and every perturbed success 0 → ``None`` ("undefined: nominal success is 0 and so
  is every perturbed success": a policy that never succeeds has no robustness to measure).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.grouping import Record, field, nominal_key
from vla_bench.evaluation.metrics.language import is_control
from vla_bench.evaluation.metrics.success import rate_with_ci

NOMINAL = "nominal"


def capped_ratio(perturbed: float, nominal: float) -> tuple[float | None, str | None]:
    """``min(perturbed / nominal, 1)`` with the nominal-0 cases above; ``(value, reason)``."""
    if nominal > 0:
        return min(perturbed / nominal, 1.0), None
    if perturbed > 0:
        return 1.0, None
    return None, "undefined: nominal success is 0 and so is the perturbed success"


def robustness_metrics(records: Sequence[Record]) -> dict[str, Any]:
    """Per condition and per axis: paired success, nominal success, drop; and the seed score."""
    nominal = {nominal_key(r): r for r in records if field(r, "perturbation") == NOMINAL}
    conditions: dict[str, list[tuple[Record, Record]]] = {}
    unpaired = 0
    for rec in records:
        pert = field(rec, "perturbation")
        if pert == NOMINAL or is_control(rec):  # language controls: see metrics.language
            continue
        base = nominal.get(nominal_key(rec))
        if base is None:
            unpaired += 1
            continue
        conditions.setdefault(str(pert), []).append((rec, base))
    if not conditions:
        return {"status": "no perturbed episodes paired with nominal ones",
                "unpaired_perturbed": unpaired, "conditions": {}, "axes": {}, "score": None}

    per_condition: dict[str, dict[str, Any]] = {}
    used_nominal: dict[tuple[str, str, int], Record] = {}
    for name in sorted(conditions):
        pairs = conditions[name]
        pert_succ = sum(bool(field(p, "success")) for p, _ in pairs)
        nom_succ = sum(bool(field(b, "success")) for _, b in pairs)
        n = len(pairs)
        axis = pairs[0][0].get("perturbation_axis") or name.split(":", 1)[0]
        level = pairs[0][0].get("perturbation_level")
        per_condition[name] = {
            "axis": axis,
            "level": level,
            "n_pairs": n,
            "success": rate_with_ci(pert_succ, n),
            "nominal_success": nom_succ / n,
            "drop": (nom_succ - pert_succ) / n,
            # Episodes the perturbation broke / fixed: a drop near 0 can hide both.
            "flipped_to_failure": sum(bool(field(b, "success")) and not field(p, "success")
                                      for p, b in pairs),
            "flipped_to_success": sum(bool(field(p, "success")) and not field(b, "success")
                                      for p, b in pairs),
        }
        for _, base in pairs:
            used_nominal[nominal_key(base)] = base

    axes: dict[str, dict[str, Any]] = {}
    for name, cond in per_condition.items():
        axes.setdefault(cond["axis"], {"conditions": []})["conditions"].append(name)
    for entry in axes.values():
        conds = [per_condition[c] for c in entry["conditions"]]
        mean_succ = stats.mean([c["success"]["rate"] for c in conds])
        mean_nom = stats.mean([c["nominal_success"] for c in conds])
        entry["mean_success"] = mean_succ
        entry["mean_nominal_success"] = mean_nom
        entry["mean_drop"] = stats.mean([c["drop"] for c in conds])
        entry["score"], entry["score_reason"] = capped_ratio(mean_succ or 0.0, mean_nom or 0.0)

    # The score pairs each condition with its own nominal episodes (mean_nominal), so both
    # sides average over the same task mix; the pooled rate is kept for reading only.
    pooled = sum(bool(field(r, "success")) for r in used_nominal.values()) / len(used_nominal)
    mean_perturbed = stats.mean([c["success"]["rate"] for c in per_condition.values()]) or 0.0
    mean_nominal = stats.mean([c["nominal_success"] for c in per_condition.values()]) or 0.0
    score, reason = capped_ratio(mean_perturbed, mean_nominal)
    return {
        "nominal_success": mean_nominal,
        "nominal_success_pooled": pooled,
        "n_nominal_paired": len(used_nominal),
        "mean_perturbed_success": mean_perturbed,
        "score": score,
        "score_reason": reason,
        "score_definition": "min(mean_p success_p / mean_p nominal_p, 1) over axis:level "
                            "conditions, nominal_p on the episodes (task, split, seed) of p",
        "unpaired_perturbed": unpaired,
        "conditions": per_condition,
        "axes": axes,
    }
