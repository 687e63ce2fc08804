"""TightenBolt: the robot seats the free wrench on the named bolt and swings it; only the
jaws' contact turns a bolt; the words decide which bolt and which way."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_env

from vla_bench.domains.workshop.tighten_bolt import (
    HEX_STEP,
    JAW_REACH,
    PLACES,
    SEATED_Z,
    TURN_ANGLE,
    WRENCH,
    WRONG_ANGLE,
    Wrenched,
    angle,
    jaw_centre,
    wrench_yaw,
)
from vla_bench.geometry import yaw_quat

ENV_ID = "VLA-Workshop-TightenBolt-v1"


@pytest.fixture(scope="module")
def env():
    e = make_env(ENV_ID, cameras=())
    yield e
    e.close()


def _idle(env, steps: int) -> dict:
    info: dict = {}
    for _ in range(steps):
        _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
        if terminated:
            break
    return info


def _seat(env, k: int, up: float = 0.0, aside: float = 0.0) -> None:
    """Put the wrench's open end on bolt ``k``'s head, jaws across two flats (or ``up`` above
    that, ``aside`` off the axis across the bar)."""
    task, sim = env.unwrapped.task, env.unwrapped.sim
    yaw = task.yaws[k] - angle(sim, k) + HEX_STEP  # a jaw-fitting angle, grip towards the robot
    yaw -= 2 * np.pi if yaw > np.pi / 2 else 0.0
    grip = np.array([*task.pivots[k], task.top + SEATED_Z + 0.001 + up]) \
        - JAW_REACH * np.array([np.cos(yaw), np.sin(yaw), 0.0]) \
        + aside * np.array([-np.sin(yaw), np.cos(yaw), 0.0])
    sim.set_free_pose(WRENCH, grip, yaw_quat(yaw))


def _twist(env, torque: float, steps: int, press: float = 0.0) -> dict:
    """Twist the wrench about z (N·m, counter-clockwise positive) with its weight carried but
    ``press`` N of it, as a hand on its grip would; return the last info."""
    sim = env.unwrapped.sim
    body = sim.body_id(WRENCH)
    weight = float(sim.model.body_subtreemass[body]) * 9.81
    info: dict = {}
    try:
        for _ in range(steps):
            sim.data.xfrc_applied[body] = [0.0, 0.0, weight - press, 0.0, 0.0, torque]
            _, _, terminated, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
            if terminated:
                break
    finally:
        sim.data.xfrc_applied[body] = 0.0
    return info


def _reset_with(env, **goal: str) -> None:
    for seed in range(40):
        env.reset(seed=seed)
        if all(getattr(env.unwrapped.task, k) == v for k, v in goal.items()):
            return
    raise AssertionError(f"no seed in 0-39 names {goal}")


def test_goals_vary_and_are_named(env) -> None:
    seen = set()
    for seed in range(10):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert len(task.goals()) == 6 and task.goal in task.goals()
        text = env.unwrapped.instruction.lower()
        assert f"{task.bolt} bolt" in text and task.direction in text
        seen.add(task.goal)
    assert len(seen) >= 4


def test_wrench_starts_free_and_off_the_bolts(env) -> None:
    for seed in range(5):
        env.reset(seed=seed)
        task, sim = env.unwrapped.task, env.unwrapped.sim
        _idle(env, 3)
        assert sim.model.jnt_type[sim.model.body_jntadr[sim.body_id(WRENCH)]] == 0  # free
        gaps = np.linalg.norm(task.pivots - jaw_centre(sim)[:2], axis=1)
        assert gaps.min() > 0.15
        assert not Wrenched.touching(sim).any()
        assert sim.body_pos(WRENCH)[2] > task.top  # on its rack, not the floor


@pytest.mark.parametrize("direction", ["tighten", "loosen"])
def test_seated_wrench_turns_the_named_bolt_the_named_way(env, direction) -> None:
    _reset_with(env, direction=direction)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    k = PLACES.index(task.bolt)
    _seat(env, k)
    info = _twist(env, -task.sign * 0.6, 40)  # clockwise (negative z) tightens
    assert info["is_success"], info
    assert task.sign * angle(sim, k) >= TURN_ANGLE
    assert task.sign * task.wrenched.turn[k] >= TURN_ANGLE


def test_seated_wrench_turned_the_wrong_way_fails(env) -> None:
    env.reset(seed=0)
    task = env.unwrapped.task
    _seat(env, PLACES.index(task.bolt))
    info = _twist(env, task.sign * 0.6, 40)
    assert info["is_failure"] and info["failure_reason"] == "bolt turned the wrong way"


def test_unseated_wrench_does_not_turn_a_bolt(env) -> None:
    env.reset(seed=0)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    info = _twist(env, -task.sign * 0.6, 40)  # the wrench spins on its rack
    assert not info["is_success"]
    assert all(abs(angle(sim, k)) < 0.02 for k in range(len(PLACES)))


def test_jaws_lowered_off_centre_slide_down_the_chamfer(env) -> None:
    env.reset(seed=0)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    k = PLACES.index(task.bolt)
    # Jaws 2 mm above the head's top, 4.5 mm off its axis across the bar: one jaw lands on the
    # chamfer, 2.5 mm past the 2 mm of clearance each side. (Let go of, the wrench tips onto
    # its grip end; the jaws' line across the bar is what the chamfer sets.)
    _seat(env, k, up=0.022, aside=0.0045)
    _twist(env, 0.0, 40, press=1.0)
    yaw = wrench_yaw(sim)
    off = jaw_centre(sim)[:2] - task.pivots[k]
    assert abs(-np.sin(yaw) * off[0] + np.cos(yaw) * off[1]) < 0.002  # between the flats
    assert jaw_centre(sim)[2] < task.top + SEATED_Z + 0.015  # down beside them, not on top
    assert abs(angle(sim, k)) < 0.1


def test_light_twist_does_not_overcome_the_thread(env) -> None:
    env.reset(seed=0)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    k = PLACES.index(task.bolt)
    _seat(env, k)
    _twist(env, -task.sign * 0.1, 20)  # a third of the friction loss
    assert abs(angle(sim, k)) < 0.25  # no more than the jaws' play and a little creep


def test_bolt_turned_without_the_wrench_does_not_count(env) -> None:
    env.reset(seed=0)
    task = env.unwrapped.task
    k = PLACES.index(task.bolt)
    env.unwrapped.sim.set_joint_qpos(f"torque_bolt_{k}_hinge", -task.sign * (TURN_ANGLE + 0.1))
    info = _idle(env, 5)
    assert not info["is_success"] and not info["is_failure"]


def test_other_bolt_turned_fails(env) -> None:
    env.reset(seed=0)
    task = env.unwrapped.task
    other = next(k for k in range(len(PLACES)) if PLACES[k] != task.bolt)
    _seat(env, other)
    info = _twist(env, -task.sign * 0.6, 40)
    assert info["is_failure"] and info["failure_reason"] == "wrong bolt turned"
    assert abs(angle(env.unwrapped.sim, other)) >= WRONG_ANGLE


def test_expert_picks_up_the_wrench_and_loosens_the_named_bolt(env) -> None:
    env.reset(seed=5)  # an episode the expert masters (it fails on ~5 % of them)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    assert task.direction == "loosen"
    start = sim.body_pos(WRENCH).copy()
    info: dict = {}
    grasped = False
    for _ in range(task.max_episode_steps):
        _, _, terminated, truncated, info = env.step(env.unwrapped.expert_action())
        grasped |= sim.grasped_by(WRENCH, "right")
        if terminated or truncated:
            break
    assert info["is_success"], info["failure_reason"]
    k = PLACES.index(task.bolt)
    assert grasped and np.linalg.norm(sim.body_pos(WRENCH)[:2] - start[:2]) > 0.2
    assert angle(sim, k) <= -TURN_ANGLE and task.wrenched.turn[k] <= -TURN_ANGLE
    assert all(abs(angle(sim, j)) < 0.1 for j in range(len(PLACES)) if j != k)
