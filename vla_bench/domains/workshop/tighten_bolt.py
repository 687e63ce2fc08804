"""Workshop: pick up the wrench, seat its open end on the named bolt, turn it the named way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.domains.workshop.layout import BENCH_TOP, WorkshopLayout
from vla_bench.experts.base import (
    Command,
    Controller,
    Expert,
    Grip,
    Navigate,
    Phase,
    PosFn,
    Reach,
    Retry,
    base_command,
    grasp_rotation,
)
from vla_bench.experts.manipulation import pick_phases, stand_for
from vla_bench.geometry import mat_yaw, wrap, yaw_matrix, yaw_quat
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Layout
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

# rad (46°) the named bolt must turn the named way for success. Standing still, one swing of
# the held wrench turns the hand about 1.5 rad at most (wrist yaw and elbow limits), and the
# jaws' play and the bar's slip in the pinch take 0.3–0.6 rad of that: 1.0 rad (v2) was out of
# reach of a single swing on about a third of the episodes.
TURN_ANGLE = 0.8
WRONG_ANGLE = 0.6  # rad: a bolt turned this far the wrong way, or a wrong bolt, fails
HOLD_STEPS = 3  # control steps the angle must stay past the threshold
# The bolts by place, from the robot's right (-y) to its left (+y): bolt k sits in place k.
PLACES = ("right", "middle", "left")
DIRECTIONS = ("tighten", "loosen")
# Bolt: a hex head (3.6 cm across the flats) on a flange that the seated wrench rests on.
HEAD_Z = 0.08  # head centre above the bench top
HEAD_HALF_H = 0.01
FLATS = 0.036  # m across the flats
FLANGE_R = 0.03
# The head's top edges are chamfered (as on real bolts): CHAMFER_H down the flats and CHAMFER_IN
# in across the top. Jaws that land up to CHAMFER_IN off their 2 mm of clearance ride down the
# chamfer onto the flats instead of resting on the top. The jaws (12 mm) bear on the flats
# below it, within the bottom 15 mm of the 20 mm head.
CHAMFER_H = 0.005
CHAMFER_IN = 0.003
BOLT_DEPTH = 0.2  # bolt axes behind the bench's front edge
# Wrench (origin: the middle of its grip): a flat bar along its +x with the open end (two
# jaws 4 mm wider apart than the flats: they drop over a head turned up to 0.25 rad off)
# JAW_REACH ahead of the grip.
JAW_REACH = 0.15
JAW_GAP = 0.04
WRENCH_HALF_T = 0.006  # half thickness of the bar and jaws
SEATED_Z = HEAD_Z - HEAD_HALF_H + WRENCH_HALF_T  # wrench origin above the bench when seated
# The wrench rack's distance along the row beyond its end bolt: the wrist swinging the wrench
# on the end bolt towards the rack passes ~0.25 m from that bolt's axis.
RACK_Y = 0.34
RACK_HALF_Y = 0.025  # the rack block's half width (the jaws overhang it a little)
HEX_STEP = np.pi / 3  # a hex head fits the jaws every 60°
BOLT_FRICTION = 0.3  # N·m friction loss of each bolt's thread
# Stiff contact between the jaws and the flats: the jaws bear on the corners of the hex about
# 1 cm from the axis, so turning the bolt takes ~15 N per jaw, which the default soft contact
# of these light bodies would absorb by letting the jaws sink through the corners.
_STIFF = {"solref": [0.004, 1.0], "solimp": [0.95, 0.99, 0.001, 0.5, 2.0]}
_FIXTURES = tuple(f"bolt_fixture_{k}" for k in range(len(PLACES)))
_BOLTS = tuple(f"torque_bolt_{k}" for k in range(len(PLACES)))
_HINGES = tuple(f"{b}_hinge" for b in _BOLTS)
WRENCH = "wrench"
_STEEL = (0.62, 0.63, 0.66, 1.0)
_CHROME = (0.72, 0.74, 0.78, 1.0)


def _angle_range(spec: mujoco.MjSpec, lo: float, hi: float) -> list[float]:
    """A hinge range given in radians, in the unit the spec compiles angles with."""
    k = 180.0 / np.pi if spec.compiler.degree else 1.0
    return [lo * k, hi * k]


def angle(sim: Sim, k: int) -> float:
    """Clockwise rotation of bolt ``k`` (rad, seen from above; tightening positive)."""
    return -sim.joint_qpos(_HINGES[k])


class Wrenched:
    """How far each bolt has turned (clockwise, rad) while the wrench touched its head.

    A control step's turn of a bolt counts when the wrench touched that bolt's head at the
    step's start or at its end; a turn by the hand or anything else adds nothing.
    """

    def __init__(self) -> None:
        self.turn = np.zeros(len(_BOLTS))
        self._last = np.zeros(len(_BOLTS))
        self._touch = np.zeros(len(_BOLTS), bool)

    @staticmethod
    def touching(sim: Sim) -> np.ndarray:
        """Whether the wrench touches each bolt's head."""
        wrench = sim.body_geoms(WRENCH)
        return np.array([sim.in_contact(wrench, sim.body_geoms(b)) for b in _BOLTS])

    def reset(self, sim: Sim) -> None:
        """Nothing turned yet; the bolts' start angles."""
        self.turn = np.zeros(len(_BOLTS))
        self._last = np.array([angle(sim, k) for k in range(len(_BOLTS))])
        self._touch = self.touching(sim)

    def update(self, sim: Sim) -> None:
        """Add each touched bolt's turn this step."""
        now = np.array([angle(sim, k) for k in range(len(_BOLTS))])
        touch = self.touching(sim)
        self.turn += np.where(touch | self._touch, now - self._last, 0.0)
        self._last, self._touch = now, touch


