"""Instruction templates with paraphrases, and held-out phrasings for generalisation tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Templates:
    """Training phrasings (the seed's command first) and held-out test phrasings."""

    train: tuple[str, ...]
    test: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.train or not self.test:
            raise ConfigError("a task needs at least one training and one test template")
        if set(self.train) & set(self.test):
            raise ConfigError("held-out templates must differ from the training ones")
        slots = {frozenset(_SLOT.findall(t)) for t in self.train + self.test}
        if len(slots) != 1:
            raise ConfigError(f"templates disagree on their slots: {sorted(map(sorted, slots))}")

    @property
    def slots(self) -> frozenset[str]:
        """Slot names every template fills, e.g. ``{"color"}``."""
        return frozenset(_SLOT.findall(self.train[0]))

    def sample(self, rng: np.random.Generator, phrasing: str = "train", **slots: str) -> str:
        """One instruction: a random template of the split, slots filled."""
        if phrasing not in ("train", "test"):
            raise ConfigError(f"phrasing must be 'train' or 'test', not {phrasing!r}")
        pool = self.train if phrasing == "train" else self.test
        text = pool[int(rng.integers(len(pool)))].format(**slots)
        return text[0].upper() + text[1:]


def check_instruction(text: object) -> str:
    """``text`` if it can be an episode's instruction (``reset(options={"instruction": ...})``),
    else a :class:`ConfigError` that says what is allowed: a non-empty string of at most
    :data:`~vla_bench.conventions.INSTRUCTION_MAX_LENGTH` characters from
    :data:`~vla_bench.conventions.INSTRUCTION_CHARSET` (the observation space's ``Text``)."""
    allowed = (f"a non-empty string of at most {cv.INSTRUCTION_MAX_LENGTH} characters: ASCII "
               "letters, digits, spaces and " + " ".join(sorted(
                   c for c in cv.INSTRUCTION_CHARSET if not c.isalnum() and c != " ")))
    if not isinstance(text, str):
        raise ConfigError(f"the instruction must be {allowed}; got {type(text).__name__}")
    if not text.strip():
        raise ConfigError(f"the instruction must be {allowed}; got {text!r}")
    if len(text) > cv.INSTRUCTION_MAX_LENGTH:
        raise ConfigError(f"the instruction must be {allowed}; got {len(text)} characters")
    bad = sorted(set(text) - cv.INSTRUCTION_CHARSET)
    if bad:
        raise ConfigError(f"the instruction must be {allowed}; {''.join(bad)!r} is not allowed")
    return text
