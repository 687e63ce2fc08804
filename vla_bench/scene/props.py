"""Props built in code: each function adds one free body and returns its name."""

from __future__ import annotations

import mujoco

from vla_bench.scene import compose as c

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
PARK_Z = -5.0  # unused props are parked below the floor, out of every camera's view


def apple(spec: mujoco.MjSpec, name: str, radius: float = 0.035) -> str:
    """A sphere with a stem, 150 g."""
    b = c.body(spec.worldbody, name, (0, 0, PARK_Z), free=True)
    c.sphere(b, name, radius, mass=0.15, friction=[1.0, 0.01, 0.001], condim=4)
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
    h2 = height / 2
    per = mass / 5
    c.box(b, f"{name}_floor", (hx + wall, hy + wall, wall / 2), (0, 0, wall / 2), rgba=rgba, mass=per)
    c.box(b, f"{name}_wall_px", (wall / 2, hy + wall, h2), (hx + wall / 2, 0, h2), rgba=rgba, mass=per)
    c.box(b, f"{name}_wall_nx", (wall / 2, hy + wall, h2), (-hx - wall / 2, 0, h2), rgba=rgba, mass=per)
    c.box(b, f"{name}_wall_py", (hx, wall / 2, h2), (0, hy + wall / 2, h2), rgba=rgba, mass=per)
    c.box(b, f"{name}_wall_ny", (hx, wall / 2, h2), (0, -hy - wall / 2, h2), rgba=rgba, mass=per)
    return name
