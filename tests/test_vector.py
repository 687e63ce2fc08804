"""Vector envs: AsyncVectorEnv workers render and return the right instructions.

Known gymnasium 1.4.0 issues this test steers around (and documents): ``shared_memory=True``
corrupts ``Text`` observations, and ``fork`` hangs once the parent made a GL context, so the
workers start with ``forkserver`` and ``shared_memory=False``.
"""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest
from helpers import KITCHEN_TASK_ID, SMALL

import vla_bench

pytestmark = pytest.mark.timeout(300)


def _factory(env_id: str, **kwargs):
    # functools.partial of an importable function pickles by reference: the worker imports
    # vla_bench (which registers the ids) before calling it.
    return functools.partial(vla_bench.make, env_id, image_size=SMALL, **kwargs)


@pytest.mark.parametrize("env_id", ["VLA-Kitchen-v1"])
def test_async_vector_env(env_id: str) -> None:
    n = 2
    venv = gym.vector.AsyncVectorEnv([_factory(env_id)] * n, shared_memory=False,
                                     context="forkserver")
    try:
        obs, infos = venv.reset(seed=[10, 11])
        assert obs["rgb"].shape == (n, *SMALL, 3) and obs["rgb"].dtype == np.uint8
        assert obs["depth"].shape == (n, *SMALL, 1) and obs["depth"].dtype == np.float32
        assert len(obs["instruction"]) == n
        # Each worker's instruction is the one a single env gives for that seed.
        single = vla_bench.make(env_id, cameras=())
        try:
            for i, seed in enumerate([10, 11]):
                o, _ = single.reset(seed=seed)
                assert obs["instruction"][i] == o["instruction"] == infos["task_description"][i]
        finally:
            single.close()
        for _ in range(5):
            actions = np.zeros(venv.action_space.shape, np.float32)
            obs, rewards, terminated, truncated, infos = venv.step(actions)
            assert rewards.shape == (n,)
            assert all(isinstance(s, str) and s for s in obs["instruction"])
            assert all(e == "" for e in infos["sim_error"])
            assert obs["rgb"].std() > 0
    finally:
        venv.close()


def test_sync_vector_env() -> None:
    venv = gym.vector.SyncVectorEnv([_factory(KITCHEN_TASK_ID)] * 2)
    try:
        obs, _ = venv.reset(seed=0)
        assert obs["rgb"].shape == (2, *SMALL, 3)
        assert obs["instruction"][0] != "" and obs["instruction"][1] != ""
        venv.step(np.zeros(venv.action_space.shape, np.float32))
    finally:
        venv.close()
