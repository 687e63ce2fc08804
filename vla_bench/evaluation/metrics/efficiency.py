"""Efficiency against the expert (SPL-style) and action smoothness.

Path and time efficiency pair each policy episode with the expert's episode of the same
``(env_id, split, perturbation, seed)``. Only pairs where the expert succeeded count, because a
failed expert run is no reference. Per pair ``i`` (Anderson et al.'s SPL, with ``S_i`` at-end
success):

- path:  ``S_i · l*_i / max(l_i, l*_i)`` with ``l`` the pelvis xy path length; when both paths
  are 0 (a manipulation task solved without walking) the ratio is 1;
- time:  ``S_i · t*_i / max(t_i, t*_i)`` with ``t`` the simulated time to first success
  (``success_step / CONTROL_HZ``), or the episode duration when it never succeeded.

Smoothness comes from the records' per-episode action statistics: the seed's temporal
consistency ``1 / (1 + mean_t ‖a_{t+1} − a_t‖)`` (A:3983-3996), the mean action change, and the
jerk ``mean_t ‖Δ³a‖ · CONTROL_HZ³`` computed within each episode (the seed's "jerk" was a second
difference taken across episode boundaries, B:1486-1490).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vla_bench import conventions as cv
from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.grouping import Record, field, pair_key


def spl_term(success: bool, length: float, reference: float) -> float:
    """``S · l* / max(l, l*)``; 1·S when both lengths are 0."""
    if not success:
        return 0.0
    longest = max(length, reference)
    return 1.0 if longest <= 0 else reference / longest


def time_to_outcome(record: Record) -> float:
    """Simulated seconds to first success, or the episode's duration without success."""
    step = field(record, "success_step")
    return step / cv.CONTROL_HZ if step is not None else float(field(record, "duration_s"))


def efficiency_metrics(
    records: Sequence[Record], expert_records: Sequence[Record] | None
) -> dict[str, Any]:
    """SPL-style path and time efficiency vs the expert (paired), or a reason when impossible."""
    if not expert_records:
        return {"status": "no expert records: run the expert on the same manifest",
                "spl_path": None, "spl_time": None, "n_pairs": 0}
    expert = {pair_key(r): r for r in expert_records}
    pairs = [(r, expert[pair_key(r)]) for r in records if pair_key(r) in expert]
    usable = [(r, e) for r, e in pairs if field(e, "success")]
    if not usable:
        reason = ("no episode shared with the expert" if not pairs
                  else "the expert failed every shared episode")
        return {"status": reason, "spl_path": None, "spl_time": None, "n_pairs": 0,
                "n_shared": len(pairs)}
    spl_path = [spl_term(bool(field(r, "success")), float(field(r, "path_length_m")),
                         float(field(e, "path_length_m"))) for r, e in usable]
    spl_time = [spl_term(bool(field(r, "success")), time_to_outcome(r), time_to_outcome(e))
                for r, e in usable]
    both = [(r, e) for r, e in usable if field(r, "success")]
    path_ratio = [float(field(r, "path_length_m")) / float(field(e, "path_length_m"))
                  for r, e in both if float(field(e, "path_length_m")) > 0]
    time_ratio = [time_to_outcome(r) / time_to_outcome(e) for r, e in both
                  if time_to_outcome(e) > 0]
    return {
        "status": "ok",
        "n_shared": len(pairs),
        "n_pairs": len(usable),
        "spl_path": stats.mean(spl_path),
        "spl_time": stats.mean(spl_time),
        # Over pairs both solved: how much longer/slower the policy was (1 = as the expert).
        "path_length_ratio_mean": stats.mean(path_ratio),
        "time_ratio_mean": stats.mean(time_ratio),
        "n_both_succeeded": len(both),
    }


def smoothness_metrics(records: Sequence[Record]) -> dict[str, Any]:
    """Mean/median over episodes of temporal consistency, mean action change and jerk."""
    out: dict[str, Any] = {"n_episodes": len(records)}
    for name in ("temporal_consistency", "mean_delta", "jerk"):
        values = [float(field(r, "actions")[name]) for r in records
                  if field(r, "actions").get(name) is not None]
        out[name] = {"mean": stats.mean(values), "median": stats.median(values)}
    paths = [float(field(r, "path_length_m")) for r in records]
    durations = [float(field(r, "duration_s")) for r in records]
    out["path_length_m"] = {"mean": stats.mean(paths), "median": stats.median(paths)}
    out["duration_s"] = {"mean": stats.mean(durations), "median": stats.median(durations)}
    return out
