"""RetrieveStapler: the drawer holds its items shut; only a held, lifted stapler succeeds."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.office.retrieve_stapler import ITEMS

ENV_ID = "VLA-Office-RetrieveStapler-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def test_items_rest_in_the_closed_drawer(env) -> None:
    env.reset(seed=0)
    sim = env.unwrapped.sim
    z0 = sim.positions(list(ITEMS))[:, 2].copy()
    zero = np.zeros(env.action_space.shape, np.float32)
    for _ in range(20):
        _, _, _, _, info = env.step(zero)
    assert np.allclose(sim.positions(list(ITEMS))[:, 2], z0, atol=0.005)
    assert abs(env.unwrapped.task.opening(sim)) < 0.005
    assert not info["is_success"] and not info["is_failure"]


def test_lifted_but_not_held_stapler_does_not_count(env) -> None:
    env.reset(seed=1)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    sim.set_free_pose("stapler", sim.body_pos("stapler") + np.array([0.0, -0.3, 0.2]))
    mujoco.mj_forward(sim.model, sim.data)
    for _ in range(12):
        ev = task.evaluate(sim)
    assert not ev.success and not ev.failure


def test_taking_the_wrong_item_fails(env) -> None:
    env.reset(seed=2)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    sim.set_free_pose("hole_punch", sim.body_pos("hole_punch") + np.array([0.0, -0.3, 0.15]))
    mujoco.mj_forward(sim.model, sim.data)
    ev = task.evaluate(sim)
    assert ev.failure and "hole punch" in ev.failure_reason
