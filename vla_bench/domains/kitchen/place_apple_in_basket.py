"""Kitchen: pick up the apple of the instructed colour and place it in the basket."""

from __future__ import annotations

import mujoco
import numpy as np

from vla_bench.domains.kitchen.layout import COUNTER_TOP, KitchenLayout
from vla_bench.experts.base import Expert
from vla_bench.experts.manipulation import pick_and_place_expert
from vla_bench.geometry import yaw_quat
from vla_bench.language import Templates
from vla_bench.registry import register_task
from vla_bench.scene import props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

# Apple colours: the split's pool (props.color_pool) and one more each, so five apples.
APPLE_COLORS = (*props.TRAIN_COLORS, "pink")
HELD_OUT_APPLE_COLORS = (*props.HELD_OUT_COLORS, "brown")  # the "unseen_objects" split
_EXTRA_RGBA = {"pink": (0.95, 0.5, 0.65, 1.0), "brown": (0.45, 0.28, 0.12, 1.0)}
N_APPLES = len(APPLE_COLORS)
N_SLOTS = N_APPLES + 1  # apples and basket, shuffled into slots along the counter front
BASKET_INNER = (0.18, 0.18)
BASKET_HEIGHT = 0.07


@register_task(domain="kitchen", family="manipulation", max_episode_steps=300)
class PlaceAppleInBasket(Task):
    """Pick up the {color} apple and place it in the basket.

    **Description** — Five apples (red, green, yellow, blue, pink) lie in a row on the kitchen
    counter with a wicker basket. The instruction names one colour; the robot must put that
    apple, and only that one, into the basket.

    **Randomisation** — target colour (orange / purple / white / black / brown apples instead
    in the ``unseen_objects`` split); the order of the apples and the basket in six slots
    25 cm apart (±2 cm) along the counter front, 10–22 cm deep, on the counter's sink-free
    part (mirrored with the row in ``unseen_layouts``); basket yaw (±0.3 rad); robot start
    pose (1.6 ± 0.1 m before the counter centre, facing the row: y at its middle ±0.1 m, yaw
    ±0.15 rad); fixture jitter (±4 cm, ±3°); instruction template.

    **Success** — the target apple's centre is inside the basket's inner walls, below its rim,
    not held by either gripper, and no other apple is in the basket.

    **Failure** — a distractor apple ends up in the basket (wrong object), or the target apple
    falls to the floor.

    **Safety notes** — ``task`` cost when any apple falls off the counter; collisions with the
    counter and contact forces are counted by the env.

    **Alternatives in the scene** — the five apples: same shape, told apart only by the
    colour word. Measured blind success (expert toward a uniformly drawn alternative, seeds
    0–49): 0.19.

    **Version history** — v1 (2026-11): first release. v2 (2026-12): five apples in a row of
    slots (five alternatives, goal = the named colour); the robot starts further back, facing
    the row; objects mirrored with the held-out kitchen row.
    """

    templates = Templates(
        train=(
            "pick up the {color} apple and place it in the basket",
            "put the {color} apple in the basket",
            "place the {color} apple into the basket",
            "grab the {color} apple and drop it in the basket",
            "move the {color} apple to the basket",
            "take the {color} apple and put it inside the basket",
        ),
        test=(
            "could you set the {color} apple in the basket",
            "the {color} apple belongs in the basket, please move it there",
            "transfer the {color} apple into the wicker basket",
        ),
    )
    layout: KitchenLayout
    goal_fields = ("target_color",)

    def build(self, spec: mujoco.MjSpec) -> None:
        """Five apples and a basket."""
        self.apples = [props.apple(spec, f"apple_{i}") for i in range(N_APPLES)]
        self.basket = props.open_box(spec, "basket", BASKET_INNER, BASKET_HEIGHT,
                                     rgba=(0.62, 0.45, 0.22, 1))

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Place apples and basket on the counter; pick the target colour."""
        center, top = self.layout.counter_top(sim)
        # Slots 25 cm apart (±2 cm) along the counter front, clear of the sink's end.
        dys = np.linspace(-0.85, 0.42, N_SLOTS) + rng.uniform(-0.02, 0.02, N_SLOTS)
        spots = [self.layout.counter_point(sim, rng.uniform(-0.22, -0.10), dy)
                 for dy in rng.permutation(dys)]
        colors = [str(x) for x in rng.permutation(HELD_OUT_APPLE_COLORS if self.held_out_objects
                                                  else APPLE_COLORS)]
        self.apple_of = dict(zip(colors, self.apples, strict=True))
        for apple, color, xy in zip(self.apples, colors, spots[:N_APPLES], strict=True):
            rgba = np.array(props.COLORS.get(color) or _EXTRA_RGBA[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.05, 0.05, 3), 0, 1)
            sim.set_rgba(apple, rgba)
            sim.set_free_pose(apple, np.array([xy[0], xy[1], top + 0.036]))
        self.target_color = str(rng.choice(colors))
        bxy = spots[N_APPLES]
        yaw = rng.uniform(-0.3, 0.3)
        sim.set_free_pose(self.basket, np.array([bxy[0], bxy[1], top + 0.001]), yaw_quat(yaw))
        self.layout.place_robot_before_counter(sim, rng, (-0.85, 0.42), back=1.6)
        self.instruction = self.templates.sample(rng, phrasing, color=self.target_color)
        return self.instruction

    @property
    def target(self) -> str:
        """The named apple's body."""
        return self.apple_of[self.target_color]

    def goals(self) -> list[tuple[str]]:
        """Every apple's colour."""
        return [(color,) for color in self.apple_of]

    def goal_bodies(self, sim: Sim) -> tuple[str, ...]:
        """The named apple."""
        return (self.target,)

    def evaluate(self, sim: Sim) -> Evaluation:
        """Target in basket and released; wrong apple in basket or a fall fails."""
        half = (BASKET_INNER[0] / 2, BASKET_INNER[1] / 2)
        inside = sim.inside(self.apples, self.basket, half, (0.0, BASKET_HEIGHT))
        is_target = np.array([a == self.target for a in self.apples])
        dropped = sim.positions(self.apples)[:, 2] < COUNTER_TOP - 0.2
        wrong = bool(np.any(inside & ~is_target))
        target_in = bool(np.any(inside & is_target))
        failure, reason = False, None
        if wrong:
            failure, reason = True, "wrong apple in the basket"
        elif bool(np.any(dropped & is_target)):
            failure, reason = True, "target apple dropped"
        held = target_in and any(sim.grasped_by(self.target, s) for s in ("right", "left"))
        dist = float(np.linalg.norm(sim.body_pos(self.target)[:2] - sim.body_pos(self.basket)[:2]))
        return Evaluation(
            success=target_in and not held and not wrong,
            failure=failure, failure_reason=reason, task_cost=float(np.any(dropped)),
            progress={"target_to_basket_m": dist},
        )

    def expert(self, sim: Sim) -> Expert:
        """Walk to the apple, grasp from the front, carry it over the basket, release."""
        return pick_and_place_expert(self.target, self.basket, release_height=0.07)
