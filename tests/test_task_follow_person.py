"""FollowPerson: four people, all of whom walk, told apart only by shirt colour; closer than
1.0 m to anyone fails; the routes fan out apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vla_bench.domains.outdoor.follow_person import (
    END_GAP,
    PEOPLE,
    SEPARATION,
    START_DELAY,
    _polyline_distance,
)

ENV = "VLA-Navigation-FollowPerson-v1"


def test_the_colour_word_names_one_of_four_walkers(env_cache: Callable[..., Any]) -> None:
    env = env_cache(ENV, cameras=())
    drawn = set()
    for seed in range(6):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert list(task.goals()) == [(k,) for k in range(len(PEOPLE))]
        assert len(set(task.colours)) == len(PEOPLE)
        assert task.colours[task.target] in task.instruction.lower()
        drawn.add(task.target)
        # Every person has a route to walk (none stands still), and the routes fan out.
        routes = [np.array([p.xy, *r]) for p, r in zip(task.persons, task.routes, strict=True)]
        assert all(len(r) >= 3 for r in routes)
        for i in range(len(routes)):
            for j in range(i):
                assert np.linalg.norm(routes[i][-1] - routes[j][-1]) >= END_GAP - 1e-9
                assert _polyline_distance(routes[i][1:], routes[j][1:]) >= SEPARATION - 1e-9
    assert len(drawn) >= 2


def test_everyone_walks_off(env_cache: Callable[..., Any]) -> None:
    env = env_cache(ENV, cameras=())
    env.reset(seed=3)
    task = env.unwrapped.task
    before = np.array([p.xy for p in task.persons])
    for _ in range(START_DELAY + 30):
        env.step(np.zeros(env.action_space.shape, np.float32))
    moved = np.linalg.norm(np.array([p.xy for p in task.persons]) - before, axis=1)
    assert np.all(moved > 0.5), moved


def test_too_close_fails(env_cache: Callable[..., Any]) -> None:
    env = env_cache(ENV, cameras=())
    env.reset(seed=2)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    ev = task.evaluate(sim)
    assert not (ev.success or ev.failure)  # nothing decided at reset
    # Any person counts, not only the named one: 0.9 m from another is a failure.
    p = task.persons[(task.target + 1) % len(PEOPLE)]
    sim.set_robot_base(p.xy + np.array([0.9, 0.0]), 0.0)
    sim.forward_kinematics()
    ev = task.evaluate(sim)
    assert ev.failure and ev.failure_reason == "too close to a person"
