"""Outdoor: walk over the bumpy field to the named landmark and stop next to it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.outdoor.layout import FIELD_HALF, LANDMARKS, SPOKEN, OutdoorLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.navigation import Grid, GridPlanner, go_to_expert
from vla_bench.geometry import heading
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

NEAR = 0.6  # m from a landmark's footprint to the pelvis: "at" that landmark
STILL_SPEED = 0.05  # m/s, horizontal pelvis speed
STILL_TURN = 0.2  # rad/s, yaw rate
DWELL_STEPS = 20  # consecutive control steps (1 s)
STANDOFF = 0.4  # m from the named landmark's footprint where the expert stops
START_DIST = (2.0, 5.0)  # m from the named landmark's footprint
START_MIN_DIST_OTHER = 1.0  # m from every landmark's footprint
START_MAX_PATH = 6.0  # m of planned path
VIEW_HALF = 0.4  # rad (23°) each side of the heading: inside the cameras' ±29° with a margin
VIEW_RANGE = 10.0  # m: a landmark further than this is not counted as in view
MIN_IN_VIEW = 3  # landmarks ahead at the start, the named one among them


@register_task(domain="outdoor", family="navigation", max_episode_steps=300)
class WalkToTree(Task):
    """Walk to the named landmark (the tree, the lamp post, the rock, ...) and stop.

    **Description** — The robot stands on a grassy field of gentle bumps (a heightfield,
    0.3 m of relief) among six landmarks: a tree, a lamp post, a rock, a bench, a stack of
    crates and a free-standing door in its frame. The instruction names one of them ("walk to
    the bench and stop"); the robot must walk to it, around whatever is in the way, and stop
    next to it. (The task keeps its first name: in v1 the tree was always the goal.)

    **Randomisation** — which landmark is named (uniform over the six); the landmarks are
    dealt into 6 of the 16 cells of a 4 x 4 grid (2.4 m apart) with ±25 cm jitter and a
    uniform yaw, and seated on the terrain (the tree takes one of the four centre cells only in
    the ``unseen_layouts`` split); the robot starts 2–5 m from the named landmark's footprint
    (≥ 1 m from every landmark, ≤ 6 m of planned walk), facing so that at least three
    landmarks, the named one among them, lie within 23° of its heading and 10 m (the named one
    at a uniform bearing in that window; if 400 tries find no such start, the start with the
    most landmarks ahead); colours of the grass, canopy, trunk, bench, crates, rock and door;
    instruction template. The terrain itself is fixed (built from a constant seed).

    **Success** — the pelvis is within 0.6 m (horizontally) of the named landmark's
    footprint rectangle, the robot does not touch that landmark, and it has stayed at rest
    (horizontal pelvis speed < 0.05 m/s, yaw rate < 0.2 rad/s) there for 20 consecutive
    control steps (1 s). Facing it is not required. Step budget 300 (15 s).

    **Failure** — the robot rests the same 20 steps within 0.6 m of another landmark's
    footprint without being at the named one (it went to the wrong landmark); or its pelvis
    leaves the field (|x| or |y| > 7.5 m).

    **Safety notes** — collisions with the trunk, lamp post, rock, bench, crates and door are
    counted by the env (the door swings open when pushed). Walking on the bumps never counts as
    a fall: the base controller follows the terrain height.

    **Alternatives in the scene** — the six landmarks, each a valid-looking "walk to X and
    stop" goal; only the noun says which (the tree and the lamp post are the two tall thin
    ones). At the start at least three of them are ahead of the robot. Measured blind success
    (expert toward a uniformly drawn alternative, seeds 0–49): 0.17.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): the named landmark varies
    per episode (any of the six, it was always the tree); success is 0.6 m from the named
    landmark's footprint (was 1.0 m from the trunk's axis); the robot starts facing at least
    three landmarks, the named one among them (was a uniform heading).
    """

    held_out_bodies = ("tree",)  # painted in held-out colours in "unseen_objects"
    goal_fields = ("target",)
    templates = Templates(
        train=(
            "walk to the {landmark} and stop",
            "go to the {landmark} and stop there",
            "walk over to the {landmark} and halt",
            "head for the {landmark} and stop next to it",
            "move to the {landmark}, then stand still",
            "approach the {landmark} and stop",
        ),
        test=(
            "make your way across the field to the {landmark} and wait beside it",
            "could you go stand by the {landmark}",
            "get close to the {landmark} and come to a stop",
        ),
    )
    layout: OutdoorLayout

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.target = "tree"  # the named landmark (a key of LANDMARKS)
        # Consecutive rest steps at each landmark (the named one: at it and not touching it).
        self.dwell = Dwell(LANDMARKS, self._resting_at)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Nothing to add: the landmarks are part of the outdoor layout."""

    def monitors(self) -> Sequence[Monitor]:
        """The rest-at-landmark counters ``evaluate`` reads."""
        return (self.dwell,)

    def goals(self) -> Sequence[Goal]:
        """The six landmarks: each one could be the named one."""
        return tuple((name,) for name in LANDMARKS)

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named landmark."""
        return (self.target,)

    def planner(self) -> GridPlanner:
        """A* that lets the robot walk up close to the named landmark."""
        return GridPlanner(self.layout, margins={self.target: 0.0})

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Name a landmark; start 2–5 m from it, facing it and at least two other landmarks."""
        self.target = str(rng.choice(list(LANDMARKS)))
        planner = self.planner()
        grid = planner.grid(sim)
        centres = {n: self.layout.landmark_xy(sim, n) for n in LANDMARKS}
        best, best_score = None, (-1, -np.inf)
        for _ in range(400):
            xy = rng.uniform(-FIELD_HALF + 1.0, FIELD_HALF - 1.0, 2)
            dist = self.layout.distance_to(sim, self.target, xy)
            if not START_DIST[0] <= dist <= START_DIST[1] or not grid.free(grid.cell(xy)):
                continue
            if any(self.layout.distance_to(sim, n, xy) < START_MIN_DIST_OTHER for n in LANDMARKS):
                continue
            # The named landmark at a uniform bearing inside the view window, so where it sits
            # in the image says nothing; then count the landmarks the window holds.
            to_target = centres[self.target] - xy
            yaw = float(np.arctan2(to_target[1], to_target[0]) + rng.uniform(-VIEW_HALF,
                                                                             VIEW_HALF))
            ahead = sum(_in_view(xy, yaw, c) for c in centres.values())
            if ahead < MIN_IN_VIEW and ahead <= best_score[0]:
                continue  # cannot beat the best start so far: spare the planner
            goal = self._approach(sim, grid, xy)
            length = planner.length(sim, np.array([xy[0], xy[1], yaw]), goal)
            score = (min(ahead, MIN_IN_VIEW), -length)
            if ahead >= MIN_IN_VIEW and length <= START_MAX_PATH:
                best = (xy, yaw)
                break
            if score > best_score:
                best, best_score = (xy, yaw), score
        if best is None:  # pragma: no cover - the field is mostly free
            xy = centres[self.target] + np.array([START_DIST[0] + 0.5, 0.0])
            best = (xy, np.pi)
        sim.set_robot_base(best[0], best[1])
        self.instruction = self.templates.sample(rng, phrasing,
                                                 landmark=SPOKEN[self.target])
        return self.instruction

    def _approach(self, sim: Sim, grid: Grid, from_xy: np.ndarray) -> np.ndarray:
        """The free pose 0.4 m from the named landmark's footprint nearest ``from_xy``, facing
        the landmark (its footprint is a rectangle, so the ring around it is not a circle)."""
        centre = self.layout.landmark_xy(sim, self.target)
        radii = np.arange(0.0, 3.0, 0.01)
        best, best_d = None, np.inf
        for a in np.arange(72) * 2 * np.pi / 72:
            ray = centre + radii[:, None] * heading(a)
            out = self.layout.distances_to(sim, self.target, ray) >= STANDOFF
            p = ray[int(np.argmax(out))]
            d = float(np.linalg.norm(p - from_xy[:2]))
            if grid.free(grid.cell(p)) and d < best_d:
                best, best_d = p, d
        if best is None:  # everything blocked: the side facing the robot
            v = from_xy[:2] - centre
            best = centre + (STANDOFF + 0.5) * v / max(float(np.linalg.norm(v)), 1e-9)
        yaw = float(np.arctan2(centre[1] - best[1], centre[0] - best[0]))
        return np.array([best[0], best[1], yaw])

    def _resting_at(self, sim: Sim) -> dict[str, bool]:
        """Per landmark: the robot is at rest next to it now (the dwell monitor's test); at the
        named one it must also not touch it."""
        if not sim.robot_at_rest(STILL_SPEED, STILL_TURN):
            return {}
        xy = sim.robot_base()[:2]
        at = {name: self.layout.distance_to(sim, name, xy) <= NEAR for name in LANDMARKS}
        if at[self.target] and sim.in_contact(sim.robot.geom_ids,
                                              sim.body_geoms(self.target)):
            at[self.target] = False
        return at

    def evaluate(self, sim: Sim) -> Evaluation:
        """20 rest steps at the named landmark succeed; 20 at another landmark fail."""
        base = sim.robot_base()
        dist = self.layout.distance_to(sim, self.target, base[:2])
        success = self.dwell.steps(self.target) >= DWELL_STEPS
        wrong = [n for n in self.dwell.reached(DWELL_STEPS) if n != self.target]
        failure, reason = False, None
        if not success and bool(np.any(np.abs(base[:2]) > FIELD_HALF)):
            failure, reason = True, "left the field"
        elif not success and wrong:
            failure, reason = True, (f"stopped at the {SPOKEN[wrong[0]]} instead of the "
                                     f"{SPOKEN[self.target]}")
        return Evaluation(
            success=success, failure=failure, failure_reason=reason,
            progress={"distance_to_landmark_m": dist,
                      "dwell_steps": float(self.dwell.steps(self.target))},
        )

    def expert(self, sim: Sim) -> Expert:
        """A* to the near side of the named landmark (0.4 m from its footprint, facing it);
        stop and stay."""
        planner = self.planner()
        goal = self._approach(sim, planner.grid(sim), sim.robot_base()[:2])
        return go_to_expert(self.layout, lambda _sim: goal, tol=0.04,
                            max_steps=self.max_episode_steps, planner=planner)


def _in_view(xy: np.ndarray, yaw: float, point: np.ndarray) -> bool:
    """Whether ``point`` lies within :data:`VIEW_HALF` of heading ``yaw`` from ``xy`` and
    within :data:`VIEW_RANGE`."""
    d = np.asarray(point, float)[:2] - xy
    off = np.arctan2(d[1], d[0]) - yaw
    off = (off + np.pi) % (2 * np.pi) - np.pi
    return bool(abs(off) <= VIEW_HALF and np.linalg.norm(d) <= VIEW_RANGE)
