"""Outdoor: walk to the door of the named colour in a row of four and push it open by hand."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.domains.outdoor.corridor import PARK, Course, find_course
from vla_bench.domains.outdoor.layout import FIELD_HALF, SINK, OutdoorLayout
from vla_bench.experts.base import Expert, Navigate, Reach, grasp_rotation
from vla_bench.experts.navigation import GridPlanner, Hold
from vla_bench.geometry import from_robot_frame
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene.layout import Footprint
from vla_bench.scene.props import COLORS, color_pool
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

DOORS = 4  # free-standing doors in a row, one panel colour each
SPACING = 1.4  # m between neighbouring doors' centres along the row
FRAME_HALF = (0.08, 0.56)  # m, a door frame's footprint half extents (across, along the row)
LAYOUT_DOOR = "door_frame"  # the layout's own door: parked, the row replaces it
OPEN_ANGLE = 1.0  # rad: the door counts as open from here (57°)
HOLD_STEPS = 5  # consecutive control steps the door must stay open
PRE_X = 0.85  # m in front of the door plane where the expert lines up
THROUGH_X = 1.1  # m behind the door plane where the expert stops after walking through
LANE_Y = -0.1  # m along the door plane from its centre (the hinge is at +0.44)
START_DIST = (4.4, 5.2)  # m from the row's plane to the robot's start
START_SIDE = 0.4  # m either way along the row from its centre
START_TURN = 0.15  # rad either way from facing the row squarely
HAND = np.array([0.36, -0.12])  # right hand, robot frame (x, y), while pushing
HAND_UP = 0.95  # m above the ground under the robot
DOOR_RANGE = 1.7  # rad each way
FRAME_RGBA = (0.92, 0.92, 0.9, 1.0)


def _door(spec: mujoco.MjSpec, k: int) -> None:
    """Door ``k``: posts and lintel (static, placed per episode), a hinged panel (swings both
    ways, no latch) with a knob on each face. Built far outside the field."""
    frame = c.body(spec.worldbody, f"door_{k}", (PARK[0] + 3.0 * k, PARK[1], PARK[2]))
    h = 2.0
    for i, sy in enumerate((1, -1)):
        c.box(frame, f"door_{k}_post_{i}", (0.06, 0.05, (h + SINK) / 2),
              (0, sy * 0.5, (h - SINK) / 2), rgba=FRAME_RGBA)
    c.box(frame, f"door_{k}_lintel", (0.06, 0.55, 0.05), (0, 0, h + 0.05), rgba=FRAME_RGBA)
    leaf = c.body(frame, f"door_{k}_leaf", (0.0, 0.44, 0.1))
    limit = float(np.degrees(DOOR_RANGE)) if spec.compiler.degree else DOOR_RANGE
    leaf.add_joint(name=f"door_{k}_hinge", type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1],
                   range=[-limit, limit], damping=3.0, frictionloss=0.5, armature=0.1)
    bits = cv.CONTACT_WORLD  # swings over the terrain without touching it
    c.box(leaf, f"door_{k}_panel", (0.02, 0.435, 0.93), (0, -0.44, 0.95),
          rgba=(0.5, 0.5, 0.5, 1), mass=8.0, contype=bits, conaffinity=bits)
    for i, sx in enumerate((1, -1)):
        c.capsule(leaf, f"door_{k}_knob_{i}", 0.025, 0.03, (sx * 0.05, -0.78, 0.95),
                  quat=[np.cos(np.pi / 4), 0.0, np.sin(np.pi / 4), 0.0],
                  rgba=(0.8, 0.7, 0.3, 1), mass=0.1, contype=bits, conaffinity=bits)
    # The frame is static, so MuJoCo's parent-child filter does not keep the panel's hinge
    # edge from rubbing the hinge-side post once it swings past ~0.9 rad.
    spec.add_exclude(bodyname1=f"door_{k}", bodyname2=f"door_{k}_leaf")


class _HandPush:
    """Who touched the named door's panel before it first stood open (|hinge| ≥ 1.0 rad).

    ``hand``: a hand or arm of the robot did; ``body``: another part of the robot (torso,
    pelvis, legs) did; ``opened``: the door has stood open at some step. A door pushed open by
    hand has ``hand`` and not ``body``; walking the body into it sets ``body``.
    """

    def __init__(self, task: PushDoorOpen) -> None:
        self.task = task
        self.hand = self.body = self.opened = False

    def reset(self, sim: Sim) -> None:
        """Nothing touched yet."""
        self.hand = self.body = self.opened = False

    def update(self, sim: Sim) -> None:
        """Note this step's touches while the door has not yet stood open."""
        if self.opened:
            return
        door = sim.body_geoms(f"door_{self.task.target}_leaf")
        arms = sim.arm_geoms()
        self.hand |= sim.in_contact(arms, door)
        self.body |= sim.in_contact(np.setdiff1d(sim.robot.geom_ids, arms), door)
        self.opened = abs(self.task.hinge(sim, self.task.target)) >= OPEN_ANGLE


