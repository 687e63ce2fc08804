"""vla_bench: a humanoid Vision-Language-Action benchmark in MuJoCo.

``import vla_bench`` registers the Gymnasium ids (``VLA-Kitchen-v1`` …) and imports nothing
heavy: tasks, renderers and policies load when an env or policy is made.
"""

from __future__ import annotations

from vla_bench.errors import (
    ConfigError,
    InvalidActionError,
    RenderBackendError,
    UnknownNameError,
    VlaBenchError,
)
from vla_bench.registry import TASKS, env_ids, make, register_envs

__version__ = "0.1.0"

register_envs()

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
]
