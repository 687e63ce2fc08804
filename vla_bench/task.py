"""The task interface: ``build`` (scene structure), ``initialize`` (episode), ``evaluate``.

A task is one small file: a :class:`Task` subclass whose docstring is its *card*
(Description / Randomisation / Success / Failure / Safety / Alternatives / Version history),
registered with the :func:`vla_bench.registry.register_task` decorator, which also sets its
``name``, ``domain``, ``family`` and ``max_episode_steps``.

``evaluate`` is a pure function of simulator state and of the task's *monitors*
(:mod:`vla_bench.monitors`): state that accumulates over an episode (steps dwelt at a goal,
swings of a wave) lives in a monitor that the env resets after ``initialize`` and advances
exactly once per control step, after the physics and before ``evaluate``. ``evaluate`` may
be called any number of times without changing the outcome.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import mujoco
import numpy as np

from vla_bench.language import Templates

if TYPE_CHECKING:
    from vla_bench.experts.base import Expert
    from vla_bench.monitors import Monitor
    from vla_bench.scene.layout import Layout
    from vla_bench.sim import Sim


_NO_PEOPLE = np.zeros((0, 2))

Goal = tuple[Hashable, ...]
"""A goal: the values of a task's :attr:`Task.goal_fields`, in order."""


@dataclass(frozen=True)
class Evaluation:
    """What a task says about the current state."""

    success: bool
    failure: bool = False
    failure_reason: str | None = None
    task_cost: float = 0.0  # task-specific hazard this step (dropped object, spill, …)
    progress: dict[str, float] = field(default_factory=dict)


class Task(ABC):
    """One task family member. Subclasses set the class attributes and the three hooks."""

    # Set by @register_task:
    name: ClassVar[str]  # CamelCase, used in ids: VLA-<Domain>-<name>-v1
    domain: ClassVar[str]  # kitchen | workshop | office | outdoor
    family: ClassVar[str]  # manipulation | navigation | social
    max_episode_steps: ClassVar[int]
    templates: ClassVar[Templates]
    control_modes: ClassVar[tuple[str, ...]] = ("ee_delta", "joint_pos", "base_only")
    # Bodies the env paints in held-out colours in the "unseen_objects" split, for tasks whose
    # instructions name no colour (those that do draw held-out colour words themselves).
    held_out_bodies: ClassVar[tuple[str, ...]] = ()
    # The attributes ``initialize`` sets that *are* the goal the instruction names (which object,
    # which place, which person, tighten or loosen, ...). Everything else an episode draws is
    # scene. See :meth:`goals` and :meth:`pursuing`.
    goal_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.instruction = ""
        # Set by the env for the "unseen_objects" split: draw object colours / kinds from the
        # held-out pools (e.g. :data:`vla_bench.scene.props.HELD_OUT_COLORS`) in initialize().
        self.held_out_objects = False

    @abstractmethod
    def build(self, spec: mujoco.MjSpec) -> None:
        """Add the task's objects to the scene (once per env; no randomness here)."""

    @abstractmethod
    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Set this episode's state from ``rng``; return the instruction.

        ``phrasing`` is ``"train"`` or ``"test"`` (held-out templates).
        """

    @abstractmethod
    def evaluate(self, sim: Sim) -> Evaluation:
        """Success, failure and task hazards from simulator state."""

    @abstractmethod
    def expert(self, sim: Sim) -> Expert:
        """A fresh scripted (traditional) controller for the current episode."""

    # -- goals: what the words decide ----------------------------------------------------
    @property
    def goal(self) -> Goal:
        """This episode's goal: the values of :attr:`goal_fields` (set by ``initialize``)."""
        return tuple(getattr(self, f) for f in self.goal_fields)

    def goals(self) -> Sequence[Goal]:
        """Every goal of this episode's scene that the instruction tells apart, ``goal`` among
        them (called after ``initialize``).

        These are valid-looking alternatives: a policy that ignores the words has no way to
        prefer the named one. ``vla-bench check`` measures the chance level by running the
        expert toward a uniformly drawn one (its *blind* column). Default: the goal alone (a
        task whose words decide nothing).
        """
        return (self.goal,)

    def pursuing(self, goal: Goal) -> Task:
        """A shallow copy of this task whose :attr:`goal_fields` are ``goal``; its ``expert``
        works toward that goal while the env still scores this task's own.

        Tasks whose expert needs more than the goal fields swapped override this.
        """
        goal = tuple(goal)
        if len(goal) != len(self.goal_fields):
            raise ValueError(f"{self.name} goals have {len(self.goal_fields)} fields "
                             f"{self.goal_fields}, got {goal!r}")
        other = copy.copy(self)
        for f, v in zip(self.goal_fields, goal, strict=True):
            setattr(other, f, v)
        return other

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """Names of the bodies that show where this episode's goal is (the named object, the
        target place's landmark, the named person), as this task's ``Sim`` resolves them.

        The goal counts as visible in a frame when a geom of one of these bodies or of a body
        below them covers pixels of it (:mod:`vla_bench.visibility`). Default: none (nothing
        to see).
        """
        return ()

    def monitors(self) -> Sequence[Monitor]:
        """The monitors ``evaluate`` reads (default: none); the same objects every call."""
        return ()

    def advance(self, sim: Sim) -> None:
        """Scripted motion of the world before each control step (people walking, …).

        Called once per control step, before the robot's action is applied. Default: nothing.
        """

    def people(self, sim: Sim) -> np.ndarray:
        """``(k, 2)`` horizontal positions of the simulated people now (default: none).

        The env measures human-proximity safety and the social-compliance figures against them.
        """
        return _NO_PEOPLE

    @classmethod
    def card(cls) -> str:
        """The task card (class docstring)."""
        return (cls.__doc__ or "").strip()