@register_task(domain="workshop", family="manipulation", max_episode_steps=500)
class TightenBolt(Task):
    """Use the wrench to {direction} the {bolt} bolt.

    **Description** — Three hex bolts stand in steel fixture blocks in a row along the front of
    the workbench (the right, middle and left bolt, as the robot faces the bench); an
    open-end wrench lies in a rack at one end of the row, its red grip towards the robot. The
    instruction names one bolt by its place and a direction: the robot must pick the wrench
    up by its grip, carry it to that bolt, lower its open end over the bolt's hex head (the
    jaws straddle two flats and rest on the head's flange) and swing it around the bolt axis,
    clockwise seen from above to *tighten* (a right-hand thread) or counter-clockwise to
    *loosen*. The wrench is a free body; a bolt turns only through the contact of the jaws on
    the flats of its head (the jaws are 4 mm wider than the flats, so the wrench has about
    0.25 rad of play before it bites). As on real bolts, the head's top edges are chamfered
    (5 mm down the flats, 3 mm in across the top, corners cut back further): jaws lowered up to
    ~5 mm off centre slide down the chamfer onto the flats instead of resting on the top. The
    arm alone swings the held wrench about 1 rad; the expert walks round the bolt with it for
    the rest of the swing.

    **Randomisation** — which bolt (right, middle, left) and which direction are named; which
    end of the row the rack stands at; the row's position along the front of the bench
    (middle bolt's y over 0.23 m), the spacing of the bolts (0.33–0.37 m) and each fixture's
    yaw (±0.25 rad, which turns its head's flats); robot start pose (x ±0.1 m, y ±0.2 m, yaw
    ±0.3 rad); bench jitter and workshop colours; instruction template.

    **Success** — the named bolt has turned at least 0.8 rad (46°) the named way from its
    start, at least 0.8 rad of that while the wrench touched its head (a control step's turn
    counts when the wrench touched the head at its start or end: twisting the head by hand
    does not count), and the angle has stayed past 0.8 rad for 3 consecutive control steps.
    The angle was 1.0 rad while the wrenches were pre-seated (v2); standing still, one swing
    of the held wrench turns the hand about 1.5 rad at most (wrist yaw and elbow limits), of
    which the jaws' play and the bar's slip in the pinch take 0.3–0.6 rad, so 1.0 rad was out
    of reach of one swing on about a third of the episodes. Each bolt's hinge has a friction
    loss of 0.3 N·m (≈ 2 N at the wrench's grip) and damping, so a bolt turns only while
    driven and stays where it is left.

    **Failure** — the named bolt turned 0.6 rad the other way (tightened when told to loosen,
    or loosened when told to tighten), another bolt turned 0.6 rad either way, or the wrench
    fell to the floor.

    **Safety notes** — ``task`` cost while the wrench is on the floor; collisions with the
    bench and fixtures and contact forces are counted by the env.

    **Alternatives in the scene** — six goals: each of the three bolts, tightened or loosened,
    all with the one wrench. The three bolts look alike and start alike (unturned), so only
    the place word tells which bolt and only the verb which way to turn it. Measured blind
    success (expert toward a uniformly drawn alternative, seeds 0–49): 0.17.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): three bolts and two
    directions (six goals that vary per episode) instead of one fixed bolt to tighten; a wrong
    bolt turned fails. v3 (2026-12): one free wrench, which starts in a rack at the end of the
    row, replaces the wrenches pre-seated on the heads (rigid parts of the bolts): the robot
    picks it up, seats its open end on the named bolt's hex head and swings it; only the
    jaws' contact on the flats turns a bolt, and only turning while the wrench touches the
    head counts; the heads' top edges are chamfered; success at 0.8 rad (was 1.0: see
    Success); the bolt friction is 0.3 N·m (was 0.8); a dropped wrench fails; episodes last
    500 steps (were 250); the row's placement range is narrower (0.23 m, spacing 0.33–0.37 m)
    so the rack, 0.34 m beyond the end bolt, stays clear of the vise and of the swing.
    """

    held_out_bodies = _BOLTS  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "take the wrench and {direction} the {bolt} bolt",
            "use the wrench to {direction} the {bolt} bolt",
            "put the wrench on the {bolt} bolt and {direction} it",
            "please {direction} the {bolt} bolt with the wrench",
            "pick up the wrench so as to {direction} the {bolt} bolt",
            "give the {bolt} bolt a turn with the wrench to {direction} it",
        ),
        test=(
            "could you {direction} that {bolt} bolt using the spanner",
            "the {bolt} bolt needs work, {direction} it with the wrench",
            "with the wrench, {direction} the {bolt} bolt please",
        ),
    )
    layout: WorkshopLayout
    goal_fields = ("bolt", "direction")

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        # Steps in a row the named bolt has been turned past TURN_ANGLE the named way (a nudge
        # past it that springs back does not count).
        self._turned = Dwell(("turned",), lambda s: {"turned": self.progress(s) >= TURN_ANGLE})
        self.wrenched = Wrenched()

    def monitors(self) -> Sequence[Monitor]:
        """The hold-past-the-angle counter and the turn each bolt made under the wrench."""
        return (self._turned, self.wrenched)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Three mocap fixture blocks (parked) with hinged hex bolts, a mocap wrench rack and
        the free wrench."""
        for fixture, bolt_name, hinge in zip(_FIXTURES, _BOLTS, _HINGES, strict=True):
            fx = spec.worldbody.add_body(name=fixture, pos=[0, 0, props.PARK_Z], mocap=True)
            c.box(fx, f"{fixture}_plate", (0.07, 0.07, 0.005), (0, 0, 0.005),
                  rgba=(0.3, 0.33, 0.36, 1))
            boss_half = (HEAD_Z - HEAD_HALF_H - 0.004 - 0.01) / 2
            c.cylinder(fx, f"{fixture}_boss", 0.012, boss_half, (0, 0, 0.01 + boss_half),
                       rgba=(0.35, 0.38, 0.42, 1))
            bolt = c.body(fx, bolt_name, (0, 0, HEAD_Z))
            bolt.add_joint(name=hinge, type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1],
                           range=_angle_range(spec, -1.7, 1.7), damping=0.3,
                           frictionloss=BOLT_FRICTION, armature=0.01)
            self._build_head(bolt, bolt_name)
            spec.add_exclude(bodyname1=fixture, bodyname2=bolt_name)
        rack = spec.worldbody.add_body(name="wrench_rack", pos=[0, 0, props.PARK_Z], mocap=True)
        # The rack carries the wrench's bar and jaws; the grip overhangs its near edge so the
        # fingers can close around it.
        rack_half_z = (SEATED_Z - WRENCH_HALF_T) / 2
        c.box(rack, "wrench_rack_block", (0.05, RACK_HALF_Y, rack_half_z), (0, 0, rack_half_z),
              rgba=(0.25, 0.35, 0.5, 1))
        self._build_wrench(spec)

    @staticmethod
    def _build_head(bolt: mujoco.MjsBody, name: str) -> None:
        """Hex head (three boxes at 0°, 60°, 120°: their union is the hexagon) with its top
        edges chamfered, on a flange."""
        side = FLATS / np.sqrt(3.0)
        low_half = HEAD_HALF_H - CHAMFER_H / 2  # the full hexagon below the chamfer
        inner = FLATS - 2 * CHAMFER_IN  # across the flats of the top face
        for i in range(3):
            half = i * HEX_STEP / 2
            quat = [np.cos(half), 0.0, 0.0, np.sin(half)]
            c.box(bolt, f"{name}_hex_{i}", (side / 2, FLATS / 2, low_half),
                  (0, 0, -CHAMFER_H / 2), quat=quat, rgba=_STEEL, mass=0.02,
                  friction=[0.8, 0.01, 0.001], **_STIFF)
            c.box(bolt, f"{name}_top_{i}", (inner / np.sqrt(3.0) / 2, inner / 2, CHAMFER_H / 2),
                  (0, 0, HEAD_HALF_H - CHAMFER_H / 2), quat=quat, rgba=_STEEL, mass=0.005,
                  friction=[0.8, 0.01, 0.001], **_STIFF)
        for i in range(6):
            TightenBolt._chamfer(bolt, f"{name}_chamfer_{i}", np.pi / 6 + i * HEX_STEP,
                                 inner / np.sqrt(3.0))
        c.cylinder(bolt, f"{name}_flange", FLANGE_R, 0.002, (0, 0, -HEAD_HALF_H - 0.002),
                   rgba=_STEEL, mass=0.02)
        c.cylinder(bolt, f"{name}_tip", 0.008, 0.004, (0, 0, HEAD_HALF_H + 0.004),
                   rgba=(0.5, 0.5, 0.52, 1), mass=0.005, collide=False)

    @staticmethod
    def _chamfer(bolt: mujoco.MjsBody, name: str, normal: float, length: float) -> None:
        """The chamfer along the top edge of the flat facing the yaw ``normal``: a box whose
        outer face runs from the flat, CHAMFER_H below the top, to the top face, CHAMFER_IN in.
        It is ``length`` long (the top face's side), so the corners are cut back further, as on
        a real head. Slippery (it outranks the jaws' friction): a jaw that lands on it slides
        down and in, not sticks."""
        u = np.array([np.cos(normal), np.sin(normal), 0.0])
        e = np.array([-np.sin(normal), np.cos(normal), 0.0])
        z = np.array([0.0, 0.0, 1.0])
        slant = float(np.hypot(CHAMFER_H, CHAMFER_IN))
        n = (CHAMFER_H * u + CHAMFER_IN * z) / slant  # the face's outward normal
        f = (-CHAMFER_IN * u + CHAMFER_H * z) / slant  # up the face
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, np.column_stack([n, e, f]).ravel())
        depth = 0.003
        mid = (FLATS / 2 - CHAMFER_IN / 2) * u + (HEAD_HALF_H - CHAMFER_H / 2) * z
        c.box(bolt, name, (depth / 2, length / 2, slant / 2), tuple(mid - n * depth / 2),
              quat=list(quat), rgba=_STEEL, mass=0.002, friction=[0.3, 0.01, 0.001],
              priority=1, **_STIFF)

    @staticmethod
    def _build_wrench(spec: mujoco.MjSpec) -> None:
        """Open-end wrench along +x: grip at the origin, bar, jaws around (JAW_REACH, 0)."""
        w = c.body(spec.worldbody, WRENCH, (0, 0, props.PARK_Z), free=True)
        t = WRENCH_HALF_T
        c.box(w, "wrench_grip", (0.045, 0.011, t + 0.002), (0, 0, 0), rgba=(0.75, 0.12, 0.1, 1),
              mass=0.04, friction=[1.0, 0.04, 0.002], condim=4)
        back = JAW_REACH - FLATS / np.sqrt(3.0) - 0.003  # jaw root: clear of the hex corners
        bar_half = (back - 0.012 - 0.045) / 2
        c.box(w, "wrench_bar", (bar_half, 0.007, t), (0.045 + bar_half, 0, 0), rgba=_CHROME,
              mass=0.06)
        c.box(w, "wrench_root", (0.006, JAW_GAP / 2 + 0.008, t), (back - 0.006, 0, 0),
              rgba=_CHROME, mass=0.02)
        jaw_half = (JAW_REACH + 0.022 - back) / 2
        for i, s in enumerate((-1, 1)):
            c.box(w, f"wrench_jaw_{i}", (jaw_half, 0.004, t),
                  (back + jaw_half, s * (JAW_GAP / 2 + 0.004), 0), rgba=_CHROME, mass=0.02,
                  friction=[0.8, 0.01, 0.001], **_STIFF)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Clamp the three fixtures in a row at the bench front, the wrench rack at one end;
        name a bolt and a direction."""
        center, top = self.layout.bench_top(sim)
        front = center[0] - 0.3
        # The row and its rack stay clear of the bench's ends and of the vise's handle at the
        # +y end (the rack's grip at most 0.69 m from the bench's middle).
        middle = center[1] + rng.uniform(-0.25, -0.02)
        spacing = rng.uniform(0.33, 0.37)
        self.yaws = rng.uniform(-0.25, 0.25, len(PLACES))
        self.pivots = np.array([[front + BOLT_DEPTH, middle + (k - 1) * spacing]
                                for k in range(len(PLACES))])
        for fixture, hinge, pivot, yaw in zip(_FIXTURES, _HINGES, self.pivots, self.yaws,
                                              strict=True):
            sim.set_mocap_pose(fixture, np.array([pivot[0], pivot[1], top]), yaw=float(yaw))
            sim.set_joint_qpos(hinge, 0.0)
        end = 1.0 if rng.random() < 0.5 else -1.0
        rack_y = middle + end * (spacing + RACK_Y)
        grip_x = front + 0.06
        sim.set_mocap_pose("wrench_rack", np.array([grip_x + 0.13, rack_y, top]), yaw=0.0)
        sim.set_free_pose(WRENCH, np.array([grip_x, rack_y, top + SEATED_Z + 0.0005]),
                          yaw_quat(0.0))
        self.top = top
        self.bolt = PLACES[int(rng.integers(len(PLACES)))]
        self.direction = DIRECTIONS[int(rng.integers(len(DIRECTIONS)))]
        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(rng, phrasing, bolt=self.bolt,
                                                 direction=self.direction)
        return self.instruction

    # -- goals -------------------------------------------------------------------------------
    def goals(self) -> Sequence[tuple[str, str]]:
        """Each bolt, tightened or loosened: six (place, direction) pairs."""
        return [(place, d) for place in PLACES for d in DIRECTIONS]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named bolt, the fixture block it stands in, and the wrench."""
        k = PLACES.index(self.bolt)
        return (_BOLTS[k], _FIXTURES[k], WRENCH)

    # -- evaluation --------------------------------------------------------------------------
    @staticmethod
    def angle(sim: Sim, k: int) -> float:
        """Clockwise rotation of bolt ``k`` (rad, tightening positive)."""
        return angle(sim, k)

    @property
    def sign(self) -> float:
        """+1 to tighten (clockwise), -1 to loosen."""
        return 1.0 if self.direction == "tighten" else -1.0

    def progress(self, sim: Sim) -> float:
        """How far the named bolt has turned the named way (rad; negative: the other way)."""
        return self.sign * angle(sim, PLACES.index(self.bolt))

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named bolt turned ≥ 0.8 rad the named way by the wrench, held 3 steps; the wrong way,
        a wrong bolt or a dropped wrench fails."""
        named = PLACES.index(self.bolt)
        turned = self.progress(sim)
        by_wrench = self.sign * float(self.wrenched.turn[named])
        backwards = turned <= -WRONG_ANGLE
        wrong_bolt = any(abs(angle(sim, k)) >= WRONG_ANGLE
                         for k in range(len(PLACES)) if k != named)
        dropped = sim.body_pos(WRENCH)[2] < BENCH_TOP - 0.2
        reason = ("bolt turned the wrong way" if backwards
                  else "wrong bolt turned" if wrong_bolt
                  else "wrench dropped" if dropped else None)
        return Evaluation(
            success=(self._turned.steps("turned") >= HOLD_STEPS and by_wrench >= TURN_ANGLE
                     and reason is None),
            failure=reason is not None, failure_reason=reason, task_cost=float(dropped),
            progress={"bolt_turn_rad": turned, "wrench_turn_rad": by_wrench},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pick the wrench by its grip, carry it to the named bolt, seat the jaws on the head
        with the handle turned back the named way, swing it round (walking round the bolt once
        the arm runs short), let go."""
        plan = SwingPlan(self)
        # After the lift the hand turns the bar to its seating yaw where it stands (the hand
        # held still; done once the bar is turned): turning it while walking or lowering it
        # onto the head twists the bar in the pinch.
        return Expert(pick_phases(WRENCH, 0.0, grasp_back=0.0, rot=plan.rot, lift=0.06)
                      + [Seat("right", lambda s: s.tcp("right"), plan.rot, tol=1.0, max_steps=30,
                              freeze=True, speed=0.5, bar_yaw=plan.carry_yaw, yaw_tol=0.1)]
                      + plan.phases())


def jaw_centre(sim: Sim) -> np.ndarray:
    """World point midway between the wrench's jaws, at the bar's mid-height."""
    return sim.body_pos(WRENCH) + sim.body_mat(WRENCH) @ np.array([JAW_REACH, 0.0, 0.0])


def wrench_yaw(sim: Sim) -> float:
    """World yaw of the wrench's bar (grip towards jaws)."""
    return mat_yaw(sim.body_mat(WRENCH))


def hand_yaw(sim: Sim) -> float:
    """World yaw of the right hand's approach axis (the held bar's direction)."""
    z = sim.tcp_mat("right")[:, 2]
    return float(np.arctan2(z[1], z[0]))


class SwingPlan:
    """Where the wrench is seated and how far it swings (the expert's plan)."""

    swing = 1.6  # rad the hand turns: the 0.8 rad goal, the jaws' play and slip in the pinch
    # rad the bar is seated back from the robot's heading, against the turn. The right hand
    # holds the grip: seated for tightening, the bar points left and the grip sits right of the
    # bolt, at ease; seated half the swing back for loosening, the bar would point right and
    # the grip sit left of the bolt, across the body, where the arm fails to line the jaws up
    # (the bar pitches in the pinch), so it is seated less far back and the robot walks
    # round the bolt for more of the swing.
    BACK = {"tighten": swing / 2, "loosen": 0.3}
    MAX_TURN = 0.35  # rad the robot turns from facing the bench (+x) to seat the wrench

    def __init__(self, task: TightenBolt) -> None:
        self.task = task
        self.k = PLACES.index(task.bolt)
        self.rot = grasp_rotation(0.0)  # level: the bar is carried and seated flat
        self._seat: float | None = None
        self.back = self.BACK[task.direction]

    def bolt_xy(self) -> np.ndarray:
        """The named bolt's axis."""
        return self.task.pivots[self.k]

    def seat_yaw(self, sim: Sim) -> float:
        """World yaw of the bar when seated: the jaw-fitting angle of the head (one every 60°)
        nearest to ``back`` behind straight ahead (+x, the robot's heading at the bench). The
        aim is fixed at the first call; the fit follows the head, so a wrench that lost the
        head is seated again where the flats are now."""
        head = self.task.yaws[self.k] - angle(sim, self.k)
        if self._seat is None:
            want = self.task.sign * self.back
            self._seat = want + (head - want + HEX_STEP / 2) % HEX_STEP - HEX_STEP / 2
        return self._seat + (head - self._seat + HEX_STEP / 2) % HEX_STEP - HEX_STEP / 2

    def carry_yaw(self, sim: Sim) -> float:
        """World yaw of the bar while carried: turned ``back`` from the robot's heading, as it
        is seated in front of the robot (the hand turns while standing still)."""
        return sim.robot_base()[2] + self.task.sign * self.back

    def mid_yaw(self, sim: Sim) -> float:
        """The heading the robot seats the wrench from: ``back`` ahead of the seated bar, but
        within ``MAX_TURN`` of facing the bench (turned further, its shoulder meets the
        bench's edge before the hand reaches the bolt)."""
        mid = self.seat_yaw(sim) - self.task.sign * self.back
        return float(np.clip(mid, -self.MAX_TURN, self.MAX_TURN))

    def stand(self, sim: Sim) -> np.ndarray:
        """Base pose facing :meth:`mid_yaw` with the grip there at the hand's reach."""
        yaw = self.mid_yaw(sim)
        arm = float(np.linalg.norm((jaw_centre(sim) - sim.tcp("right"))[:2]))
        grip = self.bolt_xy() - arm * np.array([np.cos(yaw), np.sin(yaw)])
        return stand_for(np.array([*grip, 0.0]), sim, yaw)

    def over(self, up: float) -> PosFn:
        """TCP goal that puts the jaws' centre ``up`` above their seat on the bolt, with the
        hand no lower than where it holds a level bar there (jaws caught on the head would
        otherwise let the hand press on down and pitch the bar in the pinch)."""
        def goal(sim: Sim) -> np.ndarray:
            z = self.task.top + SEATED_Z + up
            p = sim.tcp("right") + np.clip(np.array([*self.bolt_xy(), z]) - jaw_centre(sim),
                                           -0.03, 0.03)
            p[2] = max(p[2], z - 0.002)
            return p
        return goal

    def seated(self, sim: Sim) -> bool:
        """The jaws are down around the named bolt's head (not resting on its top): at least
        10 of their 12 mm height beside the flats."""
        jaw = jaw_centre(sim)
        return bool(np.linalg.norm(jaw[:2] - self.bolt_xy()) < 0.008
                    and jaw[2] < self.task.top + SEATED_Z + 0.01)

    def lost(self, sim: Sim) -> bool:
        """The jaws have ridden up off the head or slid off its axis."""
        jaw = jaw_centre(sim)
        return bool(np.linalg.norm(jaw[:2] - self.bolt_xy()) > 0.012
                    or jaw[2] > self.task.top + SEATED_Z + 0.016)

    def phases(self) -> list[Phase]:
        """Carry, seat, swing (seat again if the jaws lose the head), release."""
        return [
            Navigate(self.stand, tol=0.03, speed=0.5),
            # Slowly: a fast turn of the hand twists the bar in the pinch.
            Seat("right", self.over(0.05), self.rot, tol=0.008, max_steps=60, speed=0.5,
                 bar_yaw=self.seat_yaw),
            # Line the jaws up just above the head (2 mm to spare on each side), then drop;
            # jaws that land on the head's top go back up and line up again.
            Seat("right", self.over(0.03), self.rot, tol=0.0015, max_steps=40, speed=0.3,
                 bar_yaw=self.seat_yaw, yaw_tol=0.03).named("align"),
            # Dropping, the hand keeps its hold: jaws caught on a corner pin the bar, which then
            # turns with the hand's position about the bolt, not with the hand's yaw.
            # Nor does it wind its goal down further than the arm sags under the load: pressed
            # on, the bar would pitch in the pinch.
            Seat("right", self.over(0.0), self.rot, tol=0.004, max_steps=30, speed=0.3,
                 bar_yaw=self.seat_yaw, follow=False, press=0.012),
            Retry(self.seated, to="align", times=3, release=False),  # keep hold: re-seat
            Swing(self),
            Grip("right", -1.0, steps=8),
            Reach("right", lambda s: s.tcp("right") + np.array([0, 0, 0.08]), self.rot,
                  tol=0.03, max_steps=1000, freeze=True),
        ]


@dataclass
class Seat(Reach):
    """Reach with the hand turned so that the held bar gets the world yaw ``bar_yaw``."""

    bar_yaw: Callable[[Sim], float] | None = None
    yaw_tol: float = 0.06  # rad: done only once the bar is turned this close, too
    follow: bool = True  # turn the hand on by the bar's missing yaw (False: keep the hold)
    press: float | None = None  # m the integral correction may lower the goal at most
    _base_rot: np.ndarray | None = None
    _hold: float | None = None  # the hand's yaw to the bar's, taken at the phase's start

    def reset(self) -> None:
        """Take the hand's hold on the bar afresh."""
        super().reset()
        self._hold = None

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        if self._base_rot is None:
            self._base_rot = self.rot
        if self.bar_yaw is None:
            return super().update(sim, ctrl)
        if self._hold is None:
            self._hold = wrap(hand_yaw(sim) - wrench_yaw(sim))
        want = self.bar_yaw(sim)
        # The bar slips in the pinch: the hand turns by the bar's missing yaw from where it is
        # now, but stays within 0.35 rad of the hold taken at the start (with the jaws caught
        # on the head the bar cannot follow, and the hand would wind round).
        nominal = want + self._hold
        hand = hand_yaw(sim) + wrap(want - wrench_yaw(sim)) if self.follow else nominal
        hand = nominal + float(np.clip(wrap(hand - nominal), -0.35, 0.35))
        self.rot = yaw_matrix(hand - sim.robot_base()[2]) @ self._base_rot
        if self.press is not None:
            self._offset[2] = max(self._offset[2], -self.press)
        cmd, there = super().update(sim, ctrl)
        return cmd, there and abs(wrap(want - wrench_yaw(sim))) < self.yaw_tol


@dataclass
class Swing(Phase):
    """Swing the seated wrench round the bolt: the hand follows the grip's circle about the
    bolt axis, turning with the bar, ``lead`` rad ahead of where the bar is now. Once the bar
    is ``walk_from`` rad short of straight ahead of where the robot stood at the start (or has
    turned ``arm_only`` rad, if that is later), the robot walks round the bolt with it
    (keeping the bar there in its own frame), as a person does once the arm runs out of
    reach: one arm alone turns the bar ~1 rad of the 1.6."""

    plan: SwingPlan
    lead: float = 0.25
    walk_from: float = 0.3
    arm_only: float = 0.4
    walk_max: float = 1.0  # rad the robot walks round the bolt at most
    max_steps: int = 200
    to: str = "align"  # where to seat the wrench again when the jaws lose the head
    times: int = 2  # ... at most this often per episode
    jump: str | None = None
    _used: int = 0
    _grip: np.ndarray | None = None  # the TCP about the bolt axis in the bar's frame (x, y)
    _z: float = 0.0
    _hand: float = 0.0  # the hand's yaw to the bar's
    _start: np.ndarray | None = None  # the base pose at the swing's start
    _walk_at: float = 0.0  # the bar's yaw ahead of the start heading where walking starts

    def reset(self) -> None:
        """Measure the hold afresh."""
        self._grip = None

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        task, bolt = self.plan.task, self.plan.bolt_xy()
        bar = wrench_yaw(sim)
        if self._grip is None:
            self._grip = yaw_matrix(bar)[:2, :2].T @ (sim.tcp("right")[:2] - bolt)
            self._z = float(sim.tcp("right")[2])
            self._hand = wrap(hand_yaw(sim) - bar)
            self._start = sim.robot_base().copy()
            ahead = self.plan.task.sign * wrap(bar - self._start[2])
            self._walk_at = min(self.walk_from, ahead - self.arm_only)
        # No end stop: the bar slips in the pinch, so the hand goes on past the planned swing
        # (as far as the arm turns) until the bolt has turned far enough.
        goal = bar - task.sign * self.lead
        xy = bolt + yaw_matrix(goal)[:2, :2] @ self._grip
        pos_r = sim.to_robot_frame(np.array([*xy, self._z]))
        rot = yaw_matrix(goal + self._hand - sim.robot_base()[2]) @ self.plan.rot
        done = task.progress(sim) >= TURN_ANGLE + 0.08
        # Jaws off the head: the bar would follow the hand's lead round and round.
        self.jump = None
        if not done and self.plan.lost(sim) and self._used < self.times:
            self._used += 1
            self.jump = self.to
            return Command(base=np.zeros(3)), True
        return Command(base=self._walk(sim, bar), tcp={"right": (pos_r, rot)}, speed=0.3), done

    def _walk(self, sim: Sim, bar: float) -> np.ndarray:
        """Base command that carries the robot round the bolt by as far as the bar has gone
        past where walking starts."""
        assert self._start is not None
        sign = self.plan.task.sign
        ahead = sign * wrap(bar - self._start[2])  # how far the bar has still to pass ahead
        turn = sign * float(np.clip(ahead - self._walk_at, -self.walk_max, 0.0))
        bolt = self.plan.bolt_xy()
        xy = bolt + yaw_matrix(turn)[:2, :2] @ (self._start[:2] - bolt)
        cmd, _ = base_command(sim, np.array([*xy, self._start[2] + turn]))
        return cmd
