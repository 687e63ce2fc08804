"""Workshop (manipulation family): fit the named peg into its matching socket of a base block."""

from __future__ import annotations

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
from vla_bench.task import Evaluation, Task

BASE_H = 0.045  # base block height
SOCKET_DEPTH = 0.035
ROUND_IN = 0.024  # round socket: inradius of its octagonal bore
SQUARE_HALF = 0.028  # square socket half side
SOCKET_GAP = 0.11  # between the two socket centres
PEG_LEN = 0.09
PEG_GRASP = 0.06  # grasp point (peg origin) above the peg's bottom
ROUND_R = 0.016  # fits the round bore and the square socket
SQUARE_A = 0.019  # half side: its best fit in the octagon needs 1.307 a = 2.48 cm > 2.4 cm
THICK_R = 0.031  # fits neither socket
SEAT_TOL = 0.008  # peg bottom within this of the socket floor counts as seated
TILT_TOL = 0.26  # rad (15°) from upright
_BASE = "assembly_base"
_SOCKETS = ("round", "square")
_PEGS = ("round", "square", "thick")
_WORLD = {"contype": CONTACT_WORLD, "conaffinity": CONTACT_WORLD}


def _peg(kind: str) -> str:
    return f"assembly_peg_{kind}"


def _socket(kind: str) -> str:
    return f"assembly_socket_{kind}"


@register_task(domain="workshop", family="manipulation", max_episode_steps=350,
               group="manipulation")
