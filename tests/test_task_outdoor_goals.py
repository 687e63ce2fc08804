"""Outdoor navigation goals (issue 9): the words pick one of ≥ 4 alternatives that vary per
episode, the expert pursues any of them, and pursuing a wrong one fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from vla_bench import conventions as cv
from vla_bench.domains.outdoor.layout import LANDMARKS
from vla_bench.domains.outdoor.navigate_obstacles import CONES, _blocks
from vla_bench.domains.outdoor.walk_to_tree import MIN_IN_VIEW, _in_view

TREE = "VLA-Outdoor-WalkToTree-v1"
TERRAIN = "VLA-Outdoor-CrossTerrain-v1"
BOX = "VLA-Outdoor-GoAroundBox-v1"
CONES_ENV = "VLA-Navigation-NavigateObstacles-v1"


def _run_toward(env: Any, seed: int, wrong: bool) -> dict[str, Any]:
    """Reset, point the expert at a wrong alternative (or the named goal), run to the end."""
    env.reset(seed=seed)
    base = env.unwrapped
    goals = [g for g in base.task.goals() if (g != base.task.goal) == wrong]
    if base.task.name == "WalkToTree":  # the nearest landmark: one the budget surely reaches
        sim, pelvis = base._task_sim, base._task_sim.robot_base()[:2]
        goals.sort(key=lambda g: base.task.layout.distance_to(sim, g[0], pelvis))
    base.pursue(goals[0])
    info: dict[str, Any] = {}
    for _ in range(base.task.max_episode_steps):
        _, _, terminated, truncated, info = env.step(base.expert_action())
        if terminated or truncated:
            break
    return info


@pytest.mark.parametrize("env_id", [TREE, TERRAIN, BOX, CONES_ENV])
def test_goal_varies_and_is_one_of_four_or_more(env_cache: Callable[..., Any],
                                                env_id: str) -> None:
    env = env_cache(env_id, cameras=())
    seen = set()
    for seed in range(12):
        env.reset(seed=seed)
        task = env.unwrapped.task
        goals = list(task.goals())
        assert len(goals) >= 4 and len(set(goals)) == len(goals)
        assert task.goal in goals
        seen.add(task.goal)
    assert len(seen) >= 3


@pytest.mark.parametrize(("env_id", "reason"), [
    (TREE, "stopped at the"), (TERRAIN, "crossed on the"), (BOX, "went around the wrong box"),
    (CONES_ENV, "went to the wrong cone")])
def test_the_expert_toward_a_wrong_alternative_fails(env_cache: Callable[..., Any],
                                                     env_id: str, reason: str) -> None:
    env = env_cache(env_id, cameras=())
    info = _run_toward(env, 1, wrong=True)
    assert not info["is_success"]
    assert info[cv.INFO_FAILURE_REASON].startswith(reason), info[cv.INFO_FAILURE_REASON]


def test_walk_to_tree_starts_facing_three_landmarks(env_cache: Callable[..., Any]) -> None:
    env = env_cache(TREE, cameras=())
    for seed in range(6):
        env.reset(seed=seed)
        base = env.unwrapped
        task, sim = base.task, base._task_sim
        pose = sim.robot_base()
        ahead = [n for n in LANDMARKS
                 if _in_view(pose[:2], pose[2], task.layout.landmark_xy(sim, n))]
        assert task.target in ahead and len(ahead) >= MIN_IN_VIEW, (seed, ahead)


def test_every_cone_line_is_blocked(env_cache: Callable[..., Any]) -> None:
    """No cone is singled out by the one open straight line: an obstacle sits on each."""
    env = env_cache(CONES_ENV, cameras=())
    for seed in range(8):
        env.reset(seed=seed)
        base = env.unwrapped
        task, sim = base.task, base._task_sim
        start = sim.robot_base()[:2]
        for cone in CONES:
            end = sim.static_pose(cone)[0][:2]
            assert any(_blocks(fp.center, float(fp.half_xy[0]), start, end)
                       for fp in task.footprints), (seed, cone)


def test_cross_terrain_lanes_are_told_apart_by_surface(env_cache: Callable[..., Any]) -> None:
    env = env_cache(TERRAIN, cameras=())
    orders = set()
    for seed in range(6):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert task.lane in env.unwrapped.instruction
        assert sorted(task.lane_v.values()) == sorted(set(task.lane_v.values()))
        orders.add(tuple(sorted(task.lane_v, key=task.lane_v.get)))
    assert len(orders) > 1  # the surfaces' order across the course is dealt per episode
    assert np.isfinite(list(task.lane_v.values())).all()
