"""Demonstration-generation throughput: demos per minute and MB per demo, one task per
domain, with 1 and 2 workers.

    python benchmarks/datagen.py [--episodes 3] [--workers 1 2] [--format lerobot]
                                 [--image-size 224 224] [--cameras head] [--json PATH]

Each cell is one ``vla_bench.datagen.generate`` call into a fresh directory, timed end to
end (env compilation / worker start-up, rollouts, video encoding, consolidation), so small
``--episodes`` under-state the steady-state rate, more so with 2 workers (start-up of two
processes). Size is the finished directory (videos, parquet, depth npz, meta) / episodes,
and the same without ``depth/`` (what ``--no-depth`` writes).
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
from pathlib import Path

if "MUJOCO_GL" not in os.environ:
    import ctypes.util

    os.environ["MUJOCO_GL"] = "egl" if ctypes.util.find_library("EGL") else "osmesa"

import vla_bench  # noqa: E402
from vla_bench.datagen.generate import generate  # noqa: E402


def _size_mb(root: Path, skip: str | None = None) -> float:
    return sum(p.stat().st_size for p in root.rglob("*")
               if p.is_file() and not (skip and p.relative_to(root).parts[0] == skip)) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--format", choices=("lerobot", "hdf5"), default="lerobot")
    parser.add_argument("--image-size", type=int, nargs=2, default=[224, 224])
    parser.add_argument("--cameras", default="head")
    parser.add_argument("--env", action="append", help="task ids (default: one per domain)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    ids = args.env or [next(t.env_id for t in vla_bench.TASKS if t.domain == d)
                       for d in vla_bench.registry.DOMAINS
                       if any(t.domain == d for t in vla_bench.TASKS)]
    cams = tuple(c for c in args.cameras.split(",") if c)
    rows = []
    for env_id in ids:
        for workers in args.workers:
            out = Path(tempfile.mkdtemp(prefix="vla_datagen_bench_"))
            try:
                t0 = time.perf_counter()
                res = generate(env_id, args.episodes, out, workers=workers, fmt=args.format,
                               cameras=cams, image_size=tuple(args.image_size), progress=False)
                wall = time.perf_counter() - t0
                size = _size_mb(out)
                size_rgb = _size_mb(out, skip="depth")
            finally:
                shutil.rmtree(out, ignore_errors=True)
            rows.append({"env_id": env_id, "workers": workers, "episodes": res["episodes"],
                         "frames": res["frames"], "attempts": res["attempts"], "wall_s": wall,
                         "demos_per_min": 60 * res["episodes"] / wall,
                         "frames_per_s": res["frames"] / wall,
                         "mb_per_demo": size / res["episodes"],
                         "mb_per_demo_without_depth": size_rgb / res["episodes"]})
            r = rows[-1]
            print(f"  {env_id} workers={workers}: {r['demos_per_min']:.1f} demos/min, "
                  f"{r['mb_per_demo']:.2f} MB/demo", file=sys.stderr)
    print(f"\nformat {args.format}, cameras {list(cams)}, image {args.image_size[0]}x"
          f"{args.image_size[1]}, depth on, {args.episodes} episodes per cell, "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}\n")
    print("| task | workers | demos/min | frames/s | MB/demo | MB/demo without depth | wall s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['env_id']} | {r['workers']} | {r['demos_per_min']:.1f} | "
              f"{r['frames_per_s']:.0f} | {r['mb_per_demo']:.2f} | "
              f"{r['mb_per_demo_without_depth']:.2f} | {r['wall_s']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
