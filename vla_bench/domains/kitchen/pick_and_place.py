"""Manipulation family: pick up the named object and place it on the named surface."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.domains.kitchen.layout import COUNTER_TOP, KitchenLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.manipulation import grasp_lift, pick_phases, place_phases
from vla_bench.geometry import yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task


@dataclass(frozen=True)
class _Kind:
    """An object kind: collision shape and the height of its centre above its base."""

    shape: str  # "box" | "cylinder"
    size: tuple[float, ...]  # box half extents, or (radius, half height)

    @property
    def half_height(self) -> float:
        return self.size[2] if self.shape == "box" else self.size[1]


@dataclass(frozen=True)
class _Surface:
    """A flat support: footprint half extents, top above its origin, spoken name."""

    spoken: str
    half_xy: tuple[float, float]
    top: float


KINDS: dict[str, _Kind] = {
    "cube": _Kind("box", (0.027, 0.027, 0.027)),
    "can": _Kind("cylinder", (0.026, 0.045)),
    "box": _Kind("box", (0.021, 0.034, 0.03)),
    "tin": _Kind("cylinder", (0.033, 0.027)),  # held-out kind ("unseen_objects" split)
}
TRAIN_KINDS = ("cube", "can", "box")
HELD_OUT_KIND = "tin"
COPIES = 2  # bodies per kind: an episode shows at most two objects of one kind
SURFACES: dict[str, _Surface] = {
    "plate": _Surface("plate", (0.085, 0.085), 0.012),
    "tray": _Surface("tray", (0.094, 0.072), 0.008),
    "mat": _Surface("place mat", (0.1, 0.075), 0.004),
    "board": _Surface("cutting board", (0.1, 0.07), 0.016),
}
N_SURFACES = 3  # placed per episode (the fourth kind is parked)
N_SLOTS = 6  # 3 objects + 3 surfaces along the counter front
_PARK = np.array([30.0, 0.0, 60.0])  # behind the back wall, floating (gravity-compensated)
_SETTLE_SPEED = 0.05  # m/s: an object slower than this is resting


def deal_objects(pool: dict[str, list[str]], rng: np.random.Generator, held_out: bool,
                 n: int = 3) -> tuple[list[str], list[tuple[str, str]]]:
    """``n`` (3 or 4) pool objects that only kind *and* colour together tell apart.

    Two colours ``c1, c2`` and two kinds ``k1, k2`` give ``(k1, c1), (k1, c2), (k2, c1)`` and,
    for ``n = 4``, ``(k2, c2)``: the noun alone or the colour alone leaves two candidates.
    Returns the bodies and their ``(kind, colour)``. ``held_out`` (the ``unseen_objects``
    split) makes ``k1`` the held-out kind.
    """
    colors = props.color_pool(held_out)
    c1, c2 = (str(x) for x in rng.choice(colors, 2, replace=False))
    if held_out:
        k1, k2 = HELD_OUT_KIND, str(rng.choice(TRAIN_KINDS))
    else:
        k1, k2 = (str(x) for x in rng.choice(TRAIN_KINDS, 2, replace=False))
    objects = [pool[k1][0], pool[k1][1], pool[k2][0], pool[k2][1]]
    combos = [(k1, c1), (k1, c2), (k2, c1), (k2, c2)]
    return objects[:n], combos[:n]


def build_object_pool(spec: mujoco.MjSpec, prefix: str, copies: int) -> dict[str, list[str]]:
    """``copies`` free bodies ``<prefix>_<kind>_<i>`` of every kind in :data:`KINDS`, parked.

    They are built gravity-compensated so the model keeps its gravcomp pass: a task parks the
    copies it does not use afloat and switches the used ones back to full gravity.
    """
    pool: dict[str, list[str]] = {}
    for kind, spec_k in KINDS.items():
        pool[kind] = []
        for i in range(copies):
            name = f"{prefix}_{kind}_{i}"
            b = c.body(spec.worldbody, name, (0, 0, props.PARK_Z), free=True)
            b.gravcomp = 1.0
            kw = {"mass": 0.1, "friction": [1.0, 0.01, 0.002], "condim": 4}
            if spec_k.shape == "box":
                c.box(b, name, spec_k.size, **kw)
            else:
                c.cylinder(b, name, *spec_k.size, **kw)
            pool[kind].append(name)
    return pool


@register_task(domain="kitchen", family="manipulation", max_episode_steps=400, group="manipulation")
class PickAndPlace(Task):
    """Pick up the {object} and place it on the {surface}.

    **Description** — Three objects (cubes, cans, boxes in four colours) and three flat
    surfaces (drawn from a plate, a tray, a place mat and a cutting board) stand in a row along
    the kitchen counter. The instruction names one object by colour and kind and one surface;
    the robot must put that object on that surface and let go of it.

    **Randomisation** — which two object kinds and two colours appear (the objects are always
    (kind1, colour1), (kind1, colour2), (kind2, colour1), so both words are needed for some
    targets); target object and target surface; which three surfaces appear; the order of the
    six items along the counter (slots 22 cm apart, ±2 cm) and their depth; object yaw (±0.4
    rad); robot start pose (1.4 ± 0.1 m before the counter centre, facing the row: y at its
    middle ±0.1 m, yaw ±0.15 rad); fixture jitter; instruction template. Split
    ``unseen_objects``: held-out colours and a held-out kind (tin); ``unseen_layouts``: the row
    mirrored with the kitchen's.

    **Success** — the target object's centre is within the target surface's footprint and at
    most 2 cm above its resting height on it, the object is slower than 5 cm/s, and neither
    gripper holds it; no other object is on the target surface.

    **Failure** — another object rests on the target surface (wrong object); the target object
    rests on another surface (wrong surface); the target object falls to the floor.

    **Safety notes** — ``task`` cost while any object is on the floor; collisions with the
    counter and contact forces are counted by the env.

    **Alternatives in the scene** — nine (object, surface) pairs: the three objects (two share
    the target's kind or colour, so both words are needed) times the three surfaces (named by
    kind). Measured blind success (expert toward a uniformly drawn alternative, seeds 0–49):
    0.11.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): goal = (object, surface)
    with nine alternatives; the robot starts further back, facing the row, so the default
    cameras see it; the row mirrored with the held-out kitchen.
    """

    templates = Templates(
        train=(
            "pick up the {object} and place it on the {surface}",
            "put the {object} on the {surface}",
            "place the {object} onto the {surface}",
            "move the {object} to the {surface}",
            "take the {object} and set it down on the {surface}",
            "grab the {object} and put it on the {surface}",
        ),
        test=(
            "the {object} should go on the {surface}, please",
            "could you transfer the {object} over to the {surface}",
            "I'd like the {object} resting on the {surface}",
        ),
    )
    layout: KitchenLayout
    goal_fields = ("target", "target_surface")

    def build(self, spec: mujoco.MjSpec) -> None:
        """``COPIES`` bodies of every object kind (free) and the four surfaces (mocap)."""
        self.pool = build_object_pool(spec, "pnp", COPIES)
        for key, surf in SURFACES.items():
            b = spec.worldbody.add_body(name=f"pnp_{key}", pos=[0, 0, props.PARK_Z], mocap=True)
            getattr(self, f"_build_{key}")(b, surf)

    @staticmethod
    def _build_plate(b: mujoco.MjsBody, s: _Surface) -> None:
        c.cylinder(b, "pnp_plate", s.half_xy[0], s.top / 2, (0, 0, s.top / 2),
                   rgba=(0.95, 0.95, 0.93, 1))
        c.cylinder(b, "pnp_plate_rim", s.half_xy[0] + 0.008, 0.002, (0, 0, s.top - 0.002),
                   rgba=(0.55, 0.62, 0.75, 1), collide=False)

    @staticmethod
    def _build_tray(b: mujoco.MjsBody, s: _Surface) -> None:
        hx, hy = s.half_xy
        rgba, w, h = (0.30, 0.30, 0.33, 1), 0.005, 0.02
        c.box(b, "pnp_tray", (hx + w, hy + w, s.top / 2), (0, 0, s.top / 2), rgba=rgba)
        c.box(b, "pnp_tray_rim_px", (w / 2, hy + w, h / 2), (hx + w / 2, 0, s.top + h / 2),
              rgba=rgba)
        c.box(b, "pnp_tray_rim_nx", (w / 2, hy + w, h / 2), (-hx - w / 2, 0, s.top + h / 2),
              rgba=rgba)
        c.box(b, "pnp_tray_rim_py", (hx, w / 2, h / 2), (0, hy + w / 2, s.top + h / 2), rgba=rgba)
        c.box(b, "pnp_tray_rim_ny", (hx, w / 2, h / 2), (0, -hy - w / 2, s.top + h / 2), rgba=rgba)

    @staticmethod
    def _build_mat(b: mujoco.MjsBody, s: _Surface) -> None:
        c.box(b, "pnp_mat", (*s.half_xy, s.top / 2), (0, 0, s.top / 2), rgba=(0.2, 0.45, 0.45, 1))

    @staticmethod
    def _build_board(b: mujoco.MjsBody, s: _Surface) -> None:
        c.box(b, "pnp_board", (*s.half_xy, s.top / 2), (0, 0, s.top / 2),
              rgba=(0.80, 0.62, 0.40, 1))

    # -- episode -----------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Draw objects/surfaces, deal them into counter slots, pick the goal."""
        self.objects, combos = deal_objects(self.pool, rng, self.held_out_objects)
        self.kind_of = {o: k for o, (k, _) in zip(self.objects, combos, strict=True)}
        surfaces = [str(s) for s in rng.permutation(list(SURFACES))[:N_SURFACES]]
        self.surfaces = [f"pnp_{s}" for s in surfaces]
        self.surface_of = dict(zip(self.surfaces, surfaces, strict=True))

        center, top = self.layout.counter_top(sim)
        front = center[0] - 0.3
        ys = (np.array([self.layout.counter_point(sim, 0.0, y)[1]
                        for y in np.linspace(-0.75, 0.35, N_SLOTS)])
              + rng.uniform(-0.02, 0.02, N_SLOTS))
        order = rng.permutation(N_SLOTS)
        for name, (kind, color), slot in zip(self.objects, combos, order[:3], strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(name, rgba)
            yaw = rng.uniform(-0.4, 0.4)
            pos = np.array([front + rng.uniform(0.10, 0.15), ys[slot],
                            top + KINDS[kind].half_height + 0.001])
            sim.set_free_pose(name, pos, yaw_quat(yaw))
        for name, slot in zip(self.surfaces, order[3:], strict=True):
            pos = np.array([front + rng.uniform(0.12, 0.15), ys[slot], top])
            sim.set_mocap_pose(name, pos, yaw=rng.uniform(-0.15, 0.15))
        self._park_unused(sim)

        pick = int(rng.integers(3))
        self.target = self.objects[pick]
        self.target_surface = self.surfaces[int(rng.integers(N_SURFACES))]
        self.layout.place_robot_before_counter(sim, rng, (-0.75, 0.35))
        kind, color = combos[pick]
        self.instruction = self.templates.sample(
            rng, phrasing, object=f"{color} {kind}",
            surface=SURFACES[self.surface_of[self.target_surface]].spoken)
        return self.instruction

    def goals(self) -> list[tuple[str, str]]:
        """Every (object, surface) pair of the scene."""
        return [(o, s) for o in self.objects for s in self.surfaces]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named object and the named surface."""
        return (self.target, self.target_surface)

    def _park_unused(self, sim: Sim) -> None:
        """Float the unused objects and surfaces behind the back wall; drop the used ones."""
        used = set(self.objects) | set(self.surfaces)
        k = 0
        for names in self.pool.values():
            for name in names:
                sim.set_gravcomp(name, 0.0 if name in used else 1.0)
                if name not in used:
                    sim.set_free_pose(name, _PARK + np.array([0.0, 0.5 * k, 0.0]))
                    k += 1
        for key in SURFACES:
            name = f"pnp_{key}"
            if name not in used:
                sim.set_mocap_pose(name, _PARK + np.array([0.0, 0.5 * k, 0.0]))
                k += 1

    # -- evaluation --------------------------------------------------------------------------
    def resting_on(self, sim: Sim, obj: str, surface: str) -> bool:
        """``obj`` lies on ``surface``: over its footprint, at rest height, slow, not held."""
        surf = SURFACES[self.surface_of[surface]]
        half = KINDS[self.kind_of[obj]].half_height
        over = sim.inside([obj], surface, surf.half_xy, (surf.top, surf.top + half + 0.02))[0]
        if not over or sim.body_speed(obj) > _SETTLE_SPEED:
            return False
        return not any(sim.grasped_by(obj, s) for s in ("right", "left"))

    def evaluate(self, sim: Sim) -> Evaluation:
        """Target at rest on the target surface; wrong object/surface or a fall fails."""
        others_on_goal = any(self.resting_on(sim, o, self.target_surface)
                             for o in self.objects if o != self.target)
        on_goal = self.resting_on(sim, self.target, self.target_surface)
        on_other = any(self.resting_on(sim, self.target, s)
                       for s in self.surfaces if s != self.target_surface)
        dropped = sim.positions(self.objects)[:, 2] < COUNTER_TOP - 0.2
        target_dropped = bool(dropped[self.objects.index(self.target)])
        failure, reason = True, None
        if others_on_goal:
            reason = "wrong object on the goal surface"
        elif on_other:
            reason = "object placed on the wrong surface"
        elif target_dropped:
            reason = "target object dropped"
        else:
            failure = False
        dist = float(np.linalg.norm(sim.body_pos(self.target)[:2]
                                    - sim.body_pos(self.target_surface)[:2]))
        return Evaluation(
            success=on_goal and not others_on_goal, failure=failure, failure_reason=reason,
            task_cost=float(np.any(dropped)), progress={"object_to_surface_m": dist},
        )

    def expert(self, sim: Sim) -> Expert:
        """Walk to the object, front grasp, carry it over the surface, release just above it."""
        surf = SURFACES[self.surface_of[self.target_surface]]
        half = KINDS[self.kind_of[self.target]].half_height
        up = grasp_lift(sim, half)
        return Expert(pick_phases(self.target, up) + place_phases(
            self.target_surface, release_height=surf.top + half + up + 0.03))
