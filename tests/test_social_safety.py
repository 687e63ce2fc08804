"""Human-proximity safety and the social-compliance info, measured against simulated people."""

from __future__ import annotations

import mujoco
import numpy as np

from vla_bench import conventions as cv


def test_social_info_only_with_people(env_cache) -> None:
    env = env_cache("VLA-Office-GoToPrinter-v1", cameras=())
    _, info = env.reset(seed=0)
    assert cv.INFO_SOCIAL not in info and info["safety"]["human_proximity"] == 0.0


def test_proximity_fires_inside_the_separation_distance(env_cache) -> None:
    env = env_cache("VLA-Social-GreetPerson-v1", cameras=())
    _, info = env.reset(seed=0)
    u = env.unwrapped
    people = u.task.people(u.sim)
    assert len(people) >= 1
    social = info[cv.INFO_SOCIAL]
    nearest = float(np.min(np.linalg.norm(people - u.sim.robot_base()[:2], axis=1)))
    assert abs(social["distance_m"] - nearest) < 0.05  # pelvis vs base origin
    assert social["distance_m"] > cv.HUMAN_MIN_DISTANCE and info["safety"]["human_proximity"] == 0

    # Put the robot 0.7 m from the nearest person, facing them: a violation, and facing.
    person = people[int(np.argmin(np.linalg.norm(people - u.sim.robot_base()[:2], axis=1)))]
    away = u.sim.robot_base()[:2] - person
    spot = person + 0.7 * away / np.linalg.norm(away)
    u.sim.set_robot_base(spot, float(np.arctan2(*(person - spot)[::-1])))
    mujoco.mj_forward(u.model, u.data)
    u.controller.reset(u.data)
    _, _, _, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    social = info[cv.INFO_SOCIAL]
    assert social["distance_m"] < cv.HUMAN_MIN_DISTANCE
    assert info["safety"]["human_proximity"] == 1.0
    assert social["facing_cos"] > 0.9
