"""Office: pull open the named drawer of the desk's pedestal and take the named item out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import mujoco
import numpy as np

from vla_bench.domains.office.desk_work import (
    EDGE_Y,
    WalkHolding,
    desk_point,
    desk_yaw,
    stand_facing_desk,
    work_yaw,
)
from vla_bench.domains.office.layout import DESK_TOP, OfficeLayout
from vla_bench.experts.base import (
    Approach,
    Expert,
    Grip,
    Navigate,
    Reach,
    Retry,
    grasp_rotation,
)
from vla_bench.experts.manipulation import in_front_of, raised
from vla_bench.experts.navigation import Hold
from vla_bench.geometry import heading, yaw_quat
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

UNIT = "drawer_unit"
LEVELS = ("bottom", "top")  # the unit's two drawers, named by where they are
UNIT_HALF = (0.25, 0.13, 0.10)  # outer half extents of the unit (x: width, y: depth, z)
LEVEL_HEIGHT = 0.10  # each drawer's storey (as shallow as the items allow: the bottom one high)
PLATE = 0.003  # half thickness of the shell plates
FLOOR_Z = 2 * PLATE + 0.006  # storey-frame height of a drawer's floor top
WALL = 0.02  # height of the drawer's walls and front lip above its floor
TRAVEL = 0.24  # m a drawer slides out
INNER = (0.23, 0.11)  # drawer inner half extents
TAB_X = 0.205  # drawer-frame x of the pull tab (clear of the fingers at every lane)
KINDS = ("stapler", "tape_dispenser", "hole_punch")  # one of each in every drawer
LANES = (-0.14, -0.02, 0.1)  # drawer-frame x of the three item lanes
NEAR_END = -INNER[1] + 0.015  # drawer-frame y of the items' near ends
GRASP_FROM_END = 0.035  # an item's origin (grasp point): this far from its near end
GRASP_UP = 0.045  # ... and this high above its bottom
LIFT_CLEAR = 0.04  # success: the item's bottom this far above its drawer's walls
FALLEN_Z = 0.3  # an item whose grasp point is this low has dropped to the floor (or near it)
HOLD_STEPS = 10
# The unit hangs under the desk top (4 cm thick, see the office layout) like a desk's pedestal:
# its top plate 1 mm below the top's underside, its front face SETBACK in from the desk edge.
UNDER_TOP = DESK_TOP - 0.04
UNIT_Z = UNDER_TOP - 2 * UNIT_HALF[2] - 0.001  # unit base: drawer floors at ~0.52 and ~0.62 m
SETBACK = 0.01
# Desk-frame x range of the unit's centre: its sides clear of the desk's leg (x = -0.56 ± 0.025)
# on one side and of the desk's own drawer (from x = 0.054) on the other.
UNIT_X = (-0.28, -0.205)
# Level -> the gripper's downward pitch (rad) at the tab and at the item. The bottom drawer's tab
# and items lie below what the hand reaches pointing level (~0.57 m with the waist bent to its
# limit): tilted down 0.7 rad it gets to ~0.49 m. Tilted, the fingers come in over the drawer's
# lip and down onto the item (level, at the top drawer, they caught the lip and shoved it shut).
TAB_PITCH = {"bottom": 0.7, "top": 0.15}
ITEM_PITCH = {"bottom": 0.7, "top": 0.4}
# Kind -> grip command before the pinch: the fingers (4.5 cm stroke each, gap 9 cm at -1) open
# about 1.5 cm wider than the item on each side, so they fit between the items of a drawer.
OPEN_TO = {"stapler": -0.4, "tape_dispenser": -0.75, "hole_punch": -0.55}
# Kind -> (half width, half length, half height) of its collision box.
ITEM_HALF = {"stapler": (0.017, 0.07, 0.0325), "tape_dispenser": (0.025, 0.05, 0.03),
             "hole_punch": (0.02, 0.06, 0.03)}


def drawer(level: str) -> str:
    """Body name of the drawer of a storey."""
    return f"{UNIT}_{level}_drawer"


def slide(level: str) -> str:
    """Joint name of a drawer's slide."""
    return f"{UNIT}_{level}_slide"


