"""Sensor axes: noisy proprioception and observation latency."""

from __future__ import annotations

from collections import deque
from typing import Any, SupportsFloat

import numpy as np

from vla_bench import conventions as cv
from vla_bench.evaluation.perturbations.base import ObservationPerturbation


class ProprioNoise(ObservationPerturbation):
    """Additive Gaussian noise with std ``level`` on every entry of ``obs["state"]``, in the
    entry's own units (m, m/s, rad, rad/s, gripper opening fraction; see
    ``env.unwrapped.state_layout``). A fresh draw every step."""

    axis = "proprio_noise"

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        """A noisy copy of the state."""
        out = dict(obs)
        state = obs[cv.OBS_STATE]
        noise = self.rng.standard_normal(state.shape, dtype=np.float32) * np.float32(self.level)
        out[cv.OBS_STATE] = state + noise
        return out


class Latency(ObservationPerturbation):
    """Observations arrive ``level`` control steps late (``level`` / 20 s): step ``t`` returns
    the observation of step ``t - level``, and the reset observation until then. Reward,
    termination and info are those of the current step (ground truth for the metrics)."""

    axis = "latency"
    delays_observations = True  # a step's images are read later: the env must render them

    def on_reset(self, obs: dict[str, Any], info: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Fill the delay line with the reset observation."""
        self._queue: deque[dict[str, Any]] = deque([obs] * (int(self.level) + 1),
                                                   maxlen=int(self.level) + 1)
        return obs, info

    def on_step(self, obs: dict[str, Any], reward: SupportsFloat, terminated: bool,
                truncated: bool, info: dict[str, Any]
                ) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        """Push the new observation, return the oldest."""
        self._queue.append(obs)
        return self._queue[0], reward, terminated, truncated, info

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        """Unused: the delay needs the queue, see :meth:`on_step`."""
        return obs
