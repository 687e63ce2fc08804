"""Outdoor: walk to the free-standing door and push it open with the hand."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.outdoor.corridor import PARK
from vla_bench.domains.outdoor.layout import FIELD_HALF, LANDMARKS, OutdoorLayout
from vla_bench.experts.base import Expert, Navigate, Reach, grasp_rotation
from vla_bench.experts.navigation import Grid, GridPlanner, Hold
from vla_bench.geometry import from_robot_frame, wrap
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

DOOR = "door_frame"
HINGE = "door_hinge"
OPEN_ANGLE = 1.0  # rad: the door counts as open from here (57°)
HOLD_STEPS = 5  # consecutive control steps the door must stay open
PRE_X = 0.85  # m in front of the door plane where the expert lines up
THROUGH_X = 1.1  # m behind the door plane where the expert stops after walking through
LANE_Y = -0.1  # m along the door plane from its centre (the hinge is at +0.44)
START_DIST = (1.8, 3.2)  # m from the door plane
START_MAX_PATH = 5.5  # m of planned walk to the line-up pose
HAND = np.array([0.36, -0.12])  # right hand, robot frame (x, y), while pushing
HAND_UP = 0.95  # m above the ground under the robot
DOOR_RANGE = 1.7  # rad each way
CLEAR = 0.35  # m of robot clearance needed at the line-up and walk-through poses


@register_task(domain="outdoor", family="navigation", max_episode_steps=300)
class PushDoorOpen(Task):
    """Push the door open.

    **Description** — On the bumpy field stands a free-standing door frame (0.9 m opening,
    2 m high) with a hinged, unlatched door panel (8 kg, damped, swings both ways up to
    ±1.7 rad), among the other five landmarks (tree, lamp post, rock, bench, crates). The robot
    starts on one side of the door; it must walk up to the door and push the panel open with
    its hand or arm (physical contact; nothing attaches), walking through if it likes.

    **Randomisation** — the landmarks' layout (the door frame's cell, ±25 cm jitter and yaw)
    and colours, including the door panel's colour (red, blue or green, tinted); the robot
    starts 1.8–3.2 m in front of either face of the door (the side whose line-up and
    walk-through spots are free; a landmark crowding both is parked outside the field),
    ±0.6 m sideways, with a uniform heading; instruction template. The door starts closed.

    **Success** — the hinge angle magnitude is ≥ 1.0 rad (57°) for 5 consecutive control
    steps, read from the hinge joint. Step budget 300.

    **Failure** — the pelvis leaves the field (|x| or |y| > 7.5 m). Pushing the door the other
    way (toward the robot) is not possible from the near side; pulling is not required.

    **Safety notes** — the hand and body touching the door panel are counted by the env's
    ``collision`` cost (the task needs that contact); hitting the posts is counted the same way.
    The expert pushes slowly (0.24 m/s), keeping contact forces modest.

    **Alternatives in the scene** — the five other landmarks are "walk to X" goals of the same
    domain; the door is the only articulated object, so this task mainly tests the verb (push
    open, not walk to / stop at the door): a policy that walks up to the door and stops fails.

    **Version history** — v1 (2026-11): first release.
    """

    held_out_bodies = ("door",)  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "push the door open",
            "walk to the door and push it open",
            "open the door by pushing it",
            "go over to the door and shove it open",
            "push on the door until it swings open",
        ),
        test=(
            "get that door open with a push",
            "head to the free-standing door and push it so it swings wide",
            "could you push open the door in the field",
        ),
    )
    layout: OutdoorLayout

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.side = 1.0
        self.open_steps = Dwell(("open",), lambda sim: {"open": self.door_open(sim)})

    def build(self, spec: mujoco.MjSpec) -> None:
        """Free the layout's door hinge to ±1.7 rad (the layout's range compiles in degrees).

        The outdoor layout writes ``range=[-1.7, 1.7]`` for the hinge, which MuJoCo's default
        (degree) compiler reads as ±1.7°, a door that barely moves. This task opens it to the
        intended ±1.7 rad in the scenes that build it; ``VLA-Outdoor-WalkToTree-v1`` (a
        released id) builds without this task and keeps its door as it was. The panel–frame
        contacts are excluded for the same reason.
        """
        joint = spec.joint(HINGE)
        limit = float(np.degrees(DOOR_RANGE)) if spec.compiler.degree else DOOR_RANGE
        joint.range = [-limit, limit]
        # The frame is welded to the world, so MuJoCo's parent-child filter does not keep the
        # panel's hinge edge from rubbing the hinge-side post once it swings past ~0.9 rad.
        spec.add_exclude(bodyname1=DOOR, bodyname2="door")

    # -- geometry ------------------------------------------------------------------------------
    def _world(self, sim: Sim, lx: float, ly: float) -> np.ndarray:
        """World ``(x, y)`` of a point in the door frame's own ground frame."""
        return from_robot_frame(np.array([lx, ly]), self.layout.landmark_pose(sim, DOOR))

    def _pose(self, sim: Sim, lx: float) -> np.ndarray:
        """Pose on the walking line at door-frame ``x = lx``, facing through the door."""
        xy = self._world(sim, lx, LANE_Y)
        yaw = self.layout.landmark_pose(sim, DOOR)[2]
        facing = yaw + (np.pi if self.side > 0 else 0.0)
        return np.array([xy[0], xy[1], wrap(facing)])

    def planner(self) -> GridPlanner:
        """A* around the landmarks (the door frame included)."""
        return GridPlanner(self.layout)

    def hinge(self, sim: Sim) -> float:
        """The door's hinge angle (rad, either sign)."""
        return sim.joint_qpos(HINGE)

    def door_open(self, sim: Sim) -> bool:
        """The door stands open now (the dwell monitor's test)."""
        return abs(self.hinge(sim)) >= OPEN_ANGLE

    def monitors(self) -> Sequence[Monitor]:
        """The open-door counter ``evaluate`` reads."""
        return (self.open_steps,)

    # -- hooks ---------------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Pick a free side of the door, start the robot 1.8–3.2 m in front of it."""
        planner = self.planner()
        grid = planner.grid(sim, margin=0.0)
        sides = [s for s in (1.0, -1.0) if self._side_free(sim, grid, s)]
        if not sides:
            centre = self.layout.landmark_xy(sim, DOOR)
            for name in LANDMARKS:
                if name != DOOR and self.layout.distance_to(sim, name, centre) < 2.0:
                    sim.set_static_pose(name, PARK)
            sides = [1.0, -1.0]
            grid = planner.grid(sim, margin=0.0)
        self.side = float(sides[int(rng.integers(len(sides)))])
        best, best_len = None, np.inf
        goal = self._pose(sim, self.side * PRE_X)
        for _ in range(300):
            xy = self._world(sim, self.side * rng.uniform(*START_DIST), rng.uniform(-0.6, 0.6))
            if np.any(np.abs(xy) > FIELD_HALF - 1.0) or not grid.free(grid.cell(xy)):
                continue
            length = planner.length(sim, np.array([xy[0], xy[1], 0.0]), goal)
            if length <= START_MAX_PATH:
                best = xy
                break
            if length < best_len:
                best, best_len = xy, length
        if best is None:  # pragma: no cover
            best = goal[:2]
        sim.set_robot_base(best, rng.uniform(-np.pi, np.pi))
        self.instruction = self.templates.sample(rng, phrasing)
        return self.instruction

    def _side_free(self, sim: Sim, grid: Grid, side: float) -> bool:
        for lx in (side * PRE_X, side * 1.6, -side * THROUGH_X):
            xy = self._world(sim, lx, LANE_Y)
            if np.any(np.abs(xy) > FIELD_HALF - 0.8):
                return False
            others = [n for n in LANDMARKS if n != DOOR]
            if min(self.layout.distance_to(sim, n, xy) for n in others) < CLEAR + 0.2:
                return False
        return True

    def evaluate(self, sim: Sim) -> Evaluation:
        """Open once the hinge stays at ≥ 1.0 rad for 5 control steps."""
        angle = abs(self.hinge(sim))
        success = self.open_steps.steps("open") >= HOLD_STEPS
        xy = sim.robot_base()[:2]
        failure = (not success) and bool(np.any(np.abs(xy) > FIELD_HALF))
        return Evaluation(success=success, failure=failure,
                          failure_reason="left the field" if failure else None,
                          progress={"door_angle_rad": angle,
                                    "open_steps": float(self.open_steps.steps("open"))})

    def expert(self, sim: Sim) -> Expert:
        """A* to the line-up pose, raise the right hand forward, walk slowly through the door."""
        rot = grasp_rotation(0.0)
        pre = self._pose(sim, self.side * PRE_X)
        through = self._pose(sim, -self.side * THROUGH_X)

        def hand(s: Sim) -> np.ndarray:
            x, y, _ = s.robot_base()
            return np.array([*s.from_robot_frame(HAND), s.ground_height(x, y) + HAND_UP])

        return Expert([
            Navigate(lambda _s: pre, tol=0.04, planner=self.planner(), max_steps=220),
            Reach("right", hand, rot, tol=0.04, max_steps=25, freeze=True),
            Navigate(lambda _s: through, tol=0.05, max_steps=200, speed=0.4),
            Hold(steps=400),
        ])
