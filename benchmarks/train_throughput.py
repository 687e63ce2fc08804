"""Training samples/s and per-``act`` inference latency of every learned architecture.

Training: forward + backward + AdamW step on batches of the default preset's shape (two
RGB-D cameras at the preset's resolution, the 8 state entries the models see by default out
of the G1's 73, 17-d actions), timed after warm-up
steps. Inference: the full policy path (``LearnedPolicy.act`` on a default 224x224 two-camera
observation: resize, text features from the per-episode cache, model, de-normalisation) of a
randomly initialised checkpoint; the latency is per ``act`` call (one call per executed chunk).
Parameters: those ``act`` runs with (training-only heads not counted); checkpoint MB: every
stored float32 weight.

    python benchmarks/train_throughput.py [--arch bcz rt1 ...] [--steps 20] [--acts 60]

Run it on a quiet machine: it measures this CPU (torch threads = cores unless --threads).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OBS_STATE = 73  # the 29-DoF G1's state vector
SEEN_STATE = list(range(OBS_STATE - 8, OBS_STATE))  # gripper openings and TCPs: the hands'


def synthetic_batch(cfg, dims, batch_size: int, seed: int = 0) -> dict:
    import torch

    g = torch.Generator().manual_seed(seed)
    s, h = cfg.image_size, getattr(cfg, "history", 1)
    lead = (batch_size,) if h == 1 else (batch_size, h)
    batch = {
        "images": torch.rand(*lead, dims.n_cameras, 4, s, s, generator=g) - 0.25,
        "state": torch.randn(*lead, dims.state_dim, generator=g),
        "text": torch.nn.functional.normalize(torch.randn(batch_size, 384, generator=g), dim=-1),
        "text_tokens": torch.randn(batch_size, 32, 384, generator=g) * 0.1,
        "text_mask": torch.arange(32)[None].expand(batch_size, 32) < 14,
        "actions": torch.rand(*lead, cfg.chunk, dims.action_dim, generator=g) * 2 - 1,
        "action_mask": torch.ones(*lead, cfg.chunk, dtype=torch.bool),
    }
    if h > 1:
        batch["valid"] = torch.ones(batch_size, h, dtype=torch.bool)
    return batch


def train_rate(arch: str, steps: int, batch_size: int) -> tuple[float, int, int]:
    import torch

    from vla_bench.learning import arch_module
    from vla_bench.learning.archs.base import Dims, acting_parameters

    mod = arch_module(arch)
    cfg = mod.PRESETS["default"]
    dims = Dims(action_dim=17, state_dim=len(SEEN_STATE), n_cameras=2)
    torch.manual_seed(0)
    model = mod.Model(cfg, dims)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch = synthetic_batch(cfg, dims, batch_size)
    model.train()

    def one() -> None:
        loss, _ = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        one()
    t0 = time.perf_counter()
    for _ in range(steps):
        one()
    dt = time.perf_counter() - t0
    frames = batch_size * getattr(cfg, "history", 1)
    stored = sum(p.numel() for p in model.parameters())
    return frames * steps / dt, acting_parameters(model), stored


def act_latency(arch: str, acts: int) -> tuple[float, float, int]:
    import torch

    from vla_bench import conventions as cv
    from vla_bench.learning import arch_module
    from vla_bench.learning.archs.base import Dims
    from vla_bench.learning.checkpoint import save
    from vla_bench.learning.inputs import Normalizer
    from vla_bench.learning.policy import LearnedPolicy

    mod = arch_module(arch)
    cfg = mod.PRESETS["default"]
    dims = Dims(action_dim=17, state_dim=len(SEEN_STATE), n_cameras=2)
    torch.manual_seed(0)
    model = mod.Model(cfg, dims).eval()
    norm = Normalizer(-np.ones(17, np.float32), np.ones(17, np.float32),
                      np.zeros(OBS_STATE, np.float32), np.ones(OBS_STATE, np.float32),
                      np.zeros(384, np.float32), np.ones(1, np.float32))
    names = [f"a{i}" for i in range(17)]
    with tempfile.TemporaryDirectory() as tmp:
        path = save(Path(tmp) / "model.safetensors", model, {
            "arch": arch, "normalizer": norm.to_dict(), "datasets": [],
            "layout": {"cameras": list(cv.DEFAULT_CAMERAS),
                       "state_names": [f"s{i}" for i in range(OBS_STATE)],
                       "state_columns": SEEN_STATE,
                       "action_names": names, "image_size": cfg.image_size},
            "text_encoder": "", "confidence_reference": [0.0, 1.0], "train": {}})
        policy = LearnedPolicy(path)
    rng = np.random.default_rng(0)
    h, w = cv.DEFAULT_IMAGE_SIZE
    obs = {"rgb": rng.integers(0, 255, (h, w, 3), np.uint8),
           "depth": rng.uniform(0.3, 5, (h, w, 1)).astype(np.float32),
           "rgb_front": rng.integers(0, 255, (h, w, 3), np.uint8),
           "depth_front": rng.uniform(0.3, 5, (h, w, 1)).astype(np.float32),
           "state": rng.normal(size=OBS_STATE).astype(np.float32),
           "instruction": "Pick up the red apple and place it in the basket"}
    policy.seed(0)
    policy.reset(obs["instruction"])
    for _ in range(3):
        policy.act(obs)
    times = []
    for _ in range(acts):
        t0 = time.perf_counter()
        policy.act(obs)
        times.append(time.perf_counter() - t0)
    ms = np.asarray(times) * 1e3
    return float(np.median(ms)), float(np.percentile(ms, 95)), cfg.execute


def main(argv: list[str] | None = None) -> int:
    import torch

    from vla_bench.learning import list_archs

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", nargs="+", default=list_archs())
    p.add_argument("--steps", type=int, default=20, help="timed training steps per arch")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--acts", type=int, default=60, help="timed act calls per arch")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch "
          f"{args.batch_size}, default presets", file=sys.stderr)
    print("| arch | parameters | checkpoint MB | train samples/s | act median ms | act p95 ms "
          "| actions per act |")
    print("|---|---|---|---|---|---|---|")
    for arch in args.arch:
        rate, n, stored = train_rate(arch, args.steps, args.batch_size)
        med, p95, execute = act_latency(arch, args.acts)
        print(f"| {arch} | {n / 1e6:.2f} M | {stored * 4 / 2**20:.1f} | {rate:.0f} | {med:.1f} | "
              f"{p95:.1f} | {execute} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
