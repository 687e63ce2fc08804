"""Manipulation family: use the named tool (rake or hook) to pull an out-of-reach block closer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.domains.workshop.layout import BENCH_TOP, WorkshopLayout
from vla_bench.experts.base import (
    BASE_SCALE,
    Command,
    Controller,
    Expert,
    Navigate,
    Phase,
    PosFn,
    Reach,
    grasp_rotation,
)
from vla_bench.experts.manipulation import pick_phases, stand_for
from vla_bench.geometry import quat_mul, yaw_matrix, yaw_quat
from vla_bench.language import Templates
from vla_bench.monitors import Latch, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Layout
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

TOOLS = ("rake", "hook")
GRIP_Z = 0.05  # the tool's origin (grasp point) is this far above the bench when it lies flat
TOOL_LENGTH = 0.40  # m from the grasp point to the head's centre line
HEAD_HALF_X = 0.012
# Head centre in the tool frame: the rake's crossbar is centred on the shaft, the hook's bar
# sticks out to the tool's left (+y) only.
HEAD_LOCAL = {"rake": np.array([TOOL_LENGTH, 0.0, -GRIP_Z]),
              "hook": np.array([TOOL_LENGTH, 0.037, -GRIP_Z])}  # centre of the head's bottom
HEAD_HALF_Y = {"rake": 0.07, "hook": 0.045}
# Where along the head the expert puts the block (tool-frame y): the rake's middle, and the
# hook's inner half, near the shaft, so that the block cannot slide off the bar's free end.
AIM_Y = {"rake": 0.0, "hook": 0.02}
BLOCK_HALF = 0.025
FOOT_GAP = 0.01  # m the foot under the grip stops short of the bench (see _build_tool)
SHAFT_Z = 0.025  # shaft above the grasp point: it clears a block's top while the head drags it
N_BLOCKS = 2  # the named block and a distractor of another colour
GOAL_DEPTH = (0.02, 0.22)  # m behind the bench's front edge: the strip the hand can reach
START_DEPTH = (0.44, 0.50)  # where the blocks start: beyond the hand's reach
_REST_TILT = -float(np.arctan2(FOOT_GAP, TOOL_LENGTH))  # about y: the head end up
_REST_TILT_QUAT = np.array([np.cos(_REST_TILT / 2), 0.0, np.sin(_REST_TILT / 2), 0.0])
_BLOCKS = tuple(f"tool_block_{i}" for i in range(N_BLOCKS))
_TOOL_RGBA = {"rake": (0.85, 0.55, 0.12, 1.0), "hook": (0.25, 0.45, 0.70, 1.0)}


@register_task(domain="workshop", family="manipulation", max_episode_steps=450,
               group="manipulation")
class UseTool(Task):
    """Use the {tool} to pull the {object} within reach.

    **Description** — Two coloured blocks stand at the back of the workbench, out of the
    robot's reach (44–50 cm behind the front edge); a rake (a T: crossbar across the end of
    its shaft) and a hook (an L: a bar sticking out to one side) lie at the front. The
    instruction names a tool and a block: the robot must pick up that tool by its grip, reach
    over the block with it, and drag the block into the front strip of the bench (2–22 cm
    behind the edge), without touching the block with its hand.

    **Randomisation** — which tool and which block are named; block colours (two of the
    training colours; held-out colours in ``unseen_objects``); the order of the four items
    along the bench (slots 40 cm apart, ±3 cm); block depth (44–50 cm) and yaw (±0.3 rad);
    tool grip depth (8–12 cm) and yaw (±0.08 rad); robot start pose (x ±0.1 m, y ±0.2 m, yaw
    ±0.3 rad); bench jitter and workshop colours; instruction template.

    **Success** — the named block's centre lies in the front strip (2–22 cm behind the edge)
    on the bench top, it has been touched by the named tool, and the robot's body never touched
    it.

    **Failure** — the robot's hand or body touched the named block; the named block reached
    the strip without the named tool having touched it (pushed by the other tool); the other
    block reached the strip (wrong object); a block or the named tool fell to the floor.

    **Safety notes** — ``task`` cost while a block or tool is on the floor; collisions with
    the bench and contact forces are counted by the env.

    **Alternatives in the scene** — four goals: either tool (rake or hook) with either block
    (told apart by colour); either tool can drag either block, so only the words tell which
    pair. Measured blind success (expert toward a uniformly drawn alternative, seeds 0–49):
    0.25.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): the (tool, block) goal is
    declared, its four alternatives measured (no change to the scene or predicate).
    """

    templates = Templates(
        train=(
            "use the {tool} to pull the {object} within reach",
            "pull the {object} closer with the {tool}",
            "take the {tool} and drag the {object} toward you",
            "grab the {tool} and use it to bring the {object} to the front of the bench",
            "with the {tool}, pull the {object} over to the front edge",
            "reach the {object} with the {tool} and pull it close",
        ),
        test=(
            "the {object} is too far away; fetch it using the {tool}",
            "could you rake in the {object}, using the {tool} for it",
            "hook the {object} toward the edge by means of the {tool}",
        ),
    )
    layout: WorkshopLayout
    goal_fields = ("tool", "target")

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        # Touches are remembered for the whole episode: a block dragged in by the tool after the
        # hand once pushed it still fails, and the tool's touch may come long before the goal.
        self.hand_touch = Latch(lambda s: s.in_contact(s.body_geoms(self.target),
                                                       s.robot.geom_ids))
        self.tool_touch = Latch(lambda s: s.in_contact(s.body_geoms(self.target),
                                                       s.body_geoms(self.tool)))

    def monitors(self) -> Sequence[Monitor]:
        """Whether the robot, and whether the named tool, ever touched the named block."""
        return (self.hand_touch, self.tool_touch)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Two blocks and the two tools (free bodies)."""
        for name in _BLOCKS:
            b = c.body(spec.worldbody, name, (0, 0, props.PARK_Z), free=True)
            # Low friction on the bench: a light tool drags the block without slipping in hand.
            c.box(b, name, (BLOCK_HALF,) * 3, mass=0.1, friction=[0.4, 0.005, 0.0001])
        for tool in TOOLS:
            self._build_tool(spec, tool)

    @staticmethod
    def _build_tool(spec: mujoco.MjSpec, tool: str) -> None:
        """Raised grip (origin: the grasp point) on a foot, shaft, head; lies on foot and head.

        The grip sits 5 cm above the bench while the head reaches down to it: the hand can
        then press the head onto the bench from a height where the fingertips clear the top.
        """
        b = c.body(spec.worldbody, tool, (0, 0, props.PARK_Z), free=True)
        rgba = _TOOL_RGBA[tool]
        dark = (0.12, 0.12, 0.13, 1)
        # The grip runs from 3 cm behind the grasp point forward, so the palm clears it.
        c.box(b, f"{tool}_grip", (0.05, 0.014, 0.022), (0.02, 0, 0), rgba=dark, mass=0.06,
              friction=[1.0, 0.04, 0.002], condim=4)
        # The foot stops FOOT_GAP short of the bench plane: lying, the tool tips back onto it
        # by 1.4°; in use the hand can press the head down without levering it up on the foot.
        foot_half = (GRIP_Z - 0.022 - FOOT_GAP) / 2
        c.box(b, f"{tool}_foot", (0.015, 0.012, foot_half), (0.0, 0, -0.022 - foot_half),
              rgba=dark, mass=0.01, friction=[0.4, 0.005, 0.0001])
        shaft_half = (TOOL_LENGTH - HEAD_HALF_X - 0.07) / 2
        c.box(b, f"{tool}_shaft", (shaft_half, 0.008, 0.008), (0.07 + shaft_half, 0, SHAFT_Z),
              rgba=rgba, mass=0.03)
        head = HEAD_LOCAL[tool]
        head_half_z = (GRIP_Z + SHAFT_Z) / 2  # from the bench up to the shaft
        c.box(b, f"{tool}_head", (HEAD_HALF_X, HEAD_HALF_Y[tool], head_half_z),
              (head[0], head[1], head_half_z - GRIP_Z), rgba=rgba, mass=0.02,
              friction=[0.6, 0.005, 0.0001])

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Deal tools and blocks into bench slots; name a tool and a block."""
        colors = [str(x) for x in rng.choice(props.color_pool(self.held_out_objects), N_BLOCKS,
                                             replace=False)]
        center, top = self.layout.bench_top(sim)
        self.front = center[0] - 0.3
        ys = center[1] + np.array([-0.75, -0.35, 0.05, 0.45]) + rng.uniform(-0.03, 0.03, 4)
        slots = rng.permutation(4)
        for name, color, k in zip(_BLOCKS, colors, slots[:N_BLOCKS], strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(name, rgba)
            pos = np.array([self.front + rng.uniform(*START_DEPTH), ys[k], top + BLOCK_HALF])
            sim.set_free_pose(name, pos, yaw_quat(rng.uniform(-0.3, 0.3)))
        for tool, k in zip(TOOLS, slots[N_BLOCKS:], strict=True):
            pos = np.array([self.front + rng.uniform(0.08, 0.12), ys[k],
                            top + GRIP_Z - FOOT_GAP + 0.001])
            sim.set_free_pose(tool, pos, quat_mul(yaw_quat(rng.uniform(-0.08, 0.08)),
                                                  _REST_TILT_QUAT))
        self.color_of = dict(zip(_BLOCKS, colors, strict=True))
        self.target = _BLOCKS[int(rng.integers(N_BLOCKS))]
        self.tool = TOOLS[int(rng.integers(len(TOOLS)))]
        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(
            rng, phrasing, tool=self.tool, object=f"{self.color_of[self.target]} block")
        return self.instruction

    # -- goals -------------------------------------------------------------------------------
    def goals(self) -> Sequence[tuple[str, str]]:
        """Either tool with either block: four (tool, block) pairs."""
        return [(tool, block) for tool in TOOLS for block in _BLOCKS]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named block and the named tool."""
        return (self.target, self.tool)

    # -- evaluation --------------------------------------------------------------------------
    def _in_goal(self, sim: Sim, block: str) -> bool:
        pos = sim.body_pos(block)
        depth = pos[0] - self.front
        return bool(GOAL_DEPTH[0] < depth < GOAL_DEPTH[1]
                    and abs(pos[2] - (BENCH_TOP + BLOCK_HALF)) < 0.015)

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named block in the front strip, dragged by the named tool, never touched by hand."""
        hand_touched, tool_touched = self.hand_touch.value, self.tool_touch.value
        in_goal = self._in_goal(sim, self.target)
        other = next(b for b in _BLOCKS if b != self.target)
        fallen = [b for b in (*_BLOCKS, *TOOLS) if sim.body_pos(b)[2] < BENCH_TOP - 0.2]
        failure, reason = True, None
        if hand_touched:
            reason = "the robot touched the block (use the tool)"
        elif in_goal and not tool_touched:
            reason = "the block was moved without the named tool"
        elif self._in_goal(sim, other):
            reason = "the wrong block was pulled in"
        elif self.target in fallen or self.tool in fallen or other in fallen:
            reason = "a block or the tool fell to the floor"
        else:
            failure = False
        depth = float(sim.body_pos(self.target)[0] - self.front)
        return Evaluation(
            success=in_goal and tool_touched and not failure,
            failure=failure, failure_reason=reason, task_cost=float(bool(fallen)),
            progress={"block_depth_m": depth},
        )

    # -- expert ------------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Grasp the tool's grip, hold the head over and behind the block, lower it, walk back."""
        tool, block = self.tool, self.target
        rot = grasp_rotation(0.15)
        head_local = HEAD_LOCAL[tool].copy()
        head_local[1] = AIM_Y[tool]

        def head(s: Sim) -> np.ndarray:  # the aim point on the head's bottom edge
            return s.body_pos(tool) + s.body_mat(tool) @ head_local

        def behind(up: float) -> PosFn:
            def goal(s: Sim) -> np.ndarray:
                p = s.body_pos(block)
                return np.array([p[0] + BLOCK_HALF + HEAD_HALF_X + 0.02, p[1], BENCH_TOP + up])
            return goal

        def steer(goal: PosFn) -> PosFn:
            # The TCP target that moves the head (not the hand) to ``goal``: the tool pitches
            # in the hand as the arm changes height, so the hand is steered by the head's error.
            return lambda s: s.tcp("right") + np.clip(goal(s) - head(s), -0.05, 0.05)

        def stand(s: Sim) -> np.ndarray:  # the hand where it puts the head behind the block
            g = behind(0.0)(s)
            return stand_for(g - (head(s) - s.tcp("right")), s)

        return Expert(pick_phases(tool, 0.0, grasp_back=0.0) + [
            Navigate(stand, tol=0.03, speed=0.6),
            Reach("right", steer(behind(0.085)), rot, tol=0.02, max_steps=60),
            Reach("right", steer(behind(0.008)), rot, tol=0.01, max_steps=60, speed=0.4),
            PullBack(self, head),
        ])


