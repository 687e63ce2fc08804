"""PickAndPlace: the predicate reads physical state (goal, wrong surface, wrong object)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

ENV_ID = "VLA-Manipulation-PickAndPlace-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def _drop_on(env, obj: str, surface: str, steps: int = 15) -> dict:
    """Put ``obj`` 1 cm above ``surface``'s top, then let physics settle it (robot idle)."""
    from vla_bench.domains.kitchen.pick_and_place import KINDS, SURFACES

    task, sim = env.unwrapped.task, env.unwrapped.sim
    top = SURFACES[task.surface_of[surface]].top
    half = KINDS[task.kind_of[obj]].half_height
    pos = sim.body_pos(surface) + np.array([0, 0, top + half + 0.01])
    sim.set_free_pose(obj, pos)
    info: dict = {}
    for _ in range(steps):
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        if terminated:
            break
    return info


def test_target_on_goal_surface_succeeds(env) -> None:
    env.reset(seed=3)
    task = env.unwrapped.task
    info = _drop_on(env, task.target, task.target_surface)
    assert info["is_success"] and not info["is_failure"]


def test_target_on_other_surface_fails(env) -> None:
    env.reset(seed=3)
    task = env.unwrapped.task
    other = next(s for s in task.surfaces if s != task.target_surface)
    info = _drop_on(env, task.target, other)
    assert info["is_failure"] and not info["is_success"]
    assert info["failure_reason"] == "object placed on the wrong surface"


def test_other_object_on_goal_surface_fails(env) -> None:
    env.reset(seed=4)
    task = env.unwrapped.task
    other = next(o for o in task.objects if o != task.target)
    info = _drop_on(env, other, task.target_surface)
    assert info["is_failure"] and info["failure_reason"] == "wrong object on the goal surface"


def test_instruction_names_target_kind_and_colour(env) -> None:
    for seed in range(5):
        _, info = env.reset(seed=seed)
        task = env.unwrapped.task
        text = env.unwrapped.instruction.lower()
        assert task.kind_of[task.target] in text
        # The other objects share the kind or the colour, never both.
        assert len({task.kind_of[o] for o in task.objects}) == 2


def test_held_out_split_uses_held_out_colours_and_kind() -> None:
    from vla_bench.scene.props import HELD_OUT_COLORS

    e = make_env(ENV_ID, cameras=(), split="unseen_objects")
    try:
        e.reset(seed=0)
        task = e.unwrapped.task
        text = e.unwrapped.instruction.lower()
        assert "tin" in {task.kind_of[o] for o in task.objects}
        assert any(c in text for c in HELD_OUT_COLORS)
    finally:
        e.close()
