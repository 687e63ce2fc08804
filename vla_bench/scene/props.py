"""Props built in code: each function adds one free body and returns its name."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco

from vla_bench.scene import compose as c

if TYPE_CHECKING:
    pass

COLORS: dict[str, tuple[float, float, float, float]] = {
    "red": (0.80, 0.08, 0.07, 1.0),
    "green": (0.25, 0.65, 0.15, 1.0),
    "yellow": (0.93, 0.80, 0.12, 1.0),
    "blue": (0.12, 0.30, 0.80, 1.0),
    "orange": (0.95, 0.45, 0.05, 1.0),
    "purple": (0.50, 0.20, 0.60, 1.0),
    "white": (0.92, 0.92, 0.90, 1.0),
    "black": (0.10, 0.10, 0.10, 1.0),
    "gray": (0.50, 0.50, 0.52, 1.0),
}
# Colour words a task may name. Training episodes draw from TRAIN_COLORS; the "unseen_objects"
# split draws from HELD_OUT_COLORS, which no training episode shows.
TRAIN_COLORS: tuple[str, ...] = ("red", "green", "yellow", "blue")
HELD_OUT_COLORS: tuple[str, ...] = ("orange", "purple", "white", "black")


def color_pool(held_out: bool) -> tuple[str, ...]:
    """The colour words of a split (training or held-out)."""
    return HELD_OUT_COLORS if held_out else TRAIN_COLORS


# Build-time pose of props. Never simulated there (inside the floor's half-space): each task's
# initialize places its own props, and VLAEnv parks other tasks' props far away each reset.
PARK_Z = -5.0


def apple(spec: mujoco.MjSpec, name: str, radius: float = 0.035) -> str:
    """A sphere with a stem, 150 g."""
    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    # condim 6: rolling resistance, so a nudged apple stops instead of rolling off the counter.
    c.sphere(b, name, radius, mass=0.15, friction=[1.0, 0.01, 0.002], condim=6)
    c.capsule(b, f"{name}_stem", 0.003, 0.008, (0, 0, radius + 0.006), rgba=(0.35, 0.22, 0.1, 1),
              collide=False)
    return name


def open_box(
    spec: mujoco.MjSpec, name: str, inner: tuple[float, float], height: float,
    wall: float = 0.008, mass: float = 0.4, rgba: tuple[float, ...] = (0.6, 0.45, 0.25, 1),
) -> str:
    """An open-topped container (basket, bin); its origin is the centre of its floor."""
    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    hx, hy = inner[0] / 2, inner[1] / 2
    # Walls stand on the floor plate (not on the support surface): 4 support contacts, not 20.
    h2 = (height - wall) / 2
    zc = wall + h2
    per = mass / 5
    c.box(b, f"{name}_floor", (hx + wall, hy + wall, wall / 2), (0, 0, wall / 2), rgba=rgba, mass=per)
    c.box(b, f"{name}_wall_px", (wall / 2, hy + wall, h2), (hx + wall / 2, 0, zc), rgba=rgba, mass=per)
    c.box(b, f"{name}_wall_nx", (wall / 2, hy + wall, h2), (-hx - wall / 2, 0, zc), rgba=rgba, mass=per)
    c.box(b, f"{name}_wall_py", (hx, wall / 2, h2), (0, hy + wall / 2, zc), rgba=rgba, mass=per)
    c.box(b, f"{name}_wall_ny", (hx, wall / 2, h2), (0, -hy - wall / 2, zc), rgba=rgba, mass=per)
    return name


# -- workshop hardware (appended for the workshop domain) --------------------------------------
_STEEL = (0.62, 0.63, 0.66, 1.0)
_HIDDEN = 0  # geom group of collision-only geoms (cameras draw groups 1 and 2 only)
_SQRT3 = 3.0 ** 0.5
_HEX_QUATS = ([1.0, 0.0, 0.0, 0.0], [_SQRT3 / 2, 0.0, 0.0, 0.5], [0.5, 0.0, 0.0, _SQRT3 / 2])
_Z_TO_X = [0.5 ** 0.5, 0.0, 0.5 ** 0.5, 0.0]  # turns a z-aligned geom along body x


def _hex_prism(
    b: mujoco.MjsBody, name: str, apothem: float, half_height: float, z: float,
    rgba: tuple[float, ...], mass: float, **kw: object,
) -> None:
    """A regular hexagonal prism (flat-to-flat ``2 * apothem``) as the union of three boxes.

    Boxes (not a cylinder) so that the prism rests on a table with face contacts.
    """
    half_side = apothem / _SQRT3
    for i, quat in enumerate(_HEX_QUATS):  # yaw 0°, 60°, 120°
        c.box(b, f"{name}_{i}", (apothem, half_side, half_height), (0, 0, z), rgba=rgba,
              quat=quat, mass=mass / 3, **kw)


def bolt(
    spec: mujoco.MjSpec, name: str, head_apothem: float = 0.018, head_height: float = 0.013,
    shaft_radius: float = 0.009, shaft_length: float = 0.09, grasp_height: float = 0.045,
    rgba: tuple[float, ...] = _STEEL,
) -> str:
    """A hex-head bolt standing on its head, 150 g.

    The body origin is on the shaft axis ``grasp_height`` above the bottom of the head (where
    a front pinch grasps it best); the head is a hexagonal prism, the shaft a capsule with
    visual thread rings on its upper part. ``<name>_shaft`` is the shaft geom.
    """
    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    z0 = -grasp_height  # bottom of the head in body coordinates
    _hex_prism(b, f"{name}_head", head_apothem, head_height / 2, z0 + head_height / 2, rgba,
               0.05, friction=[0.9, 0.01, 0.001], condim=4)
    half = shaft_length / 2
    zc = z0 + head_height + half
    c.capsule(b, f"{name}_shaft", shaft_radius, half - shaft_radius, (0, 0, zc), rgba=rgba,
              mass=0.10, friction=[0.9, 0.01, 0.001], condim=4)
    thread = tuple(max(0.0, v - 0.12) for v in rgba[:3]) + (1.0,)
    n = 9
    for i in range(n):
        z = z0 + head_height + shaft_length * (0.45 + 0.5 * i / (n - 1)) - shaft_radius
        c.cylinder(b, f"{name}_thread_{i}", shaft_radius * 1.04, 0.0009, (0, 0, z), rgba=thread,
                   collide=False, mass=0.0)
    return name


def hex_nut(
    spec: mujoco.MjSpec, name: str, apothem: float = 0.014, height: float = 0.014,
    rgba: tuple[float, ...] = _STEEL,
) -> str:
    """A hex nut lying flat, 40 g; its origin is the centre of its bottom face."""
    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    _hex_prism(b, name, apothem, height / 2, height / 2, rgba, 0.04, friction=[0.9, 0.01, 0.001],
               condim=4)
    c.cylinder(b, f"{name}_hole", apothem * 0.6, 0.0005, (0, 0, height + 0.0002),
               rgba=(0.12, 0.12, 0.13, 1), collide=False, mass=0.0)
    return name


def washer(
    spec: mujoco.MjSpec, name: str, radius: float = 0.02, thickness: float = 0.003,
    rgba: tuple[float, ...] = (0.75, 0.76, 0.78, 1.0),
) -> str:
    """A flat washer lying flat, 15 g; its origin is the centre of its bottom face.

    Drawn as a disc with a dark hole; it collides as a thin hexagonal plate (stable resting).
    """
    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    c.cylinder(b, f"{name}_disc", radius, thickness / 2, (0, 0, thickness / 2), rgba=rgba,
               collide=False, mass=0.0)
    c.cylinder(b, f"{name}_hole", radius * 0.45, 0.0004, (0, 0, thickness + 0.0001),
               rgba=(0.12, 0.12, 0.13, 1), collide=False, mass=0.0)
    _hex_prism(b, f"{name}_col", radius * 0.93, thickness / 2, thickness / 2, rgba, 0.015,
               group=_HIDDEN, friction=[0.9, 0.01, 0.001], condim=4)
    return name


def screw(
    spec: mujoco.MjSpec, name: str, length: float = 0.05, radius: float = 0.0035,
    head_radius: float = 0.0075, rgba: tuple[float, ...] = (0.78, 0.66, 0.32, 1.0),
) -> str:
    """A wood screw lying on its side along body x, 20 g; its origin is on the axis, mid-shaft."""
    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    along_x = _Z_TO_X
    c.capsule(b, f"{name}_shaft", radius, length / 2 - radius, (0, 0, 0), rgba=rgba,
              quat=along_x, mass=0.012, friction=[0.9, 0.01, 0.001], condim=4)
    c.cylinder(b, f"{name}_head", head_radius, 0.0025, (-length / 2 - 0.0025, 0, 0), rgba=rgba,
               quat=along_x, collide=False, mass=0.0)
    # The head collides as a square plate, so the screw rests on a flat instead of rolling.
    c.box(b, f"{name}_head_col", (0.0025, head_radius * 0.85, head_radius * 0.85),
          (-length / 2 - 0.0025, 0, 0), rgba=rgba, group=_HIDDEN, mass=0.008,
          friction=[0.9, 0.01, 0.001], condim=4)
    c.box(b, f"{name}_slot", (0.0006, head_radius * 0.8, head_radius * 0.15),
          (-length / 2 - 0.0051, 0, 0), rgba=(0.2, 0.18, 0.1, 1), collide=False, mass=0.0)
    return name


# -- generic distractors (visual domain randomisation, off by default) -------------------------

DISTRACTOR_SHAPES = ("box", "cylinder", "flat_box", "short_cylinder")


def distractor(spec: mujoco.MjSpec, name: str, shape: str) -> str:
    """A small graspable clutter prop (100 g); its origin is the centre of its base."""
    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    if shape == "box":
        c.box(b, name, (0.02, 0.02, 0.03), (0, 0, 0.03), mass=0.1)
    elif shape == "cylinder":
        c.cylinder(b, name, 0.025, 0.04, (0, 0, 0.04), mass=0.1)
    elif shape == "flat_box":
        c.box(b, name, (0.03, 0.015, 0.015), (0, 0, 0.015), mass=0.1)
    else:
        c.cylinder(b, name, 0.03, 0.02, (0, 0, 0.02), mass=0.1)
    return name


# -- kitchen containers (appended for PourLiquid) ----------------------------------------------

def open_cylinder(
    spec: mujoco.MjSpec, name: str, inner_radius: float, height: float, wall: float = 0.005,
    mass: float = 0.2, rgba: tuple[float, ...] = (0.8, 0.85, 0.9, 0.6), segments: int = 8,
    base: float | None = None,
) -> str:
    """An open-topped round container (glass, bottle) whose wall is a ring of box segments.

    The body origin is the centre of its base. The ring's flat inner faces enclose a circle
    of ``inner_radius``; it stands on a hidden square collision plate (4 stable support
    contacts, and corners that reach under the wall so nothing slips out at the bottom),
    drawn as a disc, ``base`` thick (default: ``wall``; a thick base stops small fast
    objects from tunnelling through it). Geoms: ``<name>_base``, ``<name>_wall_<k>``.
    """
    import numpy as np

    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    plate = wall if base is None else base
    per = mass / (segments + 1)
    c.box(b, f"{name}_base", (inner_radius, inner_radius, plate / 2), (0, 0, plate / 2),
          rgba=rgba, group=_HIDDEN, mass=per)
    c.cylinder(b, f"{name}_disc", inner_radius + wall, plate / 2, (0, 0, plate / 2), rgba=rgba,
               collide=False, mass=0.0)
    half_side = (inner_radius + wall) * np.tan(np.pi / segments)
    h2 = (height - plate) / 2
    for k in range(segments):
        a = 2 * np.pi * k / segments
        r = inner_radius + wall / 2
        c.box(b, f"{name}_wall_{k}", (wall / 2, half_side, h2),
              (r * np.cos(a), r * np.sin(a), plate + h2), rgba=rgba, mass=per,
              quat=[np.cos(a / 2), 0.0, 0.0, np.sin(a / 2)])
    return name
