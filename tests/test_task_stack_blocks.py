"""StackBlocks: an ordered, released tower succeeds after the dwell; a wrong order fails."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.workshop.stack_blocks import DWELL, HALF


@pytest.fixture(scope="module")
def env():
    e = make_env("VLA-Manipulation-StackBlocks-v1", cameras=())
    yield e
    e.close()


def _build(env, order: list[str]) -> list[dict]:
    """Stack ``order`` (bottom first) where the first block stands; run idle steps."""
    sim = env.unwrapped.sim
    base = sim.body_pos(order[0])
    for k, block in enumerate(order[1:], start=1):
        sim.set_free_pose(block, base + np.array([0, 0, 2 * HALF * k + 0.002 * k]))
    infos = []
    for _ in range(int(DWELL * 20) + 10):
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        infos.append(info)
        if terminated:
            break
    return infos


def test_ordered_tower_succeeds_only_after_dwell(env) -> None:
    env.reset(seed=2)
    infos = _build(env, list(env.unwrapped.task.order))
    assert infos[-1]["is_success"], infos[-1]["progress"]
    assert not infos[0]["is_success"]  # the dwell has not passed yet
    assert infos[-1]["progress"]["blocks_stacked"] == 2.0


def test_wrong_order_fails(env) -> None:
    env.reset(seed=2)
    bottom, middle, top = env.unwrapped.task.order
    infos = _build(env, [bottom, top, middle])
    assert infos[-1]["is_failure"] and not infos[-1]["is_success"]
    assert infos[-1]["failure_reason"] == "blocks stacked in the wrong order"


def test_spare_block_in_the_tower_fails(env) -> None:
    env.reset(seed=5)
    task = env.unwrapped.task
    infos = _build(env, [task.order[0], task.spare])
    assert infos[-1]["is_failure"]


def test_goals_are_every_ordered_triple(env) -> None:
    env.reset(seed=1)
    task = env.unwrapped.task
    goals = task.goals()
    assert len(goals) == len(set(goals)) == 24 and task.goal in goals
    other = next(g for g in goals if g != task.goal)
    assert task.pursuing(other).spare not in other[0]
