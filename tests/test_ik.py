"""Arm IK with the waist (:mod:`vla_bench.control.ik`): the 29-DoF G1 bends at the waist to
reach what its arm alone cannot, straightens when it need not, and holds wrist orientation."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import vla_bench
from vla_bench.control.ik import ArmsIK, orientation_error
from vla_bench.geometry import yaw_matrix
from vla_bench.robots.adapter import SIDES

ENV_ID = "VLA-Outdoor-WalkToTree-v1"


@pytest.fixture(scope="module")
def env():
    env = vla_bench.make(ENV_ID, cameras=())
    env.reset(seed=0)
    yield env
    env.close()


def _targets(env, right: np.ndarray, rot: np.ndarray | None = None) -> list:
    """The right TCP at ``right`` (robot frame, z above the ground); the left where it is."""
    e = env.unwrapped
    c, d = e.controller, e.data
    x, y, yaw = c.base_pose(d)
    world = yaw_matrix(yaw)
    ground = e.layout.ground_height(x, y)
    out = []
    for side in SIDES:
        pos, cur = c.tcp_in_robot_frame(d, side)
        out.append((world @ pos + [x, y, 0.0], None))
    out[0] = (world @ right + [x, y, ground], None if rot is None else world @ rot)
    return out


def _solve(ik: ArmsIK, qpos: np.ndarray, targets: list, iterations: int = 200) -> np.ndarray:
    q = qpos.copy()
    for _ in range(iterations):
        arms, waist = ik.solve(q, targets)
        for chain, a in zip(ik.arms, arms, strict=True):
            q[chain.qpos_adr] = a
        q[ik.waist.qpos_adr] = waist
    return q


def _tcp(env, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = env.unwrapped
    d = mujoco.MjData(e.model)
    d.qpos[:] = q
    mujoco.mj_kinematics(e.model, d)
    site = e.handles.tcp_sites["right"]
    return d.site_xpos[site].copy(), d.site_xmat[site].reshape(3, 3).copy()


def test_waist_reaches_low_where_the_arm_alone_cannot(env) -> None:
    e = env.unwrapped
    ik = e.controller.ik
    arm_only = ArmsIK(e.model, ik.arms, rot_weight=ik.rot_weight)
    low = _targets(env, np.array([0.35, -0.2, 0.5]))  # a hand 0.5 m above the floor
    q = _solve(ik, e.data.qpos, low)
    assert np.linalg.norm(_tcp(env, q)[0] - low[0][0]) < 0.01
    assert np.abs(q[ik.waist.qpos_adr] - ik.waist_home).max() > 0.15, "it bends at the waist"
    q_arm = _solve(arm_only, e.data.qpos, low)
    assert np.linalg.norm(_tcp(env, q_arm)[0] - low[0][0]) > 0.1, "the arm alone falls short"


def test_waist_straightens_when_the_arm_suffices(env) -> None:
    e = env.unwrapped
    ik = e.controller.ik
    bent = _solve(ik, e.data.qpos, _targets(env, np.array([0.35, -0.2, 0.5])))
    near = _targets(env, np.array([0.3, -0.2, 0.85]))
    q = _solve(ik, bent, near, iterations=400)
    assert np.linalg.norm(_tcp(env, q)[0] - near[0][0]) < 0.005
    assert np.abs(q[ik.waist.qpos_adr] - ik.waist_home).max() < 0.05, "back upright"


def test_wrist_orientation_is_tracked(env) -> None:
    e = env.unwrapped
    ik = e.controller.ik
    _, start = e.controller.tcp_in_robot_frame(e.data, "right")
    turn = np.array([[np.cos(0.6), -np.sin(0.6), 0.0], [np.sin(0.6), np.cos(0.6), 0.0],
                     [0.0, 0.0, 1.0]])  # the gripper turned 34° about the vertical
    pos = np.array([0.3, -0.2, 0.85])
    targets = _targets(env, pos, turn @ start)
    q = _solve(ik, e.data.qpos, targets)
    tcp, rot = _tcp(env, q)
    assert np.linalg.norm(tcp - targets[0][0]) < 0.01
    assert np.linalg.norm(orientation_error(targets[0][1], rot)) < 0.05
