"""Success metrics: at-end and ever success rates with Wilson 95 % intervals, time to success.

At-end success is ``is_success`` at the episode's last step (what a user sees when the
episode stops); "ever" counts an episode that reached success at some step and later lost it
(e.g. an object knocked back out), which separates reaching the goal from keeping it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from vla_bench import conventions as cv
from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.grouping import Record, field, group_records


def rate_with_ci(successes: int, n: int) -> dict[str, Any]:
    """``{"rate", "ci95": [low, high], "successes", "n"}``; rate and CI are ``None`` for n=0."""
    ci = stats.wilson_interval(successes, n)
    return {
        "rate": successes / n if n else None,
        "ci95": list(ci) if ci is not None else None,
        "successes": successes,
        "n": n,
    }


def success_metrics(records: Sequence[Record]) -> dict[str, Any]:
    """Success at end and ever (with CIs) and steps/seconds to first success.

    Time to success is taken over the episodes that reached success at some step
    (``success_step`` set), in steps and in simulated seconds (steps / CONTROL_HZ), so it is
    machine-independent; wall-clock time is reported separately by the compute metrics.
    """
    n = len(records)
    at_end = sum(bool(field(r, "success")) for r in records)
    ever = sum(bool(field(r, "success_ever")) for r in records)
    steps = [int(field(r, "success_step")) for r in records if field(r, "success_step") is not None]
    return {
        "n_episodes": n,
        "success": rate_with_ci(at_end, n),
        "success_ever": rate_with_ci(ever, n),
        "failure_reasons": failure_reasons(records),
        "steps_to_success": {"mean": stats.mean(steps), "median": stats.median(steps),
                             "n": len(steps)},
        "time_to_success_s": {
            "mean": _seconds(stats.mean(steps)), "median": _seconds(stats.median(steps)),
            "n": len(steps),
        },
    }


def failure_reasons(records: Sequence[Record]) -> dict[str, int]:
    """Failed episodes (at end) counted by reason, most frequent first.

    Policy errors and simulator errors are grouped by kind (``policy_error: ValueError``,
    ``sim_error``) since their messages differ per episode; task reasons and e-stops are kept
    as they are. A failure without a reason (time limit reached) counts as ``"time limit"``.
    """
    counts: dict[str, int] = {}
    for rec in records:
        if field(rec, "success"):
            continue
        reason = str(field(rec, "failure_reason") or "time limit")
        if reason.startswith("sim_error"):
            reason = "sim_error"
        elif reason.startswith("policy_error"):
            error_type = reason.partition(":")[2].strip().partition(":")[0]
            reason = f"policy_error: {error_type}" if error_type else "policy_error"
        counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def success_by(
    records: Sequence[Record], by: str | Callable[[Record], Any]
) -> dict[str, dict[str, Any]]:
    """:func:`success_metrics` per group (task, domain, family, split, perturbation…)."""
    return {name: success_metrics(group) for name, group in group_records(records, by).items()}


def _seconds(steps: float | None) -> float | None:
    return None if steps is None else steps / cv.CONTROL_HZ