@dataclass
class PullBack(Phase):
    """Walk backwards slowly with the hand held still, dragging the block with the tool head.

    The hand keeps its robot-frame x, y from the start of the pull; its height is servoed so
    the head stays just above the bench (the tool pitches in the hand under the drag).
    """

    task: UseTool
    head: PosFn
    speed: float = 0.12  # m/s
    max_steps: int = 120
    _hold: np.ndarray | None = None
    _z0: float = 0.0

    def reset(self) -> None:
        """Take the hand's hold afresh at the next start."""
        self._hold, self._z0 = None, 0.0

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        yaw = sim.robot_base()[2]
        if self._hold is None:
            self._hold = sim.to_robot_frame(sim.tcp("right"))
            self._z0 = float(self._hold[2])
        # The drag pitches the tool in the hand and lifts the head: the hand follows the head's
        # height error, but no lower than the foot's gap (the foot would lever the head up).
        head = self.head(sim)
        dz = BENCH_TOP + 0.008 - head[2]
        z = ctrl.ee_pos["right"][2] + float(np.clip(dz, -0.005, 0.005))
        self._hold[2] = float(np.clip(z, self._z0 - FOOT_GAP, self._z0 + 0.02))
        # The tool also yaws in the hand: keep the aim point in line with the block.
        side = yaw_matrix(yaw)[:2, 1] @ (sim.body_pos(self.task.target) - head)[:2]
        self._hold[1] = ctrl.ee_pos["right"][1] + float(np.clip(side, -0.005, 0.005))
        done = sim.body_pos(self.task.target)[0] - self.task.front < 0.15
        base = np.zeros(3) if done else np.array([-self.speed / BASE_SCALE[0], 0.0, 0.0])
        return Command(base=base, tcp={"right": (self._hold.copy(), grasp_rotation(0.15))},
                       speed=0.5), done
