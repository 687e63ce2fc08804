"""Kitchen tasks: the words decide the goal (≥ 4 alternatives that vary per episode), the blind
expert's goal reaches it only through the goal fields, OpenFridge fails on a wrong door, and the
held-out kitchen is the training row mirrored."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from vla_bench.domains.kitchen.open_fridge import DOORS, HOLD_STEPS, OPEN_ANGLE

FRIDGE = "VLA-Kitchen-OpenFridge-v1"
KITCHEN_TASKS = (FRIDGE, "VLA-Kitchen-PlaceAppleInBasket-v1", "VLA-Kitchen-PourLiquid-v1",
                 "VLA-Kitchen-CutVegetable-v1", "VLA-Manipulation-PickAndPlace-v1",
                 "VLA-Social-AssistPerson-v1")


def _words(task: Any, goal: tuple) -> list[str]:
    """The instruction words that name ``goal`` (object bodies are named by colour and kind)."""
    if task.name in ("PickAndPlace", "AssistPerson"):
        from vla_bench.domains.kitchen.pick_and_place import SURFACES
        words = [task.kind_of[goal[0]]]
        if len(goal) > 1:
            words.append(SURFACES[task.surface_of[goal[1]]].spoken)
        return words
    return [str(v) for v in goal]


@pytest.mark.parametrize("env_id", KITCHEN_TASKS)
def test_goal_is_named_among_alternatives_and_varies(env_cache, env_id: str) -> None:
    env = env_cache(env_id, cameras=())
    seen = set()
    for seed in range(8):
        obs, _ = env.reset(seed=seed)
        task = env.unwrapped.task
        goals = [tuple(g) for g in task.goals()]
        assert len(goals) >= 4 and len(set(goals)) == len(goals), goals
        assert task.goal in goals
        for word in _words(task, task.goal):
            assert word in obs["instruction"].lower(), (obs["instruction"], task.goal)
        other = next(g for g in goals if g != task.goal)
        assert task.pursuing(other).goal == other and task.goal != other
        assert task.goal_bodies(env.unwrapped._task_sim)
        seen.add(task.goal)
    assert len(seen) >= 3, seen


def test_blind_expert_derives_its_target_from_the_goal_fields(env_cache) -> None:
    env = env_cache("VLA-Kitchen-CutVegetable-v1", cameras=())
    env.reset(seed=0)
    task = env.unwrapped.task
    for goal in task.goals():
        assert task.pursuing(goal).target_kind == goal[0]
        assert task.kinds[task.pursuing(goal).target_index][0] == goal[0]
    apple = env_cache("VLA-Kitchen-PlaceAppleInBasket-v1", cameras=())
    apple.reset(seed=0)
    task = apple.unwrapped.task
    assert {task.pursuing(g).target for g in task.goals()} == set(task.apples)


def _open(env, door: str, steps: int = HOLD_STEPS + 1) -> dict:
    """Hold ``door`` open past the threshold (robot idle) for ``steps`` control steps."""
    sim = env.unwrapped._task_sim
    info: dict = {}
    for _ in range(steps):
        sim.set_joint_qpos(DOORS[door].hinge, -(OPEN_ANGLE + 0.1))
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        if terminated:
            break
    return info


def test_open_fridge_named_door_succeeds_and_wrong_door_fails(env_cache) -> None:
    env = env_cache(FRIDGE, cameras=())
    env.reset(seed=0)
    named = env.unwrapped.task.door
    assert _open(env, named)["is_success"]
    env.reset(seed=0)
    wrong = next(d for d in DOORS if d != named)
    info = _open(env, wrong, steps=1)
    assert info["is_failure"] and info["failure_reason"] == f"opened the {wrong} instead"


def test_held_out_kitchen_is_the_row_mirrored(env_cache) -> None:
    """Training: fridge right (−y), sink at the counter's +y end; held-out: the other way
    round, with the task's objects on the mirrored side of the counter too."""
    for split, side in (("train", 1.0), ("unseen_layouts", -1.0)):
        env = env_cache("VLA-Kitchen-PlaceAppleInBasket-v1", cameras=(), split=split)
        for seed in range(3):
            env.reset(seed=seed)
            u = env.unwrapped
            sim, task = u._task_sim, u.task
            assert u.layout.side == side
            assert np.sign(sim.static_pose("fridge")[0][1]) == -side
            assert np.sign(sim.static_pose("shelves")[0][1]) == side
            counter_yaw = sim.static_pose("counter")[1]
            assert abs(np.cos(counter_yaw) - side) < 0.01  # turned half a turn: sink at −y
            center = u.layout.counter_top(sim)[0]
            ys = (sim.positions(task.apples)[:, 1] - center[1]) * side
            assert np.all((ys > -0.9) & (ys < 0.47)), ys  # clear of the sink's end
