"""The task interface: ``build`` (scene structure), ``initialize`` (episode), ``evaluate``.

A task is one small file: a :class:`Task` subclass whose docstring is its *card*
(Description / Randomisation / Success / Failure / Safety / Alternatives / Version history),
registered with :func:`vla_bench.registry.register_task`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import mujoco
import numpy as np

from vla_bench.language import Templates

if TYPE_CHECKING:
    from vla_bench.experts.base import Expert
    from vla_bench.scene.layout import Layout
    from vla_bench.sim import Sim


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

    name: ClassVar[str]  # CamelCase, used in ids: VLA-<Domain>-<name>-v1
    domain: ClassVar[str]  # kitchen | workshop | office | outdoor
    family: ClassVar[str]  # manipulation | navigation | social
    max_episode_steps: ClassVar[int]
    templates: ClassVar[Templates]
    control_modes: ClassVar[tuple[str, ...]] = ("ee_delta", "joint_pos", "base_only")

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.instruction = ""

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

    @classmethod
    def card(cls) -> str:
        """The task card (class docstring)."""
        return (cls.__doc__ or "").strip()
