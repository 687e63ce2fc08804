"""Language axes: the instruction reworded, misspelled or padded, the task left as it is.

Each wrapper rewrites the episode's instruction once, at reset, and shows the rewrite in
``obs["instruction"]`` and ``info["task_description"]`` for the whole episode (also as
``wrapper.task_description``). The env's own ``env.unwrapped.task_description`` keeps the
nominal text, which records can store next to the perturbed one. Outputs stay within
:data:`~vla_bench.conventions.INSTRUCTION_CHARSET` and
:data:`~vla_bench.conventions.INSTRUCTION_MAX_LENGTH`.

The text functions (:func:`paraphrase`, :func:`substitute_synonyms`, :func:`add_typos`,
:func:`add_distractor_clauses`) are pure: text and Generator in, text out.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, SupportsFloat

import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError
from vla_bench.evaluation.perturbations.base import ObservationPerturbation
from vla_bench.language import Templates

# Phrase -> meaning-preserving alternatives. Verbs, prepositions and politeness only, plus
# nouns with exact synonyms: never colours, sizes or the names that pick out a target.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "pick up": ("lift", "collect"),
    "place": ("set", "put"),
    "put": ("set", "place"),
    "grab": ("grasp", "seize"),
    "take": ("get", "grab"),
    "drop": ("release", "let go of"),
    "move the": ("shift the", "carry the"),
    "move to": ("go to", "walk to"),
    "go to": ("head to", "proceed to"),
    "walk": ("stroll", "step"),
    "head to": ("go to", "walk to"),
    "head for": ("go to", "make for"),
    "wait": ("pause", "hold on"),
    "stop": ("halt", "come to a stop"),
    "stay": ("remain", "linger"),
    "approach": ("walk up to", "go up to"),
    "continue": ("keep going", "carry on"),
    "proceed": ("continue", "carry on"),
    "find": ("locate", "spot"),
    "make your way": ("go", "walk"),
    "into": ("in", "inside"),
    "inside": ("within", "into"),
    "next to": ("beside", "near"),
    "beside": ("next to", "alongside"),
    "please": ("kindly", "if you would"),
    "could you": ("can you", "would you"),
    "refrigerator": ("fridge",),
    "fridge": ("refrigerator",),
    "container": ("bin", "receptacle"),
    "tighten": ("fasten", "secure"),
    "turn": ("rotate", "twist"),
    "rotate": ("turn", "twist"),
    "use": ("employ", "utilize"),
    "using": ("with", "employing"),
    "push": ("shove", "press"),
    "pull": ("tug", "draw"),
    "cross": ("traverse", "go across"),
    "traverse": ("cross", "go across"),
    "uneven": ("bumpy", "irregular"),
    "rough": ("rugged", "bumpy"),
    "rocky": ("stony", "rough"),
    "stony": ("rocky", "pebbly"),
    "hit": ("strike", "knock"),
    "pound": ("hammer", "bang"),
    "knock": ("tap", "hit"),
    "drive": ("hammer", "sink"),
    "board": ("plank",),
    "plank": ("board",),
    "wood": ("timber", "board"),
    "far side": ("other side", "opposite side"),
    "far end": ("other end", "opposite end"),
}

# Irrelevant clauses appended after a comma: nothing in any scene, no new goal, no negation
# of the task.
DISTRACTOR_CLAUSES: tuple[str, ...] = (
    "and ignore the radio",
    "and don't mind the music playing",
    "the weather is lovely today",
    "never mind the noise from the hallway",
    "the meeting was moved to Friday",
    "and do not worry about the phone ringing",
    "my coffee is getting cold",
    "someone left the television on",
    "the dog is asleep next door",
    "the mail has not arrived yet",
    "and pay no attention to the clock",
    "I think it might rain later",
)

# QWERTY neighbours for substitution typos.
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_KEYBOARD):
    for _c, _ch in enumerate(_row):
        near = [_row[i] for i in (_c - 1, _c + 1) if 0 <= i < len(_row)]
        for _dr in (-1, 1):
            if 0 <= _r + _dr < len(_KEYBOARD):
                other = _KEYBOARD[_r + _dr]
                near += [other[i] for i in (_c - 1, _c, _c + 1) if 0 <= i < len(other)]
        _NEIGHBOURS[_ch] = "".join(near)
TYPO_KINDS = ("swap", "drop", "double", "neighbour")


def _fit(text: str) -> str:
    """Keep an instruction inside the observation space's charset and length."""
    text = "".join(c for c in text if c in cv.INSTRUCTION_CHARSET)
    return text[: cv.INSTRUCTION_MAX_LENGTH]


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- paraphrase ------------------------------------------------------------------------------
@cache
def _template_regex(template: str) -> re.Pattern[str]:
    """A template as a regex whose named groups capture its slot values."""
    out, seen = [], set()
    for i, part in enumerate(re.split(r"\{(\w+)\}", template)):
        if i % 2 == 0:
            out.append(re.escape(part))
        elif part in seen:
            out.append(f"(?P={part})")
        else:
            seen.add(part)
            out.append(f"(?P<{part}>.+?)")
    return re.compile("".join(out), re.IGNORECASE)


def slot_values(instruction: str, templates: Templates) -> dict[str, str] | None:
    """The slot values an instruction was filled with, or None if no template produced it."""
    text = instruction[:1].lower() + instruction[1:]  # undo Templates.sample's capital
    for template in templates.train + templates.test:
        match = _template_regex(template).fullmatch(text)
        if match:
            return match.groupdict()
    return None


