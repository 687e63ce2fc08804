"""Outdoor: a grassy field of gentle bumps (a heightfield) with a tree and other landmarks.

The terrain is an 18 m x 18 m MuJoCo heightfield generated once, at build time, from a fixed
seed (the structure never changes between episodes). Six landmarks stand on it: a tree, a
lamp post, a rock, a bench, a stack of crates and a door in a free-standing frame (hinged, no
latch). Each episode deals them into cells of a 4 x 4 grid (2.4 m apart, jittered, random
yaw) and sets each one's height from the terrain under it. Body origins are at the centre of
the footprint at ground level.
"""

from __future__ import annotations

import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.geometry import from_robot_frame, to_robot_frame
from vla_bench.scene import compose as c
from vla_bench.scene.layout import Fixture, Layout
from vla_bench.sim import Sim

TERRAIN_HALF = 9.0  # m, the heightfield spans [-9, 9]^2
TERRAIN_N = 91  # samples per side (0.2 m apart)
TERRAIN_RELIEF = 0.3  # m between the lowest and highest point
TERRAIN_SEED = 20261101  # fixed: the terrain is structure, not episode randomness
FIELD_HALF = 7.5  # m: leaving |x| or |y| < FIELD_HALF is leaving the field
CELL = 2.4  # m between grid cells
CELLS = tuple(float(v) for v in (-1.5 * CELL, -0.5 * CELL, 0.5 * CELL, 1.5 * CELL))
CELL_JITTER = 0.25
HELD_OUT_TREE_CELLS = ((1, 1), (1, 2), (2, 1), (2, 2))  # "tree" is the first landmark
SINK = 0.2  # m: ground-touching geoms reach this far below their body origin

# name -> (footprint half extents (x, y), height)
LANDMARKS: dict[str, tuple[tuple[float, float], float]] = {
    "tree": ((0.14, 0.14), 3.3),
    "lamp_post": ((0.11, 0.11), 3.0),
    "rock": ((0.45, 0.36), 0.5),
    "bench": ((0.24, 0.62), 0.85),
    "crates": ((0.32, 0.32), 1.0),
    "door_frame": ((0.08, 0.56), 2.1),
}
SPOKEN = {"tree": "tree", "lamp_post": "lamp post", "rock": "rock", "bench": "bench",
          "crates": "crates", "door_frame": "door"}


def make_terrain(seed: int = TERRAIN_SEED) -> np.ndarray:
    """Heights ``(TERRAIN_N, TERRAIN_N)`` in metres (row = y, column = x), min 0."""
    rng = np.random.default_rng(seed)
    ax = np.linspace(-TERRAIN_HALF, TERRAIN_HALF, TERRAIN_N)
    gx, gy = np.meshgrid(ax, ax)  # gx varies along columns (x), gy along rows (y)
    h = np.zeros_like(gx)
    for _ in range(14):
        cx, cy = rng.uniform(-TERRAIN_HALF, TERRAIN_HALF, 2)
        sigma = rng.uniform(1.3, 2.6)
        amp = rng.uniform(-1.0, 1.0)
        h += amp * np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * sigma ** 2))
    for _ in range(3):
        k = rng.uniform(0.4, 0.9, 2) * rng.choice([-1, 1], 2)
        h += 0.25 * np.sin(k[0] * gx + k[1] * gy + rng.uniform(0, 2 * np.pi))
    h -= h.min()
    return h * (TERRAIN_RELIEF / h.max())


