"""Generalisation: success per split and the seed's ``0.6·domain + 0.4·task`` transfer score.

Only nominal episodes count (perturbations are robustness, not generalisation). With ``s(x)``
the at-end success rate on split ``x``:

- domain transfer = ``min(s(cross_domain) / s(test_seen), 1)``;
- task transfer = ``min(mean(s(unseen_objects), s(unseen_layouts), s(unseen_phrasings)) /
  s(test_seen), 1)``, the mean over the unseen splits the run has;
- overall = ``0.6·domain + 0.4·task`` (A:3970), ``None`` unless both parts are defined.

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

    domain, domain_reason = None, None
    if seen is None:
        domain_reason = f"missing: no {SEEN} episodes"
    elif CROSS_DOMAIN not in per_split:
        domain_reason = f"missing: no {CROSS_DOMAIN} episodes"
    else:
        domain, domain_reason = capped_ratio(per_split[CROSS_DOMAIN]["rate"], seen)

    task, task_reason = None, None
    present = [s for s in TASK_SPLITS if s in per_split]
    if seen is None:
        task_reason = f"missing: no {SEEN} episodes"
    elif not present:
        task_reason = f"missing: none of {', '.join(TASK_SPLITS)}"
    else:
        unseen = stats.mean([per_split[s]["rate"] for s in present]) or 0.0
        task, task_reason = capped_ratio(unseen, seen)

    overall = None
    if domain is not None and task is not None:
        overall = WEIGHTS["domain"] * domain + WEIGHTS["task"] * task
    return {
        "splits": per_split,
        "domain_transfer": domain,
        "domain_transfer_reason": domain_reason,
        "task_transfer": task,
        "task_transfer_reason": task_reason,
        "task_transfer_splits": present,
        "score": overall,
        "score_definition": "0.6*domain_transfer + 0.4*task_transfer (each capped at 1)",
    }
