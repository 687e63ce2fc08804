"""Workshop: pick up the hammer and drive the nail into the board with downward strokes."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.conventions import CONTACT_WORLD
from vla_bench.domains.workshop.layout import BENCH_TOP, WorkshopLayout
from vla_bench.experts.base import (
    Command,
    Controller,
    Expert,
    Navigate,
    Phase,
    Reach,
    grasp_rotation,
)
from vla_bench.experts.manipulation import pick_phases, stand_at
from vla_bench.geometry import yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

DRIVE_DEPTH = 0.02  # m the nail must be driven in
NAIL_STICKOUT = 0.03  # m of nail above the board at the start
NAIL_FRICTION = 80.0  # N: the board's grip on the nail (slide joint friction loss)
BOARD_TOP = 0.04  # board top above the bench top
HAMMER_GRASP = 0.07  # grasp point (hammer origin) above the bottom of its head
_BOARD = "nail_board"
_NAIL = "nail"
_SLIDE = "nail_slide"
_HAMMER = "hammer"
_WOOD = (0.78, 0.62, 0.42, 1.0)
_WORLD = {"contype": CONTACT_WORLD, "conaffinity": CONTACT_WORLD}


@register_task(domain="workshop", family="manipulation", max_episode_steps=400)
class HammerNail(Task):
    """Use the hammer to drive the nail.

    **Description** — A hammer stands upright on its head on the workbench next to a wooden
    board with a nail sticking 3 cm out of it, and a screwdriver lies on the bench. The robot
    must pick the hammer up by its handle and drive the nail at least 2 cm into the board by
    striking its head. The G1's 5-DoF arm cannot swing a hammer reliably, so (documented
    simplification) the hammer is held with its handle vertical, head down, and the nail is
    driven with repeated fast downward strokes of the hammer head; the grasp is a physical
    friction pinch and the nail only moves through contact with the hammer.

    **Randomisation** — positions of the board (bench front, y over 0.8 m), the hammer (≥ 25 cm
    from the board) and the screwdriver (behind them); hammer yaw (±0.4 rad) and screwdriver yaw;
    robot start pose (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad); bench jitter and workshop colours;
    instruction template.

    **Success** — the nail's slide joint is driven ≥ 2 cm into the board (of its 3 cm
    stick-out) and the hammer is not on the floor. The board holds the nail with an 80 N
    friction loss: the nail does not move under the hammer's weight or a light touch, only under
    strikes (or a hard sustained press, which the physics cannot tell apart from a blow).

    **Failure** — the hammer falls to the floor.

    **Safety notes** — ``task`` cost while the hammer or screwdriver is on the floor; collisions
    with the bench and board and contact forces (strikes are short, hard contacts) are counted
    by the env.

    **Alternatives in the scene** — the screwdriver is a plausible but wrong tool; pressing the
    nail with the hand alone is too weak against the board's friction at the expert's speeds.

    **Version history** — v1 (2026-11): first release.
    """

    held_out_bodies = (_HAMMER,)  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "use the hammer to drive the nail",
            "hammer the nail into the board",
            "pick up the hammer and drive the nail in",
            "drive the nail into the wood with the hammer",
            "take the hammer and knock the nail down",
            "grab the hammer and pound the nail into the board",
        ),
        test=(
            "could you tap that nail flush using the hammer",
            "the nail sticks out, hit it in with the hammer please",
            "with the hammer, sink the nail into the plank",
        ),
    )
    layout: WorkshopLayout

    def build(self, spec: mujoco.MjSpec) -> None:
        """A board (mocap, parked) with a sliding nail, a free hammer and a screwdriver."""
        board = spec.worldbody.add_body(name=_BOARD, pos=[0, 0, props.PARK_Z], mocap=True)
        c.box(board, "nail_board_wood", (0.07, 0.09, BOARD_TOP / 2), (0, 0, BOARD_TOP / 2),
              rgba=_WOOD)
        nail = c.body(board, _NAIL, (0, 0, BOARD_TOP + NAIL_STICKOUT))
        nail.gravcomp = 1.0  # the board's grip carries the nail's weight (no soft-friction creep)
        nail.add_joint(name=_SLIDE, type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, 0, 1],
                       range=[-NAIL_STICKOUT + 0.002, 0.0], frictionloss=NAIL_FRICTION,
                       damping=5.0, armature=0.05)
        c.cylinder(nail, "nail_head", 0.012, 0.002, (0, 0, -0.002), rgba=(0.55, 0.56, 0.6, 1),
                   mass=0.01, **_WORLD)
        c.cylinder(nail, "nail_shank", 0.0025, 0.03, (0, 0, -0.034), rgba=(0.6, 0.61, 0.64, 1),
                   mass=0.01, collide=False)
        spec.add_exclude(bodyname1=_BOARD, bodyname2=_NAIL)

        hammer = c.body(spec.worldbody, _HAMMER, (0, 0, props.PARK_Z), free=True)
        z0 = -HAMMER_GRASP  # head bottom in body coordinates
        c.box(hammer, "hammer_head", (0.05, 0.024, 0.018), (0, 0, z0 + 0.018),
              rgba=(0.35, 0.36, 0.4, 1), mass=0.3, friction=[0.8, 0.01, 0.001], condim=4)
        c.capsule(hammer, "hammer_handle", 0.011, 0.095, (0, 0, z0 + 0.036 + 0.095),
                  rgba=(0.55, 0.35, 0.18, 1), mass=0.08, friction=[1.0, 0.01, 0.001], condim=4)
        c.cylinder(hammer, "hammer_grip", 0.0125, 0.04, (0, 0, z0 + 0.036 + 0.15),
                   rgba=(0.1, 0.1, 0.1, 1), collide=False, mass=0.0)

        sd = c.body(spec.worldbody, "screwdriver", (0.3, 0, props.PARK_Z), free=True)
        along_x = [0.5 ** 0.5, 0.0, 0.5 ** 0.5, 0.0]
        c.box(sd, "screwdriver_grip", (0.045, 0.013, 0.013), (-0.04, 0, 0),
              rgba=(0.85, 0.2, 0.1, 1), mass=0.06)
        c.capsule(sd, "screwdriver_shaft", 0.003, 0.05, (0.055, 0, 0), quat=along_x,
                  rgba=(0.7, 0.7, 0.72, 1), mass=0.02)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Board at the bench front, hammer upright beside it, screwdriver behind."""
        # Other tasks' props, out of the way.
        center, top = self.layout.bench_top(sim)
        front = center[0] - 0.3
        board_xy = np.array([front + 0.11, center[1] + rng.uniform(-0.5, 0.3)])
        side = 1.0 if rng.random() < 0.5 else -1.0
        if board_xy[1] + side * 0.35 > center[1] + 0.55 or board_xy[1] + side * 0.35 < \
                center[1] - 0.72:
            side = -side
        hammer_xy = np.array([front + rng.uniform(0.13, 0.19),
                              board_xy[1] + side * rng.uniform(0.27, 0.38)])
        sd_xy = np.array([front + rng.uniform(0.38, 0.5), center[1] + rng.uniform(-0.6, 0.5)])
        sim.set_mocap_pose(_BOARD, np.array([board_xy[0], board_xy[1], top]),
                           yaw=rng.uniform(-0.2, 0.2))
        sim.set_joint_qpos(_SLIDE, 0.0)
        sim.set_free_pose(_HAMMER, np.array([*hammer_xy, top + HAMMER_GRASP + 0.0005]),
                          yaw_quat(rng.uniform(-0.4, 0.4)))
        sim.set_free_pose("screwdriver", np.array([*sd_xy, top + 0.0135]),
                          yaw_quat(rng.uniform(-np.pi, np.pi)))
        self.top = top
        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(rng, phrasing)
        return self.instruction

    @staticmethod
    def depth(sim: Sim) -> float:
        """How far the nail has been driven in (m)."""
        return -sim.joint_qpos(_SLIDE)

    def evaluate(self, sim: Sim) -> Evaluation:
        """Nail driven ≥ 2 cm with the hammer still off the floor; a dropped hammer fails."""
        depth = self.depth(sim)
        fallen = [b for b in (_HAMMER, "screwdriver") if sim.body_pos(b)[2] < BENCH_TOP - 0.2]
        dropped = _HAMMER in fallen
        return Evaluation(
            success=depth >= DRIVE_DEPTH and not dropped,
            failure=dropped, failure_reason="hammer dropped" if dropped else None,
            task_cost=float(bool(fallen)), progress={"nail_depth_m": depth},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pick the hammer by its handle, carry it over the nail, strike down repeatedly."""
        rot = grasp_rotation(0.15)

        def over_nail(sim: Sim, up: float) -> np.ndarray:
            return sim.body_pos(_NAIL) + np.array([0, 0, HAMMER_GRASP + up])

        # The handle is pinched at the hammer's origin and the hammer lifted 12 cm.
        return Expert(pick_phases(_HAMMER, 0.0, rot=rot) + [
            Navigate(stand_at(_NAIL), tol=0.02, speed=0.5),
            Reach("right", lambda s: over_nail(s, 0.07), rot, tol=0.015, max_steps=50),
            Strike(self, rot),
            Reach("right", lambda s: over_nail(s, 0.1), rot, tol=0.03, max_steps=1000),
        ])


@dataclass
class Strike(Phase):
    """Repeated strokes: lift the hammer ``lift`` above the nail head, drive it down fast."""

    task: HammerNail
    rot: np.ndarray
    lift: float = 0.07
    below: float = 0.006
    max_steps: int = 200
    strokes: int = 0
    _down: bool = False
    _hold: int = 0
    _strike_z: float | None = None
    _xy: np.ndarray | None = None

    def reset(self) -> None:
        """Start over with the hammer up, aiming afresh."""
        self.strokes, self._down, self._hold = 0, False, 0
        self._strike_z, self._xy = None, None

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        nail = sim.body_pos(_NAIL)
        tcp = sim.tcp("right")
        if self._strike_z is None:
            # Each stroke aims at where the nail head is before it, through the hammer's
            # current hold (it may have slid or tilted in the pinch).
            head = sim.body_pos(_HAMMER) - HAMMER_GRASP * sim.body_mat(_HAMMER)[:, 2]
            self._strike_z = nail[2] + (tcp[2] - head[2])
            self._xy = nail[:2] + (tcp[:2] - head[:2])
        strike_z = self._strike_z
        if self._down:
            goal = np.array([*self._xy, strike_z - self.below])
            if tcp[2] < strike_z + 0.003 or self._hold > 0:
                self._hold += 1
                if self._hold >= 3:
                    self._down, self._hold = False, 0
                    self.strokes += 1
        else:
            goal = np.array([*self._xy, strike_z + self.lift])
            if tcp[2] > strike_z + self.lift - 0.015:
                self._down, self._strike_z = True, None
        pos_r = sim.to_robot_frame(goal)
        done = self.task.depth(sim) >= DRIVE_DEPTH + 0.003
        return Command(base=np.zeros(3), tcp={"right": (pos_r, self.rot)}, speed=1.0), done
