"""``MultiSceneEnv``: one Gymnasium env over tasks placed in different domain scenes.

The family ids (``VLA-Manipulation-v1``, ``VLA-Navigation-v1``, ``VLA-Social-v1``) sample among
tasks that live in several scenes. A compiled MuJoCo model holds one scene, so this env keeps
one :class:`~vla_bench.env.VLAEnv` per scene, built the first time one of its tasks is drawn,
and hands each episode to the scene of its task. Observation and action spaces are the same in
every scene (they depend on the robot, control mode and cameras only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from vla_bench.env import RESET_OPTIONS, VLAEnv
from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.language import check_instruction
from vla_bench.registry import find_task


class MultiSceneEnv(gym.Env[dict[str, Any], np.ndarray]):
    """Samples a task per episode among ``tasks`` (any scenes) and runs it in its scene.

    Args:
        tasks: task names (set by the registered id).
        task: pin one of ``tasks`` for every episode.
        **kwargs: passed to every scene's :class:`VLAEnv` (robot, control_mode, cameras, …).

    ``reset(seed=s)`` hands ``s`` itself to the scene env, so an episode is the same one the
    per-task id gives for that seed. Attributes the scene env has (``task``, ``sim``,
    ``expert_action`` …) are read from the scene of the current episode.
    """

    metadata = VLAEnv.metadata

    def __init__(self, tasks: Sequence[str], task: str | None = None, **kwargs: Any) -> None:
        entries = [find_task(t) for t in tasks]
        if task is not None:
            if task not in tasks:
                raise UnknownNameError("task", task, list(tasks))
            entries = [find_task(task)]
        self.task_names = [e.name for e in entries]
        self._domain_of = {e.name: e.domain for e in entries}
        self._scene_tasks: dict[str, list[str]] = {}
        for e in entries:
            self._scene_tasks.setdefault(e.domain, []).append(e.name)
        self._kwargs = kwargs
        self._scenes: dict[str, VLAEnv] = {}
        self.render_mode = kwargs.get("render_mode")
        self._active = self._scene(entries[0].domain)
        self.observation_space = self._active.observation_space
        self.action_space = self._active.action_space

    def _scene(self, domain: str) -> VLAEnv:
        if domain not in self._scenes:
            env = VLAEnv(domain=domain, tasks=self._scene_tasks[domain], **self._kwargs)
            if self._scenes and env.observation_space != self._active.observation_space:
                raise ConfigError(f"the {domain} scene's observation space differs from the "
                                  "others; family envs need identical spaces")
            self._scenes[domain] = env
        return self._scenes[domain]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Draw this episode's task (or ``options={"task": name}``) and reset its scene.

        ``options={"instruction": text}`` is passed on: see :meth:`VLAEnv.reset`.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        name = options.pop("task", None)
        passed: dict[str, str] = {}  # checked here, before a scene is built for a bad value
        if "instruction" in options:
            passed["instruction"] = check_instruction(options.pop("instruction"))
        if options:
            raise ConfigError(f"unknown reset option(s) {sorted(options)}; "
                              f"valid: {list(RESET_OPTIONS)}")
        if name is None:
            name = self.task_names[int(self.np_random.integers(len(self.task_names)))]
        elif name not in self.task_names:
            raise UnknownNameError("task", str(name), self.task_names)
        sub_seed = seed if seed is not None else int(self.np_random.integers(2**31))
        self._active = self._scene(self._domain_of[name])
        return self._active.reset(seed=sub_seed, options={"task": name, **passed})

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """One control step in the current episode's scene."""
        return self._active.step(action)

    def render(self) -> np.ndarray | None:
        """Third-person frame of the current scene."""
        return self._active.render()

    def close(self) -> None:
        """Close every scene built so far."""
        for env in self._scenes.values():
            env.close()
        self._scenes.clear()

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this class lacks: the scene env's (task, sim, …).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._active, name)
