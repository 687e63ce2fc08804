"""The ``dm_env`` adapter passes dm_env's own conformance mixin and keeps its specs."""

from __future__ import annotations

import numpy as np
from absl.testing import absltest
from dm_env import specs, test_utils
from helpers import KITCHEN_TASK_ID, SMALL

from vla_bench import dm_env_adapter


class KitchenDmEnvTest(test_utils.EnvironmentTestMixin, absltest.TestCase):
    """dm_env's contract checks, with a short time limit so that episodes end (and restart)."""

    def make_object_under_test(self):
        return dm_env_adapter.load(KITCHEN_TASK_ID, seed=0, image_size=SMALL,
                                   max_episode_steps=8)

    def make_action_sequence(self):
        for _ in range(20):  # crosses two episode ends
            yield self.make_action()


def test_specs_and_episode_end() -> None:
    env = dm_env_adapter.load(KITCHEN_TASK_ID, seed=3, image_size=SMALL, max_episode_steps=5)
    try:
        obs_spec = env.observation_spec()
        assert isinstance(env.action_spec(), specs.BoundedArray)
        assert env.action_spec().shape == (len(env.action_layout),)
        assert isinstance(obs_spec["instruction"], specs.StringArray)
        assert isinstance(obs_spec["rgb"], specs.BoundedArray) and obs_spec["rgb"].dtype == np.uint8
        assert obs_spec["depth"].dtype == np.float32

        ts = env.reset()
        assert ts.first() and ts.reward is None and ts.discount is None
        assert ts.observation["instruction"].item() == env.instruction != ""
        zero = np.zeros(env.action_spec().shape, np.float32)
        steps = [env.step(zero) for _ in range(5)]
        assert all(s.mid() for s in steps[:-1]) and steps[-1].last()
        assert steps[-1].discount == 1.0, "a time limit is a truncation: discount stays 1"
        assert env.step(zero).first(), "the step after LAST starts a new episode"
        assert "is_success" in env.info and "safety" in env.info
    finally:
        env.close()


def test_termination_has_zero_discount(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the NaN below makes MuJoCo write ./MUJOCO_LOG.TXT
    env = dm_env_adapter.load(KITCHEN_TASK_ID, seed=0, cameras=())
    try:
        ts = env.reset()
        while not ts.last():
            ts = env.step(env.gym_env.unwrapped.expert_action())
        terminated = env.info["is_success"] or env.info["is_failure"]
        assert ts.discount == (0.0 if terminated else 1.0)
        assert ts.reward == float(env.info["is_success"])
        # A diverged simulation terminates too (failure "sim_error").
        env.reset()
        env.gym_env.unwrapped.data.qvel[:] = np.nan
        ts = env.step(np.zeros(env.action_spec().shape, np.float32))
        assert ts.last() and ts.discount == 0.0 and env.info["sim_error"]
    finally:
        env.close()


def test_same_seed_same_first_observation() -> None:
    a = dm_env_adapter.load(KITCHEN_TASK_ID, seed=5, cameras=())
    b = dm_env_adapter.load(KITCHEN_TASK_ID, seed=5, cameras=())
    try:
        oa, ob = a.reset().observation, b.reset().observation
        np.testing.assert_array_equal(oa["state"], ob["state"])
        assert oa["instruction"].item() == ob["instruction"].item()
    finally:
        a.close()
        b.close()

