"""RetrieveStapler: the drawers hang at a desk's height and hold their items shut; only the named
item, held and lifted out of the named drawer, succeeds; the expert bends at the waist to it."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.office.layout import DESK_TOP
from vla_bench.domains.office.retrieve_stapler import (
    ITEMS,
    KINDS,
    LEVELS,
    UNDER_TOP,
    UNIT,
    UNIT_HALF,
    WALL,
    drawer,
    item,
)

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


def test_drawers_hang_under_the_desk_top_at_desk_height(env) -> None:
    """A desk pedestal: the unit's top under the desk top, the drawers' floors well below it
    (top drawer just under it, the bottom one 10 cm lower), not raised onto the desk."""
    for seed in range(3):
        env.reset(seed=seed)
        sim = env.unwrapped.sim
        assert sim.body_pos(UNIT)[2] + 2 * UNIT_HALF[2] <= UNDER_TOP
        floors = {lv: sim.body_pos(drawer(lv))[2] for lv in LEVELS}
        assert 0.58 <= floors["top"] <= DESK_TOP - 0.1
        assert 0.48 <= floors["bottom"] <= floors["top"] - 0.08
        for name in ITEMS:  # every item lies inside its drawer, below the desk top
            level = name.rsplit("_", 1)[1]
            assert floors[level] < sim.body_pos(name)[2] < floors[level] + WALL + 0.05


def _goal_level(env, seed: int) -> str:
    """The drawer the instruction names in episode ``seed``."""
    env.reset(seed=seed)
    return env.unwrapped.task.level


def test_expert_bends_at_the_waist_to_the_bottom_drawer(env) -> None:
    """The default robot's hand reaches the bottom drawer only by bending at the waist."""
    seed = next(s for s in range(40) if _goal_level(env, s) == "bottom")
    env.reset(seed=seed)
    u = env.unwrapped
    sim = u.sim
    pitch = u.handles.qpos_adr[list(u.handles.model.body_joints).index(
        next(j for j in u.handles.model.waist if "pitch" in j))]
    low, bend, info = np.inf, 0.0, {}
    for _ in range(u.task.max_episode_steps):
        _, _, term, trunc, info = env.step(u.expert_action())
        low = min(low, float(sim.tcp("right")[2]))
        bend = max(bend, float(sim.data.qpos[pitch]))
        if term or trunc or info["is_success"]:
            break
    assert info["is_success"]
    assert low < 0.6  # the pinch of the bottom item (and tab) ...
    assert bend > 0.3  # ... with the torso bent forward
