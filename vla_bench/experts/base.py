"""Scripted (traditional) experts: privileged state + IK + a navigation planner.

An expert is a list of phases run in order. Each phase turns a goal read from the simulator
(object poses, the task's episode goal) into actions in the env's own action layout, so the
expert drives the robot through exactly the interface a learned policy uses.

Phases are addressed by *label*, never by list index: ``Reach(...).named("approach")`` and
``Retry(check, to="approach")``. Inserting a phase cannot retarget a retry, and an unknown or
repeated label fails when the expert is built. When a retry jumps back, every phase from the
target on gets :meth:`Phase.reset`, and each phase resets its own state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from vla_bench.control.controller import (
    BASE_SCALE,
    EE_POS_SCALE,
    EE_ROT_SCALE,
    Controller,
)
from vla_bench.control.ik import orientation_error
from vla_bench.errors import ConfigError
from vla_bench.geometry import to_robot_frame, wrap
from vla_bench.robots.adapter import SIDES
from vla_bench.sim import Sim

__all__ = ["BASE_SCALE", "Command", "Controller", "Expert", "Grip", "Navigate", "Phase", "PosFn",
           "Reach", "Retry", "base_command", "grasp_rotation", "wrap"]

Vec = np.ndarray
PosFn = Callable[[Sim], Vec]


def grasp_rotation(pitch_down: float = 0.25) -> np.ndarray:
    """Robot-frame gripper rotation: approach forward tilted down, fingers closing sideways."""
    z = np.array([np.cos(pitch_down), 0.0, -np.sin(pitch_down)])
    y = np.array([0.0, 1.0, 0.0])
    return np.column_stack([np.cross(y, z), y, z])


@dataclass
class Command:
    """What a phase asks for this step (robot frame); ``None`` fields are held."""

    base: Vec | None = None  # (vx, vy, wz) normalised
    tcp: dict[str, tuple[Vec, np.ndarray]] = field(default_factory=dict)  # side -> (pos, rot)
    grip: dict[str, float] = field(default_factory=dict)  # side -> +1 close / -1 open
    speed: float = 1.0  # fraction of the maximum end-effector speed


_P = TypeVar("_P", bound="Phase")


class Phase:
    """One step of a plan. ``update`` returns the command and whether the phase is done.

    A phase with per-run state (a countdown, a frozen target, a planned path) clears it in
    :meth:`reset`, which the expert calls before the phase runs again after a retry.
    """

    max_steps = 150
    label: str | None = None

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:  # pragma: no cover
        raise NotImplementedError

    def reset(self) -> None:
        """Forget per-run state (default: none)."""

    def named(self: _P, label: str) -> _P:
        """Give this phase a label that :class:`Retry` can jump to; returns the phase."""
        self.label = label
        return self


def base_command(sim: Sim, goal: Vec, *, gain: float = 2.0) -> tuple[Vec, float]:
    """Normalised base velocity driving toward ``goal = (x, y, yaw)``; and the distance left."""
    base = sim.robot_base()
    x, y, yaw = base
    err_w = goal[:2] - np.array([x, y])
    err_r = to_robot_frame(goal[:2], base)
    v = np.clip(gain * err_r / BASE_SCALE[:2], -1.0, 1.0)
    wz = float(np.clip(gain * wrap(goal[2] - yaw) / BASE_SCALE[2], -1.0, 1.0))
    dist = float(np.linalg.norm(err_w)) + 0.3 * abs(wrap(goal[2] - yaw))
    return np.array([v[0], v[1], wz]), dist


@dataclass
class Navigate(Phase):
    """Drive the base through waypoints to a goal pose ``(x, y, yaw)`` (yaw ``nan`` = face travel)."""

    goal: Callable[[Sim], Vec]
    tol: float = 0.02
    planner: Callable[[Sim, Vec, Vec], list[Vec]] | None = None
    max_steps: int = 260
    speed: float = 1.0  # fraction of the maximum base speed (slower when carrying)
    _path: list[Vec] | None = None

    def reset(self) -> None:
        """Plan afresh next time."""
        self._path = None

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        goal = np.asarray(self.goal(sim), float)
        if self._path is None:
            start = sim.robot_base()
            self._path = self.planner(sim, start, goal) if self.planner else []
        while self._path and np.linalg.norm(self._path[0][:2] - sim.robot_base()[:2]) < 0.25:
            self._path.pop(0)
        if self._path:
            x, y, _ = sim.robot_base()
            wp = self._path[0]
            heading = np.arctan2(wp[1] - y, wp[0] - x)
            cmd, _ = base_command(sim, np.array([wp[0], wp[1], heading]))
            # Turn toward the waypoint before driving fast (a humanoid walks forward).
            turn = abs(wrap(heading - sim.robot_base()[2]))
            cmd[:2] *= max(0.0, 1.0 - turn / 0.8)
            return Command(base=cmd * self.speed), False
        cmd, dist = base_command(sim, goal)
        return Command(base=cmd * self.speed), dist < self.tol


@dataclass
class Reach(Phase):
    """Move one gripper's TCP to a world position with a robot-frame orientation."""

    side: str
    target: PosFn
    rot: np.ndarray
    tol: float = 0.012
    max_steps: int = 80
    freeze: bool = False  # evaluate the target once (e.g. "lift 12 cm from where it is now")
    speed: float = 1.0
    _frozen: Vec | None = None
    _offset: Vec = field(default_factory=lambda: np.zeros(3))

    def reset(self) -> None:
        """Re-read a frozen target and drop the integral correction."""
        self._frozen = None
        self._offset = np.zeros(3)

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        if self.freeze and self._frozen is None:
            self._frozen = np.asarray(self.target(sim), float)
        world = self._frozen if self._frozen is not None else np.asarray(self.target(sim), float)
        miss = world - sim.tcp(self.side)
        # Integral correction on the measured TCP: joint servos sag under load and contact,
        # so the commanded point is shifted until the real TCP arrives.
        if np.linalg.norm(miss) < 0.06:
            self._offset = np.clip(self._offset + 0.3 * miss, -0.05, 0.05)
        pos_r = sim.to_robot_frame(world + self._offset)
        return Command(base=np.zeros(3), tcp={self.side: (pos_r, self.rot)}, speed=self.speed), \
            float(np.linalg.norm(miss)) < self.tol


