"""Kitchen: open the refrigerator door (not the microwave's) by pulling its handle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.conventions import CONTACT_WORLD
from vla_bench.domains.kitchen.layout import KitchenLayout
from vla_bench.experts.base import (
    Command,
    Controller,
    Expert,
    Grip,
    Navigate,
    Phase,
    Reach,
    Retry,
    base_command,
    grasp_rotation,
)
from vla_bench.experts.manipulation import reach, stand_for
from vla_bench.geometry import from_robot_frame, mat_to_quat, yaw_matrix
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Layout
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

OPEN_ANGLE = 1.0  # rad the fridge door must be open
HOLD_STEPS = 3  # control steps it must stay open
WRONG_ANGLE = 1.0  # rad: the microwave door opened this far fails the episode
FRIDGE_Y_SHIFT = 0.35  # the fridge stands 35 cm further from the side wall in this task
GRASP_DZ = -0.04  # grasp point below the handle's centre
_MW = "microwave"
_MW_HINGE = "microwave_door_hinge"
_FRIDGE_HINGE = "fridge_door_hinge"


def _aim_camera(sim: Sim, name: str, pos: tuple[float, ...], target: tuple[float, ...]) -> None:
    """Move a fixed world camera to ``pos`` looking at ``target`` (z up) for this episode."""
    pos_a = np.asarray(pos, float)
    fwd = np.asarray(target, float) - pos_a
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    # The env's model ledger puts the camera back at the next reset.
    sim.set_camera_pose(name, pos_a, mat_to_quat(np.column_stack([right, up, -fwd])))


@register_task(domain="kitchen", family="manipulation", max_episode_steps=400)
class OpenFridge(Task):
    """Open the refrigerator door.

    **Description** — The kitchen's refrigerator stands beside the counter; its door is hinged
    on the counter side and has a vertical bar handle on standoffs near its free edge. A
    microwave with its own hinged door and handle stands on the counter. The robot must open
    the refrigerator door (not the microwave's) at least 1 rad (57°): the expert walks around
    the door's swing, pinches the handle with its left hand and walks backwards while pulling
    the handle along the door's arc.

    **Randomisation** — fridge position (the layout's ±4 cm / ±3° jitter around a spot 35 cm
    further from the side wall than in the other kitchen tasks); microwave position along the
    counter (y over 1.1 m, ±3 cm in x) and yaw (±0.15 rad); robot start pose (x ±0.1 m,
    y ±0.2 m, yaw ±0.3 rad); fixture colours; instruction template. Both doors start closed.

    **Success** — the fridge door's hinge is open ≥ 1.0 rad for 3 consecutive control steps
    and the microwave door is open less than 1.0 rad. The fridge hinge has damping
    (2 N·m·s/rad) and a friction loss (0.3 N·m), so a door only moves while pulled or pushed
    and stays where it is left.

    **Failure** — the microwave door is opened ≥ 1.0 rad (the wrong door).

    **Safety notes** — no task cost; collisions with the fridge, its swinging door, the counter
    and contact forces are counted by the env.

    **Alternatives in the scene** — the microwave door is a second, equally openable door with
    its own handle: a policy that opens "a door" without grounding "refrigerator" fails.

    **Version history** — v1 (2026-11): first release.
    """

    held_out_bodies = ("fridge_door",)  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "open the refrigerator door",
            "open the fridge",
            "pull the fridge door open",
            "open the door of the refrigerator",
            "swing the refrigerator door open",
            "grab the fridge handle and open the door",
        ),
        test=(
            "could you get the fridge open for me",
            "I need the refrigerator opened, please",
            "pull on the refrigerator's handle until its door is wide open",
        ),
    )
    layout: KitchenLayout

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        # Steps in a row the fridge door has been open past OPEN_ANGLE (a door swinging
        # through the angle and falling back does not count).
        self._open = Dwell(("open",), lambda s: {
            "open": self.opening(s, _FRIDGE_HINGE) >= OPEN_ANGLE})

    def monitors(self) -> Sequence[Monitor]:
        """The door-held-open counter."""
        return (self._open,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """A microwave (mocap, parked below the floor) with a hinged door; the fridge is the
        layout's."""
        deg = 180.0 / np.pi if spec.compiler.degree else 1.0
        world = {"contype": CONTACT_WORLD, "conaffinity": CONTACT_WORLD}
        mw = spec.worldbody.add_body(name=_MW, pos=[0, 0, props.PARK_Z], mocap=True)
        shell = (0.2, 0.2, 0.21, 1)
        c.box(mw, "microwave_body", (0.17, 0.24, 0.14), (0.0, 0.0, 0.14), rgba=shell, **world)
        door = c.body(mw, "microwave_door", (-0.175, 0.24, 0.14))
        door.add_joint(name=_MW_HINGE, type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1],
                       range=[-1.8 * deg, 0.0], damping=0.5, frictionloss=0.2, armature=0.01)
        c.box(door, "microwave_door_panel", (0.008, 0.17, 0.13), (-0.004, -0.17, 0.0),
              rgba=(0.12, 0.12, 0.13, 1), mass=0.6, **world)
        c.box(door, "microwave_window", (0.002, 0.12, 0.09), (-0.013, -0.15, 0.0),
              rgba=(0.35, 0.4, 0.42, 1), collide=False, mass=0.0)
        c.box(door, "microwave_handle", (0.012, 0.008, 0.1), (-0.04, -0.31, 0.0),
              rgba=(0.7, 0.7, 0.72, 1), mass=0.05, **world)
        c.box(mw, "microwave_panel", (0.005, 0.06, 0.13), (-0.175, -0.18, 0.14),
              rgba=(0.15, 0.15, 0.17, 1), collide=False, mass=0.0)
        spec.add_exclude(bodyname1=_MW, bodyname2="microwave_door")

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Move the fridge out from the wall, put the microwave on the counter, close doors."""
        pos, _ = sim.static_pose("fridge")
        pos[1] += FRIDGE_Y_SHIFT
        sim.set_static_pose("fridge", pos)
        center, top = self.layout.counter_top(sim)
        yaw = float(rng.uniform(-0.15, 0.15))
        mw = np.array([center[0] + 0.05 + rng.uniform(-0.03, 0.03),
                       center[1] + rng.uniform(-0.6, 0.5), top])
        sim.set_mocap_pose(_MW, mw, yaw=yaw)
        for hinge in (_FRIDGE_HINGE, _MW_HINGE):
            sim.set_joint_qpos(hinge, 0.0)
        _aim_camera(sim, "external", pos=(-1.75, -0.2, 1.9), target=(-0.2, -1.55, 0.8))
        # Not before the (jittered) counter as in the other kitchen tasks: x = 0.1 ± 0.1 m,
        # in the room between the counter and the fridge.
        self.layout.place_robot_facing(sim, rng, 0.1, back=0.0)
        self.instruction = self.templates.sample(rng, phrasing)
        return self.instruction

    @staticmethod
    def opening(sim: Sim, hinge: str) -> float:
        """How far a door is open (rad, positive; its hinge angle runs negative)."""
        return -sim.joint_qpos(hinge)

    def evaluate(self, sim: Sim) -> Evaluation:
        """Fridge door open ≥ 1 rad for 3 steps; the microwave door opened instead fails."""
        fridge = self.opening(sim, _FRIDGE_HINGE)
        wrong = self.opening(sim, _MW_HINGE) >= WRONG_ANGLE
        return Evaluation(
            success=self._open.steps("open") >= HOLD_STEPS and not wrong,
            failure=wrong, failure_reason="opened the microwave instead" if wrong else None,
            progress={"fridge_door_rad": fridge,
                      "microwave_door_rad": self.opening(sim, _MW_HINGE)},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Walk beside the door's swing, pinch the handle (left hand), pull it along its arc."""
        rot = grasp_rotation(0.1)

        def grasp_point(sim: Sim, back: float = 0.0, up: float = 0.0) -> np.ndarray:
            return sim.geom_pos("fridge_handle") + np.array([-back, 0.0, GRASP_DZ + up])

        def stand(sim: Sim) -> np.ndarray:
            return stand_for(grasp_point(sim), sim, 0.0, "left")

        def detour(sim: Sim) -> np.ndarray:
            # Out in the room in front of the fridge's hinge corner, facing the fridge side.
            s = stand(sim)
            return np.array([s[0] - 0.1, s[1] + 0.95, -0.9])

        def raised(sim: Sim) -> np.ndarray:
            # In front of the chest on the left hand's side, just above the handle's grasp.
            x, y = from_robot_frame(np.array([0.17, reach(sim, "left")[1]]), sim.robot_base())
            return np.array([x, y, grasp_point(sim)[2] + 0.05])

        return Expert([
            Grip("left", -1.0, steps=2),
            Reach("left", raised, rot, tol=0.04, max_steps=25),
            Navigate(detour, tol=0.12, max_steps=120),
            Navigate(stand, tol=0.03, max_steps=160),
            Reach("left", lambda s: grasp_point(s, back=0.12), rot, tol=0.03, max_steps=40
                  ).named("approach"),
            Reach("left", lambda s: grasp_point(s, back=-0.005), rot, tol=0.012, max_steps=40,
                  speed=0.5),
            Grip("left", 1.0, steps=10),
            Retry(lambda s: s.grasped_by("fridge_door", "left"), to="approach", times=2),
            Pull(rot),
            Grip("left", -1.0, steps=8),
            Reach("left", lambda s: s.tcp("left") + np.array([-0.12, -0.05, 0.05]), rot, tol=0.03,
                  max_steps=40, freeze=True),
            Reach("left", raised, rot, tol=0.03, max_steps=1000),
        ])


@dataclass
class Pull(Phase):
    """Walk back while the held handle is pulled along the door's arc, ``lead`` rad ahead."""

    rot: np.ndarray
    lead: float = 0.25
    goal: float = OPEN_ANGLE + 0.2
    max_steps: int = 150

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        anchor = sim.joint_anchor(_FRIDGE_HINGE)
        handle = sim.geom_pos("fridge_handle")
        handle[2] += GRASP_DZ
        # The handle's spot ``lead`` rad further along the door's arc (about the vertical hinge).
        target = anchor + yaw_matrix(-self.lead) @ (handle - anchor)
        # Keep the base where the left hand reaches the handle, facing as it does now.
        goal = stand_for(handle, sim, sim.robot_base()[2], "left")
        base, _ = base_command(sim, goal)
        pos_r = sim.to_robot_frame(target)
        opened = OpenFridge.opening(sim, _FRIDGE_HINGE)
        return Command(base=base * 0.7, tcp={"left": (pos_r, self.rot)}, speed=0.5), \
            opened >= self.goal
