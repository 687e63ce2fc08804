"""Env throughput against the raw MuJoCo floor, reset time and memory, measured in one run.

    python benchmarks/throughput.py [--steps 300] [--env VLA-Kitchen-PlaceAppleInBasket-v1]

1. ``env.step`` steps/s with the default observation (head + front RGB-D 224², G1), through
   ``gym.make``'s wrappers, with seeded random (or ``--policy expert``) actions;
2. the raw floor: the env's own compiled model with a fresh ``MjData`` that mirrors the env
   step by step (same start state, then the env's per-step actuator commands) with
   ``mujoco.mj_step(m, d, SUBSTEPS)`` + the same ``RGBDRenderer`` on the same cameras — no
   controller, IK, safety or observation assembly — and the ratio env / floor (spec §10
   target ≥ 0.9). Both run the same trajectory and draw the same images; they are timed
   interleaved, step by step, so that noise from a shared machine hits both alike;
3. reset time: median over ``--resets`` seeded resets (target ≤ 50 ms), no recompilation;
4. memory: the peak RSS (``VmHWM``) of a fresh process holding one env (what each
   vector-env worker costs), the RSS growth of creating the first env and a second one in
   this process, and this process's peak RSS;
5. steps/s of every registered per-task id (default observation), slowest first; and the
   camera-less rate (``cameras=()``) of the main id, the physics-bound ceiling.

Prints a table; ``--json PATH`` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

import vla_bench
from vla_bench import conventions as cv
from vla_bench.rendering import RGBDRenderer, select_backend

DEFAULT_ENV = "VLA-Kitchen-PlaceAppleInBasket-v1"


def rss_mb() -> float:
    """Current resident set size of this process in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_STATE = mujoco.mjtState.mjSTATE_INTEGRATION


