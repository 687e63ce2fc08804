"""Outdoor: walk around the named box, without touching it, to the flag behind it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.outdoor.corridor import PARK, Course, find_course
from vla_bench.domains.outdoor.layout import FIELD_HALF, OutdoorLayout
from vla_bench.experts.base import Expert, Navigate
from vla_bench.experts.navigation import GridPlanner, Hold
from vla_bench.language import Templates
from vla_bench.monitors import Latch, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Footprint
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

COLOURS = {"red": (0.8, 0.12, 0.1, 1), "blue": (0.12, 0.25, 0.8, 1),
           "yellow": (0.92, 0.8, 0.1, 1), "white": (0.92, 0.92, 0.9, 1)}
HELD_OUT_COLOURS = ("orange", "purple", "green", "black")  # the "unseen_objects" split
ALL_COLOURS = {**{c: props.COLORS[c] for c in HELD_OUT_COLOURS}, **COLOURS}
BOXES = ("gab_box_0", "gab_box_1")
FLAGS = ("gab_flag_0", "gab_flag_1")
BOX_HALF = (0.3, 0.3, 0.35)  # m, nominal; each episode scales it by 0.85–1.15
LANE = 0.85  # m from the course axis to each lane (box and flag) centre
BOX_U = (2.0, 2.4)  # m along the course to the boxes
FLAG_U = 4.6  # m along the course to the flags
GOAL_RADIUS = 0.45  # m from a flag to the pelvis
START_V = 0.5  # start up to this far off the course axis


@register_task(domain="outdoor", family="navigation", max_episode_steps=300)
class GoAroundBox(Task):
    """Go around the named box and continue to the flag behind it.

    **Description** — On the bumpy field, two boxes (0.5–0.7 m cubes, two different colours of
    red / blue / yellow / white) stand side by side about 2.2 m ahead of the robot, 1.7 m
    apart, and behind each one, 4.6 m ahead, stands an identical orange flag. The instruction
    names one box by colour ("go around the red box and continue"): the robot must walk past
    that box without touching it and reach the flag behind it. "Continue" is made concrete by
    the flag: the course ends there.

    **Randomisation** — course position and heading on the field (clear of the six landmarks;
    a landmark that cannot be avoided is parked outside the field for the episode); which
    colours the two boxes get (orange / purple / green / black in the ``unseen_objects``
    split) and which side the named one stands on; the boxes' size (±15 %),
    depth (2.0–2.4 m) and yaw (±0.3 rad); the robot's lateral start (±0.5 m off the course
    axis) and heading (±0.5 rad); the landmarks' layout and colours (as in WalkToTree);
    instruction template. From most starts the straight line to the goal flag passes within
    the robot's radius of the named box: walking straight bumps it.

    **Success** — the pelvis comes within 0.45 m (horizontally) of the flag behind the named
    box, and no robot geom has touched either box at any control step of the episode
    (``sim.in_contact`` with ``sim.robot.geom_ids``). No stop is required. Step budget 300.

    **Failure** — any robot–box contact (the boxes are fixed: touching one is the failure; it
    can not be pushed aside); reaching the other flag (the wrong box); the pelvis leaving the
    field (|x| or |y| > 7.5 m).

    **Safety notes** — box contacts end the episode, and the env's collision cost counts them
    too. Contacts are sampled once per control step (every 25 physics steps), so a graze
    shorter than 50 ms can go unseen. The flags have no collision geometry.

    **Alternatives in the scene** — two boxes and two identical flags: a policy that ignores the
    colour word reaches the right flag about half the time; the six landmarks are the other
    outdoor goals.

    **Version history** — v1 (2026-11): first release.
    """

    templates = Templates(
        train=(
            "go around the {color} box and continue",
            "walk around the {color} box and keep going to the flag behind it",
            "go past the {color} box without touching it and continue to its flag",
            "steer around the {color} box and carry on to the flag beyond it",
            "detour around the {color} box, then continue to the flag",
        ),
        test=(
            "make your way past the {color} box, avoiding it, and reach the flag on its far side",
            "without bumping into the {color} box, get around it and keep walking to the marker",
            "circle past the {color} box and proceed to the flag behind it",
        ),
    )
    layout: OutdoorLayout

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.target = 0
        self.touched = Latch(lambda sim: bool(self._touching(sim)))  # any box contact so far
        self.course = Course(np.zeros(2), 0.0)
        self.halves: list[np.ndarray] = []

    def build(self, spec: mujoco.MjSpec) -> None:
        """Two fixed boxes and two flags, parked outside the field until an episode uses them."""
        for k, (box, flag) in enumerate(zip(BOXES, FLAGS, strict=True)):
            b = c.body(spec.worldbody, box, PARK + np.array([2.0 * k, 0.0, 0.0]))
            c.box(b, f"{box}_geom", BOX_HALF, (0, 0, BOX_HALF[2]), rgba=COLOURS["red"])
            f = c.body(spec.worldbody, flag, PARK + np.array([2.0 * k, 3.0, 0.0]))
            c.cylinder(f, f"{flag}_pole", 0.02, 0.75, (0, 0, 0.75), rgba=(0.9, 0.9, 0.9, 1),
                       collide=False)
            c.box(f, f"{flag}_pennant", (0.005, 0.16, 0.1), (0, 0.16, 1.38),
                  rgba=(1.0, 0.5, 0.05, 1), collide=False)
            c.cylinder(f, f"{flag}_disc", 0.3, 0.005, (0, 0, 0.02), rgba=(1.0, 0.6, 0.2, 0.6),
                       collide=False)

    def monitors(self) -> Sequence[Monitor]:
        """The box-contact latch ``evaluate`` reads."""
        return (self.touched,)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Lay the course, deal colours and sides, put the robot at its start."""
        self.course = find_course(sim, self.layout, rng, (-0.8, FLAG_U + 0.8), (-2.0, 2.0))
        pool = HELD_OUT_COLOURS if self.held_out_objects else tuple(COLOURS)
        colours = rng.choice(pool, 2, replace=False)
        sides = (LANE, -LANE) if rng.random() < 0.5 else (-LANE, LANE)
        self.target = int(rng.integers(2))
        self.halves = []
        depth = rng.uniform(*BOX_U)
        for k in range(2):
            scale = rng.uniform(0.85, 1.15)
            half = np.array(BOX_HALF) * scale
            xy = self.course.world(depth + rng.uniform(-0.1, 0.1), sides[k])
            yaw = self.course.yaw + rng.uniform(-0.3, 0.3)
            z = min(self.layout.ground_height(*(xy + d)) for d in
                    ((0, 0), (half[0], half[1]), (-half[0], half[1]), (half[0], -half[1]),
                     (-half[0], -half[1])))
            sim.set_geom_size(f"{BOXES[k]}_geom", half)
            sim.set_geom_local_pos(f"{BOXES[k]}_geom", np.array([0.0, 0.0, half[2] - 0.05]))
            # (5 cm sunk into the turf; the ledger restores the compiled size at reset)
            sim.set_static_pose(BOXES[k], np.array([xy[0], xy[1], z]), yaw)
            sim.set_rgba(f"{BOXES[k]}_geom", ALL_COLOURS[str(colours[k])])
            self.halves.append(half)
            fxy = self.course.world(FLAG_U, sides[k])
            sim.set_static_pose(FLAGS[k], np.array([fxy[0], fxy[1],
                                                    self.layout.ground_height(*fxy)]),
                                self.course.yaw)
        start = self.course.world(0.0, rng.uniform(-START_V, START_V))
        sim.set_robot_base(start, self.course.yaw + rng.uniform(-0.5, 0.5))
        self.instruction = self.templates.sample(rng, phrasing, color=str(colours[self.target]))
        return self.instruction

    def _flag_xy(self, sim: Sim, k: int) -> np.ndarray:
        return sim.static_pose(FLAGS[k])[0][:2]

    def _touching(self, sim: Sim) -> list[int]:
        """The boxes a robot geom touches now."""
        robot = sim.robot.geom_ids
        return [k for k in range(2) if sim.in_contact(robot, sim.body_geoms(BOXES[k]))]

    def evaluate(self, sim: Sim) -> Evaluation:
        """Fail on any box contact or at the wrong flag; succeed at the named box's flag."""
        touching = self._touching(sim)
        touched = self.touched.value or bool(touching)
        xy = sim.robot_base()[:2]
        dist = [float(np.linalg.norm(xy - self._flag_xy(sim, k))) for k in range(2)]
        success = dist[self.target] <= GOAL_RADIUS and not touched
        failure, reason = False, None
        if touching:
            failure, reason = True, "touched a box"
        elif dist[1 - self.target] <= GOAL_RADIUS:
            failure, reason = True, "went around the wrong box"
        elif bool(np.any(np.abs(xy) > FIELD_HALF)):
            failure, reason = True, "left the field"
        return Evaluation(success=success and not failure, failure=failure,
                          failure_reason=reason,
                          progress={"distance_to_flag_m": dist[self.target],
                                    "box_contact": float(touched)})

    def expert(self, sim: Sim) -> Expert:
        """A* around the landmarks and both boxes to the flag behind the named box."""
        boxes = []
        for k in range(2):
            pos, yaw = sim.static_pose(BOXES[k])
            boxes.append(Footprint(pos[:2], self.halves[k][:2], yaw))
        planner = GridPlanner(self.layout, extra=list(zip(BOXES, boxes, strict=True)))
        flag = self._flag_xy(sim, self.target)
        goal = np.array([flag[0], flag[1], self.course.yaw])
        return Expert([Navigate(lambda _sim: goal, tol=0.04, planner=planner, max_steps=400),
                       Hold(steps=400)])
