"""Office: sort the coloured papers on the desk into the trays of matching colour."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import ClassVar

import mujoco
import numpy as np

from vla_bench.domains.office.desk_work import (
    STRIP_X,
    STRIP_Y,
    desk_point,
    desk_yaw,
    pick_and_place,
    place_robot,
)
from vla_bench.domains.office.layout import DESK_TOP, OfficeLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.navigation import Hold
from vla_bench.geometry import yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Goal, Task

N_COLOURS = 3  # three trays, one paper stack of each tray's colour
PAPER_HALF = (0.025, 0.04, 0.0225)  # a 5 x 8 cm stack of cards, 4.5 cm thick; origin = centre
TRAY_INNER = (0.11, 0.12)
TRAY_HEIGHT = 0.05
TRAY_WALL = 0.006
# Half the room a prop takes along the desk edge: a tray's outer half width; a paper's half
# width plus the open fingers beside it.
ROOM = {"tray": TRAY_INNER[0] / 2 + TRAY_WALL, "paper": PAPER_HALF[0] + 0.025}
GAP = 0.012  # m of free desk between neighbouring props (plus up to 1 cm of jitter)
GRASP_UP = 0.018  # the expert pinches this far above a stack's centre
MAX_SHIFT = 0.05  # m a paper that was not named may be pushed before it counts as moved


def paper_stack(spec: mujoco.MjSpec, name: str) -> str:
    """A stack of coloured cards, 120 g, thick enough to pinch from the side off the desk.

    ``<name>`` is the stack (recoloured per episode); thin dark lines on its sides show the
    sheets.
    """
    b = c.body(spec.worldbody, name, (0, 0, props.PARK_Z), free=True)
    hx, hy, hz = PAPER_HALF
    c.box(b, name, (hx, hy, hz), mass=0.12, friction=[1.1, 0.02, 0.001], condim=4)
    for i, z in enumerate((-0.011, 0.0, 0.011)):
        c.box(b, f"{name}_sheet_{i}", (hx + 0.0004, hy + 0.0004, 0.0006), (0, 0, z),
              rgba=(0.95, 0.95, 0.93, 1), collide=False, mass=0.0)
    return name


@register_task(domain="office", family="manipulation", max_episode_steps=700)
class SortPapers(Task):
    """Sort the papers of the named colours into the trays of their colours.

    **Description** — Three stacks of coloured papers (5 x 8 cm cards, 4.5 cm thick) and three
    letter trays (11 cm x 12 cm inside, 5 cm deep) of three colours lie in a row along the
    office desk's long side; there is one paper stack of each tray's colour. The instruction
    always names the colours to sort, one or two of them ("put the red papers in the tray that
    matches their colour", "sort the red and blue papers by colour into the trays"): every
    named paper must go into the tray of its own colour, and the papers not named must stay
    where they lie.

    **Randomisation** — the three colours (three of the four training colours, or of the four
    held-out colours in the ``unseen_objects`` split); the named colours (one or two, with
    equal odds, then uniformly) and their order in the words; the order of the six props along
    the desk (1.2–1.7 cm between neighbours, plus 2.5 cm for the fingers on each side of a
    paper; the whole row slid up to 4.5 cm along the desk; each prop ±1 cm across it, papers
    turned ±0.15 rad, trays ±0.05 rad); robot start 0.75–0.95 m from the desk edge, anywhere
    along it, facing it ±0.3 rad; the office layout's own randomisation (landmark slots, desk
    jitter ±4 cm / ±3°, colours); instruction template.

    **Success** — every named paper has its centre inside the inner walls of the tray of its
    colour and at most 4 cm above its rim, no gripper pinches any paper, and no failure holds.

    **Failure** — a paper lies in a tray of another colour (wrong tray); a paper that was not
    named is put in a tray, or pushed more than 5 cm from where it lay (the rest must stay);
    a named paper falls off the desk.

    **Safety notes** — ``task`` cost while any paper or tray lies on the floor; collisions
    with the desk, monitor and contact forces are counted by the env.

    **Alternatives in the scene** — the six sets of colours the instruction can name: each
    of the three colours alone and each pair of them. A policy that ignores the colour words
    sorts a set it was not asked to: a named paper left out does not succeed, an unnamed one
    put in a tray fails (though a pair that holds the named colour succeeds when the named
    paper happens to go first, since the episode ends at success). Measured blind success
    (expert toward a uniformly drawn alternative, seeds 0–49): 0.20.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): the instruction always
    names the colours to sort (no more "all the papers", which a blind "sort everything"
    solved about 2/3 of the time); three trays and one paper stack per colour, goals are one
    or two named colours (six alternatives); papers not named must stay (moved > 5 cm fails);
    papers 5 cm wide and trays 11 cm wide so six props fit the strip.
    """

    templates = Templates(
        train=(
            "sort {papers} on the desk into the trays of the same colour",
            "put {papers} in the tray that matches their colour",
            "file {papers} into the matching coloured trays",
            "place {papers} in the trays by colour",
            "move {papers} into the tray of their colour",
            "sort {papers} by colour into the trays",
        ),
        test=(
            "could you tidy {papers} away, each into the tray of its colour",
            "organise {papers} so they sit in the colour-matched trays",
            "drop {papers} into whichever tray has the same colour",
        ),
    )
    layout: OfficeLayout
    # The named colours, in the colours' canonical (pool) order: one or two of them.
    goal_fields: ClassVar[tuple[str, ...]] = ("named",)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Three paper stacks and three trays (parked until initialize places them)."""
        self.papers = [paper_stack(spec, f"paper_{i}") for i in range(N_COLOURS)]
        self.trays = [props.open_box(spec, f"paper_tray_{i}", TRAY_INNER, TRAY_HEIGHT,
                                     wall=TRAY_WALL, mass=0.3) for i in range(N_COLOURS)]

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Colour trays and papers, lay the six props in a row, name one or two colours."""
        pool = props.color_pool(self.held_out_objects)
        picked = sorted(int(i) for i in rng.permutation(len(pool))[:N_COLOURS])
        self.tray_colors = [pool[i] for i in picked]  # canonical order: goals compare equal
        self.paper_colors = [self.tray_colors[int(i)] for i in rng.permutation(N_COLOURS)]
        for tray, color in zip(self.trays, self.tray_colors, strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] * 0.85 + rng.uniform(-0.03, 0.03, 3), 0, 1)
            sim.set_body_rgba(tray, rgba, visible_only=False)
        for paper, color in zip(self.papers, self.paper_colors, strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(paper, rgba)
        self._lay_row(sim, rng)
        goals = self.goals()
        singles = [g for g in goals if len(g[0]) == 1]
        pairs = [g for g in goals if len(g[0]) == 2]
        group = singles if rng.random() < 0.5 else pairs
        self.named = group[int(rng.integers(len(group)))][0]
        spoken = [str(c) for c in rng.permutation(list(self.named))]
        words = f"the {' and '.join(spoken)} papers"
        place_robot(sim, rng)
        self.instruction = self.templates.sample(rng, phrasing, papers=words)
        return self.instruction

    def _lay_row(self, sim: Sim, rng: np.random.Generator) -> None:
        """The six props in random order along the strip, 1.2–1.7 cm of desk between them."""
        bodies = [self.papers[0], self.papers[1], self.papers[2], *self.trays]
        bodies = [bodies[int(i)] for i in rng.permutation(len(bodies))]
        half = [ROOM["tray" if b in self.trays else "paper"] for b in bodies]
        gaps = GAP + rng.uniform(0.0, 0.005, len(bodies) - 1)
        length = 2 * sum(half) + float(gaps.sum())
        left, right = STRIP_X[0] - 0.06, STRIP_X[1] + 0.06  # the strip's edges
        x = left + rng.uniform(0.0, max(right - left - length, 0.0)) + half[0]
        yaw = desk_yaw(sim)
        # Where each paper is laid (xy): the papers not named must stay there.
        self.start_xy = np.zeros((len(self.papers), 2))
        for i, body in enumerate(bodies):
            if i:
                x += half[i - 1] + gaps[i - 1] + half[i]
            y = STRIP_Y + rng.uniform(-0.01, 0.01)
            if body in self.trays:
                pos = desk_point(sim, x, y, DESK_TOP + 0.001)
                sim.set_free_pose(body, pos, yaw_quat(yaw + rng.uniform(-0.05, 0.05)))
            else:
                pos = desk_point(sim, x, y, DESK_TOP + PAPER_HALF[2] + 0.0005)
                sim.set_free_pose(body, pos, yaw_quat(yaw + rng.uniform(-0.15, 0.15)))
                self.start_xy[self.papers.index(body)] = pos[:2]

    # -- goals -----------------------------------------------------------------------------
    def goals(self) -> Sequence[Goal]:
        """Each colour alone and each pair of colours (canonical order)."""
        return [(tuple(c),) for k in (1, 2) for c in combinations(self.tray_colors, k)]

    @property
    def required(self) -> list[str]:
        """The papers of the named colours (derived from the goal field)."""
        return [p for p, col in zip(self.papers, self.paper_colors, strict=True)
                if col in self.named]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named papers and the trays of their colours."""
        trays = [self.trays[self.tray_colors.index(c)] for c in self.named]
        return (*self.required, *trays)

    # -- evaluation ------------------------------------------------------------------------
    def tray_of(self, sim: Sim) -> list[int | None]:
        """For each paper, the index of the tray it lies in (``None``: in no tray)."""
        out: list[int | None] = [None] * len(self.papers)
        half = (TRAY_INNER[0] / 2, TRAY_INNER[1] / 2)
        for t, tray in enumerate(self.trays):
            inside = sim.inside(self.papers, tray, half, (0.0, TRAY_HEIGHT + 0.04))
            for i in np.flatnonzero(inside):
                out[int(i)] = t
        return out

    def evaluate(self, sim: Sim) -> Evaluation:
        """Named papers in their colour's tray, released; a wrong tray or a moved unnamed
        paper fails."""
        where = self.tray_of(sim)
        required = np.array([p in self.required for p in self.papers])
        wrong_tray = any(t is not None and self.tray_colors[t] != col
                         for t, col in zip(where, self.paper_colors, strict=True))
        unasked = any(t is not None and not req for t, req in zip(where, required, strict=True))
        shift = np.linalg.norm(sim.positions(self.papers)[:, :2] - self.start_xy, axis=1)
        moved = bool(np.any((shift > MAX_SHIFT) & ~required))
        floor = DESK_TOP - 0.2
        fallen = sim.positions(self.papers)[:, 2] < floor
        trays_down = sim.positions(self.trays)[:, 2] < floor
        sorted_ok = [where[i] is not None and self.tray_colors[where[i]] == self.paper_colors[i]
                     for i in range(len(self.papers))]
        failure, reason = False, None
        if wrong_tray:
            failure, reason = True, "a paper is in the tray of another colour"
        elif unasked:
            failure, reason = True, "a paper that was not named was put in a tray"
        elif moved:
            failure, reason = True, "a paper that was not named was moved"
        elif bool(np.any(fallen & required)):
            failure, reason = True, "a paper to sort fell off the desk"
        n_done = sum(ok for ok, req in zip(sorted_ok, required, strict=True) if req)
        held = any(sim.grasped_by(p, s) for p in self.papers for s in ("right", "left"))
        return Evaluation(
            success=n_done == int(required.sum()) and not held and not failure,
            failure=failure, failure_reason=reason,
            task_cost=float(np.any(fallen) or np.any(trays_down)),
            progress={"papers_sorted": float(n_done), "papers_to_sort": float(required.sum())},
        )

    def expert(self, sim: Sim) -> Expert:
        """Pick and place each named paper into its tray, nearest to the robot's start first."""
        base = sim.robot_base()[:2]
        todo = sorted(self.required,
                      key=lambda p: float(np.linalg.norm(sim.body_pos(p)[:2] - base)))
        # Release with the stack's bottom 1.5 cm above the rim: the fingers stay above it.
        release = TRAY_HEIGHT + 0.015 + PAPER_HALF[2]
        phases = []
        for paper in todo:
            tray = self.trays[self.tray_colors.index(self.paper_colors[self.papers.index(paper)])]
            # Pinch 1.8 cm above the stack's centre: the fingertips clear the desk top.
            phases += pick_and_place(paper, tray, release_up=release + GRASP_UP, lift=0.1,
                                     grasp_up=GRASP_UP)
        return Expert([*phases, Hold(steps=self.max_episode_steps)])
