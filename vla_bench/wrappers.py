"""Wrappers that reshape the vla_bench contract for other ecosystems."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from vla_bench import conventions as cv


class LeRobotObservation(gym.ObservationWrapper):
    """LeRobot's gym contract: ``{"pixels": {camera: HxWx3 uint8}, "agent_pos": float32[n]}``.

    The instruction stays available as ``env.task_description`` (what ``lerobot-eval`` reads
    with ``env.call("task_description")``) and ``info["task_description"]``; success is
    ``info["is_success"]`` already.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        base = env.unwrapped
        space = env.observation_space
        pixels = {}
        self._keys: list[tuple[str, str]] = []
        for i, cam in enumerate(base.cameras):
            key = cv.OBS_RGB if i == 0 else f"{cv.OBS_RGB}_{cam}"
            pixels[cam] = space[key]
            self._keys.append((cam, key))
        spaces: dict[str, gym.Space] = {"agent_pos": space[cv.OBS_STATE]}
        if pixels:
            spaces["pixels"] = gym.spaces.Dict(pixels)
        self.observation_space = gym.spaces.Dict(spaces)

    @property
    def task_description(self) -> str:
        """The current episode's instruction."""
        return self.env.unwrapped.task_description

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        """Map vla_bench keys to LeRobot keys."""
        out: dict[str, Any] = {"agent_pos": np.asarray(observation[cv.OBS_STATE], np.float32)}
        if self._keys:
            out["pixels"] = {cam: observation[key] for cam, key in self._keys}
        return out
