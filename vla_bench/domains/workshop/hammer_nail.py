"""Workshop: pick up the named tool and drive the named nail into its board with strokes."""

from __future__ import annotations

from collections.abc import Sequence
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
from vla_bench.monitors import Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Layout
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

DRIVE_DEPTH = 0.02  # m the named nail must be driven in by the named tool
WRONG_DEPTH = 0.01  # m another nail driven in (by anything): the wrong nail, a failure
NAIL_STICKOUT = 0.03  # m of nail above the board at the start
NAIL_FRICTION = 80.0  # N: the board's grip on the nail (slide joint friction loss)
BOARD_TOP = 0.04  # board top above the bench top
BOARD_HALF = 0.06  # boards are square, this half side
HAMMER_GRASP = 0.07  # grasp point (hammer origin) above the bottom of its head
N_NAILS = 4  # one board per nail; each nail's head has its own colour
_BOARDS = tuple(f"nail_board_{k}" for k in range(N_NAILS))
_NAILS = tuple(f"nail_{k}" for k in range(N_NAILS))
_SLIDES = tuple(f"{n}_slide" for n in _NAILS)
TOOLS = ("hammer", "mallet")  # alike in size and weight; the mallet has a round rubber head
_HEADS = tuple(f"{t}_head" for t in TOOLS)
_WOOD = (0.78, 0.62, 0.42, 1.0)
_WORLD = {"contype": CONTACT_WORLD, "conaffinity": CONTACT_WORLD}


def depth(sim: Sim, k: int) -> float:
    """How far nail ``k`` has been driven in (m)."""
    return -sim.joint_qpos(_SLIDES[k])


class Hammered:
    """How far each nail has been driven while each tool's head touched it.

    ``depth[j, k]`` is nail ``k``'s travel under tool ``j`` (:data:`TOOLS`). A control step's
    travel of a nail counts for a tool when the tool's head touched that nail's head at the
    step's start or at its end (a blow drives the nail within the step and may bounce off by
    its end); travel from a push by the hand or anything else does not count.
    """

    def __init__(self) -> None:
        self.depth = np.zeros((len(TOOLS), N_NAILS))
        self._last = np.zeros(N_NAILS)
        self._touch = np.zeros((len(TOOLS), N_NAILS), bool)

    @staticmethod
    def _touching(sim: Sim) -> np.ndarray:
        return np.array([[sim.in_contact(np.array([sim.geom_id(h)]), sim.body_geoms(n))
                          for n in _NAILS] for h in _HEADS])

    def reset(self, sim: Sim) -> None:
        """Nothing hammered yet; the nails' start depths."""
        self.depth = np.zeros((len(TOOLS), N_NAILS))
        self._last = np.array([depth(sim, k) for k in range(N_NAILS)])
        self._touch = self._touching(sim)

    def update(self, sim: Sim) -> None:
        """Add each touched nail's travel this step to the touching tool."""
        now = np.array([depth(sim, k) for k in range(N_NAILS)])
        touch = self._touching(sim)
        self.depth += np.where(touch | self._touch, np.maximum(now - self._last, 0.0), 0.0)
        self._last, self._touch = now, touch


