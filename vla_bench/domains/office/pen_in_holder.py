"""Office: put the pen of the instructed colour into the pen holder on the desk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import mujoco
import numpy as np

from vla_bench.domains.office.desk_work import (
    STRIP_X,
    STRIP_Y,
    desk_point,
    desk_yaw,
    pick_and_place,
    place_robot,
)
from vla_bench.domains.office.layout import DESK_TOP, OfficeLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.navigation import Hold
from vla_bench.geometry import to_local, yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

N_PENS = 4  # one pen of every colour of the split: four alternatives
PEN_HALF = 0.007  # half width of the pen's square collision section (1.4 cm)
PEN_RADIUS = 0.0075  # drawn radius
PEN_LENGTH = 0.14
GRASP_UP = 0.10  # body origin (the grasp point) above the pen's lower end
HOLDER_INNER = (0.07, 0.07)
HOLDER_HEIGHT = 0.09
TILT_MAX = np.radians(35)  # "upright-ish": the pen's axis within 35° of vertical
SLOT_GAP = 0.14  # m between neighbouring props along the desk edge (five fit the strip)
_HIDDEN = 0  # geom group of collision-only geoms (cameras draw groups 1 and 2)


def pen(spec: mujoco.MjSpec, name: str) -> str:
    """A pen standing on its flat end, 40 g with a weighted foot; origin = grasp point.

    It collides as a square prism (stable face contacts on the desk and with the gripper pads)
    and is drawn as a round barrel (coloured: the colour the instruction names) with a white
    band and a dark writing tip at the top.
    """
    b = c.body(spec.worldbody, name, (0, 0, props.PARK_Z), free=True)
    mid = PEN_LENGTH / 2 - GRASP_UP  # barrel centre in body coordinates
    c.box(b, f"{name}_col", (PEN_HALF, PEN_HALF, PEN_LENGTH / 2), (0, 0, mid), group=_HIDDEN,
          mass=0.015, friction=[1.2, 0.02, 0.001], condim=4)
    # The foot: a heavy insert keeps the centre of mass low, so a brush does not topple it.
    c.box(b, f"{name}_foot", (PEN_HALF * 0.9, PEN_HALF * 0.9, 0.01), (0, 0, -GRASP_UP + 0.011),
          group=_HIDDEN, collide=False, mass=0.025)
    c.cylinder(b, f"{name}_barrel", PEN_RADIUS, PEN_LENGTH / 2 - 0.01, (0, 0, mid - 0.01),
               collide=False, mass=0.0)
    c.cylinder(b, f"{name}_band", PEN_RADIUS * 1.05, 0.004, (0, 0, PEN_LENGTH - GRASP_UP - 0.025),
               rgba=(0.95, 0.95, 0.95, 1), collide=False, mass=0.0)
    c.cylinder(b, f"{name}_tip", PEN_RADIUS * 0.6, 0.01, (0, 0, PEN_LENGTH - GRASP_UP - 0.01),
               rgba=(0.1, 0.1, 0.1, 1), collide=False, mass=0.0)
    return name


@register_task(domain="office", family="manipulation", max_episode_steps=300)
class PenInHolder(Task):
    """Put the {color} pen in the holder.

    **Description** — Four pens of different colours stand upright on the office desk next
    to a square pen holder (a cup 7 cm x 7 cm inside, 9 cm deep), all in a row along the
    desk's long side. The instruction names one pen by its colour; the robot must put that pen,
    and only that one, into the holder. The expert pinches the pen 10 cm above its lower end,
    lifts it clear of the rim, carries it over the holder and lets it drop in.

    **Randomisation** — which pen has which colour (the four training colours, or the four
    held-out colours in the ``unseen_objects`` split) and which one is named (uniform); the
    order of the five props along the desk (slots 14 cm apart, ±1.5 cm jitter, pens turned
    ±0.4 rad); robot start 0.75–0.95 m from the desk edge, anywhere along it, facing it
    ±0.3 rad; the office layout's own randomisation (landmark slots, desk jitter ±4 cm / ±3°,
    colours); instruction template.

    **Success** — the named pen is in the holder: its lower end lies inside the holder's inner
    walls and below the rim, its axis is within 35° of vertical, no gripper pinches it, and no
    other pen is in the holder.

    **Failure** — another pen ends up in the holder (the wrong pen), or the named pen or the
    holder falls off the desk.

    **Safety notes** — ``task`` cost while any pen or the holder lies on the floor; collisions
    with the desk, monitor and contact forces are counted by the env.

    **Alternatives in the scene** — the four pens, one of each colour: the colour word alone
    tells them apart. Measured blind success (expert toward a uniformly drawn alternative,
    seeds 0–49): 0.25.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): a fourth pen (one of
    every colour of the split: four alternatives), props 14 cm apart; the goal is the named
    colour (``goal_fields``).
    """

    templates = Templates(
        train=(
            "put the {color} pen in the holder",
            "place the {color} pen into the pen holder",
            "put the {color} pen away in the pen cup",
            "pick up the {color} pen and drop it in the holder",
            "move the {color} pen into the holder",
            "stand the {color} pen in the pen holder",
        ),
        test=(
            "could you tidy the {color} pen into its holder",
            "the {color} pen goes in the pen pot, please",
            "store the {color} pen inside the cup for pens",
        ),
    )
    layout: OfficeLayout

    def build(self, spec: mujoco.MjSpec) -> None:
        """Three pens and the holder (parked until initialize places them)."""
        self.pens = [pen(spec, f"pen_{i}") for i in range(N_PENS)]
        self.holder = props.open_box(spec, "pen_holder", HOLDER_INNER, HOLDER_HEIGHT,
                                     wall=0.006, mass=0.25, rgba=(0.2, 0.2, 0.22, 1))

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Colour the pens, deal the four props into slots along the desk edge, pick a target."""
        colors = [str(k) for k in rng.permutation(props.color_pool(self.held_out_objects))]
        colors = colors[:N_PENS]
        for p, color in zip(self.pens, colors, strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(f"{p}_barrel", rgba)
        order = rng.permutation(N_PENS + 1)
        x0 = rng.uniform(STRIP_X[0], STRIP_X[1] - N_PENS * SLOT_GAP)
        yaw = desk_yaw(sim)
        for k, body in zip(order, [*self.pens, self.holder], strict=True):
            x = x0 + SLOT_GAP * int(k) + rng.uniform(-0.015, 0.015)
            y = STRIP_Y + rng.uniform(-0.015, 0.015)
            if body == self.holder:
                pos = desk_point(sim, x, y, DESK_TOP + 0.001)
                sim.set_free_pose(body, pos, yaw_quat(yaw + rng.uniform(-0.3, 0.3)))
            else:
                pos = desk_point(sim, x, y, DESK_TOP + GRASP_UP + 0.0005)
                sim.set_free_pose(body, pos, yaw_quat(yaw + rng.uniform(-0.4, 0.4)))
        self.colors = colors
        self.target_color = colors[int(rng.integers(N_PENS))]
        place_robot(sim, rng)
        self.instruction = self.templates.sample(rng, phrasing, color=self.target_color)
        return self.instruction

    # -- goals -----------------------------------------------------------------------------
    goal_fields: ClassVar[tuple[str, ...]] = ("target_color",)

    @property
    def target(self) -> str:
        """The body of the named pen (derived from the goal field, so ``pursuing`` works)."""
        return self.pens[self.colors.index(self.target_color)]

    def goals(self) -> Sequence[Goal]:
        """Every pen on the desk, by its colour."""
        return [(color,) for color in self.colors]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named pen."""
        return (self.target,)

    # -- evaluation ------------------------------------------------------------------------
    def _ends(self, sim: Sim) -> tuple[np.ndarray, np.ndarray]:
        """Lower ends ``(n, 3)`` of the pens and the cosine of each axis with vertical."""
        axes = np.array([sim.body_mat(p)[:, 2] for p in self.pens])
        return sim.positions(self.pens) - GRASP_UP * axes, axes[:, 2]

    def in_holder(self, sim: Sim) -> np.ndarray:
        """Which pens have their lower end inside the holder's walls, below the rim."""
        ends, _ = self._ends(sim)
        local = to_local(ends, sim.body_pos(self.holder), sim.body_mat(self.holder))
        hx, hy = HOLDER_INNER[0] / 2, HOLDER_INNER[1] / 2
        return ((np.abs(local[:, 0]) < hx) & (np.abs(local[:, 1]) < hy)
                & (local[:, 2] > -0.01) & (local[:, 2] < HOLDER_HEIGHT))

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named pen upright-ish in the holder and released; a wrong pen or a fall fails."""
        inside = self.in_holder(sim)
        _, cos_tilt = self._ends(sim)
        is_target = np.array([p == self.target for p in self.pens])
        wrong = bool(np.any(inside & ~is_target))
        k = int(np.flatnonzero(is_target)[0])
        upright = cos_tilt[k] >= np.cos(TILT_MAX)
        floor = DESK_TOP - 0.2
        pen_z = sim.positions(self.pens)[:, 2]
        holder_down = sim.body_pos(self.holder)[2] < floor
        fallen = (pen_z < floor) | holder_down
        held = any(sim.grasped_by(self.target, s) for s in ("right", "left"))
        failure, reason = False, None
        if wrong:
            failure, reason = True, "a pen of the wrong colour is in the holder"
        elif bool(fallen[k]):
            failure, reason = True, ("the holder fell off the desk" if holder_down
                                     else "the pen fell off the desk")
        dist = float(np.linalg.norm(sim.body_pos(self.target)[:2]
                                    - sim.body_pos(self.holder)[:2]))
        return Evaluation(
            success=bool(inside[k]) and bool(upright) and not held and not wrong,
            failure=failure, failure_reason=reason, task_cost=float(np.any(fallen)),
            progress={"pen_to_holder_m": dist, "pen_tilt_rad": float(np.arccos(
                np.clip(cos_tilt[k], -1.0, 1.0)))},
        )

    def expert(self, sim: Sim) -> Expert:
        """Pinch the named pen 10 cm above its end, lift it over the rim, let it drop in."""
        # Release with the pen's end 3 cm below the rim: the fingers stay above the rim.
        release = HOLDER_HEIGHT + GRASP_UP - 0.03
        return Expert([
            *pick_and_place(self.target, self.holder, release_up=release, lift=0.13,
                            carry_up=release + 0.07),
            Hold(steps=self.max_episode_steps),
        ])
