"""Manipulation experts: walk to an object, grasp it from the front, carry and release it."""

from __future__ import annotations

import numpy as np

from vla_bench.control.controller import yaw_matrix
from vla_bench.experts.base import (
    Expert,
    Grip,
    Navigate,
    Phase,
    PosFn,
    Reach,
    Retry,
    grasp_rotation,
)
from vla_bench.sim import Sim

REACH = np.array([0.31, -0.22])  # where the right hand grasps best, robot frame (x, y)
# The fingertips reach ~3.5 cm below the TCP: a pinch lower than this above the counter would
# press the fingers into it, so short objects are grasped above their centre.
GRASP_MIN_HEIGHT = 0.037


def stand_at(target: str):
    """Base goal that puts ``target`` at :data:`REACH` in the robot frame, facing +x."""
    def goal(sim: Sim) -> np.ndarray:
        xy = sim.body_pos(target)[:2]
        return np.array([xy[0] - REACH[0], xy[1] - REACH[1], 0.0])
    return goal


def in_front_of(target: str, rot: np.ndarray, back: float = 0.0, up: float = 0.0):
    """TCP goal ``back`` metres before ``target`` along the approach axis of ``rot``, ``up`` above."""
    approach = rot[:, 2]

    def pos(sim: Sim) -> np.ndarray:
        yaw = sim.robot_base()[2]
        world_app = np.array([np.cos(yaw) * approach[0], np.sin(yaw) * approach[0], approach[2]])
        return sim.body_pos(target) - back * world_app + np.array([0, 0, up])
    return pos


def raised(target: str, height: float):
    """TCP goal in front of the chest, ``height`` above ``target``.

    Raised before walking up to a surface: the hanging hand would otherwise meet its front edge.
    """
    def pos(sim: Sim) -> np.ndarray:
        x, y, yaw = sim.robot_base()
        c, s = np.cos(yaw), np.sin(yaw)
        fx, fy = 0.17, REACH[1]
        return np.array([x + c * fx - s * fy, y + s * fx + c * fy,
                         sim.body_pos(target)[2] + height])
    return pos


def pick_and_place_expert(obj: str, container: str, release_height: float) -> Expert:
    """Right-hand pick of ``obj`` and place into ``container`` (facing +x surfaces)."""
    rot = grasp_rotation(0.15)

    def at(target: str, back: float = 0.0, up: float = 0.0):
        return in_front_of(target, rot, back, up)

    lift = 0.12
    return Expert([
        Grip("right", -1.0, steps=2),
        Reach("right", raised(obj, 0.08), rot, tol=0.04, max_steps=25),
        Navigate(stand_at(obj), tol=0.03),
        Reach("right", at(obj, back=0.12, up=0.06), rot, tol=0.035, max_steps=40),
        Reach("right", at(obj, back=0.10, up=0.0), rot, tol=0.02, max_steps=30),
        Reach("right", at(obj, back=-0.005), rot, tol=0.012, max_steps=40, speed=0.5),
        Grip("right", 1.0, steps=10),
        Retry(lambda sim: sim.grasped_by(obj, "right"), to=3, times=2),
        Reach("right", at(obj, up=lift), rot, tol=0.03, max_steps=30, freeze=True),
        Navigate(stand_at(container), tol=0.03, speed=0.6),
        Reach("right", at(container, up=release_height + 0.06), rot, tol=0.03, max_steps=40),
        Reach("right", at(container, up=release_height), rot, tol=0.02, max_steps=30),
        Grip("right", -1.0, steps=12),
        Reach("right", at(container, back=0.12, up=release_height + 0.08), rot, tol=0.03),
    ])


def pick_phases(obj: str, grasp_up: float, start: int = 0,
                grasp_back: float = -0.005) -> list[Phase]:
    """Walk to ``obj``, pinch it from the front ``grasp_up`` above its origin, lift it 12 cm.

    ``start`` is the index of the first returned phase in the expert's list (the grasp retry
    jumps back by index); ``grasp_back`` how far before the origin the TCP stops (m).
    """
    rot = grasp_rotation(0.15)

    def at(back: float = 0.0, up: float = 0.0) -> PosFn:
        return in_front_of(obj, rot, back, up + grasp_up)

    return [
        Grip("right", -1.0, steps=2),
        Reach("right", raised(obj, 0.08), rot, tol=0.04, max_steps=25),
        Navigate(stand_at(obj), tol=0.03),
        Reach("right", at(back=0.12, up=0.06), rot, tol=0.035, max_steps=40),
        Reach("right", at(back=0.10), rot, tol=0.02, max_steps=30),
        Reach("right", at(back=grasp_back), rot, tol=0.012, max_steps=40, speed=0.5),
        Grip("right", 1.0, steps=10),
        Retry(lambda s: s.grasped_by(obj, "right"), to=start + 3, times=2),
        Reach("right", at(up=0.12), rot, tol=0.03, max_steps=30, freeze=True),
    ]


def place_phases(goal: str | PosFn, release_height: float = 0.0,
                 carry_speed: float = 0.8) -> list[Phase]:
    """Carry what the right hand holds over ``goal``, lower it, release, back the hand out.

    ``goal`` is a body (the TCP is released ``release_height`` above its origin) or a
    function giving the world point where the TCP releases.
    """
    rot = grasp_rotation(0.15)

    def drop(up: float) -> PosFn:
        if isinstance(goal, str):
            body = goal
            return lambda s: s.body_pos(body) + np.array([0.0, 0.0, release_height + up])
        fn = goal
        return lambda s: fn(s) + np.array([0.0, 0.0, up])

    def stand_drop(s: Sim) -> np.ndarray:
        xy = drop(0.0)(s)[:2]
        return np.array([xy[0] - REACH[0], xy[1] - REACH[1], 0.0])

    def clear(s: Sim) -> np.ndarray:  # out along the jaws first: they must not drag it along
        yaw = s.robot_base()[2]
        return s.tcp("right") - 0.06 * (yaw_matrix(yaw) @ rot[:, 2])

    def retreat(s: Sim) -> np.ndarray:
        yaw = s.robot_base()[2]
        return s.tcp("right") + np.array([-0.1 * np.cos(yaw), -0.1 * np.sin(yaw), 0.06])

    return [
        Navigate(stand_drop, tol=0.03, speed=carry_speed),
        Reach("right", drop(0.06), rot, tol=0.03, max_steps=40),
        Reach("right", drop(0.0), rot, tol=0.012, max_steps=30, speed=0.5),
        Grip("right", -1.0, steps=12),
        Reach("right", clear, rot, tol=0.015, max_steps=15, freeze=True, speed=0.5),
        Reach("right", retreat, rot, tol=0.03, max_steps=30, freeze=True),
    ]