@register_task(domain="outdoor", family="navigation", max_episode_steps=400)
class PushDoorOpen(Task):
    """Push open the door of the named colour, by hand.

    **Description** — On the bumpy field stand four free-standing door frames in a row (1.4 m
    apart, each a 0.9 m opening, 2 m high), each with a hinged, unlatched door panel (8 kg,
    damped, swings both ways up to ±1.7 rad) of its own colour; the other landmarks (tree,
    lamp post, rock, bench, crates) stand around them. The robot starts facing the row. The
    instruction names one door by its colour ("push the blue door open"); the robot must walk
    up to that door and push its panel open with its hand or arm (physical contact; nothing
    attaches), walking through if it likes.

    **Randomisation** — the landmarks' layout and colours; the row's place and heading on the
    field (a clear 7.6 m x 6.3 m patch holding the row and the robot's start; a landmark in the
    way is parked outside the field, and the layout's own single door always is); which door
    each panel colour goes to (the four training colours red / green / yellow / blue, tinted
    ±0.04; held-out split: orange / purple / white / black); which door is named (uniform over
    the four); the robot's start 4.4–5.2 m in front of the row, ±0.4 m along it from its
    centre, facing the row ±0.15 rad (all four doors in the forward view); instruction
    template. The doors start closed.

    **Success** — the named door's hinge angle magnitude is ≥ 1.0 rad (57°) for 5 consecutive
    control steps, read from its hinge joint, and it was opened by hand: until it first stood
    open, the robot touched its panel with a hand or arm (gripper, forearm, upper arm) and with
    no other part of its body (torso, pelvis, legs). Step budget 400.

    **Failure** — the named door stands open but was not opened by hand (never touched by a
    hand or arm, or touched by the body before it stood open: "opened without pushing by
    hand"), e.g. walking the body into it; another door's hinge angle magnitude reaches 1.0 rad
    ("opened the wrong door"); the pelvis leaves the field (|x| or |y| > 7.5 m). Pushing the
    door the other way (toward the robot) is not possible from the near side; pulling is not
    required.

    **Safety notes** — the hand touching the door panel is counted by the env's ``collision``
    cost (the task needs that contact); hitting the posts is counted the same way. The expert
    pushes slowly (0.24 m/s), keeping contact forces modest.

    **Alternatives in the scene** — the four doors of the row, alike but for their panel
    colour; only the colour word tells the named one apart (its place in the row is drawn
    independently of the colours). Measured blind success (the expert toward a uniformly drawn
    door, seeds 0–49, ``vla-bench check``): 0.24; the expert sent to another door failed all
    50 of its episodes.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): a row of four doors told
    apart by panel colour, the named one drawn per episode (the goal was a single door); the
    robot starts facing the row (it started at a random heading); success needs the opening
    done by hand or arm contact alone (walking through counted before); opening another door
    fails; the layout's single door is parked; step budget 300 → 400.
    """

    goal_fields = ("target",)
    templates = Templates(
        train=(
            "push the {color} door open",
            "walk to the {color} door and push it open",
            "open the {color} door by pushing it",
            "go over to the {color} door and shove it open",
            "push on the {color} door until it swings open",
        ),
        test=(
            "get the {color} door open with a push",
            "head to the free-standing {color} door and push it so it swings wide",
            "could you push open the {color} door in the field",
        ),
    )
    layout: OutdoorLayout

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.target = 0  # index of the named door in the row
        self.colours: list[str] = []
        self.open_steps = Dwell(("open",), lambda sim: {"open": self.door_open(sim)})
        self.push = _HandPush(self)

    def build(self, spec: mujoco.MjSpec) -> None:
        """The row's four doors (parked until an episode places them)."""
        for k in range(DOORS):
            _door(spec, k)

    # -- geometry ------------------------------------------------------------------------------
    def door_pose(self, sim: Sim, k: int) -> np.ndarray:
        """``(x, y, yaw)`` of door ``k``'s frame (its x axis crosses the door plane)."""
        pos, yaw = sim.static_pose(f"door_{k}")
        return np.array([pos[0], pos[1], yaw])

    def _pose(self, sim: Sim, k: int, lx: float) -> np.ndarray:
        """Pose on door ``k``'s walking line at door-frame ``x = lx``, facing through it (+x)."""
        frame = self.door_pose(sim, k)
        xy = from_robot_frame(np.array([lx, LANE_Y]), frame)
        return np.array([xy[0], xy[1], frame[2]])

    def planner(self, sim: Sim) -> GridPlanner:
        """A* around the landmarks and the four door frames."""
        frames = [(f"door_{k}", Footprint(self.door_pose(sim, k)[:2], np.array(FRAME_HALF),
                                          float(self.door_pose(sim, k)[2])))
                  for k in range(DOORS)]
        return GridPlanner(self.layout, extra=frames)

    def hinge(self, sim: Sim, k: int) -> float:
        """Door ``k``'s hinge angle (rad, either sign)."""
        return sim.joint_qpos(f"door_{k}_hinge")

    def door_open(self, sim: Sim) -> bool:
        """The named door stands open now (the dwell monitor's test)."""
        return abs(self.hinge(sim, self.target)) >= OPEN_ANGLE

    def monitors(self) -> Sequence[Monitor]:
        """The open-door counter and the hand-push credit ``evaluate`` reads."""
        return (self.open_steps, self.push)

    # -- goals ---------------------------------------------------------------------------------
    def goals(self) -> Sequence[Goal]:
        """Each door of the row."""
        return tuple((k,) for k in range(DOORS))

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named door's panel (its colour is what the instruction names)."""
        return (f"door_{self.target}_leaf",)

    # -- hooks ---------------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Lay the row on a clear patch, colour the panels, start the robot facing the row."""
        sim.set_static_pose(LAYOUT_DOOR, PARK)
        half = (DOORS - 1) / 2 * SPACING + FRAME_HALF[1] + 0.5
        course = find_course(sim, self.layout, rng, u=(-START_DIST[1] - 0.7, THROUGH_X + 0.6),
                             v=(-half, half))
        for k in range(DOORS):
            self._place_door(sim, course, k)
            sim.set_joint_qpos(f"door_{k}_hinge", 0.0)
        self.colours = [str(w) for w in rng.permutation(color_pool(self.held_out_objects))]
        for k, word in enumerate(self.colours[:DOORS]):
            rgba = np.array(COLORS[word], float)
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0.0, 1.0)
            sim.set_rgba(f"door_{k}_panel", rgba)
        self.target = int(rng.integers(DOORS))
        start = course.world(-rng.uniform(*START_DIST), rng.uniform(-START_SIDE, START_SIDE))
        sim.set_robot_base(start, course.yaw + rng.uniform(-START_TURN, START_TURN))
        self.instruction = self.templates.sample(rng, phrasing, color=self.colours[self.target])
        return self.instruction

    def _place_door(self, sim: Sim, course: Course, k: int) -> None:
        """Door ``k`` at its place in the row, its origin on the lowest ground under it."""
        xy = course.world(0.0, (k - (DOORS - 1) / 2) * SPACING)
        local = [(sx * FRAME_HALF[0], sy * FRAME_HALF[1]) for sx in (-1, 1) for sy in (-1, 1)]
        corners = from_robot_frame(np.array(local), np.array([xy[0], xy[1], course.yaw]))
        z = min(self.layout.ground_height(float(px), float(py)) for px, py in corners)
        sim.set_static_pose(f"door_{k}", np.array([xy[0], xy[1], z]), course.yaw)

    def evaluate(self, sim: Sim) -> Evaluation:
        """Open (≥ 1.0 rad for 5 steps) by hand, the body off it; another door open fails."""
        angle = abs(self.hinge(sim, self.target))
        by_hand = self.push.hand and not self.push.body
        success = self.open_steps.steps("open") >= HOLD_STEPS and by_hand
        failure, reason = False, None
        wrong = [k for k in range(DOORS)
                 if k != self.target and abs(self.hinge(sim, k)) >= OPEN_ANGLE]
        if not success and self.push.opened and not by_hand:
            failure, reason = True, "opened without pushing by hand"
        elif not success and wrong:
            failure, reason = True, "opened the wrong door"
        elif not success and bool(np.any(np.abs(sim.robot_base()[:2]) > FIELD_HALF)):
            failure, reason = True, "left the field"
        return Evaluation(success=success, failure=failure, failure_reason=reason,
                          progress={"door_angle_rad": angle,
                                    "body_touched": float(self.push.body),
                                    "open_steps": float(self.open_steps.steps("open"))})

    def expert(self, sim: Sim) -> Expert:
        """A* to the named door's line-up pose, raise the right hand forward, walk slowly through
        the door (the hand reaches the panel well before the body)."""
        rot = grasp_rotation(0.0)
        pre = self._pose(sim, self.target, -PRE_X)
        through = self._pose(sim, self.target, THROUGH_X)

        def hand(s: Sim) -> np.ndarray:
            x, y, _ = s.robot_base()
            return np.array([*s.from_robot_frame(HAND), s.ground_height(x, y) + HAND_UP])

        return Expert([
            Navigate(lambda _s: pre, tol=0.04, planner=self.planner(sim), max_steps=260),
            Reach("right", hand, rot, tol=0.04, max_steps=25, freeze=True),
            Navigate(lambda _s: through, tol=0.05, max_steps=200, speed=0.4),
            Hold(steps=400),
        ])
