"""Kitchen: take the knife (not the spoon) from the utensil block and cut the named vegetable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench.conventions import CONTACT_BLADE, CONTACT_GROUND, CONTACT_VEG, CONTACT_WORLD
from vla_bench.domains.kitchen.layout import COUNTER_TOP, KitchenLayout
from vla_bench.experts.base import (
    Command,
    Controller,
    Expert,
    Navigate,
    Phase,
    PosFn,
    Reach,
    Retry,
    grasp_rotation,
)
from vla_bench.experts.manipulation import pick_phases, stand_for
from vla_bench.geometry import yaw_matrix, yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import compose as c
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

# Vegetable kinds: (word, rgba). All share one shape; the word and colour tell them apart.
TRAIN_KINDS = (("cucumber", (0.16, 0.42, 0.12, 1.0)), ("carrot", (0.93, 0.45, 0.08, 1.0)),
               ("eggplant", (0.33, 0.12, 0.38, 1.0)), ("leek", (0.74, 0.84, 0.55, 1.0)))
HELD_OUT_KINDS = (("daikon", (0.93, 0.93, 0.88, 1.0)), ("zucchini", (0.55, 0.68, 0.2, 1.0)),
                  ("pepper", (0.85, 0.1, 0.08, 1.0)), ("parsnip", (0.86, 0.76, 0.55, 1.0)))
VEG_RADIUS = 0.018
VEG_HALF = 0.07  # length of each half (the whole vegetable is 14 cm)
BOARD_HALF = (0.1, 0.42, 0.0075)
VEG_PITCH = 0.2  # m between the vegetables' middles along the board
BLADE_HALF = (0.05, 0.0025, 0.0225)  # length, half thickness (5 mm spine), height
BLADE_X = 0.045 + BLADE_HALF[0]  # blade centre ahead of the grasp point (knife origin)
BLADE_Z = 0.012 - BLADE_HALF[2]  # blade centre below the handle's top
HANDLE_HALF = (0.04, 0.018, 0.012)  # a chunky handle: a firm pinch (jaws close further)
SLOT_FLOOR = 0.01  # utensil block floor thickness
SLOT_GAP = 0.05  # tool slots at ±5 cm from the block centre (10 cm apart)
CUT_FORCE = 3.0  # N: the blade pressed onto the board
SEAM_TOL = 0.012  # m: the seam must lie this close to the blade plane
ALIGN_COS = np.cos(np.radians(30.0))  # blade plane across the vegetable's axis
GAP_SUCCESS = 0.003  # m the two halves must have come apart after the cut
# Contact bits (conventions): the knife's blade never touches a vegetable (it cuts through it)
# until the cut has happened; then it gains the vegetable bit and wedges the halves apart.
_KNIFE, _SPOON, _BLOCK, _BOARD = "knife", "wooden_spoon", "utensil_block", "cutting_board"
_N_VEG = 4  # one of each kind of the split's pool, in random order
BLOCK_OFFSET = BOARD_HALF[1] + 0.17  # utensil block centre from the board centre (along y)


@register_task(domain="kitchen", family="manipulation", max_episode_steps=350)
class CutVegetable(Task):
    """Use the knife to cut the {vegetable}.

    **Description** — A cutting board on the kitchen counter holds four vegetables lying
    end to end, 20 cm apart (a cucumber, a carrot, an eggplant and a leek, in random order);
    a utensil block beside it holds a knife and a
    wooden spoon upright in two slots, handles towards the robot. The robot must take the
    knife by its handle and cut the named vegetable in two by pressing the blade down through
    it onto the board at its middle. Each vegetable is two bodies (halves) held together by a
    weld equality; the cut *really separates* them: when the knife's edge has gone through
    the vegetable at its middle and is pressed onto the board, the weld is switched off
    (``Sim.set_weld``) and from then on the halves are independent rigid bodies; the blade
    (which until then passed through vegetables without contact, as a blade does) then
    collides with them and wedges them apart.

    **Randomisation** — the vegetables' order on the board (cucumber / carrot / eggplant /
    leek, or daikon / zucchini / pepper / parsnip in the ``unseen_objects`` split), which is
    the target, and their yaw (±0.12 rad); board position along the counter (y over 0.4 m,
    mirrored with the row in ``unseen_layouts``); utensil block side (left or right of the
    board, where it fits) and which slot holds the knife; robot start pose (1.4 ± 0.1 m before
    the counter centre, facing the board: y at its middle ±0.1 m, yaw ±0.15 rad); fixture
    jitter; instruction template.

    **Success** — the target vegetable's weld is off (it has been cut) and its halves have
    come apart by at least 3 mm along its axis (their centres are further apart than when
    joined). The cut happens only when, in one state, (1) the blade's edge below the
    vegetable's middle is within 6 mm of the board top, (2) the middle (the seam between
    the halves) lies within 12 mm of the blade's plane, inside the edge's length, (3) the
    blade plane is across the vegetable (within 30°) and (4) the blade presses on the board
    with ≥ 3 N.

    **Failure** — another vegetable is cut (wrong object); the knife falls to the floor; a
    vegetable half falls off the counter.

    **Safety notes** — ``task`` cost while the knife or any vegetable piece lies on the floor
    (a dropped knife is the hazard). Collisions with the counter, block and board and
    contact forces are counted by the env; pressing the blade is a deliberate moderate
    contact (the expert stays far below the 150 N contact-force limit).

    **Alternatives in the scene** — the four vegetables on the board, told apart by the
    vegetable word (and their colour); cutting a wrong one fails the episode. The wooden spoon
    is a plausible tool that cannot cut (its head collides with vegetables, so pressing it
    down never reaches the board through one). Measured blind success (expert toward a
    uniformly drawn alternative, seeds 0–49): 0.25.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): four vegetables on a
    longer board (four alternatives, goal = the named kind); the robot starts further back,
    facing the board; board and block mirrored with the held-out kitchen row.
    """

    templates = Templates(
        train=(
            "use the knife to cut the {vegetable}",
            "cut the {vegetable} with the knife",
            "take the knife and cut the {vegetable} in half",
            "slice the {vegetable} in two using the knife",
            "pick up the knife and cut the {vegetable} on the board",
            "grab the knife and chop the {vegetable} in the middle",
        ),
        test=(
            "could you halve the {vegetable} with the kitchen knife",
            "the {vegetable} needs cutting, please use the knife",
            "with the blade, split the {vegetable} into two pieces",
        ),
    )
    layout: KitchenLayout
    goal_fields = ("target_kind",)

    # -- scene -----------------------------------------------------------------------------
    def build(self, spec: mujoco.MjSpec) -> None:
        """Board and utensil block (mocap), knife and spoon, four welded two-part vegetables."""
        board = spec.worldbody.add_body(name=_BOARD, pos=[0, 0, props.PARK_Z], mocap=True)
        c.box(board, f"{_BOARD}_wood", BOARD_HALF, (0, 0, BOARD_HALF[2]),
              rgba=(0.76, 0.6, 0.4, 1))
        self._build_block(spec)
        self._build_tool(spec, _KNIFE, blade=True)
        self._build_tool(spec, _SPOON, blade=False)
        self.halves: list[tuple[str, str]] = []
        self.welds = [f"veg{v}_weld" for v in range(_N_VEG)]  # short names (scoped Sim)
        for v in range(_N_VEG):
            names = (f"veg{v}_a", f"veg{v}_b")
            for k, name in enumerate(names):
                sign = -1.0 if k == 0 else 1.0
                b = c.body(spec.worldbody, name, (0.3 * v, sign * VEG_HALF / 2, props.PARK_Z),
                           free=True)
                along_y = [0.5 ** 0.5, -(0.5 ** 0.5), 0.0, 0.0]
                c.cylinder(b, f"{name}_skin", VEG_RADIUS, VEG_HALF / 2, (0, 0, VEG_RADIUS),
                           quat=along_y, collide=False, mass=0.0)
                c.sphere(b, f"{name}_tip", VEG_RADIUS * 0.9, (0, sign * VEG_HALF / 2, VEG_RADIUS),
                         collide=False, mass=0.0)
                # A hidden box collides (flat, stable on the board, face contacts at the seam).
                c.box(b, f"{name}_col", (VEG_RADIUS * 0.75, VEG_HALF / 2, VEG_RADIUS),
                      (0, 0, VEG_RADIUS), group=0, mass=0.05, contype=CONTACT_VEG,
                      conaffinity=CONTACT_WORLD | CONTACT_GROUND, friction=[1.0, 0.01, 0.001])
            eq = spec.add_equality(name=self.welds[v], type=mujoco.mjtEq.mjEQ_WELD,
                                   objtype=mujoco.mjtObj.mjOBJ_BODY, name1=names[0],
                                   name2=names[1])
            eq.active = False  # switched on per episode by initialize (parked halves are free)
            self.halves.append(names)

    @staticmethod
    def _build_block(spec: mujoco.MjSpec) -> None:
        """A wooden block with two vertical slots along x, open at the top and the front."""
        blk = spec.worldbody.add_body(name=_BLOCK, pos=[0, 0, props.PARK_Z], mocap=True)
        wood = (0.45, 0.3, 0.18, 1)
        length = 2 * BLADE_HALF[0]
        xc = BLADE_X + 0.006  # slots hold the blades/heads only: the handles stay clear
        height = 0.028
        c.box(blk, f"{_BLOCK}_floor", (length / 2, 0.1, SLOT_FLOOR / 2), (xc, 0, SLOT_FLOOR / 2),
              rgba=wood)
        half_gap = 0.0065
        for k, (y0, y1) in enumerate(((-0.1, -SLOT_GAP - half_gap),
                                      (-SLOT_GAP + half_gap, SLOT_GAP - half_gap),
                                      (SLOT_GAP + half_gap, 0.1))):
            c.box(blk, f"{_BLOCK}_wall_{k}", (length / 2, (y1 - y0) / 2, height / 2),
                  (xc, (y0 + y1) / 2, SLOT_FLOOR + height / 2), rgba=wood)

    @staticmethod
    def _build_tool(spec: mujoco.MjSpec, name: str, blade: bool) -> None:
        """A handle along body x (origin = grasp point) and, ahead of it, a blade or spoon head."""
        b = c.body(spec.worldbody, name, (0, 0.3 if blade else 0.6, props.PARK_Z), free=True)
        handle_rgba = (0.12, 0.12, 0.12, 1) if blade else (0.7, 0.52, 0.3, 1)
        # Most of the mass is in the blade / spoon head, so a tool rests stably in its slot
        # with the handle cantilevered out towards the robot.
        c.box(b, f"{name}_handle", HANDLE_HALF, (0, 0, 0), rgba=handle_rgba, mass=0.03,
              friction=[1.0, 0.05, 0.001], condim=4)
        if blade:
            c.box(b, f"{name}_blade", BLADE_HALF, (BLADE_X, 0, BLADE_Z),
                  rgba=(0.78, 0.8, 0.83, 1), mass=0.12, contype=CONTACT_BLADE,
                  conaffinity=CONTACT_WORLD | CONTACT_GROUND)
        else:
            c.box(b, f"{name}_neck", (0.02, 0.004, 0.006), (0.06, 0, 0.0), rgba=handle_rgba,
                  mass=0.01)
            c.box(b, f"{name}_head", (0.03, 0.005, BLADE_HALF[2]),
                  (0.095, 0, BLADE_Z), rgba=handle_rgba, mass=0.1)

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Board with two vegetables, utensil block beside it, target kind, robot pose."""
        center, top = self.layout.counter_top(sim)
        front = center[0] - 0.3
        board_dy = rng.uniform(-0.4, 0.0)  # counter-relative (mirrored with the row)
        board_xy = np.array([front + 0.04 + BOARD_HALF[0],
                             self.layout.counter_point(sim, 0.0, board_dy)[1]])
        sim.set_mocap_pose(_BOARD, np.array([*board_xy, top]), yaw=0.0)
        self.board_top = top + 2 * BOARD_HALF[2]
        kinds = HELD_OUT_KINDS if self.held_out_objects else TRAIN_KINDS
        picks = rng.choice(len(kinds), _N_VEG, replace=False)
        self.kinds = [kinds[int(i)] for i in picks]
        self.seam0: list[float] = []
        for v, (a, b) in enumerate(self.halves):
            yc = board_xy[1] + (v - (_N_VEG - 1) / 2) * VEG_PITCH
            yaw = rng.uniform(-0.12, 0.12)
            xc = board_xy[0] + rng.uniform(-0.02, 0.02)
            rgba = np.array(self.kinds[v][1])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.04, 0.04, 3), 0, 1)
            axis = yaw_matrix(yaw)[:, 1]  # a vegetable lies along its own y
            for k, half in enumerate((a, b)):
                sign = -1.0 if k == 0 else 1.0
                pos = np.array([xc, yc, self.board_top + 0.0005]) + sign * VEG_HALF / 2 * axis
                sim.set_free_pose(half, pos, yaw_quat(yaw))
                sim.set_body_rgba(half, rgba)  # skin and tip, not the hidden collision box
            self._weld(sim, v)
        self.target_kind = self.kinds[int(rng.integers(_N_VEG))][0]
        # The blade's contact bits (it gains CONTACT_VEG at a cut) are back to the built ones:
        # the env's model ledger restores them at every reset.

        # Counter-relative, like the board: the block must stay off the sink's end.
        side = 1.0 if rng.random() < 0.5 else -1.0
        if not -0.85 < board_dy + side * BLOCK_OFFSET < 0.45:
            side = -side
        block_y = self.layout.counter_point(sim, 0.0, board_dy + side * BLOCK_OFFSET)[1]
        block_xy = np.array([front + 0.09, block_y])
        sim.set_mocap_pose(_BLOCK, np.array([*block_xy, top]), yaw=0.0)
        knife_slot = 1.0 if rng.random() < 0.5 else -1.0
        z = top + SLOT_FLOOR - (BLADE_Z - BLADE_HALF[2]) + 0.0005
        sim.set_free_pose(_KNIFE, np.array([block_xy[0], block_y + knife_slot * SLOT_GAP, z]))
        sim.set_free_pose(_SPOON, np.array([block_xy[0], block_y - knife_slot * SLOT_GAP, z]))
        self.top = top
        self.layout.place_robot_before_counter(sim, rng, (board_dy - BOARD_HALF[1],
                                                          board_dy + BOARD_HALF[1]))
        self.instruction = self.templates.sample(rng, phrasing, vegetable=self.target_kind)
        return self.instruction

    @property
    def target_index(self) -> int:
        """Which vegetable (index into ``halves``) the instruction names."""
        return [word for word, _ in self.kinds].index(self.target_kind)

    def goals(self) -> list[tuple[str]]:
        """Every vegetable's kind."""
        return [(word,) for word, _ in self.kinds]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named vegetable's two halves."""
        return self.halves[self.target_index]

    def _weld(self, sim: Sim, v: int) -> None:
        """Join vegetable ``v``'s halves as they lie now and remember their centre distance."""
        a, b = self.halves[v]
        sim.forward_kinematics()
        pa, pb = sim.body_pos(a), sim.body_pos(b)
        ra = sim.body_mat(a)
        # Half b held where it lies now in half a's frame (same yaw: identity rotation).
        sim.set_weld_relpose(self.welds[v], ra.T @ (pb - pa))
        sim.set_weld(self.welds[v], True)
        while len(self.seam0) <= v:
            self.seam0.append(0.0)
        self.seam0[v] = float(np.linalg.norm(pb - pa))

    # -- the cut -----------------------------------------------------------------------------
    def seam(self, sim: Sim, v: int) -> tuple[np.ndarray, np.ndarray]:
        """World point in the middle of vegetable ``v`` (the end of half a) and its axis."""
        a = self.halves[v][0]
        ra = sim.body_mat(a)
        return sim.body_pos(a) + ra @ np.array([0.0, VEG_HALF / 2, 0.0]), ra[:, 1]

    def blade_edge(self, sim: Sim, point: np.ndarray | None = None, t: float = 0.0
                   ) -> np.ndarray:
        """A point of the blade's edge: the one nearest ``point`` along the blade, or the one
        ``t`` metres from the edge's middle (positive towards the tip)."""
        center, mat = sim.geom_pos(f"{_KNIFE}_blade"), sim.geom_mat(f"{_KNIFE}_blade")
        if point is not None:
            t = float((point - center) @ mat[:, 0])
        t = float(np.clip(t, -BLADE_HALF[0], BLADE_HALF[0]))
        return center + mat @ np.array([t, 0.0, -BLADE_HALF[2]])

    def _blade_force(self, sim: Sim) -> float:
        """Total normal force between the blade and the cutting board (N)."""
        return sim.contact_force(sim.geom_id(f"{_KNIFE}_blade"), sim.geom_id(f"{_BOARD}_wood"))

    def cutting(self, sim: Sim, v: int) -> bool:
        """Whether the knife is, right now, through vegetable ``v`` at its middle."""
        mat = sim.geom_mat(f"{_KNIFE}_blade")
        center = sim.geom_pos(f"{_KNIFE}_blade")
        s, axis = self.seam(sim, v)
        rel = s - center
        within = abs(rel @ mat[:, 0]) < BLADE_HALF[0] - 0.01
        on_plane = abs(rel @ mat[:, 1]) < SEAM_TOL
        across = abs(mat[:, 1] @ axis) > ALIGN_COS
        through = self.blade_edge(sim, s)[2] < self.board_top + 0.006
        return bool(within and on_plane and across and through)

    def advance(self, sim: Sim) -> None:
        """Cut a vegetable the knife has gone through with enough force (before the next step)."""
        force = None
        for v, weld in enumerate(self.welds):
            if not sim.weld_active(weld) or not self.cutting(sim, v):
                continue
            force = self._blade_force(sim) if force is None else force
            if force >= CUT_FORCE:
                sim.set_weld(weld, False)
                blade = f"{_KNIFE}_blade"
                sim.set_contact_bits(blade, conaffinity=sim.contact_bits(blade)[1] | CONTACT_VEG)

    def gap(self, sim: Sim, v: int) -> float:
        """How far vegetable ``v``'s halves have moved apart since they were joined (m)."""
        a, b = self.halves[v]
        return float(np.linalg.norm(sim.body_pos(b) - sim.body_pos(a))) - self.seam0[v]

    def evaluate(self, sim: Sim) -> Evaluation:
        """Target cut and apart; the other one cut, the knife dropped or a piece fallen fails."""
        cut = [not sim.weld_active(w) for w in self.welds]
        t = self.target_index
        gap = self.gap(sim, t)
        pieces = [h for pair in self.halves for h in pair]
        floor = COUNTER_TOP - 0.2
        knife_down = sim.body_pos(_KNIFE)[2] < floor
        fallen = bool(np.any(sim.positions(pieces)[:, 2] < floor))
        failure, reason = False, None
        if any(cut[v] for v in range(_N_VEG) if v != t):
            failure, reason = True, "cut the wrong vegetable"
        elif knife_down:
            failure, reason = True, "knife dropped"
        elif fallen:
            failure, reason = True, "vegetable fell off the counter"
        spoon_down = sim.body_pos(_SPOON)[2] < floor
        s, _ = self.seam(sim, t)
        edge = self.blade_edge(sim, s)
        return Evaluation(
            success=cut[t] and gap >= GAP_SUCCESS and not failure,
            failure=failure, failure_reason=reason,
            task_cost=float(knife_down or fallen or spoon_down),
            progress={"cut": float(cut[t]), "halves_gap_m": gap,
                      "blade_to_seam_m": float(np.linalg.norm(edge - s))},
        )

    # -- expert ----------------------------------------------------------------------------
    def expert(self, sim: Sim) -> Expert:
        """Grasp the knife's handle from the front, lift it out, walk to the board, press down."""
        rot = grasp_rotation(0.1)
        v = self.target_index

        def over_seam(dz: float) -> PosFn:
            """TCP goal putting the blade's edge over the seam, ``dz`` above the board top."""
            def pos(sim: Sim) -> np.ndarray:
                s, _ = self.seam(sim, v)
                # Cut near the heel of the blade: the press force acts closer to the hand, so the
                # pinch holds the knife against the torque.
                edge = self.blade_edge(sim, t=-0.025)
                goal = np.array([s[0], s[1], self.board_top + dz])
                return sim.tcp("right") + goal - edge
            return pos

        def stand_for_cut(sim: Sim) -> np.ndarray:
            return stand_for(over_seam(0.05)(sim), sim)

        # The handle sits in a slot block: raised higher, approached from further back and
        # lower, and pinched precisely; lifted gently (the blade must clear the slot).
        pick = pick_phases(_KNIFE, 0.0, grasp_back=0.0, rot=rot, raise_up=0.1, approach_back=0.14,
                           approach_up=0.03, approach_tol=0.03, pre_back=0.12, pre_tol=0.015,
                           settle_tol=0.004, lift=0.09, lift_tol=0.02, lift_speed=0.5)
        return Expert(pick + [
            Navigate(stand_for_cut, tol=0.02, speed=0.5),
            Reach("right", over_seam(0.05), rot, tol=0.008, max_steps=50, speed=0.6
                  ).named("over seam"),
            Press(self, over_seam, rot),
            Retry(lambda s: not s.weld_active(self.welds[v]), to="over seam", times=2),
            Reach("right", lambda s: s.tcp("right") + np.array([0, 0, 0.08]), rot, tol=0.01,
                  max_steps=1000, freeze=True, speed=0.5),
        ])


@dataclass
class Press(Phase):
    """Lower the blade onto the board at the seam and press ~1 cm below contact until it cuts."""

    task: CutVegetable
    over_seam: Callable[[float], PosFn]
    rot: np.ndarray
    depth: float = -0.012
    max_steps: int = 60

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        goal = self.over_seam(self.depth)(sim)
        # Track the seam in x/y but keep the hand's own descent slow: no integral wind-up, so
        # the press force stays moderate (the servo's stiffness times ~1 cm).
        pos_r = sim.to_robot_frame(goal)
        done = not sim.weld_active(self.task.welds[self.task.target_index])
        return Command(base=np.zeros(3), tcp={"right": (pos_r, self.rot)}, speed=0.3), done
