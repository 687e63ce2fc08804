"""A second humanoid (H1) runs the same tasks through the robot-adapter interface."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CONTROL_MODES, KITCHEN_TASK_ID, TASK_IDS, make_env, robot_params, seeded_actions

import vla_bench
from vla_bench.conventions import CONTROL_DT
from vla_bench.robots import ROBOTS


def test_robots_registered() -> None:
    assert {"g1", "h1"} <= set(ROBOTS)


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_h1_builds_resets_steps(env_id: str) -> None:
    env = make_env(env_id, robot="h1")
    try:
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert not info["is_success"]
        for action in seeded_actions(env, 20, seed=0):
            obs, _, terminated, truncated, info = env.step(action)
            assert info["sim_error"] == ""
            if terminated or truncated:
                env.reset()
        assert env.observation_space.contains(obs)
        assert info["safety"]["fall"] == 0.0, "the carried base keeps H1 upright"
    finally:
        env.close()


@pytest.mark.parametrize("mode", CONTROL_MODES)
def test_h1_control_modes(mode: str) -> None:
    env = make_env(TASK_IDS[0], robot="h1", control_mode=mode, cameras=())
    try:
        env.reset(seed=2)
        assert len(env.unwrapped.action_layout) == env.action_space.shape[0]
        for action in seeded_actions(env, 30, seed=2):
            _, _, _, _, info = env.step(action)
            assert info["sim_error"] == ""
        assert not any(w.number for w in env.unwrapped.data.warning)
    finally:
        env.close()


def test_same_task_different_robot_layouts() -> None:
    """Task code is robot-agnostic: both robots build the scene; their layouts may differ."""
    g1 = vla_bench.make(TASK_IDS[0], cameras=(), control_mode="joint_pos")
    h1 = vla_bench.make(TASK_IDS[0], cameras=(), robot="h1", control_mode="joint_pos")
    try:
        g1.reset(seed=0)
        h1.reset(seed=0)
        assert g1.unwrapped.instruction == h1.unwrapped.instruction
        assert g1.unwrapped.action_layout != h1.unwrapped.action_layout
        assert np.isfinite(h1.unwrapped.handles.standing_height)
    finally:
        g1.close()
        h1.close()


@pytest.mark.parametrize("robot", robot_params())
def test_default_servos_hold_home_pose_in_joint_pos(robot: str) -> None:
    """On a flat floor the joint servos alone (no gravity compensation) keep the home pose
    standing for 5 s: pelvis height steady, torso within 5° of upright. Not a balance
    controller: a push, a slope or a stone can still topple the robot."""
    env = make_env(KITCHEN_TASK_ID, robot=robot, control_mode="joint_pos", cameras=())
    try:
        env.reset(seed=0)
        u = env.unwrapped
        h = u.handles
        lo, hi = h.joint_range[:, 0], h.joint_range[:, 1]
        hold = np.concatenate([2.0 * (h.home_qpos - lo) / (hi - lo) - 1.0, [-1.0, -1.0]])
        heights, tilts = [], []
        for _ in range(round(5.0 / CONTROL_DT)):
            _, _, terminated, _, info = env.step(hold.astype(np.float32))
            assert info["safety"]["fall"] == 0.0 and not terminated
            heights.append(float(u.data.xpos[h.pelvis_body][2]))
            tilts.append(float(np.degrees(np.arccos(min(1.0, u.data.xmat[h.torso_body][8])))))
        settled = heights[round(1.0 / CONTROL_DT):]
        assert max(settled) - min(settled) < 0.01, f"{robot}: pelvis height drifts {settled}"
        assert max(tilts) < 5.0, f"{robot}: torso tilts {max(tilts):.1f}°"
        assert np.abs(u.data.qpos[h.qpos_adr] - h.home_qpos).max() < 0.1
    finally:
        env.close()
