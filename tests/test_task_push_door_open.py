"""PushDoorOpen (issue 9): the colour word picks one of four doors, and only a door pushed open
by hand or arm counts; walking the body into it, or a door that opens untouched, does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vla_bench import conventions as cv
from vla_bench.domains.outdoor.push_door_open import DOORS, PRE_X, THROUGH_X
from vla_bench.experts.base import Expert, Navigate
from vla_bench.experts.navigation import Hold

ENV = "VLA-Outdoor-PushDoorOpen-v1"


def test_the_colour_word_names_one_of_four_doors(env_cache: Callable[..., Any]) -> None:
    env = env_cache(ENV, cameras=())
    drawn = set()
    for seed in range(8):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert list(task.goals()) == [(k,) for k in range(DOORS)]
        assert len(set(task.colours)) == DOORS
        assert task.colours[task.target] in task.instruction.lower()
        assert task.goal_bodies(env.unwrapped._task_sim) == (f"door_{task.target}_leaf",)
        drawn.add(task.target)
    assert len(drawn) >= 3


def _run(env: Any, expert: Expert | None = None) -> dict[str, Any]:
    base = env.unwrapped
    if expert is not None:
        base._expert = expert  # noqa: SLF001 - a scripted stand-in for a policy
    info: dict[str, Any] = {}
    for _ in range(base.task.max_episode_steps):
        _, _, terminated, truncated, info = env.step(base.expert_action())
        if terminated or truncated:
            break
    return info


def test_walking_the_body_through_does_not_count(env_cache: Callable[..., Any]) -> None:
    """The expert's walk without raising the hand: the legs meet the panel first."""
    env = env_cache(ENV, cameras=())
    env.reset(seed=1)
    base = env.unwrapped
    task, sim = base.task, base._task_sim
    pre = task._pose(sim, task.target, -PRE_X)
    through = task._pose(sim, task.target, THROUGH_X)
    info = _run(env, Expert([
        Navigate(lambda _s: pre, tol=0.04, planner=task.planner(sim), max_steps=260),
        Navigate(lambda _s: through, tol=0.05, max_steps=200, speed=0.4),
        Hold(steps=400),
    ]))
    assert abs(task.hinge(sim, task.target)) >= 1.0  # the door did swing open ...
    assert task.push.body and not info["is_success"]  # ... but not by hand
    assert info[cv.INFO_FAILURE_REASON] == "opened without pushing by hand"


def test_the_expert_pushes_by_hand(env_cache: Callable[..., Any]) -> None:
    env = env_cache(ENV, cameras=())
    env.reset(seed=1)
    info = _run(env)
    task = env.unwrapped.task
    assert info["is_success"] and task.push.hand and not task.push.body


def test_an_untouched_or_wrong_door_fails(env_cache: Callable[..., Any]) -> None:
    env = env_cache(ENV, cameras=())
    env.reset(seed=2)
    base = env.unwrapped
    task, sim = base.task, base._task_sim
    # The named door swung open with nothing touching it: no hand, no success.
    sim.set_joint_qpos(f"door_{task.target}_hinge", 1.2)
    sim.forward_kinematics()
    for _ in range(6):
        for monitor in task.monitors():
            monitor.update(sim)
    ev = task.evaluate(sim)
    assert not ev.success and ev.failure_reason == "opened without pushing by hand"
    # Another door open is a failure of its own.
    env.reset(seed=2)
    other = next(k for k in range(DOORS) if k != task.target)
    sim.set_joint_qpos(f"door_{other}_hinge", -1.1)
    sim.forward_kinematics()
    ev = task.evaluate(sim)
    assert ev.failure and ev.failure_reason == "opened the wrong door"
    assert np.isclose(ev.progress["door_angle_rad"], 0.0)
