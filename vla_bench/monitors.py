"""Episode monitors: state that accumulates over an episode, advanced by the env.

A task's ``evaluate`` must give the same answer however often it is called, so anything that
counts over time (steps dwelt at a goal, swings of a wave, the most a part was ever pushed)
lives in a monitor. The env calls :meth:`Monitor.reset` once after ``initialize`` and
:meth:`Monitor.update` exactly once per control step, after the physics step and before
``evaluate``; ``evaluate`` only reads the monitors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from vla_bench.sim import Sim


class Monitor(Protocol):
    """Anything with ``reset(sim)`` and ``update(sim)``."""

    def reset(self, sim: Sim) -> None:
        """Start of an episode (after the task's ``initialize``)."""

    def update(self, sim: Sim) -> None:
        """One control step has passed."""


class Dwell:
    """Consecutive control steps each of several conditions has held.

    ``test(sim)`` returns ``{key: holds_now}``; :meth:`steps` is how many consecutive updates
    (ending with the latest) ``key`` has held. A key missing from the mapping counts as false.
    """

    def __init__(self, keys: Iterable[str], test: Callable[[Sim], Mapping[str, bool]]) -> None:
        self.keys = tuple(keys)
        self.test = test
        self.counts = dict.fromkeys(self.keys, 0)

    def reset(self, sim: Sim) -> None:
        """Every count back to zero."""
        self.counts = dict.fromkeys(self.keys, 0)

    def update(self, sim: Sim) -> None:
        """Extend the run of every key that holds now; break the others."""
        now = self.test(sim)
        for key in self.keys:
            self.counts[key] = self.counts[key] + 1 if now.get(key, False) else 0

    def steps(self, key: str) -> int:
        """Consecutive steps ``key`` has held."""
        return self.counts[key]

    def reached(self, steps: int) -> list[str]:
        """Keys that have held for at least ``steps`` consecutive steps."""
        return [k for k in self.keys if self.counts[k] >= steps]


class Latch:
    """Whether a condition has held at any control step of the episode so far (and when)."""

    def __init__(self, test: Callable[[Sim], bool]) -> None:
        self.test = test
        self.value = False
        self.first_step: int | None = None
        self._steps = 0

    def reset(self, sim: Sim) -> None:
        """Not yet."""
        self.value, self.first_step, self._steps = False, None, 0

    def update(self, sim: Sim) -> None:
        """Latch on the first step the condition holds."""
        self._steps += 1
        if not self.value and self.test(sim):
            self.value, self.first_step = True, self._steps


class Peak:
    """The largest value a quantity has reached during the episode so far."""

    def __init__(self, measure: Callable[[Sim], float], initial: float = float("-inf")) -> None:
        self.measure = measure
        self.initial = initial
        self.value = initial

    def reset(self, sim: Sim) -> None:
        """Start from the value at reset (or ``initial`` if that is larger)."""
        self.value = max(self.initial, float(self.measure(sim)))

    def update(self, sim: Sim) -> None:
        """Keep the maximum."""
        self.value = max(self.value, float(self.measure(sim)))
