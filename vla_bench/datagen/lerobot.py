"""LeRobotDataset v3 writer (``codebase_version`` ``"v3.0"``).

Layout (one data file and one video file per episode, ``chunks_size`` 1000)::

    meta/info.json                                   schema, fps, path templates, totals
    meta/tasks.parquet                               task string (index) -> task_index
    meta/episodes/chunk-000/file-000.parquet         one row per episode (+ vla_bench/* columns)
    meta/stats.json                                  min/max/mean/std/count per feature
    data/chunk-CCC/file-FFF.parquet                  frames of episode CCC*1000+FFF
    videos/observation.images.<cam>/chunk-CCC/file-FFF.mp4   H.264, exact frame size
    depth/observation.depth.<cam>/chunk-CCC/file-FFF.npz     vla_bench extension (see below)

Depth is not a LeRobot feature (LeRobot would look for it in the parquet); it is stored per
episode as ``depth`` = uint16 millimetres ``[T, H, W, 1]`` in a compressed npz, and declared
under ``info["vla_bench"]["depth"]``. Each episode's replay metadata (env id, seed, env
kwargs, versions, success, steps, safety totals) is in the episodes parquet (``vla_bench/*``
columns, ``vla_bench/meta`` as JSON) and in ``meta/vla_bench_episodes.jsonl``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench import conventions as cv
from vla_bench.datagen import require_format, staging

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
DEPTH_PATH = "depth/{depth_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.npz"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
SCALARS = ("timestamp", "frame_index", "episode_index", "index", "task_index")


def image_key(cam: str) -> str:
    return f"observation.images.{cam}"


def depth_key(cam: str) -> str:
    return f"observation.depth.{cam}"


def locate(episode_index: int) -> dict[str, int]:
    return {"chunk_index": episode_index // CHUNKS_SIZE, "file_index": episode_index % CHUNKS_SIZE}


def features(meta: dict[str, Any], height: int, width: int) -> dict[str, Any]:
    """The ``info.json`` feature dict."""
    feats: dict[str, Any] = {}
    for cam in meta["env_kwargs"]["cameras"]:
        pix = "yuv420p" if height % 2 == 0 and width % 2 == 0 else "yuv444p"
        feats[image_key(cam)] = {
            "dtype": "video", "shape": [height, width, 3],
            "names": ["height", "width", "channels"],
            "info": {"video.height": height, "video.width": width, "video.codec": "h264",
                     "video.pix_fmt": pix, "video.is_depth_map": False,
                     "video.fps": meta["fps"], "video.channels": 3, "has_audio": False}}
    feats["observation.state"] = {"dtype": "float32", "shape": [len(meta["state_names"])],
                                  "names": meta["state_names"]}
    feats["action"] = {"dtype": "float32", "shape": [len(meta["action_names"])],
                       "names": meta["action_names"]}
    feats["next.reward"] = {"dtype": "float32", "shape": [1], "names": None}
    feats["next.done"] = {"dtype": "bool", "shape": [1], "names": None}
    feats["timestamp"] = {"dtype": "float32", "shape": [1], "names": None}
    for k in SCALARS[1:]:
        feats[k] = {"dtype": "int64", "shape": [1], "names": None}
    return feats


def _fixed_list(arr: np.ndarray) -> Any:
    import pyarrow as pa

    flat = pa.array(np.ascontiguousarray(arr).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, arr.shape[1])


def _write_parquet(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def tasks_table(tasks: list[str]) -> Any:
    """``meta/tasks.parquet``: pandas metadata makes ``task`` the index, as LeRobot writes it."""
    import pyarrow as pa

    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()),
                      "task": pa.array(tasks, pa.string())})
    pandas_meta = {
        "index_columns": ["task"], "column_indexes": [],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64",
             "numpy_type": "int64", "metadata": None},
            {"name": "task", "field_name": "task", "pandas_type": "unicode",
             "numpy_type": "object", "metadata": None}],
        "creator": {"library": "pyarrow", "version": pa.__version__}, "pandas_version": "2.2.0"}
    return table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})


class _Stats:
    """Running ``[sum, sum of squares, min, max, n]`` rows per feature (n per element); for
    images ``n`` counts pixels and ``count`` (LeRobot's frame count) is kept apart."""

    def __init__(self) -> None:
        self.acc: dict[str, np.ndarray] = {}
        self.count: dict[str, int] = {}

    def add(self, key: str, values: np.ndarray) -> None:
        v = values.reshape(len(values), -1).astype(np.float64)
        row = np.stack([v.sum(0), (v * v).sum(0), v.min(0), v.max(0),
                        np.full(v.shape[1], len(v), np.float64)])
        self.merge(key, row)

    def merge(self, key: str, row: np.ndarray) -> None:
        if key not in self.acc:
            self.acc[key] = row.copy()
        else:
            a = self.acc[key]
            a[0] += row[0]
            a[1] += row[1]
            a[2] = np.minimum(a[2], row[2])
            a[3] = np.maximum(a[3], row[3])
            a[4] += row[4]

    def result(self, image_keys: set[str]) -> dict[str, Any]:
        out = {}
        for key, a in self.acc.items():
            n = a[4]
            mean = a[0] / n
            std = np.sqrt(np.maximum(a[1] / n - mean * mean, 0.0))
            shape = (3, 1, 1) if key in image_keys else (-1,)  # LeRobot: images per channel

            def fmt(x: np.ndarray, shape: tuple = shape) -> list:
                return x.reshape(shape).tolist()

            out[key] = {"min": fmt(a[2]), "max": fmt(a[3]), "mean": fmt(mean), "std": fmt(std),
                        "count": [int(n.flat[0]) if key not in image_keys
                                  else int(self.count[key])]}
        return out


def consolidate(root: Path, metas: list[dict[str, Any]], config: dict[str, Any]) -> None:
    """Build the v3 layout in ``root`` from the shards of ``metas`` (episode order)."""
    require_format("lerobot")
    import pyarrow as pa

    root = Path(root)
    for sub in ("data", "videos", "depth", "meta"):
        shutil.rmtree(root / sub, ignore_errors=True)
    cams = list(config["env_kwargs"]["cameras"])
    height, width = (int(v) for v in config["env_kwargs"]["image_size"])
    fps = cv.CONTROL_HZ
    tasks: list[str] = []
    stats = _Stats()
    ep_rows: dict[str, list] = {}
    index = 0
    for ep, meta in enumerate(metas):
        seed = meta["seed"]
        arrays = staging.load_arrays(root, seed)
        n = meta["steps"]
        if meta["instruction"] not in tasks:
            tasks.append(meta["instruction"])
        task_index = tasks.index(meta["instruction"])
        loc = locate(ep)
        done = np.zeros(n, bool)
        done[-1] = True
        cols = {
            "observation.state": _fixed_list(arrays["state"]),
            "action": _fixed_list(arrays["action"]),
            "next.reward": pa.array(arrays["reward"], pa.float32()),
            "next.done": pa.array(done),
            "timestamp": pa.array(np.arange(n, dtype=np.float32) / fps, pa.float32()),
            "frame_index": pa.array(np.arange(n), pa.int64()),
            "episode_index": pa.array(np.full(n, ep), pa.int64()),
            "index": pa.array(np.arange(index, index + n), pa.int64()),
            "task_index": pa.array(np.full(n, task_index), pa.int64()),
        }
        _write_parquet(pa.table(cols), root / DATA_PATH.format(**loc))
        for key in ("state", "action"):
            stats.add("observation.state" if key == "state" else "action", arrays[key])
        for key, vals in (("next.reward", arrays["reward"]), ("timestamp", cols["timestamp"]),
                          ("frame_index", np.arange(n)), ("episode_index", np.full(n, ep)),
                          ("index", np.arange(index, index + n)),
                          ("task_index", np.full(n, task_index))):
            stats.add(key, np.asarray(vals).reshape(n, 1))
        row: dict[str, Any] = {
            "episode_index": ep, "tasks": [meta["instruction"]], "length": n,
            "data/chunk_index": loc["chunk_index"], "data/file_index": loc["file_index"],
            "dataset_from_index": index, "dataset_to_index": index + n,
        }
        for cam in cams:
            src = staging.shard_path(root, seed) / f"rgb_{cam}.mp4"
            _link(src, root / VIDEO_PATH.format(video_key=image_key(cam), **loc))
            row[f"videos/{image_key(cam)}/chunk_index"] = loc["chunk_index"]
            row[f"videos/{image_key(cam)}/file_index"] = loc["file_index"]
            row[f"videos/{image_key(cam)}/from_timestamp"] = 0.0
            row[f"videos/{image_key(cam)}/to_timestamp"] = n / fps
            ist = arrays[f"imgstats_{cam}"]
            px = n * height * width
            stats.merge(image_key(cam), np.concatenate([ist, np.full((1, 3), px)]))
            stats.count[image_key(cam)] = stats.count.get(image_key(cam), 0) + n
            dsrc = staging.shard_path(root, seed) / f"depth_{cam}.npz"
            if dsrc.exists():
                _link(dsrc, root / DEPTH_PATH.format(depth_key=depth_key(cam), **loc))
        row["meta/episodes/chunk_index"] = 0
        row["meta/episodes/file_index"] = 0
        row["vla_bench/seed"] = seed
        row["vla_bench/success"] = bool(meta["success"])
        row["vla_bench/task"] = meta["task"]
        row["vla_bench/meta"] = json.dumps(meta)
        for k, v in row.items():
            ep_rows.setdefault(k, []).append(v)
        index += n
    _write_parquet(pa.table(ep_rows), root / EPISODES_PATH)
    _write_parquet(tasks_table(tasks), root / "meta/tasks.parquet")
    (root / "meta/vla_bench_episodes.jsonl").write_text(
        "".join(json.dumps(m) + "\n" for m in metas))
    image_keys = {image_key(c) for c in cams}
    (root / "meta/stats.json").write_text(json.dumps(stats.result(image_keys), indent=1))
    first = metas[0]
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": f"unitree_{first['env_kwargs'].get('robot', 'g1')}",
        "total_episodes": len(metas),
        "total_frames": index,
        "total_tasks": len(tasks),
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 500,
        "fps": fps,
        "splits": {"train": f"0:{len(metas)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if cams else None,
        "features": features(first, height, width),
        "vla_bench": {
            "config": config,
            "versions": first["versions"],
            "depth": ({"path": DEPTH_PATH, "keys": [depth_key(c) for c in cams],
                       "array": "depth", "dtype": "uint16", "units": "mm",
                       "shape": [height, width, 1]} if config.get("depth") and cams else None),
            "frame_convention": "frame t = observation before step t + action at step t",
        },
    }
    tmp = root / "meta/info.json.tmp"
    tmp.write_text(json.dumps(info, indent=2))
    os.replace(tmp, root / "meta/info.json")
