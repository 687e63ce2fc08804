"""The kinematic gait of the carried modes: feet step and stay planted, the pelvis bobs,
the robot stands still at a zero command, and the base goes where the command takes it."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
import pytest
from helpers import robot_params

import vla_bench
from vla_bench.control.controller import Controller
from vla_bench.control.gait import (
    CLEARANCE,
    SOLE_CONTACT_HEIGHT,
    FootProbe,
    find_legs,
    lowest_point,
    record_feet,
    stance_slip,
)
from vla_bench.conventions import CONTROL_DT, SUBSTEPS
from vla_bench.geometry import to_robot_frame

ENV_ID = "VLA-Outdoor-WalkToTree-v1"
WALK_S, STOP_S = 3.0, 2.0
FORWARD = 0.5  # action: half the top speed, 0.3 m/s
SETTLED_S = 1.0  # slip and bob are judged once the start-up step is over
ROBOTS = [p for p in robot_params() if p.values[0] in ("g1", "h1", "g1_23")]


@dataclass
class Rollout:
    xy: np.ndarray  # (T, 2, 2) feet, every physics step
    sole: np.ndarray  # (T, 2) sole heights above the ground
    height: np.ndarray  # (T,) pelvis height above the ground under it
    base: np.ndarray  # (T, 4) base x, y, z, yaw
    legs: np.ndarray  # (T, n_legs) leg joint angles
    walk_steps: int  # physics steps with the command on


def _rollout(env, gait: bool, command: np.ndarray, walk_s: float = WALK_S,
             stop_s: float = STOP_S) -> Rollout:
    """Drive ``base_only`` with ``command`` then zero, physics step by physics step."""
    e = env.unwrapped
    e.controller = Controller(e.model, e.handles, "base_only", e.layout.ground_height,
                              e.base_height, gait=gait)
    env.reset(seed=0)
    m, d, h = e.model, e.data, e.handles
    probe = FootProbe(m, h, e.layout.ground_height)
    rows: dict[str, list] = {k: [] for k in ("xy", "sole", "height", "base", "legs")}
    n_walk, n_stop = round(walk_s / CONTROL_DT), round(stop_s / CONTROL_DT)
    legs = h.qpos_adr[: len(h.model.legs)]
    for k in range(n_walk + n_stop):
        e.controller.apply(command if k < n_walk else np.zeros(3), d)
        for _ in range(SUBSTEPS):
            mujoco.mj_step(m, d)
            xy, sole = probe.sample(d)
            base = d.qpos[h.base_qpos_adr].copy()
            pelvis = d.xpos[h.pelvis_body]
            rows["xy"].append(xy)
            rows["sole"].append(sole)
            rows["height"].append(pelvis[2] - e.layout.ground_height(pelvis[0], pelvis[1]))
            rows["base"].append(base)
            rows["legs"].append(d.qpos[legs].copy())
    return Rollout(**{k: np.array(v) for k, v in rows.items()}, walk_steps=n_walk * SUBSTEPS)


@pytest.fixture(scope="module", params=ROBOTS)
def walk(request):
    env = vla_bench.make(ENV_ID, cameras=(), control_mode="base_only", robot=request.param)
    try:
        command = np.array([FORWARD, 0.0, 0.0])
        yield request.param, env, _rollout(env, True, command), _rollout(env, False, command)
    finally:
        env.close()


def test_feet_alternate_and_lift(walk) -> None:
    _, _, r, _ = walk
    sole = r.sole[: r.walk_steps]
    down = sole <= SOLE_CONTACT_HEIGHT
    for foot in range(2):
        lifts = np.flatnonzero(down[1:, foot] < down[:-1, foot])
        assert len(lifts) >= 2, f"foot {foot} lifted {len(lifts)} times in {WALK_S} s"
        assert sole[:, foot].max() > 0.03, "a swing clears the ground by a few centimetres"
    assert not np.any(~down[:, 0] & ~down[:, 1]), "one foot is always on the ground (no flight)"


def test_stance_feet_do_not_slip(walk) -> None:
    name, _, r, _ = walk
    start = round(SETTLED_S / CONTROL_DT) * SUBSTEPS
    slips = stance_slip(r.xy[start: r.walk_steps], r.sole[start: r.walk_steps])
    worst = max(max(s) for s in slips)
    assert sum(len(s) for s in slips) >= 4
    assert worst < 0.02, f"{name}: stance slip {worst * 100:.1f} cm"


def test_pelvis_bobs_while_walking_and_not_when_stopped(walk) -> None:
    name, _, r, glide = walk
    start = round(SETTLED_S / CONTROL_DT) * SUBSTEPS
    walking = r.height[start: r.walk_steps]
    assert np.ptp(walking) > 0.005, f"{name}: bob {np.ptp(walking) * 1000:.1f} mm"
    assert np.ptp(glide.height[start: glide.walk_steps]) < 0.002, "without the gait, no bob"
    still = r.height[-round(0.5 / CONTROL_DT) * SUBSTEPS:]
    assert np.ptp(still) < 0.001, f"{name}: pelvis moves {np.ptp(still) * 1000:.2f} mm at rest"


def test_stops_in_symmetric_stance(walk) -> None:
    _, _, r, _ = walk
    last = round(0.5 / CONTROL_DT) * SUBSTEPS
    assert np.ptp(r.legs[-last:], axis=0).max() < 1e-3, "legs are still at a zero command"
    base = r.base[-1]
    feet = to_robot_frame(r.xy[-1], np.array([base[0], base[1], base[3]]))
    assert abs(feet[0, 0] - feet[1, 0]) < 0.01, "feet side by side"
    assert abs(feet[0, 1] + feet[1, 1]) < 0.01, "feet mirror each other about the pelvis"
    assert np.all(np.abs(r.sole[-1] - CLEARANCE) < 0.005), "both soles on the ground"


def test_base_goes_where_the_command_takes_it(walk) -> None:
    name, _, r, glide = walk
    n = r.walk_steps - 1
    gait = np.linalg.norm(r.base[n, :2] - r.base[0, :2])
    free = np.linalg.norm(glide.base[n, :2] - glide.base[0, :2])
    assert abs(gait / free - 1.0) < 0.15, f"{name}: speed ratio {gait / free:.3f}"


def test_legs_still_without_command() -> None:
    env = vla_bench.make(ENV_ID, cameras=(), control_mode="base_only")
    try:
        r = _rollout(env, True, np.zeros(3), walk_s=0.0, stop_s=1.0)
        # After a moment's settling onto the uneven ground: nothing moves.
        later = slice(round(0.5 / CONTROL_DT) * SUBSTEPS, None)
        assert np.ptp(r.legs[later], axis=0).max() < 1e-3
        assert np.ptp(r.height[later]) < 0.001
        assert np.all(r.sole <= SOLE_CONTACT_HEIGHT), "never lifts a foot"
    finally:
        env.close()


@pytest.mark.parametrize("mode", ["ee_delta", "joint_pos"])
def test_standing_height_puts_soles_on_the_ground(mode: str) -> None:
    """The env stands the robot on its soles (not on the feet's bounding spheres, which put
    them centimetres above the floor), carried or free."""
    env = vla_bench.make(ENV_ID, cameras=(), control_mode=mode)
    try:
        e = env.unwrapped
        env.reset(seed=0)
        legs = find_legs(e.model, e.handles)
        sole = min(lowest_point(e.model, e.data, g) for leg in legs for g in leg.sole_geoms)
        ground = e.layout.ground_height(*e.data.qpos[e.handles.base_qpos_adr[:2]])
        # Carried: placed CLEARANCE up; free: resting on the soft contacts (a few mm in).
        assert sole - ground == pytest.approx(CLEARANCE, abs=0.003 if mode == "ee_delta" else 0.01)
        if mode == "ee_delta":
            assert e.base_height == pytest.approx(e.controller.gait.base_height)
    finally:
        env.close()


def test_ee_delta_walks_too() -> None:
    env = vla_bench.make(ENV_ID, cameras=(), control_mode="ee_delta")
    try:
        e = env.unwrapped
        e.controller = Controller(e.model, e.handles, "ee_delta", e.layout.ground_height,
                                  e.base_height, gait=True)
        env.reset(seed=0)
        action = np.zeros(env.action_space.shape, np.float32)
        action[0] = 1.0
        legs = e.handles.qpos_adr[: len(e.robot_model.legs)]
        q0 = e.data.qpos[legs].copy()
        for _ in range(10):
            _, _, _, _, info = env.step(action)
            assert info["sim_error"] == ""
        assert np.abs(e.data.qpos[legs] - q0).max() > 0.1, "legs move when the base moves"
    finally:
        env.close()


def test_record_feet_reports_slip() -> None:
    env = vla_bench.make(ENV_ID, cameras=(), control_mode="base_only")
    try:
        e = env.unwrapped
        c = e.controller = Controller(e.model, e.handles, "base_only", e.layout.ground_height,
                                      e.base_height, gait=True)
        env.reset(seed=0)
        probe = FootProbe(e.model, e.handles, e.layout.ground_height)
        command = np.array([FORWARD, 0.0, 0.0])
        xy, sole = record_feet(e.model, e.data, lambda: c.apply(command, e.data), probe, 40)
        assert xy.shape == (40 * SUBSTEPS, 2, 2) and sole.shape == (40 * SUBSTEPS, 2)
        slips = stance_slip(xy, sole)
        # From standing: the start-up steps slip a little more than steady walking (< 2 cm).
        assert all(len(s) >= 2 for s in slips) and max(max(s) for s in slips) < 0.03
    finally:
        env.close()


def test_stance_slip_measure() -> None:
    t = np.linspace(0.0, 1.0, 101)
    xy = np.zeros((101, 1, 2))
    xy[:, 0, 0] = np.where(t < 0.5, 0.003 * t, 0.3 * t)  # creeps 1.5 mm, then swings
    sole = np.where(t < 0.5, 0.0, 0.05)[:, None]
    sole[-10:] = 0.0  # lands again
    slips = stance_slip(xy, sole)
    assert len(slips[0]) == 2
    assert slips[0][0] == pytest.approx(0.003 * t[t < 0.5].max())
    assert slips[0][1] == pytest.approx(0.3 * (t[-1] - t[-10]))
