"""Kitchen: a counter with a sink, a refrigerator with a hinged door, and wall shelves.

Heights are scaled to a 1.3 m humanoid: the counter top is at 0.75 m.
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
    """Counter along +x, fridge to the right (−y), shelves to the left (+y)."""

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
        c.box(counter, "counter_cabinet", (hx - 0.02, hy, COUNTER_TOP / 2 - 0.02),
              (0.02, 0, COUNTER_TOP / 2 - 0.02), rgba=(0.45, 0.32, 0.22, 1))
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

    def initialize(self, sim: Sim, rng: np.random.Generator) -> None:
        """Jitter fixtures and close the fridge door.

        A task may move the third-person camera: the env's model ledger puts it back at every
        reset, so the layout need not remember it.
        """
        super().initialize(sim, rng)
        sim.set_joint_qpos("fridge_door_hinge", 0.0)

    def distractor_surface(self, sim: Sim) -> tuple[np.ndarray, np.ndarray, float]:
        """The counter top, minus its edges and the sink."""
        center, top = self.counter_top(sim)
        return center + np.array([-0.24, -0.9]), center + np.array([0.2, 0.42]), top

    def counter_top(self, sim: Sim) -> tuple[np.ndarray, float]:
        """Counter centre (x, y) this episode and the top height."""
        return sim.static_pose("counter")[0][:2], COUNTER_TOP
