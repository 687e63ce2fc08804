"""Outdoor: walk over the bumpy field to the tree and stop next to it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.outdoor.layout import FIELD_HALF, LANDMARKS, SPOKEN, OutdoorLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.navigation import GridPlanner, approach_pose, go_to_expert
from vla_bench.geometry import heading
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

TARGET = "tree"
NEAR = 1.0  # m from the trunk's axis to the pelvis
NEAR_OTHER = 0.6  # m from a distractor's footprint to the pelvis
STILL_SPEED = 0.05  # m/s, horizontal pelvis speed
STILL_TURN = 0.2  # rad/s, yaw rate
DWELL_STEPS = 20  # consecutive control steps (1 s)
STANDOFF = 0.7  # m from the trunk axis where the expert stops
START_DIST = (2.0, 4.5)  # m from the trunk
START_MIN_DIST_OTHER = 1.0  # m from every distractor's footprint
START_MAX_PATH = 5.0  # m of planned path


@register_task(domain="outdoor", family="navigation", max_episode_steps=300)
class WalkToTree(Task):
    """Walk to the tree and stop.

    **Description** — The robot stands on a grassy field of gentle bumps (a heightfield,
    0.3 m of relief) among six landmarks: one tree, a lamp post, a rock, a bench, a stack of
    crates and a free-standing door in its frame. It must walk to the tree, around whatever is
    in the way, and stop next to it.

    **Randomisation** — the landmarks are dealt into 6 of the 16 cells of a 4 x 4 grid (2.4 m
    apart) with ±25 cm jitter and a uniform yaw, and seated on the terrain (the tree takes
    one of the four centre cells only in the ``unseen_layouts`` split); the robot starts
    2–4.5 m from the tree (≥ 1 m from every other landmark, ≤ 5 m of planned walk) with a
    uniform heading; colours of the grass, canopy, trunk, bench, crates, rock and door;
    instruction template. The terrain itself is fixed (built from a constant seed).

    **Success** — the pelvis is within 1.0 m of the trunk's axis, the robot does not touch the
    tree, and it has stayed at rest (horizontal pelvis speed < 0.05 m/s, yaw rate < 0.2 rad/s)
    there for 20 consecutive control steps (1 s). Facing the tree is not required. Step
    budget 300 (15 s).

    **Failure** — the robot rests the same 20 steps within 0.6 m of another landmark's
    footprint without being at the tree (it went to the wrong landmark); or its pelvis leaves
    the field (|x| or |y| > 7.5 m).

    **Safety notes** — collisions with the trunk, lamp post, rock, bench, crates and door are
    counted by the env (the door swings open when pushed). Walking on the bumps never counts as
    a fall: the base controller follows the terrain height.

    **Alternatives in the scene** — five other landmarks are valid-looking "walk to X and stop"
    goals; the lamp post is the other tall thin one. A policy that ignores the noun stops at
    the tree about one time in six.

    **Version history** — v1 (2026-11): first release.
    """

    held_out_bodies = ("tree",)  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "walk to the tree and stop",
            "go to the tree and stop there",
            "walk over to the tree and halt",
            "head for the tree and stop next to it",
            "move to the tree, then stand still",
            "approach the tree and stop",
        ),
        test=(
            "make your way across the field to the tree and wait beside it",
            "could you go stand by the tree",
            "get close to the tree and come to a stop",
        ),
    )
    layout: OutdoorLayout

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        # Consecutive rest steps at each landmark (the tree: at it and not touching it).
        self.dwell = Dwell(LANDMARKS, self._resting_at)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Nothing to add: the tree and the distractors are part of the outdoor layout."""

    def monitors(self) -> Sequence[Monitor]:
        """The rest-at-landmark counters ``evaluate`` reads."""
        return (self.dwell,)

    def planner(self) -> GridPlanner:
        """A* that lets the robot walk up close to the (thin) trunk."""
        return GridPlanner(self.layout, margins={TARGET: 0.0})

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Start in free ground 2–4.5 m from the tree, away from every other landmark."""
        planner = self.planner()
        grid = planner.grid(sim)
        tree = self.layout.landmark_xy(sim, TARGET)
        others = [n for n in LANDMARKS if n != TARGET]
        best, best_len = None, np.inf
        for _ in range(400):
            r = rng.uniform(*START_DIST)
            a = rng.uniform(-np.pi, np.pi)
            xy = tree + r * heading(a)
            if np.any(np.abs(xy) > FIELD_HALF - 1.0) or not grid.free(grid.cell(xy)):
                continue
            if any(self.layout.distance_to(sim, n, xy) < START_MIN_DIST_OTHER for n in others):
                continue
            goal = approach_pose(grid, tree, STANDOFF, xy)
            length = planner.length(sim, np.array([xy[0], xy[1], 0.0]), goal)
            if length <= START_MAX_PATH:
                best = xy
                break
            if length < best_len:
                best, best_len = xy, length
        if best is None:  # pragma: no cover - the field is mostly free
            best = tree + np.array([START_DIST[0], 0.0])
        sim.set_robot_base(best, rng.uniform(-np.pi, np.pi))
        self.instruction = self.templates.sample(rng, phrasing)
        return self.instruction

    def _at_tree(self, sim: Sim) -> tuple[bool, float]:
        """Whether the pelvis is near the trunk without touching the tree; and how far."""
        dist = float(np.linalg.norm(sim.robot_base()[:2] - self.layout.landmark_xy(sim, TARGET)))
        touching = sim.in_contact(sim.robot.geom_ids, sim.body_geoms(TARGET))
        return dist <= NEAR and not touching, dist

    def _resting_at(self, sim: Sim) -> dict[str, bool]:
        """Per landmark: the robot is at rest next to it now (the dwell monitor's test)."""
        if not sim.robot_at_rest(STILL_SPEED, STILL_TURN):
            return {}
        xy = sim.robot_base()[:2]
        at = {name: self.layout.distance_to(sim, name, xy) <= NEAR_OTHER
              for name in LANDMARKS if name != TARGET}
        at[TARGET] = self._at_tree(sim)[0]
        return at

    def evaluate(self, sim: Sim) -> Evaluation:
        """20 rest steps at the tree succeed; 20 at another landmark fail."""
        base = sim.robot_base()
        _, dist_tree = self._at_tree(sim)
        success = self.dwell.steps(TARGET) >= DWELL_STEPS
        wrong = [n for n in self.dwell.reached(DWELL_STEPS) if n != TARGET]
        failure, reason = False, None
        if not success and bool(np.any(np.abs(base[:2]) > FIELD_HALF)):
            failure, reason = True, "left the field"
        elif not success and wrong:
            failure, reason = True, f"stopped at the {SPOKEN[wrong[0]]} instead of the tree"
        return Evaluation(
            success=success, failure=failure, failure_reason=reason,
            progress={"distance_to_tree_m": dist_tree,
                      "dwell_steps": float(self.dwell.steps(TARGET))},
        )

    def expert(self, sim: Sim) -> Expert:
        """A* to the near side of the tree (0.7 m from the trunk, facing it); stop and stay."""
        planner = self.planner()
        tree = self.layout.landmark_xy(sim, TARGET)
        goal = approach_pose(planner.grid(sim), tree, STANDOFF, sim.robot_base()[:2])
        return go_to_expert(self.layout, lambda _sim: goal, tol=0.04,
                            max_steps=self.max_episode_steps, planner=planner)
