"""What every perturbation wrapper shares: its own seeded RNG and an undo log of model edits.

Two rules make a perturbed episode comparable with the nominal one:

* A wrapper never draws from the env's RNG. Its randomness comes from a Generator seeded from
  ``(axis, perturb seed, episode seed)``, so ``reset(seed=s)`` gives the same task, layout and
  instruction slots as without the wrapper, and the same perturbation every time. The level is
  *not* part of the seed: the levels of one axis share their random draws (common random
  numbers), so a larger level scales the same noise pattern rather than drawing a new one.
* Model edits (lights, colours, cameras, masses, friction) are applied after the env's reset and
  recorded in a :class:`ModelEdits` undo log shared by every wrapper on the same env. The log is
  undone at the start of every reset of the env (through the randomizer's reset hook), on
  :meth:`PerturbationWrapper.restore` and on ``close()``, so the reused env object never carries
  one perturbation into the next episode, whether the next episode is wrapped or not.
"""

from __future__ import annotations

import weakref
import zlib
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError


def episode_rng(axis: str, seed: int, episode_seed: int | None, episode_index: int
                ) -> np.random.Generator:
    """The wrapper's Generator for one episode.

    ``episode_seed`` is the seed given to ``reset``; without one (``reset()`` continuing the
    env's stream) the episode's index since the wrapper was made stands in for it, in a
    separate branch of the seed tree so the two never collide.
    """
    tag = zlib.crc32(axis.encode())  # hash() is salted per process; crc32 is stable
    if episode_seed is None:
        entropy = [tag, seed, 1, episode_index]
    else:
        entropy = [tag, seed, 0, int(episode_seed)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


class ModelEdits:
    """Undo log of ``MjModel`` fields changed by perturbations on one env.

    ``set`` remembers the old values before writing; ``undo`` writes them back newest first,
    so overlapping edits unwind to the values the env itself had set for the episode.
    """

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self._log: list[tuple[str, Any, np.ndarray]] = []

    def field(self, name: str) -> np.ndarray:
        """A model array by dotted name, e.g. ``"geom_rgba"`` or ``"vis.headlight.diffuse"``."""
        obj: Any = self.model
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj

    def set(self, name: str, index: Any, value: np.ndarray | float) -> None:
        """Write ``model.<name>[index] = value``, remembering the previous values."""
        arr = self.field(name)
        self._log.append((name, index, np.array(arr[index], copy=True)))
        arr[index] = value

    def undo(self) -> None:
        """Put every edited field back, newest edit first."""
        while self._log:
            name, index, old = self._log.pop()
            self.field(name)[index] = old

    def __len__(self) -> int:
        return len(self._log)


_EDITS: weakref.WeakKeyDictionary[gym.Env, ModelEdits] = weakref.WeakKeyDictionary()


def model_edits(base: gym.Env) -> ModelEdits:
    """The undo log of an unwrapped env, created (and hooked into its reset) on first use."""
    edits = _EDITS.get(base)
    if edits is None:
        edits = _EDITS[base] = ModelEdits(base.model)  # type: ignore[attr-defined]
        hooks = getattr(getattr(base, "_randomizer", None), "reset_hooks", None)
        if hooks is not None:
            hooks.append(edits.undo)
    return edits


class PerturbationWrapper(gym.Wrapper):
    """Base of all perturbation wrappers: per-episode RNG, hooks for reset and step.

    Subclasses set ``axis`` and override any of :meth:`on_reset`, :meth:`before_step`,
    :meth:`on_step`. The ``level`` is already validated by :func:`perturb`.
    """

    axis: ClassVar[str]
    edits_model: ClassVar[bool] = False  # changes MjModel fields (undone at every reset)

    def __init__(self, env: gym.Env, level: float, seed: int) -> None:
        super().__init__(env)
        self.level = float(level)
        self.seed = int(seed)
        self.rng = episode_rng(self.axis, self.seed, None, 0)
        self._episodes = 0
        self._edits = model_edits(env.unwrapped) if self.edits_model else None

    @classmethod
    def not_applicable(cls, base: Any) -> str | None:
        """Why this axis cannot change any episode of the unwrapped env ``base``, or None.

        A condition that changes nothing would score as perfectly robust and pull the
        robustness score toward 1; the runner drops it from the plan and reports this reason.
        Only structural facts of the built env count (what exists in the model, the control
        mode), never the level.
        """
        return None

    # -- Gymnasium API -----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reset the env (the same episode as nominal), then perturb it."""
        self.rng = episode_rng(self.axis, self.seed, seed, self._episodes)
        self._episodes += 1
        if self._edits is not None:
            self._edits.undo()  # also done by the env's reset hook; kept for envs without one
        obs, info = self.env.reset(seed=seed, options=options)
        return self.on_reset(obs, info)

    def step(self, action: Any) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env with this axis' changes before and after."""
        self.before_step()
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self.on_step(obs, reward, terminated, truncated, info)

    def close(self) -> None:
        """Undo this env's model edits, then close the env."""
        self.restore()
        super().close()

    def restore(self) -> None:
        """Put the env back to nominal now (model edits, forces); the next reset reapplies."""
        if self._edits is not None:
            self._edits.undo()

    # -- hooks -------------------------------------------------------------------------------
    def on_reset(self, obs: dict[str, Any], info: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Perturb the episode just reset (draws come from ``self.rng``)."""
        return obs, info

    def before_step(self) -> None:
        """Act on the simulation before the env steps (forces)."""

    def on_step(self, obs: dict[str, Any], reward: SupportsFloat, terminated: bool,
                truncated: bool, info: dict[str, Any]
                ) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        """Perturb one step's output."""
        return obs, reward, terminated, truncated, info

    # -- helpers -----------------------------------------------------------------------------
    @property
    def base(self) -> Any:
        """The unwrapped :class:`~vla_bench.env.VLAEnv`."""
        return self.env.unwrapped

    def rerender(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        """Replace the images of a reset observation after a model edit that changes them.

        The env rendered its reset observation before the edit; the state and instruction are
        unchanged, so only the image keys are taken from a fresh render.
        """
        fresh = self.base._observation()  # noqa: SLF001 - the env's own observation assembly
        out = dict(obs)
        for key, value in fresh.items():
            if key.startswith((cv.OBS_RGB, cv.OBS_DEPTH)):
                out[key] = value
        if cv.INFO_CAMERAS in info:
            info[cv.INFO_CAMERAS] = self.base._camera_info()  # noqa: SLF001
        return out


class ObservationPerturbation(PerturbationWrapper):
    """A wrapper that transforms observations only (same transform at reset and every step)."""

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        """The perturbed copy of ``obs`` (never modify the input in place)."""
        raise NotImplementedError

    def on_reset(self, obs: dict[str, Any], info: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Perturb the reset observation."""
        return self.observation(obs), info

    def on_step(self, obs: dict[str, Any], reward: SupportsFloat, terminated: bool,
                truncated: bool, info: dict[str, Any]
                ) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        """Perturb the step observation; reward, flags and info are ground truth, untouched."""
        return self.observation(obs), reward, terminated, truncated, info


def image_keys(obs: dict[str, Any], prefix: str) -> list[str]:
    """Observation keys of every camera for ``prefix`` ``"rgb"`` or ``"depth"``."""
    return [k for k in obs if k == prefix or k.startswith(prefix + "_")]


def check_not_after_obs_perturbation(env: gym.Env, axis: str) -> None:
    """Model-editing axes re-render the reset images, so they must sit inside obs transforms."""
    inner = env
    while isinstance(inner, gym.Wrapper):
        if isinstance(inner, ObservationPerturbation):
            raise ConfigError(
                f"perturbation {axis!r} edits the model and re-renders the reset observation, "
                f"which would drop the {inner.axis!r} perturbation inside it; apply {axis!r} "
                f"first (innermost), then {inner.axis!r}")
        inner = inner.env
