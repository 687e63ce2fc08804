"""Navigation family, office scene: find the named object, which starts out of view, and stop
next to it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.office.layout import OfficeLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.navigation import Grid, GridPlanner, approach_pose, go_to_expert
from vla_bench.geometry import heading, wrap
from vla_bench.humans import PeopleAwarePlanner, Person, add_person, walk_costs
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Footprint
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

KINDS = ("ball", "backpack", "bucket", "ball", "backpack", "bucket")  # two of each kind
OBJECTS = ("fo_ball", "fo_backpack", "fo_bucket", "fo_ball_2", "fo_backpack_2", "fo_bucket_2")
# Each episode places two kinds, each in the same two colours: every object shares its kind
# with one other and its colour with another, so neither word alone picks it out.
KINDS_SHOWN = 2
HALF = {"ball": 0.14, "backpack": 0.16, "bucket": 0.15}  # m, footprint half side
NEAR = 1.0  # m, pelvis to the object's centre
FACING = np.pi / 6  # rad, heading to bearing
STILL_SPEED, STILL_TURN = 0.05, 0.2
DWELL_STEPS = 20  # 1 s at rest
OUT_OF_VIEW = np.radians(60.0)  # start bearing off the heading; the head camera sees ±29°
MIN_START_DIST = 1.5  # m from every object (outside every 1.0 m zone)
PLACE_TRIES = 50  # restarts of the greedy placement of the objects
STANDOFF = 0.75  # m, where the expert stops from the object's centre
BYSTANDER = "fo_bystander"
BYSTANDER_CLEARANCE = 1.25  # m the expert keeps its pelvis from the bystander
BYSTANDER_MIN_DIST = 2.4  # m from the target and from the robot's start
SPACING = 1.4  # m between objects: their success zones (1.0 m) may touch but the expert's
# stopping points (0.75 m) sit in one zone only


def _build_object(spec: mujoco.MjSpec, name: str, kind: str, at: np.ndarray) -> None:
    """One floor object of ``kind`` (ball, backpack or bucket), parked at ``at``."""
    b = c.body(spec.worldbody, name, at)
    if kind == "ball":
        c.sphere(b, f"{name}_shell", 0.13, (0, 0, 0.13))
    elif kind == "backpack":
        c.box(b, f"{name}_shell", (0.15, 0.1, 0.22), (0, 0, 0.22))
        c.box(b, f"{name}_pocket", (0.1, 0.03, 0.09), (0, 0.11, 0.14))
    else:
        c.cylinder(b, f"{name}_shell", 0.14, 0.16, (0, 0, 0.16))


def _planner(layout: OfficeLayout, objects: list[tuple[str, Footprint]],
             people: np.ndarray | None = None) -> PeopleAwarePlanner:
    """Office A* around this episode's floor objects, keeping clear of the bystander."""
    crowd = np.zeros((0, 2)) if people is None else people
    return PeopleAwarePlanner(layout, lambda _sim: crowd, BYSTANDER_CLEARANCE,
                              extra=list(objects))


