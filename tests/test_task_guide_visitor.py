"""GuideVisitor: the visitor follows the robot's path beyond 1.5 m and stops within 1.2 m."""

from __future__ import annotations

import mujoco
import numpy as np

import vla_bench
from vla_bench.domains.office.guide_visitor import FOLLOW_STOP


def test_visitor_follows_and_stops():
    env = vla_bench.make("VLA-Social-GuideVisitor-v1", cameras=())
    env.reset(seed=0)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    visitor = task.visitor
    start = visitor.xy
    for _ in range(5):  # the robot stands still: the visitor closes in and stops
        task.advance(sim)
    for _ in range(200):
        task.advance(sim)
        if not task.following:
            break
    assert not task.following
    robot = sim.robot_base()[:2]
    assert np.linalg.norm(visitor.xy - robot) <= FOLLOW_STOP + 1e-6
    assert np.linalg.norm(visitor.xy - start) > 0.2  # they did walk
    here = visitor.xy
    for _ in range(20):  # still within the stop distance: stays put
        task.advance(sim)
    assert np.allclose(visitor.xy, here)
    # The robot steps away along its own trail: the visitor sets off after it.
    away = robot + 1.0 * (robot - here) / np.linalg.norm(robot - here)
    sim.set_robot_base(away, 0.0)
    mujoco.mj_kinematics(sim.model, sim.data)
    task.advance(sim)
    assert task.following
    env.close()
