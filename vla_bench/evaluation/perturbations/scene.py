"""Scene axis: extra clutter props, which exist only in an env built with them.

Clutter bodies are part of the compiled model, so this axis acts at construction: the env
must be made with ``randomize={"distractors": level}`` (``AXES["distractors"].env_kwargs``
gives it; :func:`~vla_bench.evaluation.perturbations.merge_env_kwargs` merges it into other
kwargs). The env's randomizer places ``round(4 * level)`` props on the work surface with the
episode's RNG *after* the task has set the episode up, so the task, layout and instruction
are those of the nominal episode with the same seed. The wrapper itself only checks that the
env was built so.
"""

from __future__ import annotations

import gymnasium as gym

from vla_bench.errors import ConfigError
from vla_bench.evaluation.perturbations.base import PerturbationWrapper
from vla_bench.randomization import MAX_DISTRACTORS

DISTRACTOR_DOMAINS = ("kitchen", "workshop")  # domains with a work surface for clutter


def n_distractors(level: float) -> int:
    """Props an env built for ``level`` places each episode."""
    return int(round(MAX_DISTRACTORS * level))


class Distractors(PerturbationWrapper):
    """``round(4 * level)`` clutter props (boxes, cylinders in random colours) on the kitchen
    counter or workshop bench, clear of the task's objects."""

    axis = "distractors"

    def __init__(self, env: gym.Env, level: float, seed: int) -> None:
        base = env.unwrapped
        want = n_distractors(level)
        have = base.randomization.n_distractors
        if base.domain not in DISTRACTOR_DOMAINS:
            raise ConfigError(f"the distractors axis needs a work surface, which the "
                              f"{base.domain!r} domain lacks; use it on "
                              f"{' or '.join(DISTRACTOR_DOMAINS)} envs only")
        if have != want:
            raise ConfigError(
                f"the distractors axis at level {level:g} needs an env built with {want} "
                f"clutter props, this one has {have}: make the env with "
                f"**AXES['distractors'].env_kwargs({level:g}) "
                f"(randomize={{'distractors': {level:g}}})")
        super().__init__(env, level, seed)
