"""The frame cache: every frame of a generated dataset decoded once, packed at model resolution.

Training reads random frames thousands of times; decoding mp4 for each would cost more than
the network. :func:`build_cache` decodes each episode once (videos and depth), packs it with
:func:`~.inputs.pack_images` and writes memory-mapped ``.npy`` arrays::

    <cache root>/<dataset hash[:16]>-<size>/
        images.npy   uint8 [N, V, 4, size, size]   (cameras in the dataset's order)
        state.npy    float32 [N, S]
        action.npy   float32 [N, A]
        episode.npy  int32 [N]     episode of each frame
        meta.json    dataset hash, cameras, state/action names, instructions, episode starts
        done.json    episodes decoded so far (a killed build resumes there)

The directory is keyed by the dataset's content hash, so a regenerated dataset gets a new
cache and a checkpoint can name exactly the data it was trained on.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench.errors import ConfigError
from vla_bench.learning.inputs import pack_images

CACHE_VERSION = 1


def default_cache_root() -> Path:
    """``$VLA_BENCH_FRAME_CACHE`` or ``~/.cache/vla_bench/frames``."""
    env = os.environ.get("VLA_BENCH_FRAME_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "vla_bench" / "frames"


def dataset_hash(root: str | Path) -> str:
    """SHA-256 over every file of a finished dataset (relative paths and contents)."""
    root = Path(root)
    if (root / ".staging").exists():
        raise ConfigError(f"{root} is an unfinished dataset (it has .staging); finish it with "
                          "vla-bench generate (re-run the same command) first")
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


@dataclass
class FrameCache:
    """One dataset's decoded frames (arrays memory-mapped read-only)."""

    path: Path
    images: np.ndarray
    state: np.ndarray
    action: np.ndarray
    episode: np.ndarray
    meta: dict[str, Any]

    @classmethod
    def open(cls, path: str | Path) -> FrameCache:
        """Open a finished cache directory."""
        path = Path(path)
        meta = json.loads((path / "meta.json").read_text())
        done = json.loads((path / "done.json").read_text())["episodes"]
        if done != len(meta["lengths"]):
            raise ConfigError(f"frame cache {path} is incomplete ({done} of "
                              f"{len(meta['lengths'])} episodes); build it again to finish it")
        return cls(path, np.load(path / "images.npy", mmap_mode="r"),
                   np.load(path / "state.npy"), np.load(path / "action.npy"),
                   np.load(path / "episode.npy"), meta)

    @property
    def starts(self) -> np.ndarray:
        """Index of each episode's first frame."""
        return np.asarray(self.meta["starts"], np.int64)

    @property
    def lengths(self) -> np.ndarray:
        """Frames per episode."""
        return np.asarray(self.meta["lengths"], np.int64)

    @property
    def instructions(self) -> list[str]:
        """Each episode's instruction."""
        return list(self.meta["instructions"])


def build_cache(root: str | Path, size: int, cache_root: str | Path | None = None,
                progress: bool = True, digest: str | None = None) -> FrameCache:
    """Decode dataset ``root`` at ``size x size`` into the cache (or open the finished one)."""
    from tqdm import tqdm

    from vla_bench.datagen.dataset import DemoDataset

    root = Path(root)
    digest = digest or dataset_hash(root)
    out = Path(cache_root or default_cache_root()) / f"{digest[:16]}-{size}"
    done_path = out / "done.json"
    if done_path.exists():
        try:
            return FrameCache.open(out)
        except ConfigError:
            pass  # incomplete: resume below
    ds = DemoDataset(root)
    lengths = [int(n) for n in ds.lengths]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
    total, cams = int(sum(lengths)), list(ds.cameras)
    if not cams:
        raise ConfigError(f"{root} has no camera images; generate it with cameras (the "
                          "default head,front)")
    cfg = ds.info.get("vla_bench", {}).get("config", {}) if ds.format == "lerobot" else {}
    first = _first_meta(ds)
    meta = {
        "version": CACHE_VERSION, "dataset": str(root.resolve()), "dataset_hash": digest,
        "format": ds.format, "size": size, "cameras": cams, "lengths": lengths,
        "starts": starts, "instructions": list(ds.instructions),
        "env_id": first.get("env_id", cfg.get("env_id")),
        "state_names": first.get("state_names"), "action_names": first.get("action_names"),
        "env_kwargs": first.get("env_kwargs"),
    }
    out.mkdir(parents=True, exist_ok=True)
    done = json.loads(done_path.read_text())["episodes"] if done_path.exists() else 0
    shape = (total, len(cams), 4, size, size)
    if done == 0:
        images = np.lib.format.open_memmap(out / "images.npy", mode="w+", dtype=np.uint8,
                                           shape=shape)
        np.save(out / "state.npy", np.concatenate(ds.states).astype(np.float32))
        np.save(out / "action.npy", np.concatenate(ds.actions).astype(np.float32))
        np.save(out / "episode.npy", np.repeat(np.arange(len(lengths)), lengths).astype(np.int32))
        (out / "meta.json").write_text(json.dumps(meta, indent=1))
    else:
        images = np.lib.format.open_memmap(out / "images.npy", mode="r+")
    bar = tqdm(total=len(lengths), initial=done, desc=f"frame cache {root.name}",
               unit="episode", file=sys.stderr, disable=not progress)
    for ep in range(done, len(lengths)):
        s, n = starts[ep], lengths[ep]
        for v, cam in enumerate(cams):
            packed = pack_images(ds.episode_rgb(ep, cam), ds.episode_depth(ep, cam), size)
            if len(packed) != n:
                raise ConfigError(f"{root}: episode {ep} camera {cam} has {len(packed)} frames "
                                  f"but {n} actions; run vla-bench dataset-check on it")
            images[s:s + n, v] = packed
        if ep % 10 == 9 or ep == len(lengths) - 1:
            images.flush()
            tmp = out / "done.json.tmp"
            tmp.write_text(json.dumps({"episodes": ep + 1}))
            os.replace(tmp, done_path)
        bar.update()
    bar.close()
    del images
    return FrameCache.open(out)


def _first_meta(ds: Any) -> dict[str, Any]:
    """The replay metadata of the dataset's first episode (env id, names, kwargs)."""
    if ds.format == "lerobot":
        path = ds.root / "meta/vla_bench_episodes.jsonl"
        line = path.read_text().splitlines()[0] if path.exists() else "{}"
        return json.loads(line)
    import h5py

    with h5py.File(ds.root / "demos.hdf5", "r") as f:
        return json.loads(f["data"][ds._demo_names[0]].attrs["meta"])
