"""Navigation family, office scene: walk to the named place and wait there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import mujoco
import numpy as np

from vla_bench.domains.office.layout import LANDMARKS, SPOKEN, OfficeLayout, view_heading
from vla_bench.experts.base import Expert
from vla_bench.experts.navigation import GridPlanner, facing_pose, go_to_expert
from vla_bench.geometry import heading, wrap
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

# The "unseen_objects" split asks for the one place no training episode names as the goal.
TRAIN_GOALS = ("printer", "water_cooler", "plant", "filing_cabinet")
HELD_OUT_GOALS = ("bookcase",)
NEAR = 0.8  # m from the centre of the place's front face to the pelvis
FACING = np.pi / 4  # rad between the robot's heading and the bearing to the place
STILL_SPEED = 0.05  # m/s, horizontal pelvis speed
STILL_TURN = 0.2  # rad/s, yaw rate
DWELL_STEPS = 40  # consecutive control steps (2 s)
STANDOFF = 0.55  # the expert stops this far in front of the place's front face
START_CLEAR = 1.5  # m from the robot's start to every place's front (outside every zone)
SIGHT_OUT = 0.15  # m out from a place's front: where lines of sight from the start end
START_TRIES = 300  # start positions drawn; the first that shows enough places is kept


@register_task(domain="office", family="navigation", max_episode_steps=400, group="navigation")
class GoToLocation(Task):
    """Go to the {place} and wait there.

    **Description** — The robot stands somewhere in a 6 m x 5 m office with a desk, a chair
    and five landmarks against the walls: a printer on a low cabinet, a water cooler, a potted
    plant, a filing cabinet and a bookcase. The instruction names one of them: the robot must
    walk to it around the furniture, stop in front of it facing it, and stay there.

    **Randomisation** — the goal landmark (printer, water cooler, plant or filing cabinet; the
    bookcase only in the ``unseen_objects`` split); which of eight wall slots each landmark
    takes, a ±10 cm slide along the wall and ±2° yaw; desk and chair jitter (±4 cm, ±3°);
    colours of floor, walls, printer shell, desk, chair, filing cabinet and plant pot; the
    robot's start: free floor ≥ 1.5 m from every landmark's front (the same rule for all five,
    so where it starts says nothing about the goal), with the heading (of 72) that brings the
    most landmarks within ±24° of straight ahead, counting only landmarks in a clear line of
    sight on the floor plan (the first of up to 300 drawn starts that shows at least three,
    else the one that shows the most; ties drawn at random); instruction template.

    **Success** — the pelvis is within 0.8 m of the centre of the goal's front face, nearer
    to it than to any other landmark's front, the robot faces the goal (heading within ±45° of
    the bearing to its footprint centre), and it has stayed so at rest (horizontal pelvis speed
    < 0.05 m/s and yaw rate < 0.2 rad/s) for 40 consecutive control steps (2 s). The step
    budget is 400 (20 s).

    **Failure** — the same 40-step rest at another landmark: the wrong goal
    (``failure_reason`` names it). Leaving the room is impossible (walls). Collisions with
    furniture are not failures: they are safety costs.

    **Safety notes** — the env counts collisions with the desk, chair, drawer and landmarks,
    and contact forces; the task adds no cost of its own.

    **Alternatives in the scene** — the four training goals (printer, water cooler, plant,
    filing cabinet) stand in the room every episode and only the noun says which one is meant
    (the ``unseen_objects`` split adds the bookcase as a fifth). Their fronts are ≥ 1.6 m apart,
    so the 0.8 m zones never overlap. Measured blind success (expert toward a uniformly drawn
    alternative, seeds 0–49): 0.25 (no wrong-goal run succeeded).

    **Version history** — v1 (2026-11): first release. v2 (2026-12): the goal is one of four
    alternatives (``goals()``); the start is the same for every landmark (≥ 1.5 m from all
    fronts, no path-length cap toward the goal) and faces the most landmarks, so the goal is in
    view at reset in most episodes; success also needs the goal's front to be the nearest;
    budget 300 → 400 steps.
    """

    goal_fields = ("target",)
    held_out_bodies = ()  # the held-out split names a held-out goal instead
    places: ClassVar[tuple[str, ...]] = tuple(LANDMARKS)  # where one can be told to wait
    min_in_view: ClassVar[int] = 3  # places the start heading must show (else the most found)
    templates = Templates(
        train=(
            "go to the {place} and wait there",
            "walk to the {place} and stay there",
            "head over to the {place} and stop",
            "navigate to the {place} and wait",
            "go and stand in front of the {place}",
        ),
        test=(
            "please make your way over to the {place} and remain there",
            "I need you waiting by the {place}",
            "find your way to the {place}, then hold still",
        ),
    )
    layout: OfficeLayout

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        # Consecutive rest steps at each place (near it, facing it, at rest).
        self.dwell = Dwell(self.places, self._waiting_at)
        self.target = self.places[0]

    def monitors(self) -> Sequence[Monitor]:
        """The per-place dwell counter."""
        return (self.dwell,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Nothing to add: the landmarks are part of the office layout."""

    # -- places ----------------------------------------------------------------------------
    def place_pose(self, sim: Sim, name: str) -> tuple[np.ndarray, float, float]:
        """Footprint centre ``(x, y)``, front yaw and half depth of place ``name``."""
        centre, yaw = self.layout.landmark_pose(sim, name)
        return centre, yaw, LANDMARKS[name][0]

    def place_front(self, sim: Sim, name: str) -> tuple[np.ndarray, float]:
        """Centre of place ``name``'s front face and the direction it faces."""
        centre, yaw, depth = self.place_pose(sim, name)
        return centre + depth * heading(yaw), yaw

    def planner(self, **kwargs: float) -> GridPlanner:
        """A* over this scene's obstacles (``kwargs`` go to :class:`GridPlanner`)."""
        return GridPlanner(self.layout, **kwargs)

    def goal_name(self) -> str:
        """The body of the goal place."""
        return str(self.target)

    def goals(self) -> Sequence[Goal]:
        """The goal pool of this split: the four training landmarks (all five when the
        ``unseen_objects`` split names the bookcase)."""
        pool = TRAIN_GOALS + HELD_OUT_GOALS if self.held_out_objects else TRAIN_GOALS
        return [(name,) for name in pool]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The goal landmark."""
        return (self.goal_name(),)

    # -- episode ---------------------------------------------------------------------------
    def arrange(self, sim: Sim, rng: np.random.Generator) -> dict[str, str]:
        """Draw the goal landmark (held-out pool in the ``unseen_objects`` split); return the
        template slots."""
        pool = HELD_OUT_GOALS if self.held_out_objects else TRAIN_GOALS
        self.target = str(pool[int(rng.integers(len(pool)))])
        return {"place": SPOKEN[self.target]}

    def goal_pose(self, sim: Sim) -> np.ndarray:
        """Where the expert stops: ``STANDOFF`` in front of the goal, facing it."""
        front, yaw = self.place_front(sim, self.goal_name())
        return facing_pose(front, yaw, STANDOFF)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Arrange the scene and draw the goal; start the robot on free floor away from every
        place, facing as many of them as it can."""
        slots = self.arrange(sim, rng)
        grid = self.planner().grid(sim)
        fronts = [self.place_front(sim, n)[0] for n in self.places]
        centres = np.array([self.place_pose(sim, n)[0] for n in self.places])
        # Lines of sight: a place hidden behind the desk, the chair or another landmark (seen
        # from above, in a grid grown by nothing) does not count as shown.
        sight = self.planner(robot_radius=0.0, margin=0.02).grid(sim)
        faces = [f + SIGHT_OUT * heading(yaw) for f, yaw in
                 (self.place_front(sim, n) for n in self.places)]
        lo = np.array(self.layout.nav_bounds[::2]) + 0.5
        hi = np.array(self.layout.nav_bounds[1::2]) - 0.5
        best, best_count = None, -1
        for _ in range(START_TRIES):
            xy = rng.uniform(lo, hi)
            if not grid.free(grid.cell(xy)):
                continue
            if min(np.linalg.norm(xy - f) for f in fronts) < START_CLEAR:
                continue
            shown = [k for k, f in enumerate(faces) if sight.segment_free(xy, f)]
            if not shown:
                continue
            yaw, count = view_heading(xy, centres[shown], rng)
            if count > best_count:
                best, best_count = (xy, yaw), count
            if count >= self.min_in_view:
                break
        if best is None:  # pragma: no cover - the room always has free space
            goal = self.goal_pose(sim)
            best = (goal[:2] - 2.0 * heading(goal[2]), goal[2])
        sim.set_robot_base(best[0], best[1])
        self.instruction = self.templates.sample(rng, phrasing, **slots)
        return self.instruction

    # -- evaluation ------------------------------------------------------------------------
    def _dists(self, sim: Sim, base: np.ndarray) -> dict[str, float]:
        """Distance from the pelvis to each place's front centre."""
        return {n: float(np.linalg.norm(base[:2] - self.place_front(sim, n)[0]))
                for n in self.places}

    def _waiting_at(self, sim: Sim) -> dict[str, bool]:
        """The place the robot waits at now, if any: its front is the nearest and within
        0.8 m, the robot faces it, and it is at rest."""
        base = sim.robot_base()
        if not sim.robot_at_rest(STILL_SPEED, STILL_TURN):
            return {}
        dists = self._dists(sim, base)
        name = min(dists, key=dists.__getitem__)
        centre = self.place_pose(sim, name)[0]
        bearing = np.arctan2(centre[1] - base[1], centre[0] - base[0])
        at = dists[name] <= NEAR and abs(wrap(bearing - base[2])) <= FACING
        return {name: True} if at else {}

    def spoken(self, name: str) -> str:
        """How the instruction calls place ``name``."""
        return SPOKEN[name]

    def evaluate(self, sim: Sim) -> Evaluation:
        """Rest steps at each place (the dwell monitor): 40 at the goal succeed, elsewhere
        fail."""
        goal = self.goal_name()
        dist = self._dists(sim, sim.robot_base())[goal]
        steps = self.dwell.counts
        success = steps[goal] >= DWELL_STEPS
        wrong = [n for n in self.places if n != goal and steps[n] >= DWELL_STEPS]
        failure = bool(wrong) and not success
        reason = (f"waited at the {self.spoken(wrong[0])} instead of the {self.spoken(goal)}"
                  if failure else None)
        return Evaluation(
            success=success, failure=failure, failure_reason=reason,
            progress={"distance_to_goal_m": dist, "dwell_steps": float(steps[goal])},
        )

    def expert(self, sim: Sim) -> Expert:
        """A* around the furniture to the pose in front of the goal (``self.target``); stay."""
        return go_to_expert(self.layout, self.goal_pose, tol=0.03,
                            max_steps=self.max_episode_steps, planner=self.planner())