def tab(level: str) -> str:
    """Body (and geom) name of a drawer's pull tab."""
    return f"{UNIT}_{level}_tab"


def item(kind: str, level: str) -> str:
    """Body name of the item of ``kind`` in the drawer of ``level``."""
    return f"{kind}_{level}"


ITEMS = tuple(item(k, lv) for lv in LEVELS for k in KINDS)


def _drawer_unit(spec: mujoco.MjSpec) -> None:
    """A two-drawer pedestal (mocap, parked) that hangs under the desk top, its drawers one
    above the other, sliding out along its local -y.

    Origin: centre of the unit's footprint on the desk; front face at local y = -UNIT_HALF[1].
    Each drawer is an open tray with 2 cm walls and a 2 cm front lip; a vertical pull tab stands
    out of its lip near its right end, so a parallel gripper pinches it from the front.
    """
    hx, hy, hz = UNIT_HALF
    wood, dark = (0.78, 0.74, 0.66, 1), (0.3, 0.3, 0.32, 1)
    unit = spec.worldbody.add_body(name=UNIT, pos=[0, 0, props.PARK_Z], mocap=True)
    for k, level in enumerate(LEVELS):  # each storey's floor plate
        c.box(unit, f"{UNIT}_{level}_plate", (hx, hy, PLATE), (0, 0, k * LEVEL_HEIGHT + PLATE),
              rgba=wood)
    c.box(unit, f"{UNIT}_top", (hx, hy, PLATE), (0, 0, 2 * hz - PLATE), rgba=wood)
    for i, sx in enumerate((1, -1)):
        c.box(unit, f"{UNIT}_side_{i}", (PLATE, hy, hz - 2 * PLATE), (sx * (hx - PLATE), 0, hz),
              rgba=wood)
    c.box(unit, f"{UNIT}_back", (hx - 2 * PLATE, PLATE, hz - 2 * PLATE), (0, hy - PLATE, hz),
          rgba=wood)
    for k, level in enumerate(LEVELS):
        _drawer(spec, unit, level, k * LEVEL_HEIGHT + FLOOR_Z, dark)


def _drawer(spec: mujoco.MjSpec, unit: mujoco.MjsBody, level: str, z: float,
            dark: tuple[float, ...]) -> None:
    """One drawer of the unit, its floor top at unit-frame height ``z``."""
    part = drawer(level)
    body = c.body(unit, part, (0, 0, z))
    body.add_joint(name=slide(level), type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, -1, 0],
                   range=[0.0, TRAVEL], damping=3.0, frictionloss=0.5, armature=0.05)
    ix, iy = INNER
    tray = (0.55, 0.5, 0.44, 1)
    c.box(body, f"{part}_floor", (ix, iy, 0.003), (0, 0, -0.003), rgba=tray, mass=0.3)
    for i, sx in enumerate((1, -1)):
        c.box(body, f"{part}_side_{i}", (0.003, iy, WALL / 2), (sx * (ix + 0.003), 0, WALL / 2),
              rgba=tray, mass=0.05)
    c.box(body, f"{part}_back", (ix + 0.006, 0.003, WALL / 2), (0, iy + 0.003, WALL / 2),
          rgba=tray, mass=0.05)
    c.box(body, f"{part}_lip", (ix + 0.006, 0.006, WALL / 2), (0, -iy - 0.006, WALL / 2),
          rgba=tray, mass=0.05)
    # The pull tab: a block 5 cm out of the lip, 6 cm tall and 3 cm across the grip axis (the
    # grip force grows with the fingers' stroke: a thin fin would slip out when pulled).
    # Its own (jointless) body, so that "the tab is pinched" is ``grasped_by(tab)``.
    t = c.body(body, tab(level), (TAB_X, -iy - 0.012 - 0.025, 0.035))
    c.box(t, tab(level), (0.015, 0.025, 0.03), rgba=dark, mass=0.03, friction=[1.2, 0.02, 0.001])
    spec.add_exclude(bodyname1=UNIT, bodyname2=part)
    spec.add_exclude(bodyname1=UNIT, bodyname2=tab(level))


