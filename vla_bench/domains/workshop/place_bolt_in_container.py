"""Workshop: pick up the bolt and place it in the container of the instructed colour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import mujoco
import numpy as np

from vla_bench.domains.workshop.layout import BENCH_TOP, WorkshopLayout
from vla_bench.errors import VlaBenchError
from vla_bench.experts.base import Approach, Expert, Grip, Navigate, PosFn, Reach, grasp_rotation
from vla_bench.experts.manipulation import in_front_of, pick_phases, stand_at
from vla_bench.geometry import yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

CONTAINER_COLORS = ("red", "blue", "green", "yellow", "purple")
HELD_OUT_CONTAINER_COLORS = ("orange", "white", "black", "gray")  # the "unseen_objects" split
N_CONTAINERS = 4
CONTAINER_INNER = (0.16, 0.16)
CONTAINER_HEIGHT = 0.06
BOLT_GRASP_HEIGHT = 0.045  # bolt origin above the bottom of its head: the grasp point, ~ its COM
RELEASE_HEIGHT = 0.09  # TCP above the container floor when the gripper opens
_CONTAINER_WALLS = ("floor", "wall_px", "wall_nx", "wall_py", "wall_ny")
# Where things go on the bench, relative to its centre (x towards the back wall).
# The bolt and the containers lie near the front edge (x = -0.30): the expert stands 31 cm
# behind what it grasps or releases into, and its hips touch the bench when closer than ~11 cm.
_BOLT_X = (-0.21, -0.13)
_BOX_X = (-0.18, -0.13)
_DEEP_X = 0.16  # the distractors may also lie further back on the bench
_BOX_GAP = 0.26  # between container centres
_BOLT_GAP = 0.21  # bolt to container centre: open fingers (±7.3 cm) clear a turned container
_ROW_Y = (-0.72, 0.52)


@register_task(domain="workshop", family="manipulation", max_episode_steps=300)
class PlaceBoltInContainer(Task):
    """Pick up the bolt and place it in the {color} container.

    **Description** — A hex-head bolt stands on its head on the workbench among loose hardware
    (a hex nut, a washer and a wood screw) and four open parts containers of different
    colours. The instruction names one container by its colour; the robot must put the bolt,
    and nothing else, into that container.

    **Randomisation** — container colours (4 of red, blue, green, yellow, purple; orange,
    white, black and gray in the ``unseen_objects`` split) and which one is named; positions of
    the bolt and the containers along the front of the bench (bolt at least 21 cm from every
    container, containers at least 26 cm apart) and of the distractors anywhere on the bench;
    yaw of every object; small colour shifts of the metal parts; robot
    start pose (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad); fixture jitter (±4 cm, ±3°; the
    ``unseen_layouts`` split turns the bench end for end and rearranges the room) and workshop
    colours; instruction template.

    **Success** — the bolt's grasp point (on the shaft, 4.5 cm above the head's bottom) is
    inside the named container's inner walls and below its rim, the bolt is not held by either
    gripper, and no distractor is in that container.

    **Failure** — the bolt is released in a container of another colour, a distractor ends up in
    the named container, or the bolt falls to the floor.

    **Safety notes** — ``task`` cost while any object (bolt, hardware or container) is off the
    bench on the floor; collisions with the bench and vise and contact forces are counted by
    the env.

    **Alternatives in the scene** — the four containers (goal field ``target``): the same
    open boxes in a row, told apart only by the colour word; measured blind success (expert
    toward a uniformly drawn alternative, seeds 0–49): 0.25. The nut, washer and screw are
    plausible but wrong objects to pick.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): a fourth container (and
    gray among the held-out colours); the goal and its alternatives declared; the measured
    blind figure replaces the claimed chance; held-out layouts rearrange the workshop.
    """

    templates = Templates(
        train=(
            "pick up the bolt and place it in the {color} container",
            "put the bolt in the {color} container",
            "place the bolt into the {color} bin",
            "grab the bolt and drop it in the {color} container",
            "move the bolt to the {color} container",
            "take the bolt and put it inside the {color} bin",
        ),
        test=(
            "could you store the bolt in the {color} box",
            "the bolt goes in the {color} container, please put it there",
            "sort the hex bolt into the {color} tray",
        ),
    )
    layout: WorkshopLayout
    goal_fields: ClassVar[tuple[str, ...]] = ("target",)

    def build(self, spec: mujoco.MjSpec) -> None:
        """A bolt, three pieces of loose hardware and three open containers."""
        self.bolt = props.bolt(spec, "bolt", grasp_height=BOLT_GRASP_HEIGHT)
        self.distractors = [props.hex_nut(spec, "nut"), props.washer(spec, "washer"),
                            props.screw(spec, "screw")]
        self.containers = [
            props.open_box(spec, f"container_{i}", CONTAINER_INNER, CONTAINER_HEIGHT, mass=0.5)
            for i in range(N_CONTAINERS)
        ]

    # -- episode ---------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Place bolt, hardware and containers on the bench; pick the named colour."""
        center, top = self.layout.bench_top(sim)
        bolt_xy, box_xy, hw_xy = self._sample_positions(rng, center)

        colors = [str(c) for c in rng.choice(
            HELD_OUT_CONTAINER_COLORS if self.held_out_objects else CONTAINER_COLORS,
            N_CONTAINERS, replace=False)]
        for box, color, xy in zip(self.containers, colors, box_xy, strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            for part in _CONTAINER_WALLS:
                sim.set_rgba(f"{box}_{part}", rgba)
            sim.set_free_pose(box, np.array([xy[0], xy[1], top + 0.001]),
                              yaw_quat(rng.uniform(-0.3, 0.3)))
        self.target_color = colors[int(rng.integers(N_CONTAINERS))]
        self.target = self.containers[colors.index(self.target_color)]

        self._shade(sim, rng, self.bolt, ("head_0", "head_1", "head_2", "shaft"), 0.0)
        sim.set_free_pose(self.bolt, np.array([bolt_xy[0], bolt_xy[1], top + BOLT_GRASP_HEIGHT
                                               + 0.0005]), yaw_quat(rng.uniform(-np.pi, np.pi)))
        heights = {"nut": 0.0005, "washer": 0.0005, "screw": 0.0072}
        for item, xy in zip(self.distractors, hw_xy, strict=True):
            sim.set_free_pose(item, np.array([xy[0], xy[1], top + heights[item]]),
                              yaw_quat(rng.uniform(-np.pi, np.pi)))
        self._shade(sim, rng, "nut", ("0", "1", "2"), -0.08)

        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(rng, phrasing, color=self.target_color)
        return self.instruction

    def _sample_positions(
        self, rng: np.random.Generator, center: np.ndarray
    ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Bolt and containers in the front row, hardware anywhere free (rejection sampling)."""
        box_lo = center + np.array([_BOX_X[0], _ROW_Y[0]])
        box_hi = center + np.array([_BOX_X[1], _ROW_Y[1]])
        bolt_lo = center + np.array([_BOLT_X[0], _ROW_Y[0]])
        bolt_hi = center + np.array([_BOLT_X[1], _ROW_Y[1]])
        all_lo = bolt_lo
        all_hi = center + np.array([_DEEP_X, _ROW_Y[1]])
        for _ in range(200):
            boxes: list[np.ndarray] = []
            for _ in range(400):
                p = rng.uniform(box_lo, box_hi)
                if all(np.linalg.norm(p - q) >= _BOX_GAP for q in boxes):
                    boxes.append(p)
                    if len(boxes) == N_CONTAINERS:
                        break
            if len(boxes) < N_CONTAINERS:
                continue
            bolt = None
            for _ in range(200):
                p = rng.uniform(bolt_lo, bolt_hi)
                if all(np.linalg.norm(p - q) >= _BOLT_GAP for q in boxes):
                    bolt = p
                    break
            if bolt is None:
                continue
            items: list[np.ndarray] = []
            for _ in range(400):
                p = rng.uniform(all_lo, all_hi)
                in_front_of_bolt = abs(p[1] - bolt[1]) < 0.1 and p[0] < bolt[0] + 0.08
                if (not in_front_of_bolt and np.linalg.norm(p - bolt) >= 0.1
                        and all(np.linalg.norm(p - q) >= 0.15 for q in boxes)
                        and all(np.linalg.norm(p - q) >= 0.07 for q in items)):
                    items.append(p)
                    if len(items) == len(self.distractors):
                        return bolt, boxes, items
        raise VlaBenchError("could not place the workshop objects")  # pragma: no cover

    @staticmethod
    def _shade(sim: Sim, rng: np.random.Generator, body: str, parts: tuple[str, ...],
               offset: float) -> None:
        """Small brightness variation of a steel part (``offset`` darkens or lightens it)."""
        rgba = np.ones(4)
        rgba[:3] = np.clip(np.array([0.62, 0.63, 0.66]) + offset + rng.uniform(-0.06, 0.06), 0, 1)
        for part in parts:
            sim.set_rgba(f"{body}_{part}", rgba)

    # -- goals -------------------------------------------------------------------------------
    def goals(self) -> Sequence[Goal]:
        """The four containers: the colour word tells them apart."""
        return [(box,) for box in self.containers]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named container."""
        return (self.target,)

    # -- evaluation --------------------------------------------------------------------------
    def _in_container(self, sim: Sim, item: str, box: str) -> bool:
        half = (CONTAINER_INNER[0] / 2, CONTAINER_INNER[1] / 2)
        return bool(sim.inside([item], box, half, (0.0, CONTAINER_HEIGHT))[0])

    def evaluate(self, sim: Sim) -> Evaluation:
        """Bolt released in the named container; wrong container, wrong item or a fall fails."""
        held = any(sim.grasped_by(self.bolt, s) for s in ("right", "left"))
        in_target = self._in_container(sim, self.bolt, self.target)
        wrong_box = not held and any(self._in_container(sim, self.bolt, b)
                                     for b in self.containers if b != self.target)
        wrong_item = [d for d in self.distractors if self._in_container(sim, d, self.target)]
        fallen = [b for b in (self.bolt, *self.distractors, *self.containers)
                  if sim.body_pos(b)[2] < BENCH_TOP - 0.2]
        failure, reason = False, None
        if wrong_box:
            failure, reason = True, "bolt in the wrong container"
        elif wrong_item:
            failure, reason = True, "distractor in the named container"
        elif self.bolt in fallen:
            failure, reason = True, "bolt dropped"
        dist = float(np.linalg.norm(sim.body_pos(self.bolt)[:2] - sim.body_pos(self.target)[:2]))
        return Evaluation(
            success=in_target and not held and not wrong_item,
            failure=failure, failure_reason=reason, task_cost=float(bool(fallen)),
            progress={"bolt_to_container_m": dist},
        )

    def expert(self, sim: Sim) -> Expert:
        """Walk to the bolt, pinch its shaft from the front, carry it over the container, drop."""
        rot = grasp_rotation(0.15)

        def above(back: float = 0.0, up: float = 0.0) -> PosFn:
            return in_front_of(self.target, rot, back, up)

        return Expert([
            # The final reach caps its integral: a wound-up offset carries the hand past the
            # thin shaft and pinches it at the finger roots, where it slips out on the lift.
            *pick_phases(self.bolt, 0.0, rot=rot, grasp_phase=Approach),
            Navigate(stand_at(self.target), tol=0.03, speed=0.6),
            Reach("right", above(up=RELEASE_HEIGHT + 0.06), rot, tol=0.03, max_steps=40),
            Approach("right", above(up=RELEASE_HEIGHT), rot, tol=0.02, max_steps=30),
            Grip("right", -1.0, steps=12),
            Reach("right", above(back=0.12, up=RELEASE_HEIGHT + 0.08), rot, tol=0.03),
        ])
