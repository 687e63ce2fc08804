"""CollaborateAssembly: the person works only on a held, placed plank; distance is kept."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import vla_bench
from vla_bench.conventions import HUMAN_MIN_DISTANCE
from vla_bench.domains.workshop.collaborate_assembly import (
    END_IN,
    GRASP_H,
    MARKS,
    PLANKS,
    STEADY_TOL,
)

ENV_ID = "VLA-Social-CollaborateAssembly-v1"


@pytest.fixture(scope="module")
def env():
    e = vla_bench.make(ENV_ID, cameras=())
    yield e
    e.close()


def test_expert_holds_plank_while_person_works_at_a_distance(env) -> None:
    env.reset(seed=0)
    u = env.unwrapped
    min_dist, info = np.inf, {}
    first_placed = first_work = None
    for t in range(u.task.max_episode_steps):
        _, _, terminated, truncated, info = env.step(u.expert_action())
        min_dist = min(min_dist, info["social"]["distance_m"])
        if first_placed is None and u.task.hold.in_place:
            first_placed = t
        if first_work is None and u.task.person.gesture_kind == "work":
            first_work = t
        if terminated or truncated:
            break
    assert info["is_success"], info["progress"]
    assert min_dist >= HUMAN_MIN_DISTANCE
    assert first_placed is not None and first_work is not None
    assert first_work > first_placed, "the person starts only once the plank is in place"
    assert u.task.person.gesture_kind == "work"
    # The person's hand is at the plank's far end, not somewhere else.
    end = u.task.far_end(u.sim, u.task.target)
    assert np.linalg.norm(u.task.person.hand_pos[:2] - end[:2]) < 0.2


def test_people_are_reported(env) -> None:
    _, info = env.reset(seed=1)
    u = env.unwrapped
    people = u.task.people(u.sim)
    assert people.shape == (1, 2)
    pelvis = u.sim.robot_base()[:2]
    assert info["social"]["distance_m"] == pytest.approx(np.linalg.norm(people[0] - pelvis),
                                                         abs=1e-6)


def test_other_plank_on_the_mark_fails(env) -> None:
    env.reset(seed=2)
    u = env.unwrapped
    task = u.task
    origin = np.array([*(task.spot + np.array([0.0, END_IN])), task.top + GRASP_H + 0.001])
    other = next(p for p in PLANKS if p != task.target)
    u.sim.set_free_pose(other, origin)
    mujoco.mj_forward(u.model, u.data)
    _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert terminated and info["failure_reason"] == "wrong plank or mark"


def test_named_plank_on_the_other_mark_fails(env) -> None:
    env.reset(seed=2)
    u = env.unwrapped
    task = u.task
    other_mark = next(m for m in MARKS if m != task.mark)
    spot = task.marks[other_mark]
    origin = np.array([*(spot + np.array([0.0, END_IN])), task.top + GRASP_H + 0.001])
    u.sim.set_free_pose(task.target, origin)
    mujoco.mj_forward(u.model, u.data)
    _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert terminated and info["failure_reason"] == "wrong plank or mark"


def test_goals_vary_and_name_a_plank_by_colour(env) -> None:
    seen = set()
    for seed in range(8):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert len(task.goals()) == 6 and task.goal in task.goals()
        text = env.unwrapped.instruction.lower()
        assert f"{task.color} plank" in text and f"{task.mark} mark" in text
        seen.add(task.goal)
    assert len(seen) >= 4


def test_coworker_push_moves_a_plank_that_is_not_held(env) -> None:
    """The co-worker's work is a real force: a plank lying on the mark unheld is shoved off."""
    env.reset(seed=2)
    u = env.unwrapped
    task = u.task
    origin = np.array([*(task.spot + np.array([0.0, END_IN])), task.top + GRASP_H + 0.001])
    u.sim.set_free_pose(task.target, origin)
    mujoco.mj_forward(u.model, u.data)
    start = u.sim.body_pos(task.target).copy()
    for _ in range(5):
        task.hold.in_place = True  # as if held: the person works (and pushes) this step
        env.step(np.zeros(env.action_space.shape, np.float32))
    assert np.linalg.norm(u.sim.body_pos(task.target) - start) > 2 * STEADY_TOL
