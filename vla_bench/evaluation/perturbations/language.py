"""Language axes: the instruction reworded, misspelled or padded, the task left as it is.

Each wrapper rewrites the episode's instruction once, at reset, and shows the rewrite in
``obs["instruction"]`` and ``info["task_description"]`` for the whole episode (also as
``wrapper.task_description``). The env's own ``env.unwrapped.task_description`` keeps the
nominal text, which records can store next to the perturbed one. Outputs stay within
:data:`~vla_bench.conventions.INSTRUCTION_CHARSET` and
:data:`~vla_bench.conventions.INSTRUCTION_MAX_LENGTH`.

The text functions (:func:`paraphrase`, :func:`substitute_synonyms`,
:func:`synonyms_keeping_slots`, :func:`add_typos`, :func:`add_distractor_clauses`) are pure:
text and Generator in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, SupportsFloat

import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError
from vla_bench.evaluation.perturbations.base import ObservationPerturbation, PerturbationWrapper
from vla_bench.language import Templates

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
_REPEAT = "__repeat"


@cache
def _template_regex(template: str) -> re.Pattern[str]:
    """A template as a regex whose named groups capture its slot values."""
    out, seen = [], set()
    for i, part in enumerate(re.split(r"\{(\w+)\}", template)):
        if i % 2 == 0:
            out.append(re.escape(part))
        elif part in seen:  # a repeat: the same text, in a group of its own (for its span)
            out.append(f"(?P<{part}{_REPEAT}{i}>(?P={part}))")
        else:
            seen.add(part)
            out.append(f"(?P<{part}>.+?)")
    return re.compile("".join(out), re.IGNORECASE)


def _slot_match(instruction: str, templates: Templates) -> re.Match[str] | None:
    text = instruction[:1].lower() + instruction[1:]  # undo Templates.sample's capital
    for template in templates.train + templates.test:
        match = _template_regex(template).fullmatch(text)
        if match:
            return match
    return None


def slot_values(instruction: str, templates: Templates) -> dict[str, str] | None:
    """The slot values an instruction was filled with, or None if no template produced it."""
    match = _slot_match(instruction, templates)
    if match is None:
        return None
    return {k: v for k, v in match.groupdict().items() if _REPEAT not in k}


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
@dataclass(frozen=True)
class Synonym:
    """A phrase, the phrases that mean the same, and the contexts where they do.

    A swap only happens where the phrase is a true synonym: ``verb`` phrases only at the start
    of a clause (start of the text, after ``, ; :`` or one of :data:`CLAUSE_OPENERS`), so
    "place" swaps in "and place it" but not in "hold it in place", nor "turn" in "give it a
    turn". ``next_words`` (when given) lists the words that may follow ("" = end of a clause);
    ``not_next`` and ``not_prev`` the words that may not follow or precede; ``not_in_clause``
    words whose presence later in the same clause changes the phrase's meaning ("put ... away").
    A multi-word phrase is matched as a unit, so its words are never swapped one by one
    ("stay put" becomes "stay still", never "remain place"); a rule without alternatives keeps
    its phrase as it is ("in place", "turn on").
    """

    phrase: str
    alternatives: tuple[str, ...] = ()
    verb: bool = False
    next_words: tuple[str, ...] | None = None
    not_next: tuple[str, ...] = ()
    not_prev: tuple[str, ...] = ()
    not_in_clause: tuple[str, ...] = ()


# Words after which a verb starts a clause: "... and place it", "could you pour", "use the
# wrench to tighten".
CLAUSE_OPENERS = frozenset({"and", "then", "or", "please", "kindly", "you", "to", "first",
                            "also", "now", "so"})
_PUNCT = frozenset(",;:.!?")
_PARTICLES = ("away", "up", "off", "out", "together", "down")
_MOTION = ("to", "over", "across", "around", "behind", "through", "along", "up", "towards",
           "toward", "past", "into", "in", "")

# The table: verbs, prepositions, politeness and the nouns with an exact synonym. Never
# colours, sizes, materials, terrain words or any word that can pick out a target among
# alternatives in a scene (goal slots are protected separately). Multi-word phrases come
# first where they overlap single words: the longest matching phrase wins.
SYNONYMS: tuple[Synonym, ...] = (
    # fixed units: idioms whose words mean something else one by one
    Synonym("stay put", ("stay still", "remain still")),
    Synonym("find your way", ("make your way",)),
    Synonym("come to a stop", ("come to a halt",)),
    Synonym("make your way", ("go",), next_words=_MOTION),
    Synonym("turn around"), Synonym("turn on"), Synonym("turn off"), Synonym("in place"),
    Synonym("from inside"),
    Synonym("drive the nail", ("hammer the nail", "sink the nail")),
    # verbs
    Synonym("pick up", ("lift",), verb=True, not_in_clause=_PARTICLES),
    Synonym("place", ("set", "put"), verb=True, not_in_clause=_PARTICLES),
    Synonym("put", ("set", "place"), verb=True, not_in_clause=_PARTICLES),
    Synonym("grab", ("grasp", "take hold of"), verb=True),
    Synonym("drop", ("release",), verb=True),
    Synonym("move the", ("shift the",), verb=True),
    Synonym("move to", ("go to", "walk to"), verb=True),
    Synonym("go to", ("head to", "proceed to"), verb=True),
    Synonym("walk", ("stroll",), verb=True, next_words=_MOTION),
    Synonym("head to", ("go to", "walk to"), verb=True),
    Synonym("head for", ("go to", "make for"), verb=True),
    Synonym("head over to", ("go over to", "walk over to"), verb=True),
    Synonym("wait", ("stay",), verb=True, not_next=("for", "until", "a", "your")),
    Synonym("stop", ("halt",), verb=True),
    Synonym("stay", ("remain",), verb=True),
    Synonym("approach", ("walk up to", "go up to"), verb=True),
    Synonym("continue", ("keep going", "carry on"), verb=True, next_words=("to", "")),
    Synonym("proceed", ("continue", "carry on"), verb=True, next_words=("to", "")),
    Synonym("find", ("locate",), verb=True),
    Synonym("tighten", ("fasten", "secure"), verb=True),
    Synonym("turn", ("rotate",), verb=True, not_next=("left", "right", "it", "into")),
    Synonym("rotate", ("turn",), verb=True),
    Synonym("use", ("employ", "utilize"), verb=True),
    Synonym("push", ("shove",), verb=True),
    Synonym("pull", ("tug",), verb=True),
    Synonym("cross", ("traverse", "go across"), verb=True),
    Synonym("traverse", ("cross", "go across"), verb=True),
    Synonym("hit", ("strike",), verb=True),
    Synonym("pound", ("hammer",), verb=True),
    Synonym("knock", ("hit",), verb=True, not_next=("on", "over", "off", "at")),
    # prepositions and adverbials
    Synonym("using", ("with",)),
    Synonym("into the", ("in the", "inside the"),
            not_prev=("cut", "split", "slice", "chop", "break", "divide", "turn", "look",
                      "bump", "bumping", "run", "running", "crash", "crashing")),
    Synonym("inside the", ("in the",)),
    Synonym("next to", ("beside",)),
    Synonym("beside", ("next to",)),
    Synonym("far side", ("other side", "opposite side")),
    Synonym("far end", ("other end", "opposite end")),
    # politeness
    Synonym("please", ("kindly",)),
    Synonym("could you", ("can you", "would you")),
    # nouns with an exact synonym
    Synonym("refrigerator", ("fridge",)),
    Synonym("fridge", ("refrigerator",)),
    Synonym("container", ("bin",)),
)
_LONGEST_FIRST = sorted(SYNONYMS, key=lambda rule: len(rule.phrase), reverse=True)
_SYNONYM_RE = re.compile(
    r"\b(" + "|".join(re.escape(r.phrase) for r in _LONGEST_FIRST) + r")\b", re.IGNORECASE)
_TOKEN = r"[\w'-]+|[,;:.!?]"
_PREV = re.compile(rf"({_TOKEN})\s*$")
_NEXT = re.compile(rf"\s*({_TOKEN})")


def _applies(rule: Synonym, text: str, start: int, end: int) -> bool:
    """Whether ``rule`` is a true synonym at ``text[start:end]`` (see :class:`Synonym`)."""
    before = _PREV.search(text[:start])
    prev = before.group(1).lower() if before else ""
    after = _NEXT.match(text[end:])
    nxt = "" if after is None or after.group(1) in _PUNCT else after.group(1).lower()
    if rule.verb and prev and prev not in _PUNCT and prev not in CLAUSE_OPENERS:
        return False
    if rule.next_words is not None and nxt not in rule.next_words:
        return False
    if nxt in rule.not_next or prev in rule.not_prev:
        return False
    clause = re.split(r"[,;:.!?]|\band\b|\bthen\b", text[end:], maxsplit=1)[0].lower()
    return not any(re.search(rf"\b{w}\b", clause) for w in rule.not_in_clause)


def _sites(text: str, keep: Sequence[tuple[int, int]] = ()
           ) -> list[tuple[int, int, Synonym]]:
    """The swappable phrases of ``text`` as ``(start, end, rule)``, left to right.

    At each position the longest phrase whose context fits wins; fixed units are matched too
    (and swallow their words) but never returned. Nothing overlapping a ``keep`` span counts.
    """
    out: list[tuple[int, int, Synonym]] = []
    pos = 0
    while True:
        match = _SYNONYM_RE.search(text, pos)
        if match is None:
            return out
        start = match.start()
        for rule in _LONGEST_FIRST:
            end = start + len(rule.phrase)
            if text[start:end].lower() != rule.phrase or re.match(r"\w", text[end:end + 1]):
                continue
            if any(start < b and a < end for a, b in keep) or not _applies(rule, text, start,
                                                                            end):
                continue
            if rule.alternatives:
                out.append((start, end, rule))
            pos = end
            break
        else:
            pos = start + 1  # a phrase may still start inside the one that did not fit


def synonym_sites(text: str, keep: Sequence[tuple[int, int]] = ()) -> int:
    """How many phrases of ``text`` the synonym table can replace (outside ``keep`` spans)."""
    return len(_sites(text, keep))


def substitute_synonyms(text: str, probability: float, rng: np.random.Generator,
                        keep: Sequence[tuple[int, int]] = ()) -> str:
    """Replace each phrase of :data:`SYNONYMS` that is a synonym in its context by one of its
    alternatives, with ``probability``; text inside the ``keep`` spans is never touched."""
    out, last = [], 0
    for start, end, rule in _sites(text, keep):
        use, pick = rng.random(), int(rng.integers(len(rule.alternatives)))
        if use >= probability:
            continue
        word, new = text[start:end], rule.alternatives[pick]
        out += [text[last:start], _capitalize(new) if word[0].isupper() else new]
        last = end
    out.append(text[last:])
    return _fit("".join(out))


def slot_spans(instruction: str, templates: Templates) -> list[tuple[int, int]]:
    """Where an instruction's slot values sit (the goal words), or ``[]`` if no template of
    the task produced it (a user's own instruction)."""
    match = _slot_match(instruction, templates)
    if match is None:
        return []
    return sorted(match.span(k) for k in match.groupdict())


def synonyms_keeping_slots(instruction: str, templates: Templates, probability: float,
                           rng: np.random.Generator) -> str:
    """:func:`substitute_synonyms` with the goal slot values (colour, object, place, ...) of
    the task's templates left verbatim: a slot value may hold a table word ("place mat",
    "red plank") that names the goal."""
    return substitute_synonyms(instruction, probability, rng,
                               keep=slot_spans(instruction, templates))


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
    """Each phrase of :data:`SYNONYMS` that is a synonym in its context is replaced by an
    alternative with probability ``level``; the goal slot values stay verbatim."""

    axis = "synonyms"

    def rewrite(self, instruction: str) -> str:
        """Instruction with synonyms."""
        return synonyms_keeping_slots(instruction, self.base.task.templates, self.level,
                                      self.rng)


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


# -- language controls -------------------------------------------------------------------------
# Not perturbations of the words but replacements of them: the episode (task, scene, goal) is
# the nominal one, the instruction is another episode's or none. The evaluator reports the
# *language gain* (nominal success minus control success on the same episodes); a policy that
# does not read the words gains nothing.
class ShuffledInstruction(PerturbationWrapper):
    """With probability ``level`` per episode, the policy is told another episode's instruction
    (the same task at another seed, which may name another goal); the goal stays this
    episode's. ``info`` records the override and the original instruction."""

    axis = "instruction_shuffled"

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Learn the task at ``seed``, draw another seed's instruction for it, then reset
        ``seed`` with that instruction."""
        obs, info = super().reset(seed=seed, options=options)
        if self.rng.random() >= self.level:
            return obs, info
        other = int(self.rng.integers(2**31 - 1))
        if seed is not None and other == seed:
            other += 1
        task_opts = {**(options or {}), "task": info[cv.INFO_TASK]}
        task_opts.pop("instruction", None)
        other_obs, _ = self.env.reset(seed=other, options=task_opts)
        told = {**(options or {}), "instruction": other_obs[cv.OBS_INSTRUCTION]}
        return self.env.reset(seed=seed, options=told)


class BlankInstruction(_InstructionPerturbation):
    """With probability ``level`` per episode, the instruction is empty: the policy acts on
    what it sees alone."""

    axis = "instruction_blank"

    def rewrite(self, instruction: str) -> str:
        """Nothing (or the instruction, with probability ``1 - level``)."""
        return "" if self.rng.random() < self.level else instruction
