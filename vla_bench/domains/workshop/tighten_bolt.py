"""Workshop: tighten a bolt by pushing the wrench seated on its head around (clockwise)."""

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

TIGHTEN_ANGLE = 1.0  # rad (57°) of clockwise bolt rotation for success
LOOSEN_ANGLE = 0.6  # rad of counter-clockwise rotation: the bolt was loosened (failure)
HOLD_STEPS = 3  # control steps the angle must stay past the threshold
HEAD_Z = 0.08  # bolt head / wrench height above the bench top
HANDLE_LEN = 0.2
PUSH_RADIUS = 0.10  # where the expert pushes the handle, from the bolt axis
_FIXTURE = "bolt_fixture"
_BOLT = "torque_bolt"
_HINGE = "torque_bolt_hinge"
_WORLD = CONTACT_WORLD  # not the ground bit: the parked wrench must not touch the floor plane
_STEEL = (0.62, 0.63, 0.66, 1.0)


def _angle_range(spec: mujoco.MjSpec, lo: float, hi: float) -> list[float]:
    """A hinge range given in radians, in the unit the spec compiles angles with."""
    k = 180.0 / np.pi if spec.compiler.degree else 1.0
    return [lo * k, hi * k]


@register_task(domain="workshop", family="manipulation", max_episode_steps=250)
class TightenBolt(Task):
    """Tighten the bolt with the wrench.

    **Description** — A hex bolt stands in a steel fixture block clamped to the front of the
    workbench; an open-end wrench is seated on its head, its handle lying horizontally and
    pointing to the robot's left. The robot must turn the bolt clockwise (seen from above,
    the tightening direction of a right-hand thread) by pushing the wrench handle around.
    The wrench is pre-seated on the head (it is a rigid part of the bolt's rotating body), so
    the task is the turning, not picking the wrench up: the bolt turns only when the robot's
    hand pushes the handle physically.

    **Randomisation** — fixture position along the front of the bench (y over 0.9 m) and its
    yaw (±0.25 rad, which turns the wrench handle's start direction with it); robot start pose
    (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad); bench jitter and workshop colours; instruction
    template.

    **Success** — the bolt's hinge has turned at least 1.0 rad (57°) clockwise from its start
    and has stayed there for 3 consecutive control steps. The hinge has a friction loss of
    0.8 N·m (≈ 8 N at the expert's push point, 10 cm out) and damping, so the bolt only turns
    while pushed and stays where it is left.

    **Failure** — the bolt is loosened: turned 0.6 rad counter-clockwise from its start.

    **Safety notes** — no task cost; collisions with the bench and fixture and contact forces
    are counted by the env (pushing the handle is a sustained, moderate contact).

    **Alternatives in the scene** — the bolt turns both ways: turning it the wrong way (loosening)
    fails the episode, so "tighten" must be understood, not just "move the wrench". The
    workshop's vise handle, drill press and parts bins are further plausible but wrong things
    to turn or touch.

    **Version history** — v1 (2026-11): first release.
    """

    held_out_bodies = (_BOLT,)  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "tighten the bolt with the wrench",
            "use the wrench to tighten the bolt",
            "turn the wrench to tighten the bolt",
            "tighten the bolt by turning the wrench clockwise",
            "push the wrench around so the bolt gets tighter",
            "give the bolt a turn with the wrench to tighten it",
        ),
        test=(
            "could you snug up that bolt using the spanner",
            "the bolt is loose, crank it tight with the wrench",
            "rotate the wrench clockwise to fasten the bolt",
        ),
    )
    layout: WorkshopLayout

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        # Steps in a row the bolt has been turned past TIGHTEN_ANGLE (a nudge past it that
        # springs back does not count).
        self._tight = Dwell(("tight",), lambda s: {"tight": self.angle(s) >= TIGHTEN_ANGLE})

    def monitors(self) -> Sequence[Monitor]:
        """The hold-past-the-angle counter."""
        return (self._tight,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """A mocap fixture block (parked off the bench) with a hinged bolt and its wrench."""
        fx = spec.worldbody.add_body(name=_FIXTURE, pos=[0, 0, props.PARK_Z], mocap=True)
        c.box(fx, "bolt_fixture_plate", (0.07, 0.07, 0.005), (0, 0, 0.005),
              rgba=(0.3, 0.33, 0.36, 1))
        c.cylinder(fx, "bolt_fixture_boss", 0.024, (HEAD_Z - 0.02) / 2,
                   (0, 0, 0.01 + (HEAD_Z - 0.02) / 2), rgba=(0.35, 0.38, 0.42, 1))
        bolt = c.body(fx, _BOLT, (0, 0, HEAD_Z))
        bolt.add_joint(name=_HINGE, type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1],
                       range=_angle_range(spec, -1.7, 1.2), damping=0.5, frictionloss=0.8,
                       armature=0.01)
        c.cylinder(bolt, "torque_bolt_head", 0.018, 0.01, (0, 0, 0), rgba=_STEEL, mass=0.08,
                   contype=_WORLD, conaffinity=_WORLD)
        c.cylinder(bolt, "torque_bolt_tip", 0.008, 0.006, (0, 0, 0.014), rgba=(0.5, 0.5, 0.52, 1),
                   mass=0.01, collide=False)
        # Open-end wrench: a ring around the head (visual) and a flat handle along +y.
        c.cylinder(bolt, "wrench_ring", 0.028, 0.006, (0, 0, 0), rgba=(0.45, 0.47, 0.5, 1),
                   mass=0.02, collide=False)
        c.box(bolt, "wrench_handle", (0.007, HANDLE_LEN / 2, 0.02),
              (0, 0.025 + HANDLE_LEN / 2, 0), rgba=(0.55, 0.57, 0.6, 1), mass=0.15,
              friction=[0.8, 0.01, 0.001], contype=_WORLD, conaffinity=_WORLD)
        c.box(bolt, "wrench_grip", (0.0085, 0.05, 0.021), (0, 0.025 + HANDLE_LEN - 0.05, 0),
              rgba=(0.75, 0.12, 0.1, 1), mass=0.02, collide=False)
        spec.add_exclude(bodyname1=_FIXTURE, bodyname2=_BOLT)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Clamp the fixture at the bench front, wrench handle pointing left; bolt at 0."""
        center, top = self.layout.bench_top(sim)
        self.yaw = float(rng.uniform(-0.25, 0.25))
        self.pivot = np.array([center[0] - 0.3 + 0.06, center[1] + rng.uniform(-0.55, 0.35)])
        sim.set_mocap_pose(_FIXTURE, np.array([self.pivot[0], self.pivot[1], top]), yaw=self.yaw)
        sim.set_joint_qpos(_HINGE, 0.0)
        self.top = top
        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(rng, phrasing)
        return self.instruction

    def angle(self, sim: Sim) -> float:
        """Clockwise rotation of the bolt (rad, tightening positive)."""
        return -sim.joint_qpos(_HINGE)

    def evaluate(self, sim: Sim) -> Evaluation:
        """Turned ≥ 1 rad clockwise for 3 steps; loosening fails."""
        turned = self.angle(sim)
        loosened = turned <= -LOOSEN_ANGLE
        return Evaluation(
            success=self._tight.steps("tight") >= HOLD_STEPS and not loosened,
            failure=loosened, failure_reason="bolt loosened" if loosened else None,
            progress={"bolt_turn_rad": turned},
        )

    # -- expert ----------------------------------------------------------------------------
    def handle_point(self, sim: Sim, lead: float = 0.0, back: float = 0.0) -> np.ndarray:
        """World point on the handle at PUSH_RADIUS, rotated ``lead`` rad further clockwise,
        ``back`` metres on the robot's (pushing) side."""
        phi = self.yaw - self.angle(sim) - lead
        xy = self.pivot + yaw_matrix(phi)[:2, :2] @ np.array([-back, PUSH_RADIUS])
        return np.array([xy[0], xy[1], self.top + HEAD_Z])

    def expert(self, sim: Sim) -> Expert:
        """Walk up, put the closed hand behind the handle, push it clockwise along its arc."""
        rot = grasp_rotation(0.0)
        # Pre-push hand position in the robot frame: close in front of the chest (the push
        # sweeps outwards from there), on the right hand's usual line.
        hand = np.array([0.17, reach(sim)[1]])

        def stand_at(sim: Sim) -> np.ndarray:
            p = self.handle_point(sim, back=0.06)
            return np.array([p[0] - hand[0], p[1] - hand[1], 0.0])

        def raised(sim: Sim) -> np.ndarray:
            x, y = sim.from_robot_frame(hand)
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
    """Drive the hand along the handle's arc, ahead of the handle, until the bolt has turned."""

    task: TightenBolt
    rot: np.ndarray
    lead: float = 0.5
    goal: float = TIGHTEN_ANGLE + 0.15
    max_steps: int = 120

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        world = self.task.handle_point(sim, lead=self.lead, back=0.01)
        pos_r = sim.to_robot_frame(world)
        return Command(base=np.zeros(3), tcp={"right": (pos_r, self.rot)}, speed=0.4), \
            self.task.angle(sim) >= self.goal
