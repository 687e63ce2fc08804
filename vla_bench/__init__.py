"""vla_bench: a humanoid Vision-Language-Action benchmark in MuJoCo.

``import vla_bench`` registers the built-in tasks and their Gymnasium ids (``VLA-Kitchen-v1``
…). It imports numpy, MuJoCo and Gymnasium, never torch, matplotlib or the dataset writers:
renderers, policies and reports load when they are used.
"""

from __future__ import annotations

from vla_bench import registry
from vla_bench.errors import (
    ConfigError,
    InvalidActionError,
    RenderBackendError,
    UnknownNameError,
    VlaBenchError,
)
from vla_bench.registry import env_ids, make, register_task

__version__ = "0.1.0"

registry.register_envs()


def __getattr__(name: str) -> object:
    # TASKS grows when a task module outside the package registers: always the live tuple.
    if name == "TASKS":
        return registry.TASKS
    raise AttributeError(f"module 'vla_bench' has no attribute {name!r}")

__all__ = [
    "TASKS",
    "ConfigError",
    "InvalidActionError",
    "RenderBackendError",
    "UnknownNameError",
    "VlaBenchError",
    "__version__",
    "env_ids",
    "make",
    "register_task",
]
