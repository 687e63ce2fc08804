"""HammerNail: only the named nail's travel under the named tool's head counts."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.workshop.hammer_nail import DRIVE_DEPTH, TOOLS, depth

ENV_ID = "VLA-Workshop-HammerNail-v1"
NAILS = ("nail_0", "nail_1", "nail_2", "nail_3")


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def _press(env, nail: str, force: float = 200.0, steps: int = 40) -> dict:
    """Push ``nail`` down with an external force (a hand, say: anything but a tool's head)."""
    sim = env.unwrapped.sim
    info: dict = {}
    for _ in range(steps):
        sim.data.xfrc_applied[sim.body_id(nail)] = [0, 0, -force, 0, 0, 0]
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        if terminated:
            break
    sim.data.xfrc_applied[:] = 0
    return info


def test_goal_varies_and_names_a_tool_and_a_nail_by_colour(env) -> None:
    goals = set()
    for seed in range(8):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert len(task.goals()) == 8 and task.goal in task.goals()
        text = env.unwrapped.instruction.lower()
        assert f"{task.color} nail" in text and task.tool in text
        goals.add(task.goal)
    assert len(goals) >= 4


def test_nail_pushed_without_a_tool_does_not_count(env) -> None:
    env.reset(seed=0)
    task = env.unwrapped.task
    k = NAILS.index(task.nail)
    info = _press(env, task.nail)
    assert depth(env.unwrapped.sim, k) >= DRIVE_DEPTH  # the nail went in ...
    assert not info["is_success"]  # ... but not under the tool
    assert not task.hammered.depth[:, k].any()


def test_other_nail_driven_fails(env) -> None:
    env.reset(seed=0)
    task = env.unwrapped.task
    other = next(n for n in NAILS if n != task.nail)
    info = _press(env, other)
    assert info["is_failure"] and info["failure_reason"] == "wrong nail driven"


def test_expert_drives_the_named_nail_with_the_named_tool(env) -> None:
    env.reset(seed=1)
    task = env.unwrapped.task
    info: dict = {}
    for _ in range(task.max_episode_steps):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        if terminated or truncated:
            break
    assert info["is_success"], info["failure_reason"]
    k, j = NAILS.index(task.nail), TOOLS.index(task.tool)
    assert task.hammered.depth[j, k] >= DRIVE_DEPTH and task.hammered.depth[1 - j, k] == 0.0


def test_the_other_tool_fails(env) -> None:
    """The blind expert with the right nail but the other tool: driving it in fails."""
    env.reset(seed=1)
    u = env.unwrapped
    task = u.task
    other = next(t for t in TOOLS if t != task.tool)
    u.pursue((other, task.color))
    info: dict = {}
    for _ in range(task.max_episode_steps):
        _, _, terminated, truncated, info = env.step(u.expert_action())
        if terminated or truncated:
            break
    assert not info["is_success"] and info["failure_reason"] == "wrong tool used"
