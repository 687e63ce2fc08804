"""Office: open the desk drawer and take the stapler out of it (work in progress)."""

from __future__ import annotations

import mujoco
import numpy as np

from vla_bench.domains.office.layout import DESK_TOP, OfficeLayout
from vla_bench.experts.base import Expert, Grip, Navigate, Reach, grasp_rotation
from vla_bench.experts.navigation import GridPlanner, Hold
from vla_bench.language import Templates
from vla_bench.scene import compose as c
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

DRAWER = "desk_drawer"
SLIDE = "desk_drawer_slide"
HANDLE = "desk_drawer_handle"
ITEMS = ("stapler", "tape_dispenser", "hole_punch")
FLOOR_Z = -0.049  # drawer frame: top of the drawer bottom
LANES = (-0.12, 0.0, 0.12)  # drawer-frame y of the three item slots
ITEM_X = 0.1  # drawer-frame x of the items (front half: outside the desk once opened)
OPEN = 0.2  # m of drawer travel that counts as open
LIFT = DESK_TOP + 0.05  # the stapler must be held above this height
HOLD_STEPS = 10


def _rot(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = z / np.linalg.norm(z)
    y = y - (y @ z) * z
    y /= np.linalg.norm(y)
    return np.column_stack([np.cross(y, z), y, z])


class RetrieveStapler(Task):
    """Get the stapler from the drawer. WORK IN PROGRESS: not registered, expert does not work.

    Status (2026-11): the scene part works (stapler, tape dispenser and hole punch resting in
    the closed desk drawer, chair rolled aside, upright handle bar), but the scripted expert
    cannot open the drawer: in the carried control modes the G1's legs and waist are held at
    home (pelvis 0.79 m), and the handle (0.62 m) and drawer floor (0.57 m) lie at or below
    the arm's reach 0.3 m in front of the body; the IK stops the TCP at about 0.68 m. A
    reachable version needs a higher drawer (e.g. a cabinet drawer at ~0.85 m) or a crouch.
    """

    name = "RetrieveStapler"
    domain = "office"
    family = "manipulation"
    max_episode_steps = 500
    templates = Templates(
        train=(
            "get the stapler from the drawer",
            "open the desk drawer and take out the stapler",
            "fetch the stapler out of the drawer",
            "pull the drawer open and pick up the stapler",
            "take the stapler from the desk drawer",
        ),
        test=(
            "the stapler is in the drawer, could you get it for me",
            "retrieve the stapler from inside the desk drawer",
            "grab the stapler that's kept in the drawer",
        ),
    )
    layout: OfficeLayout

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        self.held = 0

    def build(self, spec: mujoco.MjSpec) -> None:
        """Stapler, tape dispenser and hole punch, built resting in the closed drawer.

        The drawer's handle bar is turned upright and stood 2.5 cm further out on longer posts
        (only in scenes that build this task), so the gripper pinches it from the front like a
        bottle, its fingers clear of the drawer front.
        """
        handle = spec.geom(HANDLE)
        handle.pos, handle.quat = [0.325, 0.0, 0.0], [1, 0, 0, 0]
        handle.size = [0.01, 0.04, 0]
        for i, sz in enumerate((1, -1)):
            post = spec.geom(f"desk_drawer_handle_post_{i}")
            post.size = [0.022, 0.006, 0.006]
            post.pos = [0.303, 0.0, sz * 0.04]
        base = np.array([-0.2 + 0.31 + ITEM_X, 0.0, DESK_TOP - 0.13 + FLOOR_Z])
        s = c.body(spec.worldbody, "stapler", base + [0, LANES[0], 0.0], free=True)
        c.box(s, "stapler_base", (0.07, 0.018, 0.008), (0, 0, 0.008), rgba=(0.15, 0.15, 0.17, 1),
              mass=0.15, friction=[1.2, 0.01, 0.001])
        c.box(s, "stapler_arm", (0.065, 0.016, 0.012), (0.003, 0, 0.028),
              rgba=(0.75, 0.1, 0.1, 1), mass=0.1, friction=[1.2, 0.01, 0.001])
        t = c.body(spec.worldbody, "tape_dispenser", base + [0, LANES[1], 0.0], free=True)
        c.box(t, "tape_dispenser_body", (0.05, 0.025, 0.025), (0, 0, 0.025),
              rgba=(0.1, 0.3, 0.7, 1), mass=0.3)
        h = c.body(spec.worldbody, "hole_punch", base + [0, LANES[2], 0.0], free=True)
        c.box(h, "hole_punch_body", (0.05, 0.045, 0.02), (0, 0, 0.02), rgba=(0.5, 0.5, 0.52, 1),
              mass=0.3)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        # The chair is rolled aside, out of the drawer's way.
        sim.set_static_pose("chair", np.array([0.9, 1.4, 0.0]), float(rng.uniform(-np.pi, np.pi)))
        mujoco.mj_kinematics(sim.model, sim.data)
        d = sim.body_id(DRAWER)
        pos, mat = sim.data.xpos[d], sim.data.xmat[d].reshape(3, 3)
        lanes = rng.permutation(len(LANES))
        for item, k in zip(ITEMS, lanes, strict=True):
            local = np.array([ITEM_X + rng.uniform(-0.02, 0.02), LANES[int(k)], FLOOR_Z + 0.001])
            yaw = float(np.arctan2(mat[1, 0], mat[0, 0])) + rng.uniform(-0.1, 0.1)
            sim.set_free_pose(item, pos + mat @ local,
                              np.array([np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)]))
        start = np.array([rng.uniform(1.2, 2.2), rng.uniform(-1.5, 1.5)])
        sim.set_robot_base(start, float(rng.uniform(-np.pi, np.pi)))
        self.held = 0
        self.instruction = self.templates.sample(rng, phrasing)
        return self.instruction

    def slide(self, sim: Sim) -> float:
        return float(sim.data.qpos[sim.model.jnt_qposadr[sim.joint_id(SLIDE)]])

    def evaluate(self, sim: Sim) -> Evaluation:
        z = sim.body_pos("stapler")[2]
        up = z > LIFT and self.slide(sim) >= OPEN and sim.body_speed("stapler") < 0.3
        self.held = self.held + 1 if up else 0
        return Evaluation(success=self.held >= HOLD_STEPS,
                          progress={"drawer_open_m": self.slide(sim), "stapler_z": float(z)})

    def expert(self, sim: Sim) -> Expert:
        bar = grasp_rotation(0.6)
        down = _rot(np.array([1.0, 0, -1.2]), np.array([0, 1.0, 0]))

        def desk_frame(s: Sim):
            b = s.body_id("desk")
            return s.data.xpos[b].copy(), s.data.xmat[b].reshape(3, 3).copy()

        def stand(dx: float, dy: float):
            def goal(s: Sim) -> np.ndarray:
                p, m = desk_frame(s)
                xy = (p + m @ np.array([dx, dy, 0.0]))[:2]
                yaw = float(np.arctan2(m[1, 0], m[0, 0]) + np.pi)
                return np.array([xy[0], xy[1], yaw])
            return goal

        def handle(back: float, up: float = 0.0):
            def pos(s: Sim) -> np.ndarray:
                p, m = desk_frame(s)
                return s.data.geom_xpos[s.geom_id(HANDLE)] + m @ np.array([back, 0, up])
            return pos

        def item(back: float, up: float):
            def pos(s: Sim) -> np.ndarray:
                p, m = desk_frame(s)
                return s.body_pos("stapler") + m @ np.array([back, 0, 0]) + [0, 0, up + 0.02]
            return pos

        hx = 0.635  # desk-frame x of the handle (closed)
        self._stapler_y = 0.0
        planner = GridPlanner(self.layout)
        return Expert([
            Navigate(stand(hx + 0.31, -0.22), tol=0.03, planner=planner, max_steps=200),
            Reach("right", handle(0.1, 0.0), bar, tol=0.03, max_steps=40),
            Reach("right", handle(0.0), bar, tol=0.015, max_steps=30, speed=0.5),
            Grip("right", 1.0, steps=10),
            Navigate(stand(hx + 0.31 + 0.32, -0.22), tol=0.03, max_steps=80, speed=0.3),
            Grip("right", -1.0, steps=8),
            Reach("right", handle(0.12, 0.15), bar, tol=0.04, max_steps=25),
            Navigate(lambda s: _stand_item(s), tol=0.03, max_steps=80, speed=0.5),
            Reach("right", item(0.06, 0.12), down, tol=0.03, max_steps=40),
            Reach("right", item(0.0, 0.0), down, tol=0.015, max_steps=40, speed=0.5),
            Grip("right", 1.0, steps=12),
            Reach("right", item(0.0, 0.3), down, tol=0.03, max_steps=40, freeze=True),
            Hold(steps=200),
        ])


def _stand_item(s: Sim) -> np.ndarray:
    b = s.body_id("desk")
    m = s.data.xmat[b].reshape(3, 3)
    yaw = float(np.arctan2(m[1, 0], m[0, 0]) + np.pi)
    p = s.body_pos("stapler")
    cs, sn = np.cos(yaw), np.sin(yaw)
    off = np.array([0.3, -0.22])
    return np.array([p[0] - (cs * off[0] - sn * off[1]), p[1] - (sn * off[0] + cs * off[1]), yaw])