@dataclass
class Approach(Reach):
    """A :class:`Reach` whose integral correction is capped at ``max_offset``.

    A slow final approach spends many steps within the integral's 6 cm window, and the
    wound-up offset carries the hand ~2 cm past the target once the phase ends, shoving the
    object (or drawer) ahead of the closing fingers. Capping it keeps the sag correction.
    """

    max_offset: float = 0.008

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        self._offset = np.clip(self._offset, -self.max_offset, self.max_offset)
        return super().update(sim, ctrl)


@dataclass
class Grip(Phase):
    """Close (``+1``) or open (``-1``) a gripper and wait for the fingers to settle."""

    side: str
    value: float
    steps: int = 12
    max_steps: int = 12
    _done: int = 0

    def reset(self) -> None:
        """Wait the full ``steps`` again."""
        self._done = 0

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        self._done += 1
        return Command(base=np.zeros(3), grip={self.side: self.value}), self._done >= self.steps


@dataclass
class Retry(Phase):
    """If ``check`` fails, open the gripper (unless ``release`` is off: e.g. re-seating a tool
    still held) and jump back to the phase labelled ``to``.

    At most ``times`` jumps per episode: the budget is not refilled by :meth:`reset` (a
    retry that jumps back over itself would otherwise loop for ever).
    """

    check: Callable[[Sim], bool]
    to: str
    side: str = "right"
    times: int = 2
    release: bool = True
    max_steps: int = 1
    jump: str | None = None
    _used: int = 0

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        self.jump = None
        if not self.check(sim) and self._used < self.times:
            self._used += 1
            self.jump = self.to
            return Command(base=np.zeros(3), grip={self.side: -1.0} if self.release else {}), True
        return Command(base=np.zeros(3)), True


class Expert:
    """Runs phases in order and converts each command into an action for ``control_mode``."""

    def __init__(self, phases: Sequence[Phase]) -> None:
        self.phases = list(phases)
        self.labels: dict[str, int] = {}
        for i, phase in enumerate(self.phases):
            if phase.label is None:
                continue
            if phase.label in self.labels:
                raise ConfigError(f"expert phase label {phase.label!r} is used twice")
            self.labels[phase.label] = i
        for phase in self.phases:
            if isinstance(phase, Retry) and phase.to not in self.labels:
                raise ConfigError(f"Retry jumps to unknown phase label {phase.to!r}; "
                                  f"labels: {sorted(self.labels)}")
        self.index = 0
        self.phase_steps = 0
        self.grip = {side: -1.0 for side in SIDES}
        self.hold_tcp: dict[str, tuple[Vec, np.ndarray]] = {}
        self.speed = 1.0

    def _rearm(self, start: int) -> None:
        """Reset the per-run state of phases that will run again after a retry."""
        for phase in self.phases[start:]:
            phase.reset()

    @property
    def done(self) -> bool:
        """All phases finished."""
        return self.index >= len(self.phases)

    def act(self, sim: Sim, ctrl: Controller, mode: str) -> np.ndarray:
        """The next action."""
        cmd = Command(base=np.zeros(3))
        while not self.done:
            phase = self.phases[self.index]
            cmd, finished = phase.update(sim, ctrl)
            self.phase_steps += 1
            if finished or self.phase_steps >= phase.max_steps:
                jump = getattr(phase, "jump", None)
                self.index = self.labels[jump] if jump is not None else self.index + 1
                self.phase_steps = 0
                if jump is not None:
                    self._rearm(self.index)
            break
        self.grip.update(cmd.grip)
        self.speed = cmd.speed
        for side, target in cmd.tcp.items():
            self.hold_tcp[side] = target
        return self._to_action(cmd, ctrl, mode)

    def _to_action(self, cmd: Command, ctrl: Controller, mode: str) -> np.ndarray:
        base = cmd.base if cmd.base is not None else np.zeros(3)
        if mode == "base_only":
            return base.astype(np.float32)
        if mode != "ee_delta":
            raise ValueError(f"scripted experts drive ee_delta or base_only, not {mode!r}")
        parts = [base]
        for side in SIDES:
            delta = np.zeros(6)
            if side in self.hold_tcp:
                pos, rot = self.hold_tcp[side]
                step = (pos - ctrl.ee_pos[side]) / EE_POS_SCALE
                norm = float(np.linalg.norm(step))
                delta[:3] = step * min(1.0, self.speed / norm) if norm > 0 else step
                delta[3:] = orientation_error(rot, ctrl.ee_rot[side]) / EE_ROT_SCALE
            parts.append(np.clip(delta, -1.0, 1.0))
            parts.append([self.grip[side]])
        return np.concatenate(parts).astype(np.float32)
