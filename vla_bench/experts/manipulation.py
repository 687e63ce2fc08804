"""Manipulation experts: walk to an object, grasp it from the front, carry and release it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

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
from vla_bench.geometry import from_robot_frame, yaw_matrix
from vla_bench.sim import Sim


def reach(sim: Sim, side: str = "right") -> np.ndarray:
    """Where ``side``'s hand grasps best, robot frame ``(x, y)`` (the robot's ``grasp_reach``)."""
    return sim.robot.model.reach(side)


def grasp_lift(sim: Sim, half_height: float) -> float:
    """How far above its centre to pinch an object ``half_height`` tall (short ones higher)."""
    return max(0.0, sim.robot.model.grasp_min_height - half_height)


def stand_for(point: np.ndarray, sim: Sim, yaw: float = 0.0, side: str = "right") -> np.ndarray:
    """Base pose ``(x, y, yaw)`` facing ``yaw`` that puts world ``point`` at ``side``'s reach."""
    xy = np.asarray(point, float)[:2] - yaw_matrix(yaw)[:2, :2] @ reach(sim, side)
    return np.array([xy[0], xy[1], yaw])


def stand_at(target: str, side: str = "right"):
    """Base goal that puts ``target`` at ``side``'s reach in the robot frame, facing +x."""
    def goal(sim: Sim) -> np.ndarray:
        return stand_for(sim.body_pos(target), sim, 0.0, side)
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
        fx, fy = 0.17, reach(sim)[1]
        x, y = from_robot_frame(np.array([fx, fy]), sim.robot_base())
        return np.array([x, y, sim.body_pos(target)[2] + height])
    return pos


def pick_and_place_expert(obj: str, container: str, release_height: float) -> Expert:
    """Right-hand pick of ``obj`` and place into ``container`` (facing +x surfaces)."""
    rot = grasp_rotation(0.15)

    def at(target: str, back: float = 0.0, up: float = 0.0):
        return in_front_of(target, rot, back, up)

    return Expert([
        *pick_phases(obj, 0.0, rot=rot),
        Navigate(stand_at(container), tol=0.03, speed=0.6),
        Reach("right", at(container, up=release_height + 0.06), rot, tol=0.03, max_steps=40),
        Reach("right", at(container, up=release_height), rot, tol=0.02, max_steps=30),
        Grip("right", -1.0, steps=12),
        Reach("right", at(container, back=0.12, up=release_height + 0.08), rot, tol=0.03),
    ])


def pick_phases(obj: str, grasp_up: float, *, grasp_back: float = -0.005,
                label: str | None = None, rot: np.ndarray | None = None,
                stand: PosFn | None = None, approach_tol: float = 0.035, grasp_tol: float = 0.012,
                grasp_steps: int = 40, lift: float | None = 0.12, approach_up: float = 0.06,
                grasp_phase: type[Reach] = Reach,
                check: Callable[[Sim], bool] | None = None, raise_up: float = 0.08,
                approach_back: float = 0.12, pre_back: float = 0.10, pre_tol: float = 0.02,
                settle_tol: float | None = None, lift_tol: float = 0.03,
                lift_speed: float = 1.0) -> list[Phase]:
    """Walk to ``obj``, pinch it from the front ``grasp_up`` above its origin, lift it.

    ``label`` names this pick (default: ``"pick <obj>"``): its approach is the phase labelled
    ``"<label>: approach"``, where a failed pinch retries from. ``grasp_back`` is how far
    before the origin the TCP stops (m); ``rot`` the robot-frame gripper rotation (default a
    grasp tilted 0.15 rad down); ``stand`` the base goal (default :func:`stand_at`);
    ``approach_tol``/``grasp_tol``/``grasp_steps`` the approach and final-reach tolerances (m)
    and step limit; ``lift`` metres lifted after the grasp (``None``: stay at the grasp).
    ``approach_up`` is how far above the grasp point the approach arrives (m); ``grasp_phase``
    the :class:`Reach` subclass of the final slow reach (e.g. one that caps its integral
    correction, so a wound-up offset does not shove a light object ahead of the fingers).
    ``check`` is what the retry after the grasp tests (default: the right hand pinches ``obj``);
    a task may use it to also note where the hand held the object.
    For objects that need a more careful pinch (a knife handle in a block, a bottle full of
    water): ``raise_up`` is how far above the object's origin the hand is raised before the
    walk (clear of the surface's front edge); ``approach_back``, ``pre_back``/``pre_tol`` how
    far before the grasp point the approach and the pre-grasp stop, and the pre-grasp's
    tolerance; ``settle_tol`` adds a very slow final reach to that tolerance (m) after the grasp
    reach (none by default); ``lift_tol``/``lift_speed`` the lift's tolerance and speed.
    """
    rot = grasp_rotation(0.15) if rot is None else rot
    label = f"pick {obj}" if label is None else label

    def at(back: float = 0.0, up: float = 0.0) -> PosFn:
        return in_front_of(obj, rot, back, up + grasp_up)

    phases: list[Phase] = [
        Grip("right", -1.0, steps=2),
        Reach("right", raised(obj, raise_up), rot, tol=0.04, max_steps=25),
        Navigate(stand or stand_at(obj), tol=0.03),
        Reach("right", at(back=approach_back, up=approach_up), rot, tol=approach_tol,
              max_steps=40).named(f"{label}: approach"),
        Reach("right", at(back=pre_back), rot, tol=pre_tol, max_steps=30),
        grasp_phase("right", at(back=grasp_back), rot, tol=grasp_tol, max_steps=grasp_steps,
                    speed=0.5),
    ]
    if settle_tol is not None:
        phases.append(Reach("right", at(back=grasp_back), rot, tol=settle_tol, max_steps=15,
                            speed=0.2))
    phases += [
        Grip("right", 1.0, steps=10),
        Retry(check or (lambda s: s.grasped_by(obj, "right")), to=f"{label}: approach",
              times=2),
    ]
    if lift is not None:
        phases.append(Reach("right", at(up=lift), rot, tol=lift_tol, max_steps=30, freeze=True,
                            speed=lift_speed))
    return phases


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
        return stand_for(drop(0.0)(s), s)

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
