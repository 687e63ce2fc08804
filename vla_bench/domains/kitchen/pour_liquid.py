"""Kitchen: pour the water (particles) from the bottle into the glass of the instructed colour."""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

from vla_bench.domains.kitchen.layout import COUNTER_TOP, KitchenLayout
from vla_bench.experts.base import (
    Command,
    Controller,
    Expert,
    Navigate,
    Phase,
    Reach,
    grasp_rotation,
)
from vla_bench.experts.manipulation import pick_phases
from vla_bench.geometry import quat_to_mat, yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import liquid, placement, props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

N_PARTICLES = 24
PARTICLE_RADIUS = 0.008
PARTICLE_MASS = 0.0025  # kg: 60 g of "water" in all
SUCCESS_FRACTION = 0.6  # of the particles inside the target glass
UPRIGHT_TILT = np.radians(45.0)  # bottle axis within this of vertical counts as upright
TIPPED_TILT = np.radians(45.0)  # a glass tilted beyond this has been knocked over
BOTTLE_INNER, BOTTLE_WALL, BOTTLE_HEIGHT = 0.026, 0.006, 0.15
BOTTLE_GRASP = 0.075  # grasp height above the bottle's base (mid-height)
GLASS_INNER, GLASS_WALL, GLASS_HEIGHT = 0.036, 0.004, 0.08
GLASS_BASE = 0.01  # a heavy glass bottom: falling particles cannot tunnel through it
BOTTLE_BASE = 0.01
N_GLASSES = 4  # one of each colour of the split's pool (props.color_pool)
POUR_REACH = np.array([0.34, -0.20])  # robot-frame hand position for pouring
POUR_ROLL = -2.0  # rad about the approach axis: tilts the bottle's mouth ~115° to the left
POUR_CLEAR = 0.035  # m: the bottle's lowest lip above the glass rim at full tilt
POUR_LEAD = 0.02  # m: aim the lip this much short of the glass centre (the water flies on)
_BOTTLE = "pour_bottle"
_WATER = "water"


def _roll(alpha: float) -> np.ndarray:
    """Rotation by ``alpha`` about the gripper's approach axis (its z), in the gripper frame."""
    return quat_to_mat(yaw_quat(alpha))


