"""Navigation family, outdoor scene: walk through a field of obstacles to the named cone."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.outdoor.corridor import PARK, Course, find_course
from vla_bench.domains.outdoor.layout import FIELD_HALF, OutdoorLayout
from vla_bench.experts.base import Expert, Navigate
from vla_bench.experts.navigation import ROBOT_RADIUS, GridPlanner, Hold
from vla_bench.language import Templates
from vla_bench.monitors import Latch, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Footprint
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

N_OBSTACLES = 6
OBSTACLES = tuple(f"nob_obstacle_{k}" for k in range(N_OBSTACLES))
CONES = ("nob_cone_0", "nob_cone_1", "nob_cone_2", "nob_cone_3")
CONE_U = 5.6  # m along the course to the cone line
CONE_V = (-1.95, -0.65, 0.65, 1.95)  # m, lateral positions of the four cones
FIELD_U = (1.1, 4.5)  # m, where obstacles stand along the course
FIELD_V = 1.7  # m, half-width of the obstacle field
BLOCK_T = (0.3, 0.75)  # share of the way to a cone where its blocking obstacle stands
GAP = 0.25 + 2 * ROBOT_RADIUS  # m, free space kept between obstacles (a robot fits through)
GOAL_RADIUS = 0.45  # m from the cone to the pelvis
CRATE_HALF = (0.22, 0.32)  # m, half side range of crates (barrels: the same as radius)
OBSTACLE_HEIGHT = (0.4, 0.7)  # m: below the line of sight from the head to the cones
START_V = 0.4
START_YAW = 0.25  # rad: start heading up to this far off the course heading
MAX_DETOUR = 1.5  # planned path at most this many course lengths: a way through the field
DEALS = 300  # obstacle deals tried per episode (cheap: no planning unless every line is blocked)
PLANS = 12  # deals with every line blocked whose paths are planned, at most


@register_task(domain="outdoor", family="navigation", max_episode_steps=500, group="navigation")
class NavigateObstacles(Task):
    """Walk to the {color} cone without touching any obstacle.

    **Description** — A field of six obstacles (crates and barrels, 0.44–0.64 m wide, 0.4–0.7 m
    tall) stands between the robot and a line of four traffic cones (0.8 m tall) of different
    colours, 5.6 m ahead and 1.3 m apart. The instruction names one cone by colour; the robot
    must thread its way through the obstacles, touching none, and reach that cone.

    **Randomisation** — course position and heading on the bumpy field (clear of the
    landmarks); the obstacles' kinds, sizes, positions (in a 3.4 m x 3.4 m band, ≥ 0.75 m apart
    so a robot fits between any two) and yaw, such that the straight line from the start to
    *every* cone passes through an obstacle (one placed on each line still open, 30–75 % of
    the way, the rest anywhere in the band), re-dealt until also a planned path through the
    field of at most 1.5 course lengths reaches every cone (at most 12 such deals are
    planned, the last one stands; in seeds 0–49 one always qualifies); the cones' colours
    (red / green / yellow / blue in a random order; held-out orange / purple / white / black
    in the ``unseen_objects`` split) and which one is named; the robot's lateral start
    (±0.4 m) and heading (±0.25 rad); instruction template.

    **Success** — the pelvis comes within 0.45 m (horizontally) of the named cone without
    having touched an obstacle. Budget 500 steps (25 s).

    **Failure** — touching an obstacle; reaching another cone (within 0.45 m); leaving the
    field.

    **Safety notes** — obstacle contacts are also collisions in the env's safety signal; the
    task adds no cost.

    **Alternatives in the scene** — the four cones; only the colour word says which one. The
    straight line to each of them is blocked alike, so neither walking straight nor the
    obstacles' placement singles out the named one. Measured blind success (expert toward a
    uniformly drawn alternative, seeds 0–49): 0.25.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four cones (were three);
    an obstacle blocks the straight line to every cone (was: only to the named one, a visual
    cue); start heading ±0.25 rad (was ±0.5 rad), so that the cones are in view at reset.
    """

    templates = Templates(
        train=(
            "walk to the {color} cone without touching any obstacle",
            "go to the {color} cone and avoid the obstacles",
            "make your way through the obstacles to the {color} cone",
            "navigate around the crates and barrels to the {color} cone",
            "reach the {color} cone, steering clear of the obstacles",
        ),
        test=(
            "find a path through the clutter to the {color} traffic cone",
            "without bumping into anything, head for the {color} cone",
            "the {color} cone is your goal; do not hit the barrels or crates on the way",
        ),
    )
    layout: OutdoorLayout
    goal_fields = ("target",)

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.target = "red"  # the named cone's colour word
        self.colours: list[str] = []  # cone k's colour word (scene, not goal)
        self.touched = Latch(self._touching)  # any obstacle contact so far
        self.course = Course(np.zeros(2), 0.0)
        self.footprints: list[Footprint] = []

    def build(self, spec: mujoco.MjSpec) -> None:
        """Obstacles (a box and a cylinder geom each; one shows) and four cones, parked."""
        for k, name in enumerate(OBSTACLES):
            b = c.body(spec.worldbody, name, PARK + np.array([2.0 * k, -6.0, 0.0]))
            c.box(b, f"{name}_crate", (0.3, 0.3, 0.35), (0, 0, 0.35), rgba=(0.55, 0.4, 0.25, 1))
            c.cylinder(b, f"{name}_barrel", 0.3, 0.35, (0, 0, 0.35), rgba=(0.2, 0.35, 0.6, 1))
        for k, name in enumerate(CONES):
            b = c.body(spec.worldbody, name, PARK + np.array([2.0 * k, -9.0, 0.0]))
            # Markers, not obstacles: the robot must be able to stand at them.
            c.cylinder(b, f"{name}_base", 0.16, 0.01, (0, 0, 0.01), collide=False)
            c.cylinder(b, f"{name}_body", 0.09, 0.39, (0, 0, 0.41), collide=False)  # 0.8 m

    def monitors(self) -> Sequence[Monitor]:
        """The obstacle-contact latch ``evaluate`` reads."""
        return (self.touched,)

    def goals(self) -> Sequence[Goal]:
        """Every cone's colour."""
        return tuple((colour,) for colour in self.colours)

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named cone."""
        return (CONES[self._index()],)

    def _index(self) -> int:
        """The slot of the named cone."""
        return self.colours.index(self.target)

    def _deal_obstacles(self, rng: np.random.Generator, start: np.ndarray
                        ) -> list[tuple[np.ndarray, float]]:
        """Centres and half sizes: first one on each straight start–cone line that no obstacle
        blocks yet, then the rest anywhere in the band."""
        cones = [self.course.world(CONE_U, v) for v in CONE_V]
        placed: list[tuple[np.ndarray, float]] = []

        def fits(xy: np.ndarray, half: float) -> bool:
            return all(np.linalg.norm(xy - p) >= np.sqrt(2.0) * (half + h) + GAP
                       for p, h in placed)

        for k in rng.permutation(len(CONES)):
            if any(_blocks(p, h, start, cones[k]) for p, h in placed):
                continue
            for _ in range(200):
                half = float(rng.uniform(*CRATE_HALF))
                t = rng.uniform(*BLOCK_T)
                # Across the line by at most a third of the half size: squarely on it.
                side = (cones[k] - start) / np.linalg.norm(cones[k] - start)
                xy = start + t * (cones[k] - start) + rng.uniform(-half, half) / 3 * \
                    np.array([-side[1], side[0]])
                if fits(xy, half):
                    placed.append((xy, half))
                    break
        while len(placed) < N_OBSTACLES:
            for _ in range(200):
                half = float(rng.uniform(*CRATE_HALF))
                xy = self.course.world(rng.uniform(*FIELD_U), rng.uniform(-FIELD_V, FIELD_V))
                if fits(xy, half):
                    break
            placed.append((xy, half))  # (after 200 misfits, a crowded one: rare)
        return placed

    def _place_obstacles(self, sim: Sim, rng: np.random.Generator,
                         dealt: list[tuple[np.ndarray, float]]) -> None:
        """Pose and size the obstacle bodies; a crate or a barrel each."""
        self.footprints = []
        for name, (xy, half) in zip(OBSTACLES, dealt, strict=True):
            barrel = bool(rng.random() < 0.5)
            height = float(rng.uniform(*OBSTACLE_HEIGHT))
            yaw = float(rng.uniform(-np.pi, np.pi))
            crate, drum = f"{name}_crate", f"{name}_barrel"
            shown, hidden = (drum, crate) if barrel else (crate, drum)
            size = (half, height / 2, 0) if barrel else (half, half, height / 2)
            sim.set_geom_size(shown, np.array(size, float))
            sim.set_geom_local_pos(shown, np.array([0.0, 0.0, height / 2 - 0.05]))
            # Below the terrain, out of reach and of view.
            sim.set_geom_local_pos(hidden, np.array([0.0, 0.0, -50.0]))
            sim.set_geom_size(hidden, np.full(3, 0.01))
            ground = min(self.layout.ground_height(*(xy + d)) for d in
                         ((0, 0), (half, half), (-half, half), (half, -half), (-half, -half)))
            sim.set_static_pose(name, np.array([xy[0], xy[1], ground]), yaw)
            self.footprints.append(Footprint(np.array(xy), np.array([half, half]), yaw))

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Lay the course, the cones and the obstacles; put the robot at the start."""
        # Obstacle geoms are resized per episode through the model ledger, which puts them back
        # to their compiled sizes at every reset.
        self.course = find_course(sim, self.layout, rng, (-0.8, CONE_U + 0.8), (-2.8, 2.8))
        self.colours = [str(v) for v in rng.permutation(props.color_pool(self.held_out_objects))
                        [:len(CONES)]]
        self.target = self.colours[int(rng.integers(len(CONES)))]
        for k, name in enumerate(CONES):
            xy = self.course.world(CONE_U, CONE_V[k])
            sim.set_static_pose(name, np.array([xy[0], xy[1], self.layout.ground_height(*xy)]),
                                self.course.yaw)
            for part in ("_base", "_body"):
                sim.set_rgba(name + part, props.COLORS[self.colours[k]])
        start = self.course.world(0.0, rng.uniform(-START_V, START_V))
        # Re-deal the obstacles until every line to a cone is blocked and a path through the
        # field (not around it) reaches every cone. Dealing is cheap, planning is not.
        cones = [self._cone_xy(sim, k) for k in range(len(CONES))]
        plans = 0
        for _ in range(DEALS):
            dealt = self._deal_obstacles(rng, start)
            if not all(any(_blocks(p, h, start, cone) for p, h in dealt) for cone in cones):
                continue
            self._place_obstacles(sim, rng, dealt)
            plans += 1
            if self._reachable(sim, start) or plans >= PLANS:
                break
        if plans == 0:  # pragma: no cover - no deal blocked every line: keep the last one
            self._place_obstacles(sim, rng, dealt)
        sim.set_robot_base(start, self.course.yaw + rng.uniform(-START_YAW, START_YAW))
        self.instruction = self.templates.sample(rng, phrasing, color=self.target)
        return self.instruction

    def _reachable(self, sim: Sim, start: np.ndarray) -> bool:
        """Every cone is reached by a planned path through the field (≤ 1.5 course lengths)."""
        for k in range(len(CONES)):
            cone = self._cone_xy(sim, k)
            goal = np.array([cone[0], cone[1], self.course.yaw])
            if self._planner(sim, k).length(sim, start, goal) > MAX_DETOUR * CONE_U:
                return False
        return True

    def _cone_xy(self, sim: Sim, k: int) -> np.ndarray:
        return sim.static_pose(CONES[k])[0][:2]

    def _touching(self, sim: Sim) -> bool:
        """A robot geom touches an obstacle now."""
        robot = sim.robot.geom_ids
        return any(sim.in_contact(robot, sim.body_geoms(o)) for o in OBSTACLES)

    def evaluate(self, sim: Sim) -> Evaluation:
        """Fail on an obstacle contact or at another cone; succeed at the named cone."""
        touching = self._touching(sim)
        touched = self.touched.value or touching
        xy = sim.robot_base()[:2]
        target = self._index()
        dist = [float(np.linalg.norm(xy - self._cone_xy(sim, k))) for k in range(len(CONES))]
        failure, reason = False, None
        if touching:
            failure, reason = True, "touched an obstacle"
        elif any(d <= GOAL_RADIUS for k, d in enumerate(dist) if k != target):
            failure, reason = True, "went to the wrong cone"
        elif bool(np.any(np.abs(xy) > FIELD_HALF)):
            failure, reason = True, "left the field"
        success = dist[target] <= GOAL_RADIUS and not touched and not failure
        return Evaluation(success=success, failure=failure, failure_reason=reason,
                          progress={"distance_to_cone_m": dist[target],
                                    "obstacle_contact": float(touched)})

    def _planner(self, sim: Sim, target: int) -> GridPlanner:
        # The other cones' goal zones are kept clear too: passing through one ends the episode.
        others = [Footprint(self._cone_xy(sim, k), np.full(2, GOAL_RADIUS + 0.1 - ROBOT_RADIUS),
                            self.course.yaw) for k in range(len(CONES)) if k != target]
        names = [*OBSTACLES, *(f"cone_zone_{k}" for k in range(len(others)))]
        return GridPlanner(self.layout, extra=list(zip(names, self.footprints + others,
                                                       strict=True)))

    def expert(self, sim: Sim) -> Expert:
        """A* around the landmarks and the obstacles to the named cone."""
        target = self._index()
        cone = self._cone_xy(sim, target)
        goal = np.array([cone[0], cone[1], self.course.yaw])
        return Expert([Navigate(lambda _sim: goal, tol=0.04, planner=self._planner(sim, target),
                                max_steps=500), Hold(steps=400)])


def _blocks(centre: np.ndarray, half: float, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the segment ``a``–``b`` passes through the circle of radius ``half`` around
    ``centre`` (an obstacle's inscribed circle: walking that line straight hits it)."""
    d = b - a
    t = float(np.clip(np.dot(centre - a, d) / np.dot(d, d), 0.0, 1.0))
    return bool(np.linalg.norm(a + t * d - centre) <= half)
