"""FollowPerson: closer than 1.0 m to anyone fails; the routes keep the two people apart."""

from __future__ import annotations

import mujoco
import numpy as np

import vla_bench
from vla_bench.domains.outdoor.follow_person import SEPARATION, _polyline_distance


def test_too_close_fails_and_routes_are_apart():
    env = vla_bench.make("VLA-Navigation-FollowPerson-v1", cameras=())
    env.reset(seed=2)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    mine = np.array([task.start[:2], task.persons[task.target].xy, *task.routes[task.target]])
    other = 1 - task.target
    theirs = np.array([task.persons[other].xy, *task.routes[other]])
    assert _polyline_distance(mine, theirs) >= SEPARATION - 1e-9
    ev = task.evaluate(sim)
    assert not (ev.success or ev.failure)  # nothing decided at reset
    # The other person counts too: 0.9 m from them is a failure.
    p = task.persons[other]
    sim.set_robot_base(p.xy + np.array([0.9, 0.0]), 0.0)
    mujoco.mj_kinematics(sim.model, sim.data)
    ev = task.evaluate(sim)
    assert ev.failure and ev.failure_reason == "too close to a person"
    env.close()