def paraphrase(instruction: str, templates: Templates, probability: float,
               rng: np.random.Generator) -> str:
    """With ``probability``, the same instruction (same slot values) in a held-out template.

    The held-out templates are the task's ``Templates.test`` — those of ``phrasing="test"``
    and the ``unseen_phrasings`` split — so at probability 1 the instructions follow that
    split's distribution on the nominal episodes.
    """
    slots = slot_values(instruction, templates)
    if slots is None:
        raise ConfigError(f"instruction {instruction!r} matches none of the task's templates, "
                          "so its slot values cannot be carried into a held-out template")
    use, pick = rng.random(), int(rng.integers(len(templates.test)))  # fixed draws per call
    if use >= probability:
        return instruction
    return _fit(_capitalize(templates.test[pick].format(**slots)))


# -- synonyms --------------------------------------------------------------------------------
_SYNONYM_RE = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(SYNONYMS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE)


def synonym_sites(text: str) -> int:
    """How many phrases of ``text`` the synonym table can replace."""
    return len(_SYNONYM_RE.findall(text))


def substitute_synonyms(text: str, probability: float, rng: np.random.Generator) -> str:
    """Replace each phrase of :data:`SYNONYMS` by one of its alternatives with ``probability``."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        options = SYNONYMS[word.lower()]
        use, pick = rng.random(), int(rng.integers(len(options)))
        if use >= probability:
            return word
        new = options[pick]
        return _capitalize(new) if word[0].isupper() else new

    return _fit(_SYNONYM_RE.sub(swap, text))


# -- typos -----------------------------------------------------------------------------------
def add_typos(text: str, rate: float, rng: np.random.Generator) -> str:
    """Each letter, with probability ``rate``, gets one typo: swapped with the next letter,
    dropped, doubled, or replaced by a keyboard neighbour (equally likely)."""
    chars = list(text)
    out: list[str] = []
    i = 0
    while i < len(chars):
        ch = chars[i]
        hit, kind, pick = rng.random(), int(rng.integers(len(TYPO_KINDS))), rng.random()
        if not ch.isalpha() or hit >= rate:
            out.append(ch)
            i += 1
            continue
        name = TYPO_KINDS[kind]
        if name == "swap" and i + 1 < len(chars) and chars[i + 1].isalpha():
            out += [chars[i + 1], ch]
            i += 2
            continue
        if name == "drop":
            pass
        elif name == "double":
            out += [ch, ch]
        else:  # neighbour (also a swap with nothing to swap with)
            near = _NEIGHBOURS[ch.lower()]
            new = near[int(pick * len(near))]
            out.append(new.upper() if ch.isupper() else new)
        i += 1
    return _fit("".join(out))


# -- distractor clauses ----------------------------------------------------------------------
def add_distractor_clauses(text: str, count: int, rng: np.random.Generator) -> str:
    """Append ``count`` different irrelevant clauses, each after a comma (fewer if the result
    would exceed the instruction length limit)."""
    order = rng.permutation(len(DISTRACTOR_CLAUSES))[:count]
    for k in order:
        longer = f"{text}, {DISTRACTOR_CLAUSES[int(k)]}"
        if len(longer) > cv.INSTRUCTION_MAX_LENGTH:
            break
        text = longer
    return _fit(text)


# -- wrappers --------------------------------------------------------------------------------
class _InstructionPerturbation(ObservationPerturbation):
    """Rewrites the instruction once per episode; observations and info show the rewrite."""

    task_description = ""

    def rewrite(self, instruction: str) -> str:
        """This episode's rewritten instruction (draws from ``self.rng``)."""
        raise NotImplementedError

    def on_reset(self, obs: dict[str, Any], info: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Rewrite this episode's instruction."""
        self._nominal = obs[cv.OBS_INSTRUCTION]
        self.task_description = self.rewrite(self._nominal)
        return self.observation(obs), self._info(info)

    def on_step(self, obs: dict[str, Any], reward: SupportsFloat, terminated: bool,
                truncated: bool, info: dict[str, Any]
                ) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        """Show the rewrite; everything else is untouched."""
        return self.observation(obs), reward, terminated, truncated, self._info(info)

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        """The observation with this episode's instruction."""
        out = dict(obs)
        out[cv.OBS_INSTRUCTION] = self.task_description
        return out

    def _info(self, info: dict[str, Any]) -> dict[str, Any]:
        if cv.INFO_TASK_DESCRIPTION in info:
            info = dict(info)
            info[cv.INFO_TASK_DESCRIPTION] = self.task_description
        return info


class Paraphrase(_InstructionPerturbation):
    """With probability ``level`` per episode, the instruction is said with one of the task's
    held-out (test) templates, same slot values."""

    axis = "paraphrase"

    def rewrite(self, instruction: str) -> str:
        """Held-out phrasing of the instruction."""
        return paraphrase(instruction, self.base.task.templates, self.level, self.rng)


class Synonyms(_InstructionPerturbation):
    """Each phrase found in :data:`SYNONYMS` is replaced by an alternative with probability
    ``level``."""

    axis = "synonyms"

    def rewrite(self, instruction: str) -> str:
        """Instruction with synonyms."""
        return substitute_synonyms(instruction, self.level, self.rng)


class Typos(_InstructionPerturbation):
    """Each letter gets a typo (swap, drop, double, keyboard neighbour) with probability
    ``level``."""

    axis = "typos"

    def rewrite(self, instruction: str) -> str:
        """Instruction with typos."""
        return add_typos(instruction, self.level, self.rng)


class DistractorClause(_InstructionPerturbation):
    """``level`` (an integer) irrelevant clauses appended to the instruction."""

    axis = "distractor_clause"

    def rewrite(self, instruction: str) -> str:
        """Instruction with irrelevant clauses."""
        return add_distractor_clauses(instruction, int(self.level), self.rng)
