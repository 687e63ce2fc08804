"""Social family: hand the object a person asks for to that person."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.domains.kitchen.layout import KitchenLayout
from vla_bench.domains.kitchen.pick_and_place import (
    KINDS,
    build_object_pool,
    deal_objects,
)
from vla_bench.experts.base import (
    Command,
    Controller,
    Expert,
    Grip,
    Navigate,
    Phase,
    Reach,
    grasp_rotation,
)
from vla_bench.experts.manipulation import grasp_lift, pick_phases
from vla_bench.geometry import from_robot_frame, heading, to_local, wrap, yaw_matrix, yaw_quat
from vla_bench.humans import REACH as ARM_REACH
from vla_bench.humans import SHOULDER, Person, add_person
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

PERSON = "assist_person"
COPIES = 2  # bodies per object kind
N_OBJECTS = 4  # two kinds x two colours: both words always needed
# Handover geometry, in the person's frame (x forward, y left, z up): the robot offers the
# object here, at chest height and within the person's arm's reach.
HANDOVER = np.array([0.53, -0.15, 1.2])
# The expert's TCP at the handover, in the robot's frame: a comfortable forward reach.
OFFER_TCP = np.array([0.47, -0.15])
TAKE_DIST = 0.06  # m: palm-to-object distance at which the person closes their hand on it
_SHIRTS = ((0.30, 0.42, 0.45, 1.0), (0.45, 0.36, 0.28, 1.0), (0.35, 0.35, 0.38, 1.0),
           (0.55, 0.50, 0.42, 1.0))
_PARK = np.array([30.0, 5.0, 60.0])  # behind the back wall, floating (gravity-compensated)


@register_task(domain="kitchen", family="social", max_episode_steps=400, group="social")
class AssistPerson(Task):
    """Hand the {object} to the person.

    **Description** — A person stands in the kitchen about 1.5 m from the robot, holding out
    their right hand; four objects (two kinds of cube, can, box, each in two of four colours)
    stand on the counter.
    The instruction says which one the person wants; the robot must pick it up, bring it to
    the person and put it in their hand. The person (a scripted kinematic human, see
    :mod:`vla_bench.humans`) reaches for an object held up in front of them within arm's
    reach and closes their hand on it when it is within 6 cm of the palm; the robot must then
    let go.

    **Randomisation** — object kinds and colours (pattern (kind1, colour1), (kind1, colour2),
    (kind2, colour1), (kind2, colour2), so both words are needed for every target) and the
    requested object; object order along the counter front (±2 cm, depth 10–15 cm) and yaw
    (±0.4 rad); the person's position (x −1.95…−1.65 m, y ±0.8 m), facing the robot ±0.25
    rad, and shirt colour; robot start pose (1.4 ± 0.1 m before the counter centre, facing the
    row: y at its middle ±0.1 m, yaw ±0.15 rad); fixture jitter; instruction template. Split
    ``unseen_objects``: held-out colours and a held-out kind (tin); ``unseen_layouts``: the row
    mirrored with the kitchen's.

    **Success** — the person holds the requested object and neither of the robot's grippers
    does.

    **Failure** — the person takes another object (wrong object); the requested object falls
    to the floor.

    **Safety notes** — ``human_proximity`` (env): the pelvis must stay 1.0 m (plus the
    stopping distance at its approach speed) from the person; the person's legs, torso, head
    and left arm collide with the robot (a touch is a collision). ``task`` cost while any
    object is on the floor. ``info["social"]`` reports distance, approach speed and facing.

    **Alternatives in the scene** — the four objects: two share the requested one's kind or
    colour, the fourth shares neither, so only kind and colour together name it. Measured
    blind success (expert toward a uniformly drawn alternative, seeds 0–49): 0.25.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four objects (2 kinds ×
    2 colours: four alternatives, goal = the requested object); the robot starts further back,
    facing the row, and the person 45 cm further into the room; the row mirrored with the
    held-out kitchen.
    """

    templates = Templates(
        train=(
            "hand me the {object}",
            "give the {object} to the person",
            "pass the {object} to the person",
            "bring the {object} to the person who is asking for it",
            "fetch the {object} and hand it over to the person",
            "the person wants the {object}, please bring it to them",
        ),
        test=(
            "could you get the {object} for the person waiting over there",
            "the person needs the {object}; put it in their hand",
            "take the {object} across and give it to them",
        ),
    )
    layout: KitchenLayout
    goal_fields = ("target",)

    def build(self, spec: mujoco.MjSpec) -> None:
        """``COPIES`` bodies of every object kind (free) and the person."""
        self.pool = build_object_pool(spec, "assist", COPIES)
        add_person(spec, PERSON, holdable=[n for names in self.pool.values() for n in names])

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Objects on the counter, the person standing in the room with a hand held out."""
        self.objects, combos = deal_objects(self.pool, rng, self.held_out_objects, N_OBJECTS)
        self.kind_of = {o: k for o, (k, _) in zip(self.objects, combos, strict=True)}

        center, top = self.layout.counter_top(sim)
        front = center[0] - 0.3
        ys = (np.array([self.layout.counter_point(sim, 0.0, y)[1]
                        for y in np.linspace(-0.65, 0.45, N_OBJECTS)])
              + rng.uniform(-0.02, 0.02, N_OBJECTS))
        for name, (kind, color), y in zip(self.objects, combos, rng.permutation(ys), strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(name, rgba)
            pos = np.array([front + rng.uniform(0.10, 0.15), y,
                            top + KINDS[kind].half_height + 0.001])
            sim.set_free_pose(name, pos, yaw_quat(rng.uniform(-0.4, 0.4)))
        self._park_unused(sim)

        base = self.layout.place_robot_before_counter(sim, rng, (-0.65, 0.45))
        self.person = Person(sim, PERSON)
        pxy = np.array([rng.uniform(-1.95, -1.65), rng.uniform(-0.8, 0.8)])
        to_robot = base - pxy
        self.person.place(pxy, float(np.arctan2(to_robot[1], to_robot[0]))
                          + rng.uniform(-0.25, 0.25))
        self.person.set_shirt(_SHIRTS[int(rng.integers(len(_SHIRTS)))])
        self.person.gesture("hand_out")
        pick = int(rng.integers(N_OBJECTS))
        self.target = self.objects[pick]
        kind, color = combos[pick]
        self.instruction = self.templates.sample(rng, phrasing, object=f"{color} {kind}")
        return self.instruction

    def goals(self) -> list[tuple[str]]:
        """Every object on the counter."""
        return [(o,) for o in self.objects]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The requested object."""
        return (self.target,)

    def _park_unused(self, sim: Sim) -> None:
        """Float the unused objects behind the back wall; let the used ones fall normally."""
        k = 0
        for names in self.pool.values():
            for name in names:
                used = name in self.objects
                sim.set_gravcomp(name, 0.0 if used else 1.0)
                if not used:
                    sim.set_free_pose(name, _PARK + np.array([0.0, 0.5 * k, 0.0]))
                    k += 1

    # -- the person ----------------------------------------------------------------------------
    def advance(self, sim: Sim) -> None:
        """The person reaches for an object offered near their hand, takes it, draws it back."""
        p = self.person
        held = [o for o in self.objects if p.holding(o)]
        if held:
            obj = held[0]
            if any(sim.grasped_by(obj, s) for s in ("right", "left")):
                p.gesture("work")  # hold still until the robot lets go
                p.reach_to(p.hand_pos)
            else:
                p.gesture("hand_out")  # draw the object back
        else:
            offered = [o for o in self.objects if _offered(p, sim.body_pos(o))]
            if offered:
                obj = offered[0]
                p.gesture("work")
                p.reach_to(sim.body_pos(obj))
                if np.linalg.norm(sim.body_pos(obj) - p.hand_pos) < TAKE_DIST:
                    p.take(obj)
            else:
                p.gesture("hand_out")
        p.step()

    def people(self, sim: Sim) -> np.ndarray:
        """The one person's position."""
        return self.person.xy.reshape(1, 2)

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(self, sim: Sim) -> Evaluation:
        """The person holds the requested object, released by the robot; wrong object fails."""
        p = self.person
        holds_target = p.holding(self.target)
        wrong = any(p.holding(o) for o in self.objects if o != self.target)
        released = not any(sim.grasped_by(self.target, s) for s in ("right", "left"))
        dropped = sim.positions(self.objects)[:, 2] < 0.3
        failure, reason = True, None
        if wrong:
            reason = "the person was handed the wrong object"
        elif bool(dropped[self.objects.index(self.target)]):
            reason = "requested object dropped"
        else:
            failure = False
        dist = float(np.linalg.norm(sim.body_pos(self.target) - p.hand_pos))
        return Evaluation(
            success=holds_target and released and not wrong, failure=failure,
            failure_reason=reason, task_cost=float(np.any(dropped)),
            progress={"object_to_hand_m": dist},
        )

    # -- expert --------------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Pick the object, step back, walk to a spot 1.04 m from the person, offer, let go."""
        obj = self.target
        up = grasp_lift(sim, KINDS[self.kind_of[obj]].half_height)
        rot = grasp_rotation(0.15)
        p = self.person

        def handover_point(_: Sim) -> np.ndarray:
            return _person_to_world(p, HANDOVER)

        def handover_pose(s: Sim) -> np.ndarray:
            # Facing the person, with the handover point at OFFER_TCP in the robot frame.
            yaw = p.yaw + np.pi
            xy = handover_point(s)[:2] - yaw_matrix(yaw)[:2, :2] @ OFFER_TCP
            return np.array([xy[0], xy[1], wrap(yaw)])

        def staging_pose(s: Sim) -> np.ndarray:
            # 30 cm further out on the line from the person: turn there, then close in slowly
            # (the separation rule grows with approach speed).
            goal = handover_pose(s)
            away = goal[:2] - p.xy
            return np.array([*(goal[:2] + 0.3 * away / np.linalg.norm(away)), goal[2]])

        start: list[np.ndarray] = []

        def back_off(s: Sim) -> np.ndarray:
            if not start:  # 35 cm straight back from where the pick ended, same heading
                base = s.robot_base()
                start.append(np.array([*from_robot_frame(np.array([-0.35, 0.0]), base),
                                       base[2]]))
            return start[0]

        def retreat(s: Sim) -> np.ndarray:
            return s.tcp("right") - 0.12 * np.array([*heading(s.robot_base()[2]), 0.0])

        return Expert(pick_phases(obj, up) + [
            Navigate(back_off, tol=0.08, speed=0.8),
            Navigate(staging_pose, tol=0.06, speed=0.8, max_steps=200),
            Navigate(handover_pose, tol=0.03, speed=0.35, max_steps=100),
            Reach("right", handover_point, rot, tol=0.02, max_steps=60, speed=0.6),
            WaitUntil(lambda s: p.holding(obj), max_steps=40),
            Grip("right", -1.0, steps=10),
            Reach("right", retreat, rot, tol=0.03, max_steps=30, freeze=True),
        ])


@dataclass
class WaitUntil(Phase):
    """Hold still until ``check`` is true (or ``max_steps``)."""

    check: Callable[[Sim], bool]
    max_steps: int = 40

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        return Command(base=np.zeros(3)), self.check(sim)


def _offered(p: Person, pos: np.ndarray) -> bool:
    """An object is offered when it is held up in front of the person within arm's reach."""
    local = to_local(pos, np.array([*p.xy, 0.0]), yaw_matrix(p.yaw))
    within = np.linalg.norm(local - SHOULDER) < ARM_REACH + 0.02
    return bool(within and local[0] > 0.15 and local[2] > 0.9)


def _person_to_world(p: Person, local: np.ndarray) -> np.ndarray:
    """A point given in the person's frame (x forward, y left, z up from the floor)."""
    return from_robot_frame(local, np.array([*p.xy, p.yaw]))
