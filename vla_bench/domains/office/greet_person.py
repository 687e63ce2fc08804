"""Office (social family): walk up to the named person, face them and wave."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mujoco
import numpy as np

from vla_bench.domains.office.layout import OfficeLayout, view_heading
from vla_bench.experts.base import Command, Expert, Navigate, Phase, grasp_rotation
from vla_bench.experts.navigation import Grid, GridPlanner
from vla_bench.geometry import heading, to_robot_frame, wrap
from vla_bench.humans import PeopleAwarePlanner, Person, add_person, walk_costs
from vla_bench.language import Templates
from vla_bench.monitors import Monitor
from vla_bench.registry import register_task
from vla_bench.scene.props import COLORS, color_pool
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

PEOPLE = ("gp_person_0", "gp_person_1", "gp_person_2", "gp_person_3")
ZONE = (1.2, 2.0)  # m, pelvis to the person's axis, for a greeting
FACING = np.radians(20)  # robot heading to the bearing of the person
FACED = np.radians(30)  # person's heading to the bearing of the robot
MIN_DIST = 1.0  # m: closer to anyone fails
NOTICE = 3.0  # m: people turn to face a robot this close
RAISE = 0.45  # m: a hand counts as raised with its TCP this far above the pelvis
SWING = 0.06  # m of sideways hand travel between two reversals
SWINGS = 3  # reversals of a raised hand that make a wave
PEOPLE_GAP = 2.0  # m between people, and from the robot's start to anyone
PLACE_TRIES = 1500  # restarts of the placement
VIEW_TRIES = 100  # packings tried for a start that shows IN_VIEW people
START_TRIES = 200  # robot starts tried per placement
IN_VIEW = 3  # people a start should show (within ±24° of the heading)
STANDOFF = 1.6  # m, where the expert stops
CLEARANCE = 1.1  # m the expert's plans keep from everyone
OFF_LINE = np.radians(15)  # rad beyond the facing tolerance: someone this far off the line of
# sight to the greeted person cannot be the one greeted
AVOID_MARGIN = 0.1  # m beyond the greeting range (2.0 m) of the others: where greeting spots lie
# The expert's wave (robot frame, z from the floor): the hand beside the head, 0.23 m above
# the shoulder (about 0.52 m above the pelvis, clear of RAISE), swinging 20 cm sideways with
# the gripper pointing up. Further out or higher the arm is at full stretch and the hand
# barely swings (the old 1.38 m / 0.45-0.7 m out target, 0.31 m above this robot's shoulder:
# 4 cm, under SWING).
WAVE_LOW, WAVE_HIGH = np.array([0.15, -0.3, 1.3]), np.array([0.15, -0.5, 1.3])
WAVE_ROT = grasp_rotation(-np.pi / 2)


def reachable_spot(grid: Grid, avoid: Grid | None, start: np.ndarray, centre: np.ndarray,
                   radius: float, n: int = 36,
                   ok: Callable[[np.ndarray], bool] | None = None) -> np.ndarray | None:
    """The point on the circle ``radius`` around ``centre`` nearest to walk to from ``start``.

    Candidates must be free in ``avoid`` (e.g. away from other people), pass ``ok`` (when
    given) and be reachable in ``grid``; ``None`` when none is.
    """
    cost = walk_costs(grid, start)
    best, best_cost = None, np.inf
    for a in np.arange(n) * 2 * np.pi / n:
        p = np.asarray(centre, float) + radius * heading(a)
        if avoid is not None and not avoid.free(avoid.cell(p)):
            continue
        if ok is not None and not ok(p):
            continue
        c = cost[grid.cell(p)]
        if c < best_cost - 1e-9:
            best, best_cost = p, c
    return best


@dataclass
class WaveDetector:
    """Counts sideways reversals of a raised hand (robot frame), per hand.

    A hand is raised with its TCP ``RAISE`` above the pelvis; each time its sideways motion
    turns back after at least ``SWING`` of travel counts one swing. Lowering resets the count.
    """

    swings: dict[str, int] = field(default_factory=lambda: {"left": 0, "right": 0})
    _ext: dict[str, float] = field(default_factory=dict)
    _dir: dict[str, int] = field(default_factory=dict)

    def update(self, sim: Sim) -> int:
        """Feed one control step; return the larger swing count of the two hands."""
        base = sim.robot_base()
        pelvis_z = float(sim.pelvis_pos()[2])
        for side in ("left", "right"):
            tcp = sim.tcp(side)
            if tcp[2] - pelvis_z < RAISE:
                self.swings[side] = 0
                self._ext.pop(side, None)
                self._dir.pop(side, None)
                continue
            lateral = float(to_robot_frame(tcp[:2], base)[1])
            if side not in self._ext:
                self._ext[side], self._dir[side] = lateral, 0
                continue
            ext, d = self._ext[side], self._dir[side]
            if d == 0:  # the first SWING of travel sets the direction; no swing yet
                if abs(lateral - ext) >= SWING:
                    self._dir[side], self._ext[side] = (1 if lateral > ext else -1), lateral
            elif (lateral - ext) * d > 0:  # still going the same way: push the extreme
                self._ext[side] = lateral
            elif abs(lateral - ext) >= SWING:  # came back far enough: one swing
                self.swings[side] += 1
                self._dir[side], self._ext[side] = -d, lateral
        return max(self.swings.values())


class Greeting:
    """Monitor: wave swings made in a greeting position, and whom a completed wave greeted.

    Each control step finds the first of ``n`` people for whom ``in_position(sim, k)`` holds.
    Only swings made while the robot stays in that one person's greeting position count: the
    :class:`WaveDetector` starts over whenever that person changes (walking up, turning away,
    stepping out of range), so swings made on the way count for nobody. Once a wave is complete
    (``SWINGS`` swings) that person is greeted, and stays so for the episode (they wave back
    from then on).
    """

    def __init__(self, n: int, in_position: Callable[[Sim, int], bool]) -> None:
        self.n, self.in_position = n, in_position
        self.detector = WaveDetector()
        self.waves = 0
        self.before: int | None = None  # whose greeting position the robot is in
        self.greeted: int | None = None

    def reset(self, sim: Sim) -> None:
        """No swings, nobody greeted."""
        self.detector = WaveDetector()
        self.waves = 0
        self.before = None
        self.greeted = None

    def update(self, sim: Sim) -> None:
        """Count swings made in someone's greeting position; latch whom a wave greets."""
        before = next((k for k in range(self.n) if self.in_position(sim, k)), None)
        if before != self.before:  # a new position: earlier swings were not for this person
            self.detector = WaveDetector()
            self.before = before
        self.waves = 0 if before is None else self.detector.update(sim)
        if self.waves >= SWINGS and self.greeted is None:
            self.greeted = before


