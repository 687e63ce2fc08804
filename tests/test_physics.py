"""Zero MuJoCo warnings and no ``sim_error`` under random and extreme actions, every mode;
in ``joint_pos`` the robot's weight is carried by its actuators only."""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np
import pytest
from helpers import CONTROL_MODES, ENV_IDS, KITCHEN_TASK_ID, make_env, robot_params

from vla_bench import conventions as cv

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


# -- whole-body (joint_pos) mode: the robot's weight is carried by its actuators only --------

WHOLE_BODY_ROBOTS = robot_params()


def _hold_home_action(env) -> np.ndarray:
    """The ``joint_pos`` action whose targets are the home pose, grippers open."""
    h = env.unwrapped.handles
    lo, hi = h.joint_range[:, 0], h.joint_range[:, 1]
    body = 2.0 * (h.home_qpos - lo) / (hi - lo) - 1.0
    return np.concatenate([body, [-1.0, -1.0]]).astype(np.float32)


def _pelvis_height(env) -> float:
    u = env.unwrapped
    x, y, z = u.data.xpos[u.handles.pelvis_body]
    return float(z - u.layout.ground_height(x, y))


@pytest.mark.parametrize("robot", WHOLE_BODY_ROBOTS)
def test_joint_pos_free_joint_gets_no_gravity_compensation(robot: str) -> None:
    """No passive lift at the free joint: gravity on the root is the robot's full weight."""
    env = make_env(KITCHEN_TASK_ID, robot=robot, control_mode="joint_pos", cameras=())
    try:
        env.reset(seed=0)
        u = env.unwrapped
        m, d, h = u.model, u.data, u.handles
        mujoco.mj_forward(m, d)
        root = h.base_dof_adr
        weight = m.body_subtreemass[m.body_rootid[h.pelvis_body]] * -m.opt.gravity[2]
        assert weight > 200.0, f"{robot}: implausible weight {weight:.0f} N"
        assert np.allclose(d.qfrc_gravcomp[root], 0.0, atol=1e-9), d.qfrc_gravcomp[root]
        assert abs(d.qfrc_passive[root[2]]) < 1e-6 and abs(d.qfrc_actuator[root[2]]) < 1e-6
        robot_bodies = m.body_rootid == m.body_rootid[h.pelvis_body]
        assert not np.any(m.body_gravcomp[robot_bodies]), "robot bodies are compensated"
        # At rest (qvel = 0) the bias on the root's z is gravity alone: the whole weight.
        d.qvel[:] = 0.0
        mujoco.mj_forward(m, d)
        assert d.qfrc_bias[root[2]] == pytest.approx(weight, rel=1e-6)
    finally:
        env.close()


@pytest.mark.parametrize("robot", WHOLE_BODY_ROBOTS)
def test_limp_robot_falls_in_joint_pos(robot: str) -> None:
    """Zero servo gains: nothing holds the robot up, so it collapses within 2 s."""
    env = make_env(KITCHEN_TASK_ID, robot=robot, control_mode="joint_pos", cameras=())
    try:
        env.reset(seed=0)
        u = env.unwrapped
        h = u.handles
        threshold = cv.FALL_HEIGHT_FRACTION * h.standing_height
        assert _pelvis_height(env) > threshold, "must start above the fall threshold"
        u.model.actuator_gainprm[h.actuator_ids, 0] = 0.0  # kp
        u.model.actuator_biasprm[h.actuator_ids, 1:3] = 0.0  # -kp, -kv
        hold = _hold_home_action(env)
        steps = round(2.0 / cv.CONTROL_DT)
        heights, falls = [], []
        for _ in range(steps):
            _, _, _, _, info = env.step(hold)
            heights.append(_pelvis_height(env))
            falls.append(info["safety"]["fall"])
        assert min(heights) < threshold, (
            f"{robot} limp for 2 s, pelvis never below {threshold:.2f} m (lowest "
            f"{min(heights):.2f} m): something other than the actuators carries its weight")
        assert falls[-1] == 1.0
    finally:
        env.close()
