"""Policies: the protocol the evaluator calls, a lazy registry, and built-in baselines.

``make_policy("expert")``, ``make_policy("random")``, ``make_policy("noop")``;
``register_policy("mine", "my_pkg.policy:make")``; third-party packages use the
``vla_bench.policies`` entry-point group. See :mod:`vla_bench.policies.base` for the
call order and action chunks.
"""

from __future__ import annotations

from vla_bench.policies.base import Policy, PolicyError, PolicyOutput, as_output
from vla_bench.policies.registry import (
    ENTRY_POINT_GROUP,
    list_policies,
    make_policy,
    register_policy,
    resolve_target,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Policy",
    "PolicyError",
    "PolicyOutput",
    "as_output",
    "list_policies",
    "make_policy",
    "register_policy",
    "resolve_target",
]
