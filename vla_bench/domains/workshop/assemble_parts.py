"""Workshop (manipulation family): fit the named peg into its matching socket of a base block."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import mujoco
import numpy as np

from vla_bench.conventions import CONTACT_WORLD
from vla_bench.domains.workshop.layout import BENCH_TOP, WorkshopLayout
from vla_bench.errors import VlaBenchError
from vla_bench.experts.base import Expert, Grip, Navigate, Reach, grasp_rotation
from vla_bench.experts.manipulation import pick_phases, stand_at
from vla_bench.geometry import yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

BASE_H = 0.045  # base block height
SOCKET_DEPTH = 0.035
ROUND_IN = 0.024  # round socket: inradius of its octagonal bore
SQUARE_HALF = 0.028  # square socket half side
THICK_IN = 0.039  # thick socket: inradius of its octagonal bore
PEG_LEN = 0.09
PEG_GRASP = 0.06  # grasp point (peg origin) above the peg's bottom
ROUND_R = 0.016  # fits every socket
SQUARE_A = 0.019  # half side: its best fit in an octagon needs 1.307 a = 2.48 cm (> 2.4, < 3.9)
THICK_R = 0.031  # fits only the thick socket
SEAT_TOL = 0.008  # peg bottom within this of the socket floor counts as seated
TILT_TOL = 0.26  # rad (15°) from upright
_BASE = "assembly_base"
BASE_HX = 0.055  # base block half depth (x)
# Sockets along the block (y, in this order unless the block is turned): bore inradius or half
# side, and the half width of the block around it.
_SOCKETS = {"round": (ROUND_IN, 0.055), "square": (SQUARE_HALF, 0.055), "thick": (THICK_IN, 0.065)}
# Each peg and the socket of its shape: two round pegs of different colours share the round
# socket, so the colour word, not the shape, tells every peg apart.
SOCKET_OF = {"round": "round", "square": "square", "thick": "thick", "round_b": "round"}
_PEGS = tuple(SOCKET_OF)
# The shape word an instruction may add after the colour ("the blue round peg").
_SHAPE_WORD = {"round": "round", "square": "square", "thick": "thick", "round_b": "round"}
BASE_HALF_Y = sum(cell for _, cell in _SOCKETS.values())
_PEG_CLEAR = BASE_HALF_Y + 0.11  # m along the bench from the base's centre to any peg
_WORLD = {"contype": CONTACT_WORLD, "conaffinity": CONTACT_WORLD}


def _peg(kind: str) -> str:
    return f"assembly_peg_{kind}"


def _socket(kind: str) -> str:
    return f"assembly_socket_{kind}"


@register_task(domain="workshop", family="manipulation", max_episode_steps=350,
               group="manipulation")
class AssembleParts(Task):
    """Fit the {part} into its socket on the base.

    **Description** — A steel base block is clamped on the workbench with three sockets bored
    in it, side by side: a round one, a square one and a thick round one. Four pegs of
    different colours stand beside it: two round pegs, a square peg and a thick round peg. The
    instruction names one peg by its colour (and sometimes its shape or size: "the blue round
    peg", "the red thick peg"); the robot must pick it up and seat it, upright, in the socket of
    its own shape — a round peg in the round socket, the square peg in the square one, the thick
    peg in the thick one.

    **Randomisation** — base position along the front of the bench (y over 0.5 m) and the order
    of its sockets (round–square–thick or reversed); peg colours (the split's four colours,
    training or held-out, shuffled); which peg is named and whether its shape is said; peg
    positions along the front of the bench (≥ 15 cm apart and ≥ 28.5 cm along the bench from
    the base's centre) and yaw; robot start pose (x ±0.1 m, y within 10 cm of the middle of the
    pegs, yaw ±0.1 rad: the whole set of pegs ahead); bench jitter (the ``unseen_layouts``
    split turns the bench end for end and rearranges the room) and workshop colours;
    instruction template.

    **Success** — the named peg stands in the socket of its shape: its axis within 1 cm of the
    socket's centre, its bottom within 8 mm of the socket floor (3.5 cm down), tilted less
    than 15°, and not held by either gripper.

    **Failure** — any other peg is seated in a socket, the named peg is seated in a socket of
    another shape (the round pegs also fit the square and the thick socket, the square peg the
    thick one), or the named peg falls to the floor.

    **Safety notes** — ``task`` cost while a peg is on the floor; collisions with the bench and
    base and contact forces are counted by the env.

    **Alternatives in the scene** — the four pegs (goal field ``target``), each to be seated in
    the socket of its shape: every peg fits a socket, and the two round pegs differ only in
    colour, so the colour word decides; measured blind success (expert toward a uniformly
    drawn alternative, seeds 0–49): 0.25. Fit is a physical question, not a label: the bores
    are octagonal and square prisms of boxes, and the thick peg fits only the thick socket.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): a thick socket and a
    second round peg, so every peg can be named (the thick peg used to fit nowhere and was
    never named); the goal and its alternatives declared; the robot starts facing the pegs;
    the measured blind figure replaces the claimed chance; held-out layouts rearrange the
    workshop.
    """

    templates = Templates(
        train=(
            "assemble the parts together: fit the {part} into its socket on the base",
            "put the {part} into the matching socket",
            "insert the {part} into the socket it fits",
            "pick up the {part} and seat it in its socket in the base",
            "plug the {part} into the base block",
            "fit the {part} into the hole of the same shape",
        ),
        test=(
            "could you slot the {part} into the base where it belongs",
            "the {part} goes into the base, put it in its socket",
            "mount the {part} in the matching hole of the block",
        ),
    )
    layout: WorkshopLayout
    goal_fields: ClassVar[tuple[str, ...]] = ("target",)

    def build(self, spec: mujoco.MjSpec) -> None:
        """A mocap base block (parked) with a round and a square socket, and three free pegs."""
        base = spec.worldbody.add_body(name=_BASE, pos=[0, 0, props.PARK_Z], mocap=True)
        steel = (0.42, 0.45, 0.5, 1.0)
        floor_t = BASE_H - SOCKET_DEPTH
        hx = BASE_HX
        c.box(base, "assembly_base_floor", (hx, BASE_HALF_Y, floor_t / 2), (0, 0, floor_t / 2),
              rgba=steel, **_WORLD)
        wall_h = SOCKET_DEPTH / 2
        zc = floor_t + wall_h
        y_edge = -BASE_HALF_Y
        for kind, (half, cell) in _SOCKETS.items():
            # Sockets follow each other along y in the base frame; initialize() may turn the
            # whole base (yaw pi) so that the order along the bench is reversed.
            y0 = y_edge + cell
            y_edge += 2 * cell
            c.body(base, _socket(kind), (0, y0, floor_t))
            # Solid material around the bore: x walls full length, y walls between them.
            c.box(base, f"assembly_{kind}_wx0", ((hx - half) / 2, cell, wall_h),
                  (-(hx + half) / 2, y0, zc), rgba=steel, **_WORLD)
            c.box(base, f"assembly_{kind}_wx1", ((hx - half) / 2, cell, wall_h),
                  ((hx + half) / 2, y0, zc), rgba=steel, **_WORLD)
            c.box(base, f"assembly_{kind}_wy0", (half, (cell - half) / 2, wall_h),
                  (0, y0 - (cell + half) / 2, zc), rgba=steel, **_WORLD)
            c.box(base, f"assembly_{kind}_wy1", (half, (cell - half) / 2, wall_h),
                  (0, y0 + (cell + half) / 2, zc), rgba=steel, **_WORLD)
            if kind != "square":
                # Corner fillers turn the square bore into a regular octagon (inradius half).
                s = 2 * half * np.tan(np.pi / 8)  # octagon side
                d = half + s / 2  # filler centre distance, beyond the face
                for j in range(4):
                    ang = np.pi / 4 + j * np.pi / 2
                    q = [np.cos(ang / 2), 0.0, 0.0, np.sin(ang / 2)]
                    c.box(base, f"assembly_{kind}_fill_{j}", (s / 2, s / 2, wall_h),
                          (d * np.cos(ang), y0 + d * np.sin(ang), zc), quat=q, rgba=steel,
                          **_WORLD)
            c.box(base, f"assembly_{kind}_mark", (0.004, 0.012, 0.0005),
                  (-hx + 0.008, y0, BASE_H + 0.0005), rgba=(0.9, 0.9, 0.85, 1), collide=False)
        for kind in _PEGS:
            b = c.body(spec.worldbody, _peg(kind), (0, 0, props.PARK_Z), free=True)
            zc_peg = PEG_LEN / 2 - PEG_GRASP
            # Torsional friction: a pinched peg would otherwise swing about the finger axis.
            grip = {"friction": [1.0, 0.03, 0.001], "condim": 4, "mass": 0.08}
            if kind == "square":
                c.box(b, _peg(kind), (SQUARE_A, SQUARE_A, PEG_LEN / 2), (0, 0, zc_peg), **grip)
            else:
                c.cylinder(b, _peg(kind), THICK_R if kind == "thick" else ROUND_R, PEG_LEN / 2,
                           (0, 0, zc_peg), **grip)

    # -- episode ---------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Clamp the base at the bench front, stand the pegs beside it, name one peg."""
        center, top = self.layout.bench_top(sim)
        front = center[0] - 0.3
        base_xy = np.array([front + 0.11, center[1] + rng.uniform(-0.3, 0.2)])
        mirrored = rng.random() < 0.5
        yaw = np.pi if mirrored else 0.0
        sim.set_mocap_pose(_BASE, np.array([base_xy[0], base_xy[1], top]), yaw=yaw)
        ys = self._peg_rows(rng, base_xy[1], (center[1] - 0.75, center[1] + 0.55))
        colors = [str(x) for x in rng.choice(props.color_pool(self.held_out_objects), len(_PEGS),
                                              replace=False)]
        for kind, y, color in zip(_PEGS, ys, colors, strict=True):
            x = front + rng.uniform(0.12, 0.17)
            sim.set_free_pose(_peg(kind), np.array([x, y, top + PEG_GRASP + 0.0005]),
                              yaw_quat(rng.uniform(-np.pi, np.pi)))
            sim.set_rgba(_peg(kind), props.COLORS[color])
        self.target = _PEGS[int(rng.integers(len(_PEGS)))]
        color = colors[_PEGS.index(self.target)]
        shape = _SHAPE_WORD[self.target]
        part = f"{color} {shape} peg" if rng.random() < 0.5 else f"{color} peg"
        self.top = top
        # The robot starts facing the middle of the pegs: the whole set of alternatives is in
        # view, so the start pose tells nothing about which one is named.
        mid = float(np.mean(ys))
        self.layout.place_robot_facing(sim, rng, center[0], y_range=(mid - 0.1, mid + 0.1),
                                       max_yaw=0.1)
        self.instruction = self.templates.sample(rng, phrasing, part=part)
        return self.instruction

    @staticmethod
    def _peg_rows(rng: np.random.Generator, base_y: float,
                  band: tuple[float, float]) -> list[float]:
        """Peg positions along the bench: ≥ 15 cm apart, clear of the base (rejection sampling)."""
        for _ in range(200):
            ys: list[float] = []
            for _ in range(400):
                y = float(rng.uniform(*band))
                if abs(y - base_y) >= _PEG_CLEAR and all(abs(y - q) >= 0.15 for q in ys):
                    ys.append(y)
                    if len(ys) == len(_PEGS):  # shuffled: the first drawn is not special
                        return [float(y) for y in rng.permutation(ys)]
        raise VlaBenchError("could not place the assembly pegs")  # pragma: no cover

    # -- goals -------------------------------------------------------------------------------
    def goals(self) -> Sequence[Goal]:
        """The four pegs, each into the socket of its shape; the colour word tells them apart."""
        return [(kind,) for kind in _PEGS]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named peg."""
        return (_peg(self.target),)

    # -- evaluation --------------------------------------------------------------------------
    @staticmethod
    def peg_bottom(sim: Sim, kind: str) -> np.ndarray:
        """Centre of a peg's bottom face."""
        return sim.body_pos(_peg(kind)) - PEG_GRASP * sim.body_mat(_peg(kind))[:, 2]

    def seated(self, sim: Sim, kind: str, socket: str) -> bool:
        """Peg ``kind`` stands upright at the bottom of ``socket``."""
        rel = self.peg_bottom(sim, kind) - sim.body_pos(_socket(socket))
        upright = sim.body_mat(_peg(kind))[2, 2] > np.cos(TILT_TOL)
        return bool(np.linalg.norm(rel[:2]) < 0.01 and abs(rel[2]) < SEAT_TOL and upright)

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named peg seated in its own socket and released; any other pairing fails."""
        socket = SOCKET_OF[self.target]
        held = any(sim.grasped_by(_peg(self.target), s) for s in ("right", "left"))
        good = self.seated(sim, self.target, socket)
        wrong = any(self.seated(sim, k, s) for k in _PEGS for s in _SOCKETS
                    if (k, s) != (self.target, socket))
        fallen = [k for k in _PEGS if sim.body_pos(_peg(k))[2] < BENCH_TOP - 0.2]
        dropped = self.target in fallen
        failure = wrong or dropped
        reason = "wrong peg or socket" if wrong else "peg dropped" if dropped else None
        gap = self.peg_bottom(sim, self.target) - sim.body_pos(_socket(socket))
        return Evaluation(
            success=good and not held and not failure,
            failure=failure, failure_reason=reason, task_cost=float(bool(fallen)),
            progress={"peg_to_socket_m": float(np.linalg.norm(gap))},
        )

    # -- expert ------------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pick the named peg from the front, carry it over its socket, lower it in, let go."""
        rot = grasp_rotation(0.15)
        peg, socket = _peg(self.target), _socket(SOCKET_OF[self.target])

        def over_socket(depth: float):
            # Closed loop on the peg, not the hand: the pinch holds the peg a little off-centre.
            def pos(sim: Sim) -> np.ndarray:
                goal = sim.body_pos(socket) + np.array([0, 0, SOCKET_DEPTH - depth])
                return sim.tcp("right") + goal - self.peg_bottom(sim, self.target)
            return pos

        # Pinched at its origin, lifted 10 cm: the bottom clears the base block's top.
        return Expert(pick_phases(peg, 0.0, rot=rot, lift=0.1) + [
            Navigate(stand_at(socket), tol=0.02, speed=0.6),
            Reach("right", over_socket(-0.02), rot, tol=0.003, max_steps=80, speed=0.3),
            Reach("right", over_socket(0.008), rot, tol=0.006, max_steps=40, speed=0.2),
            Grip("right", -1.0, steps=12),
            Reach("right", lambda s: s.body_pos(socket) + np.array([-0.12, 0.0, 0.15]), rot,
                  tol=0.03, max_steps=1000),
        ])