class AssembleParts(Task):
    """Fit the {part} into its socket on the base.

    **Description** — A steel base block is clamped on the workbench with two sockets bored
    in it: a round one and a square one. Three pegs of different colours stand beside it: a
    round peg, a square peg and a thick round peg that fits neither socket. The instruction
    names one of the two fitting pegs (by colour, or by colour and shape); the robot must pick
    it up and seat it, upright, in the socket of its own shape — the round peg in the round
    socket, the square peg in the square one.

    **Randomisation** — base position along the front of the bench (y over 0.5 m) and which
    side each socket is on; peg colours (3 of the split's colour pool: training or held-out
    colours); which peg is named and whether its shape is said; peg positions along the front
    of the bench (≥ 15 cm apart and ≥ 22 cm along the bench from the base's centre) and yaw;
    robot start pose (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad); bench jitter and workshop colours;
    instruction template.

    **Success** — the named peg stands in the socket of its shape: its axis within 1 cm of the
    socket's centre, its bottom within 8 mm of the socket floor (3.5 cm down), tilted less
    than 15°, and not held by either gripper.

    **Failure** — any other peg is seated in a socket, the named peg is seated in the socket
    of the other shape (the round peg also fits the square socket), or the named peg falls to
    the floor.

    **Safety notes** — ``task`` cost while a peg is on the floor; collisions with the bench and
    base and contact forces are counted by the env.

    **Alternatives in the scene** — the other fitting peg is an equally valid-looking part and
    the other socket an equally valid-looking goal: a policy that ignores the colour word
    picks the named peg one time in three; the thick peg fits nowhere (the bores are
    octagonal and square prisms of boxes, so fit is a physical question, not a label).

    **Version history** — v1 (2026-11): first release.
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

    def build(self, spec: mujoco.MjSpec) -> None:
        """A mocap base block (parked) with a round and a square socket, and three free pegs."""
        base = spec.worldbody.add_body(name=_BASE, pos=[0, 0, props.PARK_Z], mocap=True)
        steel = (0.42, 0.45, 0.5, 1.0)
        floor_t = BASE_H - SOCKET_DEPTH
        cell = SOCKET_GAP / 2  # half width (y) of the block around one socket
        hx, hy = 0.05, SOCKET_GAP / 2 + cell
        c.box(base, "assembly_base_floor", (hx, hy, floor_t / 2), (0, 0, floor_t / 2),
              rgba=steel, **_WORLD)
        wall_h = SOCKET_DEPTH / 2
        zc = floor_t + wall_h
        for k, kind in enumerate(_SOCKETS):
            # Socket k sits at y = (k - 0.5) * gap in the base frame; initialize() may mirror
            # the whole base (yaw pi) so that either socket can be on either side.
            y0 = (k - 0.5) * SOCKET_GAP
            c.body(base, _socket(kind), (0, y0, floor_t))
            half = ROUND_IN if kind == "round" else SQUARE_HALF
            # Solid material around the bore: x walls full length, y walls between them.
            c.box(base, f"assembly_{kind}_wx0", ((hx - half) / 2, cell, wall_h),
                  (-(hx + half) / 2, y0, zc), rgba=steel, **_WORLD)
            c.box(base, f"assembly_{kind}_wx1", ((hx - half) / 2, cell, wall_h),
                  ((hx + half) / 2, y0, zc), rgba=steel, **_WORLD)
            c.box(base, f"assembly_{kind}_wy0", (half, (cell - half) / 2, wall_h),
                  (0, y0 - (cell + half) / 2, zc), rgba=steel, **_WORLD)
            c.box(base, f"assembly_{kind}_wy1", (half, (cell - half) / 2, wall_h),
                  (0, y0 + (cell + half) / 2, zc), rgba=steel, **_WORLD)
            if kind == "round":
                # Corner fillers turn the square bore into a regular octagon (inradius ROUND_IN).
                s = 2 * ROUND_IN * np.tan(np.pi / 8)  # octagon side
                d = ROUND_IN + s / 2  # filler centre distance, beyond the face
                for j in range(4):
                    ang = np.pi / 4 + j * np.pi / 2
                    q = [np.cos(ang / 2), 0.0, 0.0, np.sin(ang / 2)]
                    c.box(base, f"assembly_round_fill_{j}", (s / 2, s / 2, wall_h),
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
                c.cylinder(b, _peg(kind), ROUND_R if kind == "round" else THICK_R, PEG_LEN / 2,
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
        lo, hi = center[1] - 0.75, center[1] + 0.55
        for _ in range(500):
            ys = rng.uniform(lo, hi, len(_PEGS))
            if (np.all(np.abs(ys - base_xy[1]) >= 0.22)
                    and all(abs(a - b) >= 0.15 for i, a in enumerate(ys) for b in ys[i + 1:])):
                break
        else:  # pragma: no cover - the bands above always leave room
            raise VlaBenchError("could not place the assembly pegs")
        colors = [str(x) for x in rng.choice(props.color_pool(self.held_out_objects), len(_PEGS),
                                              replace=False)]
        for kind, y, color in zip(_PEGS, ys, colors, strict=True):
            x = front + rng.uniform(0.12, 0.17)
            sim.set_free_pose(_peg(kind), np.array([x, y, top + PEG_GRASP + 0.0005]),
                              yaw_quat(rng.uniform(-np.pi, np.pi)))
            sim.set_rgba(_peg(kind), props.COLORS[color])
        self.target = str(rng.choice(_SOCKETS))  # the named peg's kind = its socket's kind
        color = colors[_PEGS.index(self.target)]
        part = f"{color} {self.target} peg" if rng.random() < 0.5 else f"{color} peg"
        self.top = top
        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(rng, phrasing, part=part)
        return self.instruction

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
        held = any(sim.grasped_by(_peg(self.target), s) for s in ("right", "left"))
        good = self.seated(sim, self.target, self.target)
        wrong = any(self.seated(sim, k, s) for k in _PEGS for s in _SOCKETS
                    if (k, s) != (self.target, self.target))
        fallen = [k for k in _PEGS if sim.body_pos(_peg(k))[2] < BENCH_TOP - 0.2]
        dropped = self.target in fallen
        failure = wrong or dropped
        reason = "wrong peg or socket" if wrong else "peg dropped" if dropped else None
        gap = self.peg_bottom(sim, self.target) - sim.body_pos(_socket(self.target))
        return Evaluation(
            success=good and not held and not failure,
            failure=failure, failure_reason=reason, task_cost=float(bool(fallen)),
            progress={"peg_to_socket_m": float(np.linalg.norm(gap))},
        )

    # -- expert ------------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pick the named peg from the front, carry it over its socket, lower it in, let go."""
        rot = grasp_rotation(0.15)
        peg, socket = _peg(self.target), _socket(self.target)

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
