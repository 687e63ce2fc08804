"""Liquid as particles: small free spheres that collide with the world but not with each other.

Why no particle–particle contacts: two dozen mutually colliding balls in a bottle make ~200 contacts
and cost more than the whole robot; without them a pour still behaves like a pour (the balls
slide out of a tilted container along its wall and fall into whatever is below), and each
step stays cheap. The balls do not touch the robot either (water wets the hand, it does not
push it), so holding a bottle full of them never reads as a collision.

Contact bits: a particle has ``contype = CONTACT_LIQUID`` (a bit no solid has) and
``conaffinity = CONTACT_GROUND``. MuJoCo collides two geoms when ``contype1 & conaffinity2`` or
``contype2 & conaffinity1`` is non-zero, so a particle meets every scene geom built with
:func:`vla_bench.scene.compose.box` & co. (bits 1|2) and the floor (bit 2), but neither another
particle (4 & 2 = 0) nor the carried robot (bits 1).
"""

from __future__ import annotations

import mujoco
import numpy as np

from vla_bench.conventions import CONTACT_GROUND, CONTACT_LIQUID
from vla_bench.scene import compose as c
from vla_bench.scene.props import PARK_Z

WATER_RGBA = (0.25, 0.55, 0.95, 0.85)


def add_particles(
    spec: mujoco.MjSpec, prefix: str, n: int, radius: float, mass: float,
    rgba: tuple[float, ...] = WATER_RGBA,
) -> list[str]:
    """``n`` free sphere bodies ``<prefix>_<i>`` (parked); returns their names."""
    names = []
    for i in range(n):
        name = f"{prefix}_{i}"
        b = c.body(spec.worldbody, name, (0.05 * i, 0, PARK_Z), free=True)
        # condim 3: the contact takes the container's friction (the larger one), so the balls
        # roll and slide out of a tilted container in a stream. (Frictionless balls were tried:
        # they shoot off the lip as one blob and overshoot a glass.)
        c.sphere(b, name, radius, rgba=rgba, mass=mass, contype=CONTACT_LIQUID,
                 conaffinity=CONTACT_GROUND, condim=3, friction=[0.2, 0.005, 0.0001])
        names.append(name)
    return names


def fill(
    sim: object, names: list[str], floor_center: np.ndarray, inner_radius: float,
    radius: float, rng: np.random.Generator,
) -> None:
    """Put the particles at rest on a container's floor (``floor_center`` is the floor's top).

    Particles do not collide with each other, so they may overlap: each gets its own random
    spot on the floor inside the wall.
    """
    r_max = max(inner_radius - radius - 0.002, 0.0)
    for name in names:
        rho = r_max * np.sqrt(rng.uniform())
        phi = rng.uniform(-np.pi, np.pi)
        pos = floor_center + np.array([rho * np.cos(phi), rho * np.sin(phi), radius + 0.0005])
        sim.set_free_pose(name, pos)


def inside_cylinder(
    points: np.ndarray, origin: np.ndarray, mat: np.ndarray, inner_radius: float,
    z_range: tuple[float, float],
) -> np.ndarray:
    """Which ``points (n, 3)`` lie inside a cylinder in a body's frame (axis = body z).

    ``origin``/``mat`` are the body's world position and rotation; the cylinder has radius
    ``inner_radius`` around the body's z axis and spans ``z_range`` along it.
    """
    local = (points - origin) @ mat
    return ((np.hypot(local[:, 0], local[:, 1]) < inner_radius)
            & (local[:, 2] > z_range[0]) & (local[:, 2] < z_range[1]))
