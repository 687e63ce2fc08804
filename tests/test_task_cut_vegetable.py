"""CutVegetable: the halves are welded until a real cut, and separate for real after it."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.kitchen import cut_vegetable as cv

ENV_ID = "VLA-Kitchen-CutVegetable-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def _zero(env) -> np.ndarray:
    return np.zeros(env.action_space.shape, np.float32)


def _push(env, body: str, force: np.ndarray, steps: int = 10) -> None:
    u = env.unwrapped
    b = u.sim.body_id(body)
    for _ in range(steps):
        u.data.xfrc_applied[b, :3] = force
        env.step(_zero(env))
    u.data.xfrc_applied[b] = 0.0


def test_welded_halves_move_together(env) -> None:
    env.reset(seed=0)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    a, b = task.halves[0]
    pb0 = sim.body_pos(b)
    _push(env, a, np.array([3.0, 0.0, 0.0]))  # slide half a away from the robot
    moved = sim.body_pos(b) - pb0
    assert moved[0] > 0.01, "half b did not follow half a: the weld is not holding"
    assert abs(task.gap(sim, 0)) < 0.002


def _hold_knife_through_seam(env, v: int, press: float, steps: int = 6) -> bool:
    """Hold the knife kinematically with its edge on the board across vegetable ``v``'s
    middle (blade across the vegetable), pushing it down with ``press`` newtons."""
    u = env.unwrapped
    sim, task = u.sim, u.task
    knife = sim.body_id(cv._KNIFE)
    s, axis = task.seam(sim, v)
    yaw = np.arctan2(axis[1], axis[0]) - np.pi / 2  # knife x across the vegetable
    quat = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
    c, si = np.cos(yaw), np.sin(yaw)
    blade_to_origin = -np.array([c * cv.BLADE_X, si * cv.BLADE_X, 0.0])
    origin = np.array([s[0], s[1], task.board_top + cv.BLADE_HALF[2] - cv.BLADE_Z]) \
        + blade_to_origin
    for _ in range(steps):
        sim.set_free_pose(cv._KNIFE, origin + np.array([0, 0, -0.0005]), quat)
        u.data.xfrc_applied[knife, :3] = (0.0, 0.0, -press)
        mujoco.mj_forward(u.model, u.data)
        env.step(_zero(env))
    u.data.xfrc_applied[knife] = 0.0
    return not sim.weld_active(task.welds[v])


def test_blade_resting_lightly_does_not_cut(env) -> None:
    env.reset(seed=1)
    # The knife's own weight (0.15 kg, ~1.5 N) is below the cut force.
    assert not _hold_knife_through_seam(env, 0, press=0.0)


def test_pressing_the_blade_through_cuts_and_the_halves_separate(env) -> None:
    env.reset(seed=1)
    u = env.unwrapped
    task, sim = u.task, u.sim
    assert _hold_knife_through_seam(env, 0, press=2 * cv.CUT_FORCE)
    assert sim.weld_active(task.welds[1]), "the other vegetable must stay whole"
    # The blade now collides with the halves: lifting it away leaves them apart.
    sim.set_free_pose(cv._KNIFE, sim.body_pos(cv._KNIFE) + np.array([0, 0, 0.15]))
    for _ in range(5):
        env.step(_zero(env))
    assert task.gap(sim, 0) >= cv.GAP_SUCCESS
    # Independent bodies: pushing one half leaves the other where it is.
    a, b = task.halves[0]
    pb0 = sim.body_pos(b)
    _push(env, a, np.array([3.0, 0.0, 0.0]))
    assert np.linalg.norm(sim.body_pos(b) - pb0) < 0.003


def test_wrong_vegetable_fails_and_target_succeeds(env) -> None:
    env.reset(seed=2)
    task = env.unwrapped.task
    other = (task.target_index + 1) % len(task.welds)
    assert _hold_knife_through_seam(env, other, press=2 * cv.CUT_FORCE, steps=1)
    _, _, terminated, _, info = env.step(_zero(env))
    assert terminated and info["failure_reason"] == "cut the wrong vegetable"


def test_spoon_cannot_cut(env) -> None:
    """Pressed down onto the vegetable's middle, the spoon's head rests on it (contact)."""
    env.reset(seed=3)
    u = env.unwrapped
    sim, task = u.sim, u.task
    s, _ = task.seam(sim, task.target_index)
    spoon = sim.body_id(cv._SPOON)
    head_to_origin = np.array([-0.095, 0.0, 0.0])
    sim.set_free_pose(cv._SPOON, s + head_to_origin + np.array([0, 0, 2 * cv.VEG_RADIUS + 0.03]))
    for _ in range(15):
        u.data.xfrc_applied[spoon, :3] = (0.0, 0.0, -10.0)
        _, _, _, _, info = env.step(_zero(env))
    u.data.xfrc_applied[spoon] = 0.0
    assert all(sim.weld_active(w) for w in task.welds)
    assert not info["is_success"]
    head = sim.geom_pos(f"{cv._SPOON}_head")
    # Not through to the board, as a cutting edge would have to be.
    assert head[2] - cv.BLADE_HALF[2] > task.board_top + 0.006, "the spoon went through"