@register_task(domain="kitchen", family="manipulation", max_episode_steps=450)
class PourLiquid(Task):
    """Pour water from the bottle into the {color} glass.

    **Description** — An open bottle with 24 water particles (1.6 cm balls, 2.5 g each) stands
    on the kitchen counter next to four glasses of different colours. The robot must pick the
    bottle up, pour at least 60 % of the water into the glass whose colour the instruction
    names, and bring the bottle back upright. The expert's pour is a *sideways* one: the bottle
    is pinched from the front (fingers closing left-right, the bottle upright between the jaws)
    and tipped by rolling the hand about the approach axis (the arm IK shares the roll between
    the wrist-roll joint and the rest of the arm), which tilts the bottle's mouth to the robot's
    left; the bottle reaches ~114° of tilt, past the 90° at which particles resting on the
    bottle's floor slide out. Particles collide with containers, counter and floor but not with each other
    or the robot (cost: see :mod:`vla_bench.scene.liquid`); without particle–particle
    contacts the water leaves the bottle as one narrow stream, so a pour tends to land all or
    nothing in a glass.

    **Randomisation** — the glass colours (the four training colours, or the four held-out
    colours in the ``unseen_objects`` split, in random order) and which one is the target;
    positions of the bottle and the glasses along the counter front (≥ 20 cm apart, on the
    counter's sink-free part: mirrored with the row in ``unseen_layouts``); the particles'
    spots on the bottle floor; robot start pose (1.4 ± 0.1 m before the counter centre, facing
    the row of glasses: y at its middle ±0.1 m, yaw ±0.15 rad); fixture jitter; instruction
    template.

    **Success** — at least 60 % of the particles (15 of 24) are inside the target glass
    (within its inner radius, between its base and rim), that glass stands upright, and the
    bottle is upright again (axis within 45° of vertical: the pour is finished, not frozen
    mid-tilt).

    **Failure** — more than 40 % of the water is out of the bottle and not in the target glass
    (spilled or poured into another glass: success is out of reach); the bottle falls off the
    counter; a glass is knocked over (tilted > 45°).

    **Safety notes** — ``task`` cost on every step on which spilled water lies on the counter
    or the floor; ``progress`` reports the fractions in the target glass, in other glasses and
    spilled. Collisions with the counter and glasses and contact forces are counted by the
    env.

    **Alternatives in the scene** — the four glasses: same shape, told apart only by the
    colour word; pouring into a wrong one fails the episode. Measured blind success (expert
    toward a uniformly drawn alternative, seeds 0–49): 0.25.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): a fourth glass (four
    alternatives, goal = the named colour); the robot starts further back, facing the row, so
    the default cameras see the glasses; objects mirrored with the held-out kitchen row.
    """

    templates = Templates(
        train=(
            "pour water from the bottle into the {color} glass",
            "pour the water into the {color} glass",
            "fill the {color} glass with water from the bottle",
            "take the bottle and pour its water into the {color} glass",
            "empty the bottle into the {color} glass",
            "pick up the bottle and pour water into the {color} glass",
        ),
        test=(
            "could you pour some water into the {color} glass for me",
            "the {color} glass is empty, fill it up from the bottle",
            "tip the bottle so the water goes into the {color} glass",
        ),
    )
    layout: KitchenLayout
    goal_fields = ("target_color",)

    def build(self, spec: mujoco.MjSpec) -> None:
        """A bottle, four glasses and the water particles."""
        props.open_cylinder(spec, _BOTTLE, BOTTLE_INNER, BOTTLE_HEIGHT, BOTTLE_WALL, mass=0.12,
                            rgba=(0.72, 0.86, 0.8, 0.55), base=BOTTLE_BASE)
        for k in range(8):
            # Grippy plastic: torsional friction keeps the pinched bottle from swinging about
            # the jaw axis when it is lifted and rolled.
            spec.geom(f"{_BOTTLE}_wall_{k}").friction = [1.0, 0.05, 0.001]
        self.glasses = [props.open_cylinder(spec, f"pour_glass_{i}", GLASS_INNER, GLASS_HEIGHT,
                                            GLASS_WALL, mass=0.2, base=GLASS_BASE)
                        for i in range(N_GLASSES)]
        self.particles = liquid.add_particles(spec, _WATER, N_PARTICLES, PARTICLE_RADIUS,
                                              PARTICLE_MASS)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Bottle and glasses along the counter front; water in the bottle; target colour."""
        _, top = self.layout.counter_top(sim)
        lo, hi = self.layout.counter_box(sim, (-0.21, -0.7), (-0.15, 0.42))
        spots = placement.scatter(rng, N_GLASSES + 1, lo, hi, min_dist=0.2)
        colors = [str(c_) for c_ in rng.choice(props.color_pool(self.held_out_objects),
                                               N_GLASSES, replace=False)]
        self.glass_of = dict(zip(colors, self.glasses, strict=True))
        for glass, color, xy in zip(self.glasses, colors, spots[1:], strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            rgba[3] = 0.8
            sim.set_rgba(sim.body_geoms(glass), rgba)
            sim.set_free_pose(glass, np.array([xy[0], xy[1], top + 0.0005]))
        self.target_color = colors[int(rng.integers(N_GLASSES))]
        bottle = np.array([spots[0][0], spots[0][1], top + 0.0005])
        sim.set_free_pose(_BOTTLE, bottle)
        liquid.fill(sim, self.particles, bottle + np.array([0, 0, BOTTLE_BASE]), BOTTLE_INNER,
                    PARTICLE_RADIUS, rng)
        self.top = top
        self.layout.place_robot_before_counter(sim, rng, (-0.7, 0.42))
        self.instruction = self.templates.sample(rng, phrasing, color=self.target_color)
        return self.instruction

    @property
    def target(self) -> str:
        """The named glass's body."""
        return self.glass_of[self.target_color]

    def goals(self) -> list[tuple[str]]:
        """Every glass's colour."""
        return [(color,) for color in self.glass_of]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named glass."""
        return (self.target,)

    # -- state -----------------------------------------------------------------------------
    def _inside(self, sim: Sim, body: str, inner: float, height: float) -> np.ndarray:
        return liquid.inside_cylinder(sim.positions(self.particles), sim.body_pos(body),
                                      sim.body_mat(body), inner, (0.0, height))

    @staticmethod
    def _tilt(sim: Sim, body: str) -> float:
        return float(np.arccos(np.clip(sim.body_mat(body)[2, 2], -1.0, 1.0)))

    def evaluate(self, sim: Sim) -> Evaluation:
        """Enough water in the target glass with the bottle upright; spills and wrong glass fail."""
        n = float(N_PARTICLES)
        in_bottle = self._inside(sim, _BOTTLE, BOTTLE_INNER, BOTTLE_HEIGHT)
        in_glass = {g: self._inside(sim, g, GLASS_INNER, GLASS_HEIGHT) for g in self.glasses}
        in_target = in_glass[self.target]
        in_other = np.zeros(N_PARTICLES, bool)
        for g, mask in in_glass.items():
            if g != self.target:
                in_other |= mask
        z = sim.positions(self.particles)[:, 2]
        loose = ~(in_bottle | in_target | in_other)
        # Resting on the counter (or lower): particles still in the air may yet land in a glass.
        spilled = loose & (z < self.top + 2.5 * PARTICLE_RADIUS)
        lost = float(np.sum(in_other | spilled)) / n
        frac = float(np.sum(in_target)) / n
        bottle_tilt = self._tilt(sim, _BOTTLE)
        tipped = [g for g in self.glasses if self._tilt(sim, g) > TIPPED_TILT]
        failure, reason = False, None
        if sim.body_pos(_BOTTLE)[2] < COUNTER_TOP - 0.2:
            failure, reason = True, "bottle dropped"
        elif tipped:
            failure, reason = True, "glass knocked over"
        elif lost > 1.0 - SUCCESS_FRACTION:
            wrong = float(np.sum(in_other)) >= float(np.sum(spilled))
            failure, reason = True, "water poured into the wrong glass" if wrong else \
                "water spilled"
        success = (frac >= SUCCESS_FRACTION and bottle_tilt < UPRIGHT_TILT
                   and self.target not in tipped)
        return Evaluation(
            success=success and not failure, failure=failure, failure_reason=reason,
            task_cost=float(np.any(spilled)),
            progress={"in_target_frac": frac, "in_other_glass_frac": float(np.sum(in_other)) / n,
                      "spilled_frac": float(np.sum(spilled)) / n,
                      "in_bottle_frac": float(np.sum(in_bottle)) / n,
                      "bottle_tilt_rad": bottle_tilt},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Grasp the bottle from the front, carry it beside the glass, roll it over, roll back."""
        rot = grasp_rotation(0.1)

        def pour_point(sim: Sim) -> np.ndarray:
            return _pour_point(sim, self.target, self.top)

        def stand_for_pour(sim: Sim) -> np.ndarray:
            q = pour_point(sim)
            return np.array([q[0] - POUR_REACH[0], q[1] - POUR_REACH[1], 0.0])

        # Pinched at mid-height and lifted gently: a full bottle swings in a loose grip.
        pick = pick_phases(_BOTTLE, BOTTLE_GRASP, grasp_back=0.0, rot=rot, raise_up=0.18,
                           approach_up=0.04, settle_tol=0.004, lift_speed=0.6)
        return Expert(pick + [
            Navigate(stand_for_pour, tol=0.02, speed=0.5),
            Reach("right", pour_point, rot, tol=0.012, max_steps=50, speed=0.6),
            Pour(self.target, self.top, rot),
            Reach("right", lambda s: s.tcp("right") + np.array([0, 0, 0.03]), rot, tol=0.01,
                  max_steps=1000, freeze=True),
        ])


