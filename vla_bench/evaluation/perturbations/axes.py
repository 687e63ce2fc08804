"""The registry of perturbation axes: name, group, meaning of the level, default levels."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError
from vla_bench.evaluation.perturbations import depth, language, physical, scene, sensor, visual
from vla_bench.evaluation.perturbations.base import PerturbationWrapper

GROUPS = ("visual", "depth", "language", "sensor", "physical", "scene", "control")
# Language controls replace the instruction instead of perturbing it: they measure how much
# the words matter (the language gain), not robustness, and stay out of the robustness score.
CONTROL_GROUP = "control"


@dataclass(frozen=True)
class Axis:
    """One perturbation axis.

    Attributes:
        name: registry key, used in records as ``"<name>:<level>"``.
        group: one of :data:`GROUPS`.
        description: what the level means, with units.
        units: unit of the level.
        levels: default (low, medium, high) levels, mild to severe.
        bounds: inclusive range of valid levels.
        nominal: the level that leaves the episode unchanged (not in ``levels``).
        integer: levels must be whole numbers.
        needs: observation keys the axis acts on; the env must produce them.
        domains: domains where the axis can act (None: all).
        wrapper: the wrapper class.
        env_knob: the env's ``randomize`` knob this axis needs at construction (None: none).
    """

    name: str
    group: str
    description: str
    units: str
    levels: tuple[float, ...]
    bounds: tuple[float, float]
    nominal: float
    wrapper: type[PerturbationWrapper]
    integer: bool = False
    needs: tuple[str, ...] = ()
    domains: tuple[str, ...] | None = None
    env_knob: str | None = None

    def validate(self, level: Any) -> float:
        """``level`` as a float, or :class:`ConfigError` saying what is allowed."""
        lo, hi = self.bounds
        what = f"{'an integer' if self.integer else 'a number'} in [{lo:g}, {hi:g}] ({self.units})"
        if isinstance(level, bool) or not isinstance(level, (int, float)):
            raise ConfigError(f"level of {self.name!r} must be {what}, got {level!r}")
        value = float(level)
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ConfigError(f"level of {self.name!r} must be {what}, got {level!r}; "
                              f"default levels: {list(self.levels)}")
        if self.integer and value != int(value):
            raise ConfigError(f"level of {self.name!r} must be {what}, got {level!r}")
        return value

    def env_kwargs(self, level: float) -> dict[str, Any]:
        """Env constructor kwargs this axis needs at ``level`` (``{}`` for wrapper-only axes).

        The runner builds the env with them, then wraps it::

            env = gym.make(env_id, **merge_env_kwargs(base_kwargs, axis.env_kwargs(level)))
            env = perturb(env, axis.name, level, seed)
        """
        level = self.validate(level)
        return {} if self.env_knob is None else {"randomize": {self.env_knob: level}}

    def supports(self, domain: str) -> bool:
        """Whether the axis can act in envs of ``domain``."""
        return self.domains is None or domain in self.domains

    def not_applicable(self, env: gym.Env) -> str | None:
        """Why this axis cannot change any episode of ``env`` (a built env), or None.

        Structural, level-independent: e.g. ``mass`` without free objects. Such conditions
        are dropped from a run's plan and reported, since a no-op scores as perfect
        robustness (see :func:`not_applicable`).
        """
        return self.wrapper.not_applicable(env.unwrapped)

    def label(self, level: float) -> str:
        """The record's ``perturbation`` string, e.g. ``"image_noise:0.1"``."""
        return f"{self.name}:{self.validate(level):g}"


def _axis(wrapper: type[PerturbationWrapper], group: str, units: str,
          levels: tuple[float, ...], bounds: tuple[float, float], nominal: float = 0.0,
          **extra: Any) -> Axis:
    doc = " ".join((wrapper.__doc__ or "").split())
    return Axis(name=wrapper.axis, group=group, description=doc, units=units, levels=levels,
                bounds=bounds, nominal=nominal, wrapper=wrapper, **extra)


