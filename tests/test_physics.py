"""Zero MuJoCo warnings and no ``sim_error`` under random and extreme actions, every mode."""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np
import pytest
from helpers import CONTROL_MODES, ENV_IDS, make_env

N_STEPS = 100


def _policies(n: int) -> dict[str, Callable[[int], np.ndarray]]:
    rng = np.random.default_rng(0)
    return {
        "random": lambda t: rng.uniform(-1, 1, n).astype(np.float32),
        "all_plus": lambda t: np.ones(n, np.float32),
        "all_minus": lambda t: -np.ones(n, np.float32),
        "alternating": lambda t: np.full(n, 1.0 if t % 2 else -1.0, np.float32),
    }


def _warnings(data: mujoco.MjData) -> dict[str, int]:
    return {mujoco.mjtWarning(i).name: int(w.number) for i, w in enumerate(data.warning)
            if w.number}


@pytest.mark.parametrize("mode", CONTROL_MODES)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_no_mujoco_warnings(env_id: str, mode: str) -> None:
    env = make_env(env_id, control_mode=mode, cameras=())
    u = env.unwrapped
    try:
        for seed, (name, policy) in enumerate(_policies(env.action_space.shape[0]).items()):
            env.reset(seed=seed)
            assert not _warnings(u.data), f"warnings right after reset: {_warnings(u.data)}"
            for t in range(N_STEPS):
                _, _, terminated, truncated, info = env.step(policy(t))
                assert info["sim_error"] == "", f"{name} step {t}: {info['sim_error']}"
                warned = _warnings(u.data)
                assert not warned, f"{mode}/{name} step {t}: MuJoCo warnings {warned}"
                if terminated or truncated:
                    env.reset(seed=1000 + t)
            assert np.all(np.isfinite(u.data.qpos)) and np.all(np.isfinite(u.data.qvel))
    finally:
        env.close()


def test_divergence_ends_episode_with_sim_error(tmp_path, monkeypatch) -> None:
    """A diverged state ends the episode with ``sim_error`` instead of raising (spec §11)."""
    monkeypatch.chdir(tmp_path)  # MuJoCo appends its warning to ./MUJOCO_LOG.TXT
    env = make_env(ENV_IDS[0], cameras=())
    try:
        env.reset(seed=0)
        env.unwrapped.data.qvel[:] = np.nan  # what a blown-up integrator leaves behind
        zero = np.zeros(env.action_space.shape, np.float32)
        obs, reward, terminated, truncated, info = env.step(zero)
        assert info["sim_error"], "a NaN state must be reported in info['sim_error']"
        assert terminated and not info["is_success"]
        assert info["failure_reason"] == "sim_error"
        assert np.all(np.isfinite(obs["state"])), "observation after a reset-by-MuJoCo is finite"
        env.reset(seed=1)  # and the env is usable again
        _, _, _, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        assert info["sim_error"] == ""
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode", CONTROL_MODES)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_no_divergence_over_full_random_episodes(env_id: str, mode: str) -> None:
    """Whole episodes (the task's full step budget) of random actions, three seeds."""
    env = make_env(env_id, control_mode=mode, cameras=())
    try:
        for seed in range(3):
            env.reset(seed=seed)
            rng = np.random.default_rng(seed)
            for t in range(env.unwrapped.task.max_episode_steps):
                action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
                _, _, terminated, truncated, info = env.step(action)
                assert info["sim_error"] == "", f"seed {seed} step {t}: {info['sim_error']}"
                if terminated or truncated:
                    break
    finally:
        env.close()
