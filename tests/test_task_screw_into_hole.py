"""ScrewIntoHole: a loose screw advances only as it turns, seats, and only the named may turn."""

from __future__ import annotations

import numpy as np
import pytest

import vla_bench
from vla_bench.domains.workshop.screw_into_hole import (
    HOLE_NAMES,
    HOME_TOL,
    LEAD,
    N_HOLES,
    TRAVEL,
)
from vla_bench.scene.props import COLORS

ENV_ID = "VLA-Workshop-ScrewIntoHole-v1"


@pytest.fixture(scope="module")
def env():
    e = vla_bench.make(ENV_ID, cameras=())
    yield e
    e.close()


def _push(env, joint: str, force: float, steps: int) -> dict:
    """Apply a generalised force to ``joint`` of the scene while the robot idles; last info."""
    u = env.unwrapped
    dof = u.model.jnt_dofadr[u.sim.joint_id(joint)]
    zero = np.zeros(env.action_space.shape, np.float32)
    info: dict = {}
    for _ in range(steps):
        u.data.qfrc_applied[dof] = force
        _, _, terminated, _, info = env.step(zero)
        if terminated:
            break
    u.data.qfrc_applied[dof] = 0.0
    return info


def _turn(env, screw: int, torque: float, steps: int) -> dict:
    """Twist screw ``screw`` with an external torque about its axis."""
    return _push(env, f"thumb_screw_{screw}_turn", torque, steps)


def test_turning_drives_the_screw_in_until_it_seats(env) -> None:
    env.reset(seed=3)
    task = env.unwrapped.task
    sim = env.unwrapped.sim
    info = _turn(env, task.target, 0.2, 10)
    turned, depth = task.turned(sim, task.target), task.depth(sim, task.target)
    assert turned > 0.2, "a clockwise torque above the friction loss must turn the screw"
    assert depth == pytest.approx(LEAD * turned, abs=0.001)
    assert not info["is_success"]
    info = _turn(env, task.target, 0.2, 400)
    assert info["is_success"], info["progress"]
    assert task.turned(sim, task.target) >= (TRAVEL - HOME_TOL) / LEAD - 0.3


def test_the_seated_shoulder_stops_the_screw(env) -> None:
    env.reset(seed=3)
    u = env.unwrapped
    u.task.target = (u.task.target + 1) % N_HOLES  # keep turning without ending the episode
    screw = (u.task.target + N_HOLES - 1) % N_HOLES
    _turn(env, screw, 0.5, 200)
    assert u.task.depth(u.sim, screw) <= TRAVEL + 0.001


def test_pushing_along_the_axis_does_not_drive_it(env) -> None:
    """The thread's friction: a firm shove along the axis (below the friction loss the thread
    reflects there) creeps the screw in by less than a tenth of its travel."""
    env.reset(seed=6)
    task = env.unwrapped.task
    _push(env, f"thumb_screw_{task.target}_slide", 20.0, 40)
    assert abs(task.depth(env.unwrapped.sim, task.target)) < TRAVEL / 10


def test_friction_holds_the_screw_without_a_push(env) -> None:
    env.reset(seed=4)
    task = env.unwrapped.task
    _turn(env, task.target, 0.0, 40)
    assert abs(task.turned(env.unwrapped.sim, task.target)) < 0.01


def test_turning_another_screw_fails(env) -> None:
    env.reset(seed=5)
    task = env.unwrapped.task
    other = next(i for i in range(N_HOLES) if i != task.target)
    info = _turn(env, other, 0.2, 200)
    assert info["is_failure"] and info["failure_reason"] == "turned the wrong screw"


def test_instruction_names_the_target_hole(env) -> None:
    for seed in range(12):
        env.reset(seed=seed)
        task = env.unwrapped.task
        text = task.instruction.lower()
        ring = env.unwrapped.sim.rgba(f"screw_ring_{task.target}")
        color = next(c for c, v in COLORS.items() if np.allclose(v, ring))
        assert HOLE_NAMES[task.target] in text or f"{color} ring" in text, text


def test_every_hole_is_an_alternative_and_named(env) -> None:
    named = set()
    for seed in range(16):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert [g[0] for g in task.goals()] == list(range(N_HOLES)) and task.goal in task.goals()
        named.add(task.target)
    assert named == set(range(N_HOLES))


def test_expert_drives_it_home_in_several_pinched_strokes(env) -> None:
    """Only the pinch's friction turns the round knob: the expert re-grips stroke by stroke."""
    env.reset(seed=0)
    u = env.unwrapped
    screw = f"thumb_screw_{u.task.target}"
    pinches, held, info = 0, False, {}
    for _ in range(600):
        _, _, terminated, truncated, info = env.step(u.expert_action())
        now = u.sim.grasped_by(screw, "right")
        pinches += now and not held
        held = now
        if terminated or truncated:
            break
    assert info["is_success"], info["progress"]
    assert pinches >= 3