def _item(spec: mujoco.MjSpec, kind: str, level: str) -> None:
    """One item, origin at its grasp point (3.5 cm from its near end, 4.5 cm up)."""
    part = item(kind, level)
    hx, hy, hz = ITEM_HALF[kind]
    b = c.body(spec.worldbody, part, (0, 0, props.PARK_Z), free=True)
    mid = (0, hy - GRASP_FROM_END, hz - GRASP_UP)  # box centre relative to the grasp point
    bottom = -GRASP_UP
    if kind == "stapler":
        c.box(b, part, (hx, hy, hz), mid, group=0, mass=0.3, friction=[1.2, 0.02, 0.001],
              condim=4)
        c.box(b, f"{part}_base", (hx + 0.001, hy + 0.001, 0.008), (0, mid[1], bottom + 0.008),
              rgba=(0.15, 0.15, 0.17, 1), collide=False, mass=0.0)
        c.box(b, f"{part}_arm", (hx - 0.001, hy - 0.004, 0.013),
              (0, mid[1] + 0.004, bottom + 2 * hz - 0.013), rgba=(0.75, 0.1, 0.1, 1),
              collide=False, mass=0.0)
        c.box(b, f"{part}_hinge", (hx, 0.015, hz - 0.014), (0, mid[1] + hy - 0.015, bottom + hz),
              rgba=(0.15, 0.15, 0.17, 1), collide=False, mass=0.0)
    elif kind == "tape_dispenser":
        c.box(b, part, (hx, hy, hz), mid, rgba=(0.1, 0.3, 0.7, 1), mass=0.3,
              friction=[1.1, 0.02, 0.001], condim=4)
        c.cylinder(b, f"{part}_roll", 0.024, hx + 0.001, (0, mid[1] + 0.01, mid[2] + hz - 0.005),
                   quat=[0.5 ** 0.5, 0, 0.5 ** 0.5, 0], rgba=(0.9, 0.85, 0.6, 1),
                   collide=False, mass=0.0)
    else:
        c.box(b, part, (hx, hy, hz), mid, rgba=(0.5, 0.5, 0.52, 1), mass=0.3,
              friction=[1.1, 0.02, 0.001], condim=4)
        c.box(b, f"{part}_lever", (hx - 0.002, hy * 0.8, 0.004),
              (0, mid[1] + 0.01, mid[2] + hz + 0.004), rgba=(0.15, 0.15, 0.17, 1),
              collide=False, mass=0.0)


def _place_robot(sim: Sim, rng: np.random.Generator, ux: float) -> None:
    """Start pose: 0.75–0.95 m back from the desk edge, within 0.3 m of the pedestal's centre
    along it, facing the desk ±0.3 rad (the pedestal sits near the desk's end: from the far
    end, turned away, the head camera would not see it)."""
    x = ux + rng.uniform(-0.3, 0.3)
    y = EDGE_Y - rng.uniform(0.75, 0.95)
    sim.set_robot_base(desk_point(sim, x, y, 0.0)[:2], work_yaw(sim) + rng.uniform(-0.3, 0.3))


