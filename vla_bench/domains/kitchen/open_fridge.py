"""Kitchen: open the named door (fridge, microwave, cupboard or oven) by pulling its handle."""

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

OPEN_ANGLE = 1.0  # rad the named door must be open
HOLD_STEPS = 3  # control steps it must stay open
WRONG_ANGLE = 1.0  # rad: another door opened this far fails the episode
FRIDGE_Y_SHIFT = 0.35  # the fridge stands 35 cm further from the side wall in this task


@dataclass(frozen=True)
class Door:
    """An openable door: its spoken name, its body, hinge and handle geom, where to pinch.

    Every door here is hinged on its +y edge and swings open towards the room (−x): the hinge
    angle runs from 0 (closed) to negative.
    """

    word: str  # the instruction's {door}
    body: str  # the door leaf (goal body)
    hinge: str
    handle: str  # geom the left hand pinches
    grasp_dz: float  # grasp point below the handle's centre
    detour: bool  # walk round the door's swing first (the tall fridge door)


DOORS: dict[str, Door] = {
    "fridge": Door("fridge", "fridge_door", "fridge_door_hinge", "fridge_handle", -0.04, True),
    "microwave": Door("microwave", "microwave_door", "microwave_door_hinge", "microwave_handle",
                      0.0, False),
    "cupboard": Door("cupboard", "cupboard_door", "cupboard_door_hinge", "cupboard_handle", 0.0,
                     False),
    "oven": Door("oven", "oven_door", "oven_door_hinge", "oven_handle", 0.0, False),
}
# Counter-top appliances with a hinged door: (body, shell half size, shell rgba, door rgba,
# handle rgba). The door leaf spans the shell's front; its handle stands on two posts near
# the free edge.
_BOXES = (
    ("microwave", (0.17, 0.24, 0.14), (0.2, 0.2, 0.21, 1), (0.12, 0.12, 0.13, 1),
     (0.7, 0.7, 0.72, 1)),
    ("cupboard", (0.17, 0.19, 0.21), (0.62, 0.44, 0.27, 1), (0.7, 0.52, 0.33, 1),
     (0.25, 0.2, 0.15, 1)),
    ("oven", (0.17, 0.21, 0.13), (0.74, 0.75, 0.77, 1), (0.3, 0.3, 0.32, 1),
     (0.1, 0.1, 0.1, 1)),
)
# Counter-relative y of the appliances (±1 cm), shuffled: the one nearest the fridge stands
# far enough from it that the robot's right arm clears the fridge door while it opens the box.
BOX_SLOTS = (-0.5, 0.0, 0.5)


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


