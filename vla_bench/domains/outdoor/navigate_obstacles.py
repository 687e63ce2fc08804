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
from vla_bench.task import Evaluation, Task

N_OBSTACLES = 6
OBSTACLES = tuple(f"nob_obstacle_{k}" for k in range(N_OBSTACLES))
CONES = ("nob_cone_0", "nob_cone_1", "nob_cone_2")
CONE_U = 5.6  # m along the course to the cone line
CONE_V = (-1.3, 0.0, 1.3)  # m, lateral positions of the three cones
FIELD_U = (1.1, 4.5)  # m, where obstacles stand along the course
FIELD_V = 1.7  # m, half-width of the obstacle field
GAP = 0.25 + 2 * ROBOT_RADIUS  # m, free space kept between obstacles (a robot fits through)
GOAL_RADIUS = 0.45  # m from the cone to the pelvis
CRATE_HALF = (0.22, 0.32)  # m, half side range of crates (barrels: the same as radius)
OBSTACLE_HEIGHT = (0.5, 0.9)  # m
START_V = 0.4
MAX_DETOUR = 1.5  # planned path at most this many course lengths: a way through the field


@register_task(domain="outdoor", family="navigation", max_episode_steps=500, group="navigation")
class NavigateObstacles(Task):
    """Walk to the {color} cone without touching any obstacle.

    **Description** — A field of six obstacles (crates and barrels, 0.44–0.64 m wide, 0.5–0.9 m
    tall) stands between the robot and a line of three traffic cones of different colours,
    5.6 m ahead. The instruction names one cone by colour; the robot must thread its way
    through the obstacles, touching none, and reach that cone.

    **Randomisation** — course position and heading on the bumpy field (clear of the
    landmarks); the obstacles' kinds, sizes, positions (in a 3.4 m x 3.4 m band, ≥ 0.75 m apart
    so a robot fits between any two) and yaw, with at least one of them on the straight line to
    the named cone, re-dealt until a planned path through the field is at most 1.5 course
    lengths; the cones' colours (three of red / green / yellow / blue; held-out orange /
    purple / white / black in the ``unseen_objects`` split) and which one is named; the robot's
    lateral start (±0.4 m) and heading (±0.5 rad); instruction template.

    **Success** — the pelvis comes within 0.45 m (horizontally) of the named cone without
    having touched an obstacle. Budget 500 steps (25 s).

    **Failure** — touching an obstacle; reaching another cone (within 0.45 m); leaving the
    field.

    **Safety notes** — obstacle contacts are also collisions in the env's safety signal; the
    task adds no cost.

    **Alternatives in the scene** — the two other cones, 1.3 m apart; only the colour word
    says which one. The straight line to the named cone is blocked, so a policy that walks
    straight at it fails.

    **Version history** — v1 (2026-11): first release.
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

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.target = 0
        self.touched = Latch(self._touching)  # any obstacle contact so far
        self.course = Course(np.zeros(2), 0.0)
        self.footprints: list[Footprint] = []

    def build(self, spec: mujoco.MjSpec) -> None:
        """Obstacles (a box and a cylinder geom each; one shows) and three cones, parked."""
        for k, name in enumerate(OBSTACLES):
            b = c.body(spec.worldbody, name, PARK + np.array([2.0 * k, -6.0, 0.0]))
            c.box(b, f"{name}_crate", (0.3, 0.3, 0.35), (0, 0, 0.35), rgba=(0.55, 0.4, 0.25, 1))
            c.cylinder(b, f"{name}_barrel", 0.3, 0.35, (0, 0, 0.35), rgba=(0.2, 0.35, 0.6, 1))
        for k, name in enumerate(CONES):
            b = c.body(spec.worldbody, name, PARK + np.array([2.0 * k, -9.0, 0.0]))
            # Markers, not obstacles: the robot must be able to stand at them.
            c.cylinder(b, f"{name}_base", 0.16, 0.01, (0, 0, 0.01), collide=False)
            c.cylinder(b, f"{name}_body", 0.08, 0.3, (0, 0, 0.32), collide=False)

    def monitors(self) -> Sequence[Monitor]:
        """The obstacle-contact latch ``evaluate`` reads."""
        return (self.touched,)

    def _place_obstacles(self, sim: Sim, rng: np.random.Generator) -> None:
        goal = self.course.world(CONE_U, CONE_V[self.target])
        start = self.course.world(0.0, 0.0)
        self.footprints = []
        placed: list[tuple[np.ndarray, float]] = []
        for k, name in enumerate(OBSTACLES):
            barrel = bool(rng.random() < 0.5)
            half = float(rng.uniform(*CRATE_HALF))
            height = float(rng.uniform(*OBSTACLE_HEIGHT))
            for _ in range(200):
                if k == 0:  # one obstacle squarely on the straight line to the goal
                    t = rng.uniform(0.4, 0.65)
                    xy = start + t * (goal - start) + rng.uniform(-0.1, 0.1, 2)
                else:
                    xy = self.course.world(rng.uniform(*FIELD_U), rng.uniform(-FIELD_V, FIELD_V))
                radius = half * np.sqrt(2.0)
                if all(np.linalg.norm(xy - p) >= radius + r + GAP for p, r in placed):
                    break
            placed.append((xy, radius))
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
        self.course = find_course(sim, self.layout, rng, (-0.8, CONE_U + 0.8), (-2.2, 2.2))
        colors = rng.choice(props.color_pool(self.held_out_objects), len(CONES), replace=False)
        self.target = int(rng.integers(len(CONES)))
        for k, name in enumerate(CONES):
            xy = self.course.world(CONE_U, CONE_V[k])
            sim.set_static_pose(name, np.array([xy[0], xy[1], self.layout.ground_height(*xy)]),
                                self.course.yaw)
            for part in ("_base", "_body"):
                sim.set_rgba(name + part, props.COLORS[str(colors[k])])
        start = self.course.world(0.0, rng.uniform(-START_V, START_V))
        # Re-deal the obstacles until a path through the field exists (not around it).
        for _ in range(20):
            self._place_obstacles(sim, rng)
            if self._planner(sim).length(sim, start, self._goal(sim)) <= MAX_DETOUR * CONE_U:
                break
        sim.set_robot_base(start, self.course.yaw + rng.uniform(-0.5, 0.5))
        self.instruction = self.templates.sample(rng, phrasing, color=str(colors[self.target]))
        return self.instruction

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
        dist = [float(np.linalg.norm(xy - self._cone_xy(sim, k))) for k in range(len(CONES))]
        failure, reason = False, None
        if touching:
            failure, reason = True, "touched an obstacle"
        elif any(d <= GOAL_RADIUS for k, d in enumerate(dist) if k != self.target):
            failure, reason = True, "went to the wrong cone"
        elif bool(np.any(np.abs(xy) > FIELD_HALF)):
            failure, reason = True, "left the field"
        success = dist[self.target] <= GOAL_RADIUS and not touched and not failure
        return Evaluation(success=success, failure=failure, failure_reason=reason,
                          progress={"distance_to_cone_m": dist[self.target],
                                    "obstacle_contact": float(touched)})

    def _planner(self, sim: Sim) -> GridPlanner:
        # The other cones' goal zones are kept clear too: passing through one ends the episode.
        others = [Footprint(self._cone_xy(sim, k), np.full(2, GOAL_RADIUS + 0.1 - ROBOT_RADIUS),
                            self.course.yaw) for k in range(len(CONES)) if k != self.target]
        names = [*OBSTACLES, *(f"cone_zone_{k}" for k in range(len(others)))]
        return GridPlanner(self.layout, extra=list(zip(names, self.footprints + others,
                                                       strict=True)))

    def _goal(self, sim: Sim) -> np.ndarray:
        cone = self._cone_xy(sim, self.target)
        return np.array([cone[0], cone[1], self.course.yaw])

    def expert(self, sim: Sim) -> Expert:
        """A* around the landmarks and the obstacles to the named cone."""
        goal = self._goal(sim)
        return Expert([Navigate(lambda _sim: goal, tol=0.04, planner=self._planner(sim),
                                max_steps=500), Hold(steps=400)])
