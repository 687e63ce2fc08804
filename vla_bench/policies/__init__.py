"""Policies: the protocol the evaluator calls, a lazy registry, and built-in baselines.

``make_policy("expert")``, ``make_policy("random")``, ``make_policy("noop")``;
``register_policy("mine", "my_pkg.policy:make")`` (``privileged=True`` only for controllers
that read the simulator; only those get the env); third-party packages use the
``vla_bench.policies`` entry-point group. See :mod:`vla_bench.policies.base` for the
call order and action chunks.
"""

from __future__ import annotations

from vla_bench.policies.base import (
    CameraSpec,
    Policy,
    PolicyError,
    PolicyOutput,
    PolicySpec,
    as_output,
)
from vla_bench.policies.registry import (
    ENTRY_POINT_GROUP,
    is_privileged,
    is_privileged_target,
    list_policies,
    make_policy,
    register_policy,
    resolve_target,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CameraSpec",
    "Policy",
    "PolicyError",
    "PolicyOutput",
    "PolicySpec",
    "as_output",
    "is_privileged",
    "is_privileged_target",
    "list_policies",
    "make_policy",
    "register_policy",
    "resolve_target",
]
