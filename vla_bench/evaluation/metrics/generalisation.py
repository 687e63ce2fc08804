"""Generalisation: success per split and the seed's ``0.6·domain + 0.4·task`` transfer score.

Only nominal episodes count (perturbations are robustness, not generalisation). With ``s(x)``
the at-end success rate on split ``x``:

- domain transfer = ``min(s(cross_domain) / s_E(test_seen), 1)``;
- task transfer = ``min(mean_x s(x) / mean_x s_x(test_seen), 1)`` over the unseen splits ``x``
  (``unseen_objects``, ``unseen_layouts``, ``unseen_phrasings``) the run has;
- overall = ``0.6·domain + 0.4·task`` (A:3970), ``None`` unless both parts are defined.

Like with like: the test_seen rate in each ratio is taken over the tasks (env ids) that the
held-out split ran on, not over the whole run. ``cross_domain`` exists only for the held-out
domain's tasks (the office); dividing it by test_seen over every task compared office tasks
with the whole suite, and identical performance on the same tasks could score 0.67. Tasks that
ran a held-out split without test_seen are left out of that ratio and counted.

Each part is ``None`` with a reason when its splits are missing. A test_seen success of 0 is
handled as in robustness: a positive held-out success gives 1.0 (the cap), zero gives ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.grouping import Record, field, group_records
from vla_bench.evaluation.metrics.robustness import NOMINAL, capped_ratio
from vla_bench.evaluation.metrics.success import rate_with_ci

SEEN = "test_seen"
CROSS_DOMAIN = "cross_domain"
TASK_SPLITS = ("unseen_objects", "unseen_layouts", "unseen_phrasings")
WEIGHTS = {"domain": 0.6, "task": 0.4}  # seed A:3970


def generalisation_metrics(records: Sequence[Record]) -> dict[str, Any]:
    """Success per split (nominal episodes) and the domain/task transfer scores."""
    nominal = [r for r in records if field(r, "perturbation") == NOMINAL]
    by_split = group_records(nominal, "split")
    per_split = {
        name: rate_with_ci(sum(bool(field(r, "success")) for r in group), len(group))
        for name, group in by_split.items()
    }
    seen = per_split.get(SEEN, {}).get("rate")
    # Each held-out split against test_seen on the same env ids.
    pairs = {name: _like_with_like(by_split[name], by_split.get(SEEN, []))
             for name in (CROSS_DOMAIN, *TASK_SPLITS) if name in by_split}

    domain, domain_reason = None, None
    if seen is None:
        domain_reason = f"missing: no {SEEN} episodes"
    elif CROSS_DOMAIN not in per_split:
        domain_reason = f"missing: no {CROSS_DOMAIN} episodes"
    elif pairs[CROSS_DOMAIN]["seen_success"] is None:
        domain_reason = f"missing: no {SEEN} episodes on the {CROSS_DOMAIN} tasks"
    else:
        p = pairs[CROSS_DOMAIN]
        domain, domain_reason = capped_ratio(p["heldout_success"], p["seen_success"])

    task, task_reason = None, None
    present = [s for s in TASK_SPLITS if s in per_split]
    usable = [s for s in present if pairs[s]["seen_success"] is not None]
    if seen is None:
        task_reason = f"missing: no {SEEN} episodes"
    elif not present:
        task_reason = f"missing: none of {', '.join(TASK_SPLITS)}"
    elif not usable:
        task_reason = f"missing: no {SEEN} episodes on the tasks of {', '.join(present)}"
    else:
        unseen = stats.mean([pairs[s]["heldout_success"] for s in usable]) or 0.0
        seen_same = stats.mean([pairs[s]["seen_success"] for s in usable]) or 0.0
        task, task_reason = capped_ratio(unseen, seen_same)

    overall = None
    if domain is not None and task is not None:
        overall = WEIGHTS["domain"] * domain + WEIGHTS["task"] * task
    return {
        "splits": per_split,
        "domain_transfer": domain,
        "domain_transfer_reason": domain_reason,
        "task_transfer": task,
        "task_transfer_reason": task_reason,
        "task_transfer_splits": usable,
        "like_with_like": pairs,
        "score": overall,
        "score_definition": "0.6*domain_transfer + 0.4*task_transfer (each capped at 1; each "
                            "held-out split against test_seen on the same tasks)",
    }


def _like_with_like(heldout: Sequence[Record], seen: Sequence[Record]) -> dict[str, Any]:
    """Success of a held-out split and of test_seen, both over the env ids that ran both."""
    seen_ids = {str(field(r, "env_id")) for r in seen}
    held_ids = {str(field(r, "env_id")) for r in heldout}
    shared = seen_ids & held_ids
    h = [r for r in heldout if str(field(r, "env_id")) in shared]
    s = [r for r in seen if str(field(r, "env_id")) in shared]
    return {
        "env_ids": sorted(shared),
        "heldout_success": stats.ratio(sum(bool(field(r, "success")) for r in h), len(h)),
        "seen_success": stats.ratio(sum(bool(field(r, "success")) for r in s), len(s)),
        "n_heldout": len(h),
        "n_seen": len(s),
        "heldout_without_seen": len([r for r in heldout if str(field(r, "env_id")) not in shared]),
    }
