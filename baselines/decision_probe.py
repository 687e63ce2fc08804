"""Does a trained checkpoint decide where to go from the words? A check without rollouts.

At an episode's first frame the robot stands still and the expert's command depends on which
object was named; nothing in the motion gives it away. For the held-out (validation) episodes
of each training dataset, this compares the model's first action with the expert's, once
with the episode's own instruction and once with another instruction of the same task:

    python baselines/decision_probe.py runs/baselines/bcz [--split train] [--frames 1]

It prints, per dataset and base command (vx, vy, wz), the correlation between model and
expert over the episodes, with the true words and with swapped ones. A model that reads the
words has a high correlation with them and a lower one without; a model that memorised its
training episodes has a high correlation on ``--split train`` only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint", help="model.safetensors or a vla-bench train --out directory")
    ap.add_argument("--split", choices=("val", "train"), default="val")
    ap.add_argument("--frames", type=int, default=1, help="first frames of each episode")
    ap.add_argument("--episodes", type=int, default=200, help="at most this many per dataset")
    args = ap.parse_args()

    import torch

    from vla_bench.learning import checkpoint
    from vla_bench.learning.data import TrainingData, prepare
    from vla_bench.learning.frames import build_cache
    from vla_bench.learning.text import shared_encoder

    model, meta = checkpoint.load(args.checkpoint)
    model.eval()
    train = meta.get("train", {})
    caches = [build_cache(d["path"], meta["layout"]["image_size"], progress=False,
                          digest=d["hash"]) for d in meta["datasets"]]
    td = TrainingData(caches, shared_encoder(), val_fraction=train.get("val_fraction", 0.05),
                      seed=train.get("seed", 0), chunk=model.cfg.chunk,
                      state_exclude=tuple(train.get("state_exclude", ())))
    names = td.layout.action_names
    dims = [names.index(n) for n in ("base_vx", "base_vy", "base_wz") if n in names]
    pool = td.val_index if args.split == "val" else td.train_index
    print(f"{Path(args.checkpoint)}: first {args.frames} frame(s) of {args.split} episodes; "
          "correlation of model and expert, true words / swapped words")
    for ci, cache in enumerate(caches):
        sel = pool[(td.cache_id[pool] == ci) & (td.frame_index[pool] < args.frames)]
        sel = sel[: args.episodes * args.frames]
        swapped = td.swapped_episodes(sel, 0)
        preds = []
        for words in (None, swapped):
            gen = torch.Generator().manual_seed(0)
            with torch.no_grad():
                out, _, _ = model.act(prepare(td.batch(sel, words), "cpu"), None, gen)
            preds.append(out[:, 0].numpy())
        expert = td.batch(sel)["actions"][:, 0].numpy()
        cells = []
        for k in dims:
            r = [np.corrcoef(p[:, k], expert[:, k])[0, 1] for p in preds]
            cells.append(f"{names[k]} {r[0]:+.2f} / {r[1]:+.2f}")
        err = [float(np.abs(p[:, dims] - expert[:, dims]).mean()) for p in preds]
        where = "/".join(Path(cache.meta["dataset"]).parts[-2:])
        print(f"  {where:20s} {cache.meta['env_id'][4:]:32s} n={len(sel):4d}  " + "  ".join(cells)
              + f"  |err| {err[0]:.3f} / {err[1]:.3f}")


if __name__ == "__main__":
    main()
