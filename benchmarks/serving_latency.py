"""Policy serving overhead: localhost round trips and eval throughput through a server.

    python benchmarks/serving_latency.py [--calls 300] [--episodes 3] [--max-steps 100]
                                         [--env VLA-Office-GoToPrinter-v1] [--json PATH]

1. Round trip per inference: a ``vla-bench serve --policy noop`` process on 127.0.0.1 and the
   ``openpi`` client policy in this process, one ``act`` per call with the default
   observation (head + front RGB-D 224², state, instruction; ``keys="vla_bench"`` sends them
   all) — median and p95 over ``--calls`` calls, after 10 warm-up calls. The noop policy
   answers at once, so this is the protocol's cost: msgpack encoding, the websocket and the
   server's decoding. Also with the ``libero`` preset (one RGB image + wrist image + state).
2. Eval throughput: the same episodes (``noop``, first ``--episodes`` test_seen seeds, capped at
   ``--max-steps``) through ``vla-bench eval`` in-process and through the server, one worker
   each; the ratio of episodes per minute.

Single runs on a shared machine: expect ±20 %.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

import vla_bench
from vla_bench.evaluation.episode import policy_spec
from vla_bench.evaluation.runner import evaluate


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(policy: str, port: int) -> subprocess.Popen:
    """``vla-bench serve`` in its own process; returns once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "vla_bench.cli", "serve", "--policy", policy,
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError as exc:
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError(f"server exited: {out}") from exc
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start within 60 s")


def round_trips(env_id: str, port: int, calls: int, keys: str) -> dict[str, float]:
    """Median and p95 (ms) of ``act`` round trips with the default observation."""
    from vla_bench.serving.client import OpenPIClientPolicy

    cameras = ("head", "front") if keys == "vla_bench" else ("head", "wrist_right")
    env = vla_bench.make(env_id, cameras=cameras)
    client = OpenPIClientPolicy(port=port, keys=keys)
    try:
        obs, _ = env.reset(seed=0)
        client.setup(policy_spec(env))
        client.seed(0)
        client.reset(obs["instruction"])
        times = []
        for i in range(calls + 10):
            t0 = time.perf_counter()
            client.act(obs)
            if i >= 10:
                times.append((time.perf_counter() - t0) * 1e3)
        payload = sum(np.asarray(v).nbytes for v in obs.values() if isinstance(v, np.ndarray))
    finally:
        client.close()
        env.close()
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)),
            "obs_bytes": int(payload), "calls": calls}


def eval_rate(env_id: str, policy: str, kwargs: dict, episodes: int, max_steps: int) -> float:
    """Episodes per minute of a one-worker ``evaluate`` run."""
    out = tempfile.mkdtemp(prefix="vla-bench-serving-")
    try:
        t0 = time.perf_counter()
        res = evaluate(policy, out_dir=out, tasks=[env_id], episodes_per_task=episodes,
                       max_steps=max_steps, policy_kwargs=kwargs, progress=False,
                       reports=False, cameras=("head", "front"))
        wall = time.perf_counter() - t0
        errors = [r for r in res.records if r["error"]]
        if errors:
            raise RuntimeError(f"{len(errors)} episodes failed: {errors[0]['failure_reason']}")
        return len(res.records) / wall * 60
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--env", default="VLA-Office-GoToPrinter-v1")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    print(f"vla_bench {vla_bench.__version__}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; env {args.env}\n")
    port = _free_port()
    server = start_server("noop", port)
    try:
        res = {"round_trip": {k: round_trips(args.env, port, args.calls, k)
                              for k in ("vla_bench", "libero")}}
        local = eval_rate(args.env, "noop", {}, args.episodes, args.max_steps)
        remote = eval_rate(args.env, "openpi", {"port": port, "keys": "vla_bench"},
                           args.episodes, args.max_steps)
    finally:
        server.terminate()
        server.wait(timeout=10)
    res["eval_episodes_per_min"] = {"in_process": local, "through_server": remote,
                                    "ratio": remote / local}
    for keys, r in res["round_trip"].items():
        print(f"round trip ({keys} keys, {r['obs_bytes'] / 1e3:.0f} kB of arrays): median "
              f"{r['median_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms over {r['calls']} calls")
    e = res["eval_episodes_per_min"]
    print(f"eval, noop, 1 worker: {e['in_process']:.1f} episodes/min in-process, "
          f"{e['through_server']:.1f} through the server (ratio {e['ratio']:.2f})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
