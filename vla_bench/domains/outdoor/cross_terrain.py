"""Outdoor: cross the field along the named one of four lanes (stony, paved, wooden, sandy)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.domains.outdoor.corridor import PARK, Course, find_course
from vla_bench.domains.outdoor.layout import FIELD_HALF, OutdoorLayout
from vla_bench.experts.base import Expert, Navigate
from vla_bench.experts.navigation import Hold
from vla_bench.language import Templates
from vla_bench.monitors import Latch, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

ROWS, COLS = 5, 3
STONES = tuple(f"ct_stone_{i}" for i in range(ROWS * COLS))
# The flat lanes: (piece count, half extents, spacing along the lane, colour), laid as pieces
# so that each one follows the bumpy turf.
FLAT_LANES: dict[str, tuple[int, tuple[float, float, float], float, tuple[float, ...]]] = {
    "paved": (8, (0.245, 0.6, 0.012), 0.5, (0.62, 0.6, 0.58, 1)),
    "wooden": (10, (0.15, 0.62, 0.02), 0.4, (0.5, 0.33, 0.17, 1)),
    "sandy": (8, (0.25, 0.66, 0.006), 0.5, (0.86, 0.76, 0.5, 1)),
}
SURFACES = ("stony", *FLAT_LANES)  # the lane words; "stony" is the uneven one
PIECES = {kind: tuple(f"ct_{kind}_{i}" for i in range(spec[0]))
          for kind, spec in FLAT_LANES.items()}
FLAGS = tuple(f"ct_flag_{k}" for k in range(len(SURFACES)))
LANE_VS = (-2.55, -0.85, 0.85, 2.55)  # m from the course axis to the lanes' centre lines
LANE_HALF = 0.7  # m, half width of a lane
LANE_U = (1.0, 5.0)  # m along the course: where the lanes start and end
SEGMENTS = 4  # the named lane is split in 1 m segments; each must be walked through
FAR_U = 5.2  # m: the far side of the lanes begins here
FLAG_U = 5.6
EXIT_V = 0.9  # m off the named lane's centre line: walking out of its side
START_U = -2.0  # m: the robot starts this far before the course origin
START_YAW = 0.2  # rad: start heading up to this far off the course heading
STONE_GREY = (0.48, 0.46, 0.43, 1)


@register_task(domain="outdoor", family="navigation", max_episode_steps=400)
class CrossTerrain(Task):
    """Cross the field along the named lane (stony, paved, wooden or sandy) to its far end.

    **Description** — Four marked lanes (1.4 m wide, 4 m long, 1.7 m apart centre to centre)
    lie side by side on the bumpy field ahead of the robot, each of a different surface: a
    *stony* lane of uneven terrain (15 tilted flat stones standing 3–10 cm proud of the turf),
    a *paved* lane of grey slabs, a *wooden* boardwalk of planks and a *sandy* strip. An
    identical orange flag marks the far end of each. The instruction names one lane by its
    surface; the robot must walk that lane along its length, from its near end to the far
    side, without falling.

    **Randomisation** — course position and heading on the field (clear of the six landmarks;
    a landmark that cannot be avoided is parked outside the field for the episode); which
    lane is named (uniform over the four surfaces) and the order of the surfaces across the
    course; every stone's size, position (±10 cm), height, tilt (±0.12 rad) and yaw; the
    stones' and each flat lane's shade; the robot's start (3 m before the lanes' near end,
    ±0.3 m about the course axis) and heading (±0.2 rad); the landmarks' layout and colours
    (as in WalkToTree); instruction template.

    **Success** — all four 1 m segments of the named lane were walked through with the pelvis
    inside the lane (within 0.7 m of its centre line), and then the pelvis reached the far
    side of that lane (≥ 5.2 m along the course, within 0.7 m of the centre line), with no
    fall during the episode (torso tilt ≤ 45°, pelvis ≥ 60 % of standing height above the
    ground: the env's ``fall`` criterion). Step budget 400.

    **Failure** — a fall; reaching the far side of another lane (within 0.7 m of its centre
    line, ≥ 5.2 m along); after entering the named lane, stepping out of its side mid-way
    (pelvis > 0.9 m off its centre line); the pelvis leaving the field (|x| or |y| > 7.5 m).

    **Safety notes** — the stones collide only on the ground contact bit; the slabs, planks
    and sand are flat and collide with nothing. In the default carried control modes
    (``ee_delta``, ``base_only``) the base controller follows the heightfield, the feet skip
    ground contacts, so the legs pass through the stones and the robot cannot fall: there the
    task tests choosing the right lane from the words and keeping inside it (a lane-following
    navigation task). In ``joint_pos`` (free-floating pelvis) the feet stand on the stones,
    and the stony lane is a real rough-terrain locomotion test; no scripted expert exists for
    that mode. Walking on the stones is not a collision.

    **Alternatives in the scene** — the four lanes, each with an identical flag at its end;
    only the surface word says which. Measured blind success (expert toward a uniformly drawn
    alternative, seeds 0–49): 0.25.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four lanes, one named
    per episode by its surface (v1 always asked for the stony lane beside a paved one); the
    robot starts 3 m before the lanes (was 1 m) with heading ±0.2 rad (was ±0.5 rad), so
    that the lanes are in view at reset.
    """

    held_out_bodies = FLAGS  # painted in held-out colours in "unseen_objects"
    goal_fields = ("lane",)
    templates = Templates(
        train=(
            "cross along the {lane} lane to its far end",
            "walk the {lane} lane from end to end",
            "take the {lane} lane to the flag at its end",
            "go down the {lane} path to the far side",
            "make it across the field on the {lane} lane",
        ),
        test=(
            "traverse the {lane} lane all the way to its flag",
            "use the {lane} path, not the others, and get to the other end",
            "get to the far side by walking along the {lane} lane",
        ),
    )
    layout: OutdoorLayout

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.course = Course(np.zeros(2), 0.0)
        self.lane = "stony"  # the named lane's surface word
        self.lane_v = dict(zip(SURFACES, LANE_VS, strict=True))  # surface -> centre line (scene)
        self.visited = _Visited(SEGMENTS, self.segment)  # named-lane segments walked so far
        self.fell = Latch(lambda sim: sim.robot_fallen())

    def build(self, spec: mujoco.MjSpec) -> None:
        """Stones, the flat lanes' pieces and four flags, parked outside the field until
        used."""
        ground = cv.CONTACT_GROUND
        for i, name in enumerate(STONES):
            b = c.body(spec.worldbody, name, PARK + np.array([0.6 * i, -4.0, 0.0]))
            c.box(b, f"{name}_geom", (0.2, 0.2, 0.05), rgba=STONE_GREY,
                  contype=ground, conaffinity=ground, friction=[1.0, 0.01, 0.001])
        for row, (kind, (_, half, _, rgba)) in enumerate(FLAT_LANES.items()):
            for i, name in enumerate(PIECES[kind]):
                b = c.body(spec.worldbody, name, PARK + np.array([0.6 * i, -6.0 - row, 0.0]))
                c.box(b, f"{name}_geom", half, rgba=rgba, collide=False)
        for k, flag in enumerate(FLAGS):
            f = c.body(spec.worldbody, flag, PARK + np.array([2.0 * k, -10.0, 0.0]))
            c.cylinder(f, f"{flag}_pole", 0.02, 0.75, (0, 0, 0.75), rgba=(0.9, 0.9, 0.9, 1),
                       collide=False)
            c.box(f, f"{flag}_pennant", (0.005, 0.16, 0.1), (0, 0.16, 1.38),
                  rgba=(1.0, 0.5, 0.05, 1), collide=False)

    def monitors(self) -> Sequence[Monitor]:
        """Segments walked and the fall latch, both read by ``evaluate``."""
        return (self.visited, self.fell)

    def goals(self) -> Sequence[Goal]:
        """The four lanes' surfaces."""
        return tuple((surface,) for surface in SURFACES)

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named lane's stones or pieces (its flag looks like every other lane's)."""
        return STONES if self.lane == "stony" else PIECES[self.lane]

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Lay the course and the four lanes in a random order; the robot starts before the
        lanes, facing along them."""
        self.course = course = find_course(sim, self.layout, rng, (START_U - 0.8, FLAG_U + 0.7),
                                           (LANE_VS[0] - 1.1, LANE_VS[-1] + 1.1))
        self.lane_v = {s: LANE_VS[int(k)] for s, k in
                       zip(SURFACES, rng.permutation(len(SURFACES)), strict=True)}
        self.lane = SURFACES[int(rng.integers(len(SURFACES)))]
        ground = self.layout.ground_height
        stony_v = self.lane_v["stony"]
        shade = rng.uniform(-0.06, 0.06)
        for i, name in enumerate(STONES):
            r, k = divmod(i, COLS)
            u = LANE_U[0] + 0.4 + 0.8 * r + rng.uniform(-0.1, 0.1)
            v = stony_v + (k - 1) * 0.45 + rng.uniform(-0.1, 0.1)
            xy = course.world(u, v)
            half = np.array([rng.uniform(0.15, 0.21), rng.uniform(0.15, 0.21), 0.05])
            proud = rng.uniform(0.03, 0.10)  # top of the stone above the turf
            sim.set_geom_size(f"{name}_geom", half)
            roll, pitch, yaw = rng.uniform(-0.12, 0.12), rng.uniform(-0.12, 0.12), \
                rng.uniform(-np.pi, np.pi)
            sim.set_static_pose(name, np.array([xy[0], xy[1], ground(*xy) + proud - half[2]]),
                                quat=_euler_quat(roll, pitch, yaw))
            rgba = np.array(STONE_GREY)
            rgba[:3] = np.clip(rgba[:3] + shade + rng.uniform(-0.04, 0.04), 0, 1)
            sim.set_rgba(f"{name}_geom", rgba)
        for kind, (n, half, pitch_u, base) in FLAT_LANES.items():
            rgba = np.array(base)
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.06, 0.06), 0, 1)
            first = LANE_U[0] + (LANE_U[1] - LANE_U[0] - (n - 1) * pitch_u) / 2
            for i, name in enumerate(PIECES[kind]):
                xy = course.world(first + pitch_u * i, self.lane_v[kind])
                sim.set_static_pose(name, np.array([xy[0], xy[1], ground(*xy) + half[2] / 3]),
                                    course.yaw)
                sim.set_rgba(f"{name}_geom", rgba)
        for flag, surface in zip(FLAGS, SURFACES, strict=True):
            xy = course.world(FLAG_U, self.lane_v[surface])
            sim.set_static_pose(flag, np.array([xy[0], xy[1], ground(*xy)]), course.yaw)
        start = course.world(START_U, rng.uniform(-0.3, 0.3))
        sim.set_robot_base(start, course.yaw + rng.uniform(-START_YAW, START_YAW))
        self.instruction = self.templates.sample(rng, phrasing, lane=self.lane)
        return self.instruction

    def segment(self, sim: Sim) -> int | None:
        """The named lane's segment the pelvis is inside now, if any."""
        u, v = self.course.local(sim.robot_base()[:2])
        if abs(v - self.lane_v[self.lane]) <= LANE_HALF and LANE_U[0] <= u < LANE_U[1]:
            return int((u - LANE_U[0]) // 1.0)
        return None

    def evaluate(self, sim: Sim) -> Evaluation:
        """Succeed on the far side after walking every lane segment; fail on a fall, the far
        side of another lane or an exit."""
        xy = sim.robot_base()[:2]
        u, v = self.course.local(xy)
        off = abs(v - self.lane_v[self.lane])
        in_lane = off <= LANE_HALF
        visited, fell = self.visited.walked, self.fell.value
        far = u >= FAR_U
        wrong = [s for s in SURFACES if s != self.lane
                 and abs(v - self.lane_v[s]) <= LANE_HALF]
        success = bool(visited.all() and far and in_lane and not fell)
        failure, reason = False, None
        if fell:
            failure, reason = True, "fell"
        elif far and wrong:
            failure, reason = True, f"crossed on the {wrong[0]} lane"
        elif visited[0] and LANE_U[0] <= u < LANE_U[1] and off > EXIT_V:
            failure, reason = True, f"stepped out of the side of the {self.lane} lane"
        elif bool(np.any(np.abs(xy) > FIELD_HALF)):
            failure, reason = True, "left the field"
        return Evaluation(success=success and not failure, failure=failure,
                          failure_reason=reason,
                          progress={"segments_crossed": float(visited.sum()),
                                    "distance_along_m": float(u)})

    def expert(self, sim: Sim) -> Expert:
        """Walk to the named lane's near end, then straight along its centre line past the
        end."""
        v = self.lane_v[self.lane]
        entry = self.course.world(LANE_U[0] - 0.5, v)
        end = self.course.world(FAR_U + 0.4, v)
        goal = np.array([end[0], end[1], self.course.yaw])

        def lane_path(_sim: Sim, _start: np.ndarray, _goal: np.ndarray) -> list[np.ndarray]:
            return [np.array([entry[0], entry[1], self.course.yaw]), goal.copy()]

        return Expert([Navigate(lambda _sim: goal, tol=0.04, planner=lane_path, max_steps=400),
                       Hold(steps=400)])


class _Visited:
    """Which of ``n`` zones ``locate(sim)`` (a zone index or ``None``) has named this episode."""

    def __init__(self, n: int, locate: Callable[[Sim], int | None]) -> None:
        self.n, self.locate = n, locate
        self.walked = np.zeros(n, bool)

    def reset(self, sim: Sim) -> None:
        """None visited yet."""
        self.walked = np.zeros(self.n, bool)

    def update(self, sim: Sim) -> None:
        """Mark the zone the robot is in now."""
        k = self.locate(sim)
        if k is not None:
            self.walked[k] = True


def _euler_quat(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """``wxyz`` quaternion of ``Rz(yaw) Ry(pitch) Rx(roll)``."""
    q = np.zeros(4)
    mujoco.mju_euler2Quat(q, np.array([roll, pitch, yaw]), "xyz")
    return q
