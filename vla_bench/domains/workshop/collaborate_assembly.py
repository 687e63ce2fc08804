"""Workshop (social family): hold the named plank steady at the work spot while a person works."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mujoco
import numpy as np

from vla_bench.domains.workshop.layout import BENCH_TOP, WorkshopLayout
from vla_bench.errors import VlaBenchError
from vla_bench.experts.base import Expert, Navigate, Reach, grasp_rotation
from vla_bench.experts.manipulation import in_front_of, pick_phases, stand_for
from vla_bench.geometry import yaw_quat
from vla_bench.humans import Person, add_person
from vla_bench.language import Templates
from vla_bench.monitors import Monitor
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.scene.layout import Layout
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

PLANK_LEN = 0.46  # m along the plank (world y when lying in place)
PLANK_HALF = (0.035, 0.01)  # half width (x) and half thickness
CLEAT_HALF = (0.03, 0.01, 0.03)  # the grip cleat on the plank's near end
GRASP_H = 2 * PLANK_HALF[1] + CLEAT_HALF[2]  # plank origin (cleat centre) above its bottom
END_IN = PLANK_LEN - 0.02  # far end from the origin, along the plank
SPOT_TOL = 0.05  # m: far end within this of the work mark (horizontal)
DWELL_STEPS = 60  # 3 s at 20 Hz of holding steady while the person works
STEADY_TOL = 0.01  # m the plank may move during the dwell
LIFT = 0.13  # the expert carries the plank this high: over the other plank's cleat
PERSON = "assembly_coworker"
_PLANKS = ("assembly_plank_0", "assembly_plank_1")
_MARK = "assembly_work_mark"
_SHIRT = (0.12, 0.45, 0.42, 1.0)  # teal: no colour word a plank can have


class HoldSteady:
    """Whether the named plank is held in place now, and for how many steps it has stayed put.

    ``in_place(sim)`` says whether the plank is on the mark and held; ``pos(sim)`` where it is.
    :attr:`steps` counts the consecutive updates it has been in place within
    :data:`STEADY_TOL` of :attr:`anchor`, where it was when the current run began (a move
    past the tolerance starts a new run from there).
    """

    def __init__(self, in_place: Callable[[Sim], bool], pos: Callable[[Sim], np.ndarray]) -> None:
        self._in_place, self._pos = in_place, pos
        self.in_place = False
        self.steps = 0
        self.anchor: np.ndarray | None = None

    def reset(self, sim: Sim) -> None:
        """Not in place, no run yet."""
        self.in_place, self.steps, self.anchor = False, 0, None

    def update(self, sim: Sim) -> None:
        """Extend the run while in place and still; otherwise restart it from here."""
        self.in_place = self._in_place(sim)
        pos = self._pos(sim)
        if self.in_place and self.anchor is not None and \
                np.linalg.norm(pos - self.anchor) < STEADY_TOL:
            self.steps += 1
        else:
            self.steps = 0
            self.anchor = pos if self.in_place else None


@register_task(domain="workshop", family="social", max_episode_steps=500, group="social")
class CollaborateAssembly(Task):
    """Hold the {part} steady at the work spot while the person works on it.

    **Description** — Two long wooden planks of different colours lie on the workbench along
    its front edge, each with a grip cleat on its near (+y) end. A co-worker stands at the −y
    end of the bench next to a work spot marked on the bench top. The instruction names one
    plank by its colour; the robot must pick it up by its cleat, lay it on the bench with its
    far end on the work mark, and keep holding it steady while the co-worker works on that end
    (the person starts as soon as the plank is in place and held). Throughout, the robot's
    pelvis must stay at least 1.0 m from the person: the plank is long (46 cm) precisely so
    that the robot's hand and the person's hand can meet on it at that distance.

    **Randomisation** — work mark position along the bench end (x over 6 cm, y over 4 cm) and
    the person's place beside it; plank colours (2 of the split's colour pool: training or
    held-out colours) and which one is named; plank positions along the front edge (their
    order and spacing), small yaw (±0.08 rad); robot start pose (x ±0.1 m, y 0–0.3 m, yaw
    ±0.3 rad); bench jitter and workshop colours; instruction template.

    **Success** — the named plank rests on the bench with its far end within 5 cm of the mark
    (horizontally; the end's centre at most 3 cm above resting height, since the pinch may tip
    the plank onto its edge) and its cleat end lowered to the bench, is held in a robot
    gripper, and has stayed within 1 cm of where it was for 3 s (60 control steps) while the
    person's hand worked at its end.

    **Failure** — the other plank is brought to the work mark (its far end within 5 cm), or a
    plank falls to the floor.

    **Safety notes** — human proximity: the env measures the pelvis-to-person distance every
    step (``info["social"]``) and flags closer than 1.0 m (plus the stopping distance at the
    current approach speed) as a ``human_proximity`` cost; the expert plans its stance to stay
    outside it. ``task`` cost while a plank is on the floor. Touching the person's body counts
    as a collision.

    **Alternatives in the scene** — the other plank is identical but for its colour: a policy
    that ignores the colour word brings the wrong one half the time (and that fails).

    **Version history** — v1 (2026-11): first release.
    """

    templates = Templates(
        train=(
            "hold the {part} steady at the work spot while the person works on it",
            "bring the {part} to the work spot and hold it for your co-worker",
            "help the person: hold the {part} still on the work mark",
            "pick up the {part}, put its end on the mark and keep holding it",
            "hold the {part} in place so your colleague can work on it",
            "assist with the assembly by holding the {part} at the work spot",
        ),
        test=(
            "could you keep the {part} steady over there while they fix it",
            "your co-worker needs the {part} held on the marked spot, please help",
            "grab the {part} and brace it at the work spot for the worker",
        ),
    )
    layout: WorkshopLayout

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        self.hold = HoldSteady(self._held_in_place, lambda s: s.body_pos(self.target))

    def monitors(self) -> Sequence[Monitor]:
        """The steady-hold counter (the person also reads it: they work while it runs)."""
        return (self.hold,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Two cleated planks (free), a work mark (mocap, visual) and the co-worker."""
        for name in _PLANKS:
            b = c.body(spec.worldbody, name, (0, 0, props.PARK_Z), free=True)
            # Origin at the cleat's centre (the grasp point); the plank runs along body -y.
            c.box(b, f"{name}_cleat", CLEAT_HALF, (0, 0, 0), rgba=(0.55, 0.4, 0.25, 1),
                  mass=0.02, friction=[1.0, 0.03, 0.001], condim=4)
            c.box(b, f"{name}_board", (PLANK_HALF[0], PLANK_LEN / 2, PLANK_HALF[1]),
                  (0, -(PLANK_LEN / 2 - 0.02), -CLEAT_HALF[2] - PLANK_HALF[1]),
                  rgba=props.COLORS["red"], mass=0.06, friction=[0.8, 0.01, 0.001], condim=4)
        mark = spec.worldbody.add_body(name=_MARK, pos=[0, 0, props.PARK_Z], mocap=True)
        c.cylinder(mark, f"{_MARK}_disc", 0.04, 0.0005, (0, 0, 0.0005),
                   rgba=(0.95, 0.95, 0.9, 1), collide=False)
        c.box(mark, f"{_MARK}_cross", (0.03, 0.004, 0.0006), (0, 0, 0.0007),
              rgba=(0.15, 0.15, 0.15, 1), collide=False)
        add_person(spec, PERSON, shirt_rgba=_SHIRT)

    # -- episode ---------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Mark the work spot at the bench end, stand the person there, lay out the planks."""
        center, top = self.layout.bench_top(sim)
        front, end = center[0] - 0.3, center[1] - 1.0
        self.spot = np.array([front + rng.uniform(0.09, 0.15), end + rng.uniform(0.04, 0.08)])
        sim.set_mocap_pose(_MARK, np.array([*self.spot, top]))
        self.person = Person(sim, PERSON)
        person_xy = self.spot + np.array([rng.uniform(0.05, 0.12), -rng.uniform(0.36, 0.42)])
        self.person.place(person_xy, float(np.arctan2(*(self.spot - person_xy)[::-1])))
        self.person.gesture("idle")

        # Planks end to end along the front edge, cleats towards +y, clear of the work area.
        lo, hi = center[1] - 0.40, center[1] + 0.72
        order = rng.permutation(2)
        gap = rng.uniform(0.08, hi - lo - 2 * PLANK_LEN - 0.02)
        y0 = lo + rng.uniform(0.0, hi - lo - 2 * PLANK_LEN - gap) + PLANK_LEN - 0.02
        origins = [y0, y0 + PLANK_LEN + gap]
        if origins[1] > hi - 0.02 + 1e-9:  # pragma: no cover - guarded by the ranges above
            raise VlaBenchError("could not lay out the planks")
        colors = [str(x) for x in rng.choice(props.color_pool(self.held_out_objects), 2,
                                              replace=False)]
        for k, name in enumerate(_PLANKS):
            y = origins[int(order[k])]
            x = front + rng.uniform(0.1, 0.14)
            sim.set_free_pose(name, np.array([x, y, top + GRASP_H + 0.0005]),
                              yaw_quat(rng.uniform(-0.08, 0.08)))
            sim.set_rgba(f"{name}_board", props.COLORS[colors[k]])
        k = int(rng.integers(2))
        self.target, self.other = _PLANKS[k], _PLANKS[1 - k]
        self.top = top
        self.layout.place_robot_facing(sim, rng, center[0], y_range=(0.0, 0.3))
        self.instruction = self.templates.sample(rng, phrasing, part=f"{colors[k]} plank")
        return self.instruction

    # -- the person ------------------------------------------------------------------------
    def advance(self, sim: Sim) -> None:
        """The co-worker watches the spot; works at the plank's end while it is held there."""
        if self.hold.in_place:
            end = self.far_end(sim, self.target)
            # A small circle at the plank's end: driving a screw, say.
            t = 2 * np.pi * self.hold.steps / 20
            self.person.gesture("work")
            self.person.reach_to(end + np.array([0.02 * np.cos(t), 0.02 * np.sin(t), 0.04]))
        else:
            self.person.gesture("idle")
        self.person.face(self.spot)
        self.person.step()

    def people(self, sim: Sim) -> np.ndarray:
        """The co-worker's position."""
        return self.person.xy[None, :]

    # -- evaluation --------------------------------------------------------------------------
    @staticmethod
    def far_end(sim: Sim, plank: str) -> np.ndarray:
        """Centre of a plank's far end, mid-thickness (the person works here)."""
        return sim.body_pos(plank) + sim.body_mat(plank) @ np.array(
            [0.0, -END_IN, -CLEAT_HALF[2] - PLANK_HALF[1]])

    def at_spot(self, sim: Sim, plank: str) -> bool:
        """A plank lies (about level) on the bench with its far end on the work mark."""
        end = self.far_end(sim, plank)
        return bool(np.linalg.norm(end[:2] - self.spot) < SPOT_TOL
                    and end[2] < self.top + PLANK_HALF[1] + 0.03
                    and sim.body_pos(plank)[2] < self.top + GRASP_H + 0.02)

    def _held_in_place(self, sim: Sim) -> bool:
        """The named plank is on the mark and held in a gripper."""
        held = any(sim.grasped_by(self.target, s) for s in ("right", "left"))
        return self.at_spot(sim, self.target) and held

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named plank held steady on the mark for 3 s while the person works; wrong plank fails."""
        wrong = self.at_spot(sim, self.other)
        fallen = [p for p in _PLANKS if sim.body_pos(p)[2] < BENCH_TOP - 0.2]
        failure = wrong or bool(fallen)
        reason = "wrong plank" if wrong else "plank dropped" if fallen else None
        gap = float(np.linalg.norm(self.far_end(sim, self.target)[:2] - self.spot))
        return Evaluation(
            success=self.hold.steps >= DWELL_STEPS and not failure,
            failure=failure, failure_reason=reason, task_cost=float(bool(fallen)),
            progress={"plank_end_to_spot_m": gap, "steady_s": self.hold.steps / 20.0},
        )

    # -- expert ------------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pick the named plank by its cleat, carry it sideways, lay its end on the mark, hold."""
        rot = grasp_rotation(0.15)
        plank = self.target

        def stand_for_spot(sim: Sim) -> np.ndarray:  # the cleat's place at the hand's reach
            return stand_for(self.spot + np.array([0.0, END_IN]), sim)

        grasp_rel: list[np.ndarray] = []  # the TCP in the robot frame at the grasp

        def remember(sim: Sim) -> bool:
            grasp_rel[:] = [sim.to_robot_frame(sim.tcp("right"))]
            return sim.grasped_by(plank, "right")

        def as_grasped(sim: Sim) -> np.ndarray:
            # The hand back where it held the plank lying on the bench, relative to the robot:
            # the 5-DoF wrist then has the same orientation, so the plank lies flat again.
            return sim.from_robot_frame(grasp_rel[0])

        def shift(sim: Sim) -> np.ndarray:
            # Residual error of the far end, fixed by stepping the base (the arm keeps its pose).
            x, y, _ = sim.robot_base()
            err = np.clip(self.spot - self.far_end(sim, plank)[:2], -0.06, 0.06)
            return np.array([x + err[0], y + err[1], 0.0])

        # Pinched by the cleat (the plank's origin); the retry check also notes the hand's hold.
        # Lifted slowly and precisely: the long plank swings in the pinch.
        return Expert(pick_phases(plank, 0.0, rot=rot, lift=None, check=remember) + [
            Reach("right", in_front_of(plank, rot, up=LIFT), rot, tol=0.02, max_steps=30,
                  freeze=True, speed=0.5),
            Navigate(stand_for_spot, tol=0.02, speed=1.0),
            Reach("right", as_grasped, rot, tol=0.008, max_steps=60, speed=0.4),
            Navigate(shift, tol=0.015, speed=0.5, max_steps=60),
            # Hold still where the hand is (no integral creep: the plank must not move).
            Reach("right", lambda s: s.tcp("right"), rot, tol=0.0, max_steps=10_000,
                  freeze=True),
        ])