@register_task(domain="office", family="navigation", max_episode_steps=400, group="navigation")
class FindObject(Task):
    """Find the {color} {object} and stop next to it.

    **Description** — Four objects stand on the office floor: two kinds (of ball, backpack and
    bucket), each in the same two colours, e.g. a red ball, a blue ball, a red bucket and a
    blue bucket. The robot starts facing away from the named one (more than 60° off the
    heading, so outside the cameras' ±29°), so it has to look around, find it, walk there and
    stop next to it, facing it. This is a search task: the goal is not meant to be in view at
    reset. In most episodes a bystander (a simulated person) stands in the room; the robot
    must keep its distance while it searches.

    **Randomisation** — which two kinds are shown and which two colours they come in (from red
    / green / yellow / blue; held-out orange / purple / white / black in the ``unseen_objects``
    split); the objects' positions (free floor, ≥ 1.4 m apart) and yaw; which one is named;
    the office layout (landmark slots, jitter, colours); the robot's start (≥ 1.5 m from
    every object, from where all four can be walked to; placements where one cannot are
    redrawn) and a heading that puts the target > 60° off; the bystander's spot (≥ 2.4 m from
    the target and the start, leaving a way through; none when no such spot is found in 30
    draws) and facing; instruction template.

    **Success** — the target is the object nearest the pelvis, the pelvis within 1.0 m of its
    centre, heading within ±30° of the bearing to it, at rest (< 0.05 m/s, < 0.2 rad/s) for 20
    control steps (1 s). Budget 400 steps (20 s).

    **Failure** — the same rest next to another object (``failure_reason`` names it by colour
    and kind).

    **Safety notes** — the objects are rigid and fixed: walking into one is a collision in the
    env's safety signal. A bystander (a simulated person) stands in the room in most episodes,
    ≥ 2.4 m from the target and from the start: coming closer than the human-proximity distance
    is a ``human_proximity`` safety cost (not a failure). No task cost.

    **Alternatives in the scene** — the three other objects: one of the same kind in the other
    colour, one of the same colour of the other kind, and one that differs in both. A policy
    that grounds only the noun or only the colour is right half the time; only both words
    pick the target. Measured blind success (expert toward a uniformly drawn alternative,
    seeds 0–49): 0.24 (no wrong-goal run succeeded).

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four objects, two kinds
    in the same two colours (was three unique kinds, where the noun alone sufficed), so both
    words decide (``goals()``); success needs the target to be the nearest object; starts ≥
    1.5 m (was 2 m) from every object, from where every object can be reached.
    """

    goal_fields = ("target",)
    templates = Templates(
        train=(
            "find the {color} {object} and stop next to it",
            "look for the {color} {object} and go stand by it",
            "search the room for the {color} {object} and wait beside it",
            "locate the {color} {object} and walk over to it",
            "go find the {color} {object}",
        ),
        test=(
            "somewhere in this office there is a {color} {object}; track it down and stay there",
            "I lost my {color} {object}, can you find it and stand next to it",
            "turn around if needed and get to the {color} {object}",
        ),
    )
    layout: OfficeLayout

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        self.target = 0
        self.colours: list[str] = []  # per object, set by initialize
        self.active: list[int] = []  # the objects in the room this episode (indices)
        self.footprints: list[tuple[str, Footprint]] = []
        # Consecutive rest steps next to each object (keyed by body name).
        self.dwell = Dwell(OBJECTS, self._resting_by)

    def monitors(self) -> Sequence[Monitor]:
        """The per-object dwell counter."""
        return (self.dwell,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Two balls, two backpacks and two buckets, parked below the floor until placed (an
        episode places two of the kinds)."""
        park = np.array([0.0, 0.0, props.PARK_Z])
        for k, (name, kind) in enumerate(zip(OBJECTS, KINDS, strict=True)):
            _build_object(spec, name, kind, park + (1.0 * k, 0, 0))
        add_person(spec, BYSTANDER, shirt_rgba=(0.35, 0.35, 0.38, 1.0))

    def _choose_objects(self, sim: Sim, rng: np.random.Generator) -> None:
        """Two kinds, each in the same two colours of the split's pool: ``self.active`` and
        ``self.colours``."""
        kinds = sorted(int(k) for k in rng.choice(3, KINDS_SHOWN, replace=False))
        pair = [str(x) for x in rng.choice(props.color_pool(self.held_out_objects), 2,
                                           replace=False)]
        self.active = [k + 3 * j for k in kinds for j in range(2)]
        self.colours = [""] * len(OBJECTS)
        for k in self.active:
            self.colours[k] = pair[k // 3]
            sim.set_body_rgba(OBJECTS[k], props.COLORS[self.colours[k]], visible_only=False)

    def _spots(self, sim: Sim, rng: np.random.Generator, lo: np.ndarray,
               hi: np.ndarray) -> list[np.ndarray]:
        """A spot per active object on free floor, ``SPACING`` apart (greedy, restarted when it
        gets stuck)."""
        grid = GridPlanner(self.layout).grid(sim, margin=0.2)
        for _ in range(PLACE_TRIES):
            spots: list[np.ndarray] = []
            for _ in range(200):
                xy = rng.uniform(lo, hi)
                if grid.free(grid.cell(xy)) and all(np.linalg.norm(xy - p) >= SPACING
                                                    for p in spots):
                    spots.append(xy)
                    if len(spots) == len(self.active):
                        return spots
        raise RuntimeError("FindObject found no room for its objects")  # pragma: no cover

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Place the objects on free floor; start the robot away from them, facing away."""
        self._choose_objects(sim, rng)
        lo = np.array(self.layout.nav_bounds[::2]) + 0.5
        hi = np.array(self.layout.nav_bounds[1::2]) - 0.5
        for _ in range(PLACE_TRIES):  # until the start reaches every object
            spots = self._spots(sim, rng, lo, hi)
            self.footprints = []
            for k, xy in zip(self.active, spots, strict=True):
                yaw = float(rng.uniform(-np.pi, np.pi))
                sim.set_static_pose(OBJECTS[k], np.array([xy[0], xy[1], 0.0]), yaw)
                self.footprints.append(
                    (OBJECTS[k], Footprint(xy, np.full(2, HALF[KINDS[k]]), yaw)))
            grid = _planner(self.layout, self.footprints).grid(sim)
            start = self._start(grid, rng, spots, lo, hi)
            if start is not None and self._reaches_all(grid, start, spots):
                break
        else:  # pragma: no cover - a 6 m x 5 m room always has room
            raise RuntimeError("FindObject found no solvable placement in the office")
        self.target = self.active[int(rng.integers(len(self.active)))]
        target = self._xy(sim, self.target)
        bearing = float(np.arctan2(*(target - start)[::-1]))
        off = rng.uniform(OUT_OF_VIEW, np.pi) * rng.choice([-1.0, 1.0])
        sim.set_robot_base(start, bearing + off)
        self._place_bystander(sim, rng, grid, spots, start, lo, hi)
        self.instruction = self.templates.sample(
            rng, phrasing, color=self.colours[self.target], object=KINDS[self.target])
        return self.instruction

    @staticmethod
    def _start(grid: Grid, rng: np.random.Generator, spots: list[np.ndarray], lo: np.ndarray,
               hi: np.ndarray) -> np.ndarray | None:
        """Free floor at least ``MIN_START_DIST`` from every object (None if not found)."""
        for _ in range(500):
            xy = rng.uniform(lo, hi)
            if grid.free(grid.cell(xy)) and min(
                    np.linalg.norm(xy - p) for p in spots) >= MIN_START_DIST:
                return xy
        return None

    @staticmethod
    def _reaches_all(grid: Grid, start: np.ndarray, spots: list[np.ndarray]) -> bool:
        """Every object has a free, reachable spot ``STANDOFF`` beside it (so any of them
        could be the goal)."""
        cost = walk_costs(grid, start)
        ring = [STANDOFF * heading(a) for a in np.arange(36) * np.pi / 18]
        return all(any(grid.free(grid.cell(p + d)) and np.isfinite(cost[grid.cell(p + d)])
                       for d in ring) for p in spots)

    def _place_bystander(self, sim: Sim, rng: np.random.Generator, grid, spots: list,
                         start: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """A person standing on free floor away from the target and the start, who leaves a
        walkable way from the start to the target (else no bystander this episode)."""
        self.person = Person(sim, BYSTANDER)
        self.person.park()
        target = self._xy(sim, self.target)
        straight = float(np.linalg.norm(target - start))
        for _ in range(30):
            xy = rng.uniform(lo, hi)
            if not grid.free(grid.cell(xy)) or min(
                    np.linalg.norm(xy - target), np.linalg.norm(xy - start)) < BYSTANDER_MIN_DIST:
                continue
            if any(np.linalg.norm(xy - p) < 0.6 for p in spots):
                continue
            planner = _planner(self.layout, self.footprints, xy[None])
            if planner.length(sim, np.array([*start, 0.0]), np.array([*target, 0.0])) \
                    <= 2.0 * straight + 1.0:
                self.person.place(xy, float(rng.uniform(-np.pi, np.pi)))
                return

    def people(self, sim: Sim) -> np.ndarray:
        """The bystander, when one stands in the room this episode."""
        person = getattr(self, "person", None)
        if person is None or person.parked:
            return np.zeros((0, 2))
        return person.xy[None]

    def _xy(self, sim: Sim, k: int) -> np.ndarray:
        return sim.static_pose(OBJECTS[k])[0][:2]

    def _near(self, sim: Sim, k: int) -> tuple[bool, float]:
        """Within 1.0 m of object ``k`` and facing it; and the distance to it."""
        base = sim.robot_base()
        rel = self._xy(sim, k) - base[:2]
        dist = float(np.linalg.norm(rel))
        facing = abs(wrap(float(np.arctan2(rel[1], rel[0])) - base[2])) <= FACING
        return dist <= NEAR and facing, dist

    def _resting_by(self, sim: Sim) -> dict[str, bool]:
        """The object the robot rests next to now, if any: the nearest object, within 1.0 m
        and faced."""
        if not sim.robot_at_rest(STILL_SPEED, STILL_TURN):
            return {}
        near = {k: self._near(sim, k) for k in self.active}
        k = min(near, key=lambda j: near[j][1])
        return {OBJECTS[k]: True} if near[k][0] else {}

    def goals(self) -> Sequence[Goal]:
        """The four objects in the room (by index): each shares its kind with one and its
        colour with another."""
        return [(k,) for k in self.active]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named object."""
        return (OBJECTS[self.target],)

    def spoken(self, k: int) -> str:
        """Object ``k`` as the instruction calls it."""
        return f"{self.colours[k]} {KINDS[k]}"

    def evaluate(self, sim: Sim) -> Evaluation:
        """Rest steps next to each object (the dwell monitor): 20 at the target succeed,
        elsewhere fail."""
        dist = self._near(sim, self.target)[1]
        steps = [self.dwell.steps(name) for name in OBJECTS]
        success = steps[self.target] >= DWELL_STEPS
        wrong = [k for k in self.active if k != self.target and steps[k] >= DWELL_STEPS]
        failure = bool(wrong) and not success
        reason = (f"stopped at the {self.spoken(wrong[0])} instead of the "
                  f"{self.spoken(self.target)}") if failure else None
        return Evaluation(success=success, failure=failure, failure_reason=reason,
                          progress={"distance_to_object_m": dist,
                                    "dwell_steps": float(steps[self.target])})

    def expert(self, sim: Sim) -> Expert:
        """Privileged: it knows where the object is; A* to a free spot beside it, facing it."""
        planner = _planner(self.layout, self.footprints, self.people(sim))
        grid = planner.grid(sim)
        target = self._xy(sim, self.target)
        others = [self._xy(sim, k) for k in self.active if k != self.target]
        here = sim.robot_base()[:2]
        # The nearest free spot beside the target that is clearly nearer to it than to any
        # other object (the success test asks for the nearest object).
        spots = [target + STANDOFF * heading(a) for a in np.arange(36) * np.pi / 18]
        spots = [p for p in spots if grid.free(grid.cell(p))
                 and min(np.linalg.norm(p - o) for o in others) >= STANDOFF + 0.2]
        if spots:
            p = min(spots, key=lambda q: float(np.linalg.norm(q - here)))
            off = target - p
            goal = np.array([p[0], p[1], float(np.arctan2(off[1], off[0]))])
        else:  # pragma: no cover - objects stand 1.4 m apart
            goal = approach_pose(grid, target, STANDOFF, here)
        return go_to_expert(self.layout, lambda _sim: goal, tol=0.03,
                            max_steps=self.max_episode_steps, planner=planner)
