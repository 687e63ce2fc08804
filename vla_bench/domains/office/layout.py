"""Office: a walled room with a desk (sliding drawer), an office chair, and wall landmarks.

The room is 6 m x 5 m (x ∈ [-3, 3], y ∈ [-2.5, 2.5]). The desk and chair stand in the middle;
five landmarks — a printer on a low cabinet, a water cooler, a potted plant, a filing cabinet
and a bookcase — stand against the walls in five of eight wall slots, drawn per episode, so
the printer is not always in the same place. Each landmark body has its origin at the centre
of its footprint on the floor with local +x pointing out of its front into the room.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.geometry import heading, yaw_matrix, yaw_quat
from vla_bench.scene import compose as c
from vla_bench.scene.layout import Fixture, Layout
from vla_bench.sim import Sim

ROOM_X, ROOM_Y = 3.0, 2.5  # interior half extents
WALL_HALF_HEIGHT = 1.2
DESK_TOP = 0.75
DESK_HALF = (0.6, 0.35)
CHAIR_HALF = (0.25, 0.25)
DESK_POS = (-0.2, 0.0, 0.0)  # the desk faces +x; the chair stands in front of it
CHAIR_POS = (0.7, 0.0, 0.0)
DRAWER_TRAVEL = 0.35


@dataclass(frozen=True)
class Slot:
    """A place against a wall: the wall point behind the landmark and its outward yaw."""

    wall_xy: tuple[float, float]
    yaw: float  # direction the landmark's front faces (into the room)


SLOTS: tuple[Slot, ...] = (
    Slot((-1.8, ROOM_Y), -np.pi / 2), Slot((0.0, ROOM_Y), -np.pi / 2),
    Slot((1.8, ROOM_Y), -np.pi / 2),
    Slot((-1.8, -ROOM_Y), np.pi / 2), Slot((0.0, -ROOM_Y), np.pi / 2),
    Slot((1.8, -ROOM_Y), np.pi / 2),
    Slot((ROOM_X, 0.0), np.pi), Slot((-ROOM_X, 0.0), 0.0),
)
HELD_OUT_PRINTER_SLOTS = (6, 7)  # the side-wall slots; "printer" is the first landmark
# name -> (half depth along the front normal, half width, height)
LANDMARKS: dict[str, tuple[float, float, float]] = {
    "printer": (0.25, 0.30, 0.87),
    "water_cooler": (0.18, 0.18, 1.32),
    "plant": (0.22, 0.22, 1.35),
    "filing_cabinet": (0.30, 0.24, 1.30),
    "bookcase": (0.18, 0.45, 1.80),
}
SPOKEN = {"printer": "printer", "water_cooler": "water cooler", "plant": "plant",
          "filing_cabinet": "filing cabinet", "bookcase": "bookcase"}


def add_printer(b: mujoco.MjsBody, prefix: str = "printer") -> None:
    """A printer on a low cabinet under body ``b`` (origin: footprint centre on the floor,
    front = +x); its geoms are named ``<prefix>_body``, ``<prefix>_stand``, …"""
    hx, hy, _ = LANDMARKS["printer"]
    c.box(b, f"{prefix}_stand", (hx, hy, 0.28), (0, 0, 0.28), rgba=(0.36, 0.3, 0.26, 1))
    c.box(b, f"{prefix}_stand_door", (0.005, hy - 0.03, 0.24), (hx + 0.004, 0, 0.28),
          rgba=(0.42, 0.35, 0.3, 1), collide=False)
    c.box(b, f"{prefix}_body", (0.22, 0.26, 0.12), (-0.01, 0, 0.68), rgba=(0.86, 0.86, 0.84, 1))
    c.box(b, f"{prefix}_scanner_lid", (0.2, 0.25, 0.02), (-0.02, 0, 0.82),
          rgba=(0.3, 0.3, 0.32, 1))
    c.box(b, f"{prefix}_paper_tray", (0.006, 0.2, 0.03), (0.215, 0, 0.61),
          rgba=(0.55, 0.55, 0.56, 1), collide=False)
    c.box(b, f"{prefix}_output_slot", (0.006, 0.17, 0.012), (0.215, 0, 0.72),
          rgba=(0.05, 0.05, 0.05, 1), collide=False)
    c.box(b, f"{prefix}_output_paper", (0.09, 0.1, 0.003), (0.17, 0, 0.75),
          rgba=(0.98, 0.98, 0.98, 1), collide=False)
    c.box(b, f"{prefix}_panel", (0.006, 0.07, 0.03), (0.215, 0.16, 0.78),
          rgba=(0.1, 0.35, 0.55, 1), collide=False)


class OfficeLayout(Layout):
    """Room with desk + chair in the middle and five wall landmarks in random slots."""

    name = "office"
    floor_rgba = (0.50, 0.52, 0.56, 1.0)  # grey-blue carpet
    nav_bounds = (-ROOM_X, ROOM_X, -ROOM_Y, ROOM_Y)  # walkable area (walls at the edges)

    def __init__(self) -> None:
        super().__init__()
        self.slot_of: dict[str, int] = {}

    # -- build -------------------------------------------------------------------------
    def build(self, spec: mujoco.MjSpec) -> None:
        c.add_floor(spec, self.floor_rgba)
        self._walls(spec)
        self._desk(spec)
        self._chair(spec)
        for i, name in enumerate(LANDMARKS):
            slot = SLOTS[i]
            pos, yaw = self.slot_pose(name, slot)
            b = c.body(spec.worldbody, name, pos, quat=list(yaw_quat(yaw)))
            getattr(self, f"_{name}")(b)
            hx, hy, h = LANDMARKS[name]
            self.add_fixture(Fixture(name, (hx, hy), h, tuple(pos), yaw))
        c.add_camera(spec, "external", pos=(-1.0, -2.3, 6.2), target=(0.1, 0.25, 0.0), fovy=62)

    def _walls(self, spec: mujoco.MjSpec) -> None:
        wall = c.body(spec.worldbody, "office_walls", (0, 0, 0))
        t, h = 0.05, WALL_HALF_HEIGHT
        rgba = (0.88, 0.87, 0.82, 1)
        c.box(wall, "office_wall_n", (ROOM_X + 2 * t, t, h), (0, ROOM_Y + t, h), rgba=rgba)
        c.box(wall, "office_wall_s", (ROOM_X + 2 * t, t, h), (0, -ROOM_Y - t, h), rgba=rgba)
        c.box(wall, "office_wall_e", (t, ROOM_Y, h), (ROOM_X + t, 0, h), rgba=rgba)
        c.box(wall, "office_wall_w", (t, ROOM_Y, h), (-ROOM_X - t, 0, h), rgba=rgba)
        # Skirting boards (visual) make the wall/floor edge readable in the head camera.
        dark = (0.35, 0.33, 0.3, 1)
        c.box(wall, "office_skirt_n", (ROOM_X, 0.01, 0.04), (0, ROOM_Y - 0.01, 0.04), rgba=dark,
              collide=False)
        c.box(wall, "office_skirt_s", (ROOM_X, 0.01, 0.04), (0, -ROOM_Y + 0.01, 0.04), rgba=dark,
              collide=False)
        c.box(wall, "office_skirt_e", (0.01, ROOM_Y, 0.04), (ROOM_X - 0.01, 0, 0.04), rgba=dark,
              collide=False)
        c.box(wall, "office_skirt_w", (0.01, ROOM_Y, 0.04), (-ROOM_X + 0.01, 0, 0.04), rgba=dark,
              collide=False)

    def _desk(self, spec: mujoco.MjSpec) -> None:
        """Desk facing +x; a drawer under the top slides out of the front (+x)."""
        desk = c.body(spec.worldbody, "desk", DESK_POS)
        hx, hy = DESK_HALF
        wood, metal = (0.62, 0.46, 0.30, 1), (0.25, 0.25, 0.27, 1)
        c.box(desk, "desk_top", (hx, hy, 0.02), (0, 0, DESK_TOP - 0.02), rgba=wood)
        leg_z = (DESK_TOP - 0.04) / 2
        for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
            c.box(desk, f"desk_leg_{i}", (0.025, 0.025, leg_z),
                  (sx * (hx - 0.04), sy * (hy - 0.04), leg_z), rgba=metal)
        c.box(desk, "desk_modesty_panel", (0.01, hy - 0.07, 0.2), (-hx + 0.05, 0, DESK_TOP - 0.25),
              rgba=wood)
        # Drawer runners (visual) hang under the top on both sides of the drawer.
        for i, sy in enumerate((1, -1)):
            c.box(desk, f"desk_runner_{i}", (0.27, 0.008, 0.05), (0.3, sy * 0.235, DESK_TOP - 0.09),
                  rgba=metal, collide=False)
        drawer = c.body(desk, "desk_drawer", (0.31, 0.0, DESK_TOP - 0.13))
        drawer.add_joint(name="desk_drawer_slide", type=mujoco.mjtJoint.mjJNT_SLIDE,
                         axis=[1, 0, 0], range=[0.0, DRAWER_TRAVEL], damping=4.0,
                         frictionloss=0.5, armature=0.05)
        front = (0.55, 0.40, 0.26, 1)
        c.box(drawer, "desk_drawer_front", (0.012, 0.22, 0.07), (0.27, 0, 0), rgba=front, mass=0.4)
        c.box(drawer, "desk_drawer_bottom", (0.25, 0.2, 0.006), (0.0, 0, -0.055), rgba=front,
              mass=0.3)
        for i, sy in enumerate((1, -1)):
            c.box(drawer, f"desk_drawer_side_{i}", (0.25, 0.006, 0.05), (0.0, sy * 0.2, 0.0),
                  rgba=front, mass=0.1)
        c.box(drawer, "desk_drawer_back", (0.006, 0.2, 0.05), (-0.25, 0, 0), rgba=front, mass=0.1)
        c.capsule(drawer, "desk_drawer_handle", 0.01, 0.07, (0.30, 0, 0.01), rgba=metal,
                  quat=[np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0], mass=0.05)
        for i, sy in enumerate((1, -1)):
            c.box(drawer, f"desk_drawer_handle_post_{i}", (0.011, 0.006, 0.006),
                  (0.288, sy * 0.06, 0.01), rgba=metal, mass=0.01)
        # A monitor and keyboard on the top (visual detail, static).
        c.box(desk, "desk_monitor", (0.02, 0.26, 0.16), (-0.35, 0, DESK_TOP + 0.24),
              rgba=(0.08, 0.08, 0.1, 1))
        c.box(desk, "desk_monitor_stand", (0.05, 0.08, 0.04), (-0.35, 0, DESK_TOP + 0.04),
              rgba=metal)
        c.box(desk, "desk_keyboard", (0.07, 0.2, 0.01), (0.05, 0, DESK_TOP + 0.01),
              rgba=(0.85, 0.85, 0.85, 1), collide=False)
        self.add_fixture(Fixture("desk", DESK_HALF, DESK_TOP + 0.4, DESK_POS))

    def _chair(self, spec: mujoco.MjSpec) -> None:
        chair = c.body(spec.worldbody, "chair", CHAIR_POS, quat=list(yaw_quat(np.pi)))
        black = (0.12, 0.12, 0.14, 1)
        c.cylinder(chair, "chair_post", 0.03, 0.2, (0, 0, 0.25), rgba=(0.4, 0.4, 0.42, 1))
        for i in range(5):
            a = 2 * np.pi * i / 5
            c.box(chair, f"chair_foot_{i}", (0.14, 0.018, 0.015),
                  (*0.12 * heading(a), 0.04), quat=list(yaw_quat(a)), rgba=black)
        c.box(chair, "chair_seat", (0.22, 0.22, 0.04), (0, 0, 0.47), rgba=(0.2, 0.25, 0.45, 1))
        c.box(chair, "chair_back", (0.03, 0.2, 0.22), (-0.2, 0, 0.75), rgba=(0.2, 0.25, 0.45, 1))
        self.add_fixture(Fixture("chair", CHAIR_HALF, 0.97, CHAIR_POS, np.pi))

    # -- landmarks (origin: footprint centre on the floor, front = +x) ------------------
    def _printer(self, b: mujoco.MjsBody) -> None:
        add_printer(b)

    def _water_cooler(self, b: mujoco.MjsBody) -> None:
        c.box(b, "water_cooler_body", (0.16, 0.16, 0.45), (0, 0, 0.45), rgba=(0.92, 0.92, 0.94, 1))
        c.cylinder(b, "water_cooler_bottle", 0.13, 0.2, (0, 0, 1.1), rgba=(0.35, 0.6, 0.9, 0.85))
        c.cylinder(b, "water_cooler_neck", 0.05, 0.03, (0, 0, 0.92), rgba=(0.35, 0.6, 0.9, 1))
        c.box(b, "water_cooler_tap_hot", (0.02, 0.015, 0.02), (0.17, 0.05, 0.72),
              rgba=(0.8, 0.1, 0.1, 1), collide=False)
        c.box(b, "water_cooler_tap_cold", (0.02, 0.015, 0.02), (0.17, -0.05, 0.72),
              rgba=(0.1, 0.3, 0.85, 1), collide=False)
        c.box(b, "water_cooler_drip_tray", (0.04, 0.11, 0.01), (0.19, 0, 0.55),
              rgba=(0.3, 0.3, 0.3, 1), collide=False)

    def _plant(self, b: mujoco.MjsBody) -> None:
        c.cylinder(b, "plant_pot", 0.2, 0.2, (0, 0, 0.2), rgba=(0.7, 0.38, 0.22, 1))
        c.cylinder(b, "plant_stem", 0.025, 0.3, (0, 0, 0.65), rgba=(0.35, 0.25, 0.12, 1),
                   collide=False)
        leaves = ((0, 0, 1.05, 0.26), (0.1, 0.1, 0.9, 0.2), (-0.1, -0.08, 0.92, 0.2),
                  (0.06, -0.12, 1.2, 0.17), (-0.08, 0.1, 1.18, 0.16))
        for i, (x, y, z, r) in enumerate(leaves):
            c.sphere(b, f"plant_leaves_{i}", r, (x, y, z), rgba=(0.18, 0.5, 0.16, 1),
                     collide=False)

    def _filing_cabinet(self, b: mujoco.MjsBody) -> None:
        hx, hy, h = LANDMARKS["filing_cabinet"]
        c.box(b, "filing_cabinet_body", (hx, hy, h / 2), (0, 0, h / 2), rgba=(0.55, 0.57, 0.6, 1))
        for i in range(4):
            z = 0.18 + i * 0.31
            c.box(b, f"filing_cabinet_front_{i}", (0.005, hy - 0.02, 0.14), (hx + 0.004, 0, z),
                  rgba=(0.6, 0.62, 0.65, 1), collide=False)
            c.box(b, f"filing_cabinet_handle_{i}", (0.012, 0.06, 0.01), (hx + 0.015, 0, z + 0.08),
                  rgba=(0.2, 0.2, 0.2, 1), collide=False)

    def _bookcase(self, b: mujoco.MjsBody) -> None:
        hx, hy, h = LANDMARKS["bookcase"]
        wood = (0.45, 0.3, 0.18, 1)
        c.box(b, "bookcase_back", (0.01, hy, h / 2), (-hx + 0.01, 0, h / 2), rgba=wood)
        for i, sy in enumerate((1, -1)):
            c.box(b, f"bookcase_side_{i}", (hx, 0.015, h / 2), (0, sy * (hy - 0.015), h / 2),
                  rgba=wood)
        book_colors = ((0.7, 0.15, 0.12, 1), (0.15, 0.3, 0.6, 1), (0.85, 0.7, 0.2, 1),
                       (0.2, 0.5, 0.25, 1), (0.5, 0.2, 0.5, 1))
        for i, z in enumerate((0.02, 0.46, 0.9, 1.34, h - 0.02)):
            c.box(b, f"bookcase_board_{i}", (hx, hy - 0.03, 0.015), (0, 0, z), rgba=wood)
            if i == 4:
                break
            y = -hy + 0.06
            k = 0
            while y < hy - 0.12:
                w = 0.02 + 0.012 * ((i * 7 + k * 3) % 4)
                hh = 0.12 + 0.025 * ((i + k * 5) % 4)
                c.box(b, f"bookcase_book_{i}_{k}", (0.12, w, hh), (-0.02, y + w, z + 0.015 + hh),
                      rgba=book_colors[(i + 2 * k) % 5], collide=False)
                y += 2 * w + 0.006
                k += 1

    # -- episode -------------------------------------------------------------------------
    @staticmethod
    def slot_pose(name: str, slot: Slot) -> tuple[np.ndarray, float]:
        """Where landmark ``name`` stands in ``slot``: its body position and yaw."""
        hx = LANDMARKS[name][0]
        xy = np.array(slot.wall_xy) + (hx + 0.02) * heading(slot.yaw)
        return np.array([xy[0], xy[1], 0.0]), slot.yaw

    def initialize(self, sim: Sim, rng: np.random.Generator) -> None:
        """Jitter desk/chair, deal the landmarks into wall slots, recolour, close the drawer."""
        super().initialize(sim, rng)  # ±4 cm / ±3° on every fixture (landmarks re-placed below)
        # Held-out layouts (the "unseen_layouts" split) put the printer on a side wall, where
        # no training layout has it.
        while True:
            slots = rng.permutation(len(SLOTS))[: len(LANDMARKS)]
            if (int(slots[0]) in HELD_OUT_PRINTER_SLOTS) == self.held_out:
                break
        self.slot_of = {}
        for name, k in zip(LANDMARKS, slots, strict=False):
            pos, yaw = self.slot_pose(name, SLOTS[int(k)])
            along = yaw_matrix(yaw)[:, 1]  # slide along the wall (the landmark's local y)
            pos = pos + along * rng.uniform(-0.1, 0.1)
            sim.set_static_pose(name, pos, yaw + rng.uniform(-0.04, 0.04))
            self.slot_of[name] = int(k)
        self._recolour(sim, rng)
        sim.set_joint_qpos("desk_drawer_slide", 0.0)

    def _recolour(self, sim: Sim, rng: np.random.Generator) -> None:
        def tint(geom: str, base: tuple[float, ...], amount: float = 0.06) -> None:
            rgba = np.array(base, float)
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-amount, amount, 3), 0.0, 1.0)
            sim.set_rgba(geom, rgba)

        tint("floor", self.floor_rgba, 0.08)
        wall = np.array([0.88, 0.87, 0.82, 1.0])
        wall[:3] = np.clip(wall[:3] - rng.uniform(0.0, 0.15) + rng.uniform(-0.04, 0.04, 3), 0, 1)
        for side in "nsew":
            sim.set_rgba(f"office_wall_{side}", wall)
        printer_shells = ((0.86, 0.86, 0.84, 1), (0.93, 0.93, 0.9, 1), (0.3, 0.31, 0.33, 1))
        tint("printer_body", printer_shells[int(rng.integers(len(printer_shells)))], 0.03)
        tint("printer_stand", (0.36, 0.3, 0.26, 1), 0.08)
        tint("desk_top", (0.62, 0.46, 0.30, 1), 0.08)
        tint("filing_cabinet_body", (0.55, 0.57, 0.6, 1), 0.08)
        tint("plant_pot", (0.7, 0.38, 0.22, 1), 0.1)
        seat = (0.2, 0.25, 0.45, 1) if rng.random() < 0.5 else (0.45, 0.18, 0.15, 1)
        tint("chair_seat", seat, 0.05)
        sim.set_rgba("chair_back", sim.rgba("chair_seat"))

    # -- queries for tasks -----------------------------------------------------------------
    def landmark_pose(self, sim: Sim, name: str) -> tuple[np.ndarray, float]:
        """Footprint centre ``(x, y)`` and front yaw of a landmark this episode."""
        pos, yaw = sim.static_pose(name)
        return pos[:2], yaw

    def landmark_front(self, sim: Sim, name: str) -> tuple[np.ndarray, float]:
        """Centre of a landmark's front face ``(x, y)`` and the direction it faces."""
        center, yaw = self.landmark_pose(sim, name)
        hx = LANDMARKS[name][0]
        return center + hx * heading(yaw), yaw


