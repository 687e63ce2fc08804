"""Outdoor: walk around the named box, without touching it, to the flag behind it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.outdoor.corridor import PARK, Course, find_course
from vla_bench.domains.outdoor.layout import FIELD_HALF, OutdoorLayout
from vla_bench.experts.base import Expert, Navigate
from vla_bench.experts.navigation import ROBOT_RADIUS, GridPlanner, Hold
from vla_bench.language import Templates
from vla_bench.monitors import Latch, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Footprint
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

COLOURS = {"red": (0.8, 0.12, 0.1, 1), "blue": (0.12, 0.25, 0.8, 1),
           "yellow": (0.92, 0.8, 0.1, 1), "white": (0.92, 0.92, 0.9, 1)}
HELD_OUT_COLOURS = ("orange", "purple", "green", "black")  # the "unseen_objects" split
ALL_COLOURS = {**{c: props.COLORS[c] for c in HELD_OUT_COLOURS}, **COLOURS}
N_BOXES = 4
BOXES = tuple(f"gab_box_{k}" for k in range(N_BOXES))
FLAGS = tuple(f"gab_flag_{k}" for k in range(N_BOXES))
BOX_HALF = (0.3, 0.3, 0.35)  # m, nominal; each episode scales it by 0.85–1.15
LANES = (-2.55, -0.85, 0.85, 2.55)  # m from the course axis to each lane (box and flag) centre
BOX_U = (3.0, 3.4)  # m along the course to the boxes
BOX_YAW = 0.2  # rad: boxes turn up to this much off the course heading
FLAG_U = 5.6  # m along the course to the flags
GOAL_RADIUS = 0.45  # m from a flag to the pelvis
START_U = -2.0  # m: the robot starts this far before the course origin (the row in view)
START_V = 0.5  # start up to this far off the course axis
START_YAW = 0.15  # rad: start heading up to this far off the course heading
BOX_MARGIN = 0.1  # m of planning clearance beyond the robot radius (boxes are fixed, smooth)


@register_task(domain="outdoor", family="navigation", max_episode_steps=400)
class GoAroundBox(Task):
    """Go around the named box and continue to the flag behind it.

    **Description** — On the bumpy field, four boxes (0.5–0.7 m cubes, one each of red / blue
    / yellow / white) stand in a row about 5.2 m ahead of the robot, 1.7 m apart, and behind
    each one, 7.6 m ahead, stands an identical orange flag. The instruction names one box by
    colour ("go around the red box and continue"): the robot must walk past that box without
    touching any box and reach the flag behind it. "Continue" is made concrete by the flag:
    the course ends there.

    **Randomisation** — course position and heading on the field (clear of the six landmarks;
    a landmark that cannot be avoided is parked outside the field for the episode); which box
    is named and the order of the four colours along the row (orange / purple / green / black
    in the ``unseen_objects`` split); the boxes' size (±15 %), depth (5.0–5.4 m ahead of the
    start, ±0.1 m each) and yaw (±0.2 rad); the robot's lateral start (±0.5 m off the course
    axis) and heading (±0.15 rad); the landmarks' layout and colours (as in WalkToTree);
    instruction template.

    **Success** — the pelvis comes within 0.45 m (horizontally) of the flag behind the named
    box, and no robot geom has touched any box at any control step of the episode
    (``sim.in_contact`` with ``sim.robot.geom_ids``). No stop is required. Step budget 400.

    **Failure** — any robot–box contact (the boxes are fixed: touching one is the failure; it
    can not be pushed aside); reaching another flag (the wrong box); the pelvis leaving the
    field (|x| or |y| > 7.5 m).

    **Safety notes** — box contacts end the episode, and the env's collision cost counts them
    too. Contacts are sampled once per control step (every 25 physics steps), so a graze
    shorter than 50 ms can go unseen. The flags have no collision geometry.

    **Alternatives in the scene** — four boxes, each with an identical flag behind it; only the
    colour word says which. Measured blind success (expert toward a uniformly drawn
    alternative, seeds 0–49): 0.25.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four boxes and flags
    (were two); the row stands 5.0–5.4 m ahead (was 2.0–2.4 m), the flags 7.6 m (were 4.6 m),
    and the start heading is ±0.15 rad (was ±0.5 rad), so that the whole row is in view at
    reset; box yaw ±0.2 rad (was ±0.3 rad); step budget 400 (was 300).
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
    goal_fields = ("target",)

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.target = "red"  # the named box's colour word
        self.colours: list[str] = []  # box k's colour word (scene, not goal)
        self.touched = Latch(lambda sim: bool(self._touching(sim)))  # any box contact so far
        self.course = Course(np.zeros(2), 0.0)
        self.halves: list[np.ndarray] = []

    def build(self, spec: mujoco.MjSpec) -> None:
        """Four fixed boxes and four flags, parked outside the field until an episode uses
        them."""
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

    def goals(self) -> Sequence[Goal]:
        """Every box's colour: going around any of them to its flag looks the same."""
        return tuple((colour,) for colour in self.colours)

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named box (the flag behind it looks like every other)."""
        return (BOXES[self._index()],)

    def _index(self) -> int:
        """The lane of the named box."""
        return self.colours.index(self.target)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Lay the course, deal colours along the row, put the robot at its start."""
        self.course = find_course(sim, self.layout, rng, (START_U - 0.8, FLAG_U + 0.8),
                                  (LANES[0] - 0.8, LANES[-1] + 0.8))
        pool = HELD_OUT_COLOURS if self.held_out_objects else tuple(COLOURS)
        self.colours = [str(v) for v in rng.permutation(pool)[:N_BOXES]]
        self.target = self.colours[int(rng.integers(N_BOXES))]
        self.halves = []
        depth = rng.uniform(*BOX_U)
        for k in range(N_BOXES):
            scale = rng.uniform(0.85, 1.15)
            half = np.array(BOX_HALF) * scale
            xy = self.course.world(depth + rng.uniform(-0.1, 0.1), LANES[k])
            yaw = self.course.yaw + rng.uniform(-BOX_YAW, BOX_YAW)
            z = min(self.layout.ground_height(*(xy + d)) for d in
                    ((0, 0), (half[0], half[1]), (-half[0], half[1]), (half[0], -half[1]),
                     (-half[0], -half[1])))
            sim.set_geom_size(f"{BOXES[k]}_geom", half)
            sim.set_geom_local_pos(f"{BOXES[k]}_geom", np.array([0.0, 0.0, half[2] - 0.05]))
            # (5 cm sunk into the turf; the ledger restores the compiled size at reset)
            sim.set_static_pose(BOXES[k], np.array([xy[0], xy[1], z]), yaw)
            sim.set_rgba(f"{BOXES[k]}_geom", ALL_COLOURS[self.colours[k]])
            self.halves.append(half)
            fxy = self.course.world(FLAG_U, LANES[k])
            sim.set_static_pose(FLAGS[k], np.array([fxy[0], fxy[1],
                                                    self.layout.ground_height(*fxy)]),
                                self.course.yaw)
        start = self.course.world(START_U, rng.uniform(-START_V, START_V))
        sim.set_robot_base(start, self.course.yaw + rng.uniform(-START_YAW, START_YAW))
        self.instruction = self.templates.sample(rng, phrasing, color=self.target)
        return self.instruction

    def _flag_xy(self, sim: Sim, k: int) -> np.ndarray:
        return sim.static_pose(FLAGS[k])[0][:2]

    def _touching(self, sim: Sim) -> list[int]:
        """The boxes a robot geom touches now."""
        robot = sim.robot.geom_ids
        return [k for k in range(N_BOXES) if sim.in_contact(robot, sim.body_geoms(BOXES[k]))]

    def evaluate(self, sim: Sim) -> Evaluation:
        """Fail on any box contact or at a wrong flag; succeed at the named box's flag."""
        touching = self._touching(sim)
        touched = self.touched.value or bool(touching)
        xy = sim.robot_base()[:2]
        dist = [float(np.linalg.norm(xy - self._flag_xy(sim, k))) for k in range(N_BOXES)]
        target = self._index()
        success = dist[target] <= GOAL_RADIUS and not touched
        failure, reason = False, None
        if touching:
            failure, reason = True, "touched a box"
        elif any(d <= GOAL_RADIUS for k, d in enumerate(dist) if k != target):
            failure, reason = True, "went around the wrong box"
        elif bool(np.any(np.abs(xy) > FIELD_HALF)):
            failure, reason = True, "left the field"
        return Evaluation(success=success and not failure, failure=failure,
                          failure_reason=reason,
                          progress={"distance_to_flag_m": dist[target],
                                    "box_contact": float(touched)})

    def expert(self, sim: Sim) -> Expert:
        """A* around the landmarks, the boxes and the other flags' goal zones to the flag
        behind the named box."""
        target = self._index()
        extra = []
        for k in range(N_BOXES):
            pos, yaw = sim.static_pose(BOXES[k])
            extra.append((BOXES[k], Footprint(pos[:2], self.halves[k][:2], yaw)))
        for k in range(N_BOXES):
            if k != target:  # passing through another flag's zone ends the episode
                extra.append((FLAGS[k], Footprint(self._flag_xy(sim, k),
                                                  np.full(2, GOAL_RADIUS + 0.1 - ROBOT_RADIUS),
                                                  self.course.yaw)))
        planner = GridPlanner(self.layout, extra=extra,
                              margins=dict.fromkeys(BOXES, BOX_MARGIN))
        flag = self._flag_xy(sim, target)
        goal = np.array([flag[0], flag[1], self.course.yaw])
        return Expert([Navigate(lambda _sim: goal, tol=0.04, planner=planner, max_steps=400),
                       Hold(steps=400)])