class OutdoorLayout(Layout):
    """Bumpy grass field; six landmarks dealt into grid cells each episode."""

    name = "outdoor"
    floor_rgba = (0.36, 0.55, 0.24, 1.0)
    nav_bounds = (-FIELD_HALF + 0.5, FIELD_HALF - 0.5, -FIELD_HALF + 0.5, FIELD_HALF - 0.5)

    def __init__(self) -> None:
        super().__init__()
        self.heights = make_terrain()
        self.cell_of: dict[str, tuple[int, int]] = {}

    # -- terrain ---------------------------------------------------------------------------
    def ground_height(self, x: float, y: float) -> float:
        """Bilinear interpolation of the heightfield (clamped at its edge)."""
        step = 2 * TERRAIN_HALF / (TERRAIN_N - 1)
        u = np.clip((x + TERRAIN_HALF) / step, 0.0, TERRAIN_N - 1.000001)
        v = np.clip((y + TERRAIN_HALF) / step, 0.0, TERRAIN_N - 1.000001)
        i, j = int(u), int(v)
        fu, fv = u - i, v - j
        h = self.heights
        return float((1 - fv) * ((1 - fu) * h[j, i] + fu * h[j, i + 1])
                     + fv * ((1 - fu) * h[j + 1, i] + fu * h[j + 1, i + 1]))

    def _terrain(self, spec: mujoco.MjSpec) -> None:
        spec.add_texture(name="outdoor_sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
                         builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, rgb1=[0.55, 0.72, 0.92],
                         rgb2=[0.95, 0.97, 1.0], width=256, height=1536)
        spec.add_texture(name="outdoor_grass_tex", type=mujoco.mjtTexture.mjTEXTURE_2D,
                         builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER, rgb1=[0.34, 0.52, 0.22],
                         rgb2=[0.40, 0.58, 0.26], width=256, height=256)
        mat = spec.add_material(name="outdoor_grass", texrepeat=[18, 18], texuniform=False)
        mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "outdoor_grass_tex"
        spec.add_hfield(name="outdoor_terrain",
                        size=[TERRAIN_HALF, TERRAIN_HALF, TERRAIN_RELIEF, 0.2],
                        nrow=TERRAIN_N, ncol=TERRAIN_N,
                        userdata=(self.heights / TERRAIN_RELIEF).ravel().tolist())
        spec.worldbody.add_geom(
            name="terrain", type=mujoco.mjtGeom.mjGEOM_HFIELD, hfieldname="outdoor_terrain",
            material="outdoor_grass", rgba=[1, 1, 1, 1], contype=cv.CONTACT_GROUND,
            conaffinity=cv.CONTACT_GROUND, group=cv.GROUP_SCENE, friction=[1.0, 0.01, 0.001],
        )

    # -- build -----------------------------------------------------------------------------
    def build(self, spec: mujoco.MjSpec) -> None:
        self._terrain(spec)
        for k, name in enumerate(LANDMARKS):
            half, height = LANDMARKS[name]
            pos = (CELLS[k % 4], CELLS[k // 4], 0.0)
            b = c.body(spec.worldbody, name, pos)
            getattr(self, f"_{name}")(b)
            self.add_fixture(Fixture(name, half, height, pos))
        c.add_camera(spec, "external", pos=(-7.5, -7.0, 5.5), target=(0.3, 0.3, 0.0), fovy=60)

    def _tree(self, b: mujoco.MjsBody) -> None:
        top = 2.0
        c.cylinder(b, "tree_trunk", 0.13, (top + SINK) / 2, (0, 0, (top - SINK) / 2),
                   rgba=(0.42, 0.28, 0.16, 1))
        c.capsule(b, "tree_branch_0", 0.05, 0.3, (0.12, 0.0, 1.8), rgba=(0.42, 0.28, 0.16, 1),
                  quat=_axis_quat((0, 1, 0), 0.7), collide=False)
        c.capsule(b, "tree_branch_1", 0.05, 0.3, (-0.1, 0.08, 1.85), rgba=(0.42, 0.28, 0.16, 1),
                  quat=_axis_quat((1, 1, 0), -0.7), collide=False)
        blobs = ((0, 0, 2.5, 0.62), (0.38, 0.12, 2.25, 0.45), (-0.34, 0.2, 2.3, 0.45),
                 (0.05, -0.38, 2.3, 0.45), (0.0, 0.1, 2.9, 0.42))
        for i, (x, y, z, r) in enumerate(blobs):
            c.sphere(b, f"tree_canopy_{i}", r, (x, y, z), rgba=(0.2, 0.48, 0.15, 1),
                     collide=False)

    def _lamp_post(self, b: mujoco.MjsBody) -> None:
        dark = (0.15, 0.16, 0.18, 1)
        c.cylinder(b, "lamp_post_base", 0.11, (0.35 + SINK) / 2, (0, 0, (0.35 - SINK) / 2),
                   rgba=dark)
        c.cylinder(b, "lamp_post_pole", 0.045, 1.35, (0, 0, 1.35 + 0.3), rgba=dark)
        c.cylinder(b, "lamp_post_head", 0.14, 0.04, (0, 0, 3.04), rgba=dark, collide=False)
        c.sphere(b, "lamp_post_bulb", 0.11, (0, 0, 2.92), rgba=(1.0, 0.95, 0.7, 1),
                 collide=False)

    def _rock(self, b: mujoco.MjsBody) -> None:
        grey = (0.5, 0.49, 0.47, 1)
        c.sphere(b, "rock_0", 0.36, (0.05, 0.0, 0.05), rgba=grey)
        c.sphere(b, "rock_1", 0.27, (-0.18, 0.1, 0.0), rgba=(0.45, 0.44, 0.42, 1))
        c.sphere(b, "rock_2", 0.22, (0.22, -0.14, -0.02), rgba=(0.55, 0.54, 0.5, 1))

    def _bench(self, b: mujoco.MjsBody) -> None:
        wood, iron = (0.55, 0.36, 0.2, 1), (0.12, 0.12, 0.13, 1)
        c.box(b, "bench_seat", (0.2, 0.6, 0.025), (0, 0, 0.45), rgba=wood)
        c.box(b, "bench_backrest", (0.02, 0.6, 0.12), (-0.2, 0, 0.72), rgba=wood)
        for i, sy in enumerate((1, -1)):
            c.box(b, f"bench_leg_front_{i}", (0.025, 0.025, (0.45 + SINK) / 2),
                  (0.15, sy * 0.52, (0.45 - SINK) / 2), rgba=iron)
            c.box(b, f"bench_leg_back_{i}", (0.025, 0.025, (0.84 + SINK) / 2),
                  (-0.2, sy * 0.52, (0.84 - SINK) / 2), rgba=iron)

    def _crates(self, b: mujoco.MjsBody) -> None:
        c.box(b, "crates_bottom", (0.3, 0.3, 0.3 + SINK / 2), (0, 0, 0.3 - SINK / 2),
              rgba=(0.66, 0.5, 0.3, 1))
        c.box(b, "crates_top", (0.21, 0.21, 0.19), (0.02, -0.01, 0.79),
              quat=_axis_quat((0, 0, 1), 0.35), rgba=(0.72, 0.56, 0.34, 1))
        for i, (x, y) in enumerate(((0.301, 0), (-0.301, 0))):
            c.box(b, f"crates_slat_{i}", (0.003, 0.28, 0.03), (x, y, 0.45),
                  rgba=(0.45, 0.32, 0.18, 1), collide=False)

    def _door_frame(self, b: mujoco.MjsBody) -> None:
        """A free-standing door: posts and lintel, a panel on a hinge (swings both ways)."""
        frame = (0.92, 0.92, 0.9, 1)
        h = 2.0
        for i, sy in enumerate((1, -1)):
            c.box(b, f"door_frame_post_{i}", (0.06, 0.05, (h + SINK) / 2),
                  (0, sy * 0.5, (h - SINK) / 2), rgba=frame)
        c.box(b, "door_frame_lintel", (0.06, 0.55, 0.05), (0, 0, h + 0.05), rgba=frame)
        door = c.body(b, "door", (0.0, 0.44, 0.1))
        door.add_joint(name="door_hinge", type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1],
                       range=[-1.7, 1.7], damping=3.0, frictionloss=0.5, armature=0.1)
        bits = cv.CONTACT_WORLD  # swings over the terrain without touching it
        c.box(door, "door_panel", (0.02, 0.435, 0.93), (0, -0.44, 0.95),
              rgba=(0.55, 0.2, 0.15, 1), mass=8.0, contype=bits, conaffinity=bits)
        for i, sx in enumerate((1, -1)):
            c.capsule(door, f"door_knob_{i}", 0.025, 0.03, (sx * 0.05, -0.78, 0.95),
                      quat=_axis_quat((0, 1, 0), np.pi / 2), rgba=(0.8, 0.7, 0.3, 1),
                      mass=0.1, contype=bits, conaffinity=bits)

    # -- episode -----------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator) -> None:
        """Deal landmarks into grid cells (jittered, random yaw), seat them on the terrain."""
        cells = [(i, j) for j in range(4) for i in range(4)]
        # Held-out layouts (the "unseen_layouts" split) put the tree in one of the four centre
        # cells, where no training layout has it.
        while True:
            order = rng.permutation(len(cells))
            if (cells[int(order[0])] in HELD_OUT_TREE_CELLS) == self.held_out:
                break
        self.cell_of = {}
        for name, k in zip(LANDMARKS, order, strict=False):  # the first six cells dealt
            i, j = cells[int(k)]
            xy = np.array([CELLS[i], CELLS[j]]) + rng.uniform(-CELL_JITTER, CELL_JITTER, 2)
            self.place(sim, name, xy, float(rng.uniform(-np.pi, np.pi)))
            self.cell_of[name] = (i, j)
        sim.set_joint_qpos("door_hinge", 0.0)
        self._recolour(sim, rng)

    def place(self, sim: Sim, name: str, xy: np.ndarray, yaw: float) -> None:
        """Put a landmark at ``xy`` with ``yaw``, its origin on the lowest ground under it."""
        half = np.array(LANDMARKS[name][0])
        # The footprint's corners, edge midpoints and centre, in the landmark's own frame.
        local = np.array([(u * half[0], v * half[1]) for u in (-1.0, 0.0, 1.0)
                          for v in (-1.0, 0.0, 1.0)])
        pts = from_robot_frame(local, np.array([xy[0], xy[1], yaw]))
        z = min(self.ground_height(float(px), float(py)) for px, py in pts)
        sim.set_static_pose(name, np.array([xy[0], xy[1], z]), yaw)

    def _recolour(self, sim: Sim, rng: np.random.Generator) -> None:
        def tint(geom: str, base: tuple[float, ...], amount: float) -> None:
            rgba = np.array(base, float)
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-amount, amount, 3), 0.0, 1.0)
            sim.set_rgba(geom, rgba)

        shade = np.clip(1.0 + rng.uniform(-0.12, 0.12, 3), 0, 1.2)
        sim.set_material_rgba("outdoor_grass", [*np.minimum(shade, 1.0), 1.0])
        green = np.array([0.2, 0.48, 0.15, 1.0])
        green[:3] = np.clip(green[:3] + rng.uniform(-0.06, 0.06, 3), 0, 1)
        for i in range(5):
            sim.set_rgba(f"tree_canopy_{i}", green)
        tint("tree_trunk", (0.42, 0.28, 0.16, 1), 0.05)
        tint("bench_seat", (0.55, 0.36, 0.2, 1), 0.1)
        sim.set_rgba("bench_backrest", sim.rgba("bench_seat"))
        tint("crates_bottom", (0.66, 0.5, 0.3, 1), 0.08)
        tint("crates_top", (0.72, 0.56, 0.34, 1), 0.08)
        doors = ((0.55, 0.2, 0.15, 1), (0.2, 0.35, 0.55, 1), (0.25, 0.45, 0.3, 1))
        tint("door_panel", doors[int(rng.integers(len(doors)))], 0.04)
        tint("rock_0", (0.5, 0.49, 0.47, 1), 0.06)

    # -- queries -------------------------------------------------------------------------------
    def landmark_xy(self, sim: Sim, name: str) -> np.ndarray:
        """Footprint centre of a landmark this episode."""
        return sim.static_pose(name)[0][:2]

    def landmark_pose(self, sim: Sim, name: str) -> np.ndarray:
        """``(x, y, yaw)`` of a landmark's footprint this episode."""
        pos, yaw = sim.static_pose(name)
        return np.array([pos[0], pos[1], yaw])

    def distances_to(self, sim: Sim, name: str, pts: np.ndarray) -> np.ndarray:
        """Distances from points ``(n, 2)`` to a landmark's footprint rectangle (0 inside)."""
        local = to_robot_frame(np.asarray(pts, float)[..., :2], self.landmark_pose(sim, name))
        out = np.maximum(np.abs(local) - np.array(LANDMARKS[name][0]), 0.0)
        return np.linalg.norm(out, axis=-1)

    def distance_to(self, sim: Sim, name: str, xy: np.ndarray) -> float:
        """Distance from ``xy`` to a landmark's footprint rectangle (0 inside)."""
        return float(self.distances_to(sim, name, np.asarray(xy, float)[:2]))


def _axis_quat(axis: tuple[float, float, float], angle: float) -> list[float]:
    a = np.asarray(axis, float)
    a /= np.linalg.norm(a)
    return [float(np.cos(angle / 2)), *(float(v) for v in np.sin(angle / 2) * a)]
