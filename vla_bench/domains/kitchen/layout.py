"""Kitchen: a counter with a sink, a refrigerator with a hinged door, and wall shelves.

Heights are scaled to a 1.3 m humanoid: the counter top is at 0.75 m.

Training episodes always show one arrangement (fridge on the right, sink at the left end of
the counter, shelves on the left), jittered. The held-out layout (``unseen_layouts``) is that
row *mirrored* left–right: fridge on the left, sink at the right end, shelves on the right.
Tasks place their objects through :meth:`KitchenLayout.counter_box` /
:meth:`KitchenLayout.counter_point`, which mirror counter-relative offsets with the row, so
objects keep their place relative to the sink and fridge.
"""

from __future__ import annotations

import mujoco
import numpy as np

from vla_bench.scene import compose as c
from vla_bench.scene.layout import Fixture, Layout
from vla_bench.sim import Sim

COUNTER_TOP = 0.75
COUNTER_X = 1.05  # centre; the front edge faces the robot at x = 0.75
COUNTER_HALF = (0.3, 1.0)


class KitchenLayout(Layout):
    """Counter along +x, fridge to the right (−y), shelves to the left (+y); mirrored in
    ``unseen_layouts``."""

    name = "kitchen"
    floor_rgba = (0.62, 0.58, 0.52, 1.0)

    def build(self, spec: mujoco.MjSpec) -> None:
        c.add_floor(spec, self.floor_rgba)
        wall = c.body(spec.worldbody, "kitchen_walls", (0, 0, 0))
        c.box(wall, "wall_back", (0.05, 2.5, 1.2), (1.45, 0, 1.2), rgba=(0.9, 0.88, 0.82, 1))
        c.box(wall, "wall_right", (2.0, 0.05, 1.2), (-0.5, -2.5, 1.2), rgba=(0.86, 0.86, 0.8, 1))
        c.box(wall, "wall_left", (2.0, 0.05, 1.2), (-0.5, 2.5, 1.2), rgba=(0.86, 0.86, 0.8, 1))

        counter = c.body(spec.worldbody, "counter", (COUNTER_X, 0, 0))
        hx, hy = COUNTER_HALF
        # The top overhangs the cabinet by 4 cm at the front and at the back, so the row turned
        # end for end (held-out layouts) leaves the robot the same room at the front.
        c.box(counter, "counter_cabinet", (hx - 0.04, hy, COUNTER_TOP / 2 - 0.02),
              (0.0, 0, COUNTER_TOP / 2 - 0.02), rgba=(0.45, 0.32, 0.22, 1))
        c.box(counter, "counter_top", (hx, hy, 0.02), (0, 0, COUNTER_TOP - 0.02),
              rgba=(0.85, 0.83, 0.78, 1))
        # Sink: a steel basin recessed into the top at +y (visual rim + collision floor).
        c.box(counter, "sink_rim", (0.17, 0.22, 0.003), (0.02, 0.72, COUNTER_TOP + 0.003),
              rgba=(0.6, 0.62, 0.66, 1), collide=False)
        c.box(counter, "sink_basin", (0.14, 0.19, 0.004), (0.02, 0.72, COUNTER_TOP + 0.005),
              rgba=(0.35, 0.37, 0.4, 1), collide=False)
        self.add_fixture(Fixture("counter", COUNTER_HALF, COUNTER_TOP, (COUNTER_X, 0, 0)))

        fridge = c.body(spec.worldbody, "fridge", (0.35, -1.9, 0))
        c.box(fridge, "fridge_body", (0.35, 0.33, 0.9), (0, 0, 0.9), rgba=(0.92, 0.93, 0.95, 1))
        door = c.body(fridge, "fridge_door", (-0.36, 0.33, 0.9))
        # The hinge is the door's +y edge; the door swings open toward the room (−x), i.e. the
        # hinge angle runs from 0 (closed) to −1.9 rad. Ranges are converted to the compiler's
        # angle unit (MjSpec compiles hinge ranges in degrees by default).
        deg = 180.0 / np.pi if spec.compiler.degree else 1.0
        door.add_joint(name="fridge_door_hinge", type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1],
                       range=[-1.9 * deg, 0.0], damping=2.0, frictionloss=0.3)
        c.box(door, "fridge_door_panel", (0.02, 0.33, 0.88), (-0.021, -0.33, 0),
              rgba=(0.88, 0.89, 0.92, 1), mass=6.0)
        # Vertical bar handle on two standoffs, 4.7 cm clear of the door: fingers fit behind it.
        c.capsule(door, "fridge_handle", 0.012, 0.16, (-0.1, -0.6, -0.02), rgba=(0.3, 0.3, 0.3, 1),
                  mass=0.2)
        for k, z in enumerate((-0.16, 0.12)):
            c.box(door, f"fridge_handle_post_{k}", (0.03, 0.008, 0.01), (-0.07, -0.6, z),
                  rgba=(0.3, 0.3, 0.3, 1), mass=0.02)
        spec.add_exclude(bodyname1="fridge", bodyname2="fridge_door")  # hinge range closes it
        self.add_fixture(Fixture("fridge", (0.4, 0.35), 1.8, (0.35, -1.9, 0)))

        shelf = c.body(spec.worldbody, "shelves", (0.3, 2.2, 0))
        for i, z in enumerate((0.02, 0.6, 1.1, 1.6)):
            c.box(shelf, f"shelf_board_{i}", (0.4, 0.18, 0.015), (0, 0, z),
                  rgba=(0.6, 0.45, 0.3, 1))
        for i, x in enumerate((-0.39, 0.39)):
            c.box(shelf, f"shelf_side_{i}", (0.015, 0.18, 0.81), (x, 0, 0.81),
                  rgba=(0.55, 0.4, 0.28, 1))
        self.add_fixture(Fixture("shelves", (0.4, 0.18), 1.6, (0.3, 2.2, 0)))

        c.add_camera(spec, "external", pos=(-0.5, -1.4, 1.9), target=(0.8, 0.0, 0.7), fovy=55)

    @property
    def side(self) -> float:
        """+1 in the training arrangement, −1 in the mirrored held-out one: multiplies every
        counter-relative y offset (the sink's side of the counter is ``+side``)."""
        return -1.0 if self.held_out else 1.0

    def initialize(self, sim: Sim, rng: np.random.Generator) -> None:
        """Jitter fixtures (±4 cm, ±3°, colours), mirror the row in ``unseen_layouts``, close
        the fridge door.

        The held-out layout draws the same training jitter and then mirrors every fixture's
        position in y. The counter is turned half a turn (its sink goes to the other end); the
        fridge and shelves are moved, not mirrored, so the fridge door keeps its hinge side.
        A task may move the third-person camera: the env's model ledger puts it back at every
        reset, so the layout need not remember it.
        """
        held_out, self.held_out = self.held_out, False  # the base class's band is not used
        try:
            super().initialize(sim, rng)
        finally:
            self.held_out = held_out
        if held_out:
            for name in self.fixtures:
                pos, yaw = sim.static_pose(name)
                turn = np.pi if name == "counter" else 0.0
                sim.set_static_pose(name, np.array([pos[0], -pos[1], pos[2]]), turn - yaw)
        sim.set_joint_qpos("fridge_door_hinge", 0.0)

    def counter_point(self, sim: Sim, dx: float, dy: float) -> np.ndarray:
        """World ``(x, y)`` at ``(dx, dy)`` from the counter centre, ``dy`` mirrored with the
        row (positive ``dy``: towards the sink)."""
        center, _ = self.counter_top(sim)
        return center + np.array([dx, self.side * dy])

    def counter_box(self, sim: Sim, lo: tuple[float, float], hi: tuple[float, float]
                    ) -> tuple[np.ndarray, np.ndarray]:
        """World ``(lo_xy, hi_xy)`` of the counter-relative box ``lo``..``hi`` (``y`` mirrored
        with the row, as in :meth:`counter_point`)."""
        a, b = self.counter_point(sim, *lo), self.counter_point(sim, *hi)
        return np.minimum(a, b), np.maximum(a, b)

    def distractor_surface(self, sim: Sim) -> tuple[np.ndarray, np.ndarray, float]:
        """The counter top, minus its edges and the sink."""
        lo, hi = self.counter_box(sim, (-0.24, -0.9), (0.2, 0.42))
        return lo, hi, COUNTER_TOP

    def counter_top(self, sim: Sim) -> tuple[np.ndarray, float]:
        """Counter centre (x, y) this episode and the top height."""
        return sim.static_pose("counter")[0][:2], COUNTER_TOP

    def place_robot_before_counter(self, sim: Sim, rng: np.random.Generator,
                                   span: tuple[float, float], back: float = 1.4,
                                   jitter: float = 0.1, max_yaw: float = 0.15) -> np.ndarray:
        """Stand the robot facing the counter, centred on the counter-relative ``y`` span where
        the task's objects lie (mirrored with the row), far enough back that the default
        cameras see the whole span; return its ``(x, y)``.

        ``x = centre - back + U(-jitter, jitter)``, ``y = mid(span) + U(-jitter, jitter)``, yaw
        ``~ U(-max_yaw, max_yaw)``, drawn from ``rng`` in that order. Facing the whole set of
        alternatives tells nothing about which one the instruction names.
        """
        center, _ = self.counter_top(sim)
        x = center[0] - back + rng.uniform(-jitter, jitter)
        y = self.counter_point(sim, 0.0, 0.5 * (span[0] + span[1]))[1] + rng.uniform(-jitter,
                                                                                   jitter)
        base = np.array([x, y])
        sim.set_robot_base(base, rng.uniform(-max_yaw, max_yaw))
        return base
