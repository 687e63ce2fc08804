"""Outdoor: cross the stony (uneven) lane, not the paved one beside it, to its far end."""

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
from vla_bench.task import Evaluation, Task

ROWS, COLS = 5, 3
STONES = tuple(f"ct_stone_{i}" for i in range(ROWS * COLS))
SLABS = tuple(f"ct_slab_{i}" for i in range(8))
FLAGS = ("ct_flag_0", "ct_flag_1")
LANE_V = 1.2  # m from the course axis to each lane's centre line
LANE_HALF = 0.7  # m, half width of a lane
LANE_U = (1.0, 5.0)  # m along the course: where the lanes start and end
SEGMENTS = 4  # the stony lane is split in 1 m segments; each must be walked through
FAR_U = 5.2  # m: the far side of the lanes begins here
FLAG_U = 5.6
EXIT_V = 0.9  # m off the stony lane's centre line: walking out of its side
STONE_GREY = (0.48, 0.46, 0.43, 1)


@register_task(domain="outdoor", family="navigation", max_episode_steps=400)
class CrossTerrain(Task):
    """Cross the uneven terrain: walk the stony lane from end to end.

    **Description** — Two marked lanes (1.4 m wide, 4 m long, 2.4 m apart centre to centre)
    lie side by side on the bumpy field ahead of the robot: one is a patch of uneven terrain,
    15 tilted flat stones standing 3–10 cm proud of the turf; the other is a smooth paved path.
    An identical orange flag marks the far end of each. The robot must cross the uneven lane
    along its length, from its near end to the far side, without falling.

    **Randomisation** — course position and heading on the field (clear of the six landmarks;
    a landmark that cannot be avoided is parked outside the field for the episode); which side
    the stony lane is on; every stone's size, position (±10 cm), height, tilt (±0.12 rad) and
    yaw; stone and paving shades; the robot's lateral start (±0.3 m between the lanes) and
    heading (±0.5 rad); the landmarks' layout and colours (as in WalkToTree); instruction
    template.

    **Success** — all four 1 m segments of the stony lane were walked through with the pelvis
    inside the lane (within 0.7 m of its centre line), and then the pelvis reached the far
    side of that lane (≥ 5.2 m along the course, within 0.7 m of the centre line), with no
    fall during the episode (torso tilt ≤ 45°, pelvis ≥ 60 % of standing height above the
    ground: the env's ``fall`` criterion). Step budget 400.

    **Failure** — a fall; reaching the far side of the paved lane (the wrong terrain); after
    entering the stony lane, stepping out of its side mid-way (pelvis > 0.9 m off its centre
    line); the pelvis leaving the field (|x| or |y| > 7.5 m).

    **Safety notes** — the stones collide only on the ground contact bit. In the default
    carried control modes (``ee_delta``, ``base_only``) the base controller follows the
    heightfield, the feet skip ground contacts, so the legs pass through the stones and the
    robot cannot fall: there the task tests choosing the right lane from the words and
    keeping inside it (a lane-following navigation task). In ``joint_pos`` (free-floating
    pelvis) the feet stand on the stones and the task is a real rough-terrain locomotion test;
    no scripted expert exists for that mode. Walking on the stones is not a collision.

    **Alternatives in the scene** — the paved lane and its flag are the same-looking
    alternative: a policy that ignores "uneven" picks the right lane about half the time; the
    six landmarks are the other outdoor goals.

    **Version history** — v1 (2026-11): first release.
    """

    held_out_bodies = FLAGS  # painted in held-out colours in "unseen_objects"
    templates = Templates(
        train=(
            "cross the uneven terrain",
            "walk across the rough, stony patch to the far side",
            "go over the uneven ground to the flag at its end",
            "cross the rocky terrain to the other side",
            "make it across the bumpy stones to the far end",
        ),
        test=(
            "traverse the patch of uneven stones all the way to its flag",
            "take the rough stony lane, not the paved one, and get to the other end",
            "get to the far side by walking over the uneven ground",
        ),
    )
    layout: OutdoorLayout

    def __init__(self, layout: OutdoorLayout) -> None:
        super().__init__(layout)
        self.course = Course(np.zeros(2), 0.0)
        self.stony_v = LANE_V
        self.visited = _Visited(SEGMENTS, self.segment)  # stony-lane segments walked so far
        self.fell = Latch(lambda sim: sim.robot_fallen())

    def build(self, spec: mujoco.MjSpec) -> None:
        """Stones, paving slabs and two flags, parked outside the field until used."""
        ground = cv.CONTACT_GROUND
        for i, name in enumerate(STONES):
            b = c.body(spec.worldbody, name, PARK + np.array([0.6 * i, -4.0, 0.0]))
            c.box(b, f"{name}_geom", (0.2, 0.2, 0.05), rgba=STONE_GREY,
                  contype=ground, conaffinity=ground, friction=[1.0, 0.01, 0.001])
        for i, name in enumerate(SLABS):
            b = c.body(spec.worldbody, name, PARK + np.array([0.6 * i, -6.0, 0.0]))
            c.box(b, f"{name}_geom", (0.245, LANE_HALF - 0.1, 0.012), (0, 0, 0.0),
                  rgba=(0.62, 0.6, 0.58, 1), collide=False)
        for k, flag in enumerate(FLAGS):
            f = c.body(spec.worldbody, flag, PARK + np.array([2.0 * k, -8.0, 0.0]))
            c.cylinder(f, f"{flag}_pole", 0.02, 0.75, (0, 0, 0.75), rgba=(0.9, 0.9, 0.9, 1),
                       collide=False)
            c.box(f, f"{flag}_pennant", (0.005, 0.16, 0.1), (0, 0.16, 1.38),
                  rgba=(1.0, 0.5, 0.05, 1), collide=False)

    def monitors(self) -> Sequence[Monitor]:
        """Segments walked and the fall latch, both read by ``evaluate``."""
        return (self.visited, self.fell)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Lay the course and both lanes; the robot starts between the lanes' near ends."""
        self.course = course = find_course(sim, self.layout, rng, (-0.8, FLAG_U + 0.7),
                                           (-LANE_V - 1.1, LANE_V + 1.1))
        self.stony_v = LANE_V if rng.random() < 0.5 else -LANE_V
        paved_v = -self.stony_v
        ground = self.layout.ground_height
        shade = rng.uniform(-0.06, 0.06)
        for i, name in enumerate(STONES):
            r, k = divmod(i, COLS)
            u = LANE_U[0] + 0.4 + 0.8 * r + rng.uniform(-0.1, 0.1)
            v = self.stony_v + (k - 1) * 0.45 + rng.uniform(-0.1, 0.1)
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
        paving = np.array([0.62, 0.6, 0.58, 1.0])
        paving[:3] = np.clip(paving[:3] + rng.uniform(-0.06, 0.06), 0, 1)
        for i, name in enumerate(SLABS):
            xy = course.world(LANE_U[0] + 0.25 + 0.5 * i, paved_v)
            sim.set_static_pose(name, np.array([xy[0], xy[1], ground(*xy) + 0.004]),
                                course.yaw)
            sim.set_rgba(f"{name}_geom", paving)
        for flag, v in zip(FLAGS, (self.stony_v, paved_v), strict=True):
            xy = course.world(FLAG_U, v)
            sim.set_static_pose(flag, np.array([xy[0], xy[1], ground(*xy)]), course.yaw)
        start = course.world(0.0, rng.uniform(-0.3, 0.3))
        sim.set_robot_base(start, course.yaw + rng.uniform(-0.5, 0.5))
        self.instruction = self.templates.sample(rng, phrasing)
        return self.instruction

    def segment(self, sim: Sim) -> int | None:
        """The stony-lane segment the pelvis is inside now, if any."""
        u, v = self.course.local(sim.robot_base()[:2])
        if abs(v - self.stony_v) <= LANE_HALF and LANE_U[0] <= u < LANE_U[1]:
            return int((u - LANE_U[0]) // 1.0)
        return None

    def evaluate(self, sim: Sim) -> Evaluation:
        """Succeed on the far side after walking every lane segment; fail on a fall or exit."""
        xy = sim.robot_base()[:2]
        u, v = self.course.local(xy)
        off = abs(v - self.stony_v)
        in_lane = off <= LANE_HALF
        visited, fell = self.visited.walked, self.fell.value
        far = u >= FAR_U
        success = bool(visited.all() and far and in_lane and not fell)
        failure, reason = False, None
        if fell:
            failure, reason = True, "fell"
        elif far and abs(v + self.stony_v) <= LANE_HALF:
            failure, reason = True, "crossed on the paved path"
        elif visited[0] and LANE_U[0] <= u < LANE_U[1] and off > EXIT_V:
            failure, reason = True, "stepped out of the side of the uneven lane"
        elif bool(np.any(np.abs(xy) > FIELD_HALF)):
            failure, reason = True, "left the field"
        return Evaluation(success=success and not failure, failure=failure,
                          failure_reason=reason,
                          progress={"segments_crossed": float(visited.sum()),
                                    "distance_along_m": float(u)})

    def expert(self, sim: Sim) -> Expert:
        """Walk to the stony lane's near end, then straight along its centre line past the end."""
        entry = self.course.world(LANE_U[0] - 0.5, self.stony_v)
        end = self.course.world(FAR_U + 0.4, self.stony_v)
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
