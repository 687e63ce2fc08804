"""Manipulation family: stack three coloured blocks in the order the instruction states."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import permutations
from typing import ClassVar

import mujoco
import numpy as np

from vla_bench.conventions import CONTROL_HZ
from vla_bench.domains.workshop.layout import BENCH_TOP, WorkshopLayout
from vla_bench.experts.base import Expert, PosFn
from vla_bench.experts.manipulation import grasp_lift, pick_phases, place_phases
from vla_bench.geometry import yaw_quat
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Layout
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

HALF = 0.025  # block half size (5 cm cubes)
N_BLOCKS = 4  # three named in the instruction, one distractor
ALIGN_TOL = 0.02  # m: horizontal offset of a block's centre from the one below it
LEVEL_TOL = 0.012  # m: vertical tolerance around "resting on" (2 * HALF apart)
DWELL = 0.5  # s the tower must stand, released and still, before it counts
# A state first seen at step k has stood DWELL seconds at step k + DWELL_STEPS: it must have
# held for more than DWELL_STEPS consecutive steps.
DWELL_STEPS = round(DWELL * CONTROL_HZ)
_STILL = 0.03  # m/s
_BLOCKS = tuple(f"stack_block_{i}" for i in range(N_BLOCKS))


@register_task(domain="workshop", family="manipulation", max_episode_steps=500,
               group="manipulation")
class StackBlocks(Task):
    """Stack the blocks in order: {middle} on {bottom}, then {top} on {middle}.

    **Description** — Four 5 cm wooden blocks of different colours stand in a row on the
    workbench. The instruction names three of them and their order in the tower; the robot must
    put the middle block on the bottom one and the top block on the middle one, and leave the
    fourth block out.

    **Randomisation** — block colours (four of the training colours; the ``unseen_objects``
    split uses the held-out colours); which three are named and their order; block positions
    along the bench front (slots 22 cm apart, ±2 cm, the row shifted by up to 50 cm; depth
    10–15 cm) and yaw (±0.2 rad); robot start pose (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad); bench
    jitter (the ``unseen_layouts`` split turns the bench end for end and rearranges the room)
    and workshop colours; instruction template.

    **Success** — the bottom block rests on the bench, the middle block rests on the bottom
    block and the top block on the middle one (each centre within 2 cm horizontally of the
    centre below and 5 cm ± 1.2 cm above it), no gripper holds a block, every block is slower
    than 3 cm/s, and all of this has held for 0.5 s.

    **Failure** — a block other than the named one rests on a block (wrong order, or the
    fourth block used), released and still for 0.5 s; a block falls to the floor.

    **Safety notes** — ``task`` cost while a block is on the floor; collisions with the bench
    and contact forces are counted by the env.

    **Alternatives in the scene** — the 24 ordered choices of three of the four blocks (goal
    field ``order``: bottom, middle, top), told apart only by the colour words and their order;
    measured blind success (expert toward a uniformly drawn alternative, seeds 0–49): 0.04.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): the goal and its
    alternatives declared; the measured blind figure replaces the claimed chance; held-out
    layouts rearrange the workshop.
    """

    templates = Templates(
        train=(
            "put the {middle} block on the {bottom} block, then the {top} block on the {middle} "
            "block",
            "stack the blocks with {bottom} at the bottom, {middle} in the middle and {top} on top",
            "build a tower: the {bottom} block first, then {middle}, then {top}",
            "place {middle} on {bottom} and then {top} on {middle}",
            "stack the {middle} block onto the {bottom} one and the {top} block onto the {middle} "
            "one",
            "make a stack of three blocks: {bottom} below, {middle} next, {top} last",
        ),
        test=(
            "i want a tower that reads {top}, {middle}, {bottom} from the top down",
            "starting from the {bottom} block, pile {middle} and then {top} on it",
            "the {top} block goes on the {middle} block, which goes on the {bottom} block",
        ),
    )
    layout: WorkshopLayout
    goal_fields: ClassVar[tuple[str, ...]] = ("order",)

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        # How long the right tower (and a wrong pair) has stood released and still.
        self._stood = Dwell(("tower", "wrong"), self._standing)

    def monitors(self) -> Sequence[Monitor]:
        """The dwell counters of the tower and of a wrong pair."""
        return (self._stood,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Four free cubes (recoloured per episode)."""
        for name in _BLOCKS:
            b = c.body(spec.worldbody, name, (0, 0, props.PARK_Z), free=True)
            c.box(b, name, (HALF, HALF, HALF), mass=0.08, friction=[1.0, 0.03, 0.002], condim=4)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Colour and place the blocks; draw the named order."""
        colors = [str(x) for x in rng.permutation(props.color_pool(self.held_out_objects))]
        center, top = self.layout.bench_top(sim)
        front = center[0] - 0.3
        ys = center[1] + np.linspace(-0.72, -0.06, N_BLOCKS) + rng.uniform(-0.02, 0.02, N_BLOCKS)
        ys = ys + rng.uniform(0.0, 0.5)  # the row slides along the bench (vise end kept clear)
        for name, color, y in zip(_BLOCKS, colors, rng.permutation(ys), strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(name, rgba)
            pos = np.array([front + rng.uniform(0.10, 0.15), y, top + HALF + 0.001])
            sim.set_free_pose(name, pos, yaw_quat(rng.uniform(-0.2, 0.2)))
        self.color_of = dict(zip(_BLOCKS, colors, strict=True))
        order = rng.permutation(N_BLOCKS)
        self.order = tuple(_BLOCKS[int(i)] for i in order[:3])  # bottom, middle, top
        self.layout.place_robot_facing(sim, rng, center[0])
        bottom, middle, top_ = (self.color_of[b] for b in self.order)
        self.instruction = self.templates.sample(rng, phrasing, bottom=bottom, middle=middle,
                                                 top=top_)
        return self.instruction

    @property
    def spare(self) -> str:
        """The block the instruction leaves out."""
        return next(b for b in _BLOCKS if b not in self.order)

    # -- goals -------------------------------------------------------------------------------
    def goals(self) -> Sequence[Goal]:
        """Every ordered choice of three of the four blocks (24 towers)."""
        return [(order,) for order in permutations(_BLOCKS, 3)]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The three named blocks."""
        return self.order

    # -- evaluation --------------------------------------------------------------------------
    @staticmethod
    def _on(pos: np.ndarray, upper: int, lower: int, tol_xy: float) -> bool:
        d = pos[upper] - pos[lower]
        return bool(np.hypot(d[0], d[1]) < tol_xy and abs(d[2] - 2 * HALF) < LEVEL_TOL)

    def _pairs(self, pos: np.ndarray) -> tuple[bool, bool]:
        """Both named pairs aligned; any other block resting on another (block positions)."""
        idx = [_BLOCKS.index(b) for b in self.order]
        pairs_ok = (self._on(pos, idx[1], idx[0], ALIGN_TOL)
                    and self._on(pos, idx[2], idx[1], ALIGN_TOL))
        good = {(idx[1], idx[0]), (idx[2], idx[1])}
        wrong = any(self._on(pos, u, lo, 2 * HALF) for u in range(N_BLOCKS)
                    for lo in range(N_BLOCKS) if u != lo and (u, lo) not in good)
        return pairs_ok, wrong

    def _standing(self, sim: Sim) -> Mapping[str, bool]:
        """This step: the named tower stands (released, still), a wrong pair stands."""
        pos = sim.positions(list(_BLOCKS))
        released = not any(sim.grasped_by(b, s) for b in _BLOCKS for s in ("right", "left"))
        still = released and all(sim.body_speed(b) < _STILL for b in _BLOCKS)
        bottom = pos[_BLOCKS.index(self.order[0]), 2]
        bottom_down = abs(bottom - (BENCH_TOP + HALF)) < LEVEL_TOL
        pairs_ok, wrong = self._pairs(pos)
        return {"tower": still and bottom_down and pairs_ok and not wrong,
                "wrong": wrong and still}

    def evaluate(self, sim: Sim) -> Evaluation:
        """Ordered, aligned, released, still tower for ``DWELL`` s; a wrong pair or a fall fails."""
        pos = sim.positions(list(_BLOCKS))
        idx = [_BLOCKS.index(b) for b in self.order]
        pairs_ok, _ = self._pairs(pos)
        dropped = pos[:, 2] < BENCH_TOP - 0.2
        failure, reason = True, None
        if self._stood.steps("wrong") > DWELL_STEPS:
            reason = "blocks stacked in the wrong order"
        elif bool(np.any(dropped)):
            reason = "a block fell to the floor"
        else:
            failure = False
        stacked = int(self._on(pos, idx[1], idx[0], ALIGN_TOL)) + int(pairs_ok)
        return Evaluation(
            success=self._stood.steps("tower") > DWELL_STEPS,
            failure=failure, failure_reason=reason, task_cost=float(np.any(dropped)),
            progress={"blocks_stacked": float(stacked)},
        )

    def expert(self, sim: Sim) -> Expert:
        """Two pick-and-place moves; each release point corrects for the block's offset in hand.

        Cubes are pinched from the front like any object; the IK trades the hand's orientation
        against its position, so a carried cube may tilt a little; it settles flat when let go
        1.2 cm above the block below.
        """
        bottom, middle, top = self.order
        up = grasp_lift(sim, HALF)

        def onto(lower: str, held: str) -> PosFn:
            in_hand: list[np.ndarray] = []

            def point(s: Sim) -> np.ndarray:
                # The block's offset in the hand, measured once when the carry starts: a live
                # value would chase the block as it touches down and push it off the tower.
                if not in_hand:
                    in_hand.append(s.tcp("right") - s.body_pos(held))
                return s.body_pos(lower) + np.array([0.0, 0.0, 2 * HALF + 0.012]) + in_hand[0]
            return point

        first = pick_phases(middle, up, grasp_back=0.0, label="pick middle")
        first += place_phases(onto(bottom, middle))
        second = pick_phases(top, up, grasp_back=0.0, label="pick top")
        second += place_phases(onto(middle, top))
        return Expert(first + second)