RGB, DEPTH = (cv.OBS_RGB,), (cv.OBS_DEPTH,)
_ALL = (
    _axis(visual.ImageNoise, "visual", "std / 255", (0.02, 0.05, 0.1), (0.0, 1.0), needs=RGB),
    _axis(visual.Lighting, "visual", "strength", (0.25, 0.5, 1.0), (0.0, 1.0), needs=RGB),
    _axis(visual.Colors, "visual", "strength", (0.25, 0.5, 1.0), (0.0, 1.0), needs=RGB),
    _axis(visual.CameraPose, "visual", "strength (1 = 5 cm, 10 deg)", (0.25, 0.5, 1.0),
          (0.0, 1.0), needs=RGB),
    _axis(depth.DepthNoise, "depth", "m and relative std", (0.01, 0.03, 0.1), (0.0, 0.5),
          needs=DEPTH),
    _axis(depth.DepthDropout, "depth", "fraction of pixels", (0.05, 0.2, 0.5), (0.0, 1.0),
          needs=DEPTH),
    _axis(language.Paraphrase, "language", "probability per episode", (0.25, 0.5, 1.0),
          (0.0, 1.0), needs=(cv.OBS_INSTRUCTION,)),
    _axis(language.Synonyms, "language", "probability per phrase", (0.25, 0.5, 1.0),
          (0.0, 1.0), needs=(cv.OBS_INSTRUCTION,)),
    _axis(language.Typos, "language", "probability per letter", (0.02, 0.05, 0.1),
          (0.0, 0.5), needs=(cv.OBS_INSTRUCTION,)),
    _axis(language.DistractorClause, "language", "clauses", (1, 2, 3), (0, 3), integer=True,
          needs=(cv.OBS_INSTRUCTION,)),
    _axis(sensor.ProprioNoise, "sensor", "std in state units", (0.01, 0.03, 0.1), (0.0, 1.0),
          needs=(cv.OBS_STATE,)),
    _axis(sensor.Latency, "sensor", "control steps (50 ms)", (1, 2, 4), (0, 20), integer=True),
    _axis(physical.Mass, "physical", "mass factor", (1.5, 2.0, 3.0), (0.1, 10.0), nominal=1.0),
    _axis(physical.Friction, "physical", "friction factor", (0.7, 0.5, 0.3), (0.05, 2.0),
          nominal=1.0),
    _axis(physical.Push, "physical", "N on the carried base (0.1 x level on a free pelvis)",
          (600.0, 1000.0, 1400.0), (0.0, 5000.0)),
    _axis(language.ShuffledInstruction, CONTROL_GROUP, "probability per episode", (1.0,),
          (0.0, 1.0), needs=(cv.OBS_INSTRUCTION,)),
    _axis(language.BlankInstruction, CONTROL_GROUP, "probability per episode", (1.0,),
          (0.0, 1.0), needs=(cv.OBS_INSTRUCTION,)),
    _axis(scene.Distractors, "scene", "strength (props = round(4 level))", (0.25, 0.5, 1.0),
          (0.0, 1.0), domains=scene.DISTRACTOR_DOMAINS, env_knob="distractors"),
)
AXES: dict[str, Axis] = {a.name: a for a in _ALL}


# Axes whose wrapper overrides ``not_applicable`` (compared by function: a classmethod gives a
# new bound method at every access).
STRUCTURAL_AXES = tuple(
    a.name for a in _ALL
    if a.wrapper.not_applicable.__func__ is not PerturbationWrapper.not_applicable.__func__)


def not_applicable(axis: str, env_id: str, env_kwargs: Mapping[str, Any]) -> str | None:
    """Why ``axis`` cannot act on the env ``env_id`` built with ``env_kwargs``, or None.

    Only the axes with a structural check (:data:`STRUCTURAL_AXES`: ``mass``, ``friction``)
    build the env, once per ``(env_id, env_kwargs)`` in this process; every other axis answers
    None at once.
    """
    if axis not in STRUCTURAL_AXES:
        return None
    return _structural_reasons(env_id, _kwargs_key(env_kwargs)).get(axis)


def _kwargs_key(env_kwargs: Mapping[str, Any]) -> str:
    import json

    # Images do not change the model: building without cameras is faster and gives the same
    # answer.
    kept = {k: v for k, v in env_kwargs.items() if k not in ("cameras", "image_size",
                                                               "render_mode")}
    return json.dumps(kept, sort_keys=True, default=str)


@functools.lru_cache(maxsize=64)
def _structural_reasons(env_id: str, kwargs_key: str) -> dict[str, str]:
    import json

    from vla_bench.registry import make_from_config

    kwargs = dict(json.loads(kwargs_key))
    kwargs["cameras"] = ()
    env = make_from_config(env_id, kwargs)
    try:
        reasons = {name: AXES[name].not_applicable(env) for name in STRUCTURAL_AXES}
    finally:
        env.close()
    return {k: v for k, v in reasons.items() if v is not None}


def merge_env_kwargs(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` env kwargs plus an axis' ``env_kwargs``; ``randomize`` dicts are merged.

    Raises :class:`ConfigError` when both set the same ``randomize`` knob differently.
    """
    out = dict(base)
    for key, value in extra.items():
        if key == "randomize" and out.get("randomize"):
            merged = dict(out["randomize"])
            for knob, v in value.items():
                if knob in merged and merged[knob] != v:
                    raise ConfigError(f"randomize[{knob!r}] is {merged[knob]!r} in the base env "
                                      f"kwargs and {v!r} for the perturbation; drop it from one")
                merged[knob] = v
            out["randomize"] = merged
        elif key in out and out[key] != value:
            raise ConfigError(f"env kwarg {key!r} is {out[key]!r} in the base kwargs and "
                              f"{value!r} for the perturbation; drop it from one")
        else:
            out[key] = value
    return out


def check_env(env: gym.Env, axis: Axis) -> None:
    """Raise :class:`ConfigError` when ``env`` lacks what ``axis`` acts on."""
    space = env.observation_space
    keys = set(space.spaces) if isinstance(space, gym.spaces.Dict) else set()
    missing = [k for k in axis.needs if k not in keys]
    if missing:
        hint = " (build the env with cameras=('head',))" if set(missing) & {cv.OBS_RGB,
                                                                           cv.OBS_DEPTH} else ""
        raise ConfigError(f"perturbation {axis.name!r} acts on observation key(s) {missing}, "
                          f"which this env does not produce{hint}; apply perturbations to the "
                          "vla_bench observation dict, before wrappers that reshape it")
    if not axis.supports(env.unwrapped.domain):
        raise ConfigError(f"perturbation {axis.name!r} has no effect in the "
                          f"{env.unwrapped.domain!r} domain; it applies to "
                          f"{', '.join(axis.domains or ())}")
