"""Navigation family, office scene: find the named object, which starts out of view, and stop
next to it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.office.layout import OfficeLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.navigation import GridPlanner, approach_pose, go_to_expert
from vla_bench.geometry import wrap
from vla_bench.humans import PeopleAwarePlanner, Person, add_person
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Footprint
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

KINDS = ("ball", "backpack", "bucket")
OBJECTS = tuple(f"fo_{kind}" for kind in KINDS)
HALF = {"ball": 0.14, "backpack": 0.16, "bucket": 0.15}  # m, footprint half side
NEAR = 1.0  # m, pelvis to the object's centre
FACING = np.pi / 6  # rad, heading to bearing
STILL_SPEED, STILL_TURN = 0.05, 0.2
DWELL_STEPS = 20  # 1 s at rest
OUT_OF_VIEW = np.radians(60.0)  # start bearing off the heading; the head camera sees ±29°
MIN_START_DIST = 2.0  # m from every object
STANDOFF = 0.75  # m, where the expert stops from the object's centre
BYSTANDER = "fo_bystander"
BYSTANDER_CLEARANCE = 1.25  # m the expert keeps its pelvis from the bystander
BYSTANDER_MIN_DIST = 2.4  # m from the target and from the robot's start
SPACING = 1.4  # m between objects: their success zones (1.0 m) may touch but the expert's
# stopping points (0.75 m) sit in one zone only


def _planner(layout: OfficeLayout, objects: list[Footprint],
             people: np.ndarray | None = None) -> PeopleAwarePlanner:
    """Office A* around this episode's floor objects, keeping clear of the bystander."""
    crowd = np.zeros((0, 2)) if people is None else people
    return PeopleAwarePlanner(layout, lambda _sim: crowd, BYSTANDER_CLEARANCE,
                              extra=list(zip(OBJECTS, objects, strict=True)))


