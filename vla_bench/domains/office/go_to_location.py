"""Navigation family, office scene: walk to the named place and wait there."""

from __future__ import annotations

import numpy as np

from vla_bench.domains.office.go_to_printer import GoToPrinter
from vla_bench.domains.office.layout import SPOKEN
from vla_bench.language import Templates
from vla_bench.registry import register_task

# The "unseen_objects" split asks for the one place no training episode names as the goal.
TRAIN_GOALS = ("printer", "water_cooler", "plant", "filing_cabinet")
HELD_OUT_GOALS = ("bookcase",)


@register_task(domain="office", family="navigation", max_episode_steps=300, group="navigation")
class GoToLocation(GoToPrinter):
    """Go to the {place} and wait there.

    **Description** — The office of GoToPrinter (desk, chair, five landmarks in random wall
    slots), but the goal is any of the landmarks, named in the instruction: the robot must walk
    to it around the furniture, stop in front of it facing it, and stay.

    **Randomisation** — the goal landmark (printer, water cooler, plant or filing cabinet; the
    bookcase only in the ``unseen_objects`` split); everything GoToPrinter randomises (landmark
    slots, slides and colours; desk and chair jitter; robot start ≥ 1.8 m from the goal's front,
    ≥ 1.3 m from the others', ≤ 3.5 m of planned walk); instruction template.

    **Success** — pelvis within 0.8 m of the centre of the goal's front face, heading within
    ±45° of the bearing to it, at rest (< 0.05 m/s, < 0.2 rad/s) for 40 consecutive control
    steps (2 s). Budget 300 steps (15 s).

    **Failure** — the same 40-step rest in front of another landmark (``failure_reason`` names
    it).

    **Safety notes** — collisions with furniture and landmarks are counted by the env; no task
    cost.

    **Alternatives in the scene** — the four other landmarks, every episode. Only the noun says
    which one: a policy that ignores it is right about one time in five.

    **Version history** — v1 (2026-11): first release.
    """

    held_out_bodies = ()  # the held-out split names a held-out goal instead
    templates = Templates(
        train=(
            "go to the {place} and wait there",
            "walk to the {place} and stay there",
            "head over to the {place} and stop",
            "navigate to the {place} and wait",
            "go and stand in front of the {place}",
        ),
        test=(
            "please make your way over to the {place} and remain there",
            "I need you waiting by the {place}",
            "find your way to the {place}, then hold still",
        ),
    )

    def choose_goal(self, rng: np.random.Generator) -> dict[str, str]:
        """Draw the goal landmark (held-out pool in the ``unseen_objects`` split)."""
        pool = HELD_OUT_GOALS if self.held_out_objects else TRAIN_GOALS
        self.target = str(pool[int(rng.integers(len(pool)))])
        return {"place": SPOKEN[self.target]}
