"""Working at the office desk from its long side: desk-frame geometry and expert primitives.

The office desk faces +x and is 1.2 m long (x) by 0.7 m deep (y). The office manipulation
tasks (PenInHolder, SortPapers, RetrieveStapler) put their props in a strip along the desk's
-y edge, clear of the monitor, and the robot works from that side facing +y of the desk
frame. The hand can only reach ~0.3 m in front of the carried pelvis (the robot's
``grasp_reach``, :func:`vla_bench.experts.manipulation.reach`), so everything a task asks to
grasp lies 0.1–0.25 m in from that edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vla_bench.domains.office.layout import DESK_HALF
from vla_bench.experts.base import (
    Approach,
    Command,
    Controller,
    Grip,
    Navigate,
    Phase,
    Reach,
    grasp_rotation,
)
from vla_bench.experts.manipulation import in_front_of, pick_phases, stand_for
from vla_bench.geometry import from_robot_frame
from vla_bench.sim import Sim

EDGE_Y = -DESK_HALF[1]  # desk-frame y of the edge the robot works from
STRIP_X = (-0.15, 0.5)  # desk-frame x range of prop centres (the monitor stands at x = -0.35)
STRIP_Y = -0.21  # desk-frame y of prop centres: 14 cm in from the edge


def desk_frame(sim: Sim) -> tuple[np.ndarray, np.ndarray]:
    """Position and rotation matrix of the desk this episode (after the layout's jitter)."""
    return sim.body_pos("desk"), sim.body_mat("desk")


def desk_yaw(sim: Sim) -> float:
    """Yaw of the desk body this episode (read from the model: valid right after a reset)."""
    return sim.static_pose("desk")[1]


def desk_point(sim: Sim, x: float, y: float, z: float) -> np.ndarray:
    """World point at desk-frame ``(x, y)`` and world height ``z`` (model pose: reset-safe)."""
    pos, yaw = sim.static_pose("desk")
    xy = from_robot_frame(np.array([x, y]), np.array([pos[0], pos[1], yaw]))
    return np.array([xy[0], xy[1], z])


def work_yaw(sim: Sim) -> float:
    """Heading of a robot standing at the desk's -y edge and facing across it."""
    return desk_yaw(sim) + np.pi / 2


def place_robot(sim: Sim, rng: np.random.Generator) -> None:
    """Start pose: 0.75–0.95 m back from the working edge, anywhere along it, facing it ±0.3 rad."""
    x = rng.uniform(STRIP_X[0] - 0.1, STRIP_X[1])
    y = EDGE_Y - rng.uniform(0.75, 0.95)
    xy = desk_point(sim, x, y, 0.0)[:2]
    sim.set_robot_base(xy, work_yaw(sim) + rng.uniform(-0.3, 0.3))


def stand_facing_desk(point: Callable[[Sim], np.ndarray]) -> Callable[[Sim], np.ndarray]:
    """Base goal that puts the world point ``point(sim)`` at the right hand's reach, facing
    across the desk."""
    def goal(sim: Sim) -> np.ndarray:
        return stand_for(point(sim), sim, work_yaw(sim), "right")
    return goal


@dataclass
class WalkHolding(Navigate):
    """A :class:`Navigate` that holds the right hand where it was (robot frame) while walking.

    Without a hand command the arm sags a few centimetres during a walk: at the top drawer's
    height the hand would then meet the open drawer's lip and shove the drawer back in.
    """

    rot: np.ndarray = field(default_factory=lambda: grasp_rotation(0.15))
    up: float = 0.0  # hold this much above where the hand is (the arm sags once a reach ends)
    _hold: np.ndarray | None = None

    def reset(self) -> None:
        """Hold wherever the hand is when the walk starts."""
        super().reset()
        self._hold = None

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        if self._hold is None:
            self._hold = sim.to_robot_frame(sim.tcp("right")) + np.array([0.0, 0.0, self.up])
        cmd, done = super().update(sim, ctrl)
        return Command(base=cmd.base, tcp={"right": (self._hold, self.rot)}), done


def body_point(name: str) -> Callable[[Sim], np.ndarray]:
    """``point(sim)`` of a body's origin."""
    return lambda sim: sim.body_pos(name)


def pick_and_place(
    obj: str, container: str, *, release_up: float, lift: float = 0.12, pitch: float = 0.15,
    carry_up: float | None = None, grasp_up: float = 0.0,
) -> list[Phase]:
    """Right-hand pick of ``obj`` (``grasp_up`` above its origin); release over ``container``.

    ``release_up`` is the TCP height above the container's origin at release; ``carry_up``
    (default ``release_up + 0.06``) is where the hand first arrives over the container, so a
    long object clears the rim before it is lowered. The pick is labelled ``"pick <obj>"``
    (a failed grasp retries from ``"pick <obj>: approach"``), so several picks can share one
    expert.
    """
    rot = grasp_rotation(pitch)
    carry = release_up + 0.06 if carry_up is None else carry_up

    def at(target: str, back: float = 0.0, up: float = 0.0):
        return in_front_of(target, rot, back, up)

    return [
        # Approach arrives 4 cm above the grasp; the final reach caps its integral (Approach).
        *pick_phases(obj, grasp_up, rot=rot, stand=stand_facing_desk(body_point(obj)),
                     approach_up=0.04, grasp_phase=Approach, lift=lift),
        Navigate(stand_facing_desk(body_point(container)), tol=0.03, speed=0.6),
        Reach("right", at(container, up=carry), rot, tol=0.03, max_steps=40),
        Approach("right", at(container, up=release_up), rot, tol=0.02, max_steps=30),
        Grip("right", -1.0, steps=12),
        # Straight up first: open fingers hooked under the rim would drag the container along.
        Reach("right", at(container, up=carry + 0.02), rot, tol=0.03, max_steps=20),
        # Back off before the next walk; the arm need not get there exactly.
        Reach("right", at(container, back=0.12, up=carry + 0.02), rot, tol=0.05, max_steps=15),
    ]
