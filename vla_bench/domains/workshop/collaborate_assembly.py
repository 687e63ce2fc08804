"""Workshop (social family): hold the named plank on the named mark while a person works on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mujoco
import numpy as np

from vla_bench.domains.workshop.layout import BENCH_TOP, WorkshopLayout
from vla_bench.errors import VlaBenchError
from vla_bench.experts.base import Approach, Expert, Navigate, Reach, grasp_rotation
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
PUSH_N = 4.0  # N: the co-worker's peak push on the far end, along the plank (see advance)
LIFT = 0.13  # the expert carries the plank this high: over the other planks' cleats
PERSON = "assembly_coworker"
PLANKS = ("assembly_plank_0", "assembly_plank_1", "assembly_plank_2")
CLEAT_CLEAR = 0.14  # m (along y) the back plank's cleat keeps from the front planks' cleats
MARKS = ("front", "back")  # two work marks at the bench end, one 10 cm behind the other
MARK_GAP = 0.1
_MARK_BODIES = {m: f"assembly_work_mark_{m}" for m in MARKS}
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
    """Hold the {part} steady on the {mark} while the person works on it.

    **Description** — Three long wooden planks of different colours lie on the workbench, two
    end to end along its front edge and one in a second row behind them, each with a grip
    cleat on its near (+y) end. A co-worker stands at the −y end of the bench next to two work
    marks on the bench top, a front one and a back one 10 cm behind it. The instruction names
    one plank by its colour and one mark; the robot must pick the plank up by its cleat, lay it
    on the bench with its far end on that mark, and keep holding it steady while the co-worker
    works on that end. The co-worker's work is a real load: from the moment the plank is in
    place and held, the person's strokes push its far end along the plank, away from them,
    with 3.2–4 N (pulsing at 1 Hz), applied as a force on the plank. A plank that is not held
    firmly is shoved off the mark (the bench's friction on a loose plank is about 0.6 N), so
    the task tests placing the named plank on the named mark and then bracing it against a
    partner's push. Throughout, the robot's pelvis must stay at least 1.0 m from the person:
    the plank is long (46 cm) precisely so that the robot's hand and the person's hand can
    meet on it at that distance.

    **Randomisation** — which plank and which mark are named; the marks' position at the bench
    end (x over 2 cm, y over 4 cm) and the person's place beside them; plank colours (3 of the
    split's colour pool: training or held-out colours) and which plank lies where; the front
    planks' positions along the edge (their spacing), the back plank's position along the
    bench (its cleat at least 14 cm sideways from the front cleats), small yaw (±0.04 rad);
    robot start pose (x ±0.1 m, y 0–0.3 m, yaw ±0.3 rad); bench jitter and workshop colours;
    instruction template.

    **Success** — the named plank rests on the bench with its far end within 5 cm of the named
    mark (horizontally; the end's centre at most 3 cm above resting height, since the pinch may
    tip the plank onto its edge) and its cleat end lowered to the bench, is held in a robot
    gripper, and has stayed within 1 cm of where it was for 3 s (60 control steps) while the
    person worked at its end, pushing on it.

    **Failure** — another plank is brought to a mark, or the named plank to the other mark (its
    far end within 5 cm), or a plank falls to the floor.

    **Safety notes** — human proximity: the env measures the pelvis-to-person distance every
    step (``info["social"]``) and flags closer than 1.0 m (plus the stopping distance at the
    current approach speed) as a ``human_proximity`` cost; the expert plans its stance to stay
    outside it. ``task`` cost while a plank is on the floor. Touching the person's body counts
    as a collision.

    **Alternatives in the scene** — six goals: each of the three planks (alike but for their
    colours) on either mark (alike but for their place): only the colour word tells which
    plank and only "front"/"back" which mark. At reset the planks are in view, the marks (at
    the bench end, beside the person) are not: they come into view as the robot walks to the
    bench end, before it lays the plank down. Measured blind success (expert toward a
    uniformly drawn alternative, seeds 0–49): 0.17.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): a third plank and a
    second mark (six goals); the person faces between the marks; the co-worker's work pushes
    the plank's end with a real force that the hold must resist (it was cosmetic).
    """

    templates = Templates(
        train=(
            "hold the {part} steady on the {mark} while the person works on it",
            "bring the {part} to the {mark} and hold it for your co-worker",
            "help the person: hold the {part} still on the {mark}",
            "pick up the {part}, put its end on the {mark} and keep holding it",
            "hold the {part} in place on the {mark} so your colleague can work on it",
            "assist with the assembly by holding the {part} at the {mark}",
        ),
        test=(
            "could you keep the {part} steady on the {mark} while they fix it",
            "your co-worker needs the {part} held on the {mark}, please help",
            "grab the {part} and brace it at the {mark} for the worker",
        ),
    )
    layout: WorkshopLayout
    goal_fields = ("color", "mark")

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        self.hold = HoldSteady(self._held_in_place, lambda s: s.body_pos(self.target))

    @property
    def target(self) -> str:
        """The named plank's body."""
        return next(p for p in PLANKS if self.color_of[p] == self.color)

    @property
    def spot(self) -> np.ndarray:
        """The named work mark's place (x, y)."""
        return self.marks[self.mark]

    def goals(self) -> Sequence[tuple[str, str]]:
        """Each of the three planks (by its colour) on either mark: six."""
        return [(self.color_of[p], m) for p in PLANKS for m in MARKS]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named plank and the named mark."""
        return (self.target, _MARK_BODIES[self.mark])

    def monitors(self) -> Sequence[Monitor]:
        """The steady-hold counter (the person also reads it: they work while it runs)."""
        return (self.hold,)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Three cleated planks (free), two work marks (mocap, visual) and the co-worker."""
        for name in PLANKS:
            b = c.body(spec.worldbody, name, (0, 0, props.PARK_Z), free=True)
            # Origin at the cleat's centre (the grasp point); the plank runs along body -y.
            c.box(b, f"{name}_cleat", CLEAT_HALF, (0, 0, 0), rgba=(0.55, 0.4, 0.25, 1),
                  mass=0.02, friction=[1.0, 0.03, 0.001], condim=4)
            c.box(b, f"{name}_board", (PLANK_HALF[0], PLANK_LEN / 2, PLANK_HALF[1]),
                  (0, -(PLANK_LEN / 2 - 0.02), -CLEAT_HALF[2] - PLANK_HALF[1]),
                  rgba=props.COLORS["red"], mass=0.06, friction=[0.8, 0.01, 0.001], condim=4)
        for name in _MARK_BODIES.values():
            self._build_mark(spec, name)
        add_person(spec, PERSON, shirt_rgba=_SHIRT)

    @staticmethod
    def _build_mark(spec: mujoco.MjSpec, name: str) -> None:
        """A work mark (mocap, visual only): a pale disc with a cross."""
        mark = spec.worldbody.add_body(name=name, pos=[0, 0, props.PARK_Z], mocap=True)
        c.cylinder(mark, f"{name}_disc", 0.04, 0.0005, (0, 0, 0.0005),
                   rgba=(0.95, 0.95, 0.9, 1), collide=False)
        c.box(mark, f"{name}_cross", (0.03, 0.004, 0.0006), (0, 0, 0.0007),
              rgba=(0.15, 0.15, 0.15, 1), collide=False)

    # -- episode ---------------------------------------------------------------------------
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Mark the two work spots at the bench end, stand the person by them, lay out the
        planks; name a plank and a mark."""
        center, top = self.layout.bench_top(sim)
        front, end = center[0] - 0.3, center[1] - 1.0
        first = np.array([front + rng.uniform(0.09, 0.11), end + rng.uniform(0.04, 0.08)])
        self.marks = {m: first + np.array([k * MARK_GAP, 0.0]) for k, m in enumerate(MARKS)}
        for m, xy in self.marks.items():
            sim.set_mocap_pose(_MARK_BODIES[m], np.array([*xy, top]))
        # The person faces the middle between the marks (not the named one: no cue).
        self.middle = (self.marks["front"] + self.marks["back"]) / 2
        self.person = Person(sim, PERSON)
        person_xy = self.middle + np.array([rng.uniform(0.0, 0.07), -rng.uniform(0.36, 0.42)])
        self.person.place(person_xy, float(np.arctan2(*(self.middle - person_xy)[::-1])))
        self.person.gesture("idle")

        # Two planks end to end along the front edge and a third in a second row behind them,
        # cleats towards +y, all clear of the work area; the back plank's cleat is kept
        # sideways clear of the front cleats, so a hand reaches it over a front plank's board.
        lo, hi = center[1] - 0.40, center[1] + 0.72
        gap = rng.uniform(0.08, hi - lo - 2 * PLANK_LEN - 0.02)
        y0 = lo + rng.uniform(0.0, hi - lo - 2 * PLANK_LEN - gap) + PLANK_LEN - 0.02
        front_ys = np.array([y0, y0 + PLANK_LEN + gap])
        if front_ys[1] > hi - 0.02 + 1e-9:  # pragma: no cover - guarded by the ranges above
            raise VlaBenchError("could not lay out the planks")
        back_y = front_ys[0]
        while np.min(np.abs(front_ys - back_y)) < CLEAT_CLEAR:
            back_y = rng.uniform(lo + PLANK_LEN - 0.02, hi - 0.3)
        places = [(front + rng.uniform(0.09, 0.1), front_ys[0]),
                  (front + rng.uniform(0.09, 0.1), front_ys[1]),
                  (front + rng.uniform(0.195, 0.2), back_y)]
        colors = [str(x) for x in rng.choice(props.color_pool(self.held_out_objects),
                                              len(PLANKS), replace=False)]
        for name, k, color in zip(PLANKS, rng.permutation(len(PLANKS)), colors, strict=True):
            x, y = places[int(k)]
            sim.set_free_pose(name, np.array([x, y, top + GRASP_H + 0.0005]),
                              yaw_quat(rng.uniform(-0.04, 0.04)))
            sim.set_rgba(f"{name}_board", props.COLORS[color])
        self.color_of = dict(zip(PLANKS, colors, strict=True))
        self.color = colors[int(rng.integers(len(PLANKS)))]
        self.mark = MARKS[int(rng.integers(len(MARKS)))]
        self.top = top
        self.layout.place_robot_facing(sim, rng, center[0], y_range=(0.0, 0.3))
        self.instruction = self.templates.sample(rng, phrasing, part=f"{self.color} plank",
                                                 mark=f"{self.mark} mark")
        return self.instruction

    # -- the person ------------------------------------------------------------------------
    def advance(self, sim: Sim) -> None:
        """The co-worker watches the marks; works at the plank's end while it is held there,
        pushing on that end along the plank (a real force the robot's hold must resist)."""
        if self.hold.in_place:
            end = self.far_end(sim, self.target)
            # A small circle at the plank's end: driving a screw, say.
            t = 2 * np.pi * self.hold.steps / 20
            self.person.gesture("work")
            self.person.reach_to(end + np.array([0.02 * np.cos(t), 0.02 * np.sin(t), 0.04]))
            # The work shoves the end away from the person, pulsing with the strokes (80-100 %
            # of PUSH_N): far more than the bench's friction on a loose plank (about 0.6 N).
            along = sim.body_mat(self.target)[:, 1].copy()
            along[2] = 0.0
            along /= max(float(np.linalg.norm(along)), 1e-9)
            sim.apply_force(self.target, PUSH_N * (0.8 + 0.2 * np.sin(t)) * along, end)
        else:
            self.person.gesture("idle")
            sim.apply_force(self.target, np.zeros(3))
        self.person.face(self.middle)
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

    def at_spot(self, sim: Sim, plank: str, mark: str | None = None) -> bool:
        """A plank lies (about level) on the bench with its far end on a work mark (default:
        the named one)."""
        end = self.far_end(sim, plank)
        spot = self.spot if mark is None else self.marks[mark]
        return bool(np.linalg.norm(end[:2] - spot) < SPOT_TOL
                    and end[2] < self.top + PLANK_HALF[1] + 0.03
                    and sim.body_pos(plank)[2] < self.top + GRASP_H + 0.02)

    def _held_in_place(self, sim: Sim) -> bool:
        """The named plank is on the mark and held in a gripper."""
        held = any(sim.grasped_by(self.target, s) for s in ("right", "left"))
        return self.at_spot(sim, self.target) and held

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named plank held steady on the mark for 3 s while the person works; wrong plank fails."""
        wrong = any(self.at_spot(sim, p, m) for p in PLANKS for m in MARKS
                    if (p, m) != (self.target, self.mark))
        fallen = [p for p in PLANKS if sim.body_pos(p)[2] < BENCH_TOP - 0.2]
        failure = wrong or bool(fallen)
        reason = "wrong plank or mark" if wrong else "plank dropped" if fallen else None
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
            # the wrist then has the same orientation, so the plank lies flat again.
            return sim.from_robot_frame(grasp_rel[0])

        def shift(sim: Sim) -> np.ndarray:
            # Residual error of the far end, fixed by stepping the base (the arm keeps its pose).
            x, y, _ = sim.robot_base()
            err = np.clip(self.spot - self.far_end(sim, plank)[:2], -0.06, 0.06)
            return np.array([x + err[0], y + err[1], 0.0])

        # Pinched by the cleat (the plank's origin); the retry check also notes the hand's hold.
        # Lifted slowly and precisely: the long plank swings in the pinch.
        # The final reach caps its integral correction: the hand lags the slow reach by ~5 cm,
        # and the wound-up offset used to carry the closing fingers past the cleat, shoving
        # the plank 4-5 cm along the bench (its far end then landed on the other mark).
        return Expert(pick_phases(plank, 0.0, rot=rot, lift=None, check=remember,
                                  grasp_phase=Approach) + [
            Reach("right", in_front_of(plank, rot, up=LIFT), rot, tol=0.02, max_steps=30,
                  freeze=True, speed=0.5),
            Navigate(stand_for_spot, tol=0.02, speed=1.0),
            Reach("right", as_grasped, rot, tol=0.008, max_steps=60, speed=0.4),
            Navigate(shift, tol=0.015, speed=0.5, max_steps=60),
            # Hold still where the hand is (no integral creep: the plank must not move).
            Reach("right", lambda s: s.tcp("right"), rot, tol=0.0, max_steps=10_000,
                  freeze=True),
        ])
