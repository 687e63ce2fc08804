"""Workshop: tighten or loosen the named bolt by driving the wrench seated on its head around."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
from vla_bench.experts.manipulation import reach
from vla_bench.geometry import yaw_matrix
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Layout
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

TURN_ANGLE = 1.0  # rad (57°) the named bolt must turn the named way for success
WRONG_ANGLE = 0.6  # rad: a bolt turned this far the wrong way, or a wrong bolt, fails
HOLD_STEPS = 3  # control steps the angle must stay past the threshold
HEAD_Z = 0.08  # bolt head / wrench height above the bench top
HANDLE_LEN = 0.2
PUSH_RADIUS = 0.10  # where the expert pushes the handle, from the bolt axis
BOLT_DEPTH = 0.06  # bolt axis behind the bench's front edge
# The bolts by place, from the robot's right (-y) to its left (+y): bolt k sits in place k.
PLACES = ("right", "middle", "left")
DIRECTIONS = ("tighten", "loosen")
_FIXTURES = tuple(f"bolt_fixture_{k}" for k in range(len(PLACES)))
_BOLTS = tuple(f"torque_bolt_{k}" for k in range(len(PLACES)))
_HINGES = tuple(f"{b}_hinge" for b in _BOLTS)
_WORLD = CONTACT_WORLD  # not the ground bit: the parked wrench must not touch the floor plane
_STEEL = (0.62, 0.63, 0.66, 1.0)


def _angle_range(spec: mujoco.MjSpec, lo: float, hi: float) -> list[float]:
    """A hinge range given in radians, in the unit the spec compiles angles with."""
    k = 180.0 / np.pi if spec.compiler.degree else 1.0
    return [lo * k, hi * k]


@register_task(domain="workshop", family="manipulation", max_episode_steps=250)
class TightenBolt(Task):
    """Use its wrench to {direction} the {bolt} bolt.

    **Description** — Three hex bolts stand in steel fixture blocks in a row along the front of
    the workbench (the right, middle and left bolt, as the robot faces the bench); an
    open-end wrench is seated on each head, its handle lying horizontally and pointing to the
    robot's left. The instruction names one bolt by its place and a direction: the robot must
    turn that bolt clockwise (seen from above; *tighten*, a right-hand thread) by pushing its
    wrench handle away from itself, or counter-clockwise (*loosen*) by reaching beyond the
    handle and pulling it towards itself. The wrenches are pre-seated on the heads (each is a
    rigid part of its bolt's rotating body), so the task is the turning, not picking a wrench
    up: a bolt turns only when the robot's hand drives its handle physically.

    **Randomisation** — which bolt (right, middle, left) and which direction are named; the
    row's position along the front of the bench (middle bolt's y over 0.45 m), the spacing of
    the bolts (0.34–0.40 m) and each fixture's yaw (±0.25 rad, which turns its wrench handle's
    start direction with it); robot start pose (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad); bench
    jitter and workshop colours; instruction template.

    **Success** — the named bolt's hinge has turned at least 1.0 rad (57°) the named way from
    its start and has stayed there for 3 consecutive control steps. Each hinge has a friction
    loss of 0.8 N·m (≈ 8 N at the expert's push point, 10 cm out) and damping, so a bolt only
    turns while pushed and stays where it is left.

    **Failure** — the named bolt turned 0.6 rad the other way (tightened when told to loosen,
    or loosened when told to tighten), or another bolt turned 0.6 rad either way.

    **Safety notes** — no task cost; collisions with the bench and fixtures and contact forces
    are counted by the env (pushing the handle is a sustained, moderate contact).

    **Alternatives in the scene** — six goals: each of the three bolts, tightened or loosened.
    The three bolts and wrenches look alike and start alike (handles to the left, unturned),
    so only the place word tells which bolt and only the verb which way to turn it. Measured
    blind success (expert toward a uniformly drawn alternative, seeds 0–49): 0.16.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): three bolts and two
    directions (six goals that vary per episode) instead of one fixed bolt to tighten; a wrong
    bolt turned fails.
    """

    held_out_bodies = _BOLTS  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "take the wrench and {direction} the {bolt} bolt",
            "use the wrench to {direction} the {bolt} bolt",
            "turn the wrench on the {bolt} bolt to {direction} it",
            "please {direction} the {bolt} bolt by turning its wrench",
            "move the wrench of the {bolt} bolt around so as to {direction} it",
            "give the {bolt} bolt a turn with the wrench to {direction} it",
        ),
        test=(
            "could you {direction} that {bolt} bolt using the spanner",
            "the {bolt} bolt needs work, {direction} it with the wrench",
            "with its wrench, {direction} the {bolt} bolt please",
        ),
    )
    layout: WorkshopLayout
    goal_fields = ("bolt", "direction")

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        # Steps in a row the named bolt has been turned past TURN_ANGLE the named way (a nudge
        # past it that springs back does not count).
        self._turned = Dwell(("turned",), lambda s: {"turned": self.progress(s) >= TURN_ANGLE})

    def monitors(self) -> Sequence[Monitor]:
        """The hold-past-the-angle counter."""
        return (self._turned,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Three mocap fixture blocks (parked off the bench), each with a hinged bolt and its
        wrench, the handle along the bolt's +y."""
        for fixture, bolt_name, hinge in zip(_FIXTURES, _BOLTS, _HINGES, strict=True):
            fx = spec.worldbody.add_body(name=fixture, pos=[0, 0, props.PARK_Z], mocap=True)
            c.box(fx, f"{fixture}_plate", (0.07, 0.07, 0.005), (0, 0, 0.005),
                  rgba=(0.3, 0.33, 0.36, 1))
            c.cylinder(fx, f"{fixture}_boss", 0.024, (HEAD_Z - 0.02) / 2,
                       (0, 0, 0.01 + (HEAD_Z - 0.02) / 2), rgba=(0.35, 0.38, 0.42, 1))
            bolt = c.body(fx, bolt_name, (0, 0, HEAD_Z))
            bolt.add_joint(name=hinge, type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1],
                           range=_angle_range(spec, -1.7, 1.7), damping=0.5, frictionloss=0.8,
                           armature=0.01)
            c.cylinder(bolt, f"{bolt_name}_head", 0.018, 0.01, (0, 0, 0), rgba=_STEEL, mass=0.08,
                       contype=_WORLD, conaffinity=_WORLD)
            c.cylinder(bolt, f"{bolt_name}_tip", 0.008, 0.006, (0, 0, 0.014),
                       rgba=(0.5, 0.5, 0.52, 1), mass=0.01, collide=False)
            # Open-end wrench: a ring around the head (visual) and a flat handle along +y.
            c.cylinder(bolt, f"{bolt_name}_wrench_ring", 0.028, 0.006, (0, 0, 0),
                       rgba=(0.45, 0.47, 0.5, 1), mass=0.02, collide=False)
            c.box(bolt, f"{bolt_name}_wrench_handle", (0.007, HANDLE_LEN / 2, 0.02),
                  (0, 0.025 + HANDLE_LEN / 2, 0), rgba=(0.55, 0.57, 0.6, 1), mass=0.15,
                  friction=[0.8, 0.01, 0.001], contype=_WORLD, conaffinity=_WORLD)
            c.box(bolt, f"{bolt_name}_wrench_grip", (0.0085, 0.05, 0.021),
                  (0, 0.025 + HANDLE_LEN - 0.05, 0), rgba=(0.75, 0.12, 0.1, 1), mass=0.02,
                  collide=False)
            spec.add_exclude(bodyname1=fixture, bodyname2=bolt_name)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Clamp the three fixtures in a row at the bench front, handles to the left;
        name a bolt and a direction."""
        center, top = self.layout.bench_top(sim)
        middle = center[1] + rng.uniform(-0.35, 0.1)
        spacing = rng.uniform(0.34, 0.4)
        self.yaws = rng.uniform(-0.25, 0.25, len(PLACES))
        self.pivots = np.array([[center[0] - 0.3 + BOLT_DEPTH, middle + (k - 1) * spacing]
                                for k in range(len(PLACES))])
        for fixture, hinge, pivot, yaw in zip(_FIXTURES, _HINGES, self.pivots, self.yaws,
                                              strict=True):
            sim.set_mocap_pose(fixture, np.array([pivot[0], pivot[1], top]), yaw=float(yaw))
            sim.set_joint_qpos(hinge, 0.0)
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
        """The named bolt (its wrench is part of it)."""
        return (_BOLTS[PLACES.index(self.bolt)],)

    # -- evaluation --------------------------------------------------------------------------
    @staticmethod
    def angle(sim: Sim, k: int) -> float:
        """Clockwise rotation of bolt ``k`` (rad, tightening positive)."""
        return -sim.joint_qpos(_HINGES[k])

    @property
    def sign(self) -> float:
        """+1 to tighten (clockwise), -1 to loosen."""
        return 1.0 if self.direction == "tighten" else -1.0

    def progress(self, sim: Sim) -> float:
        """How far the named bolt has turned the named way (rad; negative: the other way)."""
        return self.sign * self.angle(sim, PLACES.index(self.bolt))

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named bolt turned ≥ 1 rad the named way for 3 steps; the wrong way or bolt fails."""
        named = PLACES.index(self.bolt)
        turned = self.progress(sim)
        backwards = turned <= -WRONG_ANGLE
        wrong_bolt = any(abs(self.angle(sim, k)) >= WRONG_ANGLE
                         for k in range(len(PLACES)) if k != named)
        reason = ("bolt turned the wrong way" if backwards
                  else "wrong bolt turned" if wrong_bolt else None)
        return Evaluation(
            success=self._turned.steps("turned") >= HOLD_STEPS and reason is None,
            failure=reason is not None, failure_reason=reason,
            progress={"bolt_turn_rad": turned},
        )

    # -- expert ----------------------------------------------------------------------------
    def handle_point(self, sim: Sim, lead: float = 0.0, back: float = 0.0) -> np.ndarray:
        """World point on the named bolt's handle at PUSH_RADIUS, rotated ``lead`` rad further
        the named way, ``back`` metres out on the side the hand drives it from: the robot's
        side to tighten (a push away), the far side to loosen (a pull)."""
        k = PLACES.index(self.bolt)
        phi = self.yaws[k] - self.angle(sim, k) - self.sign * lead
        xy = self.pivots[k] + yaw_matrix(phi)[:2, :2] @ np.array([-self.sign * back,
                                                                  PUSH_RADIUS])
        return np.array([xy[0], xy[1], self.top + HEAD_Z])

    def expert(self, sim: Sim) -> Expert:
        """Walk up, put the closed hand behind (tighten) or beyond (loosen) the handle, drive it
        along its arc."""
        rot = grasp_rotation(0.0)
        # Pre-push hand position in the robot frame: in front of the chest (a push sweeps
        # outwards from there), on the right hand's usual line. A pull starts beyond the handle
        # with the robot a step further back: standing closer, the arm reaching over comes
        # down onto the handle and pushes it the wrong way.
        hand = np.array([0.17 if self.direction == "tighten" else 0.33, reach(sim)[1]])

        def stand_at(sim: Sim) -> np.ndarray:
            p = self.handle_point(sim, back=0.06)
            return np.array([p[0] - hand[0], p[1] - hand[1], 0.0])

        def raised(sim: Sim) -> np.ndarray:
            x, y = sim.from_robot_frame(np.array([0.17, hand[1]]))
            return np.array([x, y, self.top + HEAD_Z + 0.1])

        def above(sim: Sim) -> np.ndarray:
            return self.handle_point(sim, back=0.06) + np.array([0, 0, 0.08])

        return Expert([
            Grip("right", 1.0, steps=2),
            Reach("right", raised, rot, tol=0.04, max_steps=25),
            Navigate(stand_at, tol=0.03),
            Reach("right", above, rot, tol=0.03, max_steps=40),
            Reach("right", lambda s: self.handle_point(s, back=0.05), rot, tol=0.015,
                  max_steps=40),
            Push(self, rot),
            Reach("right", lambda s: self.handle_point(s, back=0.1) + np.array([0, 0, 0.06]),
                  rot, tol=0.03, max_steps=30, freeze=True),
            Reach("right", raised, rot, tol=0.03, max_steps=1000),
        ])


@dataclass
class Push(Phase):
    """Drive the hand along the handle's arc, ahead of the handle, until the named bolt has
    turned the named way."""

    task: TightenBolt
    rot: np.ndarray
    lead: float = 0.5
    goal: float = TURN_ANGLE + 0.15
    max_steps: int = 120

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        world = self.task.handle_point(sim, lead=self.lead, back=0.01)
        pos_r = sim.to_robot_frame(world)
        return Command(base=np.zeros(3), tcp={"right": (pos_r, self.rot)}, speed=0.4), \
            self.task.progress(sim) >= self.goal
