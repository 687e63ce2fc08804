"""vla_bench tasks as ``dm_env.Environment`` (DeepMind's RL environment interface).

``dm_env`` is DeepMind's ``dm-env`` package, a dependency of vla_bench (dm-control is not
needed). Usage::

    from vla_bench import dm_env_adapter

    env = dm_env_adapter.load("VLA-Kitchen-v1", seed=0)
    timestep = env.reset()                      # StepType.FIRST, reward/discount None
    while not timestep.last():
        timestep = env.step(env.gym_env.unwrapped.expert_action())
    print(env.instruction, env.info["is_success"])

Mapping from Gymnasium:

- observations are the same dict; ``instruction`` is a 0-d ``object`` array holding the
  string (spec: :class:`dm_env.specs.StringArray`), also available as ``env.instruction``;
- ``terminated`` (success, failure or ``sim_error``) gives ``StepType.LAST`` with discount 0;
  ``truncated`` (the task's step budget) gives ``LAST`` with discount 1;
- the step after a ``LAST`` starts a new episode (``dm_env``'s auto-reset contract);
- the last Gymnasium ``info`` dict (success, safety costs, cameras…) is ``env.info``.
"""

from __future__ import annotations

from typing import Any

import dm_env
import gymnasium as gym
import numpy as np
from dm_env import specs

from vla_bench import conventions as cv
from vla_bench.registry import make

__all__ = ["VLADmEnv", "load"]


def load(env_id: str, *, seed: int | None = None, max_episode_steps: int | None = None,
         **kwargs: Any) -> VLADmEnv:
    """A registered vla_bench id as a ``dm_env.Environment``.

    Args:
        env_id: a Gymnasium id from :func:`vla_bench.env_ids`, e.g. ``"VLA-Kitchen-v1"``.
        seed: seeds the first episode; later episodes continue the same random stream.
        max_episode_steps: an extra, shorter time limit (the task's own budget always holds).
        **kwargs: env options (``cameras``, ``image_size``, ``control_mode``, ``robot``…).
    """
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = max_episode_steps
    return VLADmEnv(make(env_id, **kwargs), seed=seed)


def _spec(space: gym.Space, name: str) -> specs.Array:
    if isinstance(space, gym.spaces.Text):
        return specs.StringArray((), name=name)
    if isinstance(space, gym.spaces.Box):
        low, high = np.asarray(space.low), np.asarray(space.high)
        if np.all(np.isneginf(low)) and np.all(np.isposinf(high)):
            return specs.Array(space.shape, space.dtype, name=name)
        return specs.BoundedArray(space.shape, space.dtype, low, high, name=name)
    raise TypeError(f"no dm_env spec for {type(space).__name__} ({name})")


class VLADmEnv(dm_env.Environment):
    """A vla_bench Gymnasium env behind the ``dm_env`` interface."""

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        self.gym_env = env
        self._seed = seed
        self._needs_reset = True
        self._obs_spec = {k: _spec(s, k) for k, s in env.observation_space.spaces.items()}
        a = env.action_space
        self._action_spec = specs.BoundedArray(a.shape, a.dtype, a.low, a.high, name="action")
        self.info: dict[str, Any] = {}

    @property
    def instruction(self) -> str:
        """This episode's instruction."""
        return str(self.gym_env.unwrapped.task_description)

    @property
    def action_layout(self) -> tuple[str, ...]:
        """The name of every action dimension (``env.unwrapped.action_layout``)."""
        return tuple(self.gym_env.unwrapped.action_layout)

    def _observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        out = dict(obs)
        out[cv.OBS_INSTRUCTION] = np.array(obs[cv.OBS_INSTRUCTION], dtype=object)
        return out

    def reset(self) -> dm_env.TimeStep:
        """Start a new episode."""
        obs, self.info = self.gym_env.reset(seed=self._seed)
        self._seed = None  # later episodes continue the seeded stream
        self._needs_reset = False
        return dm_env.restart(self._observation(obs))

    def step(self, action: Any) -> dm_env.TimeStep:
        """One control step; after the last step of an episode, a reset."""
        if self._needs_reset:
            return self.reset()
        obs, reward, terminated, truncated, self.info = self.gym_env.step(action)
        observation = self._observation(obs)
        if terminated:
            self._needs_reset = True
            return dm_env.termination(float(reward), observation)
        if truncated:
            self._needs_reset = True
            return dm_env.truncation(float(reward), observation, discount=1.0)
        return dm_env.transition(float(reward), observation, discount=1.0)

    def observation_spec(self) -> dict[str, specs.Array]:
        """One spec per observation key; ``instruction`` is a 0-d string array."""
        return dict(self._obs_spec)

    def action_spec(self) -> specs.BoundedArray:
        """``[-1, 1]`` float32, laid out as ``action_layout``."""
        return self._action_spec

    def reward_spec(self) -> specs.Array:
        """Scalar float reward: 1.0 on the step the task succeeds, else 0.0."""
        return specs.Array((), np.float64, name="reward")

    def close(self) -> None:
        """Close the wrapped Gymnasium env."""
        self.gym_env.close()
