"""Domain layouts: the fixed furniture of a domain scene, jittered per episode.

A layout builds its fixtures once (``build``) and moves/recolours them per episode
(``initialize``) by editing ``model.body_pos`` / ``geom_rgba`` — valid without recompiling.
It also answers the questions a planner asks: footprints of obstacles and ground height.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.sim import Sim


@dataclass
class Fixture:
    """A static piece of furniture: its body and a footprint box for planning."""

    body: str
    half_xy: tuple[float, float]
    height: float
    base_pos: tuple[float, float, float]
    base_yaw: float = 0.0
    obstacle: bool = True  # counts for navigation planning


@dataclass(frozen=True)
class Footprint:
    """An oriented rectangle on the ground (planner obstacle)."""

    center: np.ndarray
    half_xy: np.ndarray
    yaw: float

    def contains(self, points: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Boolean mask of ``points (n, 2)`` inside the rectangle grown by ``margin``."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        rel = points - self.center
        local = np.stack([rel[:, 0] * c + rel[:, 1] * s, -rel[:, 0] * s + rel[:, 1] * c], 1)
        return np.all(np.abs(local) <= self.half_xy + margin, axis=1)


class Layout(ABC):
    """Base of the four domain layouts."""

    name: str
    floor_rgba: tuple[float, float, float, float] = (0.55, 0.52, 0.48, 1.0)

    def __init__(self) -> None:
        self.fixtures: dict[str, Fixture] = {}
        # Set by the env for the "unseen_layouts" split: fixtures move by more than any
        # training layout does (a disjoint band of offsets), see initialize().
        self.held_out = False

    @abstractmethod
    def build(self, spec: mujoco.MjSpec) -> None:
        """Add floor, walls, furniture and the third-person camera."""

    def initialize(self, sim: Sim, rng: np.random.Generator) -> None:
        """Per-episode jitter of fixtures: ±4 cm, ±3° and ±0.06 in each colour channel.

        Held-out layouts (``held_out``) shift each fixture by 4–8 cm per axis and turn it by
        3–6°: a band no training episode reaches.
        """
        rgba0 = sim.ledger.nominal("geom_rgba")  # as compiled, before any episode
        for fx in self.fixtures.values():
            if self.held_out:
                sign = rng.choice([-1.0, 1.0], 3)
                dxy = sign[:2] * rng.uniform(0.04, 0.08, 2)
                dyaw = sign[2] * rng.uniform(0.05, 0.10)
            else:
                dxy = rng.uniform(-0.04, 0.04, 2)
                dyaw = rng.uniform(-0.05, 0.05)
            pos = np.array(fx.base_pos) + np.array([dxy[0], dxy[1], 0.0])
            sim.set_static_pose(fx.body, pos, fx.base_yaw + dyaw)
            geoms = sim.body_geoms(fx.body)
            tint = rng.uniform(-0.06, 0.06, 3)
            rgba = rgba0[geoms].copy()
            rgba[:, :3] = np.clip(rgba[:, :3] + tint, 0.0, 1.0)
            sim.set_rgba(geoms, rgba)

    def place_robot_facing(self, sim: Sim, rng: np.random.Generator, surface_x: float,
                           y_range: tuple[float, float] = (-0.2, 0.2), back: float = 0.95,
                           jitter: float = 0.1, max_yaw: float = 0.3) -> np.ndarray:
        """Stand the robot in front of a surface along +x and return its ``(x, y)``.

        ``x = surface_x - back + U(-jitter, jitter)``, ``y ~ U(y_range)``, yaw
        ``~ U(-max_yaw, max_yaw)``, drawn from ``rng`` in that order.
        """
        base = np.array([surface_x - back + rng.uniform(-jitter, jitter), rng.uniform(*y_range)])
        sim.set_robot_base(base, rng.uniform(-max_yaw, max_yaw))
        return base

    def distractor_surface(self, sim: Sim) -> tuple[np.ndarray, np.ndarray, float] | None:
        """Where extra distractor props may go: ``(lo_xy, hi_xy, top_z)``, or None (none)."""
        return None

    def ground_height(self, x: float, y: float) -> float:
        """Height of the walkable ground at ``(x, y)`` (flat by default)."""
        return 0.0

    def footprints(self, sim: Sim) -> list[Footprint]:
        """Current obstacle footprints (after this episode's jitter)."""
        out = []
        for fx in self.fixtures.values():
            if not fx.obstacle:
                continue
            pos, yaw = sim.static_pose(fx.body)
            out.append(Footprint(pos[:2], np.array(fx.half_xy), yaw))
        return out

    def add_fixture(self, fixture: Fixture) -> Fixture:
        """Register a fixture (its body must be added to the spec by the caller)."""
        self.fixtures[fixture.body] = fixture
        return fixture
