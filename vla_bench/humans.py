"""Simulated people: scripted kinematic humans that walk, turn, gesture and hold objects.

A person is a set of mocap bodies moved once per control step by the task (from
:meth:`vla_bench.task.Task.advance`): the body ``name`` (legs, torso, head, left arm; its origin
on the floor between the feet, local +x the way the person faces), the right arm's two links
``{name}_upper_arm`` / ``{name}_forearm`` and the right hand ``{name}_hand`` (site
``{name}_palm``). Legs, torso, head and left arm collide with the robot, so touching a person is
a collision; the right arm and hand are visual only, so that a handover (the robot's gripper at
the person's hand) is not one, and a held object welded to the hand never fights a contact.

Nothing here draws random numbers: the task passes rng-derived targets, speeds and colours.
Person state lives in the simulator (mocap poses, weld activity) except the current gesture,
which the :class:`Person` object keeps: create one per person in ``initialize`` and keep it for
the episode.

A person is added in a task's ``build`` and so gets the task's name prefix like every other
element (``assist_person/alice_hand``); :class:`Person` resolves every name (its own bodies,
the held bodies, the hold welds) through the scoped :class:`~vla_bench.sim.Sim` it is given,
so tasks keep using short names, and it touches the simulation only through Sim helpers.

For experts of tasks with people, :class:`PeopleAwarePlanner` plans around them (a disc of
clearance per person on top of the layout's obstacles) and :func:`walk_costs` gives walking
distances over a planner grid.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.experts.navigation import Grid, GridPlanner
from vla_bench.geometry import heading, mat_to_quat, quat_yaw, to_local, wrap, yaw_matrix
from vla_bench.scene import compose as c
from vla_bench.scene.layout import Layout
from vla_bench.sim import Sim

GESTURES = ("idle", "hand_out", "wave", "work")
DT = 1.0 / cv.CONTROL_HZ
PARK_XY = (-40.0, -40.0)  # park spot, far outside every scene
PARK_Z = -5.0  # and below the floor (out of every camera)
HEIGHT = 1.72  # m, top of the head
SHOULDER = np.array([0.0, -0.21, 1.42])  # right shoulder in the person's frame
UPPER_ARM, FOREARM = 0.30, 0.30  # m, link lengths of the right arm
REACH = UPPER_ARM + FOREARM - 0.01
HAND_SPEED = 1.2  # m/s, fastest hand motion of a gesture
TURN_RATE = 3.0  # rad/s, fastest turn in place or while walking
ARRIVE_TOL = 0.03  # m
# Hand targets in the person's frame.
_HAND_IDLE = np.array([0.04, -0.25, 0.84])
_HAND_OUT = np.array([0.42, -0.16, 1.0])  # held out in front at ~1.0 m: "give it to me"
_HAND_WAVE = np.array([0.08, -0.32, 1.82])  # above the head, swinging sideways
WAVE_SWING = 0.12  # m, half amplitude of the wave's sideways swing
WAVE_PERIOD = 20  # control steps (1 s)
SITE_GROUP = 4  # guides and sites live in groups 3-5, which no camera draws
SKIN = (0.87, 0.70, 0.58, 1.0)
TROUSERS = (0.20, 0.22, 0.30, 1.0)
TROUSER_SHADE = 0.75  # trousers in the shirt's colour this much darker (see Person.set_shirt)
_NO_COLLIDE = {"contype": 0, "conaffinity": 0}
_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def add_person(
    spec: mujoco.MjSpec, name: str, *, shirt_rgba: Sequence[float] = (0.2, 0.4, 0.8, 1.0),
    holdable: Sequence[str] = (),
) -> None:
    """Add a person (parked below the floor) to a scene being built.

    Args:
        spec: the scene; every body in ``holdable`` must already be in it.
        name: body name of the person (also the prefix of its arm and hand bodies).
        shirt_rgba: torso and arm colour (recolour per episode with :meth:`Person.set_shirt`).
        holdable: bodies the person can take in the right hand: each gets an inactive weld
            equality ``{name}_holds_{body}`` between the hand and that body.
    """
    shirt = list(shirt_rgba)
    root = spec.worldbody.add_body(name=name, pos=[*PARK_XY, PARK_Z], mocap=True)
    for i, y in enumerate((0.1, -0.1)):
        c.capsule(root, f"{name}_leg_{i}", 0.075, 0.36, (0.0, y, 0.44), rgba=TROUSERS)
    c.capsule(root, f"{name}_torso", 0.17, 0.16, (0.0, 0.0, 1.15), rgba=shirt)
    c.box(root, f"{name}_hips", (0.11, 0.17, 0.08), (0.0, 0.0, 0.9), rgba=TROUSERS)
    c.sphere(root, f"{name}_head", 0.11, (0.0, 0.0, HEIGHT - 0.11), rgba=SKIN)
    c.sphere(root, f"{name}_hair", 0.105, (-0.02, 0.0, HEIGHT - 0.09), rgba=(0.2, 0.14, 0.1, 1),
             **_NO_COLLIDE)
    c.sphere(root, f"{name}_nose", 0.02, (0.105, 0.0, HEIGHT - 0.12), rgba=SKIN, **_NO_COLLIDE)
    c.capsule(root, f"{name}_left_arm", 0.045, 0.26, (0.02, 0.24, 1.14), rgba=shirt)
    for link, length in (("upper_arm", UPPER_ARM), ("forearm", FOREARM)):
        b = spec.worldbody.add_body(name=f"{name}_{link}", pos=[*PARK_XY, PARK_Z], mocap=True)
        # The link's origin is its proximal joint; it points along local +z.
        c.capsule(b, f"{name}_{link}", 0.045 if link == "upper_arm" else 0.04, length / 2,
                  (0.0, 0.0, length / 2), rgba=shirt if link == "upper_arm" else SKIN,
                  **_NO_COLLIDE)
    hand = spec.worldbody.add_body(name=f"{name}_hand", pos=[*PARK_XY, PARK_Z], mocap=True)
    c.sphere(hand, f"{name}_hand", 0.045, (0.0, 0.0, 0.0), rgba=SKIN, **_NO_COLLIDE)
    hand.add_site(name=f"{name}_palm", pos=[0.0, 0.0, 0.0], size=[0.01, 0.01, 0.01],
                  group=SITE_GROUP)
    for body in holdable:
        spec.add_equality(name=f"{name}_holds_{body}", type=mujoco.mjtEq.mjEQ_WELD,
                          objtype=mujoco.mjtObj.mjOBJ_BODY, name1=f"{name}_hand", name2=body,
                          active=False)


class Person:
    """Scripted control of one person added with :func:`add_person`.

    Every motion method moves the mocap bodies at once (they take effect on the next physics
    step); call at most one of :meth:`walk_toward` / :meth:`face` and then :meth:`step` per
    control step.

    ``sim`` is the task's scoped view: the person's bodies and hold welds are looked up by
    their short names through it (the env prefixes them with the task's name).
    """

    def __init__(self, sim: Sim, name: str) -> None:
        self.sim, self.name = sim, name
        # Body names of the root, the two arm links and the hand (all mocap).
        self._root, self._upper, self._fore, self._hand = (
            name + part for part in ("", "_upper_arm", "_forearm", "_hand"))
        for body in (self._root, self._upper, self._fore, self._hand):
            try:
                sim.mocap_pose(body)
            except ConfigError as exc:
                raise ConfigError(f"body {body!r} is not a person's mocap body; add the person "
                                  "with vla_bench.humans.add_person(spec, name)") from exc
        self._shirt = np.array([sim.geom_id(f"{name}_{g}")
                                for g in ("torso", "left_arm", "upper_arm")])
        self._trousers = np.array([sim.geom_id(f"{name}_{g}") for g in ("leg_0", "leg_1", "hips")])
        # Bodies this person can hold: one weld ``{name}_holds_{body}`` each (see add_person).
        hold = f"{name}_holds_"
        self._holdable = [e[len(hold):] for e in sim.equality_names() if e.startswith(hold)]
        self.gesture_kind = "idle"
        self.phase = 0
        self._reach = np.array([0.4, -0.2, 1.0])
        self._hand_local = _HAND_IDLE.copy()

    # -- pose ----------------------------------------------------------------------------
    @property
    def xy(self) -> np.ndarray:
        """Position on the floor ``(x, y)``."""
        return self.sim.mocap_pose(self._root)[0][:2]

    @property
    def yaw(self) -> float:
        """Facing direction (rad)."""
        return quat_yaw(self.sim.mocap_pose(self._root)[1])

    @property
    def hand_pos(self) -> np.ndarray:
        """World position of the right hand (the palm site)."""
        return self.sim.mocap_pose(self._hand)[0]

    @property
    def parked(self) -> bool:
        """Parked out of the scene (:meth:`park`)."""
        return bool(self.sim.mocap_pose(self._root)[0][2] < PARK_Z / 2)

    def place(self, xy: Sequence[float] | np.ndarray, yaw: float) -> None:
        """Stand at ``xy`` (on the ground) facing ``yaw``; the hand returns to the side."""
        self.gesture_kind, self.phase = "idle", 0
        self._hand_local = _HAND_IDLE.copy()
        self._set_root(np.asarray(xy, float)[:2], yaw)

    def park(self) -> None:
        """Move out of the scene (below the floor, far away) and drop anything held."""
        for body in self._held_bodies():
            self.release(body)
        self.sim.set_mocap_pose(self._root, np.array([*PARK_XY, PARK_Z]), quat=_IDENTITY)
        self._sync_arm()

    def set_shirt(self, rgba: Sequence[float], trousers: float | None = TROUSER_SHADE) -> None:
        """Recolour the shirt (torso and sleeves) and, unless ``trousers`` is ``None``, the
        trousers in the same colour darkened by that factor.

        Matching trousers matter to policies: from 1–2 m the robot's head camera sees a
        person's legs, not their torso, so an outfit named by its shirt colour must show on
        the legs too.
        """
        rgba = np.asarray(rgba, float)
        self.sim.set_rgba(self._shirt, rgba)
        if trousers is not None:
            self.sim.set_rgba(self._trousers, np.array([*(rgba[:3] * trousers), rgba[3]]))

    def _set_root(self, xy: np.ndarray, yaw: float) -> None:
        z = float(self.sim.ground_height(float(xy[0]), float(xy[1])))
        self.sim.set_mocap_pose(self._root, np.array([xy[0], xy[1], z]), yaw=yaw)
        self._sync_arm()

    # -- motion --------------------------------------------------------------------------
    def walk_toward(self, xy: Sequence[float] | np.ndarray, speed: float = 0.8) -> bool:
        """One control step of walking to ``xy``, turning to face the way; True on arrival.

        The person turns at up to ``TURN_RATE`` and walks forward at ``speed`` (m/s) scaled
        down while still turning, so paths curve like a person's instead of sliding sideways.
        """
        if speed <= 0:
            raise ConfigError(f"walking speed must be positive, got {speed}")
        goal = np.asarray(xy, float)[:2]
        pos, yaw = self.xy, self.yaw
        delta = goal - pos
        dist = float(np.linalg.norm(delta))
        if dist <= ARRIVE_TOL:
            self._set_root(goal, yaw)
            return True
        bearing = float(np.arctan2(delta[1], delta[0]))
        err = wrap(bearing - yaw)
        yaw = yaw + float(np.clip(err, -TURN_RATE * DT, TURN_RATE * DT))
        advance = min(dist, speed * DT) * max(0.0, float(np.cos(wrap(bearing - yaw))))
        pos = pos + advance * heading(yaw)
        if float(np.linalg.norm(goal - pos)) <= ARRIVE_TOL:
            self._set_root(goal, yaw)
            return True
        self._set_root(pos, yaw)
        return False

    def face(self, xy: Sequence[float] | np.ndarray) -> bool:
        """Turn in place towards ``xy`` (rate-limited); True once facing it (within 3°)."""
        delta = np.asarray(xy, float)[:2] - self.xy
        if float(np.linalg.norm(delta)) < 1e-6:
            return True
        err = wrap(float(np.arctan2(delta[1], delta[0])) - self.yaw)
        self._set_root(self.xy, self.yaw + float(np.clip(err, -TURN_RATE * DT, TURN_RATE * DT)))
        return abs(err) <= TURN_RATE * DT + np.radians(3)

    def gesture(self, kind: str) -> None:
        """Switch the right arm's gesture: one of :data:`GESTURES`."""
        if kind not in GESTURES:
            raise UnknownNameError("gesture", kind, GESTURES)
        if kind != self.gesture_kind:
            self.gesture_kind, self.phase = kind, 0

    def reach_to(self, point3: Sequence[float] | np.ndarray) -> None:
        """Where the hand goes in the ``"work"`` gesture (world point; clipped to arm reach)."""
        self._reach = np.asarray(point3, float)[:3].copy()

    def step(self) -> None:
        """Advance the gesture one control step: the hand moves (rate-limited) to its target."""
        self.phase += 1
        target = self._gesture_target()
        move = target - self._hand_local
        n = float(np.linalg.norm(move))
        limit = HAND_SPEED * DT
        self._hand_local = self._hand_local + (move if n <= limit else move * limit / n)
        self._sync_arm()

    def _gesture_target(self) -> np.ndarray:
        if self.gesture_kind == "hand_out":
            return _HAND_OUT.copy()
        if self.gesture_kind == "wave":
            swing = WAVE_SWING * np.sin(2 * np.pi * self.phase / WAVE_PERIOD)
            return _HAND_WAVE + np.array([0.0, swing, 0.0])
        if self.gesture_kind == "work":
            return self._to_local(self._reach)
        return _HAND_IDLE.copy()

    # -- holding ---------------------------------------------------------------------------
    def _weld(self, body: str) -> str:
        """Short name of the weld that holds ``body`` in the hand (checked to exist)."""
        if body not in self._holdable:
            raise ConfigError(f"{self.name!r} cannot hold {body!r}: list it in add_person(..., "
                              f"holdable=[{body!r}])")
        return f"{self.name}_holds_{body}"

    def _held_bodies(self) -> list[str]:
        return [b for b in self._holdable if self.sim.weld_active(self._weld(b))]

    def take(self, body: str) -> None:
        """Hold ``body`` in the right hand, at its current pose relative to the hand."""
        weld = self._weld(body)
        sim = self.sim
        # MuJoCo's weld holds body2's origin at ``relpos`` in body1's (the hand's) frame and
        # body2's orientation at hand * ``relquat``: fill both from the current poses, so the
        # constraint is satisfied at once and the object does not jump when it switches on.
        sim.forward_kinematics()
        r_hand = sim.body_mat(self._hand)
        rel_pos = to_local(sim.body_pos(body), sim.body_pos(self._hand), r_hand)
        rel_quat = mat_to_quat(r_hand.T @ sim.body_mat(body))
        sim.set_weld_relpose(weld, rel_pos, rel_quat)
        sim.set_weld(weld, True)

    def release(self, body: str) -> None:
        """Let go of ``body`` (it falls under gravity)."""
        self.sim.set_weld(self._weld(body), False)

    def holding(self, body: str) -> bool:
        """Whether the hand holds ``body``."""
        return self.sim.weld_active(self._weld(body))

    # -- kinematics --------------------------------------------------------------------------
    def _frame(self) -> tuple[np.ndarray, np.ndarray]:
        pos, quat = self.sim.mocap_pose(self._root)
        return pos, yaw_matrix(quat_yaw(quat))

    def _to_local(self, world: np.ndarray) -> np.ndarray:
        pos, rot = self._frame()
        return to_local(world, pos, rot)

    def _sync_arm(self) -> None:
        """Place hand, forearm and upper arm from the hand's target (two-link IK, elbow down)."""
        pos, rot = self._frame()
        shoulder_l = SHOULDER
        reach = self._hand_local - shoulder_l
        n = float(np.linalg.norm(reach))
        if n > REACH:  # out of reach: the hand stops at full stretch along the same line
            self._hand_local = shoulder_l + reach * REACH / n
            reach, n = self._hand_local - shoulder_l, REACH
        u = reach / max(n, 1e-6)
        # Elbow bends down and out to the right (the pole), like a relaxed human arm.
        pole = np.array([-0.2, -0.5, -1.0])
        pole = pole - (pole @ u) * u
        if float(np.linalg.norm(pole)) < 1e-6:
            pole = np.array([1.0, 0.0, 0.0]) - u[0] * u
        pole /= np.linalg.norm(pole)
        a = (UPPER_ARM**2 - FOREARM**2 + n**2) / (2 * max(n, 1e-6))
        h = float(np.sqrt(max(UPPER_ARM**2 - a**2, 0.0)))
        elbow_l = shoulder_l + a * u + h * pole
        shoulder, elbow = pos + rot @ shoulder_l, pos + rot @ elbow_l
        hand = pos + rot @ self._hand_local
        for body, start, end in ((self._upper, shoulder, elbow), (self._fore, elbow, hand)):
            q = np.empty(4)
            v = end - start
            mujoco.mju_quatZ2Vec(q, v / max(float(np.linalg.norm(v)), 1e-9))
            self.sim.set_mocap_pose(body, start, quat=q)
        self.sim.set_mocap_pose(self._hand, hand, quat=self.sim.mocap_pose(self._root)[1])


def block_people(grid: Grid, people_xy: np.ndarray | Sequence[Sequence[float]],
                 radius: float) -> Grid:
    """A copy of a planner grid with a disc of ``radius`` around each person blocked."""
    blocked = grid.blocked.copy()
    nx, ny = blocked.shape
    xs = grid.origin[0] + grid.res * np.arange(nx)
    ys = grid.origin[1] + grid.res * np.arange(ny)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    for xy in np.asarray(people_xy, float).reshape(-1, 2):
        blocked |= (gx - xy[0]) ** 2 + (gy - xy[1]) ** 2 < radius ** 2
    return Grid(blocked, grid.origin.copy(), grid.res)


class PeopleAwarePlanner(GridPlanner):
    """:class:`GridPlanner` that also keeps the pelvis ``clearance`` away from people.

    ``people(sim)`` gives the ``(k, 2)`` positions to avoid at planning time (re-plan as they
    move). Experts of social tasks plan on it, so a plan never takes the robot inside the
    human-proximity distance.
    """

    def __init__(self, layout: Layout, people: Callable[[Sim], np.ndarray], clearance: float,
                 **kwargs: object) -> None:
        super().__init__(layout, **kwargs)  # type: ignore[arg-type]
        self.people, self.clearance = people, clearance

    def grid(self, sim: Sim, margin: float | None = None) -> Grid:
        """The layout's grid with a disc of ``clearance`` around every person blocked."""
        return block_people(super().grid(sim, margin), self.people(sim), self.clearance)


def walk_costs(grid: Grid, start: np.ndarray) -> np.ndarray:
    """Shortest 8-connected walking distance (m) from ``start`` to every cell (inf: cut off)."""
    cost = np.full(grid.blocked.shape, np.inf)
    s = grid.nearest_free(grid.cell(start))
    if s is None:
        return cost
    cost[s] = 0.0
    heap = [(0.0, s)]
    moves = [(dx, dy, grid.res * float(np.hypot(dx, dy)))
             for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
    while heap:
        c, (i, j) = heapq.heappop(heap)
        if c > cost[i, j]:
            continue
        for dx, dy, step in moves:
            n = (i + dx, j + dy)
            if not grid.free(n) or (dx and dy and not (grid.free((i + dx, j))
                                                       and grid.free((i, j + dy)))):
                continue
            if c + step < cost[n]:
                cost[n] = c + step
                heapq.heappush(heap, (c + step, n))
    return cost
