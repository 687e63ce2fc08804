"""Built-in reference policies: ``random``, ``noop`` and the scripted ``expert``.

``random`` and ``noop`` read only the :class:`~vla_bench.policies.base.PolicySpec`; the
``expert`` is registered as privileged and reads the env. They need no images, so they
declare ``cameras = ()``: the runner then skips rendering for
them unless told otherwise (about 3x faster, same episodes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError
from vla_bench.policies.base import PolicySpec


class _Bound:
    """Shared ``setup``: remember the episode's spec; fail clearly if ``act`` comes first."""

    cameras: tuple[str, ...] = ()
    _spec: PolicySpec | None = None

    def setup(self, spec: PolicySpec) -> None:
        """Read the action layout of this episode (the runner calls it after each reset)."""
        self._spec = spec

    def reset(self, instruction: str) -> None:
        """Nothing to remember between episodes."""

    def _need_spec(self) -> PolicySpec:
        if self._spec is None:
            raise ConfigError(f"{type(self).__name__} must be set up first (the runner calls "
                              "policy.setup(spec) after each reset; see "
                              "vla_bench.evaluation.episode.policy_spec)")
        return self._spec

    def num_parameters(self) -> int:
        """No learned parameters."""
        return 0


class RandomPolicy(_Bound):
    """Uniform random actions in ``[-scale, scale]``, seeded from the episode seed.

    Deterministic: the same episode seed gives the same action sequence, whatever worker
    runs it.
    """

    def __init__(self, scale: float = 1.0) -> None:
        if not 0.0 < float(scale) <= 1.0:
            raise ConfigError(f"random policy: scale must be in (0, 1], got {scale!r}")
        self.scale = float(scale)
        self._rng: np.random.Generator | None = None

    def seed(self, seed: int) -> None:
        """A fresh generator for this episode."""
        # A distinct stream from the env's own use of the same seed.
        self._rng = np.random.default_rng([int(seed), 0x5EED])

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        """A uniform sample."""
        spec = self._need_spec()
        if self._rng is None:
            raise ConfigError("random policy: call seed(episode_seed) before act()")
        return self._rng.uniform(-self.scale, self.scale, spec.action_shape).astype(np.float32)


class NoopPolicy(_Bound):
    """Hold still: zero velocity/delta on every dimension and grippers kept where they are.

    The gripper command is absolute (``+1`` closes), so a zero there would half-close an
    open gripper; instead each gripper dimension repeats the current opening read from
    ``obs["state"]``. In ``joint_pos`` mode the action is an absolute joint target, so zero
    is the middle of every joint range, not a hold: use this policy with ``ee_delta`` or
    ``base_only``.
    """

    def setup(self, spec: PolicySpec) -> None:
        """Find the gripper dimensions and their state entries."""
        super().setup(spec)
        layout, state = list(spec.action_layout), list(spec.state_layout)
        self._grippers = [(layout.index(f"{side}_gripper"), state.index(f"{side}_gripper_opening"))
                          for side in ("right", "left")
                          if f"{side}_gripper" in layout and f"{side}_gripper_opening" in state]

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        """Zeros, with the grippers holding their current opening."""
        action = np.zeros(self._need_spec().action_shape, np.float32)
        state = obs[cv.OBS_STATE]
        for a_idx, s_idx in self._grippers:
            action[a_idx] = 1.0 - 2.0 * float(state[s_idx])  # opening 1 (open) -> -1 (open)
        return action


class ExpertPolicy(_Bound):
    """The task's scripted expert (privileged: it reads the simulator state).

    This is the "traditional" controller of the comparison: motion planning/IK and a
    navigation planner over ground-truth poses, via ``env.unwrapped.expert_action()``. The
    registry lists it as privileged (``expert``, ``scripted``), so the runner binds it to the
    env; built from this class directly, it is not bound and says so.
    """

    _env: Any = None

    def bind(self, env: Any) -> None:
        """Keep the env: the expert plans from its state."""
        self._env = env.unwrapped

    def act(self, obs: dict[str, Any]) -> np.ndarray:
        """The expert's next action."""
        if self._env is None:
            raise ConfigError("ExpertPolicy reads the simulator, so it must be bound to the env "
                              "(policy.bind(env)); the runner does that only for policies "
                              "registered as privileged: run it by its name, 'expert'")
        return np.asarray(self._env.expert_action(), np.float32)

