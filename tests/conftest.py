"""Shared test set-up: headless GL backend (before any GL import) and module-scoped envs.

Every registry-wide test parametrizes over :func:`vla_bench.env_ids`, so a new task is
tested by adding it to the registry. Envs are cached per test module (building one compiles
the model, about a second) and closed when the module ends. Helpers live in ``helpers.py``.
"""

from __future__ import annotations

import ctypes.util
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# MuJoCo/PyOpenGL read the backend once per process: choose it before anything imports GL.
if "MUJOCO_GL" not in os.environ:
    os.environ["MUJOCO_GL"] = "egl" if ctypes.util.find_library("EGL") else "osmesa"
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])

import gymnasium as gym  # noqa: E402
from helpers import make_env  # noqa: E402


@pytest.fixture(scope="module")
def env_cache() -> Iterator[Callable[..., gym.Env]]:
    """``env_cache(env_id, **kwargs)``: one env per (id, kwargs) for the whole module."""
    cache: dict[tuple, gym.Env] = {}

    def get(env_id: str, **kwargs: Any) -> gym.Env:
        key = (env_id, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if key not in cache:
            cache[key] = make_env(env_id, **kwargs)
        return cache[key]

    yield get
    for env in cache.values():
        env.close()
