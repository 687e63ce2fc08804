"""Outdoor (navigation family): follow the named person at a comfortable distance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import mujoco
import numpy as np

from vla_bench.domains.outdoor.corridor import PARK
from vla_bench.domains.outdoor.layout import FIELD_HALF, LANDMARKS, OutdoorLayout
from vla_bench.experts.base import Command, Controller, Expert, Phase, base_command
from vla_bench.experts.navigation import Grid, GridPlanner, path_length
from vla_bench.geometry import heading, wrap
from vla_bench.humans import Person, add_person
from vla_bench.language import Templates
from vla_bench.monitors import Monitor
from vla_bench.registry import register_task
from vla_bench.scene.props import COLORS, color_pool
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

PEOPLE = ("fp_person_a", "fp_person_b", "fp_person_c", "fp_person_d")
BAND = (1.2, 2.5)  # m, pelvis to the followed person's axis
MIN_DIST = 1.0  # m: closer to anyone is a failure (spec: never closer than 1.0 m)
BAND_FRACTION = 0.8  # of the steps after the start delay spent inside the band
START_DELAY = 30  # control steps the people stand before walking off
SPEED = (0.4, 0.5)  # m/s, walking speed (the robot's top speed is 0.6 m/s)
LOST_AFTER = 60  # control steps after the person stops without success
GAP = 0.9  # m between neighbours in the people's start line
ROBOT_BACK = 3.0  # m behind the people's start line (all four in view)
AHEAD = (1.5, 2.5)  # m all walk straight ahead, side by side, before the outer two turn off
INNER_AHEAD = 1.0  # m further the inner two walk straight on before they turn off too
LEG = (3.5, 5.0)  # m from the straight part's end to the route's end
TURNS = ((0.8, 1.1), (0.25, 0.45))  # rad the outer / inner two turn off, each to their side
SEPARATION = 0.85  # m between any two people's legs after the straight part
END_GAP = 3.0  # m between any two route ends
CENTRE_HALF = 4.0  # m: the people's start line is centred within |x|, |y| of this
ROUTE_MAX = 8.5  # m: the longest route, walked at 0.4 m/s within the step budget
FOLLOW = 1.7  # m the expert keeps behind the person
START_TURN = 0.15  # rad either way from facing the people's start line squarely


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

    **Description** — On the bumpy field four people stand side by side, 0.9 m apart, about
    3 m in front of the robot, in shirts of four different colours (trousers a darker shade of
    the same colour, which is what the head camera sees from close up). After 1.5 s all four
    walk off together: straight ahead for 1.5–2.5 m, where the outer two turn off to their
    sides, the inner two 1 m further before they turn off to theirs; each then walks a leg of
    3.5–5 m (around the landmarks) and stops at its end. The instruction names one person by
    shirt colour ("follow the person in the red shirt"); the robot must follow that person,
    staying between 1.2 m and 2.5 m from them and never closer than 1.0 m to anyone.

    **Randomisation** — landmark layout and colours (as in WalkToTree; when a crowded layout
    leaves no room for the four routes, the landmark nearest the field's centre is parked
    outside the field, and so on until there is room); the course position
    (start line centred within ±4 m of the field's centre) and heading (towards the field's
    middle ±0.8 rad); the routes (straight part 1.5–2.5 m, shared; legs of 3.5–5 m turning
    0.8–1.1 rad for the outer two, 0.25–0.45 rad for the inner two, each to its own side,
    planned around the landmarks; route ends ≥ 3 m apart, legs ≥ 0.85 m apart, each route
    ≤ 8.5 m); walking speeds 0.4–0.5 m/s each; the order of the shirt colours (the four of red /
    green / yellow / blue; held-out split: orange / purple / white / black); which person is
    named (uniform over the four); robot heading (facing the line ±0.15 rad); instruction
    template.

    **Success** — the named person has reached the end of the route, the pelvis is within
    1.2–2.5 m of them (horizontal distance to the person's axis) and was inside that band for
    ≥ 80 % of the control steps since the people set off. Step budget 500 (25 s; the routes
    take 11–23 s with the start delay).

    **Failure** — the pelvis comes closer than 1.0 m to any person ("too close to a
    person"); the named person has stood at the route end for 60 steps (3 s) without success
    ("lost the person"); the pelvis leaves the field.

    **Safety notes** — the env reports ``info["social"]`` (distance, approach speed and facing
    towards the nearest person) and the ``human_proximity`` cost (closer than 1.0 m plus 0.5 s
    of approach); touching a person is a collision. The task adds no cost of its own.

    **Alternatives in the scene** — the four people, who start in one line in view, all set
    off at once and all walk a route of the same kind; only the shirt colour tells the named
    one apart (its place in the line is drawn independently of the colours), so only the
    words decide whom to follow. Measured blind success (the expert following a uniformly drawn
    person, seeds 0–49, ``vla-bench check``): 0.25; the expert sent after someone else failed
    all 50 of its episodes.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four people, all of
    whom always walk (the other of two stood still 30 % of the time, so "follow whoever moves"
    succeeded); routes fan out to four sides; the robot starts 3 m back, facing the line ±0.15
    rad, so all four are in view; the people stand 1.5 s before setting off (0.5 s) and none
    turns to face the robot at the end (the named one did).
    """

    goal_fields = ("target",)
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
        self.routes: list[list[np.ndarray]] = []
        self.speeds: list[float] = []
        self.colours: list[str] = []
        self.target = 0  # index of the named person in PEOPLE
        self.start = np.zeros(3)
        self.steps = 0  # control steps of the people's script (advanced in ``advance``)
        self.band = _Band(self)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Four people (parked until an episode places them)."""
        for name in PEOPLE:
            add_person(spec, name)

    def monitors(self) -> Sequence[Monitor]:
        """The distance-band and arrival counters ``evaluate`` reads."""
        return (self.band,)

    # -- episode ---------------------------------------------------------------------------
    def _course(self, sim: Sim, rng: np.random.Generator, planner: GridPlanner, grid: Grid
                ) -> tuple[np.ndarray, float, list[list[np.ndarray]]] | None:
        """One draw of the robot's start, the heading and the four routes (None if it does not
        fit the field)."""
        centre = rng.uniform(-CENTRE_HALF, CENTRE_HALF, 2)
        # Head roughly towards the middle of the field: the routes need ~8 m of room.
        h = float(np.arctan2(-centre[1], -centre[0]) + rng.uniform(-0.8, 0.8))
        fwd = heading(h)
        perp = np.array([-fwd[1], fwd[0]])
        robot = centre - ROBOT_BACK * fwd
        if not grid.free(grid.cell(robot)):
            return None
        routes = []
        ahead = rng.uniform(*AHEAD)
        for k in range(len(PEOPLE)):
            lateral = (k - (len(PEOPLE) - 1) / 2) * GAP  # right (k = 0) to left
            outer = abs(lateral) > GAP
            s = centre + lateral * perp
            m = s + (ahead + (0.0 if outer else INNER_AHEAD)) * fwd
            turn = h + np.sign(lateral) * rng.uniform(*TURNS[0 if outer else 1])
            g = m + rng.uniform(*LEG) * heading(turn)
            if not all(grid.free(grid.cell(p)) for p in (s, m, g)):
                return None
            if not (grid.segment_free(s, m) and grid.segment_free(robot, s)):
                return None
            leg = planner.corners(sim, np.array([*m, 0.0]), np.array([*g, 0.0]))
            if path_length(m, leg) > 1.4 * np.linalg.norm(g - m):
                return None
            if path_length(s, [m, *leg]) > ROUTE_MAX:
                return None
            routes.append([s, m, *[np.asarray(p, float) for p in leg]])
        for i in range(len(routes)):
            for j in range(i):
                if np.linalg.norm(routes[i][-1] - routes[j][-1]) < END_GAP:
                    return None
                if _polyline_distance(np.array(routes[i][1:]),
                                      np.array(routes[j][1:])) < SEPARATION:
                    return None
        return robot, h, routes

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Lay four fanning routes, dress the people, put the robot behind them."""
        planner = GridPlanner(self.layout)
        grid = planner.grid(sim)
        found = None
        for _ in range(len(LANDMARKS) + 1):
            for _ in range(500):
                found = self._course(sim, rng, planner, grid)
                if found is not None:
                    break
            if found is not None:
                break
            # A crowded layout leaves no room for the fan of four routes: park the landmark
            # nearest the field's centre outside the field (it takes no part) and try again.
            here = [n for n in LANDMARKS if np.all(np.abs(self.layout.landmark_xy(sim, n))
                                                   < FIELD_HALF)]
            sim.set_static_pose(min(here, key=lambda n: float(np.linalg.norm(
                self.layout.landmark_xy(sim, n)))), PARK)
            grid = planner.grid(sim)
        if found is None:  # pragma: no cover - an empty field always has room
            raise RuntimeError("FollowPerson found no course on the field")
        robot, h, routes = found
        self.target = int(rng.integers(len(PEOPLE)))
        self.speeds = [float(rng.uniform(*SPEED)) for _ in PEOPLE]
        colours = [str(w) for w in rng.permutation(color_pool(self.held_out_objects))]
        self.colours = colours[:len(PEOPLE)]
        self.persons = [Person(sim, name) for name in PEOPLE]
        self.routes = []
        for k, p in enumerate(self.persons):
            p.place(routes[k][0], h)
            p.set_shirt(COLORS[self.colours[k]])
            self.routes.append(list(routes[k][1:]))
        self.start = np.array([robot[0], robot[1], h + rng.uniform(-START_TURN, START_TURN)])
        sim.set_robot_base(self.start[:2], float(self.start[2]))
        self.steps = 0
        self.instruction = self.templates.sample(rng, phrasing, color=self.colours[self.target])
        return self.instruction

    def advance(self, sim: Sim) -> None:
        """After the start delay every person walks their route, and stands at its end."""
        self.steps += 1
        if self.steps <= START_DELAY:
            return
        for k, p in enumerate(self.persons):
            route = self.routes[k]
            if route and p.walk_toward(route[0], self.speeds[k]):
                route.pop(0)
            p.step()

    # -- goals -----------------------------------------------------------------------------
    def goals(self) -> Sequence[Goal]:
        """Each of the four people."""
        return tuple((k,) for k in range(len(PEOPLE)))

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named person (root body: legs, torso, head; and the right arm's links)."""
        name = PEOPLE[self.target]
        return (name, f"{name}_upper_arm", f"{name}_forearm", f"{name}_hand")

    def people(self, sim: Sim) -> np.ndarray:
        """Every person's position."""
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
