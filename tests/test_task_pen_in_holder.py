"""PenInHolder: the pen must stand (upright-ish) in the holder, and only the named pen."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.office.pen_in_holder import GRASP_UP

ENV_ID = "VLA-Office-PenInHolder-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def _stand_in_holder(sim, pen: str, holder: str, tilt: float = 0.0) -> None:
    """Put the pen's lower end 1 cm above the holder's floor centre, tilted about x."""
    axis = np.array([0.0, -np.sin(tilt), np.cos(tilt)])
    pos = sim.body_pos(holder) + np.array([0.0, 0.0, 0.01]) + GRASP_UP * axis
    sim.set_free_pose(pen, pos, np.array([np.cos(tilt / 2), np.sin(tilt / 2), 0.0, 0.0]))
    mujoco.mj_forward(sim.model, sim.data)


def test_named_pen_upright_in_holder_succeeds(env) -> None:
    env.reset(seed=3)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    assert not task.evaluate(sim).success
    _stand_in_holder(sim, task.target, task.holder, tilt=0.2)
    ev = task.evaluate(sim)
    assert ev.success and not ev.failure


def test_tilted_pen_does_not_count(env) -> None:
    env.reset(seed=3)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    _stand_in_holder(sim, task.target, task.holder, tilt=1.0)
    assert not task.evaluate(sim).success


def test_wrong_pen_fails(env) -> None:
    env.reset(seed=4)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    other = next(p for p in task.pens if p != task.target)
    _stand_in_holder(sim, other, task.holder)
    ev = task.evaluate(sim)
    assert ev.failure and not ev.success and "wrong colour" in ev.failure_reason


def test_goals_are_the_four_pens_by_colour(env) -> None:
    seen = set()
    for seed in range(8):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert sorted(task.goals()) == sorted((c,) for c in task.colors) and len(task.goals()) == 4
        assert task.goal in task.goals() and f"{task.target_color} pen" in env.unwrapped.instruction
        seen.add(task.goal)
        # The expert's target follows the goal field alone.
        other = next(g for g in task.goals() if g != task.goal)
        assert task.pursuing(other).target == task.pens[task.colors.index(other[0])]
    assert len(seen) >= 3
