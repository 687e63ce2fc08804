"""Office: pull open the drawer of the desktop drawer unit and take the stapler out of it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.office.desk_work import (
    EDGE_Y,
    Approach,
    desk_point,
    desk_yaw,
    place_robot,
    stand_facing_desk,
    work_yaw,
)
from vla_bench.domains.office.layout import DESK_TOP, OfficeLayout
from vla_bench.experts.base import Expert, Grip, Navigate, Reach, Retry, grasp_rotation
from vla_bench.experts.manipulation import in_front_of, raised
from vla_bench.experts.navigation import Hold
from vla_bench.geometry import heading, yaw_quat
from vla_bench.language import Templates
from vla_bench.monitors import Dwell, Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

UNIT = "drawer_unit"
DRAWER = "drawer_unit_drawer"
SLIDE = "drawer_unit_slide"
TAB = "drawer_unit_tab"
UNIT_HALF = (0.25, 0.13, 0.065)  # outer half extents of the unit (x: width, y: depth, z)
PLATE = 0.003  # half thickness of the shell plates
FLOOR_Z = 2 * PLATE + 0.006  # unit-frame height of the drawer's floor top
WALL = 0.02  # height of the drawer's walls and front lip above its floor
TRAVEL = 0.24  # m the drawer slides out
INNER = (0.23, 0.11)  # drawer inner half extents
TAB_X = 0.205  # drawer-frame x of the pull tab (clear of the fingers at every lane)
ITEMS = ("stapler", "tape_dispenser", "hole_punch")
LANES = (-0.14, -0.02, 0.1)  # drawer-frame x of the three item lanes
NEAR_END = -INNER[1] + 0.015  # drawer-frame y of the items' near ends
GRASP_FROM_END = 0.035  # the stapler's origin (grasp point): this far from its near end
GRASP_UP = 0.045  # ... and this high above its bottom
LIFT_CLEAR = 0.04  # success: the stapler's bottom this far above the drawer's walls
HOLD_STEPS = 10
# Item name -> (half width, half length, half height) of its collision box.
ITEM_HALF = {"stapler": (0.017, 0.07, 0.0325), "tape_dispenser": (0.025, 0.05, 0.03),
             "hole_punch": (0.02, 0.06, 0.03)}


def _drawer_unit(spec: mujoco.MjSpec) -> None:
    """A desktop drawer unit (mocap, parked) whose drawer slides out along its local -y.

    Origin: centre of the unit's footprint on the desk; front face at local y = -UNIT_HALF[1].
    The drawer is an open tray with 2 cm walls and a 2 cm front lip; a vertical pull tab stands
    out of the lip near its right end, so a parallel gripper pinches it from the front.
    """
    hx, hy, hz = UNIT_HALF
    wood, dark = (0.78, 0.74, 0.66, 1), (0.3, 0.3, 0.32, 1)
    unit = spec.worldbody.add_body(name=UNIT, pos=[0, 0, props.PARK_Z], mocap=True)
    c.box(unit, f"{UNIT}_bottom", (hx, hy, PLATE), (0, 0, PLATE), rgba=wood)
    c.box(unit, f"{UNIT}_top", (hx, hy, PLATE), (0, 0, 2 * hz - PLATE), rgba=wood)
    for i, sx in enumerate((1, -1)):
        c.box(unit, f"{UNIT}_side_{i}", (PLATE, hy, hz - 2 * PLATE), (sx * (hx - PLATE), 0, hz),
              rgba=wood)
    c.box(unit, f"{UNIT}_back", (hx - 2 * PLATE, PLATE, hz - 2 * PLATE), (0, hy - PLATE, hz),
          rgba=wood)
    drawer = c.body(unit, DRAWER, (0, 0, FLOOR_Z))
    drawer.add_joint(name=SLIDE, type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, -1, 0],
                     range=[0.0, TRAVEL], damping=3.0, frictionloss=0.5, armature=0.05)
    ix, iy = INNER
    tray = (0.55, 0.5, 0.44, 1)
    c.box(drawer, f"{DRAWER}_floor", (ix, iy, 0.003), (0, 0, -0.003), rgba=tray, mass=0.3)
    for i, sx in enumerate((1, -1)):
        c.box(drawer, f"{DRAWER}_side_{i}", (0.003, iy, WALL / 2), (sx * (ix + 0.003), 0, WALL / 2),
              rgba=tray, mass=0.05)
    c.box(drawer, f"{DRAWER}_back", (ix + 0.006, 0.003, WALL / 2), (0, iy + 0.003, WALL / 2),
          rgba=tray, mass=0.05)
    c.box(drawer, f"{DRAWER}_lip", (ix + 0.006, 0.006, WALL / 2), (0, -iy - 0.006, WALL / 2),
          rgba=tray, mass=0.05)
    # The pull tab: a block 5 cm out of the lip, 6 cm tall and 3 cm across the grip axis (the
    # grip force grows with the fingers' stroke: a thin fin would slip out when pulled).
    # Its own (jointless) body, so that "the tab is pinched" is ``grasped_by(TAB)``.
    tab = c.body(drawer, TAB, (TAB_X, -iy - 0.012 - 0.025, 0.035))
    c.box(tab, TAB, (0.015, 0.025, 0.03), rgba=dark, mass=0.03, friction=[1.2, 0.02, 0.001])
    spec.add_exclude(bodyname1=UNIT, bodyname2=DRAWER)
    spec.add_exclude(bodyname1=UNIT, bodyname2=TAB)


def _items(spec: mujoco.MjSpec) -> None:
    """Stapler (origin at its grasp point), tape dispenser and hole punch (origin: box centre)."""
    sx, sy, sz = ITEM_HALF["stapler"]
    s = c.body(spec.worldbody, "stapler", (0, 0, props.PARK_Z), free=True)
    mid = (0, sy - GRASP_FROM_END, sz - GRASP_UP)  # box centre relative to the grasp point
    c.box(s, "stapler", (sx, sy, sz), mid, group=0, mass=0.3, friction=[1.2, 0.02, 0.001],
          condim=4)
    c.box(s, "stapler_base", (sx + 0.001, sy + 0.001, 0.008), (0, mid[1], -GRASP_UP + 0.008),
          rgba=(0.15, 0.15, 0.17, 1), collide=False, mass=0.0)
    c.box(s, "stapler_arm", (sx - 0.001, sy - 0.004, 0.013), (0, mid[1] + 0.004,
                                                               -GRASP_UP + 2 * sz - 0.013),
          rgba=(0.75, 0.1, 0.1, 1), collide=False, mass=0.0)
    c.box(s, "stapler_hinge", (sx, 0.015, sz - 0.014), (0, mid[1] + sy - 0.015, -GRASP_UP + sz),
          rgba=(0.15, 0.15, 0.17, 1), collide=False, mass=0.0)
    tx, ty, tz = ITEM_HALF["tape_dispenser"]
    t = c.body(spec.worldbody, "tape_dispenser", (0, 0, props.PARK_Z), free=True)
    c.box(t, "tape_dispenser", (tx, ty, tz), rgba=(0.1, 0.3, 0.7, 1), mass=0.3,
          friction=[1.1, 0.02, 0.001], condim=4)
    c.cylinder(t, "tape_dispenser_roll", 0.024, tx + 0.001, (0, 0.01, tz - 0.005),
               quat=[0.5 ** 0.5, 0, 0.5 ** 0.5, 0], rgba=(0.9, 0.85, 0.6, 1), collide=False,
               mass=0.0)
    hx, hy, hz = ITEM_HALF["hole_punch"]
    h = c.body(spec.worldbody, "hole_punch", (0, 0, props.PARK_Z), free=True)
    c.box(h, "hole_punch", (hx, hy, hz), rgba=(0.5, 0.5, 0.52, 1), mass=0.3,
          friction=[1.1, 0.02, 0.001], condim=4)
    c.box(h, "hole_punch_lever", (hx - 0.002, hy * 0.8, 0.004), (0, 0.01, hz + 0.004),
          rgba=(0.15, 0.15, 0.17, 1), collide=False, mass=0.0)


@register_task(domain="office", family="manipulation", max_episode_steps=400)
class RetrieveStapler(Task):
    """Get the stapler from the drawer.

    **Description** — A drawer unit (50 cm wide, 13 cm tall) stands on the office desk at its
    long side; its drawer is closed and holds three office items side by side: a stapler, a
    tape dispenser and a hole punch. The robot must pull the drawer open (a pull tab stands out
    of its front lip) and take the stapler out of it. The expert pinches the tab, walks back
    up to 23 cm pulling the drawer out, lets go, pinches the stapler from the front over the lip and
    lifts it 15 cm. (The desk's own low drawer, under the top on the far side, stays closed and
    empty.)

    **Randomisation** — the unit's place along the desk (its centre over 30 cm), which lane
    each item lies in (lanes 12 cm apart, ±0.5 cm, ±0.05 rad), the stapler's colour (a
    training colour, or a held-out one in the ``unseen_objects`` split); robot start
    0.75–0.95 m from the desk edge, anywhere along it, facing it ±0.3 rad; the office
    layout's own randomisation (landmark slots, desk jitter ±4 cm / ±3°, colours);
    instruction template. The drawer starts closed.

    **Success** — the stapler is out of the drawer: held by a gripper with its bottom at
    least 4 cm above the top of the drawer's walls, for 10 consecutive control steps (0.5 s).

    **Failure** — the tape dispenser or the hole punch is lifted out instead (its bottom 4 cm
    above the drawer's walls: the wrong object), or the stapler falls to the floor.

    **Safety notes** — ``task`` cost while any of the three items lies on the floor;
    collisions with the desk, the drawer unit and contact forces are counted by the env.

    **Alternatives in the scene** — the tape dispenser and the hole punch lie in the same
    drawer in randomly permuted lanes: a policy that takes "an object from the drawer"
    without grounding "stapler" succeeds about one time in three at best.

    **Version history** — v1 (2026-11): first release (the drawer is a desktop unit's: the
    desk's own drawer, at 0.62 m, is below what the carried G1's hand can reach).
    """

    templates = Templates(
        train=(
            "get the stapler from the drawer",
            "open the drawer and take out the stapler",
            "fetch the stapler out of the drawer",
            "pull the drawer open and pick up the stapler",
            "take the stapler from the drawer",
            "open the drawer unit and lift the stapler out",
        ),
        test=(
            "the stapler is in the drawer, could you get it for me",
            "retrieve the stapler from inside the drawer",
            "grab the stapler that's kept in the drawer",
        ),
    )
    layout: OfficeLayout

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        # Consecutive steps the stapler has been held clear above the drawer.
        self.held = Dwell(("stapler",), lambda sim: {"stapler": self._held_clear(sim)})

    def monitors(self) -> Sequence[Monitor]:
        """The held-clear dwell counter."""
        return (self.held,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """The drawer unit and the three items (parked until initialize places them)."""
        _drawer_unit(spec)
        _items(spec)

    # -- episode ---------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Put the unit on the desk edge, close its drawer, deal the items into lanes."""
        yaw = desk_yaw(sim)
        ux = rng.uniform(0.0, 0.3)  # the unit stays 8 cm clear of the monitor
        uy = EDGE_Y + 0.02 + UNIT_HALF[1]  # front face 2 cm in from the edge
        sim.set_mocap_pose(UNIT, desk_point(sim, ux, uy, DESK_TOP + 0.0005), yaw=yaw)
        sim.set_joint_qpos(SLIDE, 0.0)
        floor = DESK_TOP + 0.0005 + FLOOR_Z
        lanes = rng.permutation(len(LANES))
        for item, k in zip(ITEMS, lanes, strict=True):
            hx, hy, hz = ITEM_HALF[item]
            x = ux + LANES[int(k)] + rng.uniform(-0.005, 0.005)
            if item == "stapler":
                y, z = uy + NEAR_END + GRASP_FROM_END, floor + GRASP_UP
            else:
                y, z = uy + NEAR_END + hy, floor + hz
            sim.set_free_pose(item, desk_point(sim, x, y + rng.uniform(0.0, 0.01), z + 0.001),
                              yaw_quat(yaw + rng.uniform(-0.05, 0.05)))
        colors = props.color_pool(self.held_out_objects)
        rgba = np.array(props.COLORS[colors[int(rng.integers(len(colors)))]])
        rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
        sim.set_rgba("stapler_arm", rgba)
        place_robot(sim, rng)
        self.instruction = self.templates.sample(rng, phrasing)
        return self.instruction

    def opening(self, sim: Sim) -> float:
        """How far the drawer is pulled out (m)."""
        return sim.joint_qpos(SLIDE)

    def _clearance(self, sim: Sim, item: str) -> float:
        """Height of an item's bottom above the top of the drawer's walls (m)."""
        bottom = sim.body_pos(item)[2] - (GRASP_UP if item == "stapler" else ITEM_HALF[item][2])
        return float(bottom - (sim.body_pos(DRAWER)[2] + WALL))

    def _held_clear(self, sim: Sim) -> bool:
        """A gripper pinches the stapler and its bottom is clear above the drawer's walls."""
        held = any(sim.grasped_by("stapler", s) for s in ("right", "left"))
        return held and self._clearance(sim, "stapler") >= LIFT_CLEAR

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, sim: Sim) -> Evaluation:
        """Stapler held clear above the drawer for 10 steps; a wrong item out or a fall fails."""
        clear = self._clearance(sim, "stapler")
        wrong = [i for i in ITEMS[1:] if self._clearance(sim, i) >= LIFT_CLEAR]
        floor = DESK_TOP - 0.2
        fallen = sim.positions(list(ITEMS))[:, 2] < floor
        failure, reason = False, None
        if wrong:
            failure, reason = True, f"took the {wrong[0].replace('_', ' ')} instead"
        elif bool(fallen[0]):
            failure, reason = True, "the stapler fell to the floor"
        return Evaluation(
            success=self.held.steps("stapler") >= HOLD_STEPS and not failure, failure=failure,
            failure_reason=reason, task_cost=float(np.any(fallen)),
            progress={"drawer_open_m": self.opening(sim), "stapler_clearance_m": clear},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pinch the tab, walk back pulling the drawer, let go, pinch the stapler, lift it."""
        rot = grasp_rotation(0.15)

        def tab(back: float = 0.0, up: float = 0.0):
            def pos(s: Sim) -> np.ndarray:
                p = s.geom_pos(TAB)
                forward = np.array([*heading(s.robot_base()[2]), 0.0])
                # The fingertips reach 2.3 cm past the TCP: aim 1.5 cm short of the tab's
                # centre so they stop 1.2 cm before the lip.
                back_w = back + 0.015
                return p - back_w * forward + [0, 0, up]
            return pos

        def pulled(s: Sim) -> np.ndarray:
            goal = stand_facing_desk(tab())(s)
            back = TRAVEL - 0.01 - self.opening(s)
            return goal - back * np.array([*heading(work_yaw(s)), 0.0])

        def stapler(back: float = 0.0, up: float = 0.0):
            return in_front_of("stapler", rot, back, up)

        return Expert([
            Grip("right", -1.0, steps=2),
            Reach("right", raised(DRAWER, 0.1), rot, tol=0.04, max_steps=25),
            Navigate(stand_facing_desk(tab()), tol=0.03),
            Reach("right", tab(back=0.1, up=0.0), rot, tol=0.02, max_steps=40
                  ).named("tab: approach"),
            Approach("right", tab(), rot, tol=0.008, max_steps=50, speed=0.4),
            Grip("right", 1.0, steps=10),
            Retry(lambda s: s.grasped_by(TAB, "right"), to="tab: approach", times=2),
            Navigate(pulled, tol=0.02, max_steps=90, speed=0.3),
            Grip("right", -1.0, steps=8),
            Reach("right", tab(back=0.08, up=0.06), rot, tol=0.04, max_steps=25),
            # Part-open: the fingers fit between the items. A failed pinch retries from here.
            Grip("right", -0.4, steps=2).named("stapler: open"),
            Navigate(stand_facing_desk(lambda s: s.body_pos("stapler")), tol=0.03, max_steps=80,
                     speed=0.5),
            Reach("right", stapler(back=0.1, up=0.03), rot, tol=0.03, max_steps=40),
            Reach("right", stapler(back=0.08), rot, tol=0.02, max_steps=30),
            Approach("right", stapler(back=-0.005), rot, tol=0.012, max_steps=40, speed=0.5),
            Grip("right", 1.0, steps=10),
            Retry(lambda s: s.grasped_by("stapler", "right"), to="stapler: open", times=2),
            Reach("right", stapler(up=0.15), rot, tol=0.03, max_steps=40, freeze=True),
            Hold(steps=self.max_episode_steps),
        ])
