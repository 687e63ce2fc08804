"""Evaluation throughput: episodes per minute with 1 and 2 worker processes, and the runner's
overhead over stepping the same episodes in a plain loop.

    python benchmarks/eval_throughput.py [--episodes 4] [--max-steps 100] [--repeats 1]
                                         [--cameras none head] [--env ID ...] [--json PATH]

For each camera setting (``none`` = ``cameras=()``, ``head`` = the protocol's head RGB-D at
224x224), the same episodes (the first ``--episodes`` test_seen seeds of each task, capped at
``--max-steps``, driven by the scripted expert) run four ways, each timed end to end including
env construction (one env per task):

- ``bare``: a plain loop: ``make``, ``reset(seed)``, ``step(expert_action())`` until done;
- ``runner, 1 worker``: ``evaluate(workers=1)`` with the default per-call policy timeout (a
  SIGALRM timer around each call) — records, JSONL with fsync, no reports;
- ``runner, 1 worker, no timeout``: the same with ``policy_timeout_s=None``;
- ``runner, 2 workers``: two forkserver processes (includes their start-up);
- ``bare, chunks of 5`` (with cameras): the plain loop, the images of 4 steps in 5 skipped as
  the runner skips them inside an open-loop action chunk.

Ratios: runner / bare wall time (overhead), and episodes/min with 2 workers over 1 (scaling;
the machine's core count bounds it). Single runs on a shared machine: expect ±30 %.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from functools import partial

if "MUJOCO_GL" not in os.environ:
    import ctypes.util

    os.environ["MUJOCO_GL"] = "egl" if ctypes.util.find_library("EGL") else "osmesa"

import vla_bench  # noqa: E402
from vla_bench.evaluation import protocol  # noqa: E402
from vla_bench.evaluation.runner import evaluate  # noqa: E402

DEFAULT_TASKS = ("VLA-Office-GoToPrinter-v1", "VLA-Outdoor-WalkToTree-v1")


def bare(ids: list[str], episodes: int, max_steps: int, cameras: tuple[str, ...],
         chunk: int = 1) -> tuple[float, float, int]:
    """Wall time, CPU time and steps of the plain loop over the same episodes; ``chunk`` > 1
    skips the images of the steps inside a chunk, as the runner does for an open-loop one."""
    t0, c0 = time.perf_counter(), time.process_time()
    steps = 0
    for env_id in ids:
        m = protocol.load_manifest(env_id)
        env = vla_bench.make(env_id, cameras=cameras, split="test_seen")
        budget = min(max_steps, m.max_steps)
        for seed in m.splits["test_seen"][:episodes]:
            env.reset(seed=seed)
            for t in range(budget):
                if (t + 1) % chunk:
                    env.unwrapped.skip_next_images()
                _, _, terminated, truncated, _ = env.step(env.unwrapped.expert_action())
                steps += 1
                if terminated or truncated:
                    break
        env.close()
    return time.perf_counter() - t0, time.process_time() - c0, steps


def through_runner(ids: list[str], episodes: int, max_steps: int, cameras: tuple[str, ...],
                   workers: int, timeout: float | None) -> tuple[float, float, int]:
    """The same through ``evaluate`` (CPU time counts this process only)."""
    out = tempfile.mkdtemp(prefix="vla_eval_bench_")
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        res = evaluate("expert", out_dir=out, tasks=ids, episodes_per_task=episodes,
                       max_steps=max_steps, cameras=cameras, workers=workers,
                       policy_timeout_s=timeout, progress=False, reports=False)
        return (time.perf_counter() - t0, time.process_time() - c0,
                sum(r["steps"] for r in res.records))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def call_overhead_us(timeout: float | None, n: int = 20_000) -> float:
    """Microseconds the runner adds per policy call (a no-op policy), with/without timeout."""
    from vla_bench.evaluation.episode import PolicyCaller

    class _Noop:
        def act(self, obs: object) -> int:
            return 0

    caller = PolicyCaller(_Noop, timeout)
    t0 = time.perf_counter()
    for _ in range(n):
        caller.call("act", None)
    return (time.perf_counter() - t0) / n * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4, help="seeds per task (default 4)")
    parser.add_argument("--max-steps", type=int, default=100, help="step cap (default 100)")
    parser.add_argument("--cameras", nargs="+", default=["none", "head"],
                        help="camera settings to measure: none and/or head (default both)")
    parser.add_argument("--env", action="append", help=f"task ids (default {DEFAULT_TASKS})")
    parser.add_argument("--workers", type=int, default=2, help="parallel run size (default 2)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per mode; the fastest counts (default 1)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    ids = args.env or list(DEFAULT_TASKS)
    n_eps = len(ids) * args.episodes
    results: dict[str, dict[str, float]] = {}  # per camera setting, plus call overhead
    print(f"{n_eps} expert episodes ({', '.join(ids)}; {args.episodes} test_seen seeds each, "
          f"<= {args.max_steps} steps), {os.cpu_count()} CPUs, {platform.processor() or '?'}, "
          f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}\n")
    header = ("cameras", "mode", "wall s", "CPU s (this process)", "steps", "episodes/min",
              "steps/s")
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for setting in args.cameras:
        cams: tuple[str, ...] = () if setting == "none" else tuple(setting.split(","))
        bare(ids, 1, 1, cams)  # warm-up: imports, mesh cache, renderer start-up
        eps, cap, w = args.episodes, args.max_steps, args.workers
        modes = {
            "bare": partial(bare, ids, eps, cap, cams),
            "runner, 1 worker": partial(through_runner, ids, eps, cap, cams, 1, 60.0),
            "runner, 1 worker, no timeout": partial(through_runner, ids, eps, cap, cams, 1, None),
            f"runner, {w} workers": partial(through_runner, ids, eps, cap, cams, w, 60.0),
        }
        if cams:
            modes["bare, chunks of 5"] = partial(bare, ids, eps, cap, cams, 5)
        # Best of --repeats, modes interleaved, so a burst of load elsewhere hits all alike.
        runs: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.repeats):
            for mode, fn in modes.items():
                timing = fn()
                if mode not in runs or timing[0] < runs[mode][0]:
                    runs[mode] = timing
        row: dict[str, float] = {}
        for mode, (wall, cpu, steps) in runs.items():
            epm = n_eps / wall * 60.0
            row[f"{mode} episodes/min"] = epm
            cpu_text = "n/a (children)" if "workers" in mode else f"{cpu:.2f}"
            print(f"| {setting} | {mode} | {wall:.2f} | {cpu_text} | {steps} | {epm:.1f} | "
                  f"{steps / wall:.0f} |")
        bare_wall, bare_cpu = runs["bare"][:2]
        row["overhead ratio runner/bare"] = runs["runner, 1 worker"][0] / bare_wall
        row["overhead ratio runner/bare, CPU time"] = runs["runner, 1 worker"][1] / bare_cpu
        row["overhead ratio runner(no timeout)/bare"] = \
            runs["runner, 1 worker, no timeout"][0] / bare_wall
        row[f"scaling ratio {args.workers} workers / 1"] = \
            runs["runner, 1 worker"][0] / runs[f"runner, {args.workers} workers"][0]
        if "bare, chunks of 5" in runs:
            row["speed-up of chunks of 5 (images skipped inside)"] = \
                bare_wall / runs["bare, chunks of 5"][0]
        row["steps_equal"] = float(len({t[2] for t in runs.values()}) == 1)
        results[setting] = row
    print()
    chunked = "speed-up of chunks of 5 (images skipped inside)"
    for setting, row in results.items():
        print(f"cameras={setting}: runner/bare wall {row['overhead ratio runner/bare']:.3f}, "
              f"CPU {row['overhead ratio runner/bare, CPU time']:.3f} "
              f"(no timeout, wall {row['overhead ratio runner(no timeout)/bare']:.3f}); "
              f"{args.workers} workers / 1 = "
              f"{row[f'scaling ratio {args.workers} workers / 1']:.2f}x"
              + (f"; chunks of 5 {row[chunked]:.2f}x faster" if chunked in row else "")
              + ("" if row["steps_equal"] else "  [WARNING: step counts differ]"))
    direct, timed = call_overhead_us(None), call_overhead_us(60.0)
    print(f"per policy call: {direct:.1f} us direct, {timed:.1f} us with the timeout timer")
    results["call_overhead_us"] = {"direct": direct, "with_timeout": timed}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"episodes": n_eps, "tasks": ids, "max_steps": args.max_steps,
                       "cpus": os.cpu_count(), "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
