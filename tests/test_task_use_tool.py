"""UseTool: the block must be moved into reach by the named tool, never by the robot itself."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.workshop.layout import BENCH_TOP
from vla_bench.domains.workshop.use_tool import BLOCK_HALF


@pytest.fixture(scope="module")
def env():
    e = make_env("VLA-Manipulation-UseTool-v1", cameras=())
    yield e
    e.close()


def _idle(env, steps: int = 3) -> dict:
    info: dict = {}
    for _ in range(steps):
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        if terminated:
            break
    return info


def test_block_teleported_into_reach_without_tool_fails(env) -> None:
    env.reset(seed=1)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    y = sim.body_pos(task.target)[1]
    sim.set_free_pose(task.target, np.array([task.front + 0.1, y, BENCH_TOP + BLOCK_HALF]))
    info = _idle(env)
    assert info["is_failure"] and not info["is_success"]
    assert info["failure_reason"] == "the block was moved without the named tool"


def test_other_block_in_reach_fails(env) -> None:
    env.reset(seed=1)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    other = next(b for b in ("tool_block_0", "tool_block_1") if b != task.target)
    y = sim.body_pos(other)[1]
    sim.set_free_pose(other, np.array([task.front + 0.1, y, BENCH_TOP + BLOCK_HALF]))
    info = _idle(env)
    assert info["is_failure"] and info["failure_reason"] == "the wrong block was pulled in"


def test_blocks_start_out_of_reach_and_expert_uses_named_tool(env) -> None:
    env.reset(seed=0)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    assert sim.body_pos(task.target)[0] - task.front > 0.4
    assert task.tool in env.unwrapped.instruction
    info: dict = {}
    for _ in range(task.max_episode_steps):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        if terminated or truncated:
            break
    assert info["is_success"], info["failure_reason"]
    assert task.tool_touch.value and not task.hand_touch.value
