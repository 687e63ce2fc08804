"""TightenBolt: the words decide which bolt and which way; the wrong bolt or way fails."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.workshop.tighten_bolt import PLACES, TURN_ANGLE, WRONG_ANGLE

ENV_ID = "VLA-Workshop-TightenBolt-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def _turn_and_idle(env, k: int, clockwise: float, steps: int = 4) -> dict:
    """Set bolt ``k`` turned ``clockwise`` rad, then idle."""
    env.unwrapped.sim.set_joint_qpos(f"torque_bolt_{k}_hinge", -clockwise)
    info: dict = {}
    for _ in range(steps):
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        if terminated:
            break
    return info


def test_goals_vary_and_are_named(env) -> None:
    seen = set()
    for seed in range(10):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert len(task.goals()) == 6 and task.goal in task.goals()
        text = env.unwrapped.instruction.lower()
        assert f"{task.bolt} bolt" in text and task.direction in text
        seen.add(task.goal)
    assert len(seen) >= 4


@pytest.mark.parametrize("direction", ["tighten", "loosen"])
def test_named_bolt_turned_the_named_way_succeeds_other_way_fails(env, direction) -> None:
    for seed in range(20):
        env.reset(seed=seed)
        if env.unwrapped.task.direction == direction:
            break
    task = env.unwrapped.task
    k = PLACES.index(task.bolt)
    sign = 1.0 if direction == "tighten" else -1.0
    assert _turn_and_idle(env, k, sign * (TURN_ANGLE + 0.1))["is_success"]
    env.reset(seed=seed)
    info = _turn_and_idle(env, k, -sign * (WRONG_ANGLE + 0.05))
    assert info["is_failure"] and info["failure_reason"] == "bolt turned the wrong way"


def test_other_bolt_turned_fails(env) -> None:
    env.reset(seed=0)
    task = env.unwrapped.task
    other = next(k for k in range(len(PLACES)) if PLACES[k] != task.bolt)
    info = _turn_and_idle(env, other, task.sign * (TURN_ANGLE + 0.1))
    assert info["is_failure"] and info["failure_reason"] == "wrong bolt turned"


def test_expert_loosens_by_pulling_the_handle(env) -> None:
    for seed in range(20):
        env.reset(seed=seed)
        if env.unwrapped.task.direction == "loosen":
            break
    task = env.unwrapped.task
    info: dict = {}
    for _ in range(task.max_episode_steps):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        if terminated or truncated:
            break
    assert info["is_success"], info["failure_reason"]
    assert task.angle(env.unwrapped.sim, PLACES.index(task.bolt)) <= -TURN_ANGLE
