"""Workshop: a workbench with a vise, a drill press, a parts-bin rack and a pegboard.

Heights are scaled to a 1.3 m humanoid: the bench top is at 0.75 m, like the kitchen counter,
and the bench has the counter's footprint so the manipulation experts reach the same way.

The ``unseen_layouts`` split rearranges the room (see :data:`HELD_OUT_POSES`): the bench is
turned end for end (drawer cabinet under its +y half, facing the wall) with the vise moved to
the back of its +y end, the bench stands near the left wall instead of in the middle of the
back wall, and the drill press and the bin rack both move to the right side. The bench keeps
its place in the world and its +y end stays the vise end, so every task's objects and the
robot's start stay on and before its top, clear of the vise.
"""

from __future__ import annotations

import mujoco
import numpy as np

from vla_bench.scene import compose as c
from vla_bench.scene.layout import Fixture, Layout
from vla_bench.sim import Sim

BENCH_TOP = 0.75
BENCH_X = 1.05  # centre; the front edge faces the robot at x = 0.75
BENCH_HALF = (0.3, 1.0)
VISE_Y = 0.84  # the vise sits on the +y end of the bench (bench frame)

_WOOD = (0.70, 0.57, 0.40, 1.0)
_FRAME = (0.30, 0.33, 0.36, 1.0)
_MACHINE_PAINTS = ((0.30, 0.45, 0.35, 1.0), (0.35, 0.40, 0.48, 1.0), (0.55, 0.55, 0.52, 1.0),
                   (0.62, 0.22, 0.18, 1.0))
# Rack bins avoid the task colours (red, blue, green, yellow, purple) so a colour word names
# only a container on the bench.
_BIN_PAINTS = ((0.90, 0.48, 0.08, 1.0), (0.32, 0.32, 0.35, 1.0), (0.62, 0.63, 0.66, 1.0),
               (0.78, 0.70, 0.55, 1.0))
N_RACK_BINS = 6
# Fixture poses (x, y, yaw) in training episodes (as built) ...
TRAIN_POSES = {"workbench": (BENCH_X, 0.0, 0.0), "drill_press": (0.35, -1.95, 0.0),
               "bin_rack": (0.3, 2.2, 0.0)}
# ... and in the "unseen_layouts" split: an arrangement no training episode has. The bench
# turned end for end puts the drawer cabinet under its +y half; the drill press and the rack
# (its bins facing the bench) stand on the right side.
HELD_OUT_POSES = {"workbench": (BENCH_X, 0.0, np.pi), "drill_press": (0.35, -2.95, np.pi),
                  "bin_rack": (0.3, -2.2, np.pi)}
HELD_OUT_ROOM_SHIFT = -0.9  # the walls and pegboard move this far along y: bench near the left wall
VISE_GEOMS = ("vise_base", "vise_slide", "vise_jaw_fixed", "vise_jaw_moving", "vise_jaw_pad_0",
              "vise_jaw_pad_1", "vise_screw", "vise_handle")


