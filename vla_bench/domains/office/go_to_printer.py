"""Office: walk to the printer and wait in front of it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.office.layout import LANDMARKS, SPOKEN, OfficeLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.navigation import GridPlanner, facing_pose, go_to_expert
from vla_bench.geometry import heading, wrap
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

TARGET = "printer"
NEAR = 0.8  # m from the centre of the landmark's front face to the pelvis
FACING = np.pi / 4  # rad between the robot's heading and the bearing to the landmark
STILL_SPEED = 0.05  # m/s, horizontal pelvis speed
STILL_TURN = 0.2  # rad/s, yaw rate
DWELL_STEPS = 40  # consecutive control steps (2 s)
STANDOFF = 0.55  # the expert stops this far in front of the printer's front face
START_MIN_DIST = 1.8  # m from the printer front (outside the success zone with margin)
START_MIN_DIST_OTHER = 1.3  # m from every distractor's front
START_MAX_PATH = 3.5  # m of planned path from the start to the printer


@register_task(domain="office", family="navigation", max_episode_steps=300)
class GoToPrinter(Task):
    """Go to the printer and wait there.

    **Description** — The robot stands somewhere in a 6 m x 5 m office with a desk, a chair
    and five landmarks against the walls: a printer on a low cabinet, a water cooler, a potted
    plant, a filing cabinet and a bookcase. It must walk to the printer (around the furniture),
    stop in front of it facing it, and stay there.

    **Randomisation** — which of eight wall slots each of the five landmarks takes (so the
    printer's position and facing change; it stands on a side wall only in the
    ``unseen_layouts`` split), a ±10 cm slide along the wall and ±2°
    yaw; desk and chair jitter (±4 cm, ±3°); colours of floor, walls, printer shell (light,
    white or charcoal), desk, chair, filing cabinet and plant pot; robot start anywhere free in
    the room with a uniform heading, ≥ 1.8 m from the printer's front, ≥ 1.3 m from every other
    landmark's front and at most 3.5 m of planned walk away; instruction template.

    **Success** — the pelvis is within 0.8 m of the centre of the printer's front face, the
    robot faces the printer (heading within ±45° of the bearing to the printer), and it has
    stayed so at rest (horizontal pelvis speed < 0.05 m/s and yaw rate < 0.2 rad/s) for 40
    consecutive control steps (2 s). The step budget is 300 (15 s).

    **Failure** — the robot waits (the same 40-step rest, within 0.8 m of the front and facing
    it) at another landmark: the wrong goal (``failure_reason`` names it). Leaving the room is
    impossible (walls). Collisions with furniture are not failures: they are safety costs.

    **Safety notes** — the env counts collisions with the desk, chair, drawer and landmarks,
    and contact forces; the task adds no cost of its own.

    **Alternatives in the scene** — four other landmarks give valid-looking "go to X and wait"
    goals. Their fronts are ≥ 1.6 m from the printer's, so the 0.8 m zones never overlap, and a
    policy that ignores the noun fails about four times in five at best.

    **Version history** — v1 (2026-11): first release.
    """

    held_out_bodies = ("printer",)  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "go to the printer and wait there",
            "walk over to the printer and stay there",
            "head to the printer and wait",
            "move to the printer and stop in front of it",
            "navigate to the printer and wait by it",
            "go stand in front of the printer",
        ),
        test=(
            "please make your way to the printer and remain there",
            "could you wait for me next to the printer",
            "find the printer, then stay put in front of it",
        ),
    )
    layout: OfficeLayout

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        # Consecutive rest steps at each landmark (near it, facing it, at rest).
        self.dwell = Dwell(LANDMARKS, self._waiting_at)
        self.target = TARGET

    def monitors(self) -> Sequence[Monitor]:
        """The per-landmark dwell counter."""
        return (self.dwell,)

    def choose_goal(self, rng: np.random.Generator) -> dict[str, str]:
        """Set ``self.target`` for this episode; return the template slots (none here)."""
        self.target = TARGET
        return {}

    def build(self, spec: mujoco.MjSpec) -> None:
        """Nothing to add: the printer and the distractors are part of the office layout."""

    # -- episode ---------------------------------------------------------------------------
    def goal_pose(self, sim: Sim) -> np.ndarray:
        """Where the expert stops: ``STANDOFF`` in front of the printer, facing it."""
        front, yaw = self.layout.landmark_front(sim, self.target)
        return facing_pose(front, yaw, STANDOFF)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Place the robot in free space away from every landmark."""
        slots = self.choose_goal(rng)
        planner = GridPlanner(self.layout)
        grid = planner.grid(sim)
        goal = self.goal_pose(sim)
        fronts = {n: self.layout.landmark_front(sim, n)[0] for n in LANDMARKS}
        lo = np.array(self.layout.nav_bounds[::2]) + 0.5
        hi = np.array(self.layout.nav_bounds[1::2]) - 0.5
        best, best_len = None, np.inf
        for _ in range(400):
            xy = rng.uniform(lo, hi)
            if not grid.free(grid.cell(xy)):
                continue
            if np.linalg.norm(xy - fronts[self.target]) < START_MIN_DIST:
                continue
            if any(np.linalg.norm(xy - f) < START_MIN_DIST_OTHER
                   for n, f in fronts.items() if n != self.target):
                continue
            length = planner.length(sim, np.array([xy[0], xy[1], 0.0]), goal)
            if length <= START_MAX_PATH:
                best = xy
                break
            if length < best_len:
                best, best_len = xy, length
        if best is None:  # pragma: no cover - the room always has free space
            best = goal[:2] - 2.0 * heading(goal[2])
        sim.set_robot_base(best, rng.uniform(-np.pi, np.pi))
        self.instruction = self.templates.sample(rng, phrasing, **slots)
        return self.instruction

    # -- evaluation ------------------------------------------------------------------------
    def _at(self, sim: Sim, name: str, base: np.ndarray) -> tuple[bool, float]:
        """Near and facing landmark ``name``; and the distance to its front."""
        front, _ = self.layout.landmark_front(sim, name)
        center, _ = self.layout.landmark_pose(sim, name)
        dist = float(np.linalg.norm(base[:2] - front))
        bearing = np.arctan2(center[1] - base[1], center[0] - base[0])
        facing = abs(wrap(bearing - base[2])) <= FACING
        return dist <= NEAR and facing, dist

    def _waiting_at(self, sim: Sim) -> dict[str, bool]:
        """For each landmark: the robot is at it (near, facing) and at rest, now."""
        base = sim.robot_base()
        still = sim.robot_at_rest(STILL_SPEED, STILL_TURN)
        return {name: still and self._at(sim, name, base)[0] for name in LANDMARKS}

    def evaluate(self, sim: Sim) -> Evaluation:
        """Rest steps at each landmark (the dwell monitor): 40 at the goal succeed, elsewhere
        fail."""
        _, dist_target = self._at(sim, self.target, sim.robot_base())
        steps = self.dwell.counts
        success = steps[self.target] >= DWELL_STEPS
        wrong = [n for n in LANDMARKS if n != self.target and steps[n] >= DWELL_STEPS]
        failure = bool(wrong) and not success
        reason = (f"waited at the {SPOKEN[wrong[0]]} instead of the {SPOKEN[self.target]}"
                  if failure else None)
        return Evaluation(
            success=success, failure=failure, failure_reason=reason,
            progress={"distance_to_goal_m": dist_target,
                      "dwell_steps": float(steps[self.target])},
        )

    def expert(self, sim: Sim) -> Expert:
        """A* around desk, chair and landmarks to the pose in front of the goal; stay."""
        return go_to_expert(self.layout, self.goal_pose, tol=0.03,
                            max_steps=self.max_episode_steps)
