"""Office: four printers in a row; walk to the one of the named colour and wait in front of it."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from vla_bench.domains.office.go_to_location import GoToLocation
from vla_bench.domains.office.layout import (
    LANDMARKS,
    ROOM_X,
    ROOM_Y,
    SLOTS,
    OfficeLayout,
    Slot,
    add_printer,
)
from vla_bench.experts.navigation import GridPlanner
from vla_bench.geometry import heading, yaw_matrix
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Footprint
from vla_bench.sim import Sim
from vla_bench.task import Goal

PRINTERS = tuple(f"gtp_printer_{k}" for k in range(4))
HALF = LANDMARKS["printer"]  # half depth, half width, height: the layout's printer
# Along-wall offsets of the four printers from the wall's middle: 1.2 m apart, so that from
# 4 m back all four fit in the front camera's view.
ROW = (-1.8, -0.6, 0.6, 1.8)
SLOT_CLEAR = 1.6  # m from a wall slot's wall point to every printer for a landmark to stand there
BANK_WALLS = (Slot((0.0, ROOM_Y), -np.pi / 2), Slot((0.0, -ROOM_Y), np.pi / 2))
HELD_OUT_BANK_WALLS = (Slot((ROOM_X, 0.0), np.pi), Slot((-ROOM_X, 0.0), 0.0))
OTHERS = tuple(n for n in LANDMARKS if n != "printer")  # the landmarks dealt elsewhere


@register_task(domain="office", family="navigation", max_episode_steps=400)
class GoToPrinter(GoToLocation):
    """Go to the {color} printer and wait there.

    **Description** — Four printers on low cabinets stand side by side along one wall of a
    6 m x 5 m office (desk and chair in the middle; a water cooler, a potted plant, a filing
    cabinet and a bookcase against the other walls). Each printer has a shell of a different
    colour; the instruction names one by its colour. The robot must walk to it (around the
    furniture), stop in front of it facing it, and stay there.

    **Randomisation** — which wall holds the row of printers (north or south; east or west
    only in the ``unseen_layouts`` split), the row 1.2 m apart and slid ±10 cm along it; the
    printers' shell colours (red / green / yellow / blue, shuffled; held-out orange / purple /
    white / black in the ``unseen_objects`` split); which printer is named; which wall slots
    the four other landmarks take (slots whose wall point is > 1.6 m from every printer), ±10
    cm slide, ±2° yaw; desk and chair jitter (±4 cm, ±3°); colours of floor, walls, desk,
    chair, filing cabinet and plant pot; robot start: free floor ≥ 1.5 m from every printer's
    and landmark's front, with the heading (of 72) that brings the most printers within ±24°
    of straight ahead, counting only printers in a clear line of sight on the floor plan (the
    first of up to 300 drawn starts that shows all four, else the one that shows the most; the
    rule never looks at which printer is named); instruction template.

    **Success** — the pelvis is within 0.8 m of the centre of the named printer's front face
    and nearer to it than to any other printer's front, the robot faces the printer (heading
    within ±45° of the bearing to its footprint centre), and it has stayed so at rest
    (horizontal pelvis speed < 0.05 m/s and yaw rate < 0.2 rad/s) for 40 consecutive control
    steps (2 s). The step budget is 400 (20 s).

    **Failure** — the same 40-step rest at another printer: the wrong goal
    (``failure_reason`` names its colour). Leaving the room is impossible (walls). Collisions
    with furniture are not failures: they are safety costs.

    **Safety notes** — the env counts collisions with the desk, chair, drawer, printers and
    landmarks, and contact forces; the task adds no cost of its own.

    **Alternatives in the scene** — the three other printers: the same shape in a row, told
    apart only by the colour word. Their fronts are 1.4 m apart (1.2 m on a side wall) and a
    robot counts as at a printer only when that printer's front is the nearest, so standing
    between two never scores both. Measured blind success (expert toward a uniformly drawn
    alternative, seeds 0–49): 0.25 (no wrong-goal run succeeded).

    **Version history** — v1 (2026-11): first release (one printer: the goal never varied).
    v2 (2026-12): four printers in a row named by colour, so the words decide (``goals()``);
    the start faces the row; "at a printer" needs its front to be the nearest; budget 300 → 400
    steps; the held-out layouts put the row on a side wall.
    """

    held_out_bodies = ()  # the printers' colours are named: held-out colours are drawn instead
    places = PRINTERS
    min_in_view = len(PRINTERS)
    templates = Templates(
        train=(
            "go to the {color} printer and wait there",
            "walk over to the {color} printer and stay there",
            "head to the {color} printer and wait",
            "move to the {color} printer and stop in front of it",
            "navigate to the {color} printer and wait by it",
            "go stand in front of the {color} printer",
        ),
        test=(
            "please make your way to the {color} printer and remain there",
            "could you wait for me next to the {color} printer",
            "find the {color} printer, then stay put in front of it",
        ),
    )
    layout: OfficeLayout

    def __init__(self, layout: OfficeLayout) -> None:
        super().__init__(layout)
        self.target = 0
        self._footprints: list[tuple[str, Footprint]] = []  # the printers', set by arrange
        self.colours: list[str] = ["red", "green", "yellow", "blue"]

    def build(self, spec: mujoco.MjSpec) -> None:
        """Four printers, parked below the floor until an episode lines them up."""
        for k, name in enumerate(PRINTERS):
            b = c.body(spec.worldbody, name, (2.0 * k, 0.0, props.PARK_Z))
            add_printer(b, prefix=name)

    # -- places ----------------------------------------------------------------------------
    def place_pose(self, sim: Sim, name: str) -> tuple[np.ndarray, float, float]:
        """Footprint centre, front yaw and half depth of printer ``name``."""
        pos, yaw = sim.static_pose(name)
        return pos[:2], yaw, HALF[0]

    def planner(self, **kwargs: float) -> GridPlanner:
        """A* around the furniture, the landmarks and the four printers (the layout's own
        printer is parked out of the room)."""
        return GridPlanner(self.layout, ignore=("printer",), extra=self._footprints, **kwargs)

    def goal_name(self) -> str:
        """The named printer's body."""
        return PRINTERS[int(self.target)]

    def goals(self) -> Sequence[Goal]:
        """The four printers (by index)."""
        return [(k,) for k in range(len(PRINTERS))]

    def spoken(self, name: str) -> str:
        """A printer as the instruction calls it: by colour."""
        return f"{self.colours[PRINTERS.index(name)]} printer"

    # -- episode ---------------------------------------------------------------------------
    def arrange(self, sim: Sim, rng: np.random.Generator) -> dict[str, str]:
        """Line the printers up along one wall, deal the other landmarks into the slots off
        that wall, colour the printers and name one."""
        walls = HELD_OUT_BANK_WALLS if self.layout.held_out else BANK_WALLS
        wall = walls[int(rng.integers(len(walls)))]
        yaw = wall.yaw
        along = yaw_matrix(yaw)[:, 1][:2]
        base = np.array(wall.wall_xy) + (HALF[0] + 0.02) * heading(yaw)
        slide = rng.uniform(-0.1, 0.1)
        self._footprints = []
        for name, off in zip(PRINTERS, ROW, strict=True):
            xy = base + (off + slide) * along
            sim.set_static_pose(name, np.array([xy[0], xy[1], 0.0]), yaw)
            self._footprints.append((name, Footprint(xy, np.array(HALF[:2]), yaw)))
        # The layout's own printer leaves the room (far outside the walls, under the floor).
        sim.set_static_pose("printer", np.array([0.0, 3 * ROOM_Y + 10.0, props.PARK_Z]))
        # The other landmarks take wall slots clear of the row (not beside its end printers).
        row = np.array([fp.center for _, fp in self._footprints])
        free = [k for k, s in enumerate(SLOTS)
                if np.linalg.norm(row - np.array(s.wall_xy), axis=1).min() > SLOT_CLEAR]
        for name, k in zip(OTHERS, rng.permutation(free), strict=False):
            pos, lyaw = self.layout.slot_pose(name, SLOTS[int(k)])
            pos = pos + yaw_matrix(lyaw)[:, 1] * rng.uniform(-0.1, 0.1)
            sim.set_static_pose(name, pos, lyaw + rng.uniform(-0.04, 0.04))
            self.layout.slot_of[name] = int(k)
        pool = props.color_pool(self.held_out_objects)
        self.colours = [str(x) for x in rng.permutation(pool)[: len(PRINTERS)]]
        for name, colour in zip(PRINTERS, self.colours, strict=True):
            sim.set_rgba(f"{name}_body", props.COLORS[colour])
        self.target = int(rng.integers(len(PRINTERS)))
        return {"color": self.colours[self.target]}
