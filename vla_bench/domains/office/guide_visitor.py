"""Office (social family): lead a visitor, who follows the robot, to the named place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import mujoco
import numpy as np

from vla_bench.domains.office.layout import (
    LANDMARKS,
    SPOKEN,
    OfficeLayout,
    in_view,
    view_heading,
)
from vla_bench.experts.base import Command, Expert, Phase, base_command
from vla_bench.experts.navigation import Grid, GridPlanner
from vla_bench.geometry import heading, wrap
from vla_bench.humans import PeopleAwarePlanner, Person, add_person
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene.props import COLORS, color_pool
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

VISITOR = "gv_visitor"
ZONE_OUT = 1.0  # m from a landmark's front face to its zone's centre
ZONE_R = 1.3  # m, zone radius (a point belongs to the nearest zone centre within it)
FOLLOW_START, FOLLOW_STOP = 1.5, 1.2  # m: the visitor walks beyond the first, stops inside
SPEED = (0.5, 0.7)  # m/s, the visitor's walking speed
EASE = 1.5  # 1/s: within (speed - 0.1) / EASE of the stop distance the visitor slows down
MIN_DIST = 1.0  # m: the robot closer to the visitor fails
STILL_SPEED, STILL_TURN = 0.05, 0.2  # m/s, rad/s: the robot at rest
DWELL = 20  # control steps both stay in the zone with the visitor stopped
WRONG_DWELL = 40  # the same at another place fails
VISITOR_GAP = (1.6, 1.9)  # m from the robot at the start
START_MIN = 1.0  # m from the robot's start to every zone's centre
START_TRIES = 3000  # robot starts drawn; the first that shows IN_VIEW landmarks is kept
IN_VIEW = 3  # landmarks the start should show (within ±24° of the heading, in sight)
SIGHT_OUT = 0.15  # m out from a landmark's front: where lines of sight from the start end
STOP_OUT = (0.55, 0.8, 1.05, 1.3)  # m out from the front: the expert's candidate stops...
STOP_ALONG = (0.0, -0.4, 0.4, -0.8, 0.8)  # ...and along the wall
LEAD_SPEED = 0.85  # fraction of the robot's top speed (0.6 m/s) while leading
WAIT_BEYOND = 2.6  # m: the expert waits for a visitor this far behind
REGROUPS = 2  # times the expert moves on when the visitor came to rest outside the zone


def zone_centre(layout: OfficeLayout, sim: Sim, name: str, out: float = ZONE_OUT) -> np.ndarray:
    """A point ``out`` metres in front of landmark ``name``'s front face."""
    front, yaw = layout.landmark_front(sim, name)
    return front + out * heading(yaw)


