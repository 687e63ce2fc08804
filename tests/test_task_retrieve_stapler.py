"""RetrieveStapler: the drawers hold their items shut; only the named item, held and lifted out
of the named drawer, succeeds."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.office.retrieve_stapler import ITEMS, KINDS, LEVELS, item

ENV_ID = "VLA-Office-RetrieveStapler-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def test_goals_are_item_and_drawer_and_vary(env) -> None:
    seen = set()
    for seed in range(10):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert sorted(task.goals()) == sorted((k, lv) for k in KINDS for lv in LEVELS)
        assert task.goal in task.goals()
        text = env.unwrapped.instruction.lower()
        assert task.kind.replace("_", " ") in text and f"{task.level} drawer" in text
        other = next(g for g in task.goals() if g != task.goal)
        assert task.pursuing(other).target == item(*other)
        seen.add(task.goal)
    assert len(seen) >= 4


def test_items_rest_in_the_closed_drawers(env) -> None:
    env.reset(seed=0)
    sim = env.unwrapped.sim
    z0 = sim.positions(list(ITEMS))[:, 2].copy()
    zero = np.zeros(env.action_space.shape, np.float32)
    for _ in range(20):
        _, _, _, _, info = env.step(zero)
    assert np.allclose(sim.positions(list(ITEMS))[:, 2], z0, atol=0.005)
    for level in LEVELS:
        assert abs(env.unwrapped.task.opening(sim, level)) < 0.005
    assert not info["is_success"] and not info["is_failure"]


def test_lifted_but_not_held_item_does_not_count(env) -> None:
    env.reset(seed=1)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    sim.set_free_pose(task.target, sim.body_pos(task.target) + np.array([0.0, -0.3, 0.2]))
    mujoco.mj_forward(sim.model, sim.data)
    for _ in range(12):
        ev = task.evaluate(sim)
    assert not ev.success and not ev.failure


@pytest.mark.parametrize("same_kind", [False, True])
def test_taking_another_item_fails(env, same_kind: bool) -> None:
    """Another kind from the named drawer, or the named kind from the other drawer."""
    env.reset(seed=2)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    if same_kind:
        kind, level = task.kind, next(lv for lv in LEVELS if lv != task.level)
    else:
        kind, level = next(k for k in KINDS if k != task.kind), task.level
    wrong = item(kind, level)
    sim.set_free_pose(wrong, sim.body_pos(wrong) + np.array([0.0, -0.3, 0.15]))
    mujoco.mj_forward(sim.model, sim.data)
    ev = task.evaluate(sim)
    assert ev.failure and not ev.success
    assert f"{kind.replace('_', ' ')} from the {level} drawer" in ev.failure_reason
