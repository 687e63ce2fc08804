"""robomimic-style HDF5 writer: one file ``DIR/demos.hdf5``::

    data                      attrs: total (frames), total_episodes, env_args (JSON:
                              env_name, env_kwargs), vla_bench_config, versions, fps,
                              state_names, action_names, depth_units ("mm")
    data/demo_<i>/actions     float32[T, a]
    data/demo_<i>/rewards     float32[T]
    data/demo_<i>/dones       uint8[T] (1 at the last frame)
    data/demo_<i>/obs/state               float32[T, n]
    data/demo_<i>/obs/rgb_<cam>           uint8[T, H, W, 3] (gzip)
    data/demo_<i>/obs/depth_<cam>         uint16[T, H, W, 1] millimetres (gzip)
    data/demo_<i>             attrs: num_samples, seed, task, instruction, success, steps,
                              meta (JSON: everything that replays it), safety_<category>
    mask/train                demo names (bytes), as robomimic's filter keys

The file is written to ``demos.hdf5.tmp`` and renamed when complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench import conventions as cv
from vla_bench.datagen import require_format, staging

FILENAME = "demos.hdf5"


def consolidate(root: Path, metas: list[dict[str, Any]], config: dict[str, Any]) -> None:
    require_format("hdf5")
    import h5py

    root = Path(root)
    path = root / FILENAME
    tmp = root / (FILENAME + ".tmp")
    total = 0
    with h5py.File(tmp, "w") as f:
        data = f.create_group("data")
        names = []
        for i, meta in enumerate(metas):
            arrays = staging.load_arrays(root, meta["seed"])
            g = data.create_group(f"demo_{i}")
            names.append(f"demo_{i}")
            n = meta["steps"]
            g.create_dataset("actions", data=arrays["action"])
            g.create_dataset("rewards", data=arrays["reward"])
            dones = np.zeros(n, np.uint8)
            dones[-1] = 1
            g.create_dataset("dones", data=dones)
            obs = g.create_group("obs")
            obs.create_dataset("state", data=arrays["state"])
            for key, arr in arrays.items():
                if key.startswith(("rgb_", "depth_")):
                    obs.create_dataset(key, data=arr, compression="gzip", compression_opts=4,
                                       chunks=(1,) + arr.shape[1:])
            g.attrs.update(num_samples=n, seed=meta["seed"], task=meta["task"],
                           instruction=meta["instruction"], success=meta["success"],
                           steps=n, meta=json.dumps(meta))
            for k, v in meta["safety_totals"].items():
                g.attrs[f"safety_{k}"] = v
            total += n
        first = metas[0]
        data.attrs.update(
            total=total, total_episodes=len(metas), fps=cv.CONTROL_HZ,
            env_args=json.dumps({"env_name": config["env_id"], "type": "vla_bench",
                                 "env_kwargs": config["env_kwargs"]}),
            vla_bench_config=json.dumps(config), versions=json.dumps(first["versions"]),
            state_names=json.dumps(first["state_names"]),
            action_names=json.dumps(first["action_names"]), depth_units="mm",
            frame_convention="frame t = observation before step t + action at step t")
        f.create_group("mask").create_dataset("train", data=np.array(names, dtype="S"))
    os.replace(tmp, path)
