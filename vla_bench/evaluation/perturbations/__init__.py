"""The robustness perturbation suite: named axes with levels, applied as Gymnasium wrappers
on the same episodes as the nominal run (spec §5, Robustness).

Groups and axes (levels, units and exact definitions in :data:`AXES` and each wrapper's
docstring):

* visual — ``image_noise``, ``lighting``, ``colors``, ``camera_pose``
* depth — ``depth_noise``, ``depth_dropout`` (0 marks an invalid pixel)
* language — ``paraphrase``, ``synonyms``, ``typos``, ``distractor_clause``
* sensor — ``proprio_noise``, ``latency``
* physical — ``mass``, ``friction``, ``push``
* scene — ``distractors`` (needs the env built with it: see :meth:`Axis.env_kwargs`)

How a runner uses it::

    axis = AXES["image_noise"]
    kwargs = merge_env_kwargs(base_kwargs, axis.env_kwargs(level))   # {} for most axes
    env = gym.make(env_id, **kwargs)                                   # cache per kwargs
    env = perturb(env, axis.name, level, seed)
    obs, info = env.reset(seed=seed)     # same task, layout and slots as nominal with `seed`
    ...
    env.close()     # or env.restore(): model edits are undone (they also are at every reset)

Guarantees: a wrapper never draws from the env's RNG (its Generator is seeded from the
axis, ``seed`` and the episode's reset seed, so reruns are identical and the levels of an axis
share their draws); info (success, safety, progress) is never altered — the language axes
show their rewrite in ``task_description``, and ``cameras`` reports the moved camera's true
pose under ``camera_pose``; model edits are undone at the next reset of the
env, wrapped or not, so one env object can serve every axis in turn. Wrap the vla_bench
observation dict (before wrappers such as ``LeRobotObservation`` that reshape it); to stack
axes, put the model-editing visual ones (``lighting``, ``colors``, ``camera_pose``) innermost.
"""

from __future__ import annotations

import gymnasium as gym

from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.evaluation.perturbations.axes import AXES, GROUPS, Axis, check_env, merge_env_kwargs
from vla_bench.evaluation.perturbations.base import PerturbationWrapper

NOMINAL = "nominal"


def get_axis(name: str) -> Axis:
    """The axis called ``name``; :class:`UnknownNameError` with close matches otherwise."""
    if name not in AXES:
        raise UnknownNameError("perturbation axis", name, AXES)
    return AXES[name]


def perturb(env: gym.Env, axis: str, level: float, seed: int) -> PerturbationWrapper:
    """Wrap ``env`` so its episodes are perturbed along ``axis`` at ``level``.

    Args:
        env: a vla_bench env (from ``gym.make``/``vla_bench.make``), built with
            ``get_axis(axis).env_kwargs(level)`` merged into its kwargs.
        axis: a key of :data:`AXES`.
        level: within the axis' bounds (see ``AXES[axis].levels`` for the defaults).
        seed: base seed of the wrapper's own randomness (combined with each reset's seed).

    Raises:
        UnknownNameError: unknown axis (with suggestions).
        ConfigError: bad level or seed, or an env that lacks what the axis acts on.
    """
    spec = get_axis(axis)
    value = spec.validate(level)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    check_env(env, spec)
    return spec.wrapper(env, value, seed)


def parse_label(label: str) -> tuple[str, float] | None:
    """``"image_noise:0.1"`` → ``("image_noise", 0.1)``; ``"nominal"`` → None."""
    if label == NOMINAL:
        return None
    name, sep, level = label.partition(":")
    if not sep:
        raise ConfigError(f"perturbation label {label!r} must be 'nominal' or '<axis>:<level>'")
    spec = get_axis(name)
    try:
        value = float(level)
    except ValueError:
        raise ConfigError(f"perturbation label {label!r} has a non-numeric level") from None
    return spec.name, spec.validate(int(value) if spec.integer and value.is_integer() else value)


__all__ = [
    "AXES",
    "GROUPS",
    "NOMINAL",
    "Axis",
    "PerturbationWrapper",
    "get_axis",
    "merge_env_kwargs",
    "parse_label",
    "perturb",
]
