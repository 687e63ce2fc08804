"""Language gain: how much success the words buy, from the evaluator's language controls.

``vla-bench eval --language-control shuffled|blank`` runs every nominal episode a second time
with the instruction replaced (another episode's, or none) and the goal unchanged. The *language
gain* of a task is its nominal success minus its control success on the same episodes (task,
split, seed), with Newcombe's paired 95 % interval. A policy that grounds the words gains about
its success minus the task's chance level; one that ignores them gains nothing, whatever its
success.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vla_bench.evaluation.metrics import stats
from vla_bench.evaluation.metrics.grouping import Record, field, nominal_key
from vla_bench.evaluation.records import LANGUAGE_CONTROLS, NOMINAL

CONTROL_AXES = frozenset(LANGUAGE_CONTROLS.values())


def is_control(record: Record) -> bool:
    """Whether ``record`` ran under a language control (not a robustness perturbation)."""
    return record.get("perturbation_axis") in CONTROL_AXES


def _gain(pairs: Sequence[tuple[Record, Record]]) -> dict[str, Any]:
    table = {"both": 0, "nominal_only": 0, "control_only": 0, "neither": 0}
    for ctrl, nom in pairs:
        s_nom, s_ctrl = bool(field(nom, "success")), bool(field(ctrl, "success"))
        key = ("both" if s_ctrl else "nominal_only") if s_nom else (
            "control_only" if s_ctrl else "neither")
        table[key] += 1
    n = len(pairs)
    nominal = (table["both"] + table["nominal_only"]) / n
    control = (table["both"] + table["control_only"]) / n
    return {
        "n_pairs": n,
        "nominal_success": nominal,
        "control_success": control,
        "gain": nominal - control,
        "ci95": stats.paired_difference_interval(table["both"], table["nominal_only"],
                                                 table["control_only"], table["neither"]),
        "pairs": table,
    }


def language_gain(records: Sequence[Record]) -> dict[str, Any]:
    """Per control (``shuffled``/``blank``): the gain over all paired episodes and per task."""
    nominal = {nominal_key(r): r for r in records if field(r, "perturbation") == NOMINAL}
    out: dict[str, Any] = {}
    for control, axis in LANGUAGE_CONTROLS.items():
        pairs = [(r, nominal[nominal_key(r)]) for r in records
                 if r.get("perturbation_axis") == axis and nominal_key(r) in nominal]
        if not pairs:
            continue
        by_task: dict[str, list[tuple[Record, Record]]] = {}
        for pair in pairs:
            by_task.setdefault(str(field(pair[1], "env_id")), []).append(pair)
        out[control] = {**_gain(pairs),
                        "by_task": {t: _gain(p) for t, p in sorted(by_task.items())}}
    return out