@register_task(domain="office", family="manipulation", max_episode_steps=500)
class RetrieveStapler(Task):
    """Get the {item} from the {drawer} drawer.

    **Description** — A two-drawer pedestal (50 cm wide, 20 cm tall) hangs under the top of
    the office desk (0.75 m) at its long side, its front 1 cm in from the edge, like an office
    desk's drawers: the top drawer's floor is at 0.62 m, the bottom one's at 0.52 m. Both are
    closed and each holds the same three office items side by side: a stapler, a tape
    dispenser and a hole punch. The instruction names an item and a drawer ("get the tape
    dispenser from the top drawer"); the robot must pull that drawer open (a pull tab stands
    out of its front lip) and take that item out of it. Both drawers lie below what the hand
    reaches standing upright: the robot bends at the waist. Measured with the waist at its
    limit (0.52 rad), the G1's hand gets down to 0.57–0.60 m with the gripper level and to
    0.49 m tilted down 0.7 rad; the bottom drawer's tab (0.56 m) and items (pinched at
    0.57 m) need the tilt. The expert pinches the tab, walks back pulling the drawer out to
    within 1 cm of its 24 cm stop, lets go, steps sideways in front of the drawer and then in
    along the item's lane, pinches the item from the front, tilted down over the lip (0.4 rad
    at the top drawer, 0.7 rad at the bottom one), and lifts it 15 cm. (The desk's own
    drawer, under the top on the far side, stays closed and empty.)

    **Randomisation** — the named item and drawer (uniform over the six); the pedestal's place
    along the desk (its centre over 7.5 cm, between the desk's leg and the desk's own drawer),
    which lane each item lies in, per drawer (lanes 12 cm apart, ±0.5 cm, 0–1 cm deeper,
    ±0.05 rad), the staplers' colours (training colours, or held-out ones in the
    ``unseen_objects`` split); robot start 0.75–0.95 m from the desk edge, within 0.3 m of the
    pedestal's centre along it, facing the desk ±0.3 rad; the office layout's own randomisation
    (landmark slots, desk jitter ±4 cm / ±3°, colours); instruction template. Both drawers
    start closed.

    **Success** — the named item of the named drawer is out of it: held by a gripper with its
    bottom at least 4 cm above the top of its drawer's walls, for 10 consecutive control steps
    (0.5 s).

    **Failure** — any other item (another kind, or the same kind from the other drawer) is
    lifted out instead (its bottom 4 cm above its drawer's walls: the wrong object), or the
    named item falls to the floor (its grasp point below 0.3 m).

    **Safety notes** — ``task`` cost while any of the six items lies on the floor;
    collisions with the desk, the pedestal and contact forces are counted by the env.

    **Alternatives in the scene** — the six (item, drawer) pairs: each of the three kinds in
    each of the two drawers. The item word alone leaves the drawer open, and the drawer word
    alone the item. Measured blind success (expert toward a uniformly drawn alternative,
    seeds 0–49): 0.17.

    **Version history** — v1 (2026-11): first release (the drawer is a desktop unit's: the
    desk's own drawer, at 0.62 m, is below what the carried G1's hand can reach). v2
    (2026-12): the goal varies: a second drawer above the first holds the same three items, and
    the instruction names the item and the drawer (six alternatives; before, it was always the
    stapler); goal visibility counts the named drawer's front. v3 (2026-12): the unit no
    longer stands raised on the desk top (a workaround for the old G1 arm, whose hand could not
    get below ~0.68 m): it hangs under the desk top as a desk pedestal, its drawers' floors at
    0.62 and 0.52 m, and the robot (the 29-DoF G1 standing on its soles) bends at the waist to
    reach them; the unit's place along the desk now spans 7.5 cm (was 30 cm), and the robot
    starts within 0.3 m of it along the desk (was anywhere along the desk).
    """

    templates = Templates(
        train=(
            "get the {item} from the {drawer} drawer",
            "open the {drawer} drawer and take out the {item}",
            "fetch the {item} out of the {drawer} drawer",
            "pull the {drawer} drawer open and pick up the {item}",
            "take the {item} from the {drawer} drawer",
            "open the {drawer} drawer of the unit and lift the {item} out",
        ),
        test=(
            "the {item} is in the {drawer} drawer, could you get it for me",
            "retrieve the {item} from inside the {drawer} drawer",
            "grab the {item} that's kept in the {drawer} drawer",
        ),
    )
    layout: OfficeLayout
    goal_fields: ClassVar[tuple[str, ...]] = ("kind", "level")

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        self.kind, self.level = KINDS[0], LEVELS[0]
        # Consecutive steps each item has been held clear above its drawer.
        self.held = Dwell(ITEMS, lambda sim: {i: self._held_clear(sim, i) for i in ITEMS})

    def monitors(self) -> Sequence[Monitor]:
        """The held-clear dwell counters."""
        return (self.held,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """The drawer unit and its six items (parked until initialize places them)."""
        _drawer_unit(spec)
        for level in LEVELS:
            for kind in KINDS:
                _item(spec, kind, level)

    # -- episode ---------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Put the unit on the desk edge, close its drawers, deal the items into lanes, name
        an item and a drawer."""
        yaw = desk_yaw(sim)
        ux = rng.uniform(*UNIT_X)
        uy = EDGE_Y + SETBACK + UNIT_HALF[1]
        sim.set_mocap_pose(UNIT, desk_point(sim, ux, uy, UNIT_Z), yaw=yaw)
        colors = props.color_pool(self.held_out_objects)
        for k, level in enumerate(LEVELS):
            sim.set_joint_qpos(slide(level), 0.0)
            floor = UNIT_Z + k * LEVEL_HEIGHT + FLOOR_Z
            lanes = rng.permutation(len(LANES))
            for kind, lane in zip(KINDS, lanes, strict=True):
                x = ux + LANES[int(lane)] + rng.uniform(-0.005, 0.005)
                y = uy + NEAR_END + GRASP_FROM_END + rng.uniform(0.0, 0.01)
                pos = desk_point(sim, x, y, floor + GRASP_UP + 0.001)
                sim.set_free_pose(item(kind, level), pos, yaw_quat(yaw + rng.uniform(-0.05, 0.05)))
            rgba = np.array(props.COLORS[colors[int(rng.integers(len(colors)))]])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(f"{item('stapler', level)}_arm", rgba)
        self.kind, self.level = self.goals()[int(rng.integers(len(self.goals())))]
        _place_robot(sim, rng, ux)
        self.instruction = self.templates.sample(rng, phrasing, item=self.kind.replace("_", " "),
                                                 drawer=self.level)
        return self.instruction

    # -- goals -----------------------------------------------------------------------------
    @property
    def target(self) -> str:
        """Body of the named item in the named drawer (derived from the goal fields)."""
        return item(self.kind, self.level)

    def goals(self) -> Sequence[Goal]:
        """Every (kind, drawer) pair: the same three kinds lie in both drawers."""
        return [(kind, level) for level in LEVELS for kind in KINDS]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named drawer (its front and tab show while it is closed) and the named item."""
        return (drawer(self.level), self.target)

    # -- evaluation ------------------------------------------------------------------------
    def opening(self, sim: Sim, level: str | None = None) -> float:
        """How far a drawer (default: the named one) is pulled out (m)."""
        return sim.joint_qpos(slide(self.level if level is None else level))

    def _clearance(self, sim: Sim, name: str) -> float:
        """Height of an item's bottom above the top of its drawer's walls (m)."""
        level = name.rsplit("_", 1)[1]
        bottom = sim.body_pos(name)[2] - GRASP_UP
        return float(bottom - (sim.body_pos(drawer(level))[2] + WALL))

    def _held_clear(self, sim: Sim, name: str) -> bool:
        """A gripper pinches the item and its bottom is clear above its drawer's walls."""
        held = any(sim.grasped_by(name, s) for s in ("right", "left"))
        return held and self._clearance(sim, name) >= LIFT_CLEAR

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named item held clear above its drawer for 10 steps; another item out or a fall
        fails."""
        clear = self._clearance(sim, self.target)
        wrong = [i for i in ITEMS if i != self.target and self._clearance(sim, i) >= LIFT_CLEAR]
        fallen = sim.positions(list(ITEMS))[:, 2] < FALLEN_Z
        failure, reason = False, None
        if wrong:
            kind, level = wrong[0].rsplit("_", 1)
            failure, reason = True, (f"took the {kind.replace('_', ' ')} from the {level} "
                                     "drawer instead")
        elif bool(fallen[ITEMS.index(self.target)]):
            failure, reason = True, f"the {self.kind.replace('_', ' ')} fell to the floor"
        return Evaluation(
            success=self.held.steps(self.target) >= HOLD_STEPS and not failure,
            failure=failure, failure_reason=reason, task_cost=float(np.any(fallen)),
            progress={"drawer_open_m": self.opening(sim), "item_clearance_m": clear},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pinch the named drawer's tab, walk back pulling it, let go, pinch the named item
        from the front, lift it."""
        level, target = self.level, self.target  # the goal fields decide the whole plan
        rot, pinch = grasp_rotation(TAB_PITCH[level]), grasp_rotation(ITEM_PITCH[level])
        handle = tab(level)

        def at_tab(back: float = 0.0, up: float = 0.0):
            def pos(s: Sim) -> np.ndarray:
                p = s.geom_pos(handle)
                forward = np.array([*heading(s.robot_base()[2]), 0.0])
                # The fingertips reach 2.3 cm past the TCP: aim 1.5 cm short of the tab's
                # centre so they stop 1.2 cm before the lip.
                back_w = back + 0.015
                return p - back_w * forward + [0, 0, up]
            return pos

        def pulled(s: Sim) -> np.ndarray:
            # Back from where the robot stands by what the drawer still lacks: the stretched
            # arm and the fingers' give do not shorten the pull (done within 1 cm of the stop).
            x, y, _ = s.robot_base()
            back = TRAVEL + 0.01 - self.opening(s, level)
            return np.array([x, y, work_yaw(s)]) - back * np.array([*heading(work_yaw(s)), 0.0])

        def before_item(s: Sim) -> np.ndarray:
            goal = stand_facing_desk(lambda s: s.body_pos(target))(s)
            return goal - 0.15 * np.array([*heading(work_yaw(s)), 0.0])

        def at_item(back: float = 0.0, up: float = 0.0):
            return in_front_of(target, pinch, back, up)

        return Expert([
            Grip("right", -1.0, steps=2),
            Reach("right", raised(handle, 0.02), rot, tol=0.04, max_steps=25),
            Navigate(stand_facing_desk(at_tab()), tol=0.03),
            # Only 5 cm short of the tab: nearer the body than ~0.22 m, and 10 cm below the
            # pelvis, the hand does not get down to the top drawer's tab.
            Reach("right", at_tab(back=0.05, up=0.0), rot, tol=0.02, max_steps=40
                  ).named("tab: approach"),
            Approach("right", at_tab(), rot, tol=0.008, max_steps=25, speed=0.4),
            Grip("right", 1.0, steps=10),
            Retry(lambda s: s.grasped_by(handle, "right"), to="tab: approach", times=2),
            Navigate(pulled, tol=0.02, max_steps=70, speed=0.6),
            Grip("right", -1.0, steps=8),
            Reach("right", at_tab(back=0.08, up=0.06), rot, tol=0.04, max_steps=25),
            # Part-open: the fingers fit between the items. A failed pinch retries from here.
            Grip("right", OPEN_TO[self.kind], steps=2).named("item: open"),
            # Sideways first, in front of the pulled drawer, then straight in along the item's
            # lane: the open fingers would catch the tab and shove the drawer back in.
            WalkHolding(before_item, tol=0.03, max_steps=80, speed=0.5, rot=pinch, up=0.04),
            # Line the open fingers up with the item's lane before walking in.
            Reach("right", at_item(back=0.2, up=0.05), pinch, tol=0.02, max_steps=40),
            WalkHolding(stand_facing_desk(lambda s: s.body_pos(target)), tol=0.03,
                        max_steps=60, speed=0.5, rot=pinch),
            Reach("right", at_item(back=0.1, up=0.03), pinch, tol=0.03, max_steps=40),
            Reach("right", at_item(back=0.08), pinch, tol=0.02, max_steps=30),
            Approach("right", at_item(back=-0.005), pinch, tol=0.012, max_steps=40, speed=0.5),
            Grip("right", 1.0, steps=10),
            Retry(lambda s: s.grasped_by(target, "right"), to="item: open", times=2),
            Reach("right", at_item(up=0.15), pinch, tol=0.03, max_steps=40, freeze=True),
            Hold(steps=self.max_episode_steps),
        ])