@register_task(domain="workshop", family="manipulation", max_episode_steps=400)
class HammerNail(Task):
    """Use the {tool} to drive the {nail}.

    **Description** — Four small wooden boards stand in a row along the front of the workbench,
    each with a nail sticking 3 cm out of it; the nails' heads have four different colours. A
    hammer (bare steel head, brown handle) and a mallet (black rubber head, pale handle) stand
    upright on their heads at the two ends of the row, and a screwdriver lies further back. The
    instruction names a tool and a nail by its colour: the robot must pick that tool up by its
    handle and drive that nail at least 2 cm into its board by striking its head with the
    tool. Documented simplification: the tool is held with its handle vertical, head down, and
    the nail is driven with repeated fast downward strokes of the tool's head, not a swing (the
    stroke was designed for the 23-DoF G1's 5-DoF arm, which could not swing a hammer reliably;
    a swing about the 29-DoF G1's wrist is not attempted); the grasp is a physical friction pinch and a nail only
    moves through contact. The two tools strike alike (same head size and weight): the words,
    not the physics, decide which one to use.

    **Randomisation** — which tool and which nail are named; the nails' head colours (the four
    training colours, or the four held-out ones in ``unseen_objects``, in random order); the
    row's position along the bench front and its spacing (0.2–0.22 m), which tool stands at
    which end; board yaws (±0.2 rad), the tools' depths and yaws (±0.4 rad); the screwdriver's
    place behind the row and its yaw; robot start pose (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad);
    bench jitter and workshop colours; instruction template.

    **Success** — the named nail has been driven ≥ 2 cm into its board (of its 3 cm stick-out)
    *while the named tool's head touched it* (a control step's travel counts if the head
    touched the nail at the step's start or end; a push by the hand or anything else adds
    nothing), and the named tool is not on the floor. The boards hold the nails with an 80 N
    friction loss: a nail does not move under a tool's weight or a light touch, only under
    strikes (or a hard sustained press of the tool, which the physics cannot tell apart from a
    blow).

    **Failure** — the named tool falls to the floor; another nail is driven 1 cm in (by
    anything); the named nail is driven 1 cm in by the other tool's head.

    **Safety notes** — ``task`` cost while a tool or the screwdriver is on the floor;
    collisions with the bench and boards and contact forces (strikes are short, hard contacts)
    are counted by the env.

    **Alternatives in the scene** — eight goals: either tool on each of the four nails (alike
    but for their heads' colours); only the words tell which tool and which nail (the
    screwdriver is a further plausible but wrong tool). Measured blind success (expert toward
    a uniformly drawn alternative, seeds 0–49): 0.12.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four nails named by
    colour and a second tool, a mallet, named too (eight goals that vary per episode) instead
    of one nail and one hammer; travel counts only while the named tool's head touches the
    nail; driving another nail, or the named one with the other tool, fails.
    """

    templates = Templates(
        train=(
            "use the {tool} to drive the {nail}",
            "drive the {nail} into the board with the {tool}",
            "pick up the {tool} and drive the {nail} in",
            "with the {tool}, drive the {nail} into the wood",
            "take the {tool} and knock the {nail} down",
            "grab the {tool} and pound the {nail} into the board",
        ),
        test=(
            "could you tap that {nail} flush using the {tool}",
            "the {nail} sticks out, hit it in with the {tool} please",
            "sink the {nail} into the plank by means of the {tool}",
        ),
    )
    layout: WorkshopLayout
    goal_fields = ("tool", "color")

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        self.hammered = Hammered()

    def monitors(self) -> Sequence[Monitor]:
        """The travel each nail made under each tool."""
        return (self.hammered,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Boards (mocap, parked) with sliding nails, a free hammer and mallet, a screwdriver."""
        for board_name, nail_name, slide in zip(_BOARDS, _NAILS, _SLIDES, strict=True):
            board = spec.worldbody.add_body(name=board_name, pos=[0, 0, props.PARK_Z],
                                            mocap=True)
            c.box(board, f"{board_name}_wood", (BOARD_HALF, BOARD_HALF, BOARD_TOP / 2),
                  (0, 0, BOARD_TOP / 2), rgba=_WOOD)
            nail = c.body(board, nail_name, (0, 0, BOARD_TOP + NAIL_STICKOUT))
            nail.gravcomp = 1.0  # the board's grip carries the nail's weight (no creep)
            nail.add_joint(name=slide, type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, 0, 1],
                           range=[-NAIL_STICKOUT + 0.002, 0.0], frictionloss=NAIL_FRICTION,
                           damping=5.0, armature=0.05)
            c.cylinder(nail, f"{nail_name}_head", 0.014, 0.002, (0, 0, -0.002),
                       rgba=(0.55, 0.56, 0.6, 1), mass=0.01, **_WORLD)
            c.cylinder(nail, f"{nail_name}_shank", 0.0025, 0.03, (0, 0, -0.034),
                       rgba=(0.6, 0.61, 0.64, 1), mass=0.01, collide=False)
            spec.add_exclude(bodyname1=board_name, bodyname2=nail_name)

        for tool in TOOLS:
            self._build_tool(spec, tool)

        sd = c.body(spec.worldbody, "screwdriver", (0.3, 0, props.PARK_Z), free=True)
        along_x = [0.5 ** 0.5, 0.0, 0.5 ** 0.5, 0.0]
        c.box(sd, "screwdriver_grip", (0.045, 0.013, 0.013), (-0.04, 0, 0),
              rgba=(0.85, 0.2, 0.1, 1), mass=0.06)
        c.capsule(sd, "screwdriver_shaft", 0.003, 0.05, (0.055, 0, 0), quat=along_x,
                  rgba=(0.7, 0.7, 0.72, 1), mass=0.02)

    @staticmethod
    def _build_tool(spec: mujoco.MjSpec, tool: str) -> None:
        """A hammer or a mallet (free; origin: the grasp point). Both strike with the same
        box head and weigh the same; the mallet's head is dressed as a black rubber drum (a
        visual cylinder around the box) on a pale handle, the hammer's is bare steel."""
        b = c.body(spec.worldbody, tool, (0, 0, props.PARK_Z), free=True)
        z0 = -HAMMER_GRASP  # head bottom in body coordinates
        mallet = tool == "mallet"
        c.box(b, f"{tool}_head", (0.05, 0.024, 0.018), (0, 0, z0 + 0.018),
              rgba=(0.1, 0.1, 0.11, 1) if mallet else (0.35, 0.36, 0.4, 1), mass=0.3,
              friction=[0.8, 0.01, 0.001], condim=4)
        if mallet:
            c.cylinder(b, "mallet_drum", 0.03, 0.05, (0, 0, z0 + 0.03), rgba=(0.1, 0.1, 0.11, 1),
                       quat=[0.5 ** 0.5, 0.0, 0.5 ** 0.5, 0.0], collide=False, mass=0.0)
        c.capsule(b, f"{tool}_handle", 0.011, 0.095, (0, 0, z0 + 0.036 + 0.095),
                  rgba=(0.85, 0.72, 0.5, 1) if mallet else (0.55, 0.35, 0.18, 1), mass=0.08,
                  friction=[1.0, 0.01, 0.001], condim=4)
        c.cylinder(b, f"{tool}_grip", 0.0125, 0.04, (0, 0, z0 + 0.036 + 0.15),
                   rgba=(0.1, 0.1, 0.1, 1), collide=False, mass=0.0)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Boards, hammer and mallet in a row at the bench front, screwdriver behind; name a
        tool and a nail."""
        center, top = self.layout.bench_top(sim)
        front = center[0] - 0.3
        spacing = rng.uniform(0.2, 0.22)
        first = center[1] + rng.uniform(-0.7, 0.5 - (N_NAILS + 1) * spacing)
        # The tools stand at the two ends of the row (in random order), the boards between
        # them: a tool carried to any nail then never passes over the other, standing tool.
        row = first + spacing * np.arange(N_NAILS + len(TOOLS))
        places = np.concatenate([rng.permutation(row[[0, -1]]), row[1:-1]])
        colors = [str(x) for x in rng.permutation(props.color_pool(self.held_out_objects))]
        for k, (board, y) in enumerate(zip(_BOARDS, places[len(TOOLS):], strict=True)):
            sim.set_mocap_pose(board, np.array([front + 0.11, y, top]),
                               yaw=rng.uniform(-0.2, 0.2))
            sim.set_joint_qpos(_SLIDES[k], 0.0)
            rgba = np.array(props.COLORS[colors[k]])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(f"{_NAILS[k]}_head", rgba)
        self.color_of = dict(zip(_NAILS, colors, strict=True))
        for tool, y in zip(TOOLS, places[:len(TOOLS)], strict=True):
            xy = np.array([front + rng.uniform(0.13, 0.19), y])
            sim.set_free_pose(tool, np.array([*xy, top + HAMMER_GRASP + 0.0005]),
                              yaw_quat(rng.uniform(-0.4, 0.4)))
        sd_xy = np.array([front + rng.uniform(0.38, 0.5), center[1] + rng.uniform(-0.6, 0.5)])
        sim.set_free_pose("screwdriver", np.array([*sd_xy, top + 0.0135]),
                          yaw_quat(rng.uniform(-np.pi, np.pi)))
        self.top = top
        self.color = colors[int(rng.integers(N_NAILS))]
        self.tool = TOOLS[int(rng.integers(len(TOOLS)))]
        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(rng, phrasing, tool=self.tool,
                                                 nail=f"{self.color} nail")
        return self.instruction

    # -- goals -------------------------------------------------------------------------------
    def goals(self) -> Sequence[tuple[str, str]]:
        """Either tool on each of the four nails (by colour): eight."""
        return [(tool, self.color_of[n]) for tool in TOOLS for n in _NAILS]

    @property
    def nail(self) -> str:
        """The named nail's body."""
        return next(n for n in _NAILS if self.color_of[n] == self.color)

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named nail's board (the nail is part of it) and the named tool."""
        return (_BOARDS[_NAILS.index(self.nail)], self.tool)

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, sim: Sim) -> Evaluation:
        """Named nail driven ≥ 2 cm by the named tool, which is still off the floor; a dropped
        tool, another nail driven or the named nail struck in by the other tool fails."""
        named, tool = _NAILS.index(self.nail), TOOLS.index(self.tool)
        fallen = [b for b in (*TOOLS, "screwdriver") if sim.body_pos(b)[2] < BENCH_TOP - 0.2]
        wrong_nail = any(depth(sim, k) >= WRONG_DEPTH for k in range(N_NAILS) if k != named)
        wrong_tool = self.hammered.depth[1 - tool, named] >= WRONG_DEPTH
        reason = ("tool dropped" if self.tool in fallen else "wrong nail driven" if wrong_nail
                  else "wrong tool used" if wrong_tool else None)
        return Evaluation(
            success=self.hammered.depth[tool, named] >= DRIVE_DEPTH and reason is None,
            failure=reason is not None, failure_reason=reason, task_cost=float(bool(fallen)),
            progress={"nail_depth_m": depth(sim, named),
                      "hammered_depth_m": float(self.hammered.depth[tool, named])},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pick the named tool by its handle, carry it over the named nail, strike down
        repeatedly."""
        rot = grasp_rotation(0.15)
        nail = self.nail

        def over_nail(sim: Sim, up: float) -> np.ndarray:
            return sim.body_pos(nail) + np.array([0, 0, HAMMER_GRASP + up])

        # The handle is pinched at the tool's origin and the tool lifted 12 cm.
        return Expert(pick_phases(self.tool, 0.0, rot=rot) + [
            Navigate(stand_at(nail), tol=0.02, speed=0.5),
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
        nail = sim.body_pos(self.task.nail)
        tcp = sim.tcp("right")
        if self._strike_z is None:
            # Each stroke aims at where the nail head is before it, through the hammer's
            # current hold (it may have slid or tilted in the pinch).
            tool = self.task.tool
            head = sim.body_pos(tool) - HAMMER_GRASP * sim.body_mat(tool)[:, 2]
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
        driven = self.task.hammered.depth[TOOLS.index(self.task.tool),
                                          _NAILS.index(self.task.nail)]
        done = driven >= DRIVE_DEPTH + 0.003
        return Command(base=np.zeros(3), tcp={"right": (pos_r, self.rot)}, speed=1.0), done
