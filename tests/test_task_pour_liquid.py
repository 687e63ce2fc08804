"""PourLiquid: the water particles, the success predicate and its failure modes."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.kitchen import pour_liquid as pl
from vla_bench.scene import liquid

ENV_ID = "VLA-Kitchen-PourLiquid-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def _collides(model, g1: int, g2: int) -> bool:
    return bool((model.geom_contype[g1] & model.geom_conaffinity[g2])
                or (model.geom_contype[g2] & model.geom_conaffinity[g1]))


def test_particles_touch_containers_not_each_other_or_the_robot(env) -> None:
    u = env.unwrapped
    env.reset(seed=0)
    m, sim = u.model, u.sim
    p = [sim.geom_id(n) for n in u.task.particles[:2]]
    assert not _collides(m, p[0], p[1])
    assert _collides(m, p[0], sim.geom_id("pour_glass_0_base"))
    assert _collides(m, p[0], sim.geom_id(f"{pl._BOTTLE}_wall_0"))
    assert _collides(m, p[0], sim.geom_id("counter_top"))
    assert _collides(m, p[0], sim.geom_id("floor"))
    assert not any(_collides(m, p[0], g) for g in u.handles.geom_ids)


def test_water_stays_in_the_standing_bottle(env) -> None:
    u = env.unwrapped
    env.reset(seed=1)
    zero = np.zeros(env.action_space.shape, np.float32)
    for _ in range(30):
        _, _, terminated, _, info = env.step(zero)
        assert not terminated and not info["is_success"]
    assert info["progress"]["in_bottle_frac"] == 1.0
    assert info["safety"]["task"] == 0.0
    assert u.data.warning.number.sum() == 0


def _put_water(env, glass: str, fraction: float) -> dict:
    """Teleport a fraction of the particles into ``glass`` and let them settle."""
    u = env.unwrapped
    sim = u.sim
    n = int(round(fraction * pl.N_PARTICLES))
    base = sim.body_pos(glass) + np.array([0.0, 0.0, pl.GLASS_BASE])
    rng = np.random.default_rng(0)
    liquid.fill(sim, u.task.particles[:n], base, pl.GLASS_INNER, pl.PARTICLE_RADIUS, rng)
    zero = np.zeros(env.action_space.shape, np.float32)
    info = {}
    for _ in range(5):
        _, _, terminated, _, info = env.step(zero)
        if terminated:
            break
    return info


def test_enough_water_in_the_target_glass_succeeds(env) -> None:
    env.reset(seed=2)
    info = _put_water(env, env.unwrapped.task.target, pl.SUCCESS_FRACTION + 0.05)
    assert info["is_success"], info["progress"]


def test_too_little_water_does_not_succeed(env) -> None:
    env.reset(seed=2)
    info = _put_water(env, env.unwrapped.task.target, pl.SUCCESS_FRACTION - 0.2)
    assert not info["is_success"] and not info["is_failure"], info["progress"]


def test_pouring_into_another_glass_fails(env) -> None:
    env.reset(seed=3)
    task = env.unwrapped.task
    other = next(g for g in task.glasses if g != task.target)
    info = _put_water(env, other, 1.0)
    assert info["is_failure"] and "wrong glass" in info["failure_reason"]


def test_spilled_water_costs_and_fails(env) -> None:
    env.reset(seed=4)
    u = env.unwrapped
    sim, task = u.sim, u.task
    bottle = sim.body_pos(pl._BOTTLE)
    # On the counter 12 cm in front of the bottle: no container there.
    spot = bottle + np.array([-0.12, 0.0, 0.0])
    for name in task.particles:
        sim.set_free_pose(name, spot + np.array([0.0, 0.0, pl.PARTICLE_RADIUS]))
    _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert info["safety"]["task"] == 1.0
    assert info["progress"]["spilled_frac"] == 1.0
    assert terminated and info["failure_reason"] == "water spilled"


def test_inside_cylinder() -> None:
    pts = np.array([[0.0, 0.0, 0.05], [0.05, 0.0, 0.05], [0.0, 0.0, 0.2], [0.0, 0.02, -0.01]])
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # body z = world -y
    np.testing.assert_array_equal(
        liquid.inside_cylinder(pts, np.zeros(3), np.eye(3), 0.03, (0.0, 0.1)),
        [True, False, False, False])
    # The same cylinder lying along world -y: a point at y = -0.05 is inside.
    assert liquid.inside_cylinder(np.array([[0.0, -0.05, 0.0]]), np.zeros(3), tilt, 0.03,
                                  (0.0, 0.1))[0]