class WorkshopLayout(Layout):
    """Workbench along +x, drill press to the right (−y), parts-bin rack to the left (+y)."""

    name = "workshop"
    floor_rgba = (0.50, 0.50, 0.49, 1.0)

    def build(self, spec: mujoco.MjSpec) -> None:
        c.add_floor(spec, self.floor_rgba)
        walls = c.body(spec.worldbody, "workshop_walls", (0, 0, 0))
        c.box(walls, "wall_back", (0.05, 2.5, 1.2), (1.45, 0, 1.2), rgba=(0.78, 0.78, 0.74, 1))
        c.box(walls, "wall_right", (2.0, 0.05, 1.2), (-0.5, -2.5, 1.2), rgba=(0.74, 0.75, 0.72, 1))
        c.box(walls, "wall_left", (2.0, 0.05, 1.2), (-0.5, 2.5, 1.2), rgba=(0.74, 0.75, 0.72, 1))
        # Pegboard with tool silhouettes above the bench (visual only).
        c.box(walls, "pegboard", (0.01, 0.8, 0.32), (1.39, 0, 1.25), rgba=(0.70, 0.55, 0.38, 1),
              collide=False)
        for i, (y, z, hy, hz) in enumerate(((-0.55, 1.3, 0.02, 0.14), (-0.3, 1.25, 0.12, 0.015),
                                            (0.0, 1.32, 0.015, 0.12), (0.25, 1.2, 0.09, 0.03),
                                            (0.5, 1.3, 0.02, 0.16))):
            c.box(walls, f"pegboard_tool_{i}", (0.012, hy, hz), (1.375, y, z),
                  rgba=(0.25, 0.25, 0.28, 1), collide=False)

        self._build_bench(spec)
        self._build_drill_press(spec)
        self._build_rack(spec)
        c.add_camera(spec, "external", pos=(-1.2, -1.6, 2.0), target=(0.8, 0.0, 0.6), fovy=55)

    def _build_bench(self, spec: mujoco.MjSpec) -> None:
        bench = c.body(spec.worldbody, "workbench", (BENCH_X, 0, 0))
        hx, hy = BENCH_HALF
        c.box(bench, "bench_top", (hx, hy, 0.02), (0, 0, BENCH_TOP - 0.02), rgba=_WOOD)
        leg_h = (BENCH_TOP - 0.04) / 2
        for i, (x, y) in enumerate(((-hx + 0.07, -hy + 0.05), (-hx + 0.07, hy - 0.05),
                                    (hx - 0.05, -hy + 0.05), (hx - 0.05, hy - 0.05))):
            c.box(bench, f"bench_leg_{i}", (0.03, 0.03, leg_h), (x, y, leg_h), rgba=_FRAME)
        # Front apron and a drawer cabinet under the −y half, recessed 4 cm like the counter.
        c.box(bench, "bench_apron", (0.01, hy - 0.08, 0.05), (-hx + 0.05, 0, BENCH_TOP - 0.09),
              rgba=_FRAME)
        c.box(bench, "bench_shelf", (hx - 0.06, hy - 0.08, 0.012), (0.01, 0, 0.14), rgba=_WOOD)
        c.box(bench, "bench_cabinet", (hx - 0.06, 0.28, 0.29), (0.01, -0.5, 0.35),
              rgba=(0.42, 0.44, 0.47, 1))
        for i, z in enumerate((0.53, 0.35, 0.17)):
            c.box(bench, f"bench_drawer_{i}", (0.004, 0.26, 0.075), (-hx + 0.046, -0.5, z),
                  rgba=(0.52, 0.54, 0.57, 1), collide=False)
            c.box(bench, f"bench_drawer_handle_{i}", (0.006, 0.06, 0.008), (-hx + 0.038, -0.5, z),
                  rgba=(0.15, 0.15, 0.16, 1), collide=False)
        # Bench vise on the +y end, its screw axis along x: base, slide, two jaws, T-handle.
        vx, vy, z0 = -0.14, VISE_Y, BENCH_TOP
        jaw = _MACHINE_PAINTS[1]
        c.box(bench, "vise_base", (0.07, 0.06, 0.012), (vx + 0.03, vy, z0 + 0.012), rgba=_FRAME)
        c.box(bench, "vise_slide", (0.06, 0.025, 0.02), (vx + 0.03, vy, z0 + 0.044), rgba=jaw)
        c.box(bench, "vise_jaw_fixed", (0.02, 0.07, 0.03), (vx + 0.07, vy, z0 + 0.07), rgba=jaw)
        c.box(bench, "vise_jaw_moving", (0.02, 0.07, 0.03), (vx + 0.0, vy, z0 + 0.07), rgba=jaw)
        for k, x in enumerate((vx + 0.0485, vx + 0.0215)):
            c.box(bench, f"vise_jaw_pad_{k}", (0.0015, 0.068, 0.012), (x, vy, z0 + 0.086),
                  rgba=(0.15, 0.15, 0.16, 1), collide=False)
        steel = (0.62, 0.62, 0.64, 1)
        along_x = [np.cos(np.pi / 4), 0.0, np.sin(np.pi / 4), 0.0]
        along_y = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0.0, 0.0]
        c.capsule(bench, "vise_screw", 0.006, 0.035, (vx - 0.055, vy, z0 + 0.062), rgba=steel,
                  quat=along_x)
        c.capsule(bench, "vise_handle", 0.0045, 0.065, (vx - 0.092, vy, z0 + 0.062), rgba=steel,
                  quat=along_y)
        self.add_fixture(Fixture("workbench", BENCH_HALF, BENCH_TOP, (BENCH_X, 0, 0)))

    def _build_drill_press(self, spec: mujoco.MjSpec) -> None:
        pos = (*TRAIN_POSES["drill_press"][:2], 0.0)
        dp = c.body(spec.worldbody, "drill_press", pos)
        paint = _MACHINE_PAINTS[0]
        c.box(dp, "drill_base", (0.2, 0.16, 0.03), (0.05, 0, 0.03), rgba=paint)
        c.cylinder(dp, "drill_column", 0.035, 0.7, (0.12, 0, 0.76), rgba=(0.6, 0.61, 0.63, 1))
        c.box(dp, "drill_table", (0.13, 0.12, 0.015), (-0.02, 0, 0.78), rgba=paint)
        c.box(dp, "drill_head", (0.17, 0.1, 0.11), (0.04, 0, 1.36), rgba=paint)
        c.cylinder(dp, "drill_motor", 0.07, 0.1, (0.17, 0, 1.56), rgba=paint)
        c.cylinder(dp, "drill_quill", 0.022, 0.07, (-0.06, 0, 1.19), rgba=(0.6, 0.61, 0.63, 1))
        c.cylinder(dp, "drill_chuck", 0.015, 0.03, (-0.06, 0, 1.09), rgba=(0.3, 0.3, 0.32, 1))
        c.cylinder(dp, "drill_hub", 0.025, 0.012, (0.0, -0.112, 1.3), rgba=(0.15, 0.15, 0.16, 1),
                   collide=False, quat=[np.cos(np.pi / 4), np.sin(np.pi / 4), 0.0, 0.0])
        for i, ang in enumerate((0.5, 2.6, 4.7)):  # three feed levers in the x-z plane
            c.capsule(dp, f"drill_lever_{i}", 0.006, 0.07,
                      (0.08 * np.sin(ang), -0.125, 1.3 + 0.08 * np.cos(ang)),
                      rgba=(0.15, 0.15, 0.16, 1), collide=False,
                      quat=[np.cos(ang / 2), 0.0, np.sin(ang / 2), 0.0])
        self.add_fixture(Fixture("drill_press", (0.25, 0.2), 1.66, pos))

    def _build_rack(self, spec: mujoco.MjSpec) -> None:
        pos = (*TRAIN_POSES["bin_rack"][:2], 0.0)
        rack = c.body(spec.worldbody, "bin_rack", pos)
        for i, z in enumerate((0.02, 0.55, 1.05, 1.5)):
            c.box(rack, f"rack_board_{i}", (0.4, 0.18, 0.015), (0, 0, z), rgba=_FRAME)
        for i, x in enumerate((-0.39, 0.39)):
            c.box(rack, f"rack_side_{i}", (0.015, 0.18, 0.76), (x, 0, 0.76), rgba=_FRAME)
        # Parts bins on the two middle shelves (open fronts look like slanted bins: a low lip).
        for k in range(N_RACK_BINS):
            shelf_z = (0.55, 1.05)[k // 3] + 0.015
            x = -0.25 + 0.25 * (k % 3)
            paint = _BIN_PAINTS[k % len(_BIN_PAINTS)]
            c.box(rack, f"rack_bin_{k}", (0.1, 0.14, 0.07), (x, 0.01, shelf_z + 0.07),
                  rgba=paint)
            c.box(rack, f"rack_bin_{k}_label", (0.04, 0.002, 0.015), (x, -0.132, shelf_z + 0.08),
                  rgba=(0.95, 0.95, 0.92, 1), collide=False)
        self.add_fixture(Fixture("bin_rack", (0.4, 0.18), 1.5, pos))

    def initialize(self, sim: Sim, rng: np.random.Generator) -> None:
        """Arrange the room for the split, jitter fixtures (base class), vary the colours of
        wood, paint and bins.

        The held-out arrangement is itself what no training episode has, so its fixtures get
        the training jitter (±4 cm, ±3°) around their new poses: the base class's wider
        held-out band would turn the 2 m bench enough to put objects near its front edge.
        """
        poses = HELD_OUT_POSES if self.held_out else TRAIN_POSES
        for body, (x, y, yaw) in poses.items():
            self.fixtures[body].base_pos = (x, y, 0.0)
            self.fixtures[body].base_yaw = yaw
        shift = HELD_OUT_ROOM_SHIFT if self.held_out else 0.0
        sim.set_static_pose("workshop_walls", np.array([0.0, shift, 0.0]))
        if self.held_out:
            # Tasks keep the +y end of the bench clear for the vise: on the turned bench the
            # vise's geoms move to its other end (y negated), which the turn puts back at the
            # +y end, now at the back with the handle over the back edge.
            pos0 = sim.ledger.nominal("geom_pos")
            for g in VISE_GEOMS:
                gid = sim.geom_id(g)
                sim.ledger.write("geom_pos", gid, pos0[gid] * np.array([1.0, -1.0, 1.0]))
        held_out, self.held_out = self.held_out, False
        try:
            super().initialize(sim, rng)
        finally:
            self.held_out = held_out
        wood = np.array(_WOOD)
        wood[:3] = np.clip(wood[:3] * rng.uniform(0.85, 1.1) + rng.uniform(-0.03, 0.03, 3), 0, 1)
        for g in ("bench_top", "bench_shelf"):
            sim.set_rgba(g, wood)
        paint = np.array(_MACHINE_PAINTS[int(rng.integers(len(_MACHINE_PAINTS)))])
        paint[:3] = np.clip(paint[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
        for g in ("drill_base", "drill_table", "drill_head", "drill_motor"):
            sim.set_rgba(g, paint)
        vise = np.array(_MACHINE_PAINTS[int(rng.integers(len(_MACHINE_PAINTS)))])
        for g in ("vise_jaw_fixed", "vise_jaw_moving"):
            sim.set_rgba(g, vise)
        for k, idx in enumerate(rng.integers(len(_BIN_PAINTS), size=N_RACK_BINS)):
            sim.set_rgba(f"rack_bin_{k}", _BIN_PAINTS[int(idx)])
        floor = np.array(self.floor_rgba)
        floor[:3] = np.clip(floor[:3] + rng.uniform(-0.05, 0.05), 0, 1)
        sim.set_rgba("floor", floor)

    def distractor_surface(self, sim: Sim) -> tuple[np.ndarray, np.ndarray, float]:
        """The bench top, minus its edges and the vise end."""
        center, top = self.bench_top(sim)
        return center + np.array([-0.24, -0.9]), center + np.array([0.2, 0.6]), top

    def bench_top(self, sim: Sim) -> tuple[np.ndarray, float]:
        """Bench centre (x, y) this episode and the top height."""
        return sim.static_pose("workbench")[0][:2], BENCH_TOP
