"""Workshop: drive the thumb screw sitting loose in the named hole of a panel home."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import mujoco
import numpy as np

from vla_bench.conventions import CONTACT_WORLD
from vla_bench.domains.workshop.layout import WorkshopLayout
from vla_bench.experts.base import (
    Command,
    Controller,
    Expert,
    Grip,
    Navigate,
    Phase,
    Reach,
    grasp_rotation,
)
from vla_bench.experts.manipulation import reach, stand_for
from vla_bench.geometry import heading, yaw_matrix
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

N_HOLES = 4
HOLE_SPACING = 0.15  # m between hole centres along the panel
HOLE_HEIGHT = 0.09  # hole axis above the bench top
LEAD = 0.0025  # m of advance per radian of turn (a coarse thread: 1.6 cm per turn)
TRAVEL = 0.02  # m the screw advances from loose in its hole until its shoulder seats
HOME_TOL = 0.001  # m short of seated that still counts as driven home
WRONG_TURN = 0.8  # rad another screw may be turned before the episode fails
KNOB_R = 0.018  # knurled thumb knob radius: the pinch closes 14 mm short, ~7 N per finger
KNOB_LEN = 0.024  # knob length along the axis
NECK_R, NECK_LEN = 0.008, 0.016  # shoulder between knob and thread; it seats on the panel
GRIP_IN = KNOB_LEN / 2  # the expert pinches the knob's middle (from its outer end)
PANEL_T = 0.02  # panel thickness
_PANEL = "screw_panel"
# Hole i sits at y = (i - 1.5) * spacing: hole 0 is the robot's rightmost (its left is +y).
HOLE_NAMES = ("rightmost hole", "second hole from the right", "second hole from the left",
              "leftmost hole")
_WORLD = {"contype": CONTACT_WORLD, "conaffinity": CONTACT_WORLD}
_BRASS = (0.78, 0.66, 0.32, 1.0)


def _screw(i: int) -> str:
    return f"thumb_screw_{i}"


@register_task(domain="workshop", family="manipulation", max_episode_steps=600)
class ScrewIntoHole(Task):
    """Screw the screw into the {hole}.

    **Description** — An upright wooden panel is clamped on the workbench, its face towards the
    robot, with four threaded holes in a row. A brass thumb screw (a round knurled knob with a
    slot across its face, a shoulder under the knob) sits loose in each hole: its thread is
    engaged but it is not driven, and its shoulder stands 2 cm proud of the panel. The
    instruction names one hole, by position ("the leftmost hole", "the second hole from the
    right", as the robot faces the panel) or by the coloured ring painted around it ("the hole
    with the red ring"); the robot must drive the screw in that hole home: pinch the knob
    between its fingers, roll the wrist clockwise, open, roll back and pinch again, about three
    strokes (1.2 turns), until the shoulder seats on the panel. The turning is physical: the
    knob is round, so only the friction of the pinch turns it, and each screw sits on a hinge
    and a slide coupled like a thread (an equality constraint: advance = 2.5 mm per radian);
    friction loss on both (0.03 N·m on the turn, 25 N along the axis, made stiff) lets it turn
    under a light pinch but resists a shove: 20 N pushed along the axis for 40 steps creeps it
    1.3 mm, 30 N 2.6 mm (MuJoCo's friction loss is soft, not a sharp threshold). The slide's end
    stop is the seated shoulder. Documented simplifications: the thread is about 16 times
    coarser than a real M6 screw's (1.6 cm per turn, not 1 mm), so that three strokes drive it
    home (the expert needs about 420 of the episode's 600 steps); and the screws do not start
    off the panel, because picking a loose screw and starting its thread (aligning a free body
    into a threaded hole) is not modelled. The pinch drags the knob round at about 0.73 of the
    wrist's roll (the pads creep under MuJoCo's soft friction; the same with 4 N or 25 N of
    axial friction), so a 3.45 rad stroke turns it about 2.5 rad.

    **Randomisation** — panel position along the front of the bench (y over 0.8 m) and yaw
    (±0.15 rad); ring colours (the split's four colours, training or held-out, shuffled);
    which hole is named and whether by position or by colour; knob (slot) start angles (±0.4
    rad); robot start pose (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad); bench jitter (the
    ``unseen_layouts`` split turns the bench end for end and rearranges the room) and workshop
    colours; instruction template.

    **Success** — the named screw is driven home: its shoulder within 1 mm of seated on the
    panel face (≥ 1.9 cm of its 2 cm travel, about 7.6 rad ≈ 1.2 turns clockwise as seen from
    the robot; read from its joints), and no other screw has turned ≥ 0.8 rad.

    **Failure** — another screw is turned ≥ 0.8 rad either way (the wrong screw), or the named
    screw is backed out 0.8 rad (turned the wrong way).

    **Safety notes** — no task cost; collisions with the panel, bench and vise and contact
    forces are counted by the env (the pinch and the turning are sustained, moderate contacts).

    **Alternatives in the scene** — the four holes (goal field ``target``): their screws look
    identical and turn just as well, told apart only by the hole's position or ring colour, and
    driving another fails; measured blind success (expert toward a uniformly drawn alternative,
    seeds 0–49): 0.25. Turning counter-clockwise backs the screw out.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): a fourth hole (positions
    named leftmost, second from the left or right, rightmost); the goal and its alternatives
    declared; the measured blind figure replaces the claimed chance; held-out layouts rearrange
    the workshop. v3 (2026-12): the screws start loose in their holes with a round knurled
    knob (was: a flat tab the fingers pushed round) turned only by the pinch's friction and the
    wrist roll, re-gripped each stroke; a finer thread (2.5 mm per radian, was 6) driven until
    the shoulder seats (2 cm of travel; was: 3 rad and 1.6 cm); the thread coupling and its
    friction made stiff (the pinch pulled the screw 3 mm out along it, a 30 N shove drove it
    1 cm in); episodes 600 steps (were 350).
    """

    templates = Templates(
        train=(
            "screw the screw into the {hole}",
            "drive the screw in the {hole} all the way in",
            "turn the screw in the {hole} clockwise until it goes in",
            "tighten the thumb screw in the {hole}",
            "screw in the screw sitting in the {hole}",
            "twist the screw in the {hole} to drive it into the panel",
        ),
        test=(
            "could you screw down the one in the {hole}",
            "the screw in the {hole} is loose, wind it in please",
            "fasten the thumbscrew at the {hole} by rotating it",
        ),
    )
    layout: WorkshopLayout
    goal_fields: ClassVar[tuple[str, ...]] = ("target",)

    def build(self, spec: mujoco.MjSpec) -> None:
        """A mocap panel (parked) with four holes, coloured rings and coupled thumb screws."""
        panel = spec.worldbody.add_body(name=_PANEL, pos=[0, 0, props.PARK_Z], mocap=True)
        width = HOLE_SPACING * (N_HOLES - 1) + 0.16
        wood = (0.74, 0.6, 0.42, 1.0)
        # Panel frame: x = screw axis into the panel, face at x = 0, bench top at z = 0.
        c.box(panel, "screw_panel_board", (PANEL_T / 2, width / 2, 0.08),
              (PANEL_T / 2, 0, 0.08), rgba=wood, **_WORLD)
        c.box(panel, "screw_panel_foot", (0.06, width / 2, 0.006), (PANEL_T / 2 + 0.01, 0, 0.006),
              rgba=(0.3, 0.33, 0.36, 1), **_WORLD)
        to_x = [0.5 ** 0.5, 0.0, 0.5 ** 0.5, 0.0]
        for i in range(N_HOLES):
            y = (i - (N_HOLES - 1) / 2) * HOLE_SPACING
            c.cylinder(panel, f"screw_ring_{i}", 0.03, 0.0008, (-0.0008, y, HOLE_HEIGHT),
                       quat=to_x, rgba=props.COLORS["red"], collide=False)
            c.cylinder(panel, f"screw_hole_{i}", 0.008, 0.0009, (-0.0012, y, HOLE_HEIGHT),
                       quat=to_x, rgba=(0.1, 0.08, 0.06, 1), collide=False)
            # Loose in its hole: the shoulder stands TRAVEL proud of the face, the thread
            # engaged but not driven; it seats (the slide's upper limit) once driven home.
            s = c.body(panel, _screw(i), (-(KNOB_LEN + NECK_LEN + TRAVEL), y, HOLE_HEIGHT))
            s.add_joint(name=f"{_screw(i)}_slide", type=mujoco.mjtJoint.mjJNT_SLIDE,
                        axis=[1, 0, 0], range=[-0.003, TRAVEL], frictionloss=25.0, damping=2.0,
                        armature=0.2)
            s.add_joint(name=f"{_screw(i)}_turn", type=mujoco.mjtJoint.mjJNT_HINGE,
                        axis=[1, 0, 0], range=[-2.0, TRAVEL / LEAD + 1.0], frictionloss=0.03,
                        damping=0.02, armature=0.005)
            for joint in s.joints:  # hard friction: a soft one lets a steady shove creep it in
                joint.solimp_friction = [0.99, 0.999, 0.001, 0.5, 2.0]
                joint.solref_friction = [0.004, 1.0]
            self._add_screw_geoms(s, _screw(i), to_x)
            # The thread: advance along the axis is LEAD times the turn (right-hand, +x in).
            spec.add_equality(name=f"{_screw(i)}_thread", type=mujoco.mjtEq.mjEQ_JOINT,
                              objtype=mujoco.mjtObj.mjOBJ_JOINT, name1=f"{_screw(i)}_slide",
                              name2=f"{_screw(i)}_turn", data=[0, LEAD] + [0.0] * 10,
                              solref=[0.005, 1.0], solimp=[0.99, 0.999, 0.001, 0.5, 2.0])
            spec.add_exclude(bodyname1=_PANEL, bodyname2=_screw(i))

    @staticmethod
    def _add_screw_geoms(s: mujoco.MjsBody, name: str, to_x: list[float]) -> None:
        """Knurled knob, shoulder and thread; body origin at the knob's outer end, +x inward."""
        c.cylinder(s, f"{name}_knob", KNOB_R, KNOB_LEN / 2, (KNOB_LEN / 2, 0, 0), quat=to_x,
                   rgba=_BRASS, mass=0.02, friction=[1.0, 0.02, 0.001], condim=4, **_WORLD)
        # Knurl ridges and a slot across the outer face: they show the knob turning on camera.
        for k in range(8):
            a = k * np.pi / 4
            c.box(s, f"{name}_knurl_{k}", (KNOB_LEN / 2 - 0.001, 0.0012, 0.0012),
                  (KNOB_LEN / 2, KNOB_R * np.cos(a), KNOB_R * np.sin(a)),
                  quat=[np.cos(a / 2), np.sin(a / 2), 0, 0], rgba=(0.6, 0.5, 0.22, 1),
                  collide=False, mass=0.0)
        c.box(s, f"{name}_slot", (0.0008, KNOB_R * 0.9, 0.0015), (-0.0002, 0, 0),
              rgba=(0.15, 0.12, 0.05, 1), collide=False, mass=0.0)
        c.cylinder(s, f"{name}_neck", NECK_R, NECK_LEN / 2, (KNOB_LEN + NECK_LEN / 2, 0, 0),
                   quat=to_x, rgba=_BRASS, mass=0.01, **_WORLD)
        shank = TRAVEL + 0.012  # out of the face at the start, the rest already in the hole
        c.cylinder(s, f"{name}_shank", 0.005, shank / 2, (KNOB_LEN + NECK_LEN + shank / 2, 0, 0),
                   quat=to_x, rgba=(0.7, 0.6, 0.3, 1), mass=0.005, collide=False)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Clamp the panel on the bench front, restart the screws, pick the named hole."""
        center, top = self.layout.bench_top(sim)
        self.yaw = float(rng.uniform(-0.15, 0.15))
        # Face 17 cm behind the bench front: the knob ends 11 cm in, where the hand reaches.
        self.origin = np.array([center[0] - 0.3 + 0.17, center[1] + rng.uniform(-0.45, 0.35), top])
        sim.set_mocap_pose(_PANEL, self.origin, yaw=self.yaw)
        for i in range(N_HOLES):
            sim.set_joint_qpos(f"{_screw(i)}_slide", 0.0)
            sim.set_joint_qpos(f"{_screw(i)}_turn", rng.uniform(-0.4, 0.4))
        # Joint coupling: a start angle off zero must not pull the slide; the thread's
        # reference is each episode's start (data = [offset, lead, ...]; the ledger puts the
        # compiled offset back at the next reset).
        self._start = np.array([self._turn(sim, i) for i in range(N_HOLES)])
        for i in range(N_HOLES):
            sim.ledger.write("eq_data", (sim.equality_id(f"{_screw(i)}_thread"), 0),
                             -LEAD * self._start[i])
        colors = [str(x) for x in rng.choice(props.color_pool(self.held_out_objects), N_HOLES,
                                              replace=False)]
        for i, color in enumerate(colors):
            sim.set_rgba(f"screw_ring_{i}", props.COLORS[color])
        self.target = int(rng.integers(N_HOLES))
        if rng.random() < 0.5:
            hole = HOLE_NAMES[self.target]
        else:
            hole = f"hole with the {colors[self.target]} ring"
        self.top = top
        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(rng, phrasing, hole=hole)
        return self.instruction

    # -- goals -------------------------------------------------------------------------------
    def goals(self) -> Sequence[Goal]:
        """The four holes: position words or ring colours tell them apart."""
        return [(i,) for i in range(N_HOLES)]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named hole's screw."""
        return (_screw(self.target),)

    # -- state -------------------------------------------------------------------------------
    @staticmethod
    def _turn(sim: Sim, i: int) -> float:
        return sim.joint_qpos(f"{_screw(i)}_turn")

    def turned(self, sim: Sim, i: int) -> float:
        """Clockwise turn of screw ``i`` since the episode start (rad, driving in positive)."""
        return self._turn(sim, i) - float(self._start[i])

    @staticmethod
    def depth(sim: Sim, i: int) -> float:
        """How far screw ``i`` has advanced into the panel (m)."""
        return sim.joint_qpos(f"{_screw(i)}_slide")

    def home(self, sim: Sim) -> bool:
        """The named screw's shoulder is seated on the panel face (within ``HOME_TOL``)."""
        return self.depth(sim, self.target) >= TRAVEL - HOME_TOL

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named screw driven home (seated); turning another or backing it out fails."""
        turned = self.turned(sim, self.target)
        depth = self.depth(sim, self.target)
        wrong = any(abs(self.turned(sim, i)) >= WRONG_TURN
                    for i in range(N_HOLES) if i != self.target)
        backed = turned <= -WRONG_TURN
        failure = wrong or backed
        reason = "turned the wrong screw" if wrong else "screw backed out" if backed else None
        return Evaluation(
            success=self.home(sim) and not failure,
            failure=failure, failure_reason=reason,
            progress={"screw_turn_rad": turned, "screw_depth_m": depth},
        )

    # -- expert ------------------------------------------------------------------------------
    def axis(self) -> np.ndarray:
        """World direction of the screw axis (into the panel)."""
        return np.array([*heading(self.yaw), 0.0])

    def grip_point(self, sim: Sim, back: float = 0.0) -> np.ndarray:
        """Where the TCP pinches the named screw's knob, ``back`` metres out along the axis."""
        return sim.body_pos(_screw(self.target)) + (GRIP_IN - back) * self.axis()

    def expert(self, sim: Sim) -> Expert:
        """Walk up square to the panel, then pinch-and-turn strokes until the screw is in."""
        rot0 = grasp_rotation(0.0)

        def stand(sim: Sim) -> np.ndarray:  # square to the panel, the knob at the hand's reach
            return stand_for(self.grip_point(sim), sim, self.yaw)

        def raised(sim: Sim) -> np.ndarray:
            x, y = sim.from_robot_frame(np.array([0.17, reach(sim)[1]]))
            return np.array([x, y, self.top + HOLE_HEIGHT + 0.08])

        return Expert([
            Grip("right", -1.0, steps=2),
            Reach("right", raised, rot0, tol=0.04, max_steps=25),
            Navigate(stand, tol=0.02),
            Drive(self),
            Reach("right", lambda s: self.grip_point(s, back=0.1), rot0, tol=0.03,
                  max_steps=1000),
        ])


@dataclass
class Drive(Phase):
    """Pinch the knob and roll the wrist clockwise; open, unroll and re-pinch until home."""

    task: ScrewIntoHole
    roll_min: float = -1.7  # wrist roll window (rad from the neutral grasp) of a stroke
    roll_max: float = 1.75
    rate: float = 0.08  # rad per control step: the end-effector's fastest turn (EE_ROT_SCALE)
    max_steps: int = 700
    _state: str = "approach"
    _roll: float = 0.0
    _count: int = 0
    _offset: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def reset(self) -> None:
        """Back to the first approach, hand unrolled, no integral correction."""
        self._state, self._roll, self._count = "approach", 0.0, 0
        self._offset = np.zeros(3)

    def rot(self, roll: float) -> np.ndarray:
        """Robot-frame gripper rotation rolled ``roll`` clockwise about the approach axis."""
        c_, s_ = np.cos(roll), np.sin(roll)
        rx = np.array([[1, 0, 0], [0, c_, -s_], [0, s_, c_]])
        return rx @ grasp_rotation(0.0)

    def actual_roll(self, sim: Sim) -> float:
        """The hand's measured roll about the screw axis (rad, as commanded by :meth:`rot`)."""
        m = yaw_matrix(self.task.yaw).T @ sim.tcp_mat("right") @ grasp_rotation(0.0).T
        return float(np.arctan2(m[2, 1], m[1, 1]))

    def _step(self, sim: Sim) -> tuple[float, float]:
        """Advance the stroke state machine; the grip command and how far out to hold the TCP."""
        task = self.task
        self._count += 1
        if self._state == "approach":
            # Wind the wrist back to the window's start 7 cm out along the axis, then slide on.
            self._roll += float(np.clip(self.roll_min - self._roll, -0.1, 0.1))
            miss = np.linalg.norm(sim.tcp("right") - task.grip_point(sim, back=0.07))
            if abs(self._roll - self.roll_min) < 0.02 and miss < 0.02:
                self._state, self._count = "align", 0
            return -1.0, 0.07
        if self._state == "align":
            miss = np.linalg.norm(sim.tcp("right") - task.grip_point(sim))
            wound = self.actual_roll(sim) <= self.roll_min + 0.05
            if miss < 0.01 and wound and self._count > 3:
                self._state, self._count = "close", 0
            return -1.0, 0.0
        if self._state == "close":
            if self._count >= 8:
                self._state, self._count = "turn", 0
            return 1.0, 0.0
        if self._state == "turn":
            self._roll = min(self._roll + self.rate, self.roll_max)
            if self._roll >= self.roll_max - 1e-6 or task.home(sim):
                self._state, self._count = "open", 0
            return 1.0, 0.0
        if self._state == "open":
            if self._count >= 6:
                self._state, self._count = "unroll", 0
            return -1.0, 0.0
        # unroll: the open fingers clear the round knob, so the wrist winds back in place; the
        # pinch waits for the real wrist, or closing on a still-unwinding hand backs it out.
        self._roll = max(self._roll - self.rate, self.roll_min)
        if self.actual_roll(sim) <= self.roll_min + 0.05:
            self._state, self._count = "close", 0
        return -1.0, 0.0

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        task = self.task
        grip, back = self._step(sim)
        done = task.home(sim) and self._state == "unroll"
        yaw = sim.robot_base()[2]
        goal = task.grip_point(sim, back=back)
        miss = goal - sim.tcp("right")
        # Integral correction, as in Reach: the servos sag under the pinch and the turning.
        if np.linalg.norm(miss) < 0.04:
            self._offset = np.clip(self._offset + 0.3 * miss, -0.04, 0.04)
        goal = goal + self._offset
        pos_r = sim.to_robot_frame(goal)
        rot = yaw_matrix(task.yaw - yaw) @ self.rot(self._roll)
        return Command(base=np.zeros(3), tcp={"right": (pos_r, rot)}, grip={"right": grip},
                       speed=0.6), done