def _get_state(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    state = np.empty(mujoco.mj_stateSize(model, _STATE))
    mujoco.mj_getState(model, data, state, _STATE)
    return state


class RawFloor:
    """The env's compiled model stepped and rendered without the env.

    It mirrors the env step by step: same start state, then each step the env's actuator
    commands, ``SUBSTEPS`` physics steps and one RGB-D render of each of its cameras. Both do the
    same physics and draw the same images; what differs is the env's own work (action
    validation, controller/IK, task evaluation, safety, state vector, info).
    """

    def __init__(self, env: Any) -> None:
        u = env.unwrapped
        self.model = u.model
        self.data = mujoco.MjData(self.model)
        self.cameras = [u._camera_ids[c] for c in u.cameras]
        h, w = u.image_size
        self.renderer = RGBDRenderer(self.model, h, w)

    def set_state(self, state: np.ndarray) -> None:
        """Start from the env's state (after a reset, or at the start of a run)."""
        mujoco.mj_setState(self.model, self.data, state, _STATE)
        mujoco.mj_forward(self.model, self.data)

    def step(self, ctrl: np.ndarray) -> float:
        """Seconds for one raw step: set the commands, ``SUBSTEPS`` physics steps, render."""
        t0 = time.perf_counter()
        self.data.ctrl[:] = ctrl
        mujoco.mj_step(self.model, self.data, cv.SUBSTEPS)
        for camera in self.cameras:
            self.renderer.render(self.data, camera)
        return time.perf_counter() - t0

    def close(self) -> None:
        """Free the renderer."""
        self.renderer.close()


class Driver:
    """Steps one env with seeded random or expert actions, resetting at episode ends.

    With a :class:`RawFloor`, each env step is followed by the same raw step, so that noise
    from a shared machine falls on both alike.
    """

    def __init__(self, env: Any, policy: str, seed: int = 0) -> None:
        self.env, self.policy = env, policy
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        env.reset(seed=seed)
        self.resets = 0
        self.sim_errors: list[str] = []  # episodes that ended in a physics divergence

    def run(self, n: int, floor: RawFloor | None = None) -> tuple[float, float]:
        """Seconds inside ``env.step`` and inside the raw floor for ``n`` steps."""
        env = self.env
        u = env.unwrapped
        space = env.action_space
        env_s = raw_s = 0.0
        if floor is not None:
            floor.set_state(_get_state(u.model, u.data))
        for _ in range(n):
            if self.policy == "expert":
                action = u.expert_action()
            else:
                action = self.rng.uniform(space.low, space.high).astype(np.float32)
            t0 = time.perf_counter()
            _, _, terminated, truncated, info = env.step(action)
            env_s += time.perf_counter() - t0
            if info["sim_error"]:
                self.sim_errors.append(f"t={u.data.time:.3f}: {info['sim_error']}")
            if floor is not None:
                raw_s += floor.step(u.data.ctrl.copy())
            if terminated or truncated:
                self.resets += 1
                env.reset(seed=self.seed + self.resets)
                if floor is not None:
                    floor.set_state(_get_state(u.model, u.data))
        return env_s, raw_s


ENV_KWARGS: dict[str, Any] = {}  # robot and gait, from the command line

# VmHWM, not ru_maxrss: Linux carries the parent's peak into a child's ru_maxrss across exec.
_ONE_ENV_PROCESS = """
import json, sys, numpy as np, vla_bench
env = vla_bench.make(sys.argv[1], **json.loads(sys.argv[2]))
env.reset(seed=0)
for _ in range(20):
    env.step(np.zeros(env.action_space.shape, np.float32))
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(hwm.split()[1]) / 1024)
"""


def one_env_process_peak_mb(env_id: str) -> float | None:
    """Peak RSS of a fresh process that imports vla_bench, makes one env and steps it."""
    proc = subprocess.run([sys.executable, "-c", _ONE_ENV_PROCESS, env_id,
                           json.dumps(ENV_KWARGS)], capture_output=True, text=True, timeout=300)
    try:
        return float(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None


def measure_main(env_id: str, steps: int, policy: str, resets: int) -> dict[str, Any]:
    """Figures 1–4 for one id."""
    out: dict[str, Any] = {}
    rss0 = rss_mb()
    t0 = time.perf_counter()
    env = vla_bench.make(env_id, **ENV_KWARGS)
    out["make_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    env.reset(seed=0)  # the first reset creates the GL context
    out["first_reset_s"] = time.perf_counter() - t0
    out["env_rss_delta_mb"] = rss_mb() - rss0  # includes one-off imports and mesh caches
    rss1 = rss_mb()
    second = vla_bench.make(env_id, **ENV_KWARGS)
    second.reset(seed=0)
    out["second_env_rss_delta_mb"] = rss_mb() - rss1
    second.close()

    driver = Driver(env, policy)
    floor = RawFloor(env)
    driver.run(10, floor)  # warm caches, both GL contexts and the expert
    out["env_alone_steps_per_s"] = steps / driver.run(steps)[0]
    env_s, raw_s = driver.run(steps, floor)
    # The mirror must have run the same physics, or the comparison means nothing.
    out["replay_exact"] = bool(np.array_equal(floor.data.qpos, env.unwrapped.data.qpos))
    out["floor_warnings"] = int(sum(w.number for w in floor.data.warning))
    out["env_sim_errors"] = driver.sim_errors
    floor.close()
    out["env_steps_per_s"] = steps / env_s
    out["raw_steps_per_s"] = steps / raw_s
    out["ratio"] = out["env_steps_per_s"] / out["raw_steps_per_s"]
    out["env_ms_per_step"] = 1e3 * env_s / steps
    out["raw_ms_per_step"] = 1e3 * raw_s / steps

    times = []
    for seed in range(1, resets + 1):
        t0 = time.perf_counter()
        env.reset(seed=seed)
        times.append(time.perf_counter() - t0)
    out["reset_ms_median"] = 1e3 * statistics.median(times)
    out["reset_ms_p95"] = 1e3 * float(np.percentile(times, 95))
    out["resets_timed"] = resets
    env.close()

    # state + language only: the physics-bound rate
    blind = vla_bench.make(env_id, cameras=(), **ENV_KWARGS)
    driver = Driver(blind, policy)
    driver.run(10)
    out["no_camera_steps_per_s"] = steps / driver.run(steps)[0]
    blind.close()
    return out


def measure_every_task(steps: int, policy: str) -> list[tuple[str, float | None, str]]:
    """Steps/s of every per-task id with the default observation."""
    rows: list[tuple[str, float | None, str]] = []
    for entry in vla_bench.TASKS:
        try:
            env = vla_bench.make(entry.env_id, **ENV_KWARGS)
            driver = Driver(env, policy)
            driver.run(5)
            rows.append((entry.env_id, steps / driver.run(steps)[0], ""))
            env.close()
        except Exception as exc:  # report and go on: one broken task must not hide the rest
            rows.append((entry.env_id, None, f"{type(exc).__name__}: {exc}"))
    return sorted(rows, key=lambda r: (r[1] is not None, r[1] or 0.0))


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="timed steps for 1–2 (default 300)")
    parser.add_argument("--env", default=DEFAULT_ENV, help=f"env id (default {DEFAULT_ENV})")
    parser.add_argument("--policy", choices=("random", "expert"), default="random")
    parser.add_argument("--resets", type=int, default=30, help="timed resets (≥ 20)")
    parser.add_argument("--task-steps", type=int, default=None,
                        help="timed steps per task id in 5 (default steps/3); 0 skips 5")
    parser.add_argument("--robot", default="g1", help="robot (default g1, the 29-DoF G1)")
    parser.add_argument("--no-gait", action="store_true", help="legs still (gait=False)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    ENV_KWARGS.update(robot=args.robot, gait=not args.no_gait)
    if args.env not in vla_bench.env_ids():
        raise vla_bench.UnknownNameError("environment id", args.env, vla_bench.env_ids())

    backend = select_backend()
    print(f"vla_bench {vla_bench.__version__}, mujoco {mujoco.__version__}, "
          f"python {platform.python_version()}, {os.cpu_count()} CPUs, MUJOCO_GL={backend}, "
          f"{platform.processor() or platform.machine()}")
    print(f"env {args.env}, default observation ({' + '.join(cv.DEFAULT_CAMERAS)} RGB-D "
          f"{cv.DEFAULT_IMAGE_SIZE[0]}x{cv.DEFAULT_IMAGE_SIZE[1]}, robot {args.robot}, ee_delta, "
          f"gait {'off' if args.no_gait else 'on'}), "
          f"{args.policy} actions\n")
    res = measure_main(args.env, args.steps, args.policy, args.resets)
    task_steps = args.task_steps if args.task_steps is not None else max(args.steps // 3, 10)
    per_task = measure_every_task(task_steps, args.policy) if task_steps else []
    res["peak_rss_mb"] = peak_rss_mb()
    res["one_env_process_peak_mb"] = one_env_process_peak_mb(args.env) or float("nan")

    rows = [
        ("env.step alone (default obs)", f"{res['env_alone_steps_per_s']:.1f} steps/s",
         f"{1e3 / res['env_alone_steps_per_s']:.1f} ms/step"),
        ("env.step, interleaved with floor", f"{res['env_steps_per_s']:.1f} steps/s",
         f"{res['env_ms_per_step']:.1f} ms/step"),
        (f"raw floor: mj_step×{cv.SUBSTEPS} + render", f"{res['raw_steps_per_s']:.1f} steps/s",
         f"{res['raw_ms_per_step']:.1f} ms/step (same trajectory, same images)"),
        ("ratio env / floor", f"{res['ratio']:.2f}", "target ≥ 0.90 "
         + ("(met)" if res["ratio"] >= 0.9 else "(NOT met)")
         + ("" if res["replay_exact"] else "; WARNING: replay diverged from the env")
         + f"; env overhead {res['env_ms_per_step'] - res['raw_ms_per_step']:.1f} ms/step"),
        ("physics divergences", f"{len(res['env_sim_errors'])} env, {res['floor_warnings']} floor",
         "sim_error episodes / MuJoCo warnings during the timed steps"),
        ("env.step, cameras=()", f"{res['no_camera_steps_per_s']:.1f} steps/s",
         "no rendering: physics + env"),
        (f"reset (median of {res['resets_timed']})", f"{res['reset_ms_median']:.1f} ms",
         f"p95 {res['reset_ms_p95']:.1f} ms; target ≤ 50 ms "
         + ("(met)" if res["reset_ms_median"] <= 50 else "(NOT met)")),
        ("make / first reset", f"{res['make_s']:.2f} s / {res['first_reset_s']:.2f} s",
         "compile + GL context, once per env"),
        ("peak RSS, process with one env", f"{res['one_env_process_peak_mb']:.0f} MiB",
         "fresh process: import, make, reset, 20 steps (VmHWM)"),
        ("RSS delta, first env", f"{res['env_rss_delta_mb']:.0f} MiB",
         "make + reset, incl. one-off imports and caches"),
        ("RSS delta, second env", f"{res['second_env_rss_delta_mb']:.0f} MiB",
         "model + data + renderer of one more env"),
        ("peak RSS of this process", f"{res['peak_rss_mb']:.0f} MiB", "ru_maxrss, all envs above"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>20}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>20}  {note}")
    if per_task:
        print(f"\nsteps/s per task id (default obs, {task_steps} steps each, slowest first):")
        for env_id, sps, err in per_task:
            print(f"  {env_id:<45} " + (f"{sps:7.1f}" if sps is not None else f"  error {err}"))
        res["per_task_steps_per_s"] = {i: s for i, s, _ in per_task}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except vla_bench.VlaBenchError as exc:
        print(f"throughput: error: {exc}", file=sys.stderr)
        sys.exit(2)
