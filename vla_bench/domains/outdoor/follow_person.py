"""Outdoor (navigation family): follow the named person at a comfortable distance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import mujoco
import numpy as np

from vla_bench.domains.outdoor.layout import FIELD_HALF, OutdoorLayout
from vla_bench.experts.base import Command, Controller, Expert, Phase, base_command
from vla_bench.experts.navigation import Grid, GridPlanner, path_length
from vla_bench.geometry import heading, wrap
from vla_bench.humans import Person, add_person
from vla_bench.language import Templates
from vla_bench.monitors import Monitor
from vla_bench.registry import register_task
from vla_bench.scene.props import COLORS, color_pool
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

PEOPLE = ("fp_person_a", "fp_person_b")
BAND = (1.2, 2.5)  # m, pelvis to the followed person's axis
MIN_DIST = 1.0  # m: closer to anyone is a failure (spec: never closer than 1.0 m)
BAND_FRACTION = 0.8  # of the steps after the start delay spent inside the band
START_DELAY = 10  # control steps the people stand before walking off
SPEED = (0.4, 0.5)  # m/s, walking speed (the robot's top speed is 0.6 m/s)
LOST_AFTER = 60  # control steps after the person stops without success
START_GAP = 1.0  # m from the course axis to each person's start
ROBOT_BACK = 1.8  # m behind the people's start line
AHEAD = (1.5, 2.5)  # m both people walk straight ahead before their routes diverge
LEG = (4.0, 6.0)  # m from the straight part's end to the route's end
SEPARATION = 1.6  # m between the two people's routes (and the robot's way in)
FOLLOW = 1.7  # m the expert keeps behind the person


def _polyline_distance(a: np.ndarray, b: np.ndarray, step: float = 0.1) -> float:
    """Smallest distance between two polylines ``(n, 2)`` (sampled every ``step``)."""
    def sample(p: np.ndarray) -> np.ndarray:
        if len(p) == 1:
            return p
        pts = [p[0]]
        for u, v in zip(p[:-1], p[1:], strict=True):
            n = max(1, int(np.ceil(np.linalg.norm(v - u) / step)))
            pts.extend(u + (v - u) * t for t in np.linspace(0, 1, n + 1)[1:])
        return np.array(pts)

    sa, sb = sample(a), sample(b)
    return float(np.sqrt(np.min(np.sum((sa[:, None] - sb[None]) ** 2, axis=2))))


@dataclass
class _Follow(Phase):
    """Pure pursuit of the person: straight at them when in view, else along their trail."""

    task: FollowPerson
    grid: Grid
    planner: GridPlanner
    trail: list[np.ndarray] = field(default_factory=list)
    max_steps: int = 100_000
    _corners: list[np.ndarray] = field(default_factory=list)
    _replan: int = 0

    def reset(self) -> None:
        """Re-plan the A* fallback afresh; the person's trail is kept (it is where they walked,
        not state of this run)."""
        self._corners = []
        self._replan = 0

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        person = self.task.persons[self.task.target].xy
        if np.linalg.norm(person - self.trail[-1]) > 0.05:
            self.trail.append(person)
        x, y, yaw = sim.robot_base()
        here = np.array([x, y])
        goal = None
        offset = person - here
        dist = float(np.linalg.norm(offset))
        if self.grid.segment_free(here, person):
            goal = person - FOLLOW * offset / max(dist, 1e-9)
        else:  # out of sight around an obstacle: walk the person's own (collision-free) trail
            for p in reversed(self.trail):
                if np.linalg.norm(p - person) >= FOLLOW - 0.3 and self.grid.segment_free(here, p):
                    goal = p
                    break
        if goal is None:  # no trail point in view: A* towards the person (re-planned as they go)
            if self._replan <= 0 or not self._corners:
                self._corners = self.planner.corners(sim, np.array([x, y, 0.0]),
                                                     np.array([*person, 0.0]))
                self._replan = 10
            self._replan -= 1
            goal = np.asarray(self._corners[0], float)
        facing = float(np.arctan2(offset[1], offset[0]))
        cmd, _ = base_command(sim, np.array([goal[0], goal[1], facing]))
        travel = goal - here
        if np.linalg.norm(travel) > 0.3:  # a humanoid walks forward: turn before going fast
            way = float(np.arctan2(travel[1], travel[0]))
            cmd[:2] *= max(0.0, 1.0 - abs(wrap(way - yaw)) / 1.2)
        return Command(base=cmd), False


@register_task(domain="outdoor", family="navigation", max_episode_steps=500, group="navigation")
class FollowPerson(Task):
    """Follow the person in the named shirt, keeping a comfortable distance.

    **Description** — On the bumpy field two people stand side by side 2 m apart, about 2.1 m
    in front of the robot, in shirts of two different colours (trousers a darker shade of the
    same colour, which is what the head camera sees from close up). After half a second both
    walk off: straight ahead for 1.5–2.5 m, then each on their own route (4–6 m more, around
    the landmarks), and stop at its end. The instruction names one person by shirt colour
    ("follow the person in the red shirt"); the robot must follow that person, staying between
    1.2 m and 2.5 m from them and never closer than 1.0 m to anyone.

    **Randomisation** — landmark layout and colours (as in WalkToTree); the course position and
    heading on the field; both routes (straight part 1.5–2.5 m, then a leg of 4–6 m diverging
    by 0.3–1.1 rad to each person's side, planned around the landmarks); walking speeds
    0.4–0.5 m/s; whether the other person walks its route (70 %) or stays where it stands;
    which side the named person starts on; shirt colours (two of red / green / yellow / blue;
    held-out split: orange / purple / white / black); robot heading (±0.3 rad); instruction
    template. The two routes (and the robot's way in) stay ≥ 1.7 m apart.

    **Success** — the named person has reached the end of the route, the pelvis is within
    1.2–2.5 m of them (horizontal distance to the person's axis) and was inside that band for
    ≥ 80 % of the control steps since the people set off. Step budget 500 (25 s; the routes
    take 13–20 s).

    **Failure** — the pelvis comes closer than 1.0 m to either person ("too close to a
    person"); the named person has stood at the route end for 60 steps (3 s) without success
    ("lost the person"); the pelvis leaves the field.

    **Safety notes** — the env reports ``info["social"]`` (distance, approach speed and facing
    towards the nearest person) and the ``human_proximity`` cost (closer than 1.0 m plus 0.5 s
    of approach); touching a person is a collision. The task adds no cost of its own.

    **Alternatives in the scene** — the other person, who starts as close and walks the same
    way for the first 2 m: a policy that ignores the colour word follows the wrong one about
    half the time, ending ≥ 1.7 m off the named person's route.

    **Version history** — v1 (2026-11): first release.
    """

    templates = Templates(
        train=(
            "follow the person in the {color} shirt",
            "walk behind the person wearing {color} and keep up with them",
            "keep following the one in the {color} shirt, but not too close",
            "stay a little behind the person in {color} as they walk",
            "go after the person dressed in {color} and keep a safe distance",
        ),
        test=(
            "accompany the {color}-shirted person at a respectful distance wherever they go",
            "trail the individual wearing the {color} top",
            "shadow the person whose shirt is {color}, keeping some space between you",
        ),
    )
    layout: OutdoorLayout

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.persons: list[Person] = []
        self.routes: list[list[np.ndarray]] = [[], []]
        self.speeds = [0.45, 0.45]
        self.target = 0
        self.start = np.zeros(3)
        self.steps = 0  # control steps of the people's script (advanced in ``advance``)
        self.band = _Band(self)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Two people (parked until an episode places them)."""
        for name in PEOPLE:
            add_person(spec, name)

    def monitors(self) -> Sequence[Monitor]:
        """The distance-band and arrival counters ``evaluate`` reads."""
        return (self.band,)

    # -- episode ---------------------------------------------------------------------------
    def _course(self, sim: Sim, rng: np.random.Generator, planner: GridPlanner, grid: Grid
                ) -> tuple[np.ndarray, float, list[list[np.ndarray]]] | None:
        lo = np.array(self.layout.nav_bounds[::2]) + 1.0
        hi = np.array(self.layout.nav_bounds[1::2]) - 1.0
        centre = rng.uniform(lo, hi)
        # Head roughly towards the middle of the field: the routes need ~8 m of room.
        h = float(np.arctan2(-centre[1], -centre[0]) + rng.uniform(-0.8, 0.8))
        fwd = heading(h)
        perp = np.array([-fwd[1], fwd[0]])
        robot = centre - ROBOT_BACK * fwd
        routes = []
        for side in (1.0, -1.0):
            s = centre + side * START_GAP * perp
            m = s + rng.uniform(*AHEAD) * fwd
            turn = h + side * rng.uniform(0.3, 1.1)
            g = m + rng.uniform(*LEG) * heading(turn)
            if not all(grid.free(grid.cell(p)) for p in (s, m, g)):
                return None
            if not (grid.segment_free(s, m) and grid.segment_free(robot, s)):
                return None
            leg = planner.corners(sim, np.array([*m, 0.0]), np.array([*g, 0.0]))
            if path_length(m, leg) > 1.4 * np.linalg.norm(g - m):
                return None
            routes.append([s, m, *[np.asarray(p, float) for p in leg]])
        if not grid.free(grid.cell(robot)):
            return None
        return robot, h, routes

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Lay two diverging routes, dress the people, put the robot behind them."""
        planner = GridPlanner(self.layout)
        grid = planner.grid(sim)
        self.target = int(rng.integers(2))
        walks = rng.random() < 0.7
        found = None
        for _ in range(300):
            course = self._course(sim, rng, planner, grid)
            if course is None:
                continue
            robot, h, routes = course
            other = routes[1 - self.target] if walks else routes[1 - self.target][:1]
            mine = np.array([robot] + routes[self.target])
            if _polyline_distance(mine, np.array(other)) >= SEPARATION:
                found = (robot, h, routes, other)
                break
        if found is None:  # pragma: no cover - the field always has room
            raise RuntimeError("FollowPerson found no course on the field")
        robot, h, routes, other = found
        self.routes = [list(routes[0]), list(routes[1])]
        self.routes[1 - self.target] = list(other)
        self.speeds = [float(rng.uniform(*SPEED)) for _ in PEOPLE]
        colours = rng.choice(color_pool(self.held_out_objects), 2, replace=False)
        self.persons = [Person(sim, name) for name in PEOPLE]
        for k, p in enumerate(self.persons):
            p.place(self.routes[k][0], h)
            p.set_shirt(COLORS[str(colours[k])])
            self.routes[k] = self.routes[k][1:]
        self.start = np.array([robot[0], robot[1], h + rng.uniform(-0.3, 0.3)])
        sim.set_robot_base(self.start[:2], float(self.start[2]))
        self.steps = 0
        self.instruction = self.templates.sample(rng, phrasing, color=str(colours[self.target]))
        return self.instruction

    def advance(self, sim: Sim) -> None:
        """After the start delay each person walks their route; at its end, turns to the robot."""
        self.steps += 1
        if self.steps <= START_DELAY:
            return
        robot = sim.robot_base()[:2]
        for k, p in enumerate(self.persons):
            route = self.routes[k]
            if route:
                if p.walk_toward(route[0], self.speeds[k]):
                    route.pop(0)
            elif k == self.target:
                p.face(robot)
            p.step()

    def people(self, sim: Sim) -> np.ndarray:
        """Both people's positions."""
        return np.array([p.xy for p in self.persons]) if self.persons else np.zeros((0, 2))

    # -- evaluation ------------------------------------------------------------------------
    def distances(self, sim: Sim) -> np.ndarray:
        """Pelvis to each person's axis (horizontal), in person order."""
        return np.linalg.norm(self.people(sim) - sim.robot_base()[:2], axis=1)

    def in_band(self, sim: Sim) -> bool:
        """The named person is within the comfortable distance band now."""
        return bool(BAND[0] <= float(self.distances(sim)[self.target]) <= BAND[1])

    @property
    def arrived(self) -> bool:
        """The named person has walked their whole route."""
        return not self.routes[self.target]

    def evaluate(self, sim: Sim) -> Evaluation:
        """Success at the route end inside the band (most of the way); too close fails."""
        here = sim.robot_base()[:2]
        dists = self.distances(sim)
        d = float(dists[self.target])
        inside = self.in_band(sim)
        arrived = self.arrived
        counted = self.band.counted
        fraction = self.band.in_band / counted if counted else float(inside)
        success = arrived and inside and fraction >= BAND_FRACTION and counted > 0
        failure, reason = False, None
        if float(dists.min()) < MIN_DIST:
            failure, reason = True, "too close to a person"
        elif bool(np.any(np.abs(here) > FIELD_HALF)):
            failure, reason = True, "left the field"
        elif self.band.arrived_steps > LOST_AFTER and not success:
            failure, reason = True, "lost the person"
        return Evaluation(success=success and not failure, failure=failure, failure_reason=reason,
                          progress={"distance_m": d, "in_band_fraction": fraction,
                                    "route_done": float(arrived)})

    def expert(self, sim: Sim) -> Expert:
        """Pursue the named person (in view) or their trail (around obstacles) at 1.7 m."""
        planner = GridPlanner(self.layout)
        grid = planner.grid(sim, margin=0.1)
        trail = [self.start[:2].copy(), self.persons[self.target].xy]
        return Expert([_Follow(self, grid, planner, trail)])


class _Band:
    """Per-episode counts behind FollowPerson's verdict, advanced once per control step.

    ``counted``: steps since the people set off (after ``START_DELAY``); ``in_band``: those of
    them with the named person inside ``BAND``; ``arrived_steps``: steps since the named person
    reached the end of their route.
    """

    def __init__(self, task: FollowPerson) -> None:
        self.task = task
        self.counted = self.in_band = self.arrived_steps = 0

    def reset(self, sim: Sim) -> None:
        """Nothing counted yet."""
        self.counted = self.in_band = self.arrived_steps = 0

    def update(self, sim: Sim) -> None:
        """Count this step."""
        if self.task.steps > START_DELAY:
            self.counted += 1
            self.in_band += int(self.task.in_band(sim))
        self.arrived_steps += int(self.task.arrived)
