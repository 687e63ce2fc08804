"""Office: sort the coloured papers on the desk into the trays of matching colour."""

from __future__ import annotations

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
from vla_bench.task import Evaluation, Task

N_PAPERS = 3
N_TRAYS = 2
PAPER_HALF = (0.03, 0.04, 0.0225)  # a 6 x 8 cm stack of cards, 4.5 cm thick; origin = centre
TRAY_INNER = (0.12, 0.12)
TRAY_HEIGHT = 0.05
TRAY_WALL = 0.006
SLOT_GAP = 0.16  # m between neighbouring props along the desk edge
GRASP_UP = 0.018  # the expert pinches this far above a stack's centre
ONE_COLOUR_P = 0.5  # share of episodes whose instruction names one colour


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
    """Sort the papers on the desk.

    **Description** — Three stacks of coloured papers (6 x 8 cm cards, 4.5 cm thick) and two
    letter trays (12 cm x 12 cm inside, 5 cm deep) of two colours lie in a row along the
    office desk's long side; every paper has the colour of one of the trays, and both colours
    occur among the papers. "Sorted" means: every paper the instruction asks about lies in the
    tray of its own colour. Half of the instructions ask for the whole set ("sort the papers
    into the trays of their colour"); the other half name one colour ("put the red papers in the
    red tray"), and then the papers of the other colour must stay out of the trays.

    **Randomisation** — the two colours (from the four training colours, or the four held-out
    colours in the ``unseen_objects`` split), which paper has which colour (one colour twice),
    whole-set or one-colour instruction and the named colour; the order of the five props along
    the desk (slots 16 cm apart, ±1 cm jitter, papers turned ±0.15 rad); robot start
    0.75–0.95 m from the desk edge, anywhere along it, facing it ±0.3 rad; the office layout's
    own randomisation (landmark slots, desk jitter ±4 cm / ±3°, colours); instruction template.

    **Success** — every paper the instruction asks about has its centre inside the inner walls
    of the tray of its colour and at most 4 cm above its rim (a second paper may lie on the
    first), no gripper pinches any paper, and no failure holds.

    **Failure** — a paper lies in the tray of the other colour (wrong tray); with a one-colour
    instruction, a paper of the other colour is put in a tray (not asked for); a paper that
    has to be sorted falls off the desk.

    **Safety notes** — ``task`` cost while any paper or tray lies on the floor; collisions
    with the desk, monitor and contact forces are counted by the env.

    **Alternatives in the scene** — each paper has two trays to go to, and with one-colour
    instructions the papers of the other colour are distractors: a policy that ignores the
    colour words either puts papers in the wrong tray or sorts papers it was not asked to.

    **Version history** — v1 (2026-11): first release.
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

    def build(self, spec: mujoco.MjSpec) -> None:
        """Three paper stacks and two trays (parked until initialize places them)."""
        self.papers = [paper_stack(spec, f"paper_{i}") for i in range(N_PAPERS)]
        self.trays = [props.open_box(spec, f"paper_tray_{i}", TRAY_INNER, TRAY_HEIGHT,
                                     wall=TRAY_WALL, mass=0.3) for i in range(N_TRAYS)]

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Colour trays and papers, deal the five props into slots, choose the instruction."""
        pool = [str(k) for k in rng.permutation(props.color_pool(self.held_out_objects))]
        self.tray_colors = pool[:N_TRAYS]
        paper_idx = [0, 1, int(rng.integers(N_TRAYS))]
        self.paper_colors = [self.tray_colors[i] for i in rng.permutation(paper_idx)]
        for tray, color in zip(self.trays, self.tray_colors, strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] * 0.85 + rng.uniform(-0.03, 0.03, 3), 0, 1)
            sim.set_body_rgba(tray, rgba, visible_only=False)
        for paper, color in zip(self.papers, self.paper_colors, strict=True):
            rgba = np.array(props.COLORS[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            sim.set_rgba(paper, rgba)
        bodies = [*self.papers, *self.trays]
        order = rng.permutation(len(bodies))
        x0 = rng.uniform(STRIP_X[0], STRIP_X[1] - (len(bodies) - 1) * SLOT_GAP)
        yaw = desk_yaw(sim)
        for k, body in zip(order, bodies, strict=True):
            x = x0 + SLOT_GAP * int(k) + rng.uniform(-0.01, 0.01)
            y = STRIP_Y + rng.uniform(-0.01, 0.01)
            if body in self.trays:
                pos = desk_point(sim, x, y, DESK_TOP + 0.001)
                sim.set_free_pose(body, pos, yaw_quat(yaw + rng.uniform(-0.1, 0.1)))
            else:
                pos = desk_point(sim, x, y, DESK_TOP + PAPER_HALF[2] + 0.0005)
                sim.set_free_pose(body, pos, yaw_quat(yaw + rng.uniform(-0.15, 0.15)))
        if rng.random() < ONE_COLOUR_P:
            self.named = self.tray_colors[int(rng.integers(N_TRAYS))]
            words = f"the {self.named} papers"
        else:
            self.named = None
            words = "the papers" if rng.random() < 0.5 else "all the papers"
        self.required = [p for p, col in zip(self.papers, self.paper_colors, strict=True)
                         if self.named is None or col == self.named]
        place_robot(sim, rng)
        self.instruction = self.templates.sample(rng, phrasing, papers=words)
        return self.instruction

    # -- evaluation ------------------------------------------------------------------------
    def tray_of(self, sim: Sim) -> list[int | None]:
        """For each paper, the index of the tray it lies in (``None``: in no tray)."""
        out: list[int | None] = [None] * N_PAPERS
        half = (TRAY_INNER[0] / 2, TRAY_INNER[1] / 2)
        for t, tray in enumerate(self.trays):
            inside = sim.inside(self.papers, tray, half, (0.0, TRAY_HEIGHT + 0.04))
            for i in np.flatnonzero(inside):
                out[int(i)] = t
        return out

    def evaluate(self, sim: Sim) -> Evaluation:
        """Required papers in their colour's tray, released; wrong tray / unasked paper fails."""
        where = self.tray_of(sim)
        wrong_tray = any(t is not None and self.tray_colors[t] != col
                         for t, col in zip(where, self.paper_colors, strict=True))
        unasked = any(t is not None and p not in self.required
                      for t, p in zip(where, self.papers, strict=True))
        floor = DESK_TOP - 0.2
        fallen = sim.positions(self.papers)[:, 2] < floor
        trays_down = sim.positions(self.trays)[:, 2] < floor
        required = np.array([p in self.required for p in self.papers])
        sorted_ok = [where[i] is not None and self.tray_colors[where[i]] == self.paper_colors[i]
                     for i in range(N_PAPERS)]
        failure, reason = False, None
        if wrong_tray:
            failure, reason = True, "a paper is in the tray of the other colour"
        elif unasked:
            failure, reason = True, f"a paper that is not {self.named} was put in a tray"
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
        """Pick and place each paper to sort into its tray, nearest to the robot's start first."""
        base = sim.robot_base()[:2]
        todo = sorted(self.required,
                      key=lambda p: float(np.linalg.norm(sim.body_pos(p)[:2] - base)))
        # Release with the stack's bottom 1.5 cm above the rim: the fingers stay above it.
        release = TRAY_HEIGHT + 0.015 + PAPER_HALF[2]
        phases = []
        placed = {tray: 0 for tray in self.trays}
        for paper in todo:
            tray = self.trays[self.tray_colors.index(self.paper_colors[self.papers.index(paper)])]
            # A second paper goes on top of the first: release it one stack higher.
            up = release + GRASP_UP + placed[tray] * 2 * PAPER_HALF[2]
            placed[tray] += 1
            # Pinch 1.8 cm above the stack's centre: the fingertips clear the desk top.
            phases += pick_and_place(paper, tray, release_up=up, lift=0.1, grasp_up=GRASP_UP)
        return Expert([*phases, Hold(steps=self.max_episode_steps)])