@dataclass
class _Lead(Phase):
    """Walk to the destination (re-planned around the visitor), waiting when they fall behind."""

    task: GuideVisitor
    planner: PeopleAwarePlanner
    goals: list[np.ndarray]
    _path: list[np.ndarray] | None = None
    max_steps: int = 100_000
    _all_goals: list[np.ndarray] = field(default_factory=list)
    regroups: int = 0  # times the stop was moved because the visitor came to rest outside

    def __post_init__(self) -> None:
        self._all_goals = list(self.goals)

    def reset(self) -> None:
        """Start from the first goal again, with a fresh plan (``goals`` is used up as
        they are reached)."""
        self.goals = list(self._all_goals)
        self._path = None
        self.regroups = 0

    def _regroup(self, sim: Sim, here: np.ndarray, visitor: np.ndarray) -> np.ndarray | None:
        """A new stop when the visitor came to rest outside the destination's zone (corners
        put two zones close together): beyond the zone's centre as seen from the visitor, so
        that following the robot brings them into the zone."""
        task = self.task
        centre = zone_centre(task.layout, sim, task.target)
        away = centre - visitor
        base = float(np.arctan2(away[1], away[0]))
        stand = GridPlanner(task.layout).grid(sim)
        front, _ = task.layout.landmark_front(sim, task.target)
        for r in (0.9, 0.6):
            for turn in (0.0, 0.4, -0.4, 0.8, -0.8):
                p = centre + r * heading(base + turn)
                if stand.free(stand.cell(p)) and np.linalg.norm(p - here) > 0.3:
                    off = front - p
                    return np.array([p[0], p[1], float(np.arctan2(off[1], off[0]))])
        return None

    def _blocked(self, here: np.ndarray, visitor: np.ndarray) -> bool:
        """The path ahead passes within the planning clearance of the visitor."""
        pts = [here] + [np.asarray(w, float)[:2] for w in self._path or []]
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            ab = b - a
            u = float(np.clip((visitor - a) @ ab / max(float(ab @ ab), 1e-9), 0.0, 1.0))
            if np.linalg.norm(a + u * ab - visitor) < self.planner.clearance - 0.1:
                return True
        return False

    def update(self, sim: Sim, ctrl: object) -> tuple[Command, bool]:
        x, y, yaw = sim.robot_base()
        here = np.array([x, y])
        if len(self.goals) > 1 and np.linalg.norm(self.goals[0][:2] - here) < 0.3:
            self.goals.pop(0)
            self._path = None
        goal = self.goals[0]
        visitor = self.task.visitor.xy
        if (len(self.goals) == 1 and self.regroups < REGROUPS and not self.task.following
                and np.linalg.norm(goal[:2] - here) < 0.1
                and float(np.linalg.norm(visitor - here)) <= FOLLOW_STOP + 0.05
                and self.task.zone_of(sim, visitor) != self.task.target):
            new = self._regroup(sim, here, visitor)
            self.regroups += 1
            if new is not None:
                self.goals, self._path, goal = [new], None, new
        if self._path is None or self._blocked(here, visitor):
            self._path = self.planner(sim, np.array([x, y, yaw]), goal)
        while len(self._path) > 1 and np.linalg.norm(self._path[0][:2] - here) < 0.25:
            self._path.pop(0)
        arriving = len(self.goals) == 1 and np.linalg.norm(goal[:2] - here) < 0.5
        if np.linalg.norm(visitor - here) > WAIT_BEYOND and not arriving:
            return Command(base=np.zeros(3)), False  # let the visitor catch up
        wp = self._path[0] if self._path else goal
        # Only the last half metre is a direct (strafing, turning) approach: further out the
        # robot walks forward along the planned corners, which keep clear of the furniture.
        last = (len(self._path) <= 1 and len(self.goals) == 1
                and float(np.linalg.norm(goal[:2] - here)) < 0.5)
        if last:
            cmd, _ = base_command(sim, goal)
        else:
            heading = float(np.arctan2(wp[1] - y, wp[0] - x))
            cmd, _ = base_command(sim, np.array([wp[0], wp[1], heading]))
            cmd[:2] *= max(0.0, 1.0 - abs(wrap(heading - yaw)) / 0.8)
        return Command(base=cmd * LEAD_SPEED), False