# -- start poses that show the room ------------------------------------------------------------
VIEW_HALF_FOV = np.radians(24.0)
"""Half the horizontal angle within which a landmark counts as in view: the front camera sees
±29°, less a margin for the landmark's own width."""


def in_view(xy: np.ndarray, yaw: float | np.ndarray, points: np.ndarray,
            half_fov: float = VIEW_HALF_FOV) -> np.ndarray:
    """``bool[k]``: which of ``points`` (k × 2) lie within ``half_fov`` of heading ``yaw`` from
    ``xy`` (bearing only: occlusion is not checked); ``bool[n, k]`` for ``n`` headings."""
    rel = np.asarray(points, float) - np.asarray(xy, float)[:2]
    bearing = np.arctan2(rel[:, 1], rel[:, 0])
    off = bearing - np.asarray(yaw, float)[..., None]
    return np.abs((off + np.pi) % (2 * np.pi) - np.pi) <= half_fov


def view_heading(xy: np.ndarray, points: np.ndarray, rng: np.random.Generator,
                 n: int = 72) -> tuple[float, int]:
    """A heading from ``xy`` that puts the most of ``points`` in view, and how many.

    Ties are broken with ``rng``. Tasks pass *all* their alternatives, never the goal alone, so
    the start heading says nothing about which of them the instruction names.
    """
    yaws = np.arange(n) * 2 * np.pi / n
    counts = in_view(xy, yaws, points).sum(axis=1)
    best = np.flatnonzero(counts == counts.max())
    k = int(best[int(rng.integers(len(best)))])
    return float(yaws[k]), int(counts[k])
