"""LeRobot-style observation wrapper."""

from __future__ import annotations

import numpy as np
from helpers import KITCHEN_TASK_ID, make_env

from vla_bench.wrappers import LeRobotObservation


def test_lerobot_keys_match_the_base_observation() -> None:
    env = make_env(KITCHEN_TASK_ID, cameras=("head", "external"))
    wrapped = LeRobotObservation(env)
    try:
        obs, info = wrapped.reset(seed=1)
        raw = env.unwrapped._observation()
        assert set(obs) == {"pixels", "agent_pos"}
        assert set(obs["pixels"]) == {"head", "external"}
        np.testing.assert_array_equal(obs["pixels"]["head"], raw["rgb"])
        np.testing.assert_array_equal(obs["pixels"]["external"], raw["rgb_external"])
        np.testing.assert_array_equal(obs["agent_pos"], raw["state"])
        assert wrapped.observation_space.contains(obs)
        assert wrapped.task_description == info["task_description"] != ""
        obs, _, _, _, info = wrapped.step(np.zeros(wrapped.action_space.shape, np.float32))
        assert "is_success" in info and obs["agent_pos"].dtype == np.float32
    finally:
        wrapped.close()
