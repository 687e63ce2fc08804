"""Foot slip of the walking gait: how far planted feet slide, per stance, per command.

    python benchmarks/gait_slip.py [--robots g1,g1_23,h1] [--seconds 5] [--json PATH]

Each row drives ``base_only`` on the outdoor field from standing with one constant command for
``--seconds`` (random: a fresh uniform command every control step), sampling both feet every
physics step (:func:`vla_bench.control.gait.record_feet`). A *stance* is a run of samples with
the sole within 1 cm of the ground; its slip is the largest horizontal distance between two
positions of the foot during it (:func:`~vla_bench.control.gait.stance_slip`). Printed per row:
the number of stances, the median and largest slip over all of them, the largest once the first
second (the start-up steps) is over, and the fastest leg joint (rad/s). The issue's target is
< 2 cm per step. The gait is kinematic animation on a carried pelvis (the feet do not touch
the ground physically), so slip measures how well the legs' servos and IK follow the plan.
Deterministic: the same figures every run.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

import vla_bench
from vla_bench.control.gait import FootProbe, record_feet, stance_slip
from vla_bench.conventions import CONTROL_DT, SUBSTEPS

ENV_ID = "VLA-Outdoor-WalkToTree-v1"
# Normalised base actions (vx, vy, wz); |a| = 1 is 0.6 m/s, 0.3 m/s, 1 rad/s.
COMMANDS: dict[str, tuple[float, float, float] | None] = {
    "forward 0.3 m/s": (0.5, 0.0, 0.0),
    "forward 0.6 m/s": (1.0, 0.0, 0.0),
    "backward 0.6 m/s": (-1.0, 0.0, 0.0),
    "sideways 0.3 m/s": (0.0, 1.0, 0.0),
    "turn 1 rad/s": (0.0, 0.0, 1.0),
    "arc 0.3 m/s, 0.5 rad/s": (0.5, 0.0, 0.5),
    "arc 0.6 m/s, 1 rad/s": (1.0, 0.0, 1.0),
    "random": None,
}


def measure(robot: str, seconds: float) -> list[dict]:
    """One row per command for ``robot``."""
    env = vla_bench.make(ENV_ID, cameras=(), control_mode="base_only", robot=robot)
    e = env.unwrapped
    probe = FootProbe(e.model, e.handles, e.layout.ground_height)
    steps = round(seconds / CONTROL_DT)
    settled = round(1.0 / CONTROL_DT) * SUBSTEPS
    legs = e.handles.dof_adr[: len(e.robot_model.legs)]
    rows = []
    try:
        for name, command in COMMANDS.items():
            env.reset(seed=0)
            rng = np.random.default_rng(0)
            speeds: list[float] = []

            def apply(command: tuple | None = command, rng: np.random.Generator = rng,
                      speeds: list[float] = speeds) -> None:
                a = rng.uniform(-1, 1, 3) if command is None else np.array(command, float)
                e.controller.apply(a, e.data)
                speeds.append(float(np.abs(e.data.qvel[legs]).max()))

            xy, sole = record_feet(e.model, e.data, apply, probe, steps)
            every = [s for foot in stance_slip(xy, sole) for s in foot]
            later = [s for foot in stance_slip(xy[settled:], sole[settled:]) for s in foot]
            rows.append({"robot": robot, "command": name, "stances": len(every),
                         "median_cm": 100 * float(np.median(every)),
                         "max_cm": 100 * float(max(every)),
                         "max_after_1s_cm": 100 * float(max(later)) if later else 0.0,
                         "fastest_joint_rad_s": max(speeds)})
    finally:
        env.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--robots", default="g1,g1_23,h1")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args(argv)
    rows = [r for robot in args.robots.split(",") for r in measure(robot, args.seconds)]
    print(f"{'robot':6s} {'command':24s} {'stances':>7s} {'median':>7s} {'max':>6s} "
          f"{'max >1s':>8s} {'joint':>7s}")
    for r in rows:
        print(f"{r['robot']:6s} {r['command']:24s} {r['stances']:7d} {r['median_cm']:5.1f}cm "
              f"{r['max_cm']:4.1f}cm {r['max_after_1s_cm']:6.1f}cm "
              f"{r['fastest_joint_rad_s']:4.1f}r/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