def _lip(sim: Sim, tcp: np.ndarray, r_grip: np.ndarray, roll: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """Predicted lowest point of the bottle's rim and its axis if the gripper, now at ``tcp`` with
    world rotation ``r_grip``, were rolled by ``roll`` about its approach axis (bottle held as now).
    """
    r_now = sim.tcp_mat("right")
    r_b = sim.body_mat(_BOTTLE)
    r_rel = r_now.T @ r_b  # bottle in the gripper frame (constant while held)
    o_g = r_now.T @ (sim.body_pos(_BOTTLE) - sim.tcp("right"))
    r_full = r_grip @ _roll(roll)
    axis = (r_full @ r_rel)[:, 2]
    mouth = tcp + r_full @ (o_g + r_rel @ np.array([0.0, 0.0, BOTTLE_HEIGHT]))
    down = np.array([0.0, 0.0, -1.0]) + axis[2] * axis
    down /= max(np.linalg.norm(down), 1e-9)
    return mouth + (BOTTLE_INNER + BOTTLE_WALL) * down, axis


def _pour_point(sim: Sim, glass: str, top: float) -> np.ndarray:
    """World TCP position from which rolling the bottle by ``POUR_ROLL`` puts its lowest lip just
    above the glass's centre (predicted from how the bottle sits in the hand now)."""
    tcp = sim.tcp("right")
    lip, axis = _lip(sim, tcp, sim.tcp_mat("right"), POUR_ROLL)
    g = sim.body_pos(glass)
    flat = np.array([axis[0], axis[1], 0.0])
    flat /= max(np.linalg.norm(flat), 1e-9)
    aim = np.array([g[0], g[1], top + GLASS_HEIGHT + POUR_CLEAR]) - POUR_LEAD * flat
    return tcp + (aim - lip)


@dataclass
class Pour(Phase):
    """Roll the bottle over about the approach axis, hold while the water runs out, roll back.

    During the hold the hand is servoed so that the bottle's measured lowest lip stays over the
    glass (the arm's orientation tracking is not exact, so the prediction drifts).
    """

    glass: str
    top: float
    rot: np.ndarray
    rate: float = 0.06  # rad per control step (the action allows 0.08)
    hold: int = 25
    max_steps: int = 200
    _t: int = 0
    _q: np.ndarray | None = field(default=None)

    def reset(self) -> None:
        """Start the roll from upright and aim afresh from how the bottle then sits."""
        self._t = 0
        self._q = None

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        if self._q is None:
            self._q = _pour_point(sim, self.glass, self.top)
        ramp = int(np.ceil(abs(POUR_ROLL) / self.rate))
        t = self._t
        self._t += 1
        if t < ramp:
            alpha = POUR_ROLL * t / ramp
        elif t < ramp + self.hold:
            alpha = POUR_ROLL
            lip, axis = _lip(sim, sim.tcp("right"), sim.tcp_mat("right"), 0.0)
            g = sim.body_pos(self.glass)
            flat = np.array([axis[0], axis[1], 0.0])
            flat /= max(np.linalg.norm(flat), 1e-9)
            miss = g[:2] - POUR_LEAD * flat[:2] - lip[:2]
            self._q[:2] += 0.3 * miss
        else:
            alpha = POUR_ROLL * max(0.0, 1.0 - (t - ramp - self.hold) / ramp)
            self._q[2] += 0.002
        done = t >= 2 * ramp + self.hold + 5
        pos_r = sim.to_robot_frame(self._q)
        rot = self.rot @ _roll(alpha)
        return Command(base=np.zeros(3), tcp={"right": (pos_r, rot)}, speed=0.6), done