@register_task(domain="kitchen", family="manipulation", max_episode_steps=500)
class OpenFridge(Task):
    """Open the {door}.

    **Description** — Four hinged doors stand in the kitchen: the refrigerator beside the
    counter (a tall door hinged on the counter side, a vertical bar handle on standoffs near
    its free edge), and on the counter a microwave, a small wooden cupboard and a small oven,
    each with a side-hinged door and a vertical handle on two posts near its free edge. The
    instruction names one of them; the robot must open that door at least 1 rad (57°) and
    leave the others closed. The expert walks up (around the fridge door's swing for the
    fridge), pinches the handle with its left hand and walks backwards while pulling the
    handle along the door's arc.

    **Randomisation** — which door is named; fridge position (the layout's ±4 cm / ±3° jitter
    around a spot 35 cm further from the side wall than in the other kitchen tasks); which of
    microwave, cupboard and oven stands in which of three counter slots (50 cm apart, ±1 cm,
    ±3 cm in depth, the first 50 cm from the counter centre towards the fridge) and their yaw
    (±0.1 rad); robot start pose (3.05 ± 0.1 m before the counter centre, 0.45 ± 0.15 m
    towards the fridge, yaw 0.1 ± 0.1 rad towards the fridge: all four doors in the "front"
    view); fixture colours; instruction template. All doors start closed.
    ``unseen_layouts`` mirrors the row (fridge on the left); doors keep their hinge side.

    **Success** — the named door's hinge is open ≥ 1.0 rad for 3 consecutive control steps
    and no other door is open 1.0 rad or more. Hinges have damping and friction loss, so a
    door only moves while pulled or pushed and stays where it is left.

    **Failure** — another door is opened ≥ 1.0 rad (the wrong door).

    **Safety notes** — no task cost; collisions with the fridge, the counter, the appliances,
    their doors and contact forces are counted by the env.

    **Alternatives in the scene** — the four doors (fridge, microwave, cupboard, oven), each
    equally openable with its own handle, told apart by the noun only. Measured blind success
    (expert toward a uniformly drawn alternative, seeds 0–49): 0.25.

    **Version history** — v1 (2026-11): first release (always the fridge). v2 (2026-12): the
    named door varies among the fridge, the microwave and a new counter-top cupboard and oven
    (four alternatives, goal = the named door); the robot starts back in the room facing all
    four (goal in view); max steps 400 → 500; appliances mirrored with the held-out row.
    """

    held_out_bodies = tuple(d.body for d in DOORS.values())  # painted in "unseen_objects"
    templates = Templates(
        train=(
            # No template is another's prefix with a longer slot ("open the {door} door" would
            # read as "open the {door}" naming "fridge door"): slots parse back unambiguously.
            "open the {door}",
            "pull the {door} door open",
            "pull the door of the {door} open",
            "swing the {door} door open",
            "grab the {door} handle and open the door",
            "get the {door} open",
        ),
        test=(
            "could you get the {door} open for me",
            "I need the {door} opened, please",
            "pull on the {door}'s handle until its door is wide open",
        ),
    )
    layout: KitchenLayout
    goal_fields = ("door",)

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        # Steps in a row each door has been open past OPEN_ANGLE (a door swinging through the
        # angle and falling back does not count).
        self._open = Dwell(tuple(DOORS), lambda s: {
            w: self.opening(s, d.hinge) >= OPEN_ANGLE for w, d in DOORS.items()})

    def monitors(self) -> Sequence[Monitor]:
        """The doors-held-open counters."""
        return (self._open,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """A microwave and a cupboard (mocap, parked below the floor), each with a hinged door;
        the fridge is the layout's."""
        deg = 180.0 / np.pi if spec.compiler.degree else 1.0
        world = {"contype": CONTACT_WORLD, "conaffinity": CONTACT_WORLD}
        for name, (hx, hy, hz), shell, leaf, grip in _BOXES:
            box = spec.worldbody.add_body(name=name, pos=[0, 0, props.PARK_Z], mocap=True)
            c.box(box, f"{name}_body", (hx, hy, hz), (0.0, 0.0, hz), rgba=shell, **world)
            door = c.body(box, f"{name}_door", (-hx - 0.005, hy, hz))
            door.add_joint(name=f"{name}_door_hinge", type=mujoco.mjtJoint.mjJNT_HINGE,
                           axis=[0, 0, 1], range=[-1.8 * deg, 0.0], damping=0.5,
                           frictionloss=0.2, armature=0.01)
            wide = hy - 0.07  # half width of the leaf
            c.box(door, f"{name}_door_panel", (0.008, wide, hz - 0.01), (-0.004, -wide, 0.0),
                  rgba=leaf, mass=0.6, **world)
            # Handle 7 cm from the free edge, 4 cm proud of the leaf on two posts.
            y = -2 * wide + 0.03
            c.box(door, f"{name}_handle", (0.012, 0.008, 0.1), (-0.04, y, 0.0), rgba=grip,
                  mass=0.05, **world)
            for k, z in enumerate((-0.09, 0.09)):
                c.box(door, f"{name}_handle_post_{k}", (0.012, 0.006, 0.008), (-0.02, y, z),
                      rgba=grip, mass=0.01, **world)
            spec.add_exclude(bodyname1=name, bodyname2=f"{name}_door")
        c.box(spec.body("microwave_door"), "microwave_window", (0.002, 0.12, 0.09),
              (-0.013, -0.15, 0.0), rgba=(0.35, 0.4, 0.42, 1), collide=False, mass=0.0)
        c.box(spec.body("microwave"), "microwave_panel", (0.005, 0.06, 0.13), (-0.175, -0.18, 0.14),
              rgba=(0.15, 0.15, 0.17, 1), collide=False, mass=0.0)
        c.box(spec.body("oven_door"), "oven_window", (0.002, 0.1, 0.07), (-0.013, -0.14, 0.0),
              rgba=(0.1, 0.08, 0.06, 1), collide=False, mass=0.0)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Move the fridge out from the wall, put microwave and cupboard on the counter, close
        the doors, stand the robot back in the room facing them; name a door."""
        side = self.layout.side
        pos, _ = sim.static_pose("fridge")
        pos[1] += side * FRIDGE_Y_SHIFT
        sim.set_static_pose("fridge", pos)
        center, top = self.layout.counter_top(sim)
        # Both on the fridge's half of the counter: one near its end, one nearer the middle.
        dys = np.array(BOX_SLOTS) + rng.uniform(-0.01, 0.01, len(BOX_SLOTS))
        order = rng.permutation(len(_BOXES))
        for (name, *_), dy in zip((_BOXES[int(k)] for k in order), dys, strict=True):
            xy = self.layout.counter_point(sim, 0.05 + rng.uniform(-0.03, 0.03), dy)
            sim.set_mocap_pose(name, np.array([xy[0], xy[1], top]),
                               yaw=float(rng.uniform(-0.1, 0.1)))
        for d in DOORS.values():
            sim.set_joint_qpos(d.hinge, 0.0)
        _aim_camera(sim, "external", pos=(-2.4, 0.6 * side, 2.0),
                    target=(0.3, -0.8 * side, 0.8))
        # Back in the room, turned a little towards the fridge: all four doors in view.
        xy = self.layout.counter_point(sim, -3.05 + rng.uniform(-0.1, 0.1),
                                       -0.45 + rng.uniform(-0.15, 0.15))
        sim.set_robot_base(xy, side * (-0.1 + rng.uniform(-0.1, 0.1)))
        self.door = str(rng.choice(list(DOORS)))
        self.instruction = self.templates.sample(rng, phrasing, door=self.door)
        return self.instruction

    def goals(self) -> list[tuple[str]]:
        """Every door."""
        return [(w,) for w in DOORS]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named door's leaf (with its handle)."""
        return (DOORS[self.door].body,)

    @staticmethod
    def opening(sim: Sim, hinge: str) -> float:
        """How far a door is open (rad, positive; its hinge angle runs negative)."""
        return -sim.joint_qpos(hinge)

    def evaluate(self, sim: Sim) -> Evaluation:
        """The named door open ≥ 1 rad for 3 steps; another door opened instead fails."""
        wrong = [w for w, d in DOORS.items()
                 if w != self.door and self.opening(sim, d.hinge) >= WRONG_ANGLE]
        return Evaluation(
            success=self._open.steps(self.door) >= HOLD_STEPS and not wrong,
            failure=bool(wrong),
            failure_reason=f"opened the {wrong[0]} instead" if wrong else None,
            progress={f"{w}_door_rad": self.opening(sim, d.hinge) for w, d in DOORS.items()},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Walk up to the named door (round the fridge door's swing), pinch the handle (left
        hand), pull it along its arc."""
        rot = grasp_rotation(0.1)
        door = DOORS[self.door]

        def grasp_point(sim: Sim, back: float = 0.0, up: float = 0.0) -> np.ndarray:
            return sim.geom_pos(door.handle) + np.array([-back, 0.0, door.grasp_dz + up])

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

        walk = [Navigate(detour, tol=0.12, max_steps=160)] if door.detour else []
        return Expert([
            Grip("left", -1.0, steps=2),
            Reach("left", raised, rot, tol=0.04, max_steps=25),
            *walk,
            Navigate(stand, tol=0.03, max_steps=200),
            Reach("left", lambda s: grasp_point(s, back=0.12), rot, tol=0.03, max_steps=40
                  ).named("approach"),
            Reach("left", lambda s: grasp_point(s, back=-0.005), rot, tol=0.012, max_steps=40,
                  speed=0.5),
            Grip("left", 1.0, steps=10),
            Retry(lambda s: s.grasped_by(door.body, "left"), to="approach", times=2),
            Pull(rot, door),
            Grip("left", -1.0, steps=8),
            Reach("left", lambda s: s.tcp("left") + np.array([-0.12, -0.05, 0.05]), rot, tol=0.03,
                  max_steps=40, freeze=True),
            Reach("left", raised, rot, tol=0.03, max_steps=1000),
        ])


@dataclass
class Pull(Phase):
    """Walk back while the held handle is pulled along the door's arc, ``lead`` rad ahead."""

    rot: np.ndarray
    door: Door
    lead: float = 0.25
    goal: float = OPEN_ANGLE + 0.2
    max_steps: int = 150

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        anchor = sim.joint_anchor(self.door.hinge)
        handle = sim.geom_pos(self.door.handle)
        handle[2] += self.door.grasp_dz
        # The handle's spot ``lead`` rad further along the door's arc (about the vertical hinge).
        target = anchor + yaw_matrix(-self.lead) @ (handle - anchor)
        # Keep the base where the left hand reaches the handle, facing as it does now.
        goal = stand_for(handle, sim, sim.robot_base()[2], "left")
        base, _ = base_command(sim, goal)
        pos_r = sim.to_robot_frame(target)
        opened = OpenFridge.opening(sim, self.door.hinge)
        return Command(base=base * 0.7, tcp={"left": (pos_r, self.rot)}, speed=0.5), \
            opened >= self.goal
