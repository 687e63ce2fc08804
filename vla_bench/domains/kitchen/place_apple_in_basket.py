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
from vla_bench.scene import placement, props
from vla_bench.sim import Sim
from vla_bench.task import Evaluation, Task

APPLE_COLORS = ("red", "green", "yellow")
HELD_OUT_APPLE_COLORS = ("orange", "purple", "white")  # the "unseen_objects" split
N_APPLES = 3
BASKET_INNER = (0.18, 0.18)
BASKET_HEIGHT = 0.07


@register_task(domain="kitchen", family="manipulation", max_episode_steps=300)
class PlaceAppleInBasket(Task):
    """Pick up the {color} apple and place it in the basket.

    **Description** — Three apples (red, green, yellow) lie on the kitchen counter next to a
    wicker basket. The instruction names one colour; the robot must put that apple, and only
    that one, into the basket.

    **Randomisation** — target colour (orange / purple / white apples instead in the
    ``unseen_objects`` split); apple and basket positions on the counter (≥ 20 cm
    apart); robot start pose (x ±0.1 m, y ±0.2 m, yaw ±0.3 rad); fixture jitter (±4 cm, ±3°);
    instruction template.

    **Success** — the target apple's centre is inside the basket's inner walls, below its rim,
    not held by either gripper, and no other apple is in the basket.

    **Failure** — a distractor apple ends up in the basket (wrong object), or the target apple
    falls to the floor.

    **Safety notes** — ``task`` cost when any apple falls off the counter; collisions with the
    counter and contact forces are counted by the env.

    **Alternatives in the scene** — the two other apples (the other colours) are valid-looking
    goals: a policy that ignores the colour word succeeds about one time in three at best.

    **Version history** — v1 (2026-11): first release.
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

    def build(self, spec: mujoco.MjSpec) -> None:
        """Three apples and a basket."""
        self.apples = [props.apple(spec, f"apple_{i}") for i in range(N_APPLES)]
        self.basket = props.open_box(spec, "basket", BASKET_INNER, BASKET_HEIGHT,
                                     rgba=(0.62, 0.45, 0.22, 1))

    def initialize(self, sim: Sim, rng: np.random.Generator, phrasing: str) -> str:
        """Place apples and basket on the counter; pick the target colour."""
        center, top = self.layout.counter_top(sim)
        lo = center + np.array([-0.22, -0.7])
        hi = center + np.array([-0.10, 0.42])
        spots = placement.scatter(rng, N_APPLES + 1, lo, hi, min_dist=0.2)
        colors = rng.permutation(HELD_OUT_APPLE_COLORS if self.held_out_objects
                                 else APPLE_COLORS)
        for apple, color, xy in zip(self.apples, colors, spots[:N_APPLES], strict=True):
            rgba = np.array(props.COLORS[str(color)])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-0.05, 0.05, 3), 0, 1)
            sim.set_rgba(apple, rgba)
            sim.set_free_pose(apple, np.array([xy[0], xy[1], top + 0.036]))
        self.target_color = str(rng.choice(colors))
        self.target = self.apples[list(colors).index(self.target_color)]
        bxy = spots[N_APPLES]
        yaw = rng.uniform(-0.3, 0.3)
        sim.set_free_pose(self.basket, np.array([bxy[0], bxy[1], top + 0.001]), yaw_quat(yaw))
        self.layout.place_robot_facing(sim, rng, center[0])
        self.instruction = self.templates.sample(rng, phrasing, color=self.target_color)
        return self.instruction

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
