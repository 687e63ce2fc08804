"""Evaluation: runner, protocol, metrics, perturbations and reports.

``from vla_bench.evaluation import evaluate`` runs a policy under protocol v1
(:mod:`.runner`); records follow :mod:`.records`; manifests live in :mod:`.protocol`. Names
are resolved lazily so importing a submodule (metrics, perturbations) stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EvalResult", "evaluate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from vla_bench.evaluation import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'vla_bench.evaluation' has no attribute {name!r}")
