"""The policy protocol: what the evaluator calls, and what a policy may return.

A policy is any object with ``reset(instruction)`` and ``act(obs)`` (structural typing: torch
modules, remote clients and scripted experts all qualify without a base class). Per episode
the runner calls, in this order::

    obs, info = env.reset(seed=seed)          # the runner keeps env and info to itself
    policy.setup(spec)         # optional: a PolicySpec (action layout, cameras, control rate)
    policy.bind(env)           # ONLY for policies registered as privileged (the expert)
    policy.seed(seed)          # optional: stochastic policies re-seed from the episode seed
    policy.reset(instruction)  # the instruction is also obs["instruction"]
    loop: out = policy.act(obs) -> np.ndarray | PolicyOutput
    policy.episode_confidence() # optional post-episode hook; recorded, never scored

No privileged channel: a policy that is not *registered* as privileged
(``register_policy(..., privileged=True)``; a policy cannot declare it itself) sees only the
observations and the :class:`PolicySpec`: never the env, ``env.unwrapped``, ``expert_action``
or ``info``. Reports show whether a run was privileged.

Confidence for calibration is what the policy reported *before the outcome was known*: the
``confidence`` of its ``PolicyOutput``s (the last one is the episode's). ``episode_confidence()``
is asked after the episode ended, so its answer is kept in the record for information only.

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
class CameraSpec:
    """One camera of the observation, as a policy may know it (no world pose).

    Attributes:
        name: the camera (``head``, ``wrist_right``, ...).
        rgb_key / depth_key: its observation keys (``rgb``/``depth`` for the first camera).
        height / width: image size in pixels.
        intrinsics: 3x3 OpenCV pinhole matrix (pixels).
        extrinsics: 4x4 camera-to-robot transform (OpenCV axes) at reset. The robot frame is
            the one of ``obs["state"]``'s TCP positions: origin below the pelvis, x forward
            along its heading, z up.
    """

    name: str
    rgb_key: str
    depth_key: str
    height: int
    width: int
    intrinsics: tuple[tuple[float, ...], ...]
    extrinsics: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class PolicySpec:
    """What a non-privileged policy is told about the episode besides its observations.

    Attributes:
        action_layout: the name of each action dimension (``len`` = action size).
        action_low / action_high: bounds of every action dimension.
        state_layout: the name of each entry of ``obs["state"]``.
        control_mode: ``ee_delta``, ``joint_pos`` or ``base_only``.
        control_hz: control steps per second.
        cameras: the observation's cameras, in order.
    """

    action_layout: tuple[str, ...]
    action_low: float
    action_high: float
    state_layout: tuple[str, ...]
    control_mode: str
    control_hz: float
    cameras: tuple[CameraSpec, ...] = ()

    @property
    def action_shape(self) -> tuple[int]:
        """``(A,)``: the shape of one action."""
        return (len(self.action_layout),)


@dataclass(frozen=True)
class PolicyOutput:
    """What ``act`` may return instead of a bare action.

    Attributes:
        action: the action for this step (``[A]``). May be ``None`` when ``action_chunk`` is
            given: it then defaults to the chunk's first row.
        confidence: the policy's probability that the episode will succeed, in ``[0, 1]``,
            reported with this action, before its outcome is known; the last one reported in
            an episode is that episode's calibration figure. ``None``: not reported.
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
    """A policy the evaluator can run. Optional hooks: ``setup``, ``seed``,
    ``episode_confidence``, ``num_parameters``; ``bind`` for registered privileged policies
    only (see the module docstring)."""

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
