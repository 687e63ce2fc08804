"""One scripted-expert episode -> arrays and the metadata that replays it exactly.

A frame ``t`` pairs the observation *before* step ``t`` with the action taken there, so an
episode of ``T`` steps has ``T`` frames (the final observation is not stored, as in LeRobot).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vla_bench import conventions as cv


@dataclass
class Episode:
    """Arrays of one episode (``T`` frames) and its JSON-serialisable metadata."""

    rgb: dict[str, np.ndarray]  # camera -> uint8[T, H, W, 3]
    depth: dict[str, np.ndarray]  # camera -> float32[T, H, W, 1] (metres)
    state: np.ndarray  # float32[T, n]
    action: np.ndarray  # float32[T, a]
    reward: np.ndarray  # float32[T]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return int(self.action.shape[0])


def versions() -> dict[str, str]:
    """Versions that a replay depends on."""
    import mujoco

    import vla_bench

    return {"vla_bench": vla_bench.__version__, "mujoco": mujoco.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def env_kwargs(cameras: tuple[str, ...], image_size: tuple[int, int], phrasing: str = "train",
               **extra: Any) -> dict[str, Any]:
    """The JSON-serialisable kwargs for ``vla_bench.make`` that a generator run uses."""
    kwargs: dict[str, Any] = {"cameras": list(cameras), "image_size": list(image_size),
                              "phrasing": phrasing}
    kwargs.update(extra)
    return kwargs


def rollout(env: Any, env_id: str, kwargs: dict[str, Any], seed: int) -> Episode:
    """Run the expert from ``reset(seed=seed)`` until the episode ends."""
    u = env.unwrapped
    obs, info = env.reset(seed=seed)
    cams = list(u.cameras)
    rgb: dict[str, list] = {c: [] for c in cams}
    depth: dict[str, list] = {c: [] for c in cams}
    states, actions, rewards = [], [], []
    totals = dict.fromkeys(cv.SAFETY_CATEGORIES, 0.0)
    instruction = obs[cv.OBS_INSTRUCTION]
    task = info[cv.INFO_TASK]
    terminated = truncated = False
    while not (terminated or truncated):
        for i, cam in enumerate(cams):
            sfx = "" if i == 0 else f"_{cam}"
            rgb[cam].append(obs[cv.OBS_RGB + sfx])
            depth[cam].append(obs[cv.OBS_DEPTH + sfx])
        states.append(obs[cv.OBS_STATE])
        action = np.asarray(u.expert_action(), dtype=np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        actions.append(action)
        rewards.append(reward)
        for k, v in info[cv.INFO_SAFETY].items():
            totals[k] = totals.get(k, 0.0) + float(v)
    meta = {
        "env_id": env_id,
        "task": task,
        "instruction": instruction,
        "seed": int(seed),
        "env_kwargs": kwargs,
        "versions": versions(),
        "success": bool(info[cv.INFO_SUCCESS]),
        "success_once": bool(info[cv.INFO_SUCCESS_ONCE]),
        "failure_reason": info[cv.INFO_FAILURE_REASON],
        "sim_error": info[cv.INFO_SIM_ERROR],
        "steps": len(actions),
        "terminated": bool(terminated),
        "truncated": bool(truncated),
        "safety_totals": totals,
        "fps": cv.CONTROL_HZ,
        "state_names": list(u.state_layout),
        "action_names": list(u.action_layout),
    }
    return Episode(
        rgb={c: np.stack(v) for c, v in rgb.items()},
        depth={c: np.stack(v) for c, v in depth.items()},
        state=np.stack(states).astype(np.float32),
        action=np.stack(actions).astype(np.float32),
        reward=np.asarray(rewards, np.float32),
        meta=meta,
    )