@register_task(domain="office", family="navigation", max_episode_steps=400, group="navigation")
class FindObject(Task):
    """Find the {color} {object} and stop next to it.

    **Description** — Three objects stand on the office floor: a ball, a backpack and a bucket.
    The robot starts facing away from the named one (it is outside the head camera's view, more
    than 60° off the heading), so it has to look around, find it, walk there and stop next to
    it, facing it. In most episodes a bystander (a simulated person) stands in the room; the
    robot must keep its distance while it searches.

    **Randomisation** — the objects' colours (from red / green / yellow / blue; held-out orange
    / purple / white / black in the ``unseen_objects`` split) with two of the three sharing a
    colour, so that both the colour and the noun are needed; their positions (free floor, ≥ 1.4
    m apart) and yaw; which one is named; the office layout (landmark slots, jitter, colours);
    the robot's start (≥ 2 m from every object) and a heading that puts the target > 60° off;
    the bystander's spot (≥ 2.4 m from the target and the start, leaving a way through; none
    when no such spot is found in 30 draws) and facing;
    instruction template.

    **Success** — the pelvis within 1.0 m of the target's centre, heading within ±30° of the
    bearing to it, at rest (< 0.05 m/s, < 0.2 rad/s) for 20 control steps (1 s). Budget 400
    steps (20 s).

    **Failure** — the same rest next to another object (``failure_reason`` names it).

    **Safety notes** — the objects are rigid and fixed: walking into one is a collision in the
    env's safety signal. A bystander (a simulated person) stands in the room in most episodes,
    ≥ 2.4 m from the target and from the start: coming closer than the human-proximity distance
    is a ``human_proximity`` safety cost (not a failure). No task cost.

    **Alternatives in the scene** — the two other objects; one of them has the target's colour
    and the other has a different one, so a policy that hears only the colour or only the noun
    is right at most half the time.

    **Version history** — v1 (2026-11): first release.
    """

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
        self.footprints: list[Footprint] = []
        # Consecutive rest steps next to each object (keyed by body name).
        self.dwell = Dwell(OBJECTS, self._resting_by)

    def monitors(self) -> Sequence[Monitor]:
        """The per-object dwell counter."""
        return (self.dwell,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """A ball, a backpack and a bucket, parked below the floor until placed."""
        park = np.array([0.0, 0.0, props.PARK_Z])
        ball = c.body(spec.worldbody, OBJECTS[0], park)
        c.sphere(ball, f"{OBJECTS[0]}_shell", 0.13, (0, 0, 0.13))
        bag = c.body(spec.worldbody, OBJECTS[1], park + (1.0, 0, 0))
        c.box(bag, f"{OBJECTS[1]}_shell", (0.15, 0.1, 0.22), (0, 0, 0.22))
        c.box(bag, f"{OBJECTS[1]}_pocket", (0.1, 0.03, 0.09), (0, 0.11, 0.14))
        bucket = c.body(spec.worldbody, OBJECTS[2], park + (2.0, 0, 0))
        c.cylinder(bucket, f"{OBJECTS[2]}_shell", 0.14, 0.16, (0, 0, 0.16))
        add_person(spec, BYSTANDER, shirt_rgba=(0.35, 0.35, 0.38, 1.0))

    def _colour_objects(self, sim: Sim, rng: np.random.Generator) -> list[str]:
        pool = props.color_pool(self.held_out_objects)
        a, b = rng.choice(pool, 2, replace=False)
        colours = [str(a), str(a), str(b)]
        order = rng.permutation(len(KINDS))
        colours = [colours[i] for i in order]
        for name, colour in zip(OBJECTS, colours, strict=False):
            sim.set_body_rgba(name, props.COLORS[colour], visible_only=False)
        return colours

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Place the objects on free floor; start the robot away from them, facing away."""
        colours = self._colour_objects(sim, rng)
        base = GridPlanner(self.layout)
        grid = base.grid(sim, margin=0.2)
        lo = np.array(self.layout.nav_bounds[::2]) + 0.5
        hi = np.array(self.layout.nav_bounds[1::2]) - 0.5
        spots: list[np.ndarray] = []
        while len(spots) < len(KINDS):
            xy = rng.uniform(lo, hi)
            if grid.free(grid.cell(xy)) and all(np.linalg.norm(xy - p) >= SPACING for p in spots):
                spots.append(xy)
        self.footprints = []
        for name, kind, xy in zip(OBJECTS, KINDS, spots, strict=False):
            yaw = float(rng.uniform(-np.pi, np.pi))
            sim.set_static_pose(name, np.array([xy[0], xy[1], 0.0]), yaw)
            self.footprints.append(Footprint(xy, np.full(2, HALF[kind]), yaw))
        self.target = int(rng.integers(len(KINDS)))
        planner = _planner(self.layout, self.footprints)
        grid = planner.grid(sim)
        target = spots[self.target]
        start = None
        for _ in range(500):
            xy = rng.uniform(lo, hi)
            if not grid.free(grid.cell(xy)):
                continue
            if min(np.linalg.norm(xy - p) for p in spots) < MIN_START_DIST:
                continue
            start = xy
            break
        if start is None:  # pragma: no cover - a 6 m x 5 m room always has such a spot
            start = np.array([lo[0], lo[1]])
        bearing = float(np.arctan2(*(target - start)[::-1]))
        off = rng.uniform(OUT_OF_VIEW, np.pi) * rng.choice([-1.0, 1.0])
        sim.set_robot_base(start, bearing + off)
        self._place_bystander(sim, rng, grid, spots, start, lo, hi)
        self.instruction = self.templates.sample(
            rng, phrasing, color=colours[self.target], object=KINDS[self.target])
        return self.instruction

    def _place_bystander(self, sim: Sim, rng: np.random.Generator, grid, spots: list,
                         start: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """A person standing on free floor away from the target and the start, who leaves a
        walkable way from the start to the target (else no bystander this episode)."""
        self.person = Person(sim, BYSTANDER)
        self.person.park()
        target = spots[self.target]
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
        """For each object: the robot is next to it, facing it and at rest, now."""
        still = sim.robot_at_rest(STILL_SPEED, STILL_TURN)
        return {OBJECTS[k]: still and self._near(sim, k)[0] for k in range(len(KINDS))}

    def evaluate(self, sim: Sim) -> Evaluation:
        """Rest steps next to each object (the dwell monitor): 20 at the target succeed,
        elsewhere fail."""
        dists = [self._near(sim, k)[1] for k in range(len(KINDS))]
        steps = [self.dwell.steps(name) for name in OBJECTS]
        success = steps[self.target] >= DWELL_STEPS
        wrong = [k for k in range(len(KINDS)) if k != self.target and steps[k] >= DWELL_STEPS]
        failure = bool(wrong) and not success
        reason = f"stopped at the {KINDS[wrong[0]]} instead of the {KINDS[self.target]}" \
            if failure else None
        return Evaluation(success=success, failure=failure, failure_reason=reason,
                          progress={"distance_to_object_m": dists[self.target],
                                    "dwell_steps": float(steps[self.target])})

    def expert(self, sim: Sim) -> Expert:
        """Privileged: it knows where the object is; A* to a free spot beside it, facing it."""
        planner = _planner(self.layout, self.footprints, self.people(sim))
        grid = planner.grid(sim)
        goal = approach_pose(grid, self._xy(sim, self.target), STANDOFF, sim.robot_base()[:2])
        return go_to_expert(self.layout, lambda _sim: goal, tol=0.03,
                            max_steps=self.max_episode_steps, planner=planner)
