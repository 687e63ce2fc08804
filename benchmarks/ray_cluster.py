"""Evaluation on a Ray cluster of two nodes: episodes per minute with 1 and 2 workers.

    python benchmarks/ray_cluster.py [--episodes 8] [--max-steps 60] [--env ID] [--json PATH]

Starts a head node with no CPUs and two worker nodes with one CPU each, as separate raylet
processes on this machine (``ray.cluster_utils.Cluster``: what ``ray start --head`` and
``ray start --address=HEAD`` do on real machines), then runs the same ``random``-policy
episodes (default observation, ``--max-steps`` each) through ``vla-bench``'s Ray backend with 1
worker and with 2 (one per node), and prints episodes per minute and their ratio. On a real
cluster each node brings its own cores; here both nodes share this machine's, so the ratio is
capped by its core count (2 on the project's machine). Wall time includes starting the actors
and compiling their envs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from vla_bench.evaluation.runner import evaluate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=8, help="episodes per run")
    parser.add_argument("--max-steps", type=int, default=60)
    parser.add_argument("--env", default="VLA-Outdoor-WalkToTree-v1")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    out: dict[str, float] = {}
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        with tempfile.TemporaryDirectory() as tmp:
            for workers in (1, 2):
                t0 = time.perf_counter()
                res = evaluate("random", tasks=[args.env], episodes_per_task=args.episodes,
                               max_steps=args.max_steps, backend="ray", workers=workers,
                               ray_address=cluster.address, out_dir=Path(tmp) / str(workers),
                               progress=False, reports=False)
                wall = time.perf_counter() - t0
                assert len(res.records) == args.episodes
                out[f"episodes_per_min_{workers}"] = 60.0 * args.episodes / wall
                print(f"{workers} worker{'s' if workers > 1 else ' '} on "
                      f"{workers} node{'s' if workers > 1 else ' '}: {args.episodes} episodes in "
                      f"{wall:6.1f} s = {out[f'episodes_per_min_{workers}']:5.1f} episodes/min")
    finally:
        ray.shutdown()
        cluster.shutdown()
    out["ratio"] = out["episodes_per_min_2"] / out["episodes_per_min_1"]
    print(f"2 nodes / 1 node: {out['ratio']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
