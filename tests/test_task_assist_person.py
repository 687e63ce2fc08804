"""AssistPerson: the person takes an object offered at their hand; wrong objects fail."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.kitchen.assist_person import HANDOVER, _person_to_world


@pytest.fixture(scope="module")
def env():
    e = make_env("VLA-Social-AssistPerson-v1", cameras=())
    yield e
    e.close()


def _offer(env, obj: str, steps: int = 12) -> dict:
    """Hold ``obj`` still at the handover point (as if carried there) for a few steps."""
    task, sim = env.unwrapped.task, env.unwrapped.sim
    point = _person_to_world(task.person, HANDOVER)
    info: dict = {}
    for _ in range(steps):
        if not task.person.holding(obj):
            sim.set_free_pose(obj, point)
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        if terminated:
            break
    return info


def test_person_takes_requested_object(env) -> None:
    _, info = env.reset(seed=2)
    assert info["social"]["distance_m"] > 1.0
    task = env.unwrapped.task
    info = _offer(env, task.target)
    assert task.person.holding(task.target)
    assert info["is_success"] and not info["is_failure"]


def test_wrong_object_fails(env) -> None:
    env.reset(seed=2)
    task = env.unwrapped.task
    other = next(o for o in task.objects if o != task.target)
    info = _offer(env, other)
    assert info["is_failure"] and info["failure_reason"] == "the person was handed the wrong object"


def test_objects_on_the_counter_are_not_taken(env) -> None:
    env.reset(seed=3)
    task = env.unwrapped.task
    for _ in range(20):
        env.step(np.zeros(env.action_space.shape, np.float32))
    assert not any(task.person.holding(o) for o in task.objects)
    assert task.person.gesture_kind == "hand_out"
