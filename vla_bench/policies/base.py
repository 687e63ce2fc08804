"""The policy protocol: what the evaluator calls, and what a policy may return.

A policy is any object with ``reset(instruction)`` and ``act(obs)`` (structural typing: torch
modules, remote clients and scripted experts all qualify without a base class). Per episode
the runner calls, in this order::

    obs, info = env.reset(seed=seed)
    policy.bind(env)           # optional: privileged policies (the expert) read env.unwrapped;
                               # others may read env.action_space / env.unwrapped.action_layout
    policy.seed(seed)          # optional: stochastic policies re-seed from the episode seed
    policy.reset(instruction)
    loop: out = policy.act(obs) -> np.ndarray | PolicyOutput
    policy.episode_confidence() # optional, at the end: per-episode success probability

Action chunks: when ``act`` returns a :class:`PolicyOutput` with ``action_chunk`` (``[H, A]``),
the runner executes the H rows **open loop**, one per control step, and calls ``act`` again only
after the chunk is used up (or the episode ends). The observations in between are not shown
to the policy. ``num_parameters()`` (optional) is reported with the run's compute figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from vla_bench.errors import VlaBenchError


class PolicyError(VlaBenchError, ValueError):
    """A policy returned something the evaluator cannot execute (bad output, bad confidence)."""


@dataclass(frozen=True)
class PolicyOutput:
    """What ``act`` may return instead of a bare action.

    Attributes:
        action: the action for this step (``[A]``). May be ``None`` when ``action_chunk`` is
            given: it then defaults to the chunk's first row.
        confidence: the policy's probability that the episode will succeed, in ``[0, 1]``
            (per step; used for calibration). ``None``: not reported.
        action_chunk: ``[H, A]`` actions for this step and the next ``H - 1`` steps, executed
            open loop. Its first row is this step's action.
    """

    action: np.ndarray | None
    confidence: float | None = None
    action_chunk: np.ndarray | None = None

    def __post_init__(self) -> None:
        chunk = self.action_chunk
        if chunk is not None:
            chunk = np.asarray(chunk, dtype=np.float32)
            if chunk.ndim != 2 or chunk.shape[0] < 1:
                raise PolicyError(f"action_chunk must have shape [H, A] with H >= 1, got "
                                  f"{chunk.shape}")
            object.__setattr__(self, "action_chunk", chunk)
            if self.action is None:
                object.__setattr__(self, "action", chunk[0])
            elif not np.array_equal(np.asarray(self.action, np.float32), chunk[0]):
                raise PolicyError("PolicyOutput.action differs from action_chunk[0]; the chunk "
                                  "starts at this step (pass action=None to use the chunk's "
                                  "first row)")
        elif self.action is None:
            raise PolicyError("PolicyOutput needs an action or an action_chunk")
        if self.confidence is not None:
            value = float(self.confidence)
            if not (np.isfinite(value) and 0.0 <= value <= 1.0):
                raise PolicyError(f"confidence must be a success probability in [0, 1], got "
                                  f"{self.confidence!r}")
            object.__setattr__(self, "confidence", value)

    @property
    def actions(self) -> np.ndarray:
        """The ``[H, A]`` actions to execute (``H == 1`` without a chunk)."""
        if self.action_chunk is not None:
            return self.action_chunk
        return np.asarray(self.action, dtype=np.float32)[None]


@runtime_checkable
class Policy(Protocol):
    """A policy the evaluator can run. Optional hooks: ``bind``, ``seed``,
    ``episode_confidence``, ``num_parameters`` (see the module docstring)."""

    def reset(self, instruction: str) -> None:
        """Start an episode with this natural-language instruction."""

    def act(self, obs: dict[str, Any]) -> np.ndarray | PolicyOutput:
        """The action (or a :class:`PolicyOutput`) for this observation."""


def as_output(result: Any) -> PolicyOutput:
    """Normalise what ``act`` returned to a :class:`PolicyOutput`."""
    if isinstance(result, PolicyOutput):
        return result
    if result is None:
        raise PolicyError("act() returned None; return an action array or a PolicyOutput")
    return PolicyOutput(action=np.asarray(result))
