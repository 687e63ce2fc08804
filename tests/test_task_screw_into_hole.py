"""ScrewIntoHole: the thread couples turn and advance, and only the named screw may turn."""

from __future__ import annotations

import numpy as np
import pytest

import vla_bench
from vla_bench.domains.workshop.screw_into_hole import HOLE_NAMES, LEAD, N_HOLES, TURN_GOAL

ENV_ID = "VLA-Workshop-ScrewIntoHole-v1"


@pytest.fixture(scope="module")
def env():
    e = vla_bench.make(ENV_ID, cameras=())
    yield e
    e.close()


def _turn(env, screw: int, torque: float, steps: int) -> dict:
    """Twist screw ``screw`` with an external torque about its axis while the robot idles."""
    u = env.unwrapped
    dof = u.model.jnt_dofadr[u.sim.joint_id(f"thumb_screw_{screw}_turn")]
    zero = np.zeros(env.action_space.shape, np.float32)
    info: dict = {}
    for _ in range(steps):
        u.data.qfrc_applied[dof] = torque
        _, _, terminated, _, info = env.step(zero)
        if terminated:
            break
    u.data.qfrc_applied[dof] = 0.0
    return info


def test_turning_drives_the_screw_in_and_succeeds(env) -> None:
    env.reset(seed=3)
    task = env.unwrapped.task
    sim = env.unwrapped.sim
    info = _turn(env, task.target, 0.3, 10)
    turned, depth = task.turned(sim, task.target), task.depth(sim, task.target)
    assert turned > 0.2, "a clockwise torque above the friction loss must turn the screw"
    assert depth == pytest.approx(LEAD * turned, rel=0.25, abs=0.002)
    assert not info["is_success"]
    info = _turn(env, task.target, 0.3, 400)
    assert info["is_success"], info["progress"]
    assert task.turned(sim, task.target) >= TURN_GOAL


def test_friction_holds_the_screw_without_a_push(env) -> None:
    env.reset(seed=4)
    task = env.unwrapped.task
    _turn(env, task.target, 0.0, 40)
    assert abs(task.turned(env.unwrapped.sim, task.target)) < 0.01


def test_turning_another_screw_fails(env) -> None:
    env.reset(seed=5)
    task = env.unwrapped.task
    other = next(i for i in range(N_HOLES) if i != task.target)
    info = _turn(env, other, 0.3, 200)
    assert info["is_failure"] and info["failure_reason"] == "turned the wrong screw"


def test_instruction_names_the_target_hole(env) -> None:
    for seed in range(12):
        _, info = env.reset(seed=seed)
        task = env.unwrapped.task
        text = task.instruction.lower()
        ring = env.unwrapped.sim.rgba(f"screw_ring_{task.target}")
        from vla_bench.scene.props import COLORS

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