@dataclass
class _Wave(Phase):
    """Raise the right hand overhead, then swing it sideways (the expert's wave)."""

    steps: int = 0
    max_steps: int = 160

    def reset(self) -> None:
        """Start the wave over (hand up first)."""
        self.steps = 0

    def update(self, sim: Sim, ctrl: object) -> tuple[Command, bool]:
        self.steps += 1
        if self.steps < 35:
            target = (WAVE_LOW + WAVE_HIGH) / 2
        else:
            target = WAVE_HIGH if ((self.steps - 35) // 10) % 2 == 0 else WAVE_LOW
        return Command(base=np.zeros(3), tcp={"right": (target, WAVE_ROT)}), False


@register_task(domain="office", family="social", max_episode_steps=400, group="social")
class GreetPerson(Task):
    """Walk up to the named person, face them and wave.

    **Description** — Four people stand in the office (between the desk and the walls), each
    in a shirt of a different colour (trousers a darker shade of it, which is what the head
    camera sees from close up), facing random ways. The instruction names one by shirt colour
    ("greet the person in the green shirt"): the robot must walk up to them, stop at a polite
    distance facing them, and wave. People turn to face the robot once it is within 3 m; the
    greeted person waves back.

    **Randomisation** — office layout and colours (as in GoToLocation); the four people's
    positions (free floor ≥ 0.5 m from furniture, ≥ 2.0 m apart) and headings; shirt colours
    (red / green / yellow / blue shuffled; held-out split: orange / purple / white / black);
    which of them is named; robot start: free floor ≥ 2.0 m from everyone, with the heading
    (of 72) that brings the most people within ±24° of straight ahead (the first of up to 200
    starts that shows three, else the one that shows the most; never looking at who is
    named); instruction template. Placements are redrawn (up to 1500 times) where anyone
    cannot be greeted — no spot 1.6 m before them that is reachable without passing within
    1.1 m of someone and lies in nobody else's greeting position — and, for the first 100
    packings (sets of positions that fit), where no start shows three people.

    **Success** — at the control step a wave completes, the robot is in the named person's
    greeting position: the pelvis 1.2–2.0 m from them (horizontal distance to their axis),
    the robot's heading within ±20° of the bearing to them, and they face the robot (their
    heading within ±30° of the bearing to the robot). A *wave*: a hand's TCP at least 0.45 m
    above the pelvis (overhead; a hanging hand is about 0.17 m below it) that reverses its sideways
    motion (robot frame) three times, each after ≥ 6 cm of travel, without being lowered in
    between — and only swings made while the robot stays in one person's greeting position
    count: the count starts over whenever that changes (walking up, turning away), so swings
    made on the way count for nobody. Step budget 400 (20 s).

    **Failure** — a wave completes in the greeting position of another person ("greeted the
    wrong person"); the pelvis comes closer than 1.0 m to anyone ("too close to a person").

    **Safety notes** — the env reports ``info["social"]`` (distance, approach speed and facing
    towards the nearest person) and the ``human_proximity`` cost (closer than 1.0 m plus 0.5 s
    of approach); touching a person is a collision. The task adds no cost of its own.

    **Alternatives in the scene** — the three other people are valid-looking greeting
    targets, told apart only by the colour word. Measured blind success (expert toward a
    uniformly drawn alternative, seeds 0–49): 0.25 (no wrong-goal run succeeded).

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four people (was three),
    named by colour (``goals()``); only swings made in a greeting position count (swings made
    while walking up used to); the start faces the most people; every person must be
    greetable (was: the named one), the expert's plans keep 1.1 m (was 1.2 m) from people
    and its greeting spot need only lie outside the others' greeting positions. v3 (2026-12):
    the start shows three people more often: 100 packings and 200 starts per packing are tried
    for one (before: 100 draws, most of which did not fit all five positions, and 60 starts),
    which raises the named person's visibility at reset from about half the episodes to 68 %
    (seeds 0–49).
    """

    goal_fields = ("target",)
    templates = Templates(
        train=(
            "greet the person in the {color} shirt",
            "go up to the person wearing {color}, face them and wave",
            "walk over to the one in the {color} shirt and wave hello",
            "approach the person in {color} and wave to them",
            "say hello to the person dressed in {color} with a wave",
        ),
        test=(
            "head over to whoever is wearing the {color} top, turn towards them and give a wave",
            "welcome the {color}-shirted person by waving at them from nearby",
            "could you wave hi to the person whose shirt is {color}, standing in front of them",
        ),
    )
    layout: OfficeLayout

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        self.persons: list[Person] = []
        self.target = 0
        self.greeting = Greeting(len(PEOPLE), self.in_greeting_position)

    def monitors(self) -> Sequence[Monitor]:
        """The wave counter and who was greeted."""
        return (self.greeting,)

    def goals(self) -> Sequence[Goal]:
        """The four people (by index), told apart by shirt colour."""
        return [(k,) for k in range(len(PEOPLE))]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named person."""
        return (PEOPLE[self.target],)

    def build(self, spec: mujoco.MjSpec) -> None:
        """The four people (parked until an episode places them)."""
        for name in PEOPLE:
            add_person(spec, name)

    # -- episode ---------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Place the people and the robot apart on free floor; dress them; name one."""
        grid = GridPlanner(self.layout).grid(sim)
        lo = np.array(self.layout.nav_bounds[::2])
        hi = np.array(self.layout.nav_bounds[1::2])
        colours = rng.choice(color_pool(self.held_out_objects), len(PEOPLE), replace=False)
        self.persons = [Person(sim, name) for name in PEOPLE]
        self.target = int(rng.integers(len(PEOPLE)))
        viewed = 0  # packings whose start was looked for
        for _ in range(PLACE_TRIES):  # greedy packing, restarted until everyone can be
            # greeted and (for the first VIEW_TRIES packings) the start shows IN_VIEW people
            points: list[np.ndarray] = []
            for _ in range(100):
                p = rng.uniform(lo, hi)
                if grid.free(grid.cell(p)) and all(np.linalg.norm(p - q) >= PEOPLE_GAP
                                                   for q in points):
                    points.append(p)
                    if len(points) == len(PEOPLE) + 1:
                        break
            if len(points) < len(PEOPLE) + 1:
                continue
            for person, xy in zip(self.persons, points[1:], strict=True):
                person.place(xy, float(rng.uniform(-np.pi, np.pi)))
            (start, yaw), shown = self._start(grid, rng, np.array(points[1:]), points[0], lo, hi)
            viewed += 1
            if shown < IN_VIEW and viewed <= VIEW_TRIES:
                continue
            sim.set_robot_base(start, yaw)
            sim.forward_kinematics()
            if all(self.greeting_spot(sim, k) is not None for k in range(len(PEOPLE))):
                break
        else:  # pragma: no cover - the room always has room
            raise RuntimeError("GreetPerson found no solvable placement in the office")
        for person, colour in zip(self.persons, colours, strict=True):
            person.set_shirt(COLORS[str(colour)])
        self.instruction = self.templates.sample(rng, phrasing, color=str(colours[self.target]))
        return self.instruction

    @staticmethod
    def _start(grid: Grid, rng: np.random.Generator, people: np.ndarray, first: np.ndarray,
               lo: np.ndarray, hi: np.ndarray) -> tuple[tuple[np.ndarray, float], int]:
        """The robot's start: free floor ``PEOPLE_GAP`` from everyone, facing the most people
        (whoever is named: the start shows the group, not the goal). The first of
        ``START_TRIES`` spots (``first``, then random ones) that shows ``IN_VIEW`` people, else
        the one that shows the most; and how many it shows."""
        best, best_count = (first, 0.0), -1
        for k in range(START_TRIES):
            xy = first if k == 0 else rng.uniform(lo, hi)
            if k and (not grid.free(grid.cell(xy)) or
                      np.linalg.norm(people - xy, axis=1).min() < PEOPLE_GAP):
                continue
            yaw, count = view_heading(xy, people, rng)
            if count > best_count:
                best, best_count = (xy, yaw), count
            if count >= IN_VIEW:
                break
        return best, best_count

    def advance(self, sim: Sim) -> None:
        """People turn to a robot within 3 m; the greeted person waves back."""
        robot = sim.robot_base()[:2]
        for k, p in enumerate(self.persons):
            if np.linalg.norm(p.xy - robot) <= NOTICE:
                p.face(robot)
            p.gesture("wave" if self.greeting.greeted == k else "idle")
            p.step()

    def people(self, sim: Sim) -> np.ndarray:
        """The four people's positions."""
        return np.array([p.xy for p in self.persons]) if self.persons else np.zeros((0, 2))

    # -- evaluation ------------------------------------------------------------------------
    def in_greeting_position(self, sim: Sim, k: int) -> bool:
        """Robot 1.2–2.0 m from person ``k``, facing them, and they face the robot."""
        x, y, yaw = sim.robot_base()
        p = self.persons[k]
        off = p.xy - np.array([x, y])
        d = float(np.linalg.norm(off))
        bearing = float(np.arctan2(off[1], off[0]))
        return (ZONE[0] <= d <= ZONE[1] and abs(wrap(bearing - yaw)) <= FACING
                and abs(wrap(bearing + np.pi - p.yaw)) <= FACED)

    def evaluate(self, sim: Sim) -> Evaluation:
        """A completed wave greets whoever the robot stands before (the greeting monitor);
        too close fails."""
        here = sim.robot_base()[:2]
        dists = np.linalg.norm(self.people(sim) - here, axis=1)
        greeted = self.greeting.greeted
        success = greeted == self.target
        failure, reason = False, None
        if float(dists.min()) < MIN_DIST:
            failure, reason = True, "too close to a person"
        elif greeted is not None and greeted != self.target:
            failure, reason = True, "greeted the wrong person"
        in_position = self.in_greeting_position(sim, self.target)
        return Evaluation(success=success and not failure, failure=failure, failure_reason=reason,
                          progress={"distance_m": float(dists[self.target]),
                                    "in_position": float(in_position),
                                    "wave_swings": float(self.greeting.waves)})

    # -- expert ----------------------------------------------------------------------------
    def greeting_spot(self, sim: Sim, k: int | None = None) -> np.ndarray | None:
        """Where the expert greets person ``k`` (default: the named one) from: 1.6 m before
        them, reachable without passing within 1.2 m of anyone, and in nobody else's greeting
        position (each other person beyond the greeting range or well off the line of sight
        to ``k``)."""
        k = self.target if k is None else k
        planner = PeopleAwarePlanner(self.layout, self.people, clearance=CLEARANCE)
        grid = planner.grid(sim)
        target = self.persons[k].xy
        others = [p.xy for j, p in enumerate(self.persons) if j != k]

        def apart(p: np.ndarray) -> bool:
            look = np.arctan2(*(target - p)[::-1])
            return all(np.linalg.norm(o - p) >= ZONE[1] + AVOID_MARGIN
                       or abs(wrap(np.arctan2(*(o - p)[::-1]) - look)) >= FACING + OFF_LINE
                       for o in others)

        return reachable_spot(grid, None, sim.robot_base()[:2], target, STANDOFF, ok=apart)

    def expert(self, sim: Sim) -> Expert:
        """A* (around furniture and people) to 1.6 m before the named person, face, wave."""
        planner = PeopleAwarePlanner(self.layout, self.people, clearance=CLEARANCE)
        spot = self.greeting_spot(sim)
        target = self.persons[self.target].xy
        if spot is None:  # pragma: no cover - initialize only keeps solvable episodes
            spot = target + STANDOFF * np.array([1.0, 0.0])
        off = target - spot
        goal = np.array([spot[0], spot[1], float(np.arctan2(off[1], off[0]))])
        return Expert([Navigate(lambda _s: goal, tol=0.04, planner=planner, max_steps=300),
                       _Wave()])
