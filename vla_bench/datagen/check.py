"""``vla-bench dataset-check DIR``: validate a generated dataset and summarise it.

Detects the format (``meta/info.json`` -> LeRobot v3, ``demos.hdf5`` -> HDF5) and checks the
schema, episode and frame counts (episodes parquet vs data parquet rows vs decoded video
frames vs depth arrays), contiguous indices and no duplicate episodes (by index and by seed).
Problems raise :class:`DatasetError` with every problem found, one per line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vla_bench.datagen import require_format
from vla_bench.errors import VlaBenchError


class DatasetError(VlaBenchError):
    """A dataset directory that is not a valid vla_bench dataset."""


def detect_format(root: Path) -> str:
    root = Path(root)
    if (root / "meta" / "info.json").exists():
        return "lerobot"
    if (root / "demos.hdf5").exists():
        return "hdf5"
    if not root.exists():
        raise DatasetError(f"{root}: no such directory")
    raise DatasetError(f"{root}: neither a LeRobot v3 dataset (meta/info.json) nor an HDF5 "
                       "dataset (demos.hdf5)")


def check(root: str | Path, decode_videos: bool = True) -> dict[str, Any]:
    """Validate ``root``; return a summary dict, or raise :class:`DatasetError`."""
    root = Path(root)
    fmt = detect_format(root)
    require_format(fmt)
    problems: list[str] = []
    summary = (_check_lerobot if fmt == "lerobot" else _check_hdf5)(root, problems, decode_videos)
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20
                                 else [])
        raise DatasetError(f"{root} ({fmt}) is invalid: " + "; ".join(shown))
    summary["format"] = fmt
    return summary


def _check_lerobot(root: Path, problems: list[str], decode: bool) -> dict[str, Any]:
    import numpy as np
    import pyarrow.parquet as pq

    from vla_bench.datagen import lerobot as lr

    try:
        info = json.loads((root / "meta/info.json").read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{root}/meta/info.json is not JSON ({exc})") from exc
    for key in ("codebase_version", "fps", "features", "total_episodes", "total_frames",
                "data_path", "chunks_size"):
        if key not in info:
            problems.append(f"info.json lacks {key!r}")
    if problems:
        return {}
    if info["codebase_version"] != lr.CODEBASE_VERSION:
        problems.append(f"codebase_version {info['codebase_version']!r}, expected 'v3.0'")
    feats = info["features"]
    for key in ("observation.state", "action", *lr.SCALARS):
        if key not in feats:
            problems.append(f"feature {key!r} missing from info.json")
    for key, ft in feats.items():
        if not {"dtype", "shape"} <= set(ft):
            problems.append(f"feature {key!r} lacks dtype/shape")
    videos = [k for k, f in feats.items() if f.get("dtype") == "video"]
    for name in ("meta/tasks.parquet", lr.EPISODES_PATH, "meta/stats.json"):
        if not (root / name).exists():
            problems.append(f"{name} missing")
    if problems:
        return {}
    episodes = pq.read_table(root / lr.EPISODES_PATH).to_pylist()
    tasks = pq.read_table(root / "meta/tasks.parquet").to_pydict()
    idx = [e["episode_index"] for e in episodes]
    if len(set(idx)) != len(idx):
        problems.append(f"duplicate episode_index in meta/episodes: {sorted(idx)}")
    seeds = [e.get("vla_bench/seed") for e in episodes]
    if None not in seeds and len(set(seeds)) != len(seeds):
        problems.append(f"duplicate episodes (same seed): {sorted(seeds)}")
    if sorted(idx) != list(range(len(idx))):
        problems.append(f"episode indices are not 0..{len(idx) - 1}")
    if len(episodes) != info["total_episodes"]:
        problems.append(f"info.json total_episodes={info['total_episodes']} but meta/episodes "
                        f"has {len(episodes)} rows")
    frames = 0
    successes = 0
    state_dim = feats.get("observation.state", {}).get("shape", [0])[0]
    next_index = 0
    for ep in sorted(episodes, key=lambda e: e["episode_index"]):
        e = ep["episode_index"]
        n = ep["length"]
        frames += n
        successes += bool(ep.get("vla_bench/success", True))
        loc = {"chunk_index": ep["data/chunk_index"], "file_index": ep["data/file_index"]}
        path = root / info["data_path"].format(**loc)
        if not path.exists():
            problems.append(f"episode {e}: {path.relative_to(root)} missing")
            continue
        try:
            table = pq.read_table(path)
        except Exception as exc:
            problems.append(f"episode {e}: cannot read {path.relative_to(root)} ({exc})")
            continue
        rows = table.filter(np.asarray(table["episode_index"]) == e)
        if rows.num_rows != n:
            problems.append(f"episode {e}: length {n} but {rows.num_rows} parquet rows")
            continue
        fi = np.asarray(rows["frame_index"])
        if not np.array_equal(fi, np.arange(n)):
            problems.append(f"episode {e}: frame_index is not 0..{n - 1}")
        gi = np.asarray(rows["index"])
        if not (ep["dataset_from_index"] == next_index == gi[0]
                and np.array_equal(gi, np.arange(gi[0], gi[0] + n))):
            problems.append(f"episode {e}: global index not contiguous from {next_index}")
        next_index += n
        if max(np.asarray(rows["task_index"])) >= len(tasks["task_index"]):
            problems.append(f"episode {e}: task_index beyond meta/tasks.parquet")
        if state_dim and len(rows["observation.state"][0]) != state_dim:
            problems.append(f"episode {e}: observation.state has the wrong dimension")
        for vk in videos:
            vloc = {"chunk_index": ep[f"videos/{vk}/chunk_index"],
                    "file_index": ep[f"videos/{vk}/file_index"]}
            vpath = root / info["video_path"].format(video_key=vk, **vloc)
            if not vpath.exists():
                problems.append(f"episode {e}: video {vpath.relative_to(root)} missing")
            elif decode:
                import imageio.v3 as iio

                try:
                    vid = iio.imread(vpath)
                except Exception as exc:
                    problems.append(f"episode {e}: cannot decode {vpath.relative_to(root)} "
                                    f"({type(exc).__name__})")
                    continue
                if len(vid) != n:
                    problems.append(f"episode {e}: {vk} has {len(vid)} video frames, "
                                    f"{n} parquet rows")
                if list(vid.shape[1:]) != list(feats[vk]["shape"]):
                    problems.append(f"episode {e}: {vk} frames {vid.shape[1:]}, info.json says "
                                    f"{feats[vk]['shape']}")
        depth = (info.get("vla_bench") or {}).get("depth")
        if depth:
            for dk in depth["keys"]:
                dpath = root / depth["path"].format(depth_key=dk, **loc)
                if not dpath.exists():
                    problems.append(f"episode {e}: depth {dpath.relative_to(root)} missing")
                else:
                    with np.load(dpath) as z:
                        if len(z["depth"]) != n:
                            problems.append(f"episode {e}: {dk} has {len(z['depth'])} frames")
    if frames != info["total_frames"]:
        problems.append(f"info.json total_frames={info['total_frames']} but episodes hold "
                        f"{frames}")
    return {"episodes": len(episodes), "frames": frames, "successes": successes,
            "tasks": len(tasks["task_index"]), "fps": info["fps"], "videos": videos,
            "env_id": (info.get("vla_bench") or {}).get("config", {}).get("env_id")}


def _check_hdf5(root: Path, problems: list[str], decode: bool) -> dict[str, Any]:
    import h5py

    path = root / "demos.hdf5"
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DatasetError(f"{path}: not a readable HDF5 file ({exc})") from exc
    with f:
        if "data" not in f:
            raise DatasetError(f"{path}: no 'data' group")
        data = f["data"]
        demos = sorted(data, key=lambda k: int(k.split("_")[-1]))
        for key in ("total", "total_episodes", "env_args"):
            if key not in data.attrs:
                problems.append(f"data lacks attribute {key!r}")
        if "total_episodes" in data.attrs and int(data.attrs["total_episodes"]) != len(demos):
            problems.append(f"total_episodes={data.attrs['total_episodes']} but {len(demos)} "
                            "demos")
        if demos != [f"demo_{i}" for i in range(len(demos))]:
            problems.append("demo names are not demo_0..demo_{N-1}")
        frames, seeds, successes = 0, [], 0
        for name in demos:
            g = data[name]
            missing = [k for k in ("actions", "obs/state") if k not in g]
            if missing:
                problems.append(f"{name}: missing {missing}")
                continue
            n = len(g["actions"])
            frames += n
            if int(g.attrs.get("num_samples", -1)) != n:
                problems.append(f"{name}: num_samples {g.attrs.get('num_samples')} != {n}")
            for key, ds in g["obs"].items():
                if len(ds) != n:
                    problems.append(f"{name}: obs/{key} has {len(ds)} frames, actions {n}")
            seeds.append(int(g.attrs.get("seed", -1)))
            successes += bool(g.attrs.get("success", False))
        if len(set(seeds)) != len(seeds):
            problems.append(f"duplicate episodes (same seed): {sorted(seeds)}")
        if "total" in data.attrs and int(data.attrs["total"]) != frames:
            problems.append(f"total={data.attrs['total']} but demos hold {frames} frames")
        env = json.loads(data.attrs.get("env_args", "{}")).get("env_name")
    return {"episodes": len(demos), "frames": frames, "successes": successes, "env_id": env}