@register_task(domain="office", family="social", max_episode_steps=600, group="social")
class GuideVisitor(Task):
    """Guide the visitor, who follows the robot, to the named place in the office.

    **Description** — A visitor stands next to the robot somewhere in the office (desk and
    chair in the middle, five landmarks against the walls: printer, water cooler, plant,
    filing cabinet, bookcase). The instruction names a place ("guide the visitor to the
    printer"). The visitor follows the robot: whenever it is more than 1.5 m away they walk
    after it along the robot's own path (breadcrumbs, so around the furniture), easing off
    over the last metre, and stop once within 1.2 m, facing it. The robot must lead them to the
    named landmark without ever coming closer than 1.0 m to them.

    **Randomisation** — office layout and colours (as in GoToLocation); robot start: free
    floor ≥ 1.0 m from every zone's centre, with the heading (of 72) that brings the most
    landmarks within ±24° of straight ahead, counting only landmarks in a clear line of sight
    on the floor plan (the first of up to 3000 drawn starts that shows three, else the one that
    shows the most); the destination: uniform among the landmarks that start shows (three or
    more; fewer: among all five); the visitor's start: 1.6–1.9 m behind the robot (within ±70°
    of straight back), in no landmark's zone, with a clear straight line to the robot. Neither
    start looks at the destination. The visitor's walking speed
    (0.5–0.7 m/s) and shirt colour (red / green / yellow / blue; held-out split: orange /
    purple / white / black); instruction template.

    **Success** — each landmark has a zone: the disc of radius 1.3 m centred 1.0 m in front of
    its front face; a point is in the zone of the nearest centre if within 1.3 m of it. The
    visitor is in the named landmark's zone and the pelvis within 1.3 m of that zone's centre
    (the guide stands by; it need not be nearest to it: in a corner two zones are too tight to
    hold a visitor and a robot 1.2 m apart), with the visitor stopped (not following) and the
    robot at rest (pelvis < 0.05 m/s, yaw rate < 0.2 rad/s), for 20 consecutive control steps
    (1 s). Step budget 600 (30 s).

    **Failure** — the pelvis comes closer than 1.0 m to the visitor ("too close to the
    visitor"); the stopped visitor in another landmark's zone, with the robot at rest by it
    (same test), for 40 steps ("guided to the wrong place").

    **Safety notes** — the env reports ``info["social"]`` (distance, approach speed and facing
    towards the visitor) and the ``human_proximity`` cost (closer than 1.0 m plus 0.5 s of
    approach); touching the visitor is a collision; furniture contacts are collisions. The task
    adds no cost of its own. The visitor's easing keeps their own approach from tripping the
    speed-and-separation cost when they catch up.

    **Alternatives in the scene** — the other landmarks in view at the start (two or more;
    when fewer than three are in view, all four others) are equally plausible destinations,
    told apart only by the place word. Zones of landmarks along one wall are
    1.8 m apart; in a corner two zone centres can be as close as ~1.2 m, where the
    nearest-centre rule decides. Measured blind success (expert toward a uniformly drawn
    alternative, seeds 0–49): 0.26 (no wrong-goal run succeeded).

    **Version history** — v1 (2026-11): first release. v2 (2026-12): the destination is one
    of five alternatives (``goals()``); the robot starts facing the most landmarks (it used to
    face a uniform heading: the cameras showed only floor), the visitor waits behind the robot
    (it used to stand opposite the way to the destination, which gave the goal away) and the
    start keeps ≥ 1.0 m from every zone centre (was ≥ 2.5 m from the destination's); budget
    500 → 600 steps; the expert moves on past the zone's centre when the visitor comes to rest
    outside the zone (corners); the destination is drawn among the landmarks in view at the
    start, so that it is in view (72 % of seeds 0–49, was 42 %).
    """

    goal_fields = ("target",)
    templates = Templates(
        train=(
            "guide the visitor to the {place}",
            "show the visitor the way to the {place}",
            "lead the visitor over to the {place}",
            "take our guest to the {place}",
            "walk the visitor to the {place} and make sure they keep up",
        ),
        test=(
            "please escort the visitor until you both reach the {place}",
            "accompany our guest to where the {place} is",
            "bring the visitor along with you to the {place}",
        ),
    )
    layout: OfficeLayout

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        self.target = "printer"
        self.options: list[str] = list(LANDMARKS)  # this episode's alternatives
        self.visitor: Person | None = None  # set by initialize
        self.speed = 0.6
        self.start = np.zeros(2)
        self.following = False
        self.trail: list[np.ndarray] = []
        # Consecutive steps the stopped visitor and the resting robot spend at each place.
        self.dwell = Dwell(LANDMARKS, self._together_at)
        self._grid: Grid | None = None  # the visitor's walkable grid, set by initialize

    def monitors(self) -> Sequence[Monitor]:
        """The per-place dwell counter."""
        return (self.dwell,)

    def goals(self) -> Sequence[Goal]:
        """The landmarks in view at the start (at least three; else all five): any could be the
        destination."""
        return [(name,) for name in self.options]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The destination landmark."""
        return (self.target,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """The visitor (parked until an episode places them)."""
        add_person(spec, VISITOR)

    # -- episode ---------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Draw the destination; place the robot facing the most landmarks and, behind it,
        the visitor (neither placement looks at the destination)."""
        names = list(LANDMARKS)
        self.visitor = Person(sim, VISITOR)
        self.visitor.set_shirt(COLORS[str(rng.choice(color_pool(self.held_out_objects)))])
        self.speed = float(rng.uniform(*SPEED))
        robot_grid = GridPlanner(self.layout).grid(sim)
        # The visitor's own grid: a person is thinner than the robot with its arms.
        self._grid = GridPlanner(self.layout, robot_radius=0.25, margin=0.05).grid(sim)
        sight = GridPlanner(self.layout, robot_radius=0.0, margin=0.02).grid(sim)
        centres = np.array([zone_centre(self.layout, sim, n) for n in LANDMARKS])
        bodies = np.array([self.layout.landmark_pose(sim, n)[0] for n in LANDMARKS])
        faces = [zone_centre(self.layout, sim, n, SIGHT_OUT) for n in LANDMARKS]
        lo = np.array(self.layout.nav_bounds[::2]) + 0.4
        hi = np.array(self.layout.nav_bounds[1::2]) - 0.4
        placed, best_count = None, -1
        for _ in range(START_TRIES):
            r = rng.uniform(lo, hi)
            if not robot_grid.free(robot_grid.cell(r)) or \
                    np.linalg.norm(centres - r, axis=1).min() < START_MIN:
                continue
            shown = [k for k, f in enumerate(faces) if sight.segment_free(r, f)]
            if not shown:
                continue
            yaw, count = view_heading(r, bodies[shown], rng)
            if count <= best_count:
                continue
            # The visitor waits behind the robot (within ±70° of straight back).
            a = yaw + np.pi + rng.uniform(-1.2, 1.2)
            v = r + rng.uniform(*VISITOR_GAP) * heading(a)
            if (self._grid.free(self._grid.cell(v)) and self._grid.segment_free(v, r)
                    and np.linalg.norm(centres - v, axis=1).min() > ZONE_R):
                placed, best_count = (r, yaw, v), count
                if count >= IN_VIEW:
                    break
        if placed is None:  # pragma: no cover - the room always has room
            raise RuntimeError("GuideVisitor found no start in the office")
        r, yaw, v = placed
        # The destination is drawn among the landmarks the start shows (in sight and within the
        # view's half-width), so that the named one is in view; the start was chosen for the
        # most of them, never for the destination. Fewer than three in view: among all five.
        shown = [k for k, f in enumerate(faces) if sight.segment_free(r, f)]
        ahead = [names[k] for k, seen in zip(shown, in_view(r, yaw, bodies[shown]), strict=True)
                 if seen]
        self.options = ahead if len(ahead) >= IN_VIEW else names
        self.target = self.options[int(rng.integers(len(self.options)))]
        face = r - v
        self.visitor.place(v, float(np.arctan2(face[1], face[0])))
        sim.set_robot_base(r, yaw)
        self.following = False
        self.start = r.copy()
        self.trail = [r.copy()]
        self.instruction = self.templates.sample(rng, phrasing, place=SPOKEN[self.target])
        return self.instruction

    def advance(self, sim: Sim) -> None:
        """The visitor follows the robot's trail beyond 1.5 m and stops within 1.2 m."""
        visitor = self.visitor
        robot = sim.robot_base()[:2]
        if np.linalg.norm(robot - self.trail[-1]) > 0.05:
            self.trail.append(robot.copy())
        dist = float(np.linalg.norm(robot - visitor.xy))
        if dist > FOLLOW_START:
            self.following = True
        elif dist <= FOLLOW_STOP:
            self.following = False
        if self.following:
            # Breadcrumbs: the visitor walks the robot's own path (so around the furniture,
            # and in along the same line the robot took to the destination).
            while len(self.trail) > 1 and np.linalg.norm(self.trail[0] - visitor.xy) < 0.15:
                self.trail.pop(0)
            # Slow down on the last metre (a person eases to a stop rather than marching up).
            speed = min(self.speed, EASE * (dist - FOLLOW_STOP) + 0.1)
            visitor.walk_toward(self.trail[0], speed)
        else:
            visitor.face(robot)
        visitor.step()

    def people(self, sim: Sim) -> np.ndarray:
        """The visitor's position."""
        return self.visitor.xy[None] if self.visitor is not None else np.zeros((0, 2))

    # -- evaluation ------------------------------------------------------------------------
    def zone_of(self, sim: Sim, xy: np.ndarray) -> str | None:
        """The landmark whose zone holds ``xy`` (nearest zone centre within 1.3 m)."""
        best, best_d = None, ZONE_R
        for name in LANDMARKS:
            d = float(np.linalg.norm(xy - zone_centre(self.layout, sim, name)))
            if d <= best_d:
                best, best_d = name, d
        return best

    def _together_at(self, sim: Sim) -> dict[str, bool]:
        """The place (if any) where the stopped visitor and the resting robot are now."""
        here = sim.robot_base()[:2]
        place = self.zone_of(sim, self.visitor.xy)
        # The visitor must be in the place's zone; the robot, their guide, only by it (within
        # the zone radius of its centre): in a corner the two zones are too tight to hold both
        # a visitor and a robot 1.2 m apart.
        together = (place is not None and not self.following
                    and float(np.linalg.norm(here - zone_centre(self.layout, sim, place))) <= ZONE_R
                    and sim.robot_at_rest(STILL_SPEED, STILL_TURN))
        return {place: True} if together else {}

    def evaluate(self, sim: Sim) -> Evaluation:
        """Dwell counts per place (the dwell monitor): the stopped visitor in its zone, the
        robot at rest by it."""
        here = sim.robot_base()[:2]
        visitor = self.visitor.xy
        dist = float(np.linalg.norm(visitor - here))
        steps = self.dwell.counts
        success = steps[self.target] >= DWELL
        failure, reason = False, None
        if dist < MIN_DIST:
            failure, reason = True, "too close to the visitor"
        elif any(n != self.target and k >= WRONG_DWELL for n, k in steps.items()):
            failure, reason = True, "guided to the wrong place"
        to_dest = float(np.linalg.norm(visitor - zone_centre(self.layout, sim, self.target)))
        return Evaluation(success=success and not failure, failure=failure, failure_reason=reason,
                          progress={"visitor_to_destination_m": to_dest,
                                    "robot_to_visitor_m": dist,
                                    "dwell_steps": float(steps[self.target])})

    def expert(self, sim: Sim) -> Expert:
        """Lead along A* (around furniture and the visitor) to a stop by the destination chosen
        so that the visitor, who follows the same path and stops ~1.2 m behind, ends up in the
        zone; then wait there (moving on past the zone's centre, up to twice, when the visitor
        comes to rest outside it)."""
        planner = PeopleAwarePlanner(self.layout, self.people, clearance=1.15)
        stop = self.finish(sim, planner)
        front, _ = self.layout.landmark_front(sim, self.target)
        off = front - stop
        goals = [np.array([*stop, float(np.arctan2(off[1], off[0]))])]
        return Expert([_Lead(self, planner, goals)])

    def finish(self, sim: Sim, planner: GridPlanner) -> np.ndarray:
        """The expert's stop near the destination.

        Among stops around the landmark's front, the one whose planned path leaves both the
        robot and the point 1.25 m (straight line) back along the path, where the following
        visitor stops, deepest inside the named zone (corners put two zones close together).
        """
        stand = GridPlanner(self.layout, margin=0.0).grid(sim)
        centres = {n: zone_centre(self.layout, sim, n) for n in LANDMARKS}

        def depth(p: np.ndarray) -> float:
            own = float(np.linalg.norm(p - centres[self.target]))
            other = min(float(np.linalg.norm(p - c)) for n, c in centres.items()
                        if n != self.target)
            return min(other - own, ZONE_R - own)

        front, yaw = self.layout.landmark_front(sim, self.target)
        n = heading(yaw)
        t = np.array([-n[1], n[0]])  # along the wall
        here = sim.robot_base()
        stops = [front + a * n + b * t for a in STOP_OUT for b in STOP_ALONG]
        stops = [p for p in stops if stand.free(stand.cell(p))]
        def by(p: np.ndarray) -> float:  # how far inside the robot's 1.3 m radius
            return ZONE_R - float(np.linalg.norm(p - centres[self.target]))

        stops.sort(key=lambda p: -by(p))  # stable: ties keep the listing order
        best, best_score = front + STOP_OUT[0] * n, -np.inf
        for stop in stops:
            if by(stop) <= best_score:  # sorted: no later stop can do better
                break
            pts = [here[:2]] + [np.asarray(c, float)[:2] for c in
                                planner.corners(sim, here, np.array([*stop, 0.0]))]
            score = min(depth(_back_along(pts, FOLLOW_STOP + 0.05)), by(stop))
            if score > best_score + 1e-9:
                best, best_score = stop, score
        return best


def _back_along(pts: list[np.ndarray], dist: float) -> np.ndarray:
    """The last point of a polyline that is ``dist`` metres (straight line) from its end.

    That is where someone walking the polyline behind a leader who stopped at its end, and
    who stops ``dist`` from the leader, comes to rest (its start if never that far).
    """
    end = pts[-1]
    for a, b in zip(pts[::-1][1:], pts[::-1][:-1], strict=True):  # from the end backwards
        if np.linalg.norm(a - end) >= dist:  # the crossing lies on this segment: bisect
            lo, hi = 0.0, 1.0  # fraction from b to a
            for _ in range(30):
                mid = (lo + hi) / 2
                if np.linalg.norm(b + (a - b) * mid - end) >= dist:
                    hi = mid
                else:
                    lo = mid
            return b + (a - b) * hi
    return pts[0]
