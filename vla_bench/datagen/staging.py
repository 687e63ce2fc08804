"""Per-episode shards, written atomically: the resume mechanism.

Workers write each attempted seed into ``DIR/.staging/seed_<seed>/`` through a temporary
directory that is renamed into place only once every file is complete, so a shard either
exists whole or not at all. A re-run after a kill skips committed seeds; consolidation
(:mod:`.lerobot` / :mod:`.hdf5`) rebuilds the final layout from the shards and then removes
``.staging``. ``.staging/config.json`` pins the run's settings; a resume with different
settings is refused.

Shard files: ``meta.json`` (the episode's metadata), ``arrays.npz`` (``state``, ``action``,
``reward``, ``imgstats_<cam>``, and for HDF5 ``rgb_<cam>`` and ``depth_<cam>`` as uint16
millimetres), and for LeRobot ``rgb_<cam>.mp4`` (encoded in the worker) and
``depth_<cam>.npz`` (``depth``: uint16 millimetres).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench.datagen.rollout import Episode
from vla_bench.errors import ConfigError

STAGING = ".staging"
DEPTH_SCALE = 1000.0  # depth stored as uint16 millimetres (0–65.535 m, clipped)


def staging_dir(root: Path) -> Path:
    return Path(root) / STAGING


def shard_name(seed: int) -> str:
    return f"seed_{seed:08d}"


def write_config(root: Path, config: dict[str, Any]) -> None:
    """Record the run's settings, or refuse a resume whose settings differ."""
    sdir = staging_dir(root)
    sdir.mkdir(parents=True, exist_ok=True)
    path = sdir / "config.json"
    if path.exists():
        old = json.loads(path.read_text())
        diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        if diff:
            raise ConfigError(
                f"{root} holds a partial run with different settings ({', '.join(diff)}: "
                f"{[old.get(k) for k in diff]} vs {[config.get(k) for k in diff]}); "
                "use another --out or delete it")
        return
    _atomic_write(path, json.dumps(config, indent=2))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def encode_depth(depth: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(depth * DEPTH_SCALE), 0, 65535).astype(np.uint16)


def decode_depth(depth_mm: np.ndarray) -> np.ndarray:
    return depth_mm.astype(np.float32) / DEPTH_SCALE


def write_video(path: Path, frames: np.ndarray, fps: int) -> None:
    """H.264 mp4 with exact frame size (``macro_block_size=1``: no resize)."""
    import imageio.v2 as imageio

    h, w = frames.shape[1:3]
    pix = "yuv420p" if h % 2 == 0 and w % 2 == 0 else "yuv444p"
    with imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                            macro_block_size=1, pixelformat=pix, quality=8,
                            ffmpeg_log_level="error") as writer:
        for frame in frames:
            writer.append_data(frame)


def image_stats(rgb: np.ndarray) -> np.ndarray:
    """Per-channel ``[sum, sum of squares, min, max]`` of ``rgb / 255`` (float64[4, 3])."""
    levels = np.arange(256, dtype=np.float64) / 255.0
    flat = rgb.reshape(-1, 3)
    out = np.zeros((4, 3))
    for c in range(3):  # a histogram per channel: exact, and 50x faster than float math
        hist = np.bincount(flat[:, c], minlength=256).astype(np.float64)
        present = np.flatnonzero(hist)
        out[:, c] = (hist @ levels, hist @ (levels * levels), levels[present[0]],
                     levels[present[-1]])
    return out


def write_shard(root: Path, ep: Episode, fmt: str, depth: bool) -> Path:
    """Write one episode's shard atomically; return its directory."""
    sdir = staging_dir(root)
    final = sdir / shard_name(ep.meta["seed"])
    tmp = sdir / f"tmp-{shard_name(ep.meta['seed'])}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    arrays: dict[str, np.ndarray] = {"state": ep.state, "action": ep.action, "reward": ep.reward}
    for cam in ep.rgb:
        if depth and fmt == "hdf5":
            arrays[f"depth_{cam}"] = encode_depth(ep.depth[cam])
        elif depth:  # final form already: consolidation only links it into depth/
            np.savez_compressed(tmp / f"depth_{cam}.npz", depth=encode_depth(ep.depth[cam]))
        if fmt == "hdf5":
            arrays[f"rgb_{cam}"] = ep.rgb[cam]
        else:
            write_video(tmp / f"rgb_{cam}.mp4", ep.rgb[cam], ep.meta["fps"])
        arrays[f"imgstats_{cam}"] = image_stats(ep.rgb[cam])
    np.savez_compressed(tmp / "arrays.npz", **arrays)
    (tmp / "meta.json").write_text(json.dumps(ep.meta, indent=1))
    if final.exists():  # a duplicate attempt (cannot happen in one run): keep the first
        shutil.rmtree(tmp)
        return final
    os.rename(tmp, final)
    return final


def committed(root: Path) -> dict[int, dict[str, Any]]:
    """Seed -> metadata of every complete shard; leftovers of killed writers are removed."""
    sdir = staging_dir(root)
    out: dict[int, dict[str, Any]] = {}
    if not sdir.exists():
        return out
    for p in sorted(sdir.iterdir()):
        if p.name.startswith("tmp-"):
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_dir() and p.name.startswith("seed_"):
            meta = json.loads((p / "meta.json").read_text())
            out[int(meta["seed"])] = meta
    return out


def load_arrays(root: Path, seed: int) -> dict[str, np.ndarray]:
    with np.load(staging_dir(root) / shard_name(seed) / "arrays.npz") as z:
        return {k: z[k] for k in z.files}


def shard_path(root: Path, seed: int) -> Path:
    return staging_dir(root) / shard_name(seed)


def remove(root: Path) -> None:
    shutil.rmtree(staging_dir(root), ignore_errors=True)
