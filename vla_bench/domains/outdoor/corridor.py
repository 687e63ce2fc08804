"""Helpers for outdoor tasks that lay out a straight course on the field.

A *course* is a start point and a heading; task props are placed in its local frame
(``u`` along the heading, ``v`` to the left). :func:`find_course` draws one from the episode
rng whose rectangle is clear of the six landmarks, and parks any landmark still in the way
outside the field (it then takes no part in the episode).
"""

from __future__ import annotations

import numpy as np

from vla_bench.domains.outdoor.layout import FIELD_HALF, LANDMARKS, OutdoorLayout
from vla_bench.geometry import from_robot_frame, to_robot_frame
from vla_bench.sim import Sim

PARK = np.array([40.0, 40.0, -40.0])  # far outside and below the terrain, beyond zfar (50 m)
CLEARANCE = 0.35  # m kept between the course rectangle and a landmark's footprint


class Course:
    """A start ``origin`` and heading ``yaw``; converts course coordinates to world ones.

    Course coordinates are the frame of the pose ``(origin, yaw)`` (:mod:`vla_bench.geometry`).
    """

    def __init__(self, origin: np.ndarray, yaw: float) -> None:
        self.origin = np.asarray(origin, float)[:2]
        self.yaw = float(yaw)
        self.pose = np.array([self.origin[0], self.origin[1], self.yaw])

    def world(self, u: float, v: float) -> np.ndarray:
        """World ``(x, y)`` of course point ``(u, v)``."""
        return from_robot_frame(np.array([u, v], float), self.pose)

    def local(self, xy: np.ndarray) -> np.ndarray:
        """Course ``(u, v)`` of a world point."""
        return to_robot_frame(np.asarray(xy, float)[:2], self.pose)


def _samples(course: Course, u: tuple[float, float], v: tuple[float, float]) -> np.ndarray:
    us = np.arange(u[0], u[1] + 1e-9, 0.25)
    vs = np.arange(v[0], v[1] + 1e-9, 0.25)
    return from_robot_frame(np.array([(a, b) for a in us for b in vs]), course.pose)


def find_course(
    sim: Sim, layout: OutdoorLayout, rng: np.random.Generator,
    u: tuple[float, float], v: tuple[float, float], tries: int = 300,
) -> Course:
    """A course whose rectangle ``u x v`` lies in the field and clear of every landmark."""
    lim = FIELD_HALF - 0.8
    best, best_blockers = None, None
    for _ in range(tries):
        origin = rng.uniform(-lim, lim, 2)
        course = Course(origin, float(rng.uniform(-np.pi, np.pi)))
        pts = _samples(course, u, v)
        if np.any(np.abs(pts) > lim):
            continue
        blockers = [n for n in LANDMARKS
                    if float(np.min(layout.distances_to(sim, n, pts))) < CLEARANCE]
        if not blockers:
            return course
        if best_blockers is None or len(blockers) < len(best_blockers):
            best, best_blockers = course, blockers
    if best is None:  # pragma: no cover - the field is 15 m wide, a course ~7 m long
        best, best_blockers = Course(np.array([-lim + 1.0, 0.0]), 0.0), list(LANDMARKS)
    for name in best_blockers:
        sim.set_static_pose(name, PARK)
    return best

